//! The single-node cache: a map behind a mutex, with expiry checked on read
//! and swept as it grows.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{CacheBackend, CacheError};

#[derive(Clone, Default)]
pub struct MemoryCache {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    map: HashMap<String, (Vec<u8>, Instant)>,
    writes_since_sweep: usize,
}

impl Inner {
    fn live(&mut self, key: &str, now: Instant) -> Option<&mut (Vec<u8>, Instant)> {
        if self.map.get(key).is_some_and(|(_, exp)| *exp <= now) {
            self.map.remove(key);
        }
        self.map.get_mut(key)
    }

    fn insert(&mut self, key: &str, value: Vec<u8>, expires: Instant, now: Instant) {
        self.writes_since_sweep += 1;
        // Amortised sweep: cost stays proportional to writes.
        if self.writes_since_sweep > 1024 && self.writes_since_sweep > self.map.len() {
            self.map.retain(|_, (_, exp)| *exp > now);
            self.writes_since_sweep = 0;
        }
        self.map.insert(key.to_owned(), (value, expires));
    }
}

impl MemoryCache {
    pub fn new() -> MemoryCache {
        MemoryCache::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the map half-updated, so keep serving.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl CacheBackend for MemoryCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        Ok(self
            .lock()
            .live(key, Instant::now())
            .map(|(v, _)| v.clone()))
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        let now = Instant::now();
        self.lock().insert(key, value.to_vec(), now + ttl, now);
        Ok(())
    }

    async fn set_nx(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, CacheError> {
        let now = Instant::now();
        let mut inner = self.lock();
        if inner.live(key, now).is_some() {
            return Ok(false);
        }
        inner.insert(key, value.to_vec(), now + ttl, now);
        Ok(true)
    }

    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let mut inner = self.lock();
        let now = Instant::now();
        inner.live(key, now);
        Ok(inner.map.remove(key).map(|(v, _)| v))
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.lock().map.remove(key);
        Ok(())
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<i64, CacheError> {
        let now = Instant::now();
        let mut inner = self.lock();
        if let Some((v, _)) = inner.live(key, now) {
            let n = std::str::from_utf8(v)
                .ok()
                .and_then(|s| s.parse::<i64>().ok())
                .ok_or_else(|| CacheError::Decode(format!("{key} is not a counter")))?
                + 1;
            *v = n.to_string().into_bytes();
            return Ok(n);
        }
        inner.insert(key, b"1".to_vec(), now + ttl, now);
        Ok(1)
    }

    async fn ping(&self) -> Result<(), CacheError> {
        Ok(())
    }
}
