//! An index of SSO sessions by person, so the account page can list them and
//! end the others. The session itself lives in the cache; a row here holds
//! only the SHA-256 of its cookie (the cache key), never the cookie.
//!
//! Ending sessions is one transaction: the session rows first (their row
//! locks order the end against a grant being created in the same session, see
//! `Store::create_grant`), then every grant of those sessions, set-based.

use super::{Store, StoreError};
use crate::ids::UserId;

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRow {
    pub sid: String,
    pub user_id: UserId,
    pub key_hash: String,
    pub created_at: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub ended_at: Option<i64>,
}

/// What [`Store::end_sessions_of_person`] ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndedSessions {
    /// `(sid, key_hash)` of each session ended now.
    pub sessions: Vec<(String, String)>,
    /// `(grant id, sid)` of each grant revoked now.
    pub grants: Vec<(String, Option<String>)>,
    /// `(sid, client_id)`: the apps of each session ended now or whose grant
    /// was revoked now (a session whose row had ended when it left the cache).
    pub apps: Vec<(String, String)>,
}

impl Store {
    pub async fn record_session(&self, s: &SessionRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sso_sessions (sid, user_id, key_hash, created_at, ip, user_agent, ended_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&s.sid)
        .bind(&s.user_id)
        .bind(&s.key_hash)
        .bind(s.created_at)
        .bind(&s.ip)
        .bind(&s.user_agent)
        .bind(s.ended_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The person's sessions not known to have ended, started after `since`, newest first.
    pub async fn open_sessions(
        &self,
        user_id: &UserId,
        since: i64,
    ) -> Result<Vec<SessionRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT sid, user_id, key_hash, created_at, ip, user_agent, ended_at FROM sso_sessions \
             WHERE user_id = $1 AND created_at > $2 AND ended_at IS NULL ORDER BY created_at DESC LIMIT 50",
        )
        .bind(user_id)
        .bind(since)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Ends one session and revokes its grants in one transaction; returns
    /// the ids of the grants revoked now.
    pub async fn end_session(
        &self,
        sid: &str,
        reason: &str,
        now: i64,
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE sso_sessions SET ended_at = $1 WHERE sid = $2 AND ended_at IS NULL")
            .bind(now)
            .bind(sid)
            .execute(&mut *tx)
            .await?;
        let ids: Vec<(String,)> = sqlx::query_as(
            "UPDATE grants SET revoked_at = $1, revoke_reason = $2 \
             WHERE sid = $3 AND revoked_at IS NULL RETURNING id",
        )
        .bind(now)
        .bind(reason)
        .bind(sid)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ids.into_iter().map(|(id,)| id).collect())
    }

    /// Ends every session of the person but `keep` (none: all of them) and
    /// revokes every grant of the person outside `keep`, however many there
    /// are and whether or not the session is still in the cache.
    pub async fn end_sessions_of_person(
        &self,
        user_id: &UserId,
        keep: Option<&str>,
        reason: &str,
        now: i64,
    ) -> Result<EndedSessions, StoreError> {
        // Session ids are never empty: "" keeps nothing.
        let keep = keep.unwrap_or_default();
        let mut tx = self.write_tx().await?;
        let sessions: Vec<(String, String)> = sqlx::query_as(
            "UPDATE sso_sessions SET ended_at = $1 \
             WHERE user_id = $2 AND ended_at IS NULL AND sid <> $3 RETURNING sid, key_hash",
        )
        .bind(now)
        .bind(user_id)
        .bind(keep)
        .fetch_all(&mut *tx)
        .await?;
        let grants: Vec<(String, Option<String>)> = sqlx::query_as(
            "UPDATE grants SET revoked_at = $1, revoke_reason = $2 \
             WHERE user_id = $3 AND revoked_at IS NULL AND (sid IS NULL OR sid <> $4) \
             RETURNING id, sid",
        )
        .bind(now)
        .bind(reason)
        .bind(user_id)
        .bind(keep)
        .fetch_all(&mut *tx)
        .await?;
        // Every app that had a session in an ended one hears of it, even one
        // whose grant was revoked before (its own session may still be open).
        let mut apps: Vec<(String, String)> = sqlx::query_as(
            "SELECT DISTINCT sid, client_id FROM grants WHERE user_id = $1 AND sid IS NOT NULL",
        )
        .bind(user_id)
        .fetch_all(&mut *tx)
        .await?;
        apps.retain(|(sid, _)| {
            sessions.iter().any(|(s, _)| s == sid)
                || grants
                    .iter()
                    .any(|(_, g)| g.as_deref() == Some(sid.as_str()))
        });
        apps.sort();
        tx.commit().await?;
        Ok(EndedSessions {
            sessions,
            grants,
            apps,
        })
    }

    /// The row of session `sid`, ended or not.
    pub async fn session_by_sid(&self, sid: &str) -> Result<Option<SessionRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT sid, user_id, key_hash, created_at, ip, user_agent, ended_at FROM sso_sessions \
             WHERE sid = $1",
        )
        .bind(sid)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn end_session_row(&self, sid: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE sso_sessions SET ended_at = $1 WHERE sid = $2 AND ended_at IS NULL")
            .bind(now)
            .bind(sid)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forgets sessions started before `before` (past any absolute timeout).
    pub async fn purge_sessions(&self, before: i64) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM sso_sessions WHERE created_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }
}
