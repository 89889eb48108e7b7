//! Talking to package indexes: project pages, wheel metadata by range requests, sdists; each
//! fetched once per run (in memory) and kept on disk between runs.
//!
//! What is checked against the index's hashes and sizes:
//! - **sdists** are downloaded whole, so their sha256 is compared with the index's (or the
//!   `#sha256=` of a direct URL) and a file that differs is rejected: nothing read from it is
//!   used or cached.
//! - **PEP 658 metadata files** are compared with the index's `core-metadata` sha256.
//! - **wheels read by range** cannot have their whole-file sha256 checked without downloading
//!   them, which is what range reads avoid. What is checked instead: the file's size (every
//!   `Content-Range` must give the size the index lists, or the first answer gave), the zip
//!   structure, and the size and CRC-32 of every member read (`METADATA`, ELF files). A server
//!   that sends a different wheel of the same size and valid structure is not detected; with
//!   `--require-hashes`, the index's sha256 is what is compared with the `--hash` options.
//!   `--verify-hashes` closes that gap at the cost of the download: every chosen wheel is
//!   streamed whole through sha256 (once; the match is cached by the hash), and a wheel that
//!   differs, or that the index gives no sha256 for, makes its targets "could not check".
//! - **local wheels and sdists** (`file:` URLs, `--find-links` directories) are read whole and
//!   checked against a `#sha256=` when one is given.
//!
//! A page that does not parse is not cached, so the next run asks the index again.

pub mod activity;
pub mod cache;
pub mod dns;
pub mod http;
pub mod remote;
pub mod simple;

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use pep508_rs::PackageName;
use sha2::Digest;
use tokio::sync::OnceCell;
use url::Url;

use crate::inspect::analysis::{self, WheelAnalysis};
use crate::inspect::sdist::{self, SdistFiles};
use crate::inspect::sdist_tail;
use activity::Activity;
use cache::Cache;
use http::{FetchError, HttpClient, redact};
use remote::{RemoteError, WheelDirectory, WheelHead};
pub use simple::IndexFile;

/// How much of a large sdist's end is read, in turn, before downloading it whole: matplotlib's
/// last 1 MiB holds its PKG-INFO and pyproject.toml.
const SDIST_TAIL_READS: [u64; 2] = [1 << 20, 4 << 20];

/// A file of a project page with its name parsed: done once per run, shared by every target's
/// resolution (parsing file names was the largest cost of resolving from a warm cache).
#[derive(Debug, Clone)]
pub struct ProjectFile {
    pub file: Arc<IndexFile>,
    pub dist: crate::filename::DistFilename,
    /// Which of the page's distinct tag sets a wheel carries (the same number for the same
    /// tags): a project's thousands of wheels carry a few dozen, and a target ranks each once.
    /// [`NO_TAGS`] for an sdist.
    pub tag_set: u32,
}

/// [`ProjectFile::tag_set`] of a file without tags (an sdist).
pub const NO_TAGS: u32 = u32::MAX;

impl ProjectFile {
    /// The files pip would consider: those whose names parse as this project's wheel or sdist.
    pub fn parse_all(name: &PackageName, files: Vec<IndexFile>) -> Vec<ProjectFile> {
        let mut names = crate::filename::PageNames::new(name);
        let mut parsed = Vec::with_capacity(files.len());
        for file in files {
            if let Some((dist, tag_set)) = names.parse(&file.filename) {
                parsed.push(ProjectFile {
                    file: Arc::new(file),
                    dist,
                    tag_set: tag_set.unwrap_or(NO_TAGS),
                });
            }
        }
        parsed
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum IndexError {
    #[error("no project named `{name}` on {indexes}{asked_at}")]
    NoSuchProject {
        name: String,
        indexes: String,
        /// ` (asked for at requirements.txt:3)` when the user's file names it, else empty.
        asked_at: String,
    },
    #[error("{0}")]
    Failed(String),
}

impl From<FetchError> for IndexError {
    fn from(err: FetchError) -> Self {
        IndexError::Failed(err.to_string())
    }
}

impl From<RemoteError> for IndexError {
    fn from(err: RemoteError) -> Self {
        IndexError::Failed(err.to_string())
    }
}

pub type Shared<T> = Result<Arc<T>, IndexError>;

/// A wheel's sizes and the base names of its files (see [`Index::wheel_summary`]).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct WheelSummary {
    /// The wheel file's size.
    pub size: u64,
    /// The sum of its members' uncompressed sizes.
    pub installed: u64,
    /// Each member's name after its last `/`.
    pub names: Vec<String>,
}

/// A member's name after its last `/`.
fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Where packages come from: index URLs (the first is `--index-url`), `--find-links` locations.
#[derive(Debug, Clone)]
pub struct Sources {
    pub indexes: Vec<Url>,
    pub find_links: Vec<String>,
}

/// One result per key, computed once even when several targets ask at the same time.
struct Memo<K, V> {
    cells: Mutex<HashMap<K, Arc<OnceCell<V>>>>,
}

impl<K: Eq + Hash + Clone, V: Clone> Memo<K, V> {
    fn new() -> Self {
        Memo {
            cells: Mutex::new(HashMap::new()),
        }
    }

    async fn get<F: Future<Output = V>>(&self, key: &K, compute: impl FnOnce() -> F) -> V {
        let cell = {
            let mut cells = self.cells.lock().expect("memo lock");
            cells.entry(key.clone()).or_default().clone()
        };
        cell.get_or_init(compute).await.clone()
    }

    /// Whether `key`'s value has been computed.
    fn is_ready(&self, key: &K) -> bool {
        let cells = self.cells.lock().expect("memo lock");
        cells.get(key).is_some_and(|cell| cell.initialized())
    }
}

pub struct Index {
    http: HttpClient,
    cache: Cache,
    sources: Sources,
    /// Where the user's files ask for each project (`requirements.txt:3`), for messages.
    asked_at: HashMap<PackageName, Vec<String>>,
    pages: Memo<PackageName, Shared<Vec<ProjectFile>>>,
    directories: Memo<String, Shared<WheelDirectory>>,
    heads: Memo<String, Shared<WheelHead>>,
    summaries: Memo<String, Shared<WheelSummary>>,
    sdists: Memo<String, Shared<SdistFiles>>,
    analyses: Memo<String, Shared<WheelAnalysis>>,
    metadata: Memo<String, Shared<Vec<u8>>>,
    core_metadata: Memo<String, Shared<crate::metadata::CoreMetadata>>,
    verified: Memo<String, Shared<bool>>,
    verify_hashes: bool,
}

impl Index {
    pub fn new(http: HttpClient, cache: Cache, sources: Sources) -> Self {
        Index {
            http,
            cache,
            sources,
            asked_at: HashMap::new(),
            pages: Memo::new(),
            directories: Memo::new(),
            heads: Memo::new(),
            summaries: Memo::new(),
            sdists: Memo::new(),
            analyses: Memo::new(),
            metadata: Memo::new(),
            core_metadata: Memo::new(),
            verified: Memo::new(),
            verify_hashes: false,
        }
    }

    /// Download chosen wheels whole to compare their sha256 with the index's
    /// (`--verify-hashes`; see [`Index::verify_wheel`]).
    pub fn with_hash_verification(mut self, verify: bool) -> Self {
        self.verify_hashes = verify;
        self
    }

    pub fn verifies_hashes(&self) -> bool {
        self.verify_hashes
    }

    /// Say where the user's files ask for each project (`requirements.txt:3`), so that a
    /// project missing from every index is reported with the line to fix.
    pub fn with_requirement_lines(mut self, lines: HashMap<PackageName, Vec<String>>) -> Self {
        self.asked_at = lines;
        self
    }

    /// Wait until every cache entry written so far is on disk. The process must call this
    /// before it exits: it never drops the index (see `app::run`), and entries still queued for
    /// the cache's writer thread would be lost with it.
    pub fn flush_cache(&self) {
        let start = std::time::Instant::now();
        self.cache.flush();
        crate::diag::debug(format_args!(
            "cache: waited {} ms for the last entries to be written",
            start.elapsed().as_millis()
        ));
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    fn activity(&self) -> &Activity {
        &self.http.stats.activity
    }

    /// Whether [`Index::project`] would likely answer without a request: read this run, or
    /// fresh in the cache from every index (find-links locations are always asked).
    pub fn project_is_local(&self, name: &PackageName) -> bool {
        if self.pages.is_ready(name) {
            return true;
        }
        self.sources.find_links.is_empty()
            && self.sources.indexes.iter().all(|index| {
                index
                    .join(&format!("{name}/"))
                    .is_ok_and(|url| self.cache.has_fresh_page(&page_key(&url)))
            })
    }

    /// Whether [`Index::wheel_core_metadata`] would likely answer without a request.
    pub fn core_metadata_is_local(&self, file: &IndexFile) -> bool {
        let kind = match file.has_metadata_file {
            true => "metadata:v1",
            false => "wheel-metadata:v1",
        };
        self.core_metadata
            .is_ready(&content_key("core-metadata", file))
            || self.cache.has(&content_key(kind, file))
    }

    /// Every file of a project across all indexes and find-links locations, as pip merges them.
    pub async fn project(&self, name: &PackageName) -> Shared<Vec<ProjectFile>> {
        self.pages
            .get(name, || async {
                let mut files = Vec::new();
                let mut found = false;
                for index in &self.sources.indexes {
                    match self.index_page(index, name).await {
                        Ok(page) => {
                            found = true;
                            files.extend(page);
                        }
                        Err(err) if err.is_not_found() => {}
                        Err(err) => return Err(IndexError::from(err)),
                    }
                }
                let linked = self.find_links_files(name).await?;
                found |= !linked.is_empty();
                files.extend(linked);
                if found {
                    Activity::add(&self.activity().pages, 1);
                }
                if !found {
                    let asked_at = match self.asked_at.get(name) {
                        Some(lines) if !lines.is_empty() => {
                            format!(" (asked for at {})", lines.join(", "))
                        }
                        _ => String::new(),
                    };
                    return Err(IndexError::NoSuchProject {
                        name: name.to_string(),
                        indexes: self.describe_sources(),
                        asked_at,
                    });
                }
                Ok(Arc::new(ProjectFile::parse_all(name, files)))
            })
            .await
    }

    fn describe_sources(&self) -> String {
        let mut names: Vec<String> = self.sources.indexes.iter().map(redact).collect();
        names.extend(self.sources.find_links.iter().map(|location| {
            Url::parse(location).map_or_else(|_| location.clone(), |url| redact(&url))
        }));
        if names.is_empty() {
            "any index (--no-index given and no --find-links)".into()
        } else {
            names.join(", ")
        }
    }

    async fn index_page(
        &self,
        index: &Url,
        name: &PackageName,
    ) -> Result<Vec<IndexFile>, FetchError> {
        let url = index
            .join(&format!("{name}/"))
            .map_err(|e| FetchError::Network {
                url: redact(index),
                message: e.to_string(),
            })?;
        let key = page_key(&url);
        let parse = |body: &[u8], content_type: &str, base: &Url| {
            simple::parse_page(body, content_type, base).map_err(|e| FetchError::Network {
                url: e.url,
                message: e.message,
            })
        };
        let cached = self.cache.fresh_page(&key).or_else(|| {
            self.http
                .offline()
                .then(|| self.cache.any_page(&key))
                .flatten()
        });
        let page = match cached {
            Some(page) => {
                self.count_hit();
                page
            }
            None => {
                let page = self.http.get(&url, simple::ACCEPT).await?;
                // Links are relative to where the page really is, after redirects. Cached only
                // once it parses (a broken answer is asked for again next run), only when it was
                // not redirected (the cache keeps no base URL), and as read: the files a Linux
                // image could use, with absolute URLs.
                let files = parse(&page.body, &page.content_type, &page.url)?;
                if page.url == url {
                    let kept = files.clone();
                    self.cache
                        .put_page_later(&key, simple::PARSED_MEDIA_TYPE, move || {
                            simple::encode_parsed(&kept)
                        });
                }
                return Ok(files);
            }
        };
        parse(page.body(), page.content_type(), &url)
    }

    async fn find_links_files(&self, name: &PackageName) -> Result<Vec<IndexFile>, IndexError> {
        let mut files = Vec::new();
        for location in &self.sources.find_links {
            files.extend(
                find_links_listing(&self.http, location)
                    .await?
                    .into_iter()
                    .filter(|file| filename_project_matches(&file.filename, name)),
            );
        }
        Ok(files)
    }

    /// A remote wheel's central directory: what [`Self::wheel_elf`] needs, so that reading the
    /// ELF members starts while `METADATA` is still being fetched.
    async fn wheel_directory(&self, file: &IndexFile) -> Shared<WheelDirectory> {
        let key = content_key("wheel-head:v1", file);
        self.directories
            .get(&key, || async {
                if let Some(head) = self.cached::<WheelHead>(&key) {
                    return Ok(Arc::new(WheelDirectory::known(head.size, head.entries)));
                }
                let directory =
                    remote::read_wheel_directory(&self.http, &file.url, file.size).await?;
                Ok(Arc::new(directory))
            })
            .await
    }

    /// A wheel's central directory and core metadata.
    pub async fn wheel_head(&self, file: &IndexFile) -> Shared<WheelHead> {
        let key = content_key("wheel-head:v1", file);
        self.heads
            .get(&key, || async {
                if let Some(head) = self.cached::<WheelHead>(&key) {
                    Activity::add(&self.activity().metadata, 1);
                    return Ok(Arc::new(head));
                }
                let head = if file.url.scheme() == "file" {
                    local_wheel_head(file)?
                } else {
                    let directory = self.wheel_directory(file).await?;
                    remote::read_wheel_metadata(&self.http, &file.url, &directory).await?
                };
                self.store(&key, &head);
                Activity::add(&self.activity().metadata, 1);
                Ok(Arc::new(head))
            })
            .await
    }

    /// A wheel's core metadata: the index's PEP 658 file when it offers one, else the
    /// `METADATA` member read by range.
    pub async fn wheel_metadata(&self, file: &IndexFile) -> Shared<Vec<u8>> {
        if !file.has_metadata_file {
            let key = content_key("wheel-metadata:v1", file);
            return self
                .metadata
                .get(&key, || async {
                    if let Some(bytes) = self.cached_bytes(&key) {
                        Activity::add(&self.activity().metadata, 1);
                        return Ok(Arc::new(bytes));
                    }
                    let metadata = self.wheel_head(file).await?.metadata.clone();
                    self.cache.put_immutable(&key, &metadata);
                    Ok(Arc::new(metadata))
                })
                .await;
        }
        let key = content_key("metadata:v1", file);
        self.metadata
            .get(&key, || async {
                if let Some(bytes) = self.cached_bytes(&key) {
                    Activity::add(&self.activity().metadata, 1);
                    return Ok(Arc::new(bytes));
                }
                let mut url = Url::clone(&file.url);
                url.set_path(&format!("{}.metadata", file.url.path()));
                let bytes = self.http.get(&url, "*/*").await?.body;
                if let Some(expected) = &file.metadata_sha256 {
                    let actual = hex::encode(sha2::Sha256::digest(&bytes));
                    if &actual != expected {
                        return Err(IndexError::Failed(format!(
                            "{}: sha256 {actual} differs from the index's {expected}",
                            redact(&url)
                        )));
                    }
                }
                self.cache.put_immutable(&key, &bytes);
                Activity::add(&self.activity().metadata, 1);
                Ok(Arc::new(bytes))
            })
            .await
    }

    /// What a report needs of a chosen wheel's directory: its sizes and file names. Cached on
    /// its own, so that a warm run decodes no wheel's whole directory (a 30-package list:
    /// decoding heads was 13% of its CPU).
    pub async fn wheel_summary(&self, file: &IndexFile) -> Shared<WheelSummary> {
        let key = content_key("wheel-summary:v1", file);
        self.summaries
            .get(&key, || async {
                if let Some(summary) = self.cached::<WheelSummary>(&key) {
                    return Ok(Arc::new(summary));
                }
                let head = self.wheel_head(file).await?;
                let summary = WheelSummary {
                    size: head.size,
                    installed: head.entries.iter().map(|e| e.size).sum(),
                    names: head
                        .entries
                        .iter()
                        .map(|e| base_name(&e.name).to_string())
                        .collect(),
                };
                self.store(&key, &summary);
                Ok(Arc::new(summary))
            })
            .await
    }

    /// A wheel's core metadata, parsed once for every resolution that reads it.
    pub async fn wheel_core_metadata(
        &self,
        file: &IndexFile,
    ) -> Shared<crate::metadata::CoreMetadata> {
        let key = content_key("core-metadata", file);
        self.core_metadata
            .get(&key, || async {
                let bytes = self.wheel_metadata(file).await?;
                crate::metadata::CoreMetadata::parse(&bytes)
                    .map(Arc::new)
                    .map_err(|e| IndexError::Failed(format!("{}: {e}", file.filename)))
            })
            .await
    }

    /// The ELF files of a wheel and what each needs. Cached by the wheel's sha256, so another
    /// target choosing the same wheel, or a later run, never reads it again. A failed analysis
    /// is kept in memory only, so the next run tries again.
    pub async fn wheel_elf(&self, file: &IndexFile) -> Shared<WheelAnalysis> {
        let key = content_key("elf:v1", file);
        self.analyses
            .get(&key, || async {
                let activity = self.activity();
                Activity::add(&activity.wheels_queued, 1);
                let _done = Finished(&activity.wheels_inspected);
                if let Some(analysis) = self.cached::<WheelAnalysis>(&key) {
                    return Ok(Arc::new(analysis));
                }
                let analysis = if file.url.scheme() == "file" {
                    let head = self.wheel_head(file).await?;
                    crate::inspect::wheel::local_analysis(&file.url, &head.entries)
                } else {
                    let directory = self.wheel_directory(file).await?;
                    analysis::analyze(&self.http, &file.url, directory.size, &directory.entries)
                        .await
                };
                if analysis.failed.is_none() {
                    self.store(&key, &analysis);
                }
                Activity::add(&activity.elf_bytes, analysis.bytes_fetched);
                Ok(Arc::new(analysis))
            })
            .await
    }

    /// Whether a wheel's whole-file sha256 is the index's: `Ok(true)` when it was compared and
    /// matched (now or in an earlier run), `Ok(false)` for a local file given without a
    /// sha256 (nothing to compare with), an error when it differs or a remote file has none.
    pub async fn verify_wheel(&self, file: &IndexFile) -> Shared<bool> {
        let key = content_key("verified:v1", file);
        self.verified
            .get(&key, || async {
                let Some(expected) = &file.sha256 else {
                    if file.url.scheme() == "file" {
                        return Ok(Arc::new(false));
                    }
                    return Err(IndexError::Failed(format!(
                        "{}: the index gives no sha256 for this file, so --verify-hashes cannot \
                         check it; ask the index's operator for hashes, or drop --verify-hashes",
                        redact(&file.url)
                    )));
                };
                if self.cache.immutable(&key).is_some() {
                    return Ok(Arc::new(true));
                }
                let head = self.wheel_head(file).await?;
                // A local wheel was read whole, and checked, for its head.
                if file.url.scheme() != "file" {
                    let actual = remote::sha256_of(&self.http, &file.url, head.size).await?;
                    compare_sha256(file, expected, &actual)?;
                }
                self.cache.put_immutable(&key, b"ok");
                Ok(Arc::new(true))
            })
            .await
    }

    /// The files of an sdist that say what it is and needs (downloaded whole: tar archives cannot
    /// be read by range).
    pub async fn sdist_files(&self, file: &IndexFile) -> Shared<SdistFiles> {
        let key = content_key("sdist:v1", file);
        self.sdists
            .get(&key, || async {
                Activity::add(&self.activity().metadata, 1);
                if let Some(files) = self.cached::<SdistFiles>(&key) {
                    return Ok(Arc::new(files));
                }
                let files = match self.sdist_from_tail(file).await? {
                    Some(files) => files,
                    None => {
                        let bytes = self.download(&file.url).await?;
                        self.sdist_from_whole(file, &bytes)?
                    }
                };
                self.store(&key, &files);
                Ok(Arc::new(files))
            })
            .await
    }

    /// A large remote `.tar.gz` sdist's files from its last bytes ([`sdist_tail`]), when they
    /// are all there; `None` to download it whole. Never with `--verify-hashes`, which needs
    /// the whole file's sha256.
    async fn sdist_from_tail(&self, file: &IndexFile) -> Result<Option<SdistFiles>, IndexError> {
        let lower = file.filename.to_ascii_lowercase();
        let Some(top) = lower
            .strip_suffix(".tar.gz")
            .map(|stem| &file.filename[..stem.len()])
        else {
            return Ok(None);
        };
        let small = file
            .size
            .is_some_and(|size| size <= 2 * SDIST_TAIL_READS[0]);
        if file.url.scheme() == "file" || self.verify_hashes || small {
            return Ok(None);
        }
        for len in SDIST_TAIL_READS {
            let (start, bytes, total) = self.http.get_suffix(&file.url, len).await?;
            if start == 0 {
                // The whole file came (it is small, or the server ignores ranges).
                return self.sdist_from_whole(file, &bytes).map(Some);
            }
            if let Some(files) = sdist_tail::read(&bytes, top) {
                crate::diag::debug(format_args!(
                    "{}: read from its last {len} of {total} bytes",
                    file.filename
                ));
                return Ok(Some(files));
            }
            if 2 * len >= total {
                break;
            }
        }
        crate::diag::debug(format_args!("{}: read whole", file.filename));
        Ok(None)
    }

    fn sdist_from_whole(&self, file: &IndexFile, bytes: &[u8]) -> Result<SdistFiles, IndexError> {
        check_sha256(file, bytes)?;
        sdist::read_sdist(&file.filename, bytes)
            .map_err(|e| IndexError::Failed(format!("{}: {e}", redact(&file.url))))
    }

    async fn download(&self, url: &Url) -> Result<Vec<u8>, IndexError> {
        if url.scheme() == "file" {
            let path = url
                .to_file_path()
                .map_err(|_| IndexError::Failed(format!("{url}: not a local path")))?;
            return std::fs::read(&path)
                .map_err(|e| IndexError::Failed(format!("{}: {e}", path.display())));
        }
        Ok(self.http.get(url, "*/*").await?.body)
    }

    fn cached<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        let value = serde_json::from_slice(&self.cache.immutable(key)?).ok()?;
        self.count_hit();
        Some(value)
    }

    /// An immutable entry's bytes as stored, counted as a cache hit.
    fn cached_bytes(&self, key: &str) -> Option<Vec<u8>> {
        let bytes = self.cache.immutable(key)?;
        self.count_hit();
        Some(bytes)
    }

    fn count_hit(&self) {
        self.http
            .stats
            .cache_hits
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    fn store<T: serde::Serialize>(&self, key: &str, value: &T) {
        if let Ok(bytes) = serde_json::to_vec(value) {
            self.cache.put_immutable(key, &bytes);
        }
    }
}

/// Counts a finished piece of work when dropped, however the work ended (`?` included).
struct Finished<'a>(&'a std::sync::atomic::AtomicU64);

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        Activity::add(self.0, 1);
    }
}

/// The cache key of the index page at `url`.
fn page_key(url: &Url) -> String {
    format!("page:v1:{}", redact(url))
}

/// Content-derived entries are keyed by the file's sha256 when the index gave one: the same file
/// on two indexes, or under two URLs, is read once.
fn content_key(kind: &str, file: &IndexFile) -> String {
    match &file.sha256 {
        Some(sha) => format!("{kind}:sha256:{sha}"),
        None => format!("{kind}:url:{}", redact(&file.url)),
    }
}

/// A file read whole must have the sha256 the index (or a `#sha256=`) gives for it.
fn check_sha256(file: &IndexFile, bytes: &[u8]) -> Result<(), IndexError> {
    match &file.sha256 {
        Some(expected) => compare_sha256(file, expected, &hex::encode(sha2::Sha256::digest(bytes))),
        None => Ok(()),
    }
}

fn compare_sha256(file: &IndexFile, expected: &str, actual: &str) -> Result<(), IndexError> {
    if actual == expected {
        return Ok(());
    }
    Err(IndexError::Failed(format!(
        "{}: sha256 {actual} differs from the index's {expected}; the file is rejected",
        redact(&file.url)
    )))
}

fn local_wheel_head(file: &IndexFile) -> Result<WheelHead, IndexError> {
    let url: &Url = &file.url;
    let path = url
        .to_file_path()
        .map_err(|_| IndexError::Failed(format!("{url}: not a local path")))?;
    let bytes =
        std::fs::read(&path).map_err(|e| IndexError::Failed(format!("{}: {e}", path.display())))?;
    check_sha256(file, &bytes)?;
    crate::inspect::wheel::head_from_bytes(&bytes)
        .map_err(|e| IndexError::Failed(format!("{}: {e}", path.display())))
}

/// The files a `--find-links` location offers: a local directory's files, or the links of an
/// HTML page.
async fn find_links_listing(
    http: &HttpClient,
    location: &str,
) -> Result<Vec<IndexFile>, IndexError> {
    let as_url = Url::parse(location).ok().filter(|u| u.scheme() != "file");
    if let Some(url) = as_url {
        let page = http.get(&url, "text/html").await?;
        return simple::parse_page(&page.body, "text/html", &page.url)
            .map_err(|e| IndexError::Failed(e.to_string()));
    }
    let path = location.strip_prefix("file://").unwrap_or(location);
    let dir = std::fs::read_dir(path)
        .map_err(|e| IndexError::Failed(format!("--find-links {location}: {e}")))?;
    Ok(dir
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().is_file())
        .filter_map(|entry| {
            let path = std::fs::canonicalize(entry.path()).ok()?;
            Some(IndexFile {
                filename: entry.file_name().to_string_lossy().into_owned(),
                url: Url::from_file_path(&path).ok()?.into(),
                sha256: None,
                requires_python: None,
                yanked: None,
                size: entry.metadata().ok().map(|m| m.len()),
                has_metadata_file: false,
                metadata_sha256: None,
            })
        })
        .collect())
}

/// Whether a file name starts with the project's name, in any spelling (`Foo_Bar-1.0.tar.gz`).
fn filename_project_matches(filename: &str, name: &PackageName) -> bool {
    let normalized: String = filename
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c == '_' || c == '.' { '-' } else { c })
        .collect();
    normalized
        .strip_prefix(name.as_ref())
        .is_some_and(|rest| rest.starts_with('-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wheels_with_the_same_tags_share_a_tag_set_and_sdists_have_none() {
        let name = PackageName::new("demo".into()).unwrap();
        let files = [
            "demo-1.0-py3-none-any.whl",
            "demo-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "demo-2.0-py3-none-any.whl",
            "demo-2.0-1-py3-none-any.whl",
            "demo-2.0.tar.gz",
        ];
        let parsed =
            ProjectFile::parse_all(&name, files.iter().map(|f| IndexFile::named(f)).collect());
        let sets: Vec<u32> = parsed.iter().map(|p| p.tag_set).collect();
        assert_eq!(sets, [0, 1, 0, 0, NO_TAGS]);
    }
}
