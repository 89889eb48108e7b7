//! The simple-API page parsers (PEP 691 JSON and PEP 503 HTML) on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wheelcheck::index::simple::{JSON_MEDIA_TYPE, parse_page};

fuzz_target!(|data: &[u8]| {
    let base = url::Url::parse("https://index.invalid/simple/demo/").expect("valid");
    let _ = parse_page(data, JSON_MEDIA_TYPE, &base);
    let _ = parse_page(data, "text/html", &base);
});
