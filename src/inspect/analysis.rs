//! Reading the ELF files inside one wheel: only those members are fetched (by range), streamed
//! through the inflater, and parsed.

use std::io::Write;

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::index::http::HttpClient;
use crate::index::remote::{self, MemberRead};
use crate::inspect::elf::{self, ElfInfo};
use crate::inspect::sparse;
use crate::inspect::zipdir::ZipEntry;

/// Members up to this size are inflated in memory; larger ones go to a temporary file that is
/// mapped, so a 1 GB library never sits on the heap.
const IN_MEMORY_LIMIT: u64 = 64 << 20;
/// No real shared object is larger; a member declaring more is refused (zip bomb).
const MAX_ELF_SIZE: u64 = 4 << 30;
/// Members of one wheel read at the same time.
const CONCURRENT_MEMBERS: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElfMember {
    pub path: String,
    pub info: ElfInfo,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WheelAnalysis {
    pub elf_files: Vec<ElfMember>,
    /// Why the analysis is incomplete; a failed analysis is never read as "needs nothing".
    pub failed: Option<String>,
    /// Compressed bytes downloaded to read the ELF members.
    pub bytes_fetched: u64,
}

/// Members that may be ELF files: shared objects by name (`x.so`, `libx.so.1.2`), and anything
/// installed as a script or under a `bin/` directory (executables have no telling name).
pub fn elf_candidates(entries: &[ZipEntry]) -> Vec<&ZipEntry> {
    entries
        .iter()
        .filter(|e| !e.name.ends_with('/'))
        .filter(|e| {
            let base = e.name.rsplit('/').next().unwrap_or(&e.name);
            let shared = base.ends_with(".so") || base.contains(".so.");
            let executable =
                e.name.contains(".data/scripts/") || e.name.split('/').any(|p| p == "bin");
            shared || (executable && !is_text_name(base))
        })
        .collect()
}

fn is_text_name(base: &str) -> bool {
    [
        ".py", ".sh", ".txt", ".md", ".json", ".pyi", ".pyc", ".h", ".cmake", ".bat", ".ps1",
    ]
    .iter()
    .any(|ext| base.ends_with(ext))
}

/// Large ELF members (read sparsely, or whole when that fails) read at once across all
/// wheels: each holds buffers of a few MiB (a range being fetched, a window of a tail being
/// decoded), and a large install set has dozens. Small members are not limited here: their
/// buffers are small, and limiting them made latency-bound runs slower (FastAPI example, cold:
/// 0.8 s -> 1.3 s with a limit of 8 on every member).
static LARGE_MEMBER_READS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(6);

pub async fn analyze(
    http: &HttpClient,
    url: &Url,
    total: u64,
    entries: &[ZipEntry],
) -> WheelAnalysis {
    let candidates = elf_candidates(entries);
    let results: Vec<Result<(Option<ElfMember>, u64), String>> = futures::stream::iter(candidates)
        .map(|entry| async move {
            let _turn = match entry.compressed_size >= sparse::min_sparse() {
                true => Some(
                    LARGE_MEMBER_READS
                        .acquire()
                        .await
                        .map_err(|e| e.to_string())?,
                ),
                false => None,
            };
            let result = read_member(http, url, total, entry).await;
            if let Ok((_, fetched)) = &result {
                crate::diag::debug(format_args!(
                    "{}: {fetched} bytes fetched for {} compressed, {} uncompressed",
                    entry.name, entry.compressed_size, entry.size
                ));
            }
            result
        })
        .buffer_unordered(CONCURRENT_MEMBERS)
        .collect()
        .await;
    let mut analysis = WheelAnalysis {
        elf_files: Vec::new(),
        failed: None,
        bytes_fetched: 0,
    };
    for result in results {
        match result {
            Ok((member, bytes)) => {
                analysis.bytes_fetched += bytes;
                analysis.elf_files.extend(member);
            }
            Err(reason) => {
                analysis.failed.get_or_insert(reason);
            }
        }
    }
    analysis.elf_files.sort_by(|a, b| a.path.cmp(&b.path));
    analysis
}

/// One member: `Ok(None)` when it turns out not to be an ELF file.
async fn read_member(
    http: &HttpClient,
    url: &Url,
    total: u64,
    entry: &ZipEntry,
) -> Result<(Option<ElfMember>, u64), String> {
    if entry.size > MAX_ELF_SIZE {
        return Err(format!(
            "{} declares {} bytes uncompressed, more than the {MAX_ELF_SIZE} allowed",
            entry.name, entry.size
        ));
    }
    let member = sparse::Member {
        http,
        url,
        total,
        entry,
    };
    let mut tried = 0;
    let sparse_allowed = std::env::var_os("WHEELCHECK_WHOLE_MEMBERS").is_none();
    if sparse_allowed && let Some(found) = sparse::read(&member, &mut tried).await? {
        let found = found.map(|info| ElfMember {
            path: entry.name.clone(),
            info,
        });
        return Ok((found, tried));
    }
    let mut buffer = MemberBuffer::new(entry.size).map_err(|e| format!("{}: {e}", entry.name))?;
    let read: MemberRead =
        remote::stream_member(http, url, total, entry, |chunk| buffer.push(chunk))
            .await
            .map_err(|e| e.to_string())?;
    if let Some(err) = buffer.error.take() {
        return Err(format!("{}: {err}", entry.name));
    }
    if !read.complete {
        return Ok((None, tried + read.bytes_fetched));
    }
    let bytes = buffer
        .finish()
        .map_err(|e| format!("{}: {e}", entry.name))?;
    match elf::inspect(&bytes) {
        Ok(info) => Ok((
            Some(ElfMember {
                path: entry.name.clone(),
                info,
            }),
            tried + read.bytes_fetched,
        )),
        Err(elf::ElfError::NotElf) if !looks_shared(&entry.name) => {
            Ok((None, tried + read.bytes_fetched))
        }
        Err(err) => Err(format!("{}: {err}", entry.name)),
    }
}

fn looks_shared(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    base.ends_with(".so") || base.contains(".so.")
}

/// Where an inflating member goes: memory for small ones, a mapped temporary file for large.
/// A member that does not start with the ELF magic stops the download after its first bytes.
struct MemberBuffer {
    memory: Vec<u8>,
    file: Option<tempfile::NamedTempFile>,
    seen: u64,
    error: Option<String>,
}

enum Bytes {
    Memory(Vec<u8>),
    Mapped(memmap2::Mmap),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Memory(bytes) => bytes,
            Bytes::Mapped(map) => map,
        }
    }
}

impl MemberBuffer {
    fn new(size: u64) -> std::io::Result<Self> {
        let file = if size > IN_MEMORY_LIMIT {
            Some(tempfile::NamedTempFile::new()?)
        } else {
            None
        };
        Ok(MemberBuffer {
            memory: Vec::with_capacity(size.min(IN_MEMORY_LIMIT) as usize),
            file,
            seen: 0,
            error: None,
        })
    }

    /// Take a chunk; `false` stops the download.
    fn push(&mut self, chunk: &[u8]) -> bool {
        let head_before = self.seen < 4;
        self.seen += chunk.len() as u64;
        let result = match &mut self.file {
            Some(file) if !head_before || self.memory.len() >= 4 => file.write_all(chunk),
            Some(file) => {
                self.memory.extend_from_slice(chunk);
                file.write_all(chunk)
            }
            None => {
                self.memory.extend_from_slice(chunk);
                Ok(())
            }
        };
        if let Err(err) = result {
            self.error = Some(format!("cannot write a temporary file: {err}"));
            return false;
        }
        self.seen < 4 || self.memory.len() < 4 || elf::is_elf(&self.memory[..4])
    }

    fn finish(self) -> std::io::Result<Bytes> {
        match self.file {
            None => Ok(Bytes::Memory(self.memory)),
            Some(file) => {
                file.as_file().sync_data()?;
                // SAFETY: the file is ours, private to this process, and not modified while mapped.
                let map = unsafe { memmap2::Mmap::map(file.as_file())? };
                Ok(Bytes::Mapped(map))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str) -> ZipEntry {
        ZipEntry {
            name: name.into(),
            method: 8,
            crc32: 0,
            compressed_size: 1,
            size: 1,
            local_header_offset: 0,
        }
    }

    #[test]
    fn shared_objects_scripts_and_bin_files_are_candidates() {
        let entries: Vec<ZipEntry> = [
            "pkg/_core.cpython-312-x86_64-linux-gnu.so",
            "pkg.libs/libgomp-a34b3233.so.1.0.0",
            "pkg/__init__.py",
            "pkg-1.0.data/scripts/tool",
            "pkg-1.0.data/scripts/tool.py",
            "pkg/bin/helper",
            "pkg/sorted.json",
            "pkg/not_a_lib.sources",
        ]
        .iter()
        .map(|n| entry(n))
        .collect();
        let names: Vec<&str> = elf_candidates(&entries)
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "pkg/_core.cpython-312-x86_64-linux-gnu.so",
                "pkg.libs/libgomp-a34b3233.so.1.0.0",
                "pkg-1.0.data/scripts/tool",
                "pkg/bin/helper"
            ]
        );
    }

    #[test]
    fn a_member_without_the_elf_magic_stops_after_its_first_bytes() {
        let mut buffer = MemberBuffer::new(10).unwrap();
        assert!(buffer.push(b"#!"));
        assert!(!buffer.push(b"/bin/sh\n"));
        let mut buffer = MemberBuffer::new(10).unwrap();
        assert!(buffer.push(b"\x7fEL"));
        assert!(buffer.push(b"F\x02\x01"));
    }

    #[test]
    fn large_members_go_through_a_mapped_file() {
        let mut buffer = MemberBuffer::new(IN_MEMORY_LIMIT + 1).unwrap();
        assert!(buffer.push(b"\x7fELF"));
        assert!(buffer.push(b"rest"));
        let bytes = buffer.finish().unwrap();
        assert!(matches!(bytes, Bytes::Mapped(_)));
        assert_eq!(&bytes[..], b"\x7fELFrest");
    }
}
