//! Every value sealed with the master key, by table, so an upgrade can seal
//! them again under a new key (see `crate::reseal`). A row is replaced only
//! while it still holds what was read: nodes starting together, a rotation
//! or a new enrolment meanwhile are never overwritten.

use super::{Store, StoreError};
use crate::ids::UserId;

impl Store {
    /// `(kid, sealed_der)` of every signing key, retired ones included.
    pub async fn sealed_signing_keys(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT kid, sealed_der FROM signing_keys ORDER BY created_at, kid")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Replaces a key's sealed form if it is still `old` (its state and
    /// `updated_at` are left alone); `false` when it no longer was.
    pub async fn reseal_signing_key(
        &self,
        kid: &str,
        old: &[u8],
        new: &[u8],
    ) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE signing_keys SET sealed_der = $1 WHERE kid = $2 AND sealed_der = $3",
        )
        .bind(new)
        .bind(kid)
        .bind(old)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// `(user_id, secret)` of every authenticator-app factor.
    pub async fn sealed_totp_secrets(&self) -> Result<Vec<(UserId, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT user_id, secret FROM factors WHERE kind = 'totp' AND secret IS NOT NULL \
             ORDER BY user_id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Replaces an authenticator's sealed key if it is still `old`; `false`
    /// when it no longer was (re-enrolled, removed, or another node did it).
    pub async fn reseal_totp_secret(
        &self,
        user_id: &UserId,
        old: &str,
        new: &str,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE factors SET secret = $1 WHERE user_id = $2 AND kind = 'totp' AND secret = $3",
        )
        .bind(new)
        .bind(user_id)
        .bind(old)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }
}
