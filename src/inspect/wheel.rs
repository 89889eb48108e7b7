//! Wheels held in memory (local files): the same head as a remote wheel gives.

use url::Url;

use crate::index::remote::{WheelHead, find_metadata};
use crate::inspect::analysis::{ElfMember, WheelAnalysis, elf_candidates};
use crate::inspect::{elf, zipdir};

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

/// The ELF analysis of a wheel on the local disk (`--find-links` directories, `file:` URLs).
pub fn local_analysis(url: &Url, entries: &[zipdir::ZipEntry]) -> WheelAnalysis {
    let mut analysis = WheelAnalysis {
        elf_files: Vec::new(),
        failed: None,
        bytes_fetched: 0,
    };
    let bytes = match url.to_file_path().map(std::fs::read) {
        Ok(Ok(bytes)) => bytes,
        _ => {
            analysis.failed = Some(format!("cannot read {url}"));
            return analysis;
        }
    };
    for entry in elf_candidates(entries) {
        let data = match zipdir::extract_in_memory(&bytes, entry, 4 << 30) {
            Ok(data) => data,
            Err(err) => {
                analysis.failed.get_or_insert(err.0);
                continue;
            }
        };
        match elf::inspect(&data) {
            Ok(info) => analysis.elf_files.push(ElfMember {
                path: entry.name.clone(),
                info,
            }),
            Err(elf::ElfError::NotElf) => {}
            Err(err) => {
                analysis
                    .failed
                    .get_or_insert(format!("{}: {err}", entry.name));
            }
        }
    }
    analysis
}
