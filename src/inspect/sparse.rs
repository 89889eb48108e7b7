//! Reading what a large deflated ELF member needs while downloading a small part of it.
//!
//! What a shared object needs is in four places: the header and program headers (at the start),
//! the dynamic section (typically 70–85% into the file, before the symbol tables), and the
//! dynamic string table and `.gnu.version_r` (in the first few percent, or at the very end when
//! patchelf has rewritten the file, as auditwheel does) — though a CUDA library's dynamic
//! section can sit at 2% with its fat binaries after it. The program headers say where it is,
//! and the cheaper way is taken (`prefers_start`): inflating the start, from the member's
//! first byte, only as far as needed; or decoding the member's *tail* from a deflate block found
//! in the middle ([`super::inflate`] finds it, zlib decodes from it through [`super::resume`]),
//! which runs to the member's end, so the offset of every decoded byte is exact. Compressed and decoded bytes go to temporary files and are read a
//! window at a time, so memory stays small whatever the size.
//!
//! Anything unexpected — no block found, the dynamic section not reached or depending on bytes
//! before the decoding started, pieces in the middle of the file, a 32-bit or big-endian file —
//! returns `None`, and the caller reads the member whole, as before: this path can make reading
//! cheaper, never less exact. It cannot check the member's CRC (that needs every byte); the
//! pieces it uses are checked by their own structure instead.

use url::Url;

use super::elf::{ElfError, ElfInfo};
use super::inflate::{self, Window as _};
use super::resume;
use super::sparse_elf::{self, Dynamic, PieceBytes, Pieces};
use super::spill::Spill;
use crate::index::http::HttpClient;
use crate::inspect::zipdir::ZipEntry;

/// Members smaller than this (compressed) are read whole, in a span with their neighbours: the
/// start and the tail a sparse read fetches (`HEAD_FETCH`, `SPECULATIVE_TAIL_MIN`) would be
/// most of them, and decoding a tail costs more CPU than inflating a small member. From this
/// size on, fetching the start and the tail together makes the sparse read one round trip in
/// most cases (seed examples, 6 targets, cold, against 2 MiB read sparsely in two to four round
/// trips: FastAPI 42.3 -> 33.0 MB and 416 -> 373 ms, data-science 120.0 -> 87.5 MB at the same
/// time, the 30-package list 333.7 -> 264.4 MB).
pub const MIN_SPARSE_COMPRESSED: u64 = 512 << 10;

/// Compressed bytes read from the member's start: header and program headers are in the first
/// few KiB of output.
const HEAD_FETCH: u64 = 64 * 1024;
/// The first request of a sparse read: the local header (30 bytes and a name of up to 256)
/// and [`HEAD_FETCH`] bytes of data.
const HEAD_REQUEST: u64 = 30 + 256 + HEAD_FETCH;
/// The first guess at the compressed share of the part after the dynamic section, relative to
/// its uncompressed share: symbol and string tables compress several times better than code.
const FIRST_TAIL_GUESS: f64 = 0.4;
/// Each step back reaches this much further than the tail's own ratio says is needed (the part
/// before compresses worse), and at least this share of the member.
const STEP_FACTOR: f64 = 1.5;
const MIN_STEP: f64 = 0.01;
/// ... and at least this many compressed bytes: where no block was found, the last block is
/// longer than what was fetched (zlib's blocks run to 100 KiB and more), and each step back
/// costs a round trip.
const MIN_STEP_BYTES: u64 = 128 << 10;
/// Uncompressed bytes to reach before the dynamic section when stepping back, so that
/// back-references to the unknown bytes before the start have likely died out (whether they
/// have is checked byte by byte).
const KNOWN_LEAD: u64 = 256 << 10;
/// The member's last compressed bytes fetched together with its start, before its layout is
/// known: this share of it, within these bounds. The dynamic section of a typical shared object
/// (numpy, pandas, pillow: 80–99% into the file) is reached by this and a block before it; a
/// tail too short finds no block and costs another round trip.
const SPECULATIVE_TAIL_SHARE: f64 = 0.06;
const SPECULATIVE_TAIL_MIN: u64 = 160 << 10;
const SPECULATIVE_TAIL_MAX: u64 = 1 << 20;
/// Bytes of a local header's extra field allowed for when guessing where the data ends.
const LOCAL_EXTRA_SLACK: u64 = 1024;
/// A file whose server answered no request for it quicker than this, and than
/// `SLOWER_THAN_MEDIAN` times the median file, is slow: its CDN fetches every range from the
/// origin (the seed FastAPI example's 2023 wheels: 55–120 ms each, when cached files answer in
/// 2–10 ms). The median keeps a busy run, whose answers all wait behind large bodies, from
/// counting every file slow (30-package list: 57 of 160 files over 50 ms, median 37 ms).
const SLOW_ANSWER: std::time::Duration = std::time::Duration::from_millis(50);
const SLOWER_THAN_MEDIAN: u32 = 3;
/// In a slow file, a member below this compressed size is fetched whole by its first two
/// requests (the speculative tail is all of the member after the start), and a larger one's
/// speculative tail is at least [`SPECULATIVE_TAIL_MIN_SLOW`]: a step back there costs a round
/// trip of 55–120 ms, and bodies come at 17–50 MB/s, so the rest of a 1 MiB member costs less
/// than the one in two chance of a step back (vendored libstdc++, 0.9 MB: every time). In a
/// quick file, a step back costs a few milliseconds and the bytes saved count more: fetching
/// such members whole everywhere made the 30-package list 5% slower (264 -> 295 MB).
/// Decoding starts at the nominal share either way; only its step backs find their bytes
/// already here.
const FETCH_WHOLE_BELOW_SLOW: u64 = 1 << 20;
const SPECULATIVE_TAIL_MIN_SLOW: u64 = SPECULATIVE_TAIL_MIN + MIN_STEP_BYTES;
/// See [`holds_much`].
const HOLDS_MUCH: u64 = 2 << 20;
/// Tries at reaching further back before giving up and reading the member whole.
const TRIES: usize = 6;
/// The start is inflated instead of the tail decoded when its share of the file is below this
/// share of the tail's: the tail's (symbol tables, a CUDA library's fat binaries) often costs
/// more per byte, and decoding it may have to step back.
const START_PREFERENCE: f64 = 0.8;
/// Compressed bytes fetched per request: for the start, what the ratio so far says is still
/// needed, a little more, within these bounds; for a tail, pieces of the most.
const FETCH_PIECE_MIN: u64 = 128 << 10;
const FETCH_PIECE_MAX: u64 = 4 << 20;
/// Pieces longer than this are mapped from the decoded file rather than copied to memory.
const MAP_OVER: u64 = 1 << 20;
/// Decoded bytes (a tail, a start) held in memory before they go to a temporary file: most
/// mid-size members' tails fit; a large library's does not and is not held on the heap (4 MiB
/// raised the 30-package list's peak from 212 to 226 MB for no measurable time).
const IN_MEMORY_DECODED: usize = 1 << 20;

/// Whether reading up to the dynamic section from the start looks cheaper than decoding the
/// tail from it: a CUDA library's dynamic section can sit at 2% of the file, with its fat
/// binaries after it (libcufft), an unstripped one's at 38%, before its symbol tables (libtriton).
fn prefers_start(dynamic_offset: u64, dynamic_size: u64, size: u64) -> bool {
    let size = size.max(1) as f64;
    let start_share = (dynamic_offset + dynamic_size) as f64 / size;
    let tail_share = 1.0 - dynamic_offset as f64 / size;
    start_share < tail_share * START_PREFERENCE
}

/// Where the member's data is in the wheel.
pub struct Member<'a> {
    pub http: &'a HttpClient,
    pub url: &'a Url,
    pub total: u64,
    pub entry: &'a ZipEntry,
}

/// Whether the file at `url` is slow to answer (see [`SLOW_ANSWER`]).
pub fn is_slow(http: &HttpClient, url: &Url) -> bool {
    http.answer_times(url)
        .is_some_and(|(this, median)| this >= SLOW_ANSWER.max(median * SLOWER_THAN_MEDIAN))
}

/// Whether [`read`] may read `entry`: a deflated member large enough to be worth it.
pub fn may_read(entry: &ZipEntry) -> bool {
    entry.method == 8 && entry.compressed_size >= MIN_SPARSE_COMPRESSED
}

/// Whether a sparse read of `entry` may hold buffers of megabytes (pieces being fetched, a
/// window of the tail being decoded), so that only a few should run at once: below
/// `HOLDS_MUCH`, a member's whole compressed data is under 2 MiB, and its tail is typically
/// `SPECULATIVE_TAIL_MIN`.
pub fn holds_much(entry: &ZipEntry) -> bool {
    entry.compressed_size >= HOLDS_MUCH
}

/// What the sparse read found: `Some(None)` for "not an ELF file", `None` for "read this
/// member whole". What it downloaded is added to `fetched` either way.
pub async fn read(
    member: &Member<'_>,
    fetched: &mut u64,
) -> Result<Option<Option<ElfInfo>>, String> {
    let entry = member.entry;
    if !may_read(entry) {
        return Ok(None);
    }
    let fetched = &mut *fetched;
    let guess = SpeculativeTail::guess(entry, member.total, is_slow(member.http, member.url));
    let (mut head_fetched, mut tail_fetched) = (0, 0);
    let (header, tail_bytes) = futures::join!(
        fetch(
            member,
            entry.local_header_offset,
            HEAD_REQUEST,
            &mut head_fetched,
        ),
        fetch(member, guess.start, guess.len, &mut tail_fetched),
    );
    *fetched += head_fetched + tail_fetched;
    let header = header?;
    let Some(data_start) = data_offset(&header, entry) else {
        return Ok(whole(entry, "no local header"));
    };
    let head_bytes = &header[(data_start - entry.local_header_offset) as usize..];
    let prefetched = guess.place(&tail_bytes?, head_bytes, data_start, entry)?;
    let start = inflate_prefix(head_bytes, 64 * 1024);
    let layout = match sparse_elf::layout(&start) {
        Ok(Some(layout)) => layout,
        Ok(None) => return Ok(None),
        Err(ElfError::NotElf) => return Ok(Some(None)),
        Err(err) => return Err(format!("{}: {err}", entry.name)),
    };
    let Some((dynamic_offset, dynamic_size)) = layout.dynamic else {
        return Ok(whole(entry, "not a 64-bit little-endian ELF file"));
    };
    if dynamic_offset
        .checked_add(dynamic_size)
        .is_none_or(|end| end > entry.size)
    {
        return Ok(whole(entry, "the dynamic section lies outside the file"));
    }
    let mut source = Source {
        member,
        data_start,
        head: head_bytes,
        prefetched,
    };
    if prefers_start(dynamic_offset, dynamic_size, entry.size) {
        return source.read_from_start(&layout, fetched).await;
    }
    let Some(tail) = source
        .tail_covering(dynamic_offset, dynamic_size, fetched)
        .await?
    else {
        return Ok(whole(entry, "no dynamic section"));
    };
    let mut pieces = Pieces::new(entry.size);
    pieces.add(0, start);
    let Some(dynamic) = tail
        .known(dynamic_offset, dynamic_size)
        .and_then(|bytes| Dynamic::parse(&bytes))
    else {
        return Ok(whole(entry, "the tail did not reach the dynamic section"));
    };
    let Some(wanted) = dynamic.wanted(&layout, entry.size) else {
        return Ok(whole(entry, "no valid dynamic section"));
    };
    let mut from_start = Vec::new();
    for (offset, len) in wanted {
        match tail.known(offset, len) {
            Some(bytes) => pieces.add(offset, bytes),
            None if offset + len < entry.size / 4 => from_start.push((offset, len)),
            None => return Ok(whole(entry, "a needed piece is in the middle of the file")),
        }
    }
    if !from_start.is_empty() {
        let Some(read) = source.prefix_pieces(&from_start, fetched).await? else {
            return Ok(whole(entry, "the start did not inflate that far"));
        };
        for (offset, bytes) in read {
            pieces.add(offset, bytes);
        }
    }
    match sparse_elf::inspect(&layout, &dynamic, &pieces) {
        Ok(info) => Ok(Some(Some(info))),
        Err(err) => Ok(whole(entry, &err.to_string())),
    }
}

/// Give up on the sparse read: the member is read whole. Said with -vv.
fn whole(entry: &ZipEntry, why: &str) -> Option<Option<ElfInfo>> {
    crate::diag::debug(format_args!("{}: read whole ({why})", entry.name));
    None
}

async fn fetch(
    member: &Member<'_>,
    offset: u64,
    len: u64,
    fetched: &mut u64,
) -> Result<Vec<u8>, String> {
    let end = (offset + len).min(member.total);
    let (start, body) = member
        .http
        .get_range(member.url, offset..end, member.total)
        .await
        .map_err(|e| e.to_string())?;
    *fetched += body.len() as u64;
    match (offset - start) as usize {
        0 => Ok(body),
        skip => Ok(body.get(skip..).unwrap_or_default().to_vec()),
    }
}

/// The offset of the member's compressed data, from its local header.
fn data_offset(header: &[u8], entry: &ZipEntry) -> Option<u64> {
    if header.len() < 30 || header[..4] != *b"PK\x03\x04" {
        return None;
    }
    let name_len = u64::from(u16::from_le_bytes([header[26], header[27]]));
    let extra_len = u64::from(u16::from_le_bytes([header[28], header[29]]));
    let offset = entry.local_header_offset + 30 + name_len + extra_len;
    (offset - entry.local_header_offset < header.len() as u64).then_some(offset)
}

/// Up to `limit` bytes inflated from the start of a raw deflate stream (fewer if `data` ends).
fn inflate_prefix(data: &[u8], limit: usize) -> Vec<u8> {
    let mut inflater = flate2::Decompress::new(false);
    let mut out = Vec::with_capacity(limit);
    let _ = inflater.decompress_vec(data, &mut out, flate2::FlushDecompress::None);
    out
}

/// The range fetched for the member's last compressed bytes together with its local header,
/// before the header says exactly where the data starts: the data is taken to start right after
/// the name, and the range reaches [`LOCAL_EXTRA_SLACK`] bytes further to allow for an extra
/// field. In a slow file it may start where the first request ends ([`FETCH_WHOLE_BELOW_SLOW`]).
struct SpeculativeTail {
    /// Offset in the wheel.
    start: u64,
    len: u64,
    /// Compressed bytes before the member's end where the first tail is decoded from: the
    /// nominal share, even when more was fetched.
    decode_len: u64,
}

impl SpeculativeTail {
    /// The range to fetch; `slow` when the file is slow to answer (see [`SLOW_ANSWER`]).
    fn guess(entry: &ZipEntry, total: u64, slow: bool) -> Self {
        let csize = entry.compressed_size;
        let decode_len = ((csize as f64 * SPECULATIVE_TAIL_SHARE) as u64)
            .clamp(SPECULATIVE_TAIL_MIN, SPECULATIVE_TAIL_MAX)
            .min(csize);
        let fetch_len = match slow {
            true => decode_len.max(SPECULATIVE_TAIL_MIN_SLOW).min(csize),
            false => decode_len,
        };
        let data_start = entry.local_header_offset + 30 + entry.name.len() as u64;
        let end = (data_start + csize + LOCAL_EXTRA_SLACK).min(total);
        let start = match slow && csize < FETCH_WHOLE_BELOW_SLOW {
            true => entry.local_header_offset + HEAD_REQUEST,
            false => (data_start + csize).saturating_sub(fetch_len),
        };
        let start = start.min(end);
        SpeculativeTail {
            start,
            len: end - start,
            decode_len,
        }
    }

    /// The fetched `bytes`, now that the data is known to start at `data_start`, as the
    /// member's compressed tail, joined with `head` (the data's first bytes) when the two
    /// meet; `None` if the extra field was longer than allowed for.
    fn place(
        &self,
        bytes: &[u8],
        head: &[u8],
        data_start: u64,
        entry: &ZipEntry,
    ) -> Result<Option<Prefetched>, String> {
        let data_end = data_start + entry.compressed_size;
        let fetched_end = self.start + bytes.len() as u64;
        if data_end > fetched_end || self.start < data_start || self.start >= data_end {
            return Ok(None);
        }
        let mut from = self.start - data_start;
        let file = CompressedFile::new(entry.compressed_size)?;
        file.write_at(from, &bytes[..(data_end - self.start) as usize])?;
        if head.len() as u64 >= from {
            file.write_at(0, &head[..from as usize])?;
            from = 0;
        }
        let decode_from = entry
            .compressed_size
            .saturating_sub(self.decode_len)
            .max(from);
        Ok(Some(Prefetched {
            file,
            from,
            decode_from,
        }))
    }
}

/// A member's compressed data from `from` to its end, in `file`.
struct Prefetched {
    file: CompressedFile,
    from: u64,
    /// Where the first tail is decoded from.
    decode_from: u64,
}

impl Prefetched {
    /// Nothing fetched yet: the first tail is decoded from where the tail's own guess says.
    fn empty(size: u64) -> Result<Self, String> {
        Ok(Prefetched {
            file: CompressedFile::new(size)?,
            from: size,
            decode_from: size,
        })
    }

    /// `len` bytes at `offset`, if fetched.
    fn read(&self, offset: u64, len: u64) -> Option<Vec<u8>> {
        use std::os::unix::fs::FileExt;
        let end = offset.checked_add(len)?.min(self.file.size);
        if offset < self.from || end <= offset {
            return None;
        }
        let mut bytes = vec![0; (end - offset) as usize];
        self.file.file.read_exact_at(&mut bytes, offset).ok()?;
        Some(bytes)
    }
}

struct Source<'m, 'a> {
    member: &'m Member<'a>,
    data_start: u64,
    /// The member's first compressed bytes, fetched with its local header.
    head: &'m [u8],
    /// The member's last compressed bytes, fetched with its local header (taken by the first
    /// tail decoded).
    prefetched: Option<Prefetched>,
}

impl Source<'_, '_> {
    /// The member's decoded tail, reaching back before `offset` far enough that the bytes
    /// there are known; `None` if that fails.
    async fn tail_covering(
        &mut self,
        offset: u64,
        size: u64,
        fetched: &mut u64,
    ) -> Result<Option<Tail>, String> {
        let entry = self.member.entry;
        let mut compressed = match self.prefetched.take() {
            Some(prefetched) => prefetched,
            None => Prefetched::empty(entry.compressed_size)?,
        };
        let tail = self
            .decode_tail(&mut compressed, offset, size, fetched)
            .await;
        self.prefetched = Some(compressed);
        tail
    }

    async fn decode_tail(
        &self,
        compressed: &mut Prefetched,
        offset: u64,
        size: u64,
        fetched: &mut u64,
    ) -> Result<Option<Tail>, String> {
        let entry = self.member.entry;
        let csize = entry.compressed_size as f64;
        let after = 1.0 - offset as f64 / entry.size.max(1) as f64;
        let guess = (csize * (1.0 - after * FIRST_TAIL_GUESS)).max(0.0) as u64;
        let mut from = compressed.decode_from.min(guess);
        self.fetch_from(compressed, from, fetched).await?;
        let lead = KNOWN_LEAD.min(offset);
        let mut min_step = (csize * MIN_STEP).max(MIN_STEP_BYTES as f64);
        for _ in 0..TRIES {
            let tail = Tail::decode(&mut compressed.file.window_from(from), entry.size)?;
            crate::diag::debug(format_args!(
                "{}: tail from compressed {from}: {}",
                entry.name,
                match &tail {
                    None => "no block found".to_string(),
                    Some(t) => format!(
                        "decoded from {} (dynamic at {offset}), {} unknown runs, first {:?}",
                        t.start,
                        t.unknown.len(),
                        t.unknown.first()
                    ),
                }
            ));
            if tail
                .as_ref()
                .is_some_and(|t| t.known(offset, size).is_some())
            {
                return Ok(tail);
            }
            // Uncompressed bytes still to reach, and compressed bytes per uncompressed one.
            let missing = tail.as_ref().map_or((0.0, 0.0), |t| {
                (
                    (t.start + lead).saturating_sub(offset) as f64,
                    (entry.compressed_size - from) as f64 / (entry.size - t.start).max(1) as f64,
                )
            });
            if from == 0 {
                return Ok(None);
            }
            // Unknown bytes can persist through chains of copies: each step reaches at least
            // twice as far back as the last.
            let step = (missing.0 * missing.1 * STEP_FACTOR).max(min_step) as u64;
            min_step *= 2.0;
            from = from.saturating_sub(step);
            self.fetch_from(compressed, from, fetched).await?;
        }
        Ok(None)
    }

    /// Make sure `compressed` holds the member's data from `from` on.
    async fn fetch_from(
        &self,
        compressed: &mut Prefetched,
        from: u64,
        fetched: &mut u64,
    ) -> Result<(), String> {
        if from < compressed.from {
            self.fetch_into(&compressed.file, from, compressed.from - from, fetched)
                .await?;
            compressed.from = from;
        }
        Ok(())
    }

    /// Fetch `len` bytes of the member's compressed data at `offset` into `file`, in pieces of
    /// at most [`FETCH_PIECE_MAX`] bytes.
    async fn fetch_into(
        &self,
        file: &CompressedFile,
        offset: u64,
        len: u64,
        fetched: &mut u64,
    ) -> Result<(), String> {
        let mut done = 0;
        while done < len {
            let piece = (len - done).min(FETCH_PIECE_MAX);
            let bytes = fetch(self.member, self.data_start + offset + done, piece, fetched).await?;
            if bytes.len() as u64 != piece {
                return Err(format!("{}: short range read", self.member.entry.name));
            }
            file.write_at(offset + done, &bytes)?;
            done += piece;
        }
        Ok(())
    }

    /// The start inflated up to the end of the dynamic section; the string table and version
    /// needs from there too, or from the decoded tail when patchelf has moved them to the end.
    async fn read_from_start(
        &mut self,
        layout: &sparse_elf::Layout,
        fetched: &mut u64,
    ) -> Result<Option<Option<ElfInfo>>, String> {
        let entry = self.member.entry;
        let (offset, size) = layout.dynamic.unwrap_or_default();
        let end = offset + size;
        // `.gnu.version_r` is read by a generous fixed length, which may reach past `end`.
        let Some(start) = self
            .prefix((end + sparse_elf::VERNEED_READ).min(entry.size), fetched)
            .await?
        else {
            return Ok(whole(entry, "the start did not inflate that far"));
        };
        let Some(dynamic) = start.known(offset, size).and_then(|b| Dynamic::parse(&b)) else {
            return Ok(whole(entry, "no valid dynamic section"));
        };
        let Some(wanted) = dynamic.wanted(layout, entry.size) else {
            return Ok(whole(entry, "no valid dynamic section"));
        };
        let mut pieces = Pieces::new(entry.size);
        let mut far = Vec::new();
        for (offset, len) in wanted {
            match start.known(offset, len) {
                Some(bytes) => pieces.add(offset, bytes),
                None => far.push((offset, len)),
            }
        }
        let Some(head) = start.known(0, (64 * 1024).min(end)) else {
            return Ok(whole(entry, "the start did not inflate that far"));
        };
        pieces.add(0, head);
        drop(start);
        if let (Some(from), Some(to)) = (
            far.iter().map(|(o, _)| *o).min(),
            far.iter().map(|(o, l)| o + l).max(),
        ) {
            let Some(tail) = self.tail_covering(from, to - from, fetched).await? else {
                return Ok(whole(entry, "the string table is not in the decoded tail"));
            };
            for (offset, len) in far {
                match tail.known(offset, len) {
                    Some(bytes) => pieces.add(offset, bytes),
                    None => return Ok(whole(entry, "the string table is not in the decoded tail")),
                }
            }
        }
        match sparse_elf::inspect(layout, &dynamic, &pieces) {
            Ok(info) => Ok(Some(Some(info))),
            Err(err) => Ok(whole(entry, &err.to_string())),
        }
    }

    /// Ranges near the start, inflated from the member's first byte up to the last of them.
    async fn prefix_pieces(
        &self,
        ranges: &[(u64, u64)],
        fetched: &mut u64,
    ) -> Result<Option<Vec<(u64, PieceBytes)>>, String> {
        let end = ranges.iter().map(|(o, l)| o + l).max().unwrap_or(0);
        let Some(start) = self.prefix(end, fetched).await? else {
            return Ok(None);
        };
        Ok(ranges
            .iter()
            .map(|&(o, l)| start.known(o, l).map(|bytes| (o, bytes)))
            .collect())
    }

    /// The member's first `end` (or a few more) bytes, inflated into a temporary file from the
    /// head already fetched and then pieces of at most [`FETCH_PIECE_MAX`] bytes, so memory
    /// stays small whatever `end` is. `None` if the member ends first.
    async fn prefix(&self, end: u64, fetched: &mut u64) -> Result<Option<Tail>, String> {
        let total = self.member.entry.compressed_size;
        let mut writer = PrefixWriter::new(end)?;
        if writer.feed(self.head)? {
            return writer.finish().map(Some);
        }
        let mut have = self.head.len() as u64;
        while have < total {
            let len = writer.next_piece().min(total - have);
            let already = self.prefetched.as_ref().and_then(|p| p.read(have, len));
            let piece = match already {
                Some(bytes) => bytes,
                None => fetch(self.member, self.data_start + have, len, fetched).await?,
            };
            if piece.is_empty() {
                break;
            }
            have += piece.len() as u64;
            if writer.feed(&piece)? {
                return writer.finish().map(Some);
            }
        }
        Ok(None)
    }
}

/// Inflates a member's start until `end` bytes are out.
struct PrefixWriter {
    inflater: flate2::Decompress,
    out: Spill,
    buffer: Vec<u8>,
    end: u64,
}

impl PrefixWriter {
    fn new(end: u64) -> Result<Self, String> {
        Ok(PrefixWriter {
            inflater: flate2::Decompress::new(false),
            out: Spill::new(IN_MEMORY_DECODED),
            buffer: vec![0; 1 << 16],
            end,
        })
    }

    /// Compressed bytes to fetch next: the rest at the ratio seen so far, plus a tenth.
    fn next_piece(&self) -> u64 {
        let (read, out) = (self.inflater.total_in(), self.inflater.total_out());
        let missing = self.end.saturating_sub(out) as f64;
        let ratio = read as f64 / out.max(1) as f64;
        ((missing * ratio * 1.1) as u64).clamp(FETCH_PIECE_MIN, FETCH_PIECE_MAX)
    }

    /// Inflate the next compressed bytes; `true` once `end` bytes are out.
    fn feed(&mut self, mut input: &[u8]) -> Result<bool, String> {
        while self.inflater.total_out() < self.end {
            let (before_in, before_out) = (self.inflater.total_in(), self.inflater.total_out());
            let status = self
                .inflater
                .decompress(input, &mut self.buffer, flate2::FlushDecompress::None)
                .map_err(|e| format!("the member does not inflate: {e}"))?;
            let consumed = (self.inflater.total_in() - before_in) as usize;
            let produced = (self.inflater.total_out() - before_out) as usize;
            self.out
                .write_all(&self.buffer[..produced])
                .map_err(|e| format!("cannot write a temporary file: {e}"))?;
            input = &input[consumed..];
            if status == flate2::Status::StreamEnd || (consumed == 0 && produced == 0) {
                break;
            }
        }
        Ok(self.inflater.total_out() >= self.end)
    }

    fn finish(self) -> Result<Tail, String> {
        Ok(Tail {
            start: 0,
            decoded: self.out,
            unknown: Vec::new(),
        })
    }
}

/// A member's compressed data, as far as fetched, in a temporary file at its own offsets (what
/// was not fetched is a hole): a tail of hundreds of megabytes is decoded without being held in
/// memory.
struct CompressedFile {
    file: std::fs::File,
    size: u64,
}

impl CompressedFile {
    fn new(size: u64) -> Result<Self, String> {
        let file =
            tempfile::tempfile().map_err(|e| format!("cannot make a temporary file: {e}"))?;
        Ok(CompressedFile { file, size })
    }

    fn write_at(&self, offset: u64, bytes: &[u8]) -> Result<(), String> {
        use std::os::unix::fs::FileExt;
        self.file
            .write_all_at(bytes, offset)
            .map_err(|e| format!("cannot write a temporary file: {e}"))
    }

    /// The data from `from` to the end, read a window at a time.
    fn window_from(&self, from: u64) -> FileWindow<'_> {
        FileWindow {
            file: self,
            from,
            buffer: Vec::new(),
            buffered_at: 0,
        }
    }
}

/// [`inflate::Window`] over a [`CompressedFile`] from an offset: reads twice the lookahead at
/// a time, so each refill serves many blocks.
struct FileWindow<'f> {
    file: &'f CompressedFile,
    from: u64,
    buffer: Vec<u8>,
    /// Where `buffer` starts, counted from `from`.
    buffered_at: usize,
}

impl inflate::Window for FileWindow<'_> {
    fn bytes_from(&mut self, at: usize) -> std::io::Result<(&[u8], bool)> {
        use std::os::unix::fs::FileExt;
        let lookahead = <dyn inflate::Window>::LOOKAHEAD;
        let available = (self.file.size - self.from) as usize;
        let at = at.min(available);
        let wanted_end = (at + lookahead).min(available);
        let buffered_end = self.buffered_at + self.buffer.len();
        if at < self.buffered_at || wanted_end > buffered_end || self.buffer.is_empty() {
            let len = (2 * lookahead).min(available - at);
            self.buffer.resize(len, 0);
            self.file
                .file
                .read_exact_at(&mut self.buffer, self.from + at as u64)?;
            self.buffered_at = at;
        }
        let end = self.buffered_at + self.buffer.len();
        Ok((&self.buffer[at - self.buffered_at..], end == available))
    }
}

/// Append the runs of `true` in `mask`, whose first byte is at `position`, to `runs` (joining
/// a run that continues the last).
fn add_unknown_runs(runs: &mut Vec<(u64, u64)>, position: u64, mask: &[bool]) {
    let mut i = 0;
    while let Some(found) = mask[i..].iter().position(|&unknown| unknown) {
        let run_start = i + found;
        let run_len = mask[run_start..].iter().take_while(|&&u| u).count();
        let at = position + run_start as u64;
        match runs.last_mut() {
            Some((start, len)) if *start + *len == at => *len += run_len as u64,
            _ => runs.push((at, run_len as u64)),
        }
        i = run_start + run_len;
    }
}

/// A member's tail (or start), decoded; unknown bytes are listed, not stored.
struct Tail {
    /// The offset in the member of the first decoded byte.
    start: u64,
    decoded: Spill,
    /// Runs of unknown bytes, (offset in the tail, length), in order.
    unknown: Vec<(u64, u64)>,
}

impl Tail {
    /// Find a block in the first part of `compressed` and decode from it to the end.
    fn decode(compressed: &mut FileWindow<'_>, size: u64) -> Result<Option<Tail>, String> {
        let first = compressed.bytes_from(0).map_err(|e| e.to_string())?.0;
        let search_end = (first.len() * 8).min(8 << 20);
        let Some(block) = inflate::find_block(first, 0, search_end) else {
            return Ok(None);
        };
        let mut out = Spill::new(IN_MEMORY_DECODED);
        let mut unknown: Vec<(u64, u64)> = Vec::new();
        let mut position = 0u64;
        let mut failed = None;
        let decoded = resume::decode(compressed, block, &mut |bytes, unknown_mask| {
            add_unknown_runs(&mut unknown, position, unknown_mask);
            position += bytes.len() as u64;
            if let Err(err) = out.write_all(bytes) {
                failed.get_or_insert(err);
            }
            failed.is_none()
        });
        if let Some(err) = failed {
            return Err(format!("cannot write a temporary file: {err}"));
        }
        let Ok(length) = decoded else {
            return Ok(None);
        };
        let Some(start) = size.checked_sub(length) else {
            return Ok(None);
        };
        Ok(Some(Tail {
            start,
            decoded: out,
            unknown,
        }))
    }

    /// `len` bytes at `offset` of the member, if decoded and all known: copied, or mapped when
    /// over [`MAP_OVER`] and in a file.
    fn known(&self, offset: u64, len: u64) -> Option<PieceBytes> {
        let from = offset.checked_sub(self.start)?;
        let overlaps = self
            .unknown
            .iter()
            .any(|&(at, run)| at < from.saturating_add(len) && from < at + run);
        if overlaps {
            return None;
        }
        self.decoded.piece(from, len, MAP_OVER)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(compressed_size: u64, method: u16) -> ZipEntry {
        ZipEntry {
            name: "lib.so".into(),
            method,
            crc32: 0,
            compressed_size,
            size: 3 * compressed_size,
            local_header_offset: 0,
        }
    }

    fn tail_of(bytes: &[u8], start: u64, unknown: Vec<(u64, u64)>) -> Tail {
        let mut decoded = Spill::new(0);
        decoded.write_all(bytes).unwrap();
        Tail {
            start,
            decoded,
            unknown,
        }
    }

    #[test]
    fn long_known_pieces_are_mapped_and_short_ones_copied() {
        let bytes: Vec<u8> = (0..(MAP_OVER as usize + 4096)).map(|i| i as u8).collect();
        let tail = tail_of(&bytes, 1000, vec![(MAP_OVER + 100, 10)]);
        let long = tail.known(1000, MAP_OVER + 50).expect("known");
        assert!(matches!(long, PieceBytes::Mapped { .. }));
        assert_eq!(&long[..], &bytes[..MAP_OVER as usize + 50]);
        let short = tail.known(1010, 20).expect("known");
        assert!(matches!(short, PieceBytes::Owned(_)));
        assert_eq!(&short[..], &bytes[10..30]);
        assert!(
            tail.known(1000, MAP_OVER + 200).is_none(),
            "an unknown run inside"
        );
        assert!(tail.known(999, 10).is_none(), "before the tail");
        assert!(
            tail.known(1000, bytes.len() as u64 + 1).is_none(),
            "past its end"
        );
    }

    #[test]
    fn unknown_runs_are_joined_across_chunks() {
        let mut runs = Vec::new();
        add_unknown_runs(&mut runs, 0, &[false, true, true, false, true]);
        add_unknown_runs(&mut runs, 5, &[true, false, false]);
        add_unknown_runs(&mut runs, 8, &[]);
        add_unknown_runs(&mut runs, 8, &[false, false, true]);
        assert_eq!(runs, [(1, 2), (4, 2), (10, 1)]);
    }

    #[test]
    fn the_speculative_tail_is_a_share_of_the_member_within_bounds() {
        let mut entry = member(1 << 20, 8);
        entry.local_header_offset = 5000;
        // Data taken to start after the 30-byte header and the name; the range reaches the
        // slack past the end the name alone gives.
        let data_end = 5000 + 30 + entry.name.len() as u64 + (1 << 20);
        let guess = SpeculativeTail::guess(&entry, 1 << 30, false);
        assert_eq!(guess.start, data_end - SPECULATIVE_TAIL_MIN);
        assert_eq!(guess.len, SPECULATIVE_TAIL_MIN + LOCAL_EXTRA_SLACK);
        let huge = member(1 << 30, 8);
        assert_eq!(
            SpeculativeTail::guess(&huge, 1 << 32, false).len,
            SPECULATIVE_TAIL_MAX + LOCAL_EXTRA_SLACK
        );
        let mid = member(10 << 20, 8);
        let share = (mid.compressed_size as f64 * SPECULATIVE_TAIL_SHARE) as u64;
        assert_eq!(
            SpeculativeTail::guess(&mid, 1 << 32, false).len,
            share + LOCAL_EXTRA_SLACK
        );
        let at_the_end = SpeculativeTail::guess(&entry, data_end, false);
        assert_eq!(
            at_the_end.start + at_the_end.len,
            data_end,
            "not past the file"
        );
    }

    #[test]
    fn a_slow_file_s_member_under_1_mib_is_fetched_whole_and_a_larger_one_s_tail_is_longer() {
        let mut small = member(FETCH_WHOLE_BELOW_SLOW - 1, 8);
        small.local_header_offset = 5000;
        let data_end = 5000 + 30 + small.name.len() as u64 + small.compressed_size;
        let guess = SpeculativeTail::guess(&small, 1 << 30, true);
        assert_eq!(
            guess.start,
            5000 + HEAD_REQUEST,
            "where the first request ends"
        );
        assert_eq!(guess.start + guess.len, data_end + LOCAL_EXTRA_SLACK);
        assert_eq!(
            guess.decode_len, SPECULATIVE_TAIL_MIN,
            "decoded from the share"
        );
        let quick = SpeculativeTail::guess(&small, 1 << 30, false);
        assert_eq!(quick.start, data_end - SPECULATIVE_TAIL_MIN);
        let large = member(FETCH_WHOLE_BELOW_SLOW, 8);
        let guess = SpeculativeTail::guess(&large, 1 << 30, true);
        assert_eq!(guess.len, SPECULATIVE_TAIL_MIN_SLOW + LOCAL_EXTRA_SLACK);
        assert_eq!(guess.decode_len, SPECULATIVE_TAIL_MIN);
        let huge = member(1 << 30, 8);
        assert_eq!(
            SpeculativeTail::guess(&huge, 1 << 32, true).len,
            SPECULATIVE_TAIL_MAX + LOCAL_EXTRA_SLACK,
            "the share, when larger"
        );
    }

    #[test]
    fn a_tail_that_meets_the_head_makes_the_whole_member_known() {
        let entry = member(600 << 10, 8);
        let guess = SpeculativeTail::guess(&entry, 1 << 30, true);
        let data: Vec<u8> = (0..entry.compressed_size)
            .map(|i| (i % 251) as u8)
            .collect();
        let data_start = 30 + entry.name.len() as u64 + 12;
        let head = &data[..(HEAD_REQUEST - data_start) as usize];
        let tail = &data[(guess.start - data_start) as usize..];
        let mut fetched = tail.to_vec();
        fetched.extend([0u8; 12]);
        let placed = guess
            .place(&fetched, head, data_start, &entry)
            .unwrap()
            .expect("placed");
        assert_eq!(placed.from, 0, "all of the member");
        assert_eq!(placed.decode_from, entry.compressed_size - guess.decode_len);
        assert_eq!(placed.read(0, entry.compressed_size).unwrap(), data);
        let apart = SpeculativeTail::guess(&entry, 1 << 30, false);
        let tail = &data[(apart.start - data_start) as usize..];
        let placed = apart
            .place(tail, head, data_start, &entry)
            .unwrap()
            .expect("placed");
        assert_eq!(placed.from, apart.start - data_start, "a hole between");
        assert!(placed.read(0, 10).is_none());
        assert_eq!(placed.read(placed.from, 10).unwrap(), tail[..10]);
    }

    #[test]
    fn the_speculative_tail_is_placed_once_the_extra_field_is_known() {
        use std::os::unix::fs::FileExt;
        let entry = member(1 << 20, 8);
        let guess = SpeculativeTail::guess(&entry, 1 << 30, false);
        let bytes: Vec<u8> = (0..guess.len).map(|i| i as u8).collect();
        let no_extra = 30 + entry.name.len() as u64;
        for extra in [0, 28, LOCAL_EXTRA_SLACK] {
            let data_start = no_extra + extra;
            let placed = guess
                .place(&bytes, &[], data_start, &entry)
                .unwrap()
                .expect("within the slack");
            assert_eq!(placed.from, guess.start - data_start);
            let mut last = [0u8; 4];
            placed
                .file
                .file
                .read_exact_at(&mut last, entry.compressed_size - 4)
                .unwrap();
            let end_in_bytes = (data_start + entry.compressed_size - guess.start) as usize;
            assert_eq!(last, bytes[end_in_bytes - 4..end_in_bytes], "extra {extra}");
        }
        let too_long = no_extra + LOCAL_EXTRA_SLACK + 1;
        assert!(
            guess
                .place(&bytes, &[], too_long, &entry)
                .unwrap()
                .is_none()
        );
        let short = &bytes[..bytes.len() - 2000];
        assert!(guess.place(short, &[], no_extra, &entry).unwrap().is_none());
    }

    #[test]
    fn deflated_members_from_the_threshold_are_read_sparsely() {
        assert!(may_read(&member(MIN_SPARSE_COMPRESSED, 8)));
        assert!(!may_read(&member(MIN_SPARSE_COMPRESSED - 1, 8)));
        assert!(!may_read(&member(MIN_SPARSE_COMPRESSED, 0)), "stored");
    }
}
