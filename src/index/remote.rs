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
    /// Start with the tail of the file.
    async fn tail(
        http: &'a HttpClient,
        url: &'a Url,
        size: Option<u64>,
    ) -> Result<Self, RemoteError> {
        let (tail, total) = match size {
            Some(total) => {
                let start = total.saturating_sub(TAIL_LEN);
                (http.get_range(url, start..total, total).await?, total)
            }
            None => http.get_suffix(url, TAIL_LEN).await?,
        };
        Ok(Fetched {
            http,
            url,
            total,
            chunks: vec![(total - tail.len() as u64, tail)],
        })
    }

    /// The bytes of `range`, fetching whatever part we do not hold yet.
    async fn bytes(&mut self, range: Range<u64>) -> Result<&[u8], RemoteError> {
        let range = range.start..range.end.min(self.total);
        if self.covering(&range).is_none() {
            let missing = self.missing_part(&range);
            let data = self
                .http
                .get_range(self.url, missing.clone(), self.total)
                .await?;
            self.insert(missing.start, data);
        }
        let (start, chunk) = self.covering(&range).expect("just fetched");
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

pub async fn read_wheel_head(
    http: &HttpClient,
    url: &Url,
    size: Option<u64>,
) -> Result<WheelHead, RemoteError> {
    let mut file = Fetched::tail(http, url, size).await?;
    let entries = read_directory(&mut file).await?;
    let metadata_entry = find_metadata(&entries)
        .map_err(|m| file.archive_error(m))?
        .clone();
    let metadata = read_member(&mut file, &metadata_entry, MAX_METADATA_LEN).await?;
    Ok(WheelHead {
        size: file.total,
        entries,
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
