//! The on-disk cache shared by every wheelcheck process on a machine.
//!
//! Each entry is one file in `<cache dir>/entries-v1/`, named by a 128-bit hash of its key. It is
//! written to a temporary file in that directory and renamed into place, so a reader sees either
//! the old entry, the new one or none, never a partial one. Each file carries its key, the time it
//! was written, its length and a checksum over all of it; an entry that does not check out (a
//! torn write after a crash, a flipped bit, another key) reads as a miss, is fetched again and
//! overwritten. That gives parallel CI jobs on one runner a shared cache without any locking.
//!
//! The layout is flat on purpose. The content-addressed store used before kept two directory
//! levels per entry in two trees, and creating those directories was 12 to 20% of a cold run's
//! CPU time on ext4; here a cold run creates one directory.
//!
//! Two kinds of entries live here. Index pages change over time, so they carry the time they were
//! fetched and are fresh only for a time-to-live. Everything derived from a file whose sha256 the
//! index told us (wheel metadata, central directories, ELF analyses) never changes and never
//! expires.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long an index page stays fresh unless `--refresh` or the caller says otherwise.
pub const DEFAULT_PAGE_TTL: Duration = Duration::from_secs(600);

/// The directory of entries; its name changes when the file format does.
const ENTRIES: &str = "entries-v1";

/// What wheelcheck's cache directory held before `entries-v1`: cacache's content, index and
/// temporary directories.
const OLD_LAYOUT: [&str; 3] = ["content-v2", "index-v5", "tmp"];

/// The first bytes of every entry file.
const MAGIC: &[u8; 8] = b"wchk\x00\x00\x00\x01";

/// Magic, time written (ms), key length, content type length, body length, checksum.
const HEADER_LEN: usize = 8 + 8 + 4 + 4 + 8 + 8;

#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    page_ttl: Duration,
    refresh: bool,
}

/// A cached index page, with how old it is.
#[derive(Debug)]
pub struct CachedPage {
    entry: Entry,
    pub age: Duration,
}

impl CachedPage {
    pub fn body(&self) -> &[u8] {
        self.entry.body()
    }

    pub fn content_type(&self) -> &str {
        &self.entry.content_type
    }
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
        let entry = self.read(key)?;
        let age = now_millis().saturating_sub(entry.written_millis);
        Some(CachedPage {
            entry,
            age: Duration::from_millis(age),
        })
    }

    pub fn put_page(&self, key: &str, body: &[u8], content_type: &str) {
        self.write(key, content_type, body);
    }

    /// An entry keyed by content (a file's sha256 and what was derived from it): never expires.
    pub fn immutable(&self, key: &str) -> Option<Vec<u8>> {
        self.read(key).map(Entry::into_body)
    }

    pub fn put_immutable(&self, key: &str, data: &[u8]) {
        self.write(key, "", data);
    }

    fn path_of(&self, key: &str) -> PathBuf {
        let hash = xxhash_rust::xxh3::xxh3_128(key.as_bytes());
        self.dir.join(ENTRIES).join(format!("{hash:032x}"))
    }

    fn read(&self, key: &str) -> Option<Entry> {
        let path = self.path_of(key);
        let bytes = std::fs::read(&path).ok()?;
        let entry = Entry::decode(key, bytes);
        if entry.is_none() {
            crate::diag::debug(format_args!(
                "cache entry {} for {key} does not check out; fetching it again",
                path.display()
            ));
        }
        entry
    }

    /// A cache that cannot be written (read-only home, full disk) slows wheelcheck down but must
    /// not stop it, so failures are only reported with `-v`.
    fn write(&self, key: &str, content_type: &str, body: &[u8]) {
        let bytes = Entry::encode(key, content_type, body, now_millis());
        if let Err(err) = self.write_file(key, &bytes) {
            crate::diag::debug(format_args!("cache write for {key} failed: {err}"));
        }
    }

    fn write_file(&self, key: &str, bytes: &[u8]) -> std::io::Result<()> {
        let dir = self.dir.join(ENTRIES);
        let mut file = match tempfile::Builder::new().prefix(".tmp-").tempfile_in(&dir) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(&dir)?;
                self.remove_old_layout();
                tempfile::Builder::new().prefix(".tmp-").tempfile_in(&dir)?
            }
            other => other?,
        };
        file.write_all(bytes)?;
        file.persist(self.path_of(key)).map_err(|e| e.error)?;
        Ok(())
    }
}

impl Cache {
    /// The directories of the content-addressed store this cache used before (cacache's), which
    /// nothing reads any more: removed, best effort, when the entries directory is first made.
    fn remove_old_layout(&self) {
        // `tmp` alone could be anyone's: only next to cacache's own two.
        let [content, index, _] = OLD_LAYOUT;
        if !self.dir.join(content).is_dir() && !self.dir.join(index).is_dir() {
            return;
        }
        for old in OLD_LAYOUT {
            let path = self.dir.join(old);
            if path.is_dir() && std::fs::remove_dir_all(&path).is_ok() {
                crate::diag::debug(format_args!(
                    "removed {} (an older wheelcheck's cache)",
                    path.display()
                ));
            }
        }
    }
}

/// One entry as it is on disk: the header (see [`HEADER_LEN`]), then key, content type and body.
/// The checksum is xxh3 over everything but itself: it guards against corruption on disk, not
/// against someone with write access to the cache, and costs a fraction of sha256.
#[derive(Debug)]
struct Entry {
    written_millis: u64,
    content_type: String,
    /// The whole file; the body is `bytes[body_start..]` (a page is not copied to drop its
    /// header).
    bytes: Vec<u8>,
    body_start: usize,
}

impl Entry {
    fn body(&self) -> &[u8] {
        &self.bytes[self.body_start..]
    }

    fn into_body(mut self) -> Vec<u8> {
        self.bytes.drain(..self.body_start);
        self.bytes
    }

    fn encode(key: &str, content_type: &str, body: &[u8], written_millis: u64) -> Vec<u8> {
        let mut bytes =
            Vec::with_capacity(HEADER_LEN + key.len() + content_type.len() + body.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&written_millis.to_le_bytes());
        bytes.extend_from_slice(&(key.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&(content_type.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&(body.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&[0; 8]);
        bytes.extend_from_slice(key.as_bytes());
        bytes.extend_from_slice(content_type.as_bytes());
        bytes.extend_from_slice(body);
        let checksum = checksum(&bytes);
        bytes[HEADER_LEN - 8..HEADER_LEN].copy_from_slice(&checksum.to_le_bytes());
        bytes
    }

    /// The entry in `bytes` if it is whole, unaltered and for `key`.
    fn decode(key: &str, bytes: Vec<u8>) -> Option<Entry> {
        let header = bytes.get(..HEADER_LEN)?;
        let field = |at: usize, len: usize| -> u64 {
            let mut le = [0u8; 8];
            le[..len].copy_from_slice(&header[at..at + len]);
            u64::from_le_bytes(le)
        };
        if &header[..8] != MAGIC {
            return None;
        }
        let written_millis = field(8, 8);
        let key_len = field(16, 4) as usize;
        let type_len = field(20, 4) as usize;
        let body_len = usize::try_from(field(24, 8)).ok()?;
        let stored = field(32, 8);
        let total = HEADER_LEN
            .checked_add(key_len)?
            .checked_add(type_len)?
            .checked_add(body_len)?;
        if bytes.len() != total || stored != checksum(&bytes) {
            return None;
        }
        let key_end = HEADER_LEN + key_len;
        if &bytes[HEADER_LEN..key_end] != key.as_bytes() {
            return None;
        }
        let content_type = std::str::from_utf8(&bytes[key_end..key_end + type_len])
            .ok()?
            .to_string();
        Some(Entry {
            written_millis,
            content_type,
            bytes,
            body_start: key_end + type_len,
        })
    }
}

/// xxh3 of `bytes` with the checksum field counted as zeros.
fn checksum(bytes: &[u8]) -> u64 {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    hasher.update(&bytes[..HEADER_LEN - 8]);
    hasher.update(&[0; 8]);
    hasher.update(&bytes[HEADER_LEN..]);
    hasher.digest()
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis().min(u128::from(u64::MAX)) as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(dir: &Path, ttl_secs: u64, refresh: bool) -> Cache {
        Cache::new(dir.into(), Duration::from_secs(ttl_secs), refresh)
    }

    #[test]
    fn page_is_fresh_within_ttl_and_stale_after() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(dir.path(), 60, false);
        cache.put_page("page:x", b"body", "application/json");
        let page = cache.fresh_page("page:x").expect("fresh");
        assert_eq!(page.body(), b"body");
        assert_eq!(page.content_type(), "application/json");
        assert!(page.age < Duration::from_secs(60));

        let expired = Cache::new(dir.path().into(), Duration::ZERO, false);
        assert!(expired.fresh_page("page:x").is_none());
        assert!(expired.any_page("page:x").is_some());
    }

    #[test]
    fn refresh_ignores_fresh_pages() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(dir.path(), 60, true);
        cache.put_page("page:x", b"body", "text/html");
        assert!(cache.fresh_page("page:x").is_none());
        assert!(cache.any_page("page:x").is_some());
    }

    #[test]
    fn a_later_write_replaces_the_entry_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(dir.path(), 60, false);
        cache.put_immutable("meta:a", b"first");
        cache.put_immutable("meta:a", b"second, longer");
        cache.put_immutable("meta:b", b"");
        assert_eq!(cache.immutable("meta:a").unwrap(), b"second, longer");
        assert_eq!(cache.immutable("meta:b").unwrap(), b"");
        assert!(cache.immutable("meta:c").is_none());
        let names = entry_files(dir.path());
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn every_flipped_byte_and_every_cut_reads_as_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(dir.path(), 60, false);
        cache.put_page("page:x", b"Metadata-Version: 2.1\n", "text/html");
        let path = cache.path_of("page:x");
        let good = std::fs::read(&path).unwrap();
        for at in 0..good.len() {
            let mut bad = good.clone();
            bad[at] ^= 0x01;
            std::fs::write(&path, &bad).unwrap();
            assert!(cache.any_page("page:x").is_none(), "byte {at} flipped");
        }
        for len in 0..good.len() {
            std::fs::write(&path, &good[..len]).unwrap();
            assert!(cache.any_page("page:x").is_none(), "cut at {len}");
        }
        std::fs::write(&path, [good.as_slice(), b"!"].concat()).unwrap();
        assert!(cache.any_page("page:x").is_none(), "a byte appended");
        std::fs::write(&path, &good).unwrap();
        assert!(cache.any_page("page:x").is_some());
    }

    #[test]
    fn an_entry_under_another_key_s_name_is_not_taken_for_it() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(dir.path(), 60, false);
        cache.put_immutable("meta:a", b"a's metadata");
        std::fs::copy(cache.path_of("meta:a"), cache.path_of("meta:b")).unwrap();
        assert!(cache.immutable("meta:b").is_none());
    }

    #[test]
    fn readers_racing_writers_see_whole_entries_only() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(dir.path(), 60, false);
        let bodies: Vec<Vec<u8>> = (0..4u8)
            .map(|i| vec![i; 200_000 + usize::from(i)])
            .collect();
        std::thread::scope(|scope| {
            for body in &bodies {
                let cache = cache.clone();
                scope.spawn(move || {
                    for _ in 0..20 {
                        cache.put_immutable("analysis:x", body);
                    }
                });
            }
            for _ in 0..2 {
                let cache = cache.clone();
                let bodies = &bodies;
                scope.spawn(move || {
                    for _ in 0..200 {
                        if let Some(read) = cache.immutable("analysis:x") {
                            assert!(bodies.contains(&read), "a partial or mixed entry");
                        }
                    }
                });
            }
        });
        assert!(bodies.contains(&cache.immutable("analysis:x").unwrap()));
        assert_eq!(entry_files(dir.path()).len(), 1);
    }

    #[test]
    fn an_unwritable_cache_is_a_miss_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, b"").unwrap();
        let cache = cache(&file, 60, false);
        cache.put_immutable("meta:a", b"x");
        assert!(cache.immutable("meta:a").is_none());
    }

    #[test]
    fn the_older_layout_is_removed_when_the_entries_directory_is_made() {
        let dir = tempfile::tempdir().unwrap();
        for old in OLD_LAYOUT {
            std::fs::create_dir_all(dir.path().join(old).join("ab")).unwrap();
            std::fs::write(dir.path().join(old).join("ab").join("x"), b"old").unwrap();
        }
        std::fs::write(dir.path().join("notes.txt"), b"the user's").unwrap();
        let cache = cache(dir.path(), 60, false);
        cache.put_immutable("meta:a", b"x");
        for old in OLD_LAYOUT {
            assert!(!dir.path().join(old).exists(), "{old} is still there");
        }
        assert!(dir.path().join("notes.txt").exists());
        assert_eq!(cache.immutable("meta:a").unwrap(), b"x");
    }

    #[test]
    fn a_tmp_directory_alone_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("tmp")).unwrap();
        cache(dir.path(), 60, false).put_immutable("meta:a", b"x");
        assert!(dir.path().join("tmp").is_dir());
    }

    fn entry_files(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir.join(ENTRIES))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }
}
