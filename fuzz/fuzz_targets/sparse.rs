//! The pieces of the sparse ELF read on arbitrary bytes: the mid-stream inflater (decoding,
//! and searching for a block start) and the ELF layout / dynamic-section parsers, fed the
//! whole input as if every piece had been read.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    wheelcheck::inspect::sparse_elf::parse_all(data);
});
