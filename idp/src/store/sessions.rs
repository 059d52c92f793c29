//! An index of SSO sessions by person, so the account page can list them and
//! end the others. The session itself lives in the cache; a row here holds
//! only the SHA-256 of its cookie (the cache key), never the cookie.

use super::{Store, StoreError};

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRow {
    pub sid: String,
    pub user_id: String,
    pub key_hash: String,
    pub created_at: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub ended_at: Option<i64>,
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
        user_id: &str,
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
