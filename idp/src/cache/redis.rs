//! The shared cache on Redis: every node sees the same sessions, codes and
//! counters. Keys are prefixed `dn:`; every write carries a TTL.

use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use super::{CacheBackend, CacheError};

const PREFIX: &str = "dn:";

#[derive(Clone)]
pub struct RedisCache {
    conn: ConnectionManager,
}

impl RedisCache {
    /// Connects (with automatic reconnection); fails fast if Redis is not there at start.
    pub async fn connect(url: &str) -> Result<RedisCache, CacheError> {
        let client = redis::Client::open(url)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(3)))
            .set_response_timeout(Some(Duration::from_secs(3)))
            .set_number_of_retries(2);
        let conn = ConnectionManager::new_with_config(client, config).await?;
        Ok(RedisCache { conn })
    }
}

/// Decrements a counter only while it exists (TTL kept).
const DECR_IF_PRESENT: &str = "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) else return 0 end";

fn k(key: &str) -> String {
    format!("{PREFIX}{key}")
}

fn ms(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl CacheBackend for RedisCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        Ok(self.conn.clone().get(k(key)).await?)
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        let _: () = redis::cmd("SET")
            .arg(k(key))
            .arg(value)
            .arg("PX")
            .arg(ms(ttl))
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    async fn set_nx(&self, key: &str, value: &[u8], ttl: Duration) -> Result<bool, CacheError> {
        let r: Option<String> = redis::cmd("SET")
            .arg(k(key))
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(ms(ttl))
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(r.is_some())
    }

    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        Ok(redis::cmd("GETDEL")
            .arg(k(key))
            .query_async(&mut self.conn.clone())
            .await?)
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        let _: i64 = self.conn.clone().del(k(key)).await?;
        Ok(())
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<i64, CacheError> {
        let key = k(key);
        // INCR and PEXPIRE NX in one transaction: the window starts at the first hit.
        let (n, _): (i64, i64) = redis::pipe()
            .atomic()
            .cmd("INCR")
            .arg(&key)
            .cmd("PEXPIRE")
            .arg(&key)
            .arg(ms(ttl))
            .arg("NX")
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(n)
    }

    async fn decr(&self, key: &str) -> Result<i64, CacheError> {
        // One script: DECR alone would bring back an expired counter at -1.
        Ok(redis::cmd("EVAL")
            .arg(DECR_IF_PRESENT)
            .arg(1)
            .arg(k(key))
            .query_async(&mut self.conn.clone())
            .await?)
    }

    async fn ping(&self) -> Result<(), CacheError> {
        let _: String = redis::cmd("PING")
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }
}
