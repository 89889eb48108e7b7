//! Reading the ELF files inside one wheel: only those members are fetched (by range), streamed
//! through the inflater, and parsed.

use std::io::Write;

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::index::http::HttpClient;
use crate::index::remote::{self, MemberChunk};
use crate::inspect::elf::{self, ElfInfo};
use crate::inspect::sparse;
use crate::inspect::sparse_elf::StartNeeds;
use crate::inspect::zipdir::ZipEntry;

/// Members up to this size are inflated in memory; larger ones go to a temporary file that is
/// mapped, so a 1 GB library never sits on the heap.
const IN_MEMORY_LIMIT: u64 = 64 << 20;
/// No real shared object is larger; a member declaring more is refused (zip bomb).
const MAX_ELF_SIZE: u64 = 4 << 30;
/// Reads (a large member, or a span of small ones) of one wheel at the same time: a wheel such
/// as pandas has a dozen members read sparsely, one round trip each.
const CONCURRENT_MEMBERS: usize = 8;
/// Small members (read whole) with at most this many other bytes between them are fetched by
/// one request ([`remote::stream_members`]): a round trip costs more than that much transfer.
const SPAN_GAP: u64 = 512 << 10;
/// A span stops growing at this many bytes, so that a wheel's members still come in parallel.
const SPAN_MAX: u64 = 8 << 20;
/// The same two limits for a slow file ([`sparse::is_slow`]): its CDN sends each range's body
/// at about 10 MB/s (psycopg2-binary 2.9.9's wheels: 1.4 MB of libraries in one request took
/// 140 ms after its headers), so its members come in more, shorter requests at once, and a gap
/// is not worth fetching.
const SPAN_GAP_SLOW: u64 = 32 << 10;
const SPAN_MAX_SLOW: u64 = 256 << 10;

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

/// Large ELF members ([`sparse::holds_much`]: read sparsely, or whole when that fails) read at
/// once across all wheels: each holds buffers of a few MiB (a range being fetched, a window of a
/// tail being decoded), and a large install set has dozens. Mid-size members read sparsely hold
/// little and are not limited: with this limit on them too (and 4 reads per wheel), the
/// data-science list took 0.68 instead of 0.55 s cold, its sparse reads queued behind one
/// another. Nor are small members (read whole in spans): their buffers are small, and limiting
/// them made latency-bound runs slower (FastAPI example, cold: 0.8 s -> 1.3 s with a limit of 8
/// on every member).
static LARGE_MEMBER_READS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(6);

pub async fn analyze(
    http: &HttpClient,
    url: &Url,
    total: u64,
    entries: &[ZipEntry],
) -> WheelAnalysis {
    let sparse_allowed = std::env::var_os("WHEELCHECK_WHOLE_MEMBERS").is_none();
    let (large, small): (Vec<&ZipEntry>, Vec<&ZipEntry>) = elf_candidates(entries)
        .into_iter()
        .partition(|e| sparse_allowed && sparse::may_read(e));
    let mut groups: Vec<Vec<&ZipEntry>> = large.into_iter().map(|entry| vec![entry]).collect();
    let limits = match sparse::is_slow(http, url) {
        true => (SPAN_GAP_SLOW, SPAN_MAX_SLOW),
        false => (SPAN_GAP, SPAN_MAX),
    };
    groups.extend(spans(small, limits));
    // Collected first: a lazy `map` held across the await below keeps the future from being
    // provably `Send`, which spawning an analysis needs.
    let reads: Vec<_> = groups
        .into_iter()
        .map(|members| read_group(http, url, total, members, sparse_allowed))
        .collect();
    let results: Vec<Result<(Vec<ElfMember>, u64), String>> = futures::stream::iter(reads)
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
            Ok((members, bytes)) => {
                analysis.bytes_fetched += bytes;
                analysis.elf_files.extend(members);
            }
            Err(reason) => {
                analysis.failed.get_or_insert(reason);
            }
        }
    }
    analysis.elf_files.sort_by(|a, b| a.path.cmp(&b.path));
    analysis
}

/// One large member read sparsely (or whole if that fails), or a span of members read whole.
async fn read_group(
    http: &HttpClient,
    url: &Url,
    total: u64,
    members: Vec<&ZipEntry>,
    sparse_allowed: bool,
) -> Result<(Vec<ElfMember>, u64), String> {
    match members.as_slice() {
        [entry] if sparse_allowed && sparse::may_read(entry) => {
            let _turn = match sparse::holds_much(entry) {
                true => Some(
                    LARGE_MEMBER_READS
                        .acquire()
                        .await
                        .map_err(|e| e.to_string())?,
                ),
                false => None,
            };
            read_large(http, url, total, entry).await
        }
        _ => read_span(http, url, total, &members, sparse_allowed).await,
    }
}

/// Members in file order, grouped into runs that one request each fetches: at most `gap`
/// bytes between two members, and at most `max` bytes in all (unless one member is more).
fn spans(mut members: Vec<&ZipEntry>, (gap, max): (u64, u64)) -> Vec<Vec<&ZipEntry>> {
    members.sort_by_key(|e| e.local_header_offset);
    let mut spans: Vec<Vec<&ZipEntry>> = Vec::new();
    for entry in members {
        let joins = spans
            .last()
            .and_then(|span| Some((span.first()?, span.last()?)));
        let joins = joins.is_some_and(|(first, last)| {
            let last_end = last.local_header_offset + last.span_estimate();
            let between = entry.local_header_offset.saturating_sub(last_end);
            let end = entry.local_header_offset + entry.span_estimate();
            between <= gap && end - first.local_header_offset <= max
        });
        match (joins, spans.last_mut()) {
            (true, Some(span)) => span.push(entry),
            _ => spans.push(vec![entry]),
        }
    }
    spans
}

fn check_declared_size(entry: &ZipEntry) -> Result<(), String> {
    match entry.size > MAX_ELF_SIZE {
        true => Err(format!(
            "{} declares {} bytes uncompressed, more than the {MAX_ELF_SIZE} allowed",
            entry.name, entry.size
        )),
        false => Ok(()),
    }
}

/// A large member: read sparsely, or whole when that cannot be done.
async fn read_large(
    http: &HttpClient,
    url: &Url,
    total: u64,
    entry: &ZipEntry,
) -> Result<(Vec<ElfMember>, u64), String> {
    check_declared_size(entry)?;
    let member = sparse::Member {
        http,
        url,
        total,
        entry,
    };
    let mut tried = 0;
    if let Some(found) = sparse::read(&member, &mut tried).await? {
        let found = found.map(|info| ElfMember {
            path: entry.name.clone(),
            info,
        });
        crate::diag::debug(format_args!(
            "{}: {tried} bytes fetched for {} compressed, {} uncompressed",
            entry.name, entry.compressed_size, entry.size
        ));
        return Ok((found.into_iter().collect(), tried));
    }
    let (found, fetched) = read_span(http, url, total, &[entry], true).await?;
    Ok((found, tried + fetched))
}

/// Members read whole, with one request: each is inflated as it arrives (into memory, or a
/// mapped file when large), parsed, and dropped before the next. With `from_start`, a member in
/// memory is inflated only until its start holds every answer ([`StartNeeds`]); if those pieces
/// do not parse, it is read again whole.
async fn read_span(
    http: &HttpClient,
    url: &Url,
    total: u64,
    members: &[&ZipEntry],
    from_start: bool,
) -> Result<(Vec<ElfMember>, u64), String> {
    for entry in members {
        check_declared_size(entry)?;
    }
    let mut buffer: Option<MemberBuffer> = None;
    let mut found = Vec::new();
    let mut failed: Option<String> = None;
    let mut again: Vec<&ZipEntry> = Vec::new();
    let mut stopped = 0;
    let mut fetched = remote::stream_members(http, url, total, members, |at, chunk| {
        let entry = members[at];
        match chunk {
            MemberChunk::Bytes(bytes) => {
                if buffer.is_none() {
                    match MemberBuffer::new(entry.size, from_start) {
                        Ok(fresh) => buffer = Some(fresh),
                        Err(err) => {
                            failed.get_or_insert(format!("{}: {err}", entry.name));
                            return false;
                        }
                    }
                }
                buffer.as_mut().is_some_and(|b| b.push(bytes))
            }
            MemberChunk::End { complete } => {
                let taken = buffer.take();
                // A temporary file that could not be written stopped the member: say so.
                if let Some(err) = taken.as_ref().and_then(|b| b.error.as_ref()) {
                    failed.get_or_insert(format!("{}: {err}", entry.name));
                }
                let answered = !complete && taken.as_ref().is_some_and(MemberBuffer::holds_answers);
                stopped += usize::from(answered);
                if (complete || answered) && failed.is_none() {
                    match inspect_member(entry, taken, complete) {
                        Ok(member) => found.extend(member),
                        Err(_) if answered => again.push(entry),
                        Err(err) => {
                            failed.get_or_insert(err);
                        }
                    }
                }
                true
            }
        }
    })
    .await
    .map_err(|e| e.to_string())?;
    crate::diag::debug(format_args!(
        "{} members from {}: {fetched} bytes fetched for {} compressed, {} uncompressed; \
         {stopped} stopped once their start held the answers",
        members.len(),
        members[0].name,
        members.iter().map(|e| e.compressed_size).sum::<u64>(),
        members.iter().map(|e| e.size).sum::<u64>()
    ));
    if failed.is_none() && !again.is_empty() {
        let (more, bytes) = Box::pin(read_span(http, url, total, &again, false)).await?;
        found.extend(more);
        fetched += bytes;
    }
    match failed {
        Some(err) => Err(err),
        None => Ok((found, fetched)),
    }
}

/// A member read whole, or as far as its start holds the answers (`complete` false):
/// `Ok(None)` when it is not an ELF file (and need not be).
fn inspect_member(
    entry: &ZipEntry,
    buffer: Option<MemberBuffer>,
    complete: bool,
) -> Result<Option<ElfMember>, String> {
    let buffer = match buffer {
        Some(buffer) => buffer,
        None => MemberBuffer::new(0, false).map_err(|e| format!("{}: {e}", entry.name))?,
    };
    if let Some(err) = &buffer.error {
        return Err(format!("{}: {err}", entry.name));
    }
    let member = |info| {
        Ok(Some(ElfMember {
            path: entry.name.clone(),
            info,
        }))
    };
    if !complete {
        return match buffer.inspect_start() {
            Some(Ok(info)) => member(info),
            Some(Err(err)) => Err(format!("{}: {err}", entry.name)),
            None => Err(format!("{}: cut off", entry.name)),
        };
    }
    let bytes = buffer
        .finish()
        .map_err(|e| format!("{}: {e}", entry.name))?;
    match elf::inspect(&bytes) {
        Ok(info) => member(info),
        Err(elf::ElfError::NotElf) if !looks_shared(&entry.name) => Ok(None),
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
    /// For a member in memory read from its start only: how far that must go.
    start_needs: Option<StartNeeds>,
    size: u64,
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
    /// A buffer for a member of `size` bytes; with `from_start`, one that stops taking bytes
    /// once they hold every answer (members in memory only).
    fn new(size: u64, from_start: bool) -> std::io::Result<Self> {
        let file = if size > IN_MEMORY_LIMIT {
            Some(tempfile::NamedTempFile::new()?)
        } else {
            None
        };
        Ok(MemberBuffer {
            memory: Vec::with_capacity(size.min(IN_MEMORY_LIMIT) as usize),
            start_needs: (from_start && file.is_none()).then(StartNeeds::default),
            file,
            seen: 0,
            error: None,
            size,
        })
    }

    /// Take a chunk; `false` stops the download: not an ELF file, or the start so far holds
    /// every answer.
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
        let elf_so_far = self.seen < 4 || self.memory.len() < 4 || elf::is_elf(&self.memory[..4]);
        // A member whose last bytes are here is finished instead: then its CRC is checked.
        elf_so_far && (self.seen >= self.size || !self.answers())
    }

    /// Whether the bytes so far hold every answer (see [`StartNeeds`]).
    fn answers(&mut self) -> bool {
        let (memory, size) = (&self.memory, self.size);
        self.start_needs
            .as_mut()
            .is_some_and(|needs| needs.advance(memory, size))
    }

    fn holds_answers(&self) -> bool {
        let have = self.memory.len() as u64;
        self.start_needs.as_ref().is_some_and(|n| n.holds(have))
    }

    fn inspect_start(self) -> Option<Result<ElfInfo, elf::ElfError>> {
        self.start_needs?.inspect(self.memory, self.size)
    }

    fn finish(self) -> std::io::Result<Bytes> {
        match self.file {
            None => Ok(Bytes::Memory(self.memory)),
            Some(file) => {
                // No sync needed: the mapping reads the same page cache the writes went to.
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

    fn at(name: &str, offset: u64, compressed: u64) -> ZipEntry {
        ZipEntry {
            local_header_offset: offset,
            compressed_size: compressed,
            ..entry(name)
        }
    }

    #[test]
    fn members_close_together_share_a_request_and_far_or_many_do_not() {
        let near = [
            at("a.so", 0, 1000),
            at("b.so", 3000, 1000),
            at("c.so", 6000 + SPAN_GAP, 1000),
            at("d.so", 4 * SPAN_MAX, SPAN_MAX / 2),
            at("e.so", 4 * SPAN_MAX + SPAN_MAX / 2 + 1100, SPAN_MAX / 2),
        ];
        // Given out of order: spans follow the file.
        let names = |spans: Vec<Vec<&ZipEntry>>| -> Vec<Vec<String>> {
            spans
                .iter()
                .map(|s| s.iter().map(|e| e.name.clone()).collect())
                .collect()
        };
        let members: Vec<&ZipEntry> = near.iter().rev().collect();
        assert_eq!(
            names(spans(members, (SPAN_GAP, SPAN_MAX))),
            [
                vec!["a.so", "b.so"],
                vec!["c.so"],
                vec!["d.so"],
                vec!["e.so"]
            ]
        );
    }

    #[test]
    fn a_slow_file_s_members_come_in_shorter_spans() {
        // Six 100 KB members 10 KB apart: one span from a quick file, three from a slow one
        // (two members fill 256 KiB), and a gap over 32 KiB splits them too.
        let members: Vec<ZipEntry> = (0..6)
            .map(|i| at(&format!("m{i}.so"), i * 110_000, 100_000))
            .collect();
        let refs = || members.iter().collect::<Vec<&ZipEntry>>();
        assert_eq!(spans(refs(), (SPAN_GAP, SPAN_MAX)).len(), 1);
        let slow = spans(refs(), (SPAN_GAP_SLOW, SPAN_MAX_SLOW));
        assert_eq!(slow.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 2]);
        let apart: Vec<ZipEntry> = (0..2)
            .map(|i| at(&format!("m{i}.so"), i * 150_000, 100_000))
            .collect();
        let apart = spans(apart.iter().collect(), (SPAN_GAP_SLOW, SPAN_MAX_SLOW));
        assert_eq!(apart.len(), 2, "50 KB apart");
    }

    #[test]
    fn a_member_without_the_elf_magic_stops_after_its_first_bytes() {
        let mut buffer = MemberBuffer::new(10, true).unwrap();
        assert!(buffer.push(b"#!"));
        assert!(!buffer.push(b"/bin/sh\n"));
        let mut buffer = MemberBuffer::new(10, true).unwrap();
        assert!(buffer.push(b"\x7fEL"));
        assert!(buffer.push(b"F\x02\x01"));
    }

    #[test]
    fn large_members_go_through_a_mapped_file() {
        let mut buffer = MemberBuffer::new(IN_MEMORY_LIMIT + 1, true).unwrap();
        assert!(buffer.push(b"\x7fELF"));
        assert!(buffer.push(b"rest"));
        let bytes = buffer.finish().unwrap();
        assert!(matches!(bytes, Bytes::Mapped(_)));
        assert_eq!(&bytes[..], b"\x7fELFrest");
    }
}
