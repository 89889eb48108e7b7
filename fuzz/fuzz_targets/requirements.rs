//! The requirements-file parser on arbitrary text: it reports errors, it never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Includes resolve against a directory that does not exist, so no real file is read.
    let path = std::path::Path::new("/nonexistent-wheelcheck-fuzz/requirements.txt");
    let _ = wheelcheck::requirements::parse_str(&text, path, &|_| None);
});
