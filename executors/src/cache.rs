//! The task cache: results of task-graph nodes by [`Fingerprint`], shared by every
//! chart and client of a [`crate::Runtime`].
//!
//! - Bounded by memory: entries are evicted least-recently-used first once the sum
//!   of their sizes exceeds the capacity (an entry larger than the capacity is
//!   computed and returned but not kept).
//! - Deduplicating: concurrent requests for the same fingerprint wait for one
//!   computation instead of starting their own.
//! - Failures are not cached: the next request computes again.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// The identity of a node: a hash of its definition and of its inputs' identities
/// and values. Equal fingerprints mean equal results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub u128);

impl Fingerprint {
    /// Starts a fingerprint of a node of the given kind.
    pub fn builder(kind: &str) -> FingerprintBuilder {
        let mut b = FingerprintBuilder { low: std::hash::DefaultHasher::new(), high: std::hash::DefaultHasher::new() };
        0xa5u8.hash(&mut b.high);
        b.add(kind);
        b
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

/// Accumulates the parts of a fingerprint (two independent 64-bit SipHashes).
pub struct FingerprintBuilder {
    low: std::hash::DefaultHasher,
    high: std::hash::DefaultHasher,
}

impl FingerprintBuilder {
    pub fn add<T: Hash + ?Sized>(&mut self, part: &T) -> &mut Self {
        part.hash(&mut self.low);
        part.hash(&mut self.high);
        self
    }

    /// Adds a JSON value by its text.
    pub fn add_json(&mut self, value: &serde_json::Value) -> &mut Self {
        self.add(&value.to_string())
    }

    pub fn finish(&self) -> Fingerprint {
        Fingerprint(((self.high.finish() as u128) << 64) | self.low.finish() as u128)
    }
}

/// A cached value and its size in bytes.
pub type Cached = (Arc<dyn Any + Send + Sync>, usize);

struct Entry {
    cell: Arc<OnceCell<Cached>>,
    last_used: u64,
}

#[derive(Default)]
struct State {
    entries: HashMap<Fingerprint, Entry>,
    used_bytes: usize,
    clock: u64,
}

/// Counters of a cache's activity since it was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CacheStats {
    /// Values computed (cache misses that ran their computation).
    pub computed: u64,
    /// Requests answered from the cache, or by waiting on another request.
    pub hits: u64,
    pub evictions: u64,
    pub entries: usize,
    pub used_bytes: usize,
}

/// A memory-bounded, deduplicating cache of node results.
pub struct TaskCache {
    capacity_bytes: usize,
    state: Mutex<State>,
    computed: AtomicU64,
    hits: AtomicU64,
    evictions: AtomicU64,
}

impl TaskCache {
    pub fn new(capacity_bytes: usize) -> TaskCache {
        TaskCache { capacity_bytes, state: Mutex::default(), computed: AtomicU64::new(0), hits: AtomicU64::new(0), evictions: AtomicU64::new(0) }
    }

    pub fn capacity_bytes(&self) -> usize {
        self.capacity_bytes
    }

    pub fn stats(&self) -> CacheStats {
        let state = self.state.lock().expect("not poisoned");
        CacheStats {
            computed: self.computed.load(Ordering::Relaxed),
            hits: self.hits.load(Ordering::Relaxed),
            evictions: self.evictions.load(Ordering::Relaxed),
            entries: state.entries.values().filter(|e| e.cell.initialized()).count(),
            used_bytes: state.used_bytes,
        }
    }

    /// The value of node `fp`, computing it with `compute` (returning the value and
    /// its size) unless it is cached or being computed.
    pub async fn get_or_compute<T, E, F, Fut>(&self, fp: Fingerprint, compute: F) -> Result<Arc<T>, E>
    where
        T: Any + Send + Sync,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(T, usize), E>>,
    {
        let cell = {
            let mut state = self.state.lock().expect("not poisoned");
            state.clock += 1;
            let now = state.clock;
            let entry = state.entries.entry(fp).or_insert_with(|| Entry { cell: Arc::new(OnceCell::new()), last_used: now });
            entry.last_used = now;
            entry.cell.clone()
        };
        let mut computed_here = false;
        let value = cell
            .get_or_try_init(|| async {
                computed_here = true;
                self.computed.fetch_add(1, Ordering::Relaxed);
                let (value, bytes) = compute().await?;
                Ok::<Cached, E>((Arc::new(value) as Arc<dyn Any + Send + Sync>, bytes))
            })
            .await;
        let (value, bytes) = match value {
            Ok(v) => v.clone(),
            Err(e) => {
                self.forget_if_empty(fp, &cell);
                return Err(e);
            }
        };
        if computed_here {
            self.account(fp, &cell, bytes);
        } else {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        Ok(value.downcast::<T>().unwrap_or_else(|_| panic!("fingerprint {fp} cached a value of another type")))
    }

    /// Counts a new value and evicts until the cache fits.
    fn account(&self, fp: Fingerprint, cell: &Arc<OnceCell<Cached>>, bytes: usize) {
        let mut state = self.state.lock().expect("not poisoned");
        let ours = state.entries.get(&fp).is_some_and(|e| Arc::ptr_eq(&e.cell, cell));
        if !ours {
            return;
        }
        if bytes > self.capacity_bytes {
            state.entries.remove(&fp);
            return;
        }
        state.used_bytes += bytes;
        while state.used_bytes > self.capacity_bytes {
            let victim = state
                .entries
                .iter()
                .filter(|(k, e)| **k != fp && e.cell.initialized())
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, e)| (*k, e.cell.get().map(|c| c.1).unwrap_or(0)));
            let Some((victim, size)) = victim else { break };
            state.entries.remove(&victim);
            state.used_bytes -= size;
            self.evictions.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn forget_if_empty(&self, fp: Fingerprint, cell: &Arc<OnceCell<Cached>>) {
        let mut state = self.state.lock().expect("not poisoned");
        if state.entries.get(&fp).is_some_and(|e| Arc::ptr_eq(&e.cell, cell) && !e.cell.initialized()) {
            state.entries.remove(&fp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(n: u8) -> Fingerprint {
        Fingerprint::builder("test").add(&n).finish()
    }

    #[tokio::test]
    async fn computes_once_and_evicts_least_recently_used() {
        let cache = TaskCache::new(100);
        let v = cache.get_or_compute(fp(1), || async { Ok::<_, ()>((1u32, 40)) }).await.unwrap();
        assert_eq!(*v, 1);
        let again = cache.get_or_compute(fp(1), || async { Ok::<_, ()>((99u32, 40)) }).await.unwrap();
        assert_eq!(*again, 1, "cached");
        cache.get_or_compute(fp(2), || async { Ok::<_, ()>((2u32, 40)) }).await.unwrap();
        cache.get_or_compute(fp(1), || async { Ok::<_, ()>((0u32, 40)) }).await.unwrap(); // 1 is now the most recent
        cache.get_or_compute(fp(3), || async { Ok::<_, ()>((3u32, 40)) }).await.unwrap();
        let s = cache.stats();
        assert_eq!((s.computed, s.hits, s.evictions, s.entries, s.used_bytes), (3, 2, 1, 2, 80));
        let two = cache.get_or_compute(fp(2), || async { Ok::<_, ()>((22u32, 40)) }).await.unwrap();
        assert_eq!(*two, 22, "2 was evicted and computed again");
    }

    #[tokio::test]
    async fn failures_are_not_cached_and_oversized_values_not_kept() {
        let cache = TaskCache::new(10);
        assert!(cache.get_or_compute(fp(1), || async { Err::<(u8, usize), _>("boom") }).await.is_err());
        assert_eq!(*cache.get_or_compute(fp(1), || async { Ok::<_, ()>((5u8, 1)) }).await.unwrap(), 5);
        assert_eq!(*cache.get_or_compute(fp(2), || async { Ok::<_, ()>((6u8, 11)) }).await.unwrap(), 6);
        assert_eq!(cache.stats().used_bytes, 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_requests_share_one_computation() {
        let cache = Arc::new(TaskCache::new(1000));
        // Pending once: `join!` then polls the second request while the first is
        // in flight.
        let slow = || async {
            tokio::task::yield_now().await;
            Ok::<_, ()>((7u8, 1))
        };
        let (a, b) = tokio::join!(cache.get_or_compute(fp(1), slow), cache.get_or_compute(fp(1), slow));
        assert_eq!((*a.unwrap(), *b.unwrap()), (7, 7));
        assert_eq!(cache.stats().computed, 1);
    }
}
