//! The single-node cache: a map behind a mutex, with expiry checked on read
//! and swept as it grows. Bounded by entries and by bytes: when full, expired
//! entries are dropped and, if it is still full, a new entry is refused with
//! [`CacheError::Full`]. Live entries are never evicted: they are lock
//! counters, replay markers, codes and sessions, and evicting them would let
//! someone who fills the cache reset a lock, replay a code or sign people out
//! in bulk. Refusing fails closed: new sign-ins wait, nobody loses a session.
//!
//! Expiry reads a [`Clock`]: the system's monotonic clock, or one a test
//! sets, so a test moves past a TTL without sleeping.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{CacheBackend, CacheError};

/// What an entry costs beyond its key and value: the map's slot, the expiry
/// and the two buffers' headers (an estimate on the safe side).
const ENTRY_OVERHEAD: usize = 96;
/// When full, expired entries are swept at most this often, so a cache kept
/// full by a flood costs no full scan per write.
const FULL_SWEEP_EVERY: Duration = Duration::from_secs(1);

/// How much the memory cache may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_entries: usize,
    pub max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 100_000,
            max_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Where the memory cache reads the time.
#[derive(Clone, Debug, Default)]
pub enum Clock {
    /// The system's monotonic clock.
    #[default]
    System,
    /// A clock that moves only when told ([`Clock::advance`]): for tests.
    Manual(Arc<Mutex<Instant>>),
}

impl Clock {
    /// A manual clock, starting at the system's now.
    pub fn manual() -> Clock {
        Clock::Manual(Arc::new(Mutex::new(Instant::now())))
    }

    pub fn now(&self) -> Instant {
        match self {
            Clock::System => Instant::now(),
            Clock::Manual(t) => *t.lock().unwrap_or_else(|p| p.into_inner()),
        }
    }

    /// Moves a manual clock forward; the system clock cannot be moved.
    pub fn advance(&self, by: Duration) {
        if let Clock::Manual(t) = self {
            let mut t = t.lock().unwrap_or_else(|p| p.into_inner());
            *t += by;
        }
    }
}

#[derive(Clone, Default)]
pub struct MemoryCache {
    inner: Arc<Mutex<Inner>>,
    clock: Clock,
}

#[derive(Default)]
struct Inner {
    map: HashMap<String, (Vec<u8>, Instant)>,
    limits: Limits,
    /// What the entries cost now (keys, values, overhead).
    bytes: usize,
    writes_since_sweep: usize,
    last_full_sweep: Option<Instant>,
}

fn cost(key: &str, value: &[u8]) -> usize {
    key.len() + value.len() + ENTRY_OVERHEAD
}

impl Inner {
    fn remove(&mut self, key: &str) -> Option<Vec<u8>> {
        let (v, _) = self.map.remove(key)?;
        self.bytes = self.bytes.saturating_sub(cost(key, &v));
        Some(v)
    }

    fn live(&mut self, key: &str, now: Instant) -> Option<&(Vec<u8>, Instant)> {
        if self.map.get(key).is_some_and(|(_, exp)| *exp <= now) {
            self.remove(key);
        }
        self.map.get(key)
    }

    fn sweep(&mut self, now: Instant) {
        let mut freed = 0;
        self.map.retain(|k, (v, exp)| {
            let keep = *exp > now;
            if !keep {
                freed += cost(k, v);
            }
            keep
        });
        self.bytes = self.bytes.saturating_sub(freed);
        self.writes_since_sweep = 0;
    }

    /// Whether `key` with a value of `len` bytes fits.
    fn fits(&self, key: &str, len: usize) -> bool {
        let old = self.map.get(key).map(|(v, _)| cost(key, v));
        let entries_ok = old.is_some() || self.map.len() < self.limits.max_entries;
        let bytes = self.bytes.saturating_sub(old.unwrap_or(0)) + key.len() + len + ENTRY_OVERHEAD;
        entries_ok && bytes <= self.limits.max_bytes
    }

    fn insert(
        &mut self,
        key: &str,
        value: Vec<u8>,
        expires: Instant,
        now: Instant,
    ) -> Result<(), CacheError> {
        self.writes_since_sweep += 1;
        // Amortised sweep: cost stays proportional to writes.
        if self.writes_since_sweep > 1024 && self.writes_since_sweep > self.map.len() {
            self.sweep(now);
        }
        if !self.fits(key, value.len()) {
            if self
                .last_full_sweep
                .is_none_or(|at| now.duration_since(at) >= FULL_SWEEP_EVERY)
            {
                self.last_full_sweep = Some(now);
                self.sweep(now);
            }
            if !self.fits(key, value.len()) {
                tracing::warn!(
                    entries = self.map.len(),
                    bytes = self.bytes,
                    max_entries = self.limits.max_entries,
                    max_bytes = self.limits.max_bytes,
                    "memory cache full: a new entry is refused (raise memory_cache.max_entries or max_bytes, or use Redis)"
                );
                return Err(CacheError::Full);
            }
        }
        self.remove(key);
        self.bytes += cost(key, &value);
        self.map.insert(key.to_owned(), (value, expires));
        Ok(())
    }
}

impl MemoryCache {
    /// A cache with the default bounds (100,000 entries, 64 MiB).
    pub fn new() -> MemoryCache {
        MemoryCache::with_limits(Limits::default())
    }

    pub fn with_limits(limits: Limits) -> MemoryCache {
        MemoryCache::with_clock(limits, Clock::System)
    }

    /// A cache whose expiry reads `clock`.
    pub fn with_clock(limits: Limits, clock: Clock) -> MemoryCache {
        MemoryCache {
            inner: Arc::new(Mutex::new(Inner {
                limits,
                ..Inner::default()
            })),
            clock,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the map half-updated, so keep serving.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn counter(key: &str, v: &[u8]) -> Result<i64, CacheError> {
    std::str::from_utf8(v)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or_else(|| CacheError::Decode(format!("{key} is not a counter")))
}

impl CacheBackend for MemoryCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        Ok(self
            .lock()
            .live(key, self.clock.now())
            .map(|(v, _)| v.clone()))
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        let now = self.clock.now();
        self.lock().insert(key, value.to_vec(), now + ttl, now)
    }

    async fn set_nx(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, CacheError> {
        let now = self.clock.now();
        let mut inner = self.lock();
        if inner.live(key, now).is_some() {
            return Ok(false);
        }
        inner.insert(key, value.to_vec(), now + ttl, now)?;
        Ok(true)
    }

    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let mut inner = self.lock();
        inner.live(key, self.clock.now());
        Ok(inner.remove(key))
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.lock().remove(key);
        Ok(())
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<i64, CacheError> {
        let now = self.clock.now();
        let mut inner = self.lock();
        let (n, expires) = match inner.live(key, now) {
            Some((v, exp)) => (counter(key, v)? + 1, *exp),
            None => (1, now + ttl),
        };
        inner.insert(key, n.to_string().into_bytes(), expires, now)?;
        Ok(n)
    }

    async fn decr(&self, key: &str) -> Result<i64, CacheError> {
        let now = self.clock.now();
        let mut inner = self.lock();
        let Some((v, expires)) = inner.live(key, now) else {
            return Ok(0);
        };
        let (n, expires) = (counter(key, v)? - 1, *expires);
        inner.insert(key, n.to_string().into_bytes(), expires, now)?;
        Ok(n)
    }

    async fn ping(&self) -> Result<(), CacheError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn a_full_cache_refuses_new_entries_and_keeps_the_live_ones() {
        let c = MemoryCache::with_limits(Limits {
            max_entries: 3,
            max_bytes: 1 << 20,
        });
        c.set("session", b"v", LONG).await.unwrap();
        c.set("code", b"v", LONG).await.unwrap();
        assert_eq!(c.incr("bf:n", LONG).await.unwrap(), 1);
        assert!(matches!(
            c.set("flood", b"v", LONG).await,
            Err(CacheError::Full)
        ));
        assert!(matches!(
            c.set_nx("flood", b"v", LONG).await,
            Err(CacheError::Full)
        ));
        assert!(matches!(c.incr("flood", LONG).await, Err(CacheError::Full)));
        for k in ["session", "code", "bf:n"] {
            assert!(c.get(k).await.unwrap().is_some(), "{k} is never evicted");
        }
        // What is there may still change: overwritten, counted, taken, deleted.
        c.set("session", b"w", LONG).await.unwrap();
        assert_eq!(c.incr("bf:n", LONG).await.unwrap(), 2);
        assert_eq!(c.decr("bf:n").await.unwrap(), 1);
        assert_eq!(c.take("code").await.unwrap().as_deref(), Some(&b"v"[..]));
        c.set("new", b"v", LONG).await.unwrap();
        c.delete("new").await.unwrap();
        assert_eq!(c.lock().map.len(), 2);
    }

    #[tokio::test]
    async fn expired_entries_make_room_first() {
        let c = MemoryCache::with_limits(Limits {
            max_entries: 2,
            max_bytes: 1 << 20,
        });
        c.set("old", b"v", Duration::from_millis(20)).await.unwrap();
        c.set("live", b"v", LONG).await.unwrap();
        tokio::time::sleep(Duration::from_millis(40)).await;
        c.set("new", b"v", LONG).await.unwrap();
        assert!(c.get("live").await.unwrap().is_some());
        assert!(c.get("new").await.unwrap().is_some());
    }

    #[tokio::test]
    async fn bytes_are_bounded_and_given_back() {
        let c = MemoryCache::with_limits(Limits {
            max_entries: 1000,
            max_bytes: 4 * (1000 + ENTRY_OVERHEAD + 2),
        });
        let big = vec![7u8; 1000];
        for k in ["k1", "k2", "k3", "k4"] {
            c.set(k, &big, LONG).await.unwrap();
        }
        assert!(matches!(
            c.set("k5", &big, LONG).await,
            Err(CacheError::Full)
        ));
        assert!(matches!(
            c.set("k1", &[big.as_slice(), b"more"].concat(), LONG).await,
            Err(CacheError::Full)
        ));
        c.set("k1", b"small", LONG).await.unwrap();
        assert!(c.take("k2").await.unwrap().is_some());
        c.set("k5", &big, LONG).await.unwrap();
        c.delete("k3").await.unwrap();
        c.set("k6", &big, LONG).await.unwrap();
        assert!(matches!(
            c.set("k7", &big, LONG).await,
            Err(CacheError::Full)
        ));
        let inner = c.lock();
        let counted: usize = inner.map.iter().map(|(k, (v, _))| cost(k, v)).sum();
        assert_eq!(inner.bytes, counted, "the byte count follows every change");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_flood_stops_at_the_bound() {
        let c = MemoryCache::with_limits(Limits {
            max_entries: 500,
            max_bytes: 64 << 20,
        });
        let tasks: Vec<_> = (0..8)
            .map(|t| {
                let c = c.clone();
                tokio::spawn(async move {
                    let mut refused = 0;
                    for i in 0..200 {
                        if c.set(&format!("{t}:{i}"), b"x", LONG).await.is_err() {
                            refused += 1;
                        }
                    }
                    refused
                })
            })
            .collect();
        let mut refused = 0;
        for t in tasks {
            refused += t.await.unwrap();
        }
        assert_eq!(refused, 1600 - 500);
        assert_eq!(c.lock().map.len(), 500);
    }

    #[tokio::test]
    async fn a_manual_clock_expires_entries_without_waiting() {
        let clock = Clock::manual();
        let c = MemoryCache::with_clock(Limits::default(), clock.clone());
        c.set("v", b"1", Duration::from_secs(30)).await.unwrap();
        assert_eq!(c.incr("n", Duration::from_secs(30)).await.unwrap(), 1);
        clock.advance(Duration::from_secs(29));
        assert!(c.get("v").await.unwrap().is_some(), "still live at 29 s");
        clock.advance(Duration::from_secs(1));
        assert_eq!(c.get("v").await.unwrap(), None, "gone at 30 s");
        assert_eq!(
            c.incr("n", Duration::from_secs(30)).await.unwrap(),
            1,
            "a counter's window restarts"
        );
    }
}
