//! Name resolution for the HTTP client: each host is looked up once per run and the answer
//! shared by every connection to it, and a lookup that has not answered after a moment is
//! started again alongside.
//!
//! Without it, each of a cold run's twenty-odd connections asked the system resolver on its
//! own, and a lost UDP query costs the resolver's 5 s timeout — the likely cause of the
//! data-science cold runs of 5.06–5.08 s (instead of about 1.3 s, with the same requests and no
//! retry) seen in 5 of 18 e2e runs before this change, and in none of 15 since.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use tokio::sync::OnceCell;

/// A lookup not answered by then is started again, the first still running: whichever
/// answers first wins.
const RETRY_AFTER: Duration = Duration::from_millis(1500);
/// Lookups started at most for one host.
const LOOKUPS: usize = 3;

type Lookup = Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send>>;
type LookupFn = dyn Fn(String) -> Lookup + Send + Sync;
/// Per host, the answer once there is one.
type Answers = Mutex<HashMap<String, Arc<OnceCell<Vec<SocketAddr>>>>>;

/// Cheap to clone: clones share the answers.
#[derive(Clone)]
pub struct CachingResolver {
    hosts: Arc<Answers>,
    lookup: Arc<LookupFn>,
    retry_after: Duration,
}

impl Default for CachingResolver {
    fn default() -> Self {
        CachingResolver::with_lookup(Arc::new(|host| Box::pin(system_lookup(host))), RETRY_AFTER)
    }
}

impl CachingResolver {
    fn with_lookup(lookup: Arc<LookupFn>, retry_after: Duration) -> Self {
        CachingResolver {
            hosts: Arc::default(),
            lookup,
            retry_after,
        }
    }

    async fn addresses(&self, host: &str) -> io::Result<Vec<SocketAddr>> {
        let cell = {
            let mut hosts = self.hosts.lock().expect("resolver lock");
            Arc::clone(hosts.entry(host.to_string()).or_default())
        };
        // A failed lookup is not kept: the next connection asks again.
        cell.get_or_try_init(|| self.race(host)).await.cloned()
    }

    /// Start a lookup, and another each time `retry_after` passes without an answer.
    async fn race(&self, host: &str) -> io::Result<Vec<SocketAddr>> {
        let mut pending = FuturesUnordered::new();
        loop {
            if pending.len() < LOOKUPS {
                pending.push((self.lookup)(host.to_string()));
            }
            let wait = if pending.len() < LOOKUPS {
                self.retry_after
            } else {
                Duration::MAX
            };
            match tokio::time::timeout(wait, pending.next()).await {
                Ok(Some(answer)) => return answer,
                Ok(None) => return Err(io::Error::other(format!("no answer for {host}"))),
                Err(_) => continue,
            }
        }
    }
}

impl Resolve for CachingResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let resolver = self.clone();
        Box::pin(async move {
            let addresses = resolver.addresses(name.as_str()).await?;
            Ok(Box::new(addresses.into_iter()) as Addrs)
        })
    }
}

/// The system resolver (`getaddrinfo`, on a blocking thread). Port 0: the connection sets the
/// URL's.
async fn system_lookup(host: String) -> io::Result<Vec<SocketAddr>> {
    Ok(tokio::net::lookup_host((host.as_str(), 0)).await?.collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn address() -> SocketAddr {
        "192.0.2.7:0".parse().unwrap()
    }

    /// A lookup function whose first call never answers and whose later calls answer at once.
    fn first_call_lost(calls: Arc<AtomicUsize>) -> Arc<LookupFn> {
        Arc::new(move |_host| {
            let call = calls.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                if call == 0 {
                    std::future::pending::<()>().await;
                }
                Ok(vec![address()])
            })
        })
    }

    #[tokio::test]
    async fn a_lost_lookup_is_started_again_and_the_answer_shared() {
        let calls = Arc::new(AtomicUsize::new(0));
        let resolver = CachingResolver::with_lookup(
            first_call_lost(Arc::clone(&calls)),
            Duration::from_millis(20),
        );
        let (a, b) = tokio::join!(
            resolver.addresses("files.example"),
            resolver.addresses("files.example")
        );
        assert_eq!(a.unwrap(), [address()]);
        assert_eq!(b.unwrap(), [address()]);
        assert_eq!(calls.load(Ordering::SeqCst), 2, "one lost, one answered");
        resolver.addresses("files.example").await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2, "answered from the cache");
    }

    #[tokio::test]
    async fn a_failed_lookup_is_reported_and_asked_again_next_time() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let lookup: Arc<LookupFn> = Arc::new(move |host| {
            let call = counted.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                match call {
                    0 => Err(io::Error::other(format!("{host}: no such host"))),
                    _ => Ok(vec![address()]),
                }
            })
        });
        let resolver = CachingResolver::with_lookup(lookup, Duration::from_secs(60));
        let err = resolver.addresses("nowhere.example").await.unwrap_err();
        assert!(err.to_string().contains("no such host"), "{err}");
        assert_eq!(
            resolver.addresses("nowhere.example").await.unwrap(),
            [address()]
        );
    }
}
