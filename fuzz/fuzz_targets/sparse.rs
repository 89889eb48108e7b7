//! The pieces of the sparse ELF read on arbitrary bytes: the mid-stream inflater (decoding,
//! and searching for a block start) and the ELF layout / dynamic-section parsers, fed the
//! whole input as if every piece had been read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wheelcheck::inspect::{inflate, sparse_elf};

fuzz_target!(|data: &[u8]| {
    let mut produced = 0usize;
    let _ = inflate::decode_from(data, 0, &mut |chunk| produced += chunk.len());
    let _ = inflate::find_block(data, 0, 4096);
    let Ok(Some(layout)) = sparse_elf::layout(data) else {
        return;
    };
    let Some((offset, size)) = layout.dynamic else {
        return;
    };
    let Some(bytes) = data.get(offset as usize..).map(|rest| &rest[..rest.len().min(size as usize)])
    else {
        return;
    };
    let Some(dynamic) = sparse_elf::Dynamic::parse(bytes) else {
        return;
    };
    let _ = dynamic.wanted(&layout, data.len() as u64);
    let mut pieces = sparse_elf::Pieces::new(data.len() as u64);
    pieces.add(0, data.to_vec());
    let _ = sparse_elf::inspect(&layout, &dynamic, &pieces);
});
