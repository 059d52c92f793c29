//! `[memory_cache]`: how much the in-memory cache may hold (without `redis_url`).

use serde::Deserialize;

use super::{ConfigError, invalid};

/// `[memory_cache]`: how much the in-memory cache may hold (Redis has its
/// own `maxmemory`). When full, expired entries are dropped first; if it is
/// still full a new entry is refused (the request fails) rather than a live
/// one evicted: live entries are lock counters, replay markers and sessions.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MemoryCacheConfig {
    /// At most this many entries (sessions, codes, pending sign-ins, counters).
    pub max_entries: usize,
    /// At most this many bytes of keys and values (with a per-entry overhead).
    pub max_bytes: usize,
}

impl Default for MemoryCacheConfig {
    fn default() -> Self {
        let d = crate::cache::Limits::default();
        MemoryCacheConfig {
            max_entries: d.max_entries,
            max_bytes: d.max_bytes,
        }
    }
}

impl MemoryCacheConfig {
    pub fn limits(&self) -> crate::cache::Limits {
        crate::cache::Limits {
            max_entries: self.max_entries,
            max_bytes: self.max_bytes,
        }
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.max_entries < 1000 {
            return Err(invalid(
                "memory_cache.max_entries",
                "must be at least 1000; e.g. IDP_MEMORY_CACHE__MAX_ENTRIES=100000",
            ));
        }
        if self.max_bytes < 1024 * 1024 {
            return Err(invalid(
                "memory_cache.max_bytes",
                "must be at least 1048576 (1 MiB); e.g. IDP_MEMORY_CACHE__MAX_BYTES=67108864",
            ));
        }
        Ok(())
    }
}
