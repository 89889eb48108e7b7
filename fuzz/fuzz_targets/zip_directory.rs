//! The zip end-record and central-directory reader, and member extraction, on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wheelcheck::inspect::zipdir;

fuzz_target!(|data: &[u8]| {
    let _ = zipdir::locate_directory(data, data.len() as u64);
    if let Ok(entries) = zipdir::read_directory_in_memory(data) {
        for entry in entries.iter().take(16) {
            let _ = zipdir::extract_in_memory(data, entry, 1 << 20);
        }
    }
});
