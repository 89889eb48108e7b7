//! Reading the parts of a remote wheel we need — the central directory and one member — with
//! HTTP range requests, never the whole file.
//!
//! The first request asks for the last 64 KiB. For most wheels that already holds the end record,
//! the whole central directory and the `.dist-info` files, which packers write last; otherwise a
//! second request fetches the rest of the directory and a third the member.

use std::ops::Range;

use url::Url;

use super::http::{FetchError, HttpClient};
use crate::inspect::zipdir::{self, TailInfo, ZipEntry};

const TAIL_LEN: u64 = 64 * 1024;
/// Core metadata files are small; a larger one is hostile or broken.
const MAX_METADATA_LEN: u64 = 16 << 20;

#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("{url}: {message}")]
    Archive { url: String, message: String },
}

/// The bytes of one file we hold: a set of ranges fetched so far.
struct Fetched<'a> {
    http: &'a HttpClient,
    url: &'a Url,
    total: u64,
    chunks: Vec<(u64, Vec<u8>)>,
}

impl<'a> Fetched<'a> {
    /// Start with the tail of the file (the whole file, when the server ignores ranges).
    async fn tail(
        http: &'a HttpClient,
        url: &'a Url,
        size: Option<u64>,
    ) -> Result<Self, RemoteError> {
        let (start, tail, total) = match size {
            Some(total) => {
                let start = total.saturating_sub(TAIL_LEN);
                let (start, tail) = http.get_range(url, start..total, total).await?;
                (start, tail, total)
            }
            None => http.get_suffix(url, TAIL_LEN).await?,
        };
        Ok(Fetched {
            http,
            url,
            total,
            chunks: vec![(start, tail)],
        })
    }

    /// The bytes of `range` (cut at the end of the file), fetching whatever part we do not hold
    /// yet.
    async fn bytes(&mut self, range: Range<u64>) -> Result<&[u8], RemoteError> {
        let range = range.start..range.end.min(self.total);
        if range.start > range.end {
            return Err(self.archive_error(format!(
                "the archive points at byte {}, past the end of the {}-byte file",
                range.start, self.total
            )));
        }
        if self.covering(&range).is_none() {
            let missing = self.missing_part(&range);
            let (start, data) = self
                .http
                .get_range(self.url, missing.clone(), self.total)
                .await?;
            self.insert(start, data);
        }
        let Some((start, chunk)) = self.covering(&range) else {
            return Err(self.archive_error(format!(
                "bytes {}..{} were not in the answers",
                range.start, range.end
            )));
        };
        let from = (range.start - start) as usize;
        Ok(&chunk[from..from + (range.end - range.start) as usize])
    }

    fn covering(&self, range: &Range<u64>) -> Option<(u64, &Vec<u8>)> {
        self.chunks
            .iter()
            .find(|(start, data)| *start <= range.start && start + data.len() as u64 >= range.end)
            .map(|(start, data)| (*start, data))
    }

    /// What to fetch so that `range` becomes one chunk: from its start up to the chunk after it
    /// (so the two merge), or its end.
    fn missing_part(&self, range: &Range<u64>) -> Range<u64> {
        let next_chunk = self
            .chunks
            .iter()
            .map(|(start, _)| *start)
            .filter(|start| *start > range.start && *start <= range.end)
            .min();
        range.start..next_chunk.unwrap_or(range.end)
    }

    fn insert(&mut self, start: u64, data: Vec<u8>) {
        let end = start + data.len() as u64;
        if let Some(pos) = self.chunks.iter().position(|(s, _)| *s == end) {
            let (_, next) = self.chunks.remove(pos);
            let mut merged = data;
            merged.extend_from_slice(&next);
            self.chunks.push((start, merged));
        } else {
            self.chunks.push((start, data));
        }
    }

    fn archive_error(&self, message: impl Into<String>) -> RemoteError {
        RemoteError::Archive {
            url: super::http::redact(self.url),
            message: message.into(),
        }
    }
}

/// The central directory of a remote wheel and its `.dist-info/METADATA`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct WheelHead {
    pub size: u64,
    pub entries: Vec<ZipEntry>,
    pub metadata: Vec<u8>,
}

/// A remote wheel's central directory, with the bytes fetched to find it: the `.dist-info`
/// files are usually among them, so reading `METADATA` next costs no request.
#[derive(Debug, Clone)]
pub struct WheelDirectory {
    pub size: u64,
    pub entries: Vec<ZipEntry>,
    chunks: Vec<(u64, Vec<u8>)>,
}

impl WheelDirectory {
    /// A directory known without its bytes (from a cached head): reading a member fetches it.
    pub fn known(size: u64, entries: Vec<ZipEntry>) -> Self {
        WheelDirectory {
            size,
            entries,
            chunks: Vec::new(),
        }
    }
}

pub async fn read_wheel_directory(
    http: &HttpClient,
    url: &Url,
    size: Option<u64>,
) -> Result<WheelDirectory, RemoteError> {
    let mut file = Fetched::tail(http, url, size).await?;
    let entries = read_directory(&mut file).await?;
    Ok(WheelDirectory {
        size: file.total,
        entries,
        chunks: file.chunks,
    })
}

/// The wheel's `.dist-info/METADATA`, from the bytes fetched with its directory or by one
/// more range request.
pub async fn read_wheel_metadata(
    http: &HttpClient,
    url: &Url,
    directory: &WheelDirectory,
) -> Result<WheelHead, RemoteError> {
    let mut file = Fetched {
        http,
        url,
        total: directory.size,
        chunks: directory.chunks.clone(),
    };
    let metadata_entry = find_metadata(&directory.entries)
        .map_err(|m| file.archive_error(m))?
        .clone();
    let metadata = read_member(&mut file, &metadata_entry, MAX_METADATA_LEN).await?;
    Ok(WheelHead {
        size: directory.size,
        entries: directory.entries.clone(),
        metadata,
    })
}

async fn read_directory(file: &mut Fetched<'_>) -> Result<Vec<ZipEntry>, RemoteError> {
    let (tail_start, tail) = file.chunks[0].clone();
    let location = match zipdir::locate_directory(&tail, file.total) {
        Ok(TailInfo::Found(location)) => location,
        Ok(TailInfo::NeedZip64Record { offset }) => {
            let record = file.bytes(offset..offset + 56).await?.to_vec();
            zipdir::parse_zip64_record(&record, tail_start).map_err(|e| file.archive_error(e.0))?
        }
        Err(err) => return Err(file.archive_error(err.0)),
    };
    let directory = file
        .bytes(location.offset..location.offset + location.size)
        .await?
        .to_vec();
    zipdir::parse_directory(&directory, &location).map_err(|e| file.archive_error(e.0))
}

async fn read_member(
    file: &mut Fetched<'_>,
    entry: &ZipEntry,
    limit: u64,
) -> Result<Vec<u8>, RemoteError> {
    let start = entry.local_header_offset;
    let local = file.bytes(start..start + entry.span_estimate()).await?;
    zipdir::extract(entry, local, limit).map_err(|e| RemoteError::Archive {
        url: super::http::redact(file.url),
        message: e.0,
    })
}

/// pip's rule: exactly one top-level `*.dist-info` directory, holding `METADATA`.
pub fn find_metadata(entries: &[ZipEntry]) -> Result<&ZipEntry, String> {
    let mut dist_info_dirs: Vec<&str> = entries
        .iter()
        .filter_map(|e| e.name.split('/').next())
        .filter(|top| top.ends_with(".dist-info"))
        .collect();
    dist_info_dirs.sort_unstable();
    dist_info_dirs.dedup();
    match dist_info_dirs.as_slice() {
        [] => Err("no .dist-info directory: not a valid wheel".into()),
        [dir] => {
            let wanted = format!("{dir}/METADATA");
            entries
                .iter()
                .find(|e| e.name == wanted)
                .ok_or_else(|| format!("{dir} has no METADATA file"))
        }
        many => Err(format!(
            "more than one .dist-info directory: {}",
            many.join(", ")
        )),
    }
}

/// What [`stream_members`] hands its sink, member by member in file order.
pub enum MemberChunk<'a> {
    /// More of the member's uncompressed bytes; the sink returns `false` to want no more of it.
    Bytes(&'a [u8]),
    /// The member is over: `complete` when the sink saw all of it (and its size and CRC were
    /// checked), `false` when the sink stopped it.
    End { complete: bool },
}

/// Stream the uncompressed bytes of `members` (in file order, as a zip lays them out) into
/// `sink`, with one range request from the first one's local header to the last one's end: a
/// wheel's shared objects usually sit together, and one request instead of one per member
/// saves a round trip per member (the latency of some files is 60 ms here). Nothing is held in
/// memory but the current chunk; a member may not inflate to more than its declared size (a
/// zip bomb's declared size is checked by the caller). Returns the bytes downloaded.
pub async fn stream_members(
    http: &HttpClient,
    url: &Url,
    total: u64,
    members: &[&ZipEntry],
    mut sink: impl FnMut(usize, MemberChunk<'_>) -> bool,
) -> Result<u64, RemoteError> {
    let (Some(first), Some(last)) = (members.first(), members.last()) else {
        return Ok(0);
    };
    let archive_error = |message: String| RemoteError::Archive {
        url: super::http::redact(url),
        message,
    };
    let start = first.local_header_offset;
    let end = (last.local_header_offset + last.span_estimate()).min(total);
    let (response, mut skip) = http.range_stream(url, start..end, total).await?;
    let mut body = response.bytes_stream();
    let mut walk = SpanWalk::new(members, start);
    let mut fetched = 0u64;
    // What the range covers; a server that ignored the range sends the file from its start, and
    // nothing past the range is ever read.
    let mut wanted = end.saturating_sub(start);
    use futures::StreamExt;
    while wanted > 0 && !walk.finished() {
        let next = tokio::time::timeout_at(http.deadline(), body.next())
            .await
            .map_err(|_| http.deadline_error(url))?;
        let Some(chunk) = next else { break };
        let chunk = chunk.map_err(|e| http.stream_error(url, &e))?;
        http.count_bytes(chunk.len());
        fetched += chunk.len() as u64;
        let skipped = (skip as usize).min(chunk.len());
        skip -= skipped as u64;
        let data = &chunk[skipped..];
        let data = &data[..data.len().min(wanted as usize)];
        wanted -= data.len() as u64;
        walk.feed(data, &mut sink).map_err(archive_error)?;
    }
    walk.finish().map_err(archive_error)?;
    Ok(fetched)
}

/// Where [`stream_members`] is in its range: before a member's local header, in it, in its
/// data, or skipping the rest of a member the sink no longer wants.
struct SpanWalk<'e> {
    members: &'e [&'e ZipEntry],
    /// The member being read, and the file offset of the next byte.
    at: usize,
    offset: u64,
    state: SpanState<'e>,
}

enum SpanState<'e> {
    Seek,
    Header(Vec<u8>),
    Data(Box<Inflater<'e>>),
    Skip(u64),
}

impl<'e> SpanWalk<'e> {
    fn new(members: &'e [&'e ZipEntry], offset: u64) -> Self {
        SpanWalk {
            members,
            at: 0,
            offset,
            state: SpanState::Seek,
        }
    }

    /// Every member read, or the last one stopped by the sink (the rest of it is not needed).
    fn finished(&self) -> bool {
        let stopped_last =
            self.at + 1 == self.members.len() && matches!(self.state, SpanState::Skip(_));
        self.at == self.members.len() || stopped_last
    }

    fn feed(
        &mut self,
        mut data: &[u8],
        sink: &mut impl FnMut(usize, MemberChunk<'_>) -> bool,
    ) -> Result<(), String> {
        while !data.is_empty() && !self.finished() {
            let entry = self.members[self.at];
            let used = match &mut self.state {
                SpanState::Seek => {
                    let gap = entry.local_header_offset.saturating_sub(self.offset);
                    if gap == 0 {
                        self.state = SpanState::Header(Vec::new());
                    }
                    gap.min(data.len() as u64) as usize
                }
                SpanState::Header(header) => {
                    let needed = match header_length(header, entry)? {
                        Some(len) => len,
                        None if header.len() < zipdir::LOCAL_HEADER_LEN => zipdir::LOCAL_HEADER_LEN,
                        None => zipdir::data_offset(header)
                            .map_err(|e| format!("member {}: {e}", entry.name))?,
                    };
                    let take = (needed - header.len()).min(data.len());
                    header.extend_from_slice(&data[..take]);
                    if header.len() == needed && header_length(header, entry)?.is_some() {
                        self.state = SpanState::Data(Box::new(Inflater::new(entry)));
                    }
                    take
                }
                SpanState::Data(inflater) => {
                    let left = entry.compressed_size - inflater.consumed;
                    let take = left.min(data.len() as u64) as usize;
                    let at = self.at;
                    let more =
                        inflater.feed(&data[..take], &mut |b| sink(at, MemberChunk::Bytes(b)))?;
                    let left = entry.compressed_size - inflater.consumed;
                    if !more {
                        sink(at, MemberChunk::End { complete: false });
                        self.state = SpanState::Skip(left);
                    } else if left == 0 {
                        inflater.finish()?;
                        sink(at, MemberChunk::End { complete: true });
                        self.next_member();
                    }
                    take
                }
                SpanState::Skip(left) => {
                    let take = (*left).min(data.len() as u64);
                    *left -= take;
                    if *left == 0 {
                        self.next_member();
                    }
                    take as usize
                }
            };
            self.offset += used as u64;
            data = &data[used..];
            if let SpanState::Skip(0) = self.state {
                self.next_member();
            }
        }
        Ok(())
    }

    fn next_member(&mut self) {
        self.at += 1;
        self.state = SpanState::Seek;
    }

    /// The stream ended: every member must have been read or stopped by the sink.
    fn finish(&self) -> Result<(), String> {
        if self.finished() {
            return Ok(());
        }
        match (self.members.get(self.at), &self.state) {
            (None, _) => Ok(()),
            (Some(_), SpanState::Data(inflater)) => inflater.finish(),
            (Some(entry), _) => Err(format!("member {} is cut off", entry.name)),
        }
    }
}

/// The length of a local header once enough of it has arrived.
fn header_length(header: &[u8], entry: &ZipEntry) -> Result<Option<usize>, String> {
    if header.len() < zipdir::LOCAL_HEADER_LEN {
        return Ok(None);
    }
    let offset = zipdir::data_offset(header).map_err(|e| format!("member {}: {e}", entry.name))?;
    Ok((header.len() >= offset).then_some(offset))
}

/// Incremental inflation of one member with its size and CRC checked.
struct Inflater<'e> {
    entry: &'e ZipEntry,
    decompress: flate2::Decompress,
    consumed: u64,
    produced: u64,
    crc: flate2::Crc,
    done: bool,
    out: Vec<u8>,
}

impl<'e> Inflater<'e> {
    fn new(entry: &'e ZipEntry) -> Self {
        Inflater {
            entry,
            decompress: flate2::Decompress::new(false),
            consumed: 0,
            produced: 0,
            crc: flate2::Crc::new(),
            done: false,
            out: vec![0u8; 64 * 1024],
        }
    }

    /// Feed compressed bytes; `Ok(false)` when the sink asked to stop.
    fn feed(
        &mut self,
        mut input: &[u8],
        sink: &mut impl FnMut(&[u8]) -> bool,
    ) -> Result<bool, String> {
        let remaining = self.entry.compressed_size.saturating_sub(self.consumed);
        input = &input[..input.len().min(remaining as usize)];
        self.consumed += input.len() as u64;
        if self.entry.method == 0 {
            return self.emit(input, sink);
        }
        if self.entry.method != 8 {
            return Err(format!(
                "member {} uses compression method {}",
                self.entry.name, self.entry.method
            ));
        }
        let mut out = std::mem::take(&mut self.out);
        let result = self.inflate(input, &mut out, sink);
        self.out = out;
        result
    }

    fn inflate(
        &mut self,
        mut input: &[u8],
        out: &mut [u8],
        sink: &mut impl FnMut(&[u8]) -> bool,
    ) -> Result<bool, String> {
        // Loop while there is input, and also while the output buffer comes back full: the
        // inflater may still hold output for input it has already consumed.
        while !self.done {
            let before_in = self.decompress.total_in();
            let before_out = self.decompress.total_out();
            let status = self
                .decompress
                .decompress(input, out, flate2::FlushDecompress::None)
                .map_err(|e| format!("member {} does not inflate: {e}", self.entry.name))?;
            let used = (self.decompress.total_in() - before_in) as usize;
            let made = (self.decompress.total_out() - before_out) as usize;
            input = &input[used..];
            self.done = status == flate2::Status::StreamEnd;
            if !self.emit(&out[..made], sink)? {
                return Ok(false);
            }
            let stalled = used == 0 && made == 0;
            if stalled || (input.is_empty() && made < out.len()) {
                break;
            }
        }
        Ok(true)
    }

    fn emit(&mut self, data: &[u8], sink: &mut impl FnMut(&[u8]) -> bool) -> Result<bool, String> {
        self.produced += data.len() as u64;
        if self.produced > self.entry.size {
            return Err(format!(
                "member {} inflates past the {} bytes its header declares",
                self.entry.name, self.entry.size
            ));
        }
        self.crc.update(data);
        Ok(data.is_empty() || sink(data))
    }

    fn finish(&self) -> Result<(), String> {
        if self.produced != self.entry.size {
            return Err(format!(
                "member {} is cut off: {} of {} bytes",
                self.entry.name, self.produced, self.entry.size
            ));
        }
        if self.crc.sum() != self.entry.crc32 {
            return Err(format!("member {} fails its CRC check", self.entry.name));
        }
        Ok(())
    }
}

/// The sha256 of a whole file of `total` bytes, streamed (never held in memory). Fails when the
/// server sends more or fewer bytes than `total`.
pub async fn sha256_of(http: &HttpClient, url: &Url, total: u64) -> Result<String, RemoteError> {
    use futures::StreamExt;
    use sha2::Digest;
    let (response, _) = http.range_stream(url, 0..total, total).await?;
    let mut body = response.bytes_stream();
    let mut hasher = sha2::Sha256::new();
    let mut read = 0u64;
    while let Some(chunk) = tokio::time::timeout_at(http.deadline(), body.next())
        .await
        .map_err(|_| http.deadline_error(url))?
    {
        let chunk = chunk.map_err(|e| http.stream_error(url, &e))?;
        http.count_bytes(chunk.len());
        read += chunk.len() as u64;
        if read > total {
            break;
        }
        hasher.update(&chunk);
    }
    if read != total {
        return Err(RemoteError::Archive {
            url: super::http::redact(url),
            message: format!("the index gives its size as {total} bytes; the server sent {read}"),
        });
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip(members: &[(&str, &[u8], zip::CompressionMethod)]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, data, method) in members {
            let options = zip::write::SimpleFileOptions::default().compression_method(*method);
            writer.start_file(*name, options).unwrap();
            writer.write_all(data).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    /// What a span walk over `members` gives each of them, fed `chunk` bytes at a time from the
    /// first one's local header; the sink stops member `stop` after its first bytes.
    fn walk(archive: &[u8], names: &[&str], chunk: usize, stop: usize) -> Vec<(Vec<u8>, bool)> {
        let entries = zipdir::read_directory_in_memory(archive).unwrap();
        let members: Vec<&ZipEntry> = names
            .iter()
            .map(|n| entries.iter().find(|e| e.name == *n).unwrap())
            .collect();
        let start = members[0].local_header_offset as usize;
        let mut got = vec![(Vec::new(), false); members.len()];
        let mut span = SpanWalk::new(&members, start as u64);
        for piece in archive[start..].chunks(chunk) {
            span.feed(piece, &mut |at, event| match event {
                MemberChunk::Bytes(bytes) => {
                    got[at].0.extend_from_slice(bytes);
                    at != stop
                }
                MemberChunk::End { complete } => {
                    got[at].1 = complete;
                    true
                }
            })
            .unwrap();
            if span.finished() {
                break;
            }
        }
        span.finish().unwrap();
        got
    }

    #[test]
    fn a_span_walk_gives_each_member_whole_however_the_bytes_arrive() {
        let text: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let archive = zip(&[
            ("a.so", &text[..300_000], zip::CompressionMethod::Deflated),
            (
                "skip.py",
                b"print('between')",
                zip::CompressionMethod::Deflated,
            ),
            ("b.so", &text[..5_000], zip::CompressionMethod::Stored),
            ("c.so", &text[100..90_000], zip::CompressionMethod::Deflated),
        ]);
        for chunk in [1, 7, 4096, usize::MAX] {
            let got = walk(
                &archive,
                &["a.so", "b.so", "c.so"],
                chunk.min(archive.len()),
                9,
            );
            assert_eq!(got[0], (text[..300_000].to_vec(), true), "chunk {chunk}");
            assert_eq!(got[1], (text[..5_000].to_vec(), true), "chunk {chunk}");
            assert_eq!(got[2], (text[100..90_000].to_vec(), true), "chunk {chunk}");
        }
        // A member the sink stops is skipped; the next one is still read whole.
        let got = walk(&archive, &["a.so", "b.so", "c.so"], 4096, 0);
        assert!(!got[0].1 && got[0].0.len() < 300_000);
        assert_eq!(got[2], (text[100..90_000].to_vec(), true));
        // The last member stopped: the walk is over without the rest of it.
        let got = walk(&archive, &["a.so", "c.so"], 4096, 1);
        assert_eq!(got[0], (text[..300_000].to_vec(), true));
        assert!(!got[1].1);
    }

    #[test]
    fn a_span_cut_short_is_an_error_naming_the_member() {
        let text = vec![7u8; 50_000];
        let archive = zip(&[
            ("a.so", &text, zip::CompressionMethod::Deflated),
            ("b.so", &text, zip::CompressionMethod::Stored),
        ]);
        let entries = zipdir::read_directory_in_memory(&archive).unwrap();
        let members: Vec<&ZipEntry> = entries.iter().collect();
        let mut span = SpanWalk::new(&members, 0);
        let cut = members[1].local_header_offset as usize + 100;
        span.feed(&archive[..cut], &mut |_, _| true).unwrap();
        assert_eq!(
            span.finish(),
            Err("member b.so is cut off: 66 of 50000 bytes".to_string())
        );
    }
}
