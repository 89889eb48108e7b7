//! HTTP for the index: retries, range requests, offline mode, request statistics, and URLs that
//! never show their credentials.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::StreamExt;
use reqwest::{StatusCode, header};
use url::Url;

/// Attempts for one request when the server answers 429/5xx or the connection fails.
const ATTEMPTS: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: {message}")]
    Network { url: String, message: String },
    #[error(
        "{url} is not in the cache and --offline forbids the network; run once without --offline"
    )]
    Offline { url: String },
    #[error("{url}: response larger than {limit} bytes; refusing to read more")]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: bad answer to a range request: {why}")]
    BadRange { url: String, why: String },
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

#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub bytes: AtomicU64,
    pub cache_hits: AtomicU64,
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

#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    offline: bool,
    max_body: u64,
    pub stats: Arc<Stats>,
}

impl HttpClient {
    pub fn new(offline: bool, timeout: Duration, max_body: u64) -> anyhow::Result<Self> {
        // reqwest is built without a default crypto provider so that only `ring` is compiled in.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .user_agent(concat!("wheelcheck/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(timeout)
            .pool_max_idle_per_host(16)
            .redirect(reqwest::redirect::Policy::limited(10))
            .build()?;
        Ok(HttpClient {
            client,
            offline,
            max_body,
            stats: Arc::default(),
        })
    }

    pub fn offline(&self) -> bool {
        self.offline
    }

    /// GET a whole (small) resource such as an index page.
    pub async fn get(&self, url: &Url, accept: &str) -> Result<Page, FetchError> {
        let response = self
            .send(url, |req| req.header(header::ACCEPT, accept))
            .await?;
        let final_url = response.url().clone();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = self.read_body(url, response, self.max_body).await?;
        Ok(Page {
            body,
            content_type,
            url: final_url,
        })
    }

    /// The bytes `range` of a file of `total` bytes, by an HTTP range request.
    ///
    /// A server that ignores the range and answers 200 is tolerated when the whole file is no
    /// larger than the read limit: we keep only the part asked for.
    pub async fn get_range(
        &self,
        url: &Url,
        range: Range<u64>,
        total: u64,
    ) -> Result<Vec<u8>, FetchError> {
        let header_value = format!("bytes={}-{}", range.start, range.end - 1);
        let response = self
            .send(url, |req| req.header(header::RANGE, header_value.as_str()))
            .await?;
        match response.status() {
            StatusCode::PARTIAL_CONTENT => {
                check_content_range(url, &response, &range, total)?;
                let body = self
                    .read_body(url, response, range.end - range.start)
                    .await?;
                if body.len() as u64 != range.end - range.start {
                    return Err(FetchError::BadRange {
                        url: redact(url),
                        why: format!(
                            "asked for {} bytes, got {}",
                            range.end - range.start,
                            body.len()
                        ),
                    });
                }
                Ok(body)
            }
            _ => {
                let body = self.read_body(url, response, self.max_body).await?;
                let slice = body
                    .get(range.start as usize..range.end as usize)
                    .ok_or_else(|| FetchError::BadRange {
                        url: redact(url),
                        why: format!("file is {} bytes, not {total}", body.len()),
                    })?;
                Ok(slice.to_vec())
            }
        }
    }

    /// A response streaming the bytes `range` of a file of `total` bytes, and how many leading
    /// bytes of its body to skip (non-zero when the server ignored the range and sent it all).
    pub async fn range_stream(
        &self,
        url: &Url,
        range: Range<u64>,
        total: u64,
    ) -> Result<(reqwest::Response, u64), FetchError> {
        let header_value = format!("bytes={}-{}", range.start, range.end - 1);
        let response = self
            .send(url, |req| req.header(header::RANGE, header_value.as_str()))
            .await?;
        if response.status() == StatusCode::PARTIAL_CONTENT {
            check_content_range(url, &response, &range, total)?;
            Ok((response, 0))
        } else {
            Ok((response, range.start))
        }
    }

    /// Count bytes that a caller read from a streamed response.
    pub fn count_bytes(&self, bytes: usize) {
        self.stats.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// The last `len` bytes of a file whose size the index did not tell us, and the file's size.
    pub async fn get_suffix(&self, url: &Url, len: u64) -> Result<(Vec<u8>, u64), FetchError> {
        let header_value = format!("bytes=-{len}");
        let response = self
            .send(url, |req| req.header(header::RANGE, header_value.as_str()))
            .await?;
        if response.status() == StatusCode::PARTIAL_CONTENT {
            let total = content_range_total(&response).ok_or_else(|| FetchError::BadRange {
                url: redact(url),
                why: "no total size in Content-Range".into(),
            })?;
            let body = self.read_body(url, response, len).await?;
            return Ok((body, total));
        }
        let body = self.read_body(url, response, self.max_body).await?;
        let total = body.len() as u64;
        let start = body.len().saturating_sub(len as usize);
        Ok((body[start..].to_vec(), total))
    }

    async fn send(
        &self,
        url: &Url,
        decorate: impl Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, FetchError> {
        if self.offline {
            return Err(FetchError::Offline { url: redact(url) });
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let request = decorate(self.client.get(url.clone()));
            let outcome = request.send().await;
            let retry = match &outcome {
                Ok(response) => is_transient(response.status()),
                Err(err) => !err.is_redirect() && !err.is_builder(),
            };
            if retry && attempt < ATTEMPTS {
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                continue;
            }
            return match outcome {
                Ok(response) if response.status().is_success() => Ok(response),
                Ok(response) => Err(FetchError::Status {
                    url: redact(url),
                    status: response.status().as_u16(),
                }),
                Err(err) => Err(FetchError::Network {
                    url: redact(url),
                    message: describe(&err),
                }),
            };
        }
    }

    /// Read a body, refusing to hold more than `limit` bytes whatever the server claims.
    async fn read_body(
        &self,
        url: &Url,
        response: reqwest::Response,
        limit: u64,
    ) -> Result<Vec<u8>, FetchError> {
        if response.content_length().is_some_and(|len| len > limit) {
            return Err(FetchError::TooLarge {
                url: redact(url),
                limit,
            });
        }
        let mut body = Vec::with_capacity(response.content_length().unwrap_or(0) as usize);
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|err| FetchError::Network {
                url: redact(url),
                message: describe(&err),
            })?;
            self.stats
                .bytes
                .fetch_add(chunk.len() as u64, Ordering::Relaxed);
            if body.len() as u64 + chunk.len() as u64 > limit {
                return Err(FetchError::TooLarge {
                    url: redact(url),
                    limit,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

fn is_transient(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// reqwest's own messages name the URL with its credentials; we name the URL ourselves.
fn describe(err: &reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else if err.is_redirect() {
        "too many redirects (a redirect loop?)"
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
        format!("{kind} ({detail})")
    }
}

fn content_range_total(response: &reqwest::Response) -> Option<u64> {
    let value = response
        .headers()
        .get(header::CONTENT_RANGE)?
        .to_str()
        .ok()?;
    value.rsplit('/').next()?.trim().parse().ok()
}

fn check_content_range(
    url: &Url,
    response: &reqwest::Response,
    range: &Range<u64>,
    total: u64,
) -> Result<(), FetchError> {
    let expected = format!("bytes {}-{}/{}", range.start, range.end - 1, total);
    let actual = response
        .headers()
        .get(header::CONTENT_RANGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if actual.trim() == expected {
        Ok(())
    } else {
        Err(FetchError::BadRange {
            url: redact(url),
            why: format!("expected Content-Range `{expected}`, got `{actual}`"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
