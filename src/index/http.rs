//! HTTP for the index: retries, redirects, credentials, range requests, offline mode, the run's
//! limits, request statistics, and URLs that never show their credentials.
//!
//! Every request goes through [`HttpClient::fetch`]:
//! - **Limits.** A run has a deadline (`--timeout`, counted from the client's creation), a
//!   budget of requests (`--max-requests`, every attempt and every redirect hop counts) and a
//!   largest answer it reads into memory (`--max-response-size`). Each one, when hit, fails the
//!   request with a message naming the limit and the flag that raises it. A single request also
//!   gives up when no data arrives for [`IDLE_TIMEOUT`] (or the whole `--timeout`, if shorter).
//! - **Retries.** HTTP 429 and 5xx answers, connection failures, stalled requests and answers cut
//!   off mid-body are tried [`ATTEMPTS`] times in all, pausing 400 ms then 800 ms, never past the
//!   deadline. Anything else (4xx, bad range answers, limits) fails at once.
//! - **Redirects** are followed here, not by reqwest, so that each hop counts against
//!   `--max-requests`, a loop is named as one, and credentials are chosen per hop.
//! - **Credentials** are never sent in the URL: for each request they come from the URL's own
//!   `user:password@`, else from an index URL with the same origin (scheme, host, port; the way
//!   pip reuses an index's credentials for its files), else from the netrc file (`$NETRC`, else
//!   `~/.netrc`) entry for the host, and go in an `Authorization: Basic` header. Every URL shown
//!   to a person goes through [`redact`]; [`redact_text`] scrubs any text that may hold one.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::{StatusCode, header};
use url::Url;

/// Attempts for one request when the answer or the connection fails in a way that may pass.
pub const ATTEMPTS: u32 = 3;
/// Redirects followed for one request.
pub const MAX_REDIRECTS: usize = 10;
/// A request with no data for this long is abandoned (and retried).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// `--timeout`: seconds for the whole run's network work.
pub const DEFAULT_TIMEOUT_SECS: u64 = 600;
/// `--max-requests`: HTTP requests per run (attempts and redirect hops included).
pub const DEFAULT_MAX_REQUESTS: u64 = 5000;
/// `--max-response-size`: the largest answer read into memory (index pages, metadata files,
/// sdists, ranges of wheels, and whole files sent in answer to a range request).
pub const DEFAULT_MAX_RESPONSE_SIZE: u64 = 256 << 20;

/// The run's limits (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub timeout: Duration,
    pub max_requests: u64,
    pub max_response_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECS),
            max_requests: DEFAULT_MAX_REQUESTS,
            max_response_size: DEFAULT_MAX_RESPONSE_SIZE,
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    #[error("{url} answered HTTP {status}{note}")]
    Status {
        url: String,
        status: u16,
        /// What the status means for the user, and how many attempts were made.
        note: String,
    },
    #[error("{url}: {message}")]
    Network { url: String, message: String },
    #[error(
        "{url} is not in the cache and --offline forbids the network; run once without --offline"
    )]
    Offline { url: String },
    #[error(
        "{url}: {what} is more than --max-response-size allows ({limit} bytes); raise it with --max-response-size BYTES"
    )]
    TooLarge {
        url: String,
        limit: u64,
        what: String,
    },
    #[error("{url}: bad answer to a range request: {why}")]
    BadRange { url: String, why: String },
    #[error(
        "{url}: stopped by the run's deadline (--timeout {seconds} s) before the answer was complete; raise it with --timeout SECONDS"
    )]
    Deadline { url: String, seconds: u64 },
    #[error(
        "{url}: not requested: the run has made its {limit} requests (--max-requests); raise it with --max-requests N"
    )]
    RequestLimit { url: String, limit: u64 },
    #[error("{url}: {why}")]
    Redirect { url: String, why: String },
}

impl FetchError {
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            FetchError::Status {
                status: 404 | 410,
                ..
            }
        )
    }

    /// The notice printed once at the end of a run that hit one of its limits.
    fn limit_notice(&self) -> Option<String> {
        match self {
            FetchError::TooLarge { limit, .. } => Some(format!(
                "an answer was larger than --max-response-size ({limit} bytes); raise it with --max-response-size BYTES"
            )),
            FetchError::Deadline { seconds, .. } => Some(format!(
                "the run's deadline (--timeout {seconds} s) passed with requests unfinished; raise it with --timeout SECONDS"
            )),
            FetchError::RequestLimit { limit, .. } => Some(format!(
                "the run reached its limit of {limit} requests (--max-requests); raise it with --max-requests N"
            )),
            _ => None,
        }
    }

    /// Say how many attempts a transient failure survived.
    fn after_attempts(mut self, attempts: u32) -> Self {
        if attempts > 1 {
            let said = format!(" (tried {attempts} times)");
            match &mut self {
                FetchError::Status { note, .. } => note.push_str(&said),
                FetchError::Network { message, .. } => message.push_str(&said),
                _ => {}
            }
        }
        self
    }
}

/// A URL as it may be shown to a person: user name, password and token removed.
pub fn redact(url: &Url) -> String {
    if url.username().is_empty() && url.password().is_none() {
        return url.to_string();
    }
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string().replacen("://", "://****@", 1)
}

/// `text` with the user information of every URL in it (`scheme://user:password@host`) replaced
/// by `****`: the last guard before a report, a Dockerfile or an error message is written.
pub fn redact_text(text: &str) -> String {
    const END: &[char] = &[
        '/', '?', '#', '"', '\'', '<', '>', '`', '\\', '(', ')', '[', ']',
    ];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let authority_len = after
            .find(|c: char| c.is_whitespace() || END.contains(&c))
            .unwrap_or(after.len());
        let authority = &after[..authority_len];
        match authority.rfind('@') {
            Some(userinfo_end) if !authority[..userinfo_end].is_empty() => {
                out.push_str("****");
                out.push_str(&authority[userinfo_end..]);
            }
            _ => out.push_str(authority),
        }
        rest = &after[authority_len..];
    }
    out.push_str(rest);
    out
}

#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub bytes: AtomicU64,
    pub cache_hits: AtomicU64,
    /// What the run is doing, for the progress display.
    pub activity: super::activity::Activity,
}

impl Stats {
    pub fn snapshot(&self) -> (u64, u64, u64) {
        (
            self.requests.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
            self.cache_hits.load(Ordering::Relaxed),
        )
    }
}

pub struct Page {
    pub body: Vec<u8>,
    pub content_type: String,
    /// Where the page really came from after redirects; relative file URLs resolve against it.
    pub url: Url,
}

/// A user name and an optional password (a token is a password, often with `__token__` as the
/// user name).
#[derive(Clone, PartialEq, Eq)]
struct Login {
    user: String,
    password: Option<String>,
}

/// Never shows the secret, so that no `{:?}` can print it.
impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Login(****)")
    }
}

/// Where the credentials of a request come from (see the module documentation).
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// Index origin (`https://host:port`) → the credentials its URL carries.
    by_origin: HashMap<String, Login>,
    netrc: netrc::Netrc,
}

impl Credentials {
    /// The credentials carried by these index (or find-links) URLs, and the user's netrc file.
    pub fn new(urls: &[Url]) -> Self {
        Credentials::with_netrc(urls, netrc::Netrc::load())
    }

    fn with_netrc(urls: &[Url], netrc: netrc::Netrc) -> Self {
        let mut by_origin = HashMap::new();
        for url in urls {
            if let Some(login) = login_in(url) {
                by_origin
                    .entry(url.origin().ascii_serialization())
                    .or_insert(login);
            }
        }
        Credentials { by_origin, netrc }
    }

    fn for_url(&self, url: &Url) -> Option<Login> {
        if let Some(login) = login_in(url) {
            return Some(login);
        }
        if let Some(login) = self.by_origin.get(&url.origin().ascii_serialization()) {
            return Some(login.clone());
        }
        let host = url
            .host_str()?
            .trim_start_matches('[')
            .trim_end_matches(']');
        self.netrc.lookup(host)
    }
}

fn login_in(url: &Url) -> Option<Login> {
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    Some(Login {
        user: percent_decode(url.username()),
        password: url.password().map(percent_decode),
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Why one attempt failed: worth another try, or not.
enum Failure {
    Transient(FetchError),
    Final(FetchError),
}

impl From<FetchError> for Failure {
    fn from(err: FetchError) -> Self {
        Failure::Final(err)
    }
}

#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
    pub stats: Arc<Stats>,
}

struct Inner {
    /// Built at the first request: loading the system's certificates is a few milliseconds a
    /// warm run, which makes none, need not spend.
    client: std::sync::OnceLock<Result<reqwest::Client, String>>,
    offline: bool,
    limits: Limits,
    deadline: Instant,
    /// Requests started or refused so far, against `--max-requests`.
    issued: AtomicU64,
    credentials: Credentials,
    /// Limits hit during the run, each said once at its end.
    notices: Mutex<BTreeSet<String>>,
    /// For each URL asked, the quickest its server has answered (time to the headers).
    quickest: Mutex<HashMap<String, Duration>>,
    /// Whether a request has been sent this run, and who waits for the first.
    network_used: std::sync::atomic::AtomicBool,
    first_request: tokio::sync::Notify,
}

impl HttpClient {
    /// A client whose deadline starts now.
    pub fn new(offline: bool, limits: Limits, credentials: Credentials) -> Self {
        HttpClient {
            inner: Arc::new(Inner {
                client: std::sync::OnceLock::new(),
                offline,
                limits,
                deadline: Instant::now() + limits.timeout,
                issued: AtomicU64::new(0),
                credentials,
                notices: Mutex::default(),
                quickest: Mutex::default(),
                network_used: std::sync::atomic::AtomicBool::new(false),
                first_request: tokio::sync::Notify::new(),
            }),
            stats: Arc::default(),
        }
    }

    /// The quickest the server has answered a request for `url` so far, and the median of that
    /// over every URL asked: a file its CDN must fetch from the origin answers range requests
    /// slowly (55–120 ms here, against 2–10 for a cached one), so a read of it is worth shaping
    /// to need fewer round trips; in a busy run every answer is slower, which the median shows.
    pub fn answer_times(&self, url: &Url) -> Option<(Duration, Duration)> {
        let quickest = self
            .inner
            .quickest
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let this = *quickest.get(url.as_str())?;
        let mut all: Vec<Duration> = quickest.values().copied().collect();
        let middle = all.len() / 2;
        let (_, median, _) = all.select_nth_unstable(middle);
        Some((this, *median))
    }

    /// Wait until this run has sent a request (at once if it has). Work that is only worth
    /// the network when the run needs the network anyway waits here: a warm run, whose every
    /// answer is cached, never sends one.
    pub async fn network_in_use(&self) {
        let first = self.inner.first_request.notified();
        tokio::pin!(first);
        first.as_mut().enable();
        if self.inner.network_used.load(Ordering::Acquire) {
            return;
        }
        first.await;
    }

    fn note_answer_time(&self, url: &Url, took: Duration) {
        let mut quickest = self
            .inner
            .quickest
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        quickest
            .entry(url.as_str().to_owned())
            .and_modify(|known| *known = (*known).min(took))
            .or_insert(took);
    }

    fn client(&self) -> Result<&reqwest::Client, String> {
        let limits = self.inner.limits;
        let built = self.inner.client.get_or_init(|| {
            // reqwest is built without a default crypto provider so that only `ring` is
            // compiled in.
            let _ = rustls::crypto::ring::default_provider().install_default();
            reqwest::Client::builder()
                .user_agent(concat!("wheelcheck/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(CONNECT_TIMEOUT.min(limits.timeout))
                .read_timeout(IDLE_TIMEOUT.min(limits.timeout))
                .pool_max_idle_per_host(16)
                .dns_resolver(super::dns::CachingResolver::default())
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| format!("cannot set up the HTTP client: {e}"))
        });
        built.as_ref().map_err(String::clone)
    }

    pub fn offline(&self) -> bool {
        self.inner.offline
    }

    pub fn limits(&self) -> Limits {
        self.inner.limits
    }

    /// The limits this run hit, one sentence each, to be said at its end.
    pub fn limit_notices(&self) -> Vec<String> {
        self.inner
            .notices
            .lock()
            .map(|n| n.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// When the run's network work must be over.
    pub fn deadline(&self) -> tokio::time::Instant {
        tokio::time::Instant::from_std(self.inner.deadline)
    }

    /// The error for work on `url` that the deadline stopped.
    pub fn deadline_error(&self, url: &Url) -> FetchError {
        self.note(FetchError::Deadline {
            url: redact(url),
            seconds: self.inner.limits.timeout.as_secs(),
        })
    }

    /// The error for a failure while streaming a body the caller reads itself.
    pub fn stream_error(&self, url: &Url, err: &reqwest::Error) -> FetchError {
        if Instant::now() >= self.inner.deadline {
            return self.deadline_error(url);
        }
        FetchError::Network {
            url: redact(url),
            message: describe(err),
        }
    }

    fn note(&self, err: FetchError) -> FetchError {
        if let (Some(notice), Ok(mut notices)) = (err.limit_notice(), self.inner.notices.lock()) {
            notices.insert(notice);
        }
        err
    }

    /// GET a whole (small) resource such as an index page.
    pub async fn get(&self, url: &Url, accept: &str) -> Result<Page, FetchError> {
        self.fetch(
            url,
            &[(header::ACCEPT, accept)],
            move |response, final_url| self.read_page(url, response, final_url),
        )
        .await
    }

    async fn read_page(
        &self,
        url: &Url,
        response: reqwest::Response,
        final_url: Url,
    ) -> Result<Page, Failure> {
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let limit = self.inner.limits.max_response_size;
        let body = self
            .read_body(url, response, limit, None, |size| FetchError::TooLarge {
                url: redact(url),
                limit,
                what: format!("the answer ({size})"),
            })
            .await?;
        Ok(Page {
            body,
            content_type,
            url: final_url,
        })
    }

    /// Bytes of a file of `total` bytes covering `range`, by an HTTP range request, and the
    /// offset in the file where they start.
    ///
    /// A server that ignores the range and answers 200 is tolerated when reading the file up to
    /// the end of the range stays within `--max-response-size`: the file is read up to there
    /// (never further) and all of it is returned, starting at 0, so that the caller can keep it.
    pub async fn get_range(
        &self,
        url: &Url,
        range: Range<u64>,
        total: u64,
    ) -> Result<(u64, Vec<u8>), FetchError> {
        if range.is_empty() {
            return Ok((range.start, Vec::new()));
        }
        let asked = format!("bytes={}-{}", range.start, range.end - 1);
        self.fetch(url, &[(header::RANGE, &asked)], move |response, _| {
            self.read_range(url, response, range.clone(), total)
        })
        .await
    }

    async fn read_range(
        &self,
        url: &Url,
        response: reqwest::Response,
        range: Range<u64>,
        total: u64,
    ) -> Result<(u64, Vec<u8>), Failure> {
        if response.status() != StatusCode::PARTIAL_CONTENT {
            let body = self
                .read_whole_file_prefix(url, response, range.end, total)
                .await?;
            return Ok((0, body));
        }
        check_content_range(url, &response, &range, total)?;
        let len = range.end - range.start;
        let body = self
            .read_body(url, response, len, None, |size| FetchError::BadRange {
                url: redact(url),
                why: format!("asked for {len} bytes, got {size}"),
            })
            .await?;
        if body.len() as u64 != len {
            return Err(Failure::Final(FetchError::BadRange {
                url: redact(url),
                why: format!("asked for {len} bytes, got {}", body.len()),
            }));
        }
        Ok((range.start, body))
    }

    /// A response streaming the bytes `range` of a file of `total` bytes, and how many leading
    /// bytes of its body to skip (non-zero when the server ignored the range and sends the file
    /// from its start: the caller must then stop reading after `range.end` bytes in all).
    pub async fn range_stream(
        &self,
        url: &Url,
        range: Range<u64>,
        total: u64,
    ) -> Result<(reqwest::Response, u64), FetchError> {
        let asked = format!("bytes={}-{}", range.start, range.end.max(1) - 1);
        self.fetch(url, &[(header::RANGE, &asked)], move |response, _| {
            let range = range.clone();
            async move {
                if response.status() == StatusCode::PARTIAL_CONTENT {
                    check_content_range(url, &response, &range, total)?;
                    return Ok((response, 0));
                }
                self.check_whole_file_answer(url, &response, range.end, total)?;
                Ok((response, range.start))
            }
        })
        .await
    }

    /// Count bytes that a caller read from a streamed response.
    pub fn count_bytes(&self, bytes: usize) {
        self.stats.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// The last `len` (or fewer) bytes of a file whose size the index did not tell us: where
    /// they start in the file, the bytes, and the file's size. A server that ignores the range
    /// sends the whole file, which is returned whole (start 0).
    pub async fn get_suffix(&self, url: &Url, len: u64) -> Result<(u64, Vec<u8>, u64), FetchError> {
        let asked = format!("bytes=-{len}");
        self.fetch(url, &[(header::RANGE, &asked)], move |response, _| {
            self.read_suffix(url, response, len)
        })
        .await
    }

    async fn read_suffix(
        &self,
        url: &Url,
        response: reqwest::Response,
        len: u64,
    ) -> Result<(u64, Vec<u8>, u64), Failure> {
        if response.status() != StatusCode::PARTIAL_CONTENT {
            let limit = self.inner.limits.max_response_size;
            let body = self
                .read_body(url, response, limit, None, |size| FetchError::TooLarge {
                    url: redact(url),
                    limit,
                    what: format!(
                        "the whole file ({size}), sent in answer to a range request (the server ignores ranges)"
                    ),
                })
                .await?;
            let total = body.len() as u64;
            return Ok((0, body, total));
        }
        let bad = |why: String| {
            Failure::Final(FetchError::BadRange {
                url: redact(url),
                why,
            })
        };
        let shown = content_range_text(&response);
        let Some((start, end, total)) = content_range(&response) else {
            return Err(bad(format!(
                "Content-Range `{shown}` is not `bytes START-END/SIZE`"
            )));
        };
        if end + 1 != total || start != total.saturating_sub(len) {
            return Err(bad(format!(
                "asked for the last {len} bytes, got Content-Range `{shown}`"
            )));
        }
        let want = end + 1 - start;
        let body = self
            .read_body(url, response, want, None, |size| FetchError::BadRange {
                url: redact(url),
                why: format!("asked for {want} bytes, got {size}"),
            })
            .await?;
        if body.len() as u64 != want {
            return Err(bad(format!("asked for {want} bytes, got {}", body.len())));
        }
        Ok((start, body, total))
    }

    /// For a 200 answer to a range request: whether reading the file up to `end` is allowed.
    fn check_whole_file_answer(
        &self,
        url: &Url,
        response: &reqwest::Response,
        end: u64,
        total: u64,
    ) -> Result<(), FetchError> {
        if let Some(length) = response.content_length()
            && length != total
        {
            return Err(FetchError::BadRange {
                url: redact(url),
                why: format!(
                    "the server ignored the range and sent a file of {length} bytes, not {total}"
                ),
            });
        }
        let limit = self.inner.limits.max_response_size;
        if end > limit {
            return Err(self.note(FetchError::TooLarge {
                url: redact(url),
                limit,
                what: format!(
                    "the server ignores range requests, and reading this file up to the bytes needed ({end} of {total} bytes)"
                ),
            }));
        }
        Ok(())
    }

    /// The first `end` bytes of a file sent whole in answer to a range request.
    async fn read_whole_file_prefix(
        &self,
        url: &Url,
        response: reqwest::Response,
        end: u64,
        total: u64,
    ) -> Result<Vec<u8>, Failure> {
        self.check_whole_file_answer(url, &response, end, total)?;
        let body = self
            .read_body(url, response, end, Some(end), |_| unreachable_limit(url))
            .await?;
        if (body.len() as u64) < end {
            return Err(Failure::Final(FetchError::BadRange {
                url: redact(url),
                why: format!(
                    "the server ignored the range and sent a file of {} bytes, not {total}",
                    body.len()
                ),
            }));
        }
        Ok(body)
    }

    /// One GET with retries, within the run's deadline; `read` turns the answer into the result.
    async fn fetch<T, F>(
        &self,
        url: &Url,
        headers: &[(header::HeaderName, &str)],
        read: impl Fn(reqwest::Response, Url) -> F,
    ) -> Result<T, FetchError>
    where
        F: Future<Output = Result<T, Failure>>,
    {
        if self.inner.offline {
            return Err(FetchError::Offline { url: redact(url) });
        }
        let _waiting = self.stats.activity.waiting.start(url);
        let mut attempt = 1;
        loop {
            let work = async {
                let (response, final_url) = self.send(url, headers).await?;
                read(response, final_url).await
            };
            let outcome = tokio::time::timeout_at(self.deadline(), work)
                .await
                .unwrap_or_else(|_| Err(Failure::Final(self.deadline_error(url))));
            let err = match outcome {
                Ok(value) => return Ok(value),
                Err(Failure::Final(err)) => return Err(self.note(err)),
                Err(Failure::Transient(err)) => err,
            };
            let pause = Duration::from_millis(200 << attempt);
            if attempt >= ATTEMPTS || Instant::now() + pause >= self.inner.deadline {
                return Err(err.after_attempts(attempt));
            }
            crate::diag::info(format_args!(
                "{err}; trying again in {} ms (attempt {} of {ATTEMPTS})",
                pause.as_millis(),
                attempt + 1
            ));
            tokio::time::sleep(pause).await;
            attempt += 1;
        }
    }

    /// Send one request, following redirects; each hop is a request of its own.
    async fn send(
        &self,
        url: &Url,
        headers: &[(header::HeaderName, &str)],
    ) -> Result<(reqwest::Response, Url), Failure> {
        let mut current = url.clone();
        let mut hops = vec![redact(url)];
        loop {
            let response = self.send_one(&current, headers).await?;
            let status = response.status();
            if !status.is_redirection() || status == StatusCode::NOT_MODIFIED {
                if status.is_success() {
                    return Ok((response, current));
                }
                let err = FetchError::Status {
                    url: redact(&current),
                    status: status.as_u16(),
                    note: status_note(status),
                };
                return Err(if is_transient(status) {
                    Failure::Transient(err)
                } else {
                    Failure::Final(err)
                });
            }
            let location = response
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|location| current.join(location).ok())
                .filter(|next| matches!(next.scheme(), "http" | "https"));
            let Some(next) = location else {
                return Err(Failure::Final(FetchError::Redirect {
                    url: redact(&current),
                    why: format!(
                        "answered HTTP {} without a usable Location to follow",
                        status.as_u16()
                    ),
                }));
            };
            let shown = redact(&next);
            if hops.contains(&shown) {
                hops.push(shown);
                return Err(Failure::Final(FetchError::Redirect {
                    url: redact(url),
                    why: format!("redirect loop: {}", hops.join(" -> ")),
                }));
            }
            hops.push(shown);
            if hops.len() > MAX_REDIRECTS + 1 {
                return Err(Failure::Final(FetchError::Redirect {
                    url: redact(url),
                    why: format!(
                        "more than {MAX_REDIRECTS} redirects: {} -> ...",
                        hops[..3].join(" -> ")
                    ),
                }));
            }
            current = next;
        }
    }

    /// One HTTP request, without its credentials in the URL, counted against `--max-requests`.
    async fn send_one(
        &self,
        url: &Url,
        headers: &[(header::HeaderName, &str)],
    ) -> Result<reqwest::Response, Failure> {
        let limit = self.inner.limits.max_requests;
        let granted = self
            .inner
            .issued
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < limit).then_some(n + 1)
            });
        if granted.is_err() {
            return Err(Failure::Final(self.note(FetchError::RequestLimit {
                url: redact(url),
                limit,
            })));
        }
        if Instant::now() >= self.inner.deadline {
            return Err(Failure::Final(self.deadline_error(url)));
        }
        let login = self.inner.credentials.for_url(url);
        let mut bare = url.clone();
        let _ = bare.set_username("");
        let _ = bare.set_password(None);
        let client = self.client().map_err(|message| {
            Failure::Final(FetchError::Network {
                url: redact(url),
                message,
            })
        })?;
        let mut request = client.get(bare);
        for (name, value) in headers {
            request = request.header(name, *value);
        }
        if let Some(login) = &login {
            request = request.basic_auth(&login.user, login.password.as_ref());
        }
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        if !self.inner.network_used.swap(true, Ordering::AcqRel) {
            self.inner.first_request.notify_waiters();
        }
        let started = Instant::now();
        let outcome = request.send().await;
        if outcome.is_ok() {
            self.note_answer_time(url, started.elapsed());
        }
        let shown_headers: Vec<String> = headers
            .iter()
            .filter(|(name, _)| *name == header::RANGE)
            .map(|(_, value)| format!(" {value}"))
            .collect();
        let answer = match &outcome {
            Ok(response) => format!("HTTP {}", response.status().as_u16()),
            Err(err) => describe(err),
        };
        crate::diag::debug(format_args!(
            "GET {}{}{} -> {answer} ({} ms)",
            redact(url),
            shown_headers.concat(),
            if login.is_some() {
                " (with credentials)"
            } else {
                ""
            },
            started.elapsed().as_millis()
        ));
        outcome.map_err(|err| {
            let failure = FetchError::Network {
                url: redact(url),
                message: describe(&err),
            };
            if err.is_builder() {
                Failure::Final(failure)
            } else {
                Failure::Transient(failure)
            }
        })
    }

    /// Read a body into memory. Reading stops once `stop_at` bytes are held (the rest is never
    /// downloaded); otherwise a body over `limit` bytes, whatever the server claims, is the
    /// error `too_large` makes from a description of its size.
    async fn read_body(
        &self,
        url: &Url,
        response: reqwest::Response,
        limit: u64,
        stop_at: Option<u64>,
        too_large: impl Fn(String) -> FetchError,
    ) -> Result<Vec<u8>, Failure> {
        let declared = response.content_length();
        if stop_at.is_none()
            && let Some(length) = declared.filter(|&length| length > limit)
        {
            return Err(Failure::Final(
                self.note(too_large(format!("{length} bytes"))),
            ));
        }
        let capacity = declared.unwrap_or(0).min(limit).min(16 << 20);
        let mut body = Vec::with_capacity(capacity as usize);
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|err| Failure::Transient(self.stream_error(url, &err)))?;
            self.count_bytes(chunk.len());
            if let Some(stop) = stop_at {
                let room = (stop - body.len() as u64).min(chunk.len() as u64) as usize;
                body.extend_from_slice(&chunk[..room]);
                if body.len() as u64 >= stop {
                    break;
                }
                continue;
            }
            if body.len() as u64 + chunk.len() as u64 > limit {
                return Err(Failure::Final(
                    self.note(too_large(format!("more than {limit} bytes"))),
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

fn unreachable_limit(url: &Url) -> FetchError {
    FetchError::BadRange {
        url: redact(url),
        why: "read past the bytes needed".into(),
    }
}

fn is_transient(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

fn status_note(status: StatusCode) -> String {
    match status.as_u16() {
        401 => " (authentication needed: give credentials in the index URL, as \
                https://USER:PASSWORD@host/simple/, or in ~/.netrc)"
            .into(),
        403 => " (access refused: check the credentials for this index)".into(),
        _ => String::new(),
    }
}

/// reqwest's own messages name the URL; we name the URL ourselves, without its credentials.
fn describe(err: &reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else if err.is_body() || err.is_decode() {
        "the connection broke while reading the answer"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(err);
    let mut detail = String::new();
    while let Some(inner) = source {
        detail = inner.to_string();
        source = inner.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        redact_text(&format!("{kind} ({detail})"))
    }
}

fn content_range_text(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(header::CONTENT_RANGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// `Content-Range: bytes START-END/SIZE`, parsed.
fn content_range(response: &reqwest::Response) -> Option<(u64, u64, u64)> {
    let text = content_range_text(response);
    let (span, total) = text.strip_prefix("bytes ")?.split_once('/')?;
    let (start, end) = span.split_once('-')?;
    let (start, end, total) = (
        start.trim().parse().ok()?,
        end.trim().parse().ok()?,
        total.trim().parse().ok()?,
    );
    (start <= end && end < total).then_some((start, end, total))
}

fn check_content_range(
    url: &Url,
    response: &reqwest::Response,
    range: &Range<u64>,
    total: u64,
) -> Result<(), FetchError> {
    let expected = format!("bytes {}-{}/{}", range.start, range.end - 1, total);
    let actual = content_range_text(response);
    if actual == expected {
        return Ok(());
    }
    let why = match content_range(response) {
        Some((_, _, size)) if size != total => format!(
            "Content-Range `{actual}` gives the file's size as {size} bytes, not the {total} expected (the index's size, or an earlier answer's)"
        ),
        _ => format!("expected Content-Range `{expected}`, got `{actual}`"),
    };
    Err(FetchError::BadRange {
        url: redact(url),
        why,
    })
}

/// The netrc file (`$NETRC`, else `~/.netrc`), as curl, requests and pip read it: `machine`
/// and `default` entries with `login`, `password` (and `account`, ignored); `macdef` bodies
/// (up to an empty line) and `#` comment lines are skipped; values may be double-quoted with
/// backslash escapes. A hand parser of about fifty lines: the format is small, and no crate was
/// worth a dependency for it.
mod netrc {
    use super::Login;

    #[derive(Debug, Clone, Default)]
    pub struct Netrc {
        /// `(Some(host) | None for default, login)`, in file order.
        entries: Vec<(Option<String>, Login)>,
    }

    impl Netrc {
        pub fn load() -> Netrc {
            let path = match std::env::var_os("NETRC") {
                Some(path) => std::path::PathBuf::from(path),
                None => match std::env::var_os("HOME")
                    .map(std::path::PathBuf::from)
                    .or_else(dirs::home_dir)
                {
                    Some(home) => home.join(".netrc"),
                    None => return Netrc::default(),
                },
            };
            match std::fs::read_to_string(&path) {
                Ok(text) => Netrc::parse(&text),
                Err(err) => {
                    if err.kind() != std::io::ErrorKind::NotFound {
                        crate::diag::info(format_args!(
                            "netrc file {} not read: {err}",
                            path.display()
                        ));
                    }
                    Netrc::default()
                }
            }
        }

        pub fn parse(text: &str) -> Netrc {
            let tokens = tokens(text);
            let mut entries = Vec::new();
            let mut current: Option<(Option<String>, Login)> = None;
            let empty = || Login {
                user: String::new(),
                password: None,
            };
            let mut i = 0;
            while i < tokens.len() {
                let value = tokens.get(i + 1).cloned();
                match tokens[i].as_str() {
                    "machine" => {
                        entries.extend(current.take());
                        current = Some((Some(value.unwrap_or_default()), empty()));
                        i += 2;
                    }
                    "default" => {
                        entries.extend(current.take());
                        current = Some((None, empty()));
                        i += 1;
                    }
                    "login" | "password" | "account" => {
                        if let Some((_, login)) = &mut current {
                            match tokens[i].as_str() {
                                "login" => login.user = value.unwrap_or_default(),
                                "password" => login.password = value,
                                _ => {}
                            }
                        }
                        i += 2;
                    }
                    _ => i += 1,
                }
            }
            entries.extend(current);
            Netrc { entries }
        }

        /// The entry for `host`, else the `default` entry.
        pub fn lookup(&self, host: &str) -> Option<Login> {
            let named = self.entries.iter().find(|(machine, _)| {
                machine
                    .as_deref()
                    .is_some_and(|m| m.eq_ignore_ascii_case(host))
            });
            named
                .or_else(|| self.entries.iter().find(|(machine, _)| machine.is_none()))
                .map(|(_, login)| login.clone())
        }
    }

    /// The file's tokens, without comment lines and `macdef` bodies.
    fn tokens(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut in_macro = false;
        for line in text.lines() {
            if in_macro {
                in_macro = !line.trim().is_empty();
                continue;
            }
            if line.trim_start().starts_with('#') {
                continue;
            }
            let mut chars = line.chars().peekable();
            loop {
                while chars.next_if(|c| c.is_whitespace()).is_some() {}
                let Some(first) = chars.next() else { break };
                let mut token = String::new();
                if first == '"' {
                    while let Some(c) = chars.next() {
                        match c {
                            '"' => break,
                            '\\' => token.extend(chars.next()),
                            c => token.push(c),
                        }
                    }
                } else {
                    token.push(first);
                    while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                        token.push(c);
                    }
                }
                if token == "macdef" {
                    in_macro = true;
                    break;
                }
                out.push(token);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_times_are_each_url_s_quickest_and_the_median_over_urls() {
        let client = HttpClient::new(false, Limits::default(), Credentials::new(&[]));
        let url = |n: u32| Url::parse(&format!("https://files.example/{n}.whl")).unwrap();
        let ms = Duration::from_millis;
        assert_eq!(client.answer_times(&url(1)), None, "never asked");
        client.note_answer_time(&url(1), ms(90));
        client.note_answer_time(&url(1), ms(70));
        client.note_answer_time(&url(1), ms(80));
        for n in 2..5 {
            client.note_answer_time(&url(n), ms(5));
        }
        assert_eq!(client.answer_times(&url(1)), Some((ms(70), ms(5))));
        for n in 5..10 {
            client.note_answer_time(&url(n), ms(60));
        }
        // A busy run: most files answer slowly, and the median says so.
        assert_eq!(client.answer_times(&url(2)), Some((ms(5), ms(60))));
    }

    #[tokio::test]
    async fn waiting_for_the_network_ends_at_the_first_request_sent() {
        let client = HttpClient::new(false, Limits::default(), Credentials::new(&[]));
        let waiting = client.network_in_use();
        let quiet = tokio::time::timeout(Duration::from_millis(100), waiting).await;
        assert!(quiet.is_err(), "no request sent yet");
        let waiter = tokio::spawn({
            let client = client.clone();
            async move { client.network_in_use().await }
        });
        // Nothing listens on port 9 here: the request fails, but it was sent.
        let url = Url::parse("http://127.0.0.1:9/simple/x/").unwrap();
        let _ = client.get(&url, "text/html").await;
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("the waiter woke")
            .unwrap();
        tokio::time::timeout(Duration::from_millis(100), client.network_in_use())
            .await
            .expect("once sent, no wait");
    }

    #[test]
    fn redaction_hides_user_and_password() {
        let url = Url::parse("https://alice:s3cret@example.invalid/simple/").unwrap();
        let shown = redact(&url);
        assert!(
            !shown.contains("alice") && !shown.contains("s3cret"),
            "{shown}"
        );
        assert_eq!(shown, "https://****@example.invalid/simple/");
        let token = Url::parse("https://__token__:pypi-AgEI@example.invalid/x").unwrap();
        assert!(!redact(&token).contains("pypi-AgEI"));
        let plain = Url::parse("https://example.invalid/simple/").unwrap();
        assert_eq!(redact(&plain), "https://example.invalid/simple/");
    }

    #[test]
    fn text_redaction_scrubs_every_url_with_user_information() {
        assert_eq!(
            redact_text("see https://u:p@h.example/simple/ and http://tok@x.example:8080/a?b@c"),
            "see https://****@h.example/simple/ and http://****@x.example:8080/a?b@c"
        );
        assert_eq!(
            redact_text("-e git+https://user:tok@github.com/o/r.git#egg=r"),
            "-e git+https://****@github.com/o/r.git#egg=r"
        );
        let json = r#"{"url": "https://a:b@h/x", "other": "mail me@example.com"}"#;
        assert_eq!(
            redact_text(json),
            r#"{"url": "https://****@h/x", "other": "mail me@example.com"}"#
        );
        assert_eq!(redact_text("no urls here"), "no urls here");
        assert_eq!(redact_text("https://host/only"), "https://host/only");
    }

    #[test]
    fn credentials_come_from_the_url_then_the_index_origin_then_netrc() {
        let index = Url::parse("https://__token__:pypi-Ag%2FEI@private.example/simple/").unwrap();
        let netrc = netrc::Netrc::parse(
            "# comment line\nmachine other.example login bob password \"p w\\\"d\"\n\
             macdef init\nmachine evil.example login x password y\n\n\
             default login anon password guest\n",
        );
        let credentials = Credentials::with_netrc(&[index], netrc);
        let file = Url::parse("https://private.example/files/a.whl").unwrap();
        let login = credentials.for_url(&file).unwrap();
        assert_eq!(login.user, "__token__");
        assert_eq!(login.password.as_deref(), Some("pypi-Ag/EI"));
        let own = Url::parse("https://carol:c@private.example/x").unwrap();
        assert_eq!(credentials.for_url(&own).unwrap().user, "carol");
        let other = credentials
            .for_url(&Url::parse("https://other.example/simple/").unwrap())
            .unwrap();
        assert_eq!(
            (other.user.as_str(), other.password.as_deref()),
            ("bob", Some("p w\"d"))
        );
        // A macdef body is not read as entries; an unknown host gets the default entry.
        let evil = credentials
            .for_url(&Url::parse("https://evil.example/").unwrap())
            .unwrap();
        assert_eq!(evil.user, "anon");
        // Another port is another origin: the index's credentials are not sent there.
        let port = credentials
            .for_url(&Url::parse("https://private.example:8443/").unwrap())
            .unwrap();
        assert_eq!(port.user, "anon");
        assert!(!format!("{credentials:?}").contains("pypi-"));
    }
}
