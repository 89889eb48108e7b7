//! What a run is doing, for the progress display: counters bumped where the work happens, and
//! the requests under way.
//!
//! Counters are atomics, read by the display's own thread without stopping the work. The list
//! of requests under way takes a lock once when a request starts and once when it ends: cheap
//! beside a network round trip, and the only way to tell which request has waited longest.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use url::Url;

#[derive(Debug, Default)]
pub struct Activity {
    /// Project pages read (from an index or the cache).
    pub pages: AtomicU64,
    /// Core metadata read: PEP 658 files, wheel directories with their `METADATA`, sdists.
    pub metadata: AtomicU64,
    pub targets_total: AtomicU64,
    /// Targets whose resolution (and wheels-only alternative) is done.
    pub targets_resolved: AtomicU64,
    /// Wheels whose ELF files are being or have been read.
    pub wheels_queued: AtomicU64,
    pub wheels_inspected: AtomicU64,
    /// Bytes of ELF members fetched for the inspected wheels.
    pub elf_bytes: AtomicU64,
    pub waiting: Waiting,
}

impl Activity {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// The requests under way, each with what it is for people (a file or project name) and when
/// it started.
#[derive(Debug, Default)]
pub struct Waiting {
    next_id: AtomicU64,
    active: Mutex<BTreeMap<u64, (String, Instant)>>,
}

impl Waiting {
    /// Records a request to `url` until the returned guard is dropped.
    pub fn start(&self, url: &Url) -> WaitGuard<'_> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut active) = self.active.lock() {
            active.insert(id, (shown_name(url), Instant::now()));
        }
        WaitGuard { waiting: self, id }
    }

    /// The request waited on longest (its name and age), and how many are under way.
    pub fn longest(&self) -> Option<(String, Duration, usize)> {
        let active = self.active.lock().ok()?;
        let (name, started) = active.values().min_by_key(|(_, started)| *started)?;
        Some((name.clone(), started.elapsed(), active.len()))
    }
}

pub struct WaitGuard<'a> {
    waiting: &'a Waiting,
    id: u64,
}

impl Drop for WaitGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut active) = self.waiting.active.lock() {
            active.remove(&self.id);
        }
    }
}

/// The last segment of the URL's path: a file name (`numpy-2.1.0-...whl`, `....metadata`) or a
/// project (`numpy`) for an index page. Only the path is used, so no user name, password or
/// token in the URL's authority or query can be shown.
fn shown_name(url: &Url) -> String {
    url.path_segments()
        .and_then(|mut segments| segments.rfind(|s| !s.is_empty()))
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .or_else(|| url.host_str().map(str::to_string))
        .unwrap_or_else(|| "the index".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_named_by_their_file_or_project_without_credentials() {
        let waiting = Waiting::default();
        let page = Url::parse("https://user:secret@example.test/simple/numpy/?token=abc").unwrap();
        let wheel =
            Url::parse("https://example.test/files/torch-2.1.0%2Bcpu-cp312-cp312-linux_x86_64.whl")
                .unwrap();
        {
            let _page = waiting.start(&page);
            std::thread::sleep(Duration::from_millis(5));
            let _wheel = waiting.start(&wheel);
            let (name, age, count) = waiting.longest().unwrap();
            assert_eq!(name, "numpy", "the oldest request is the page");
            assert!(age >= Duration::from_millis(5));
            assert_eq!(count, 2);
        }
        assert!(
            waiting.longest().is_none(),
            "finished requests are forgotten"
        );
        let _wheel = waiting.start(&wheel);
        assert_eq!(
            waiting.longest().unwrap().0,
            "torch-2.1.0+cpu-cp312-cp312-linux_x86_64.whl"
        );
    }
}
