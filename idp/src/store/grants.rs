//! Grants: one per authorization a person gave a client, holding the
//! refresh-token family (rotation with reuse detection, RFC 9700 §4.14.2).

use super::{Store, StoreError, json_list, to_json};
use crate::ids::{ClientId, UserId};

#[derive(Clone, Debug)]
pub struct Grant {
    pub id: String,
    pub client_id: ClientId,
    pub user_id: UserId,
    pub sid: Option<String>,
    pub scope: String,
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub acr: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    client_id: ClientId,
    user_id: UserId,
    sid: Option<String>,
    scope: String,
    auth_time: i64,
    amr: String,
    acr: String,
    created_at: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
}

impl TryFrom<Row> for Grant {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Grant, StoreError> {
        Ok(Grant {
            amr: json_list(&r.amr, "grants.amr")?,
            id: r.id,
            client_id: r.client_id,
            user_id: r.user_id,
            sid: r.sid,
            scope: r.scope,
            auth_time: r.auth_time,
            acr: r.acr,
            created_at: r.created_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
        })
    }
}

/// What happened when a refresh token was presented.
#[derive(Debug)]
pub enum RefreshUse {
    /// First use: the token is now spent and `grant` may get a new one.
    Fresh(Grant),
    /// The token was already spent: someone replays it. The caller revokes the family.
    Reused(Grant),
    /// Unknown token.
    Unknown,
}

macro_rules! columns {
    () => {
        "id, client_id, user_id, sid, scope, auth_time, amr, acr, created_at, expires_at, revoked_at"
    };
}

impl Store {
    /// Records a grant and its first refresh token (if any) together;
    /// `false` (nothing recorded) when the grant's session has ended. The
    /// session row is updated first in the same transaction: its lock orders
    /// this against a sign-out (see `Store::end_session`), so a code issued
    /// just before a sign-out cannot yield a grant the sign-out missed.
    pub async fn create_grant(
        &self,
        g: &Grant,
        refresh_hash: Option<&str>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        if let Some(sid) = &g.sid {
            let live = sqlx::query(
                "UPDATE sso_sessions SET last_grant_at = $1 WHERE sid = $2 AND user_id = $3 AND ended_at IS NULL",
            )
            .bind(g.created_at)
            .bind(sid)
            .bind(&g.user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if !live {
                tx.rollback().await?;
                return Ok(false);
            }
        }
        sqlx::query(concat!(
            "INSERT INTO grants (",
            columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL)"
        ))
        .bind(&g.id)
        .bind(&g.client_id)
        .bind(&g.user_id)
        .bind(&g.sid)
        .bind(&g.scope)
        .bind(g.auth_time)
        .bind(to_json(&g.amr))
        .bind(&g.acr)
        .bind(g.created_at)
        .bind(g.expires_at)
        .execute(&mut *tx)
        .await?;
        if let Some(hash) = refresh_hash {
            sqlx::query(
                "INSERT INTO refresh_tokens (token_hash, grant_id, created_at) VALUES ($1, $2, $3)",
            )
            .bind(hash)
            .bind(&g.id)
            .bind(g.created_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn grant(&self, id: &str) -> Result<Option<Grant>, StoreError> {
        let row: Option<Row> =
            sqlx::query_as(concat!("SELECT ", columns!(), " FROM grants WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(Grant::try_from).transpose()
    }

    /// Looks a refresh token up without spending it (introspection).
    pub async fn refresh_token(
        &self,
        hash: &str,
    ) -> Result<Option<(Grant, Option<i64>)>, StoreError> {
        let used: Option<(String, Option<i64>)> =
            sqlx::query_as("SELECT grant_id, used_at FROM refresh_tokens WHERE token_hash = $1")
                .bind(hash)
                .fetch_optional(&self.pool)
                .await?;
        let Some((grant_id, used_at)) = used else {
            return Ok(None);
        };
        Ok(self.grant(&grant_id).await?.map(|g| (g, used_at)))
    }

    /// Spends a refresh token. The conditional UPDATE makes exactly one of
    /// several concurrent uses (on any node) the fresh one.
    pub async fn use_refresh_token(&self, hash: &str, now: i64) -> Result<RefreshUse, StoreError> {
        let spent = sqlx::query(
            "UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
        )
        .bind(now)
        .bind(hash)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        match self.refresh_token(hash).await? {
            None => Ok(RefreshUse::Unknown),
            Some((grant, _)) if spent => Ok(RefreshUse::Fresh(grant)),
            Some((grant, _)) => Ok(RefreshUse::Reused(grant)),
        }
    }

    pub async fn add_refresh_token(
        &self,
        grant_id: &str,
        hash: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, grant_id, created_at) VALUES ($1, $2, $3)",
        )
        .bind(hash)
        .bind(grant_id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Revokes a grant; `false` when it was unknown or already revoked.
    pub async fn revoke_grant(&self, id: &str, reason: &str, now: i64) -> Result<bool, StoreError> {
        let r = sqlx::query("UPDATE grants SET revoked_at = $1, revoke_reason = $2 WHERE id = $3 AND revoked_at IS NULL")
            .bind(now)
            .bind(reason)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// The clients that redeemed a code in one SSO session: the apps that
    /// hold a session of their own and must hear of its end.
    pub async fn clients_of_session(&self, sid: &str) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT client_id FROM grants WHERE sid = $1 ORDER BY client_id",
        )
        .bind(sid)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(c,)| c).collect())
    }

    /// Deletes grants that expired before `before` (housekeeping).
    pub async fn purge_expired_grants(&self, before: i64) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM grants WHERE expires_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }
}
