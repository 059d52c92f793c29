//! Short-lived state shared by every node: SSO sessions, authorization codes
//! and pending sign-ins, replay markers, revocation lists and rate counters.
//!
//! One capability trait, [`CacheBackend`], with two implementations:
//! [`MemoryCache`] for a single node and [`RedisCache`] when `IDP_REDIS_URL`
//! is set, so nothing a node holds in memory is needed by another node.

pub mod keys;
mod memory;
mod redis;

pub use self::memory::{Clock, Limits, MemoryCache};
pub use self::redis::RedisCache;

use std::future::Future;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("redis: {0}")]
    Redis(#[from] ::redis::RedisError),
    #[error("cache value is not valid: {0}")]
    Decode(String),
    /// The memory cache is at its bound and nothing expired could make room.
    #[error("the memory cache is full (memory_cache.max_entries or max_bytes)")]
    Full,
}

/// The operations the IdP needs; each is atomic on its own.
pub trait CacheBackend: Send + Sync {
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Vec<u8>>, CacheError>> + Send;
    fn set(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> impl Future<Output = Result<(), CacheError>> + Send;
    /// Sets only when absent; `true` when this call set it (replay guards).
    fn set_nx(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> impl Future<Output = Result<bool, CacheError>> + Send;
    /// Gets and deletes in one step: the value goes to exactly one caller (single-use codes).
    fn take(&self, key: &str) -> impl Future<Output = Result<Option<Vec<u8>>, CacheError>> + Send;
    fn delete(&self, key: &str) -> impl Future<Output = Result<(), CacheError>> + Send;
    /// Adds one and returns the new count; the TTL starts with the first increment.
    fn incr(
        &self,
        key: &str,
        ttl: Duration,
    ) -> impl Future<Output = Result<i64, CacheError>> + Send;
    /// Takes one off a live counter and returns the new count, keeping its
    /// TTL; a counter that is not there stays absent (and 0 is returned).
    /// Gives back what an `incr` reserved in advance.
    fn decr(&self, key: &str) -> impl Future<Output = Result<i64, CacheError>> + Send;
    fn ping(&self) -> impl Future<Output = Result<(), CacheError>> + Send;
}

/// The configured cache.
#[derive(Clone)]
pub enum Cache {
    Memory(MemoryCache),
    Redis(RedisCache),
}

impl Cache {
    pub async fn open(redis_url: Option<&str>) -> Result<Cache, CacheError> {
        Cache::open_with(redis_url, Limits::default()).await
    }

    /// As [`Cache::open`], with the memory cache's bounds.
    pub async fn open_with(redis_url: Option<&str>, limits: Limits) -> Result<Cache, CacheError> {
        Ok(match redis_url {
            None => Cache::Memory(MemoryCache::with_limits(limits)),
            Some(url) => Cache::Redis(RedisCache::connect(url).await?),
        })
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Cache::Memory(_) => "memory",
            Cache::Redis(_) => "redis",
        }
    }

    /// Reads a JSON value.
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<T>, CacheError> {
        decode(self.get(key).await?)
    }

    /// Takes (gets and deletes) a JSON value.
    pub async fn take_json<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<T>, CacheError> {
        decode(self.take(key).await?)
    }

    pub async fn set_json<T: serde::Serialize>(
        &self,
        key: &str,
        value: &T,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        let bytes = serde_json::to_vec(value).map_err(|e| CacheError::Decode(e.to_string()))?;
        self.set(key, &bytes, ttl).await
    }
}

fn decode<T: serde::de::DeserializeOwned>(bytes: Option<Vec<u8>>) -> Result<Option<T>, CacheError> {
    bytes
        .map(|b| serde_json::from_slice(&b).map_err(|e| CacheError::Decode(e.to_string())))
        .transpose()
}

macro_rules! dispatch {
    ($self:ident, $c:ident => $e:expr) => {
        match $self {
            Cache::Memory($c) => $e,
            Cache::Redis($c) => $e,
        }
    };
}

impl CacheBackend for Cache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        dispatch!(self, c => c.get(key).await)
    }
    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        dispatch!(self, c => c.set(key, value, ttl).await)
    }
    async fn set_nx(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, CacheError> {
        dispatch!(self, c => c.set_nx(key, value, ttl).await)
    }
    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        dispatch!(self, c => c.take(key).await)
    }
    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        dispatch!(self, c => c.delete(key).await)
    }
    async fn incr(&self, key: &str, ttl: Duration) -> Result<i64, CacheError> {
        dispatch!(self, c => c.incr(key, ttl).await)
    }
    async fn decr(&self, key: &str) -> Result<i64, CacheError> {
        dispatch!(self, c => c.decr(key).await)
    }
    async fn ping(&self) -> Result<(), CacheError> {
        dispatch!(self, c => c.ping().await)
    }
}
