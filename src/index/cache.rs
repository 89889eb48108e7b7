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

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
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
    writer: Arc<Writer>,
}

/// Writes entries on a thread of its own, one after another. A cold run writes hundreds (720
/// for the 30-package list); written from the threads that made them, several at once, the
/// creations in the one directory queued on its lock and on ext4's inode allocation (a sixth
/// of that run's CPU samples). An entry not yet on disk is read from memory meanwhile; all are
/// on disk once [`Cache::flush`] returns, which dropping the last handle to the cache does.
#[derive(Debug, Default)]
struct Writer {
    queue: Mutex<Option<(mpsc::Sender<Job>, std::thread::JoinHandle<()>)>>,
    pending: Arc<Pending>,
}

/// Makes an entry's body on the writer's thread.
type Encoder = Box<dyn FnOnce() -> Vec<u8> + Send>;

enum Job {
    /// An entry whose bytes wait in [`Pending`].
    Bytes(String),
    /// A page whose body is made on the writer's thread: key, content type, body.
    Page(String, String, Encoder),
}

impl Job {
    /// Write the entry, saying why not with `-v`.
    fn run(self, dir: &Path, pending: &Pending) {
        let (key, result) = match self {
            Job::Bytes(key) => {
                let Some(bytes) = pending.get(&key) else {
                    return;
                };
                let result = write_file(dir, &key, &bytes);
                pending.written(&key, &bytes);
                (key, result)
            }
            Job::Page(key, content_type, body) => {
                let bytes = Entry::encode(&key, &content_type, &body(), now_millis());
                let result = write_file(dir, &key, &bytes);
                (key, result)
            }
        };
        if let Err(err) = result {
            crate::diag::debug(format_args!("cache write for {key} failed: {err}"));
        }
    }
}

/// Entries queued for writing, by key: their encoded bytes.
#[derive(Debug, Default)]
struct Pending(Mutex<HashMap<String, Arc<Vec<u8>>>>);

impl Pending {
    fn get(&self, key: &str) -> Option<Arc<Vec<u8>>> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }

    fn insert(&self, key: &str, bytes: Arc<Vec<u8>>) {
        let mut pending = self.0.lock().unwrap_or_else(|e| e.into_inner());
        pending.insert(key.to_owned(), bytes);
    }

    /// Forget `key` once `written` is on disk, unless a later write replaced it meanwhile.
    fn written(&self, key: &str, written: &Arc<Vec<u8>>) {
        let mut pending = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if pending
            .get(key)
            .is_some_and(|now| Arc::ptr_eq(now, written))
        {
            pending.remove(key);
        }
    }
}

impl Writer {
    /// Queue `job`, starting the thread at the first; without a thread, run it here.
    fn queue(&self, dir: &Path, job: Job) {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if queue.is_none() {
            let (sender, receiver) = mpsc::channel::<Job>();
            let (dir, pending) = (dir.to_path_buf(), Arc::clone(&self.pending));
            let thread = std::thread::Builder::new()
                .name("cache-writer".into())
                .spawn(move || receiver.into_iter().for_each(|job| job.run(&dir, &pending)));
            match thread {
                Ok(thread) => *queue = Some((sender, thread)),
                Err(err) => crate::diag::debug(format_args!("no cache writer thread: {err}")),
            }
        }
        let unsent = match queue.as_ref() {
            Some((sender, _)) => sender.send(job).err().map(|e| e.0),
            None => Some(job),
        };
        drop(queue);
        if let Some(job) = unsent {
            job.run(dir, &self.pending);
        }
    }

    fn flush(&self) {
        let queue = self.queue.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some((sender, thread)) = queue {
            drop(sender);
            let _ = thread.join();
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.flush();
    }
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
            writer: Arc::default(),
        }
    }

    /// Wait until every entry written so far is on disk.
    pub fn flush(&self) {
        self.writer.flush();
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

    /// [`Cache::put_page`] with a body that `encode` makes on the writer's thread, off the
    /// caller's path (encoding a large project's page took 4 to 5 ms). Until it is on disk the
    /// page is not read back from memory, as other entries are: a run reads each page once.
    pub fn put_page_later(
        &self,
        key: &str,
        content_type: &str,
        encode: impl FnOnce() -> Vec<u8> + Send + 'static,
    ) {
        let job = Job::Page(key.to_owned(), content_type.to_owned(), Box::new(encode));
        self.writer.queue(&self.dir, job);
    }

    /// Whether an index page younger than the TTL is likely there, without reading it (by the
    /// file's time; what it holds is checked when it is read).
    pub fn has_fresh_page(&self, key: &str) -> bool {
        let age = std::fs::metadata(self.path_of(key))
            .and_then(|meta| meta.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok());
        !self.refresh && age.is_some_and(|age| age < self.page_ttl)
    }

    /// Whether an entry is likely there (queued, or a file), without reading it.
    pub fn has(&self, key: &str) -> bool {
        self.writer.pending.get(key).is_some() || self.path_of(key).is_file()
    }

    /// An entry keyed by content (a file's sha256 and what was derived from it): never expires.
    pub fn immutable(&self, key: &str) -> Option<Vec<u8>> {
        self.read(key).map(Entry::into_body)
    }

    pub fn put_immutable(&self, key: &str, data: &[u8]) {
        self.write(key, "", data);
    }

    fn path_of(&self, key: &str) -> PathBuf {
        path_of(&self.dir, key)
    }

    fn read(&self, key: &str) -> Option<Entry> {
        if let Some(bytes) = self.writer.pending.get(key) {
            return Entry::decode(key, bytes.to_vec());
        }
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
        self.writer.pending.insert(key, Arc::new(bytes));
        self.writer.queue(&self.dir, Job::Bytes(key.to_owned()));
    }
}

fn path_of(dir: &Path, key: &str) -> PathBuf {
    let hash = xxhash_rust::xxh3::xxh3_128(key.as_bytes());
    dir.join(ENTRIES).join(format!("{hash:032x}"))
}

fn write_file(dir: &Path, key: &str, bytes: &[u8]) -> std::io::Result<()> {
    let entries = dir.join(ENTRIES);
    let mut file = match tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(&entries)
    {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(&entries)?;
            remove_old_layout(dir);
            tempfile::Builder::new()
                .prefix(".tmp-")
                .tempfile_in(&entries)?
        }
        other => other?,
    };
    file.write_all(bytes)?;
    file.persist(path_of(dir, key)).map_err(|e| e.error)?;
    Ok(())
}

/// The directories of the content-addressed store this cache used before (cacache's), which
/// nothing reads any more: removed, best effort, when the entries directory is first made.
fn remove_old_layout(dir: &Path) {
    // `tmp` alone could be anyone's: only next to cacache's own two.
    let [content, index, _] = OLD_LAYOUT;
    if !dir.join(content).is_dir() && !dir.join(index).is_dir() {
        return;
    }
    for old in OLD_LAYOUT {
        let path = dir.join(old);
        if path.is_dir() && std::fs::remove_dir_all(&path).is_ok() {
            crate::diag::debug(format_args!(
                "removed {} (an older wheelcheck's cache)",
                path.display()
            ));
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

        cache.flush();
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
        cache.flush();
        let names = entry_files(dir.path());
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn every_flipped_byte_and_every_cut_reads_as_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(dir.path(), 60, false);
        cache.put_page("page:x", b"Metadata-Version: 2.1\n", "text/html");
        cache.flush();
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
        cache.flush();
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
        cache.flush();
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
        cache.flush();
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
        cache.flush();
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

    #[test]
    fn an_entry_queued_for_writing_reads_back_and_is_on_disk_once_the_cache_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(dir.path(), 60, false);
        let clone = cache.clone();
        for i in 0..50u8 {
            cache.put_immutable(&format!("meta:{i}"), &[i; 1000]);
            assert_eq!(clone.immutable(&format!("meta:{i}")).unwrap(), [i; 1000]);
        }
        drop(cache);
        drop(clone);
        assert_eq!(
            entry_files(dir.path()).len(),
            50,
            "all written, none left half-done"
        );
        let fresh = Cache::new(dir.path().into(), Duration::from_secs(60), false);
        for i in 0..50u8 {
            assert_eq!(fresh.immutable(&format!("meta:{i}")).unwrap(), [i; 1000]);
        }
        fresh.put_immutable("meta:after", b"a writer again after a flush");
        fresh.flush();
        fresh.put_immutable("meta:later", b"and again");
        fresh.flush();
        assert_eq!(entry_files(dir.path()).len(), 52);
    }

    #[test]
    fn a_page_encoded_later_is_on_disk_after_a_flush_with_its_content_type() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(dir.path(), 60, false);
        let (sender, receiver) = mpsc::channel::<()>();
        cache.put_page_later("page:y", "application/x-parsed", move || {
            receiver.recv().unwrap();
            b"encoded on the writer's thread".to_vec()
        });
        assert!(cache.any_page("page:y").is_none(), "not yet encoded");
        sender.send(()).unwrap();
        cache.flush();
        let page = cache.fresh_page("page:y").expect("written");
        assert_eq!(page.body(), b"encoded on the writer's thread");
        assert_eq!(page.content_type(), "application/x-parsed");
    }

    fn entry_files(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir.join(ENTRIES))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }
}
