//! The on-disk cache shared by every wheelcheck process on a machine.
//!
//! Storage is [`cacache`]: content-addressed files written to a temporary file and renamed into
//! place, with an integrity hash checked on every read. That gives us the two properties parallel
//! CI jobs need without any locking of our own: readers never see a partial entry, and an entry
//! corrupted on disk reads as a miss (and is fetched again) instead of as wrong data.
//!
//! Two kinds of entries live here. Index pages change over time, so they carry the time they were
//! fetched and are fresh only for a time-to-live. Everything derived from a file whose sha256 the
//! index told us (wheel metadata, central directories, ELF analyses) never changes and never
//! expires.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The checksum of every entry, verified on each read. It guards against corruption on disk, not
/// against an attacker with write access to the cache, so xxh3 does the job at a fraction of
/// sha256's cost (hashing cached pages was a quarter of a warm run's instructions).
const CHECKSUM: cacache::Algorithm = cacache::Algorithm::Xxh3;

/// How long an index page stays fresh unless `--refresh` or the caller says otherwise.
pub const DEFAULT_PAGE_TTL: Duration = Duration::from_secs(600);

#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    page_ttl: Duration,
    refresh: bool,
}

/// A cached index page, with how old it is.
#[derive(Debug)]
pub struct CachedPage {
    pub body: Vec<u8>,
    pub content_type: String,
    pub age: Duration,
}

impl Cache {
    pub fn new(dir: PathBuf, page_ttl: Duration, refresh: bool) -> Self {
        Cache {
            dir,
            page_ttl,
            refresh,
        }
    }

    /// The user's cache directory, or `WHEELCHECK_CACHE_DIR` when set.
    pub fn default_dir() -> PathBuf {
        if let Some(dir) = std::env::var_os("WHEELCHECK_CACHE_DIR") {
            return PathBuf::from(dir);
        }
        dirs::cache_dir()
            .unwrap_or_else(std::env::temp_dir)
            .join("wheelcheck")
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// An index page that may be used without asking the server: younger than the TTL, and
    /// `--refresh` not given.
    pub fn fresh_page(&self, key: &str) -> Option<CachedPage> {
        if self.refresh {
            return None;
        }
        self.any_page(key).filter(|page| page.age < self.page_ttl)
    }

    /// An index page of any age (for `--offline`, and as the base of a revalidation).
    pub fn any_page(&self, key: &str) -> Option<CachedPage> {
        let meta = cacache::metadata_sync(&self.dir, key).ok()??;
        let body = cacache::read_hash_sync(&self.dir, &meta.integrity).ok()?;
        let age = now_millis().saturating_sub(meta.time);
        let content_type = meta
            .metadata
            .get("content_type")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string();
        Some(CachedPage {
            body,
            content_type,
            age: Duration::from_millis(age.min(u64::MAX as u128) as u64),
        })
    }

    pub fn put_page(&self, key: &str, body: &[u8], content_type: &str) {
        let opts = cacache::WriteOpts::new()
            .algorithm(CHECKSUM)
            .metadata(serde_json::json!({ "content_type": content_type }))
            .time(now_millis());
        let result = opts.open_sync(&self.dir, key).and_then(|mut writer| {
            use std::io::Write;
            writer
                .write_all(body)
                .map_err(|e| cacache::Error::IoError(e, "writing cache entry".into()))?;
            writer.commit()
        });
        warn_on_failure(key, result.map(|_| ()));
    }

    /// An entry keyed by content (a file's sha256 and what was derived from it): never expires.
    pub fn immutable(&self, key: &str) -> Option<Vec<u8>> {
        cacache::read_sync(&self.dir, key).ok()
    }

    pub fn put_immutable(&self, key: &str, data: &[u8]) {
        warn_on_failure(
            key,
            cacache::write_sync_with_algo(CHECKSUM, &self.dir, key, data).map(|_| ()),
        );
    }
}

/// A cache that cannot be written (read-only home, full disk) slows wheelcheck down but must not
/// stop it, so failures are only reported with `-v`.
fn warn_on_failure(key: &str, result: Result<(), cacache::Error>) {
    if let Err(err) = result {
        crate::diag::debug(format_args!("cache write for {key} failed: {err}"));
    }
}

fn now_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_is_fresh_within_ttl_and_stale_after() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().into(), Duration::from_secs(60), false);
        cache.put_page("page:x", b"body", "application/json");
        let page = cache.fresh_page("page:x").expect("fresh");
        assert_eq!(page.body, b"body");
        assert_eq!(page.content_type, "application/json");

        let expired = Cache::new(dir.path().into(), Duration::ZERO, false);
        assert!(expired.fresh_page("page:x").is_none());
        assert!(expired.any_page("page:x").is_some());
    }

    #[test]
    fn refresh_ignores_fresh_pages() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().into(), Duration::from_secs(60), true);
        cache.put_page("page:x", b"body", "text/html");
        assert!(cache.fresh_page("page:x").is_none());
        assert!(cache.any_page("page:x").is_some());
    }

    #[test]
    fn corrupted_content_reads_as_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().into(), Duration::from_secs(60), false);
        cache.put_immutable("meta:abc", b"Metadata-Version: 2.1\n");
        assert!(cache.immutable("meta:abc").is_some());
        for entry in walk(&dir.path().join("content-v2")) {
            std::fs::write(&entry, b"garbage").unwrap();
        }
        assert!(cache.immutable("meta:abc").is_none());
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
        out
    }
}
