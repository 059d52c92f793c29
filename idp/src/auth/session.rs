//! The SSO session at the portal (one sign-in serves every app until sign-out).
//! It lives in the cache under the SHA-256 of the cookie value, so a leaked
//! cache dump holds no usable cookies. Idle timeout via the cache TTL
//! (refreshed at most once a minute), absolute timeout via `created_at`.
//!
//! An ended session leaves a marker under its `sid` for as long as it could
//! have lived, and every read checks it: a request that read the session
//! before the sign-out and writes it back afterwards (the idle-time refresh,
//! a step-up) cannot bring it back.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::cache::{Cache, CacheBackend, CacheError, keys};
use crate::config::SessionConfig;
use crate::crypto::{self, CryptoError};
use crate::ids::UserId;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SsoSession {
    /// Public session id: the `sid` claim (OIDC Front/Back-Channel Logout).
    pub sid: String,
    pub user_id: UserId,
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub acr: String,
    pub created_at: i64,
    pub last_seen: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// The SHA-256 of a cookie: names the session in the cache and in the
/// per-person index, so either can end it without knowing the cookie.
pub fn key_hash(cookie: &str) -> String {
    keys::hash(cookie)
}

/// Marks `sid` ended, for as long as any session could live.
async fn mark_ended(cache: &Cache, cfg: &SessionConfig, sid: &str) -> Result<(), SessionError> {
    let ttl = Duration::from_secs(cfg.absolute_timeout_secs.max(1));
    cache.set(&keys::session_ended(sid), b"1", ttl).await?;
    Ok(())
}

/// `true` once the session `sid` was ended (signed out, or ended from another session).
pub async fn has_ended(cache: &Cache, sid: &str) -> Result<bool, SessionError> {
    Ok(cache.get(&keys::session_ended(sid)).await?.is_some())
}

/// Starts a session; returns the cookie value (the only copy of the secret).
pub async fn create(
    cache: &Cache,
    cfg: &SessionConfig,
    user_id: &UserId,
    amr: Vec<String>,
    acr: &str,
    now: i64,
) -> Result<(String, SsoSession), SessionError> {
    let cookie = crypto::random_token()?;
    let session = SsoSession {
        sid: crypto::random_id()?,
        user_id: user_id.clone(),
        auth_time: now,
        amr,
        acr: acr.to_owned(),
        created_at: now,
        last_seen: now,
    };
    save(cache, cfg, &cookie, &session).await?;
    Ok((cookie, session))
}

async fn save(
    cache: &Cache,
    cfg: &SessionConfig,
    cookie: &str,
    s: &SsoSession,
) -> Result<(), SessionError> {
    cache
        .set_json(
            &keys::session(cookie),
            s,
            Duration::from_secs(cfg.idle_timeout_secs),
        )
        .await?;
    Ok(())
}

/// The live session behind a cookie, or `None` when absent or timed out.
pub async fn load(
    cache: &Cache,
    cfg: &SessionConfig,
    cookie: &str,
    now: i64,
) -> Result<Option<SsoSession>, SessionError> {
    let Some(mut s) = cache.get_json::<SsoSession>(&keys::session(cookie)).await? else {
        return Ok(None);
    };
    let limit = i64::try_from(cfg.absolute_timeout_secs).unwrap_or(i64::MAX);
    if now >= s.created_at.saturating_add(limit) || has_ended(cache, &s.sid).await? {
        cache.delete(&keys::session(cookie)).await?;
        return Ok(None);
    }
    if now - s.last_seen >= 60 {
        s.last_seen = now;
        save(cache, cfg, cookie, &s).await?;
    }
    Ok(Some(s))
}

/// Raises the session behind `cookie` (which must be `sid`) to a stronger
/// sign-in: a second factor for an app that needs one.
pub async fn raise(
    cache: &Cache,
    cfg: &SessionConfig,
    cookie: &str,
    sid: &str,
    amr: Vec<String>,
    acr: &str,
    now: i64,
) -> Result<Option<SsoSession>, SessionError> {
    let Some(mut s) = load(cache, cfg, cookie, now).await? else {
        return Ok(None);
    };
    if s.sid != sid {
        return Ok(None);
    }
    s.amr = amr;
    s.acr = acr.to_owned();
    save(cache, cfg, cookie, &s).await?;
    Ok(Some(s))
}

/// Ends the session behind a cookie; returns it so the caller can tell its apps.
pub async fn destroy(
    cache: &Cache,
    cfg: &SessionConfig,
    cookie: &str,
) -> Result<Option<SsoSession>, SessionError> {
    destroy_by_hash(cache, cfg, &key_hash(cookie)).await
}

/// Ends a session named by its [`key_hash`] (another of the person's sessions).
pub async fn destroy_by_hash(
    cache: &Cache,
    cfg: &SessionConfig,
    hash: &str,
) -> Result<Option<SsoSession>, SessionError> {
    let s = cache
        .take_json::<SsoSession>(&keys::session_by_hash(hash))
        .await?;
    if let Some(s) = &s {
        mark_ended(cache, cfg, &s.sid).await?;
    }
    Ok(s)
}

/// Ends a session known from the per-person index (it may be gone from the
/// cache already): marked first, so a write in flight cannot revive it.
pub async fn end_by_hash(
    cache: &Cache,
    cfg: &SessionConfig,
    hash: &str,
    sid: &str,
) -> Result<(), SessionError> {
    // Marked first; deleted even if the mark cannot be written (a full cache).
    let marked = mark_ended(cache, cfg, sid).await;
    cache.delete(&keys::session_by_hash(hash)).await?;
    marked
}

/// A session named by its [`key_hash`], as it is now (no timeout refresh).
pub async fn peek_by_hash(
    cache: &Cache,
    cfg: &SessionConfig,
    hash: &str,
    now: i64,
) -> Result<Option<SsoSession>, SessionError> {
    let Some(s) = cache
        .get_json::<SsoSession>(&keys::session_by_hash(hash))
        .await?
    else {
        return Ok(None);
    };
    let limit = i64::try_from(cfg.absolute_timeout_secs).unwrap_or(i64::MAX);
    if now >= s.created_at.saturating_add(limit) || has_ended(cache, &s.sid).await? {
        return Ok(None);
    }
    Ok(Some(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> SessionConfig {
        SessionConfig {
            idle_timeout_secs: 100,
            absolute_timeout_secs: 1000,
            login_request_ttl_secs: 10,
        }
    }

    #[tokio::test]
    async fn session_lives_until_absolute_timeout_and_destroy() {
        let cache = Cache::Memory(crate::cache::MemoryCache::new());
        let (cookie, _) = create(
            &cache,
            &cfg(),
            &UserId::from("u1"),
            vec!["pwd".into()],
            "1",
            5000,
        )
        .await
        .unwrap();
        assert_eq!(
            load(&cache, &cfg(), &cookie, 5010)
                .await
                .unwrap()
                .unwrap()
                .user_id,
            "u1"
        );
        assert!(load(&cache, &cfg(), "other", 5010).await.unwrap().is_none());
        // Activity more than a minute later moves last_seen (the idle timeout restarts).
        assert_eq!(
            load(&cache, &cfg(), &cookie, 5070)
                .await
                .unwrap()
                .unwrap()
                .last_seen,
            5070
        );
        assert_eq!(
            load(&cache, &cfg(), &cookie, 5080)
                .await
                .unwrap()
                .unwrap()
                .last_seen,
            5070
        );
        assert!(
            load(&cache, &cfg(), &cookie, 6000).await.unwrap().is_none(),
            "absolute timeout"
        );
        let (cookie, _) = create(&cache, &cfg(), &UserId::from("u1"), vec![], "1", 5000)
            .await
            .unwrap();
        assert!(destroy(&cache, &cfg(), &cookie).await.unwrap().is_some());
        assert!(load(&cache, &cfg(), &cookie, 5001).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_write_in_flight_cannot_revive_an_ended_session() {
        let cache = Cache::Memory(crate::cache::MemoryCache::new());
        let (cookie, _) = create(
            &cache,
            &cfg(),
            &UserId::from("u1"),
            vec!["pwd".into()],
            "1",
            5000,
        )
        .await
        .unwrap();
        // A request reads the session, the person signs out, the request
        // writes the session back with its new idle time.
        let read = load(&cache, &cfg(), &cookie, 5001).await.unwrap().unwrap();
        let ended = destroy(&cache, &cfg(), &cookie).await.unwrap().unwrap();
        assert_eq!(ended.sid, read.sid);
        save(&cache, &cfg(), &cookie, &read).await.unwrap();
        assert!(load(&cache, &cfg(), &cookie, 5070).await.unwrap().is_none());
        assert!(
            peek_by_hash(&cache, &cfg(), &key_hash(&cookie), 5070)
                .await
                .unwrap()
                .is_none()
        );
        // The same through a step-up that wrote the session back.
        save(&cache, &cfg(), &cookie, &read).await.unwrap();
        let c = cfg();
        let raised = raise(
            &cache,
            &c,
            &cookie,
            &read.sid,
            vec!["otp".into()],
            "2",
            5080,
        );
        assert!(raised.await.unwrap().is_none());

        // A session ended from the index (gone from the cache or not).
        let (other, s) = create(&cache, &cfg(), &UserId::from("u1"), vec![], "1", 5000)
            .await
            .unwrap();
        end_by_hash(&cache, &cfg(), &key_hash(&other), &s.sid)
            .await
            .unwrap();
        save(&cache, &cfg(), &other, &s).await.unwrap();
        assert!(load(&cache, &cfg(), &other, 5001).await.unwrap().is_none());
    }
}
