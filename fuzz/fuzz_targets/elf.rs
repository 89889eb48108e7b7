//! The ELF inspector on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = wheelcheck::inspect::elf::inspect(data);
});
