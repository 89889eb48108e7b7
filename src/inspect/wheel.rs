//! Wheels held in memory (local files): the same head as a remote wheel gives.

use crate::index::remote::{WheelHead, find_metadata};
use crate::inspect::zipdir;

pub fn head_from_bytes(bytes: &[u8]) -> Result<WheelHead, String> {
    let entries = zipdir::read_directory_in_memory(bytes).map_err(|e| e.0)?;
    let entry = find_metadata(&entries)?;
    let metadata = zipdir::extract_in_memory(bytes, entry, 16 << 20).map_err(|e| e.0)?;
    Ok(WheelHead {
        size: bytes.len() as u64,
        entries,
        metadata,
    })
}
