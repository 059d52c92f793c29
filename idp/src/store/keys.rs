//! Signing keys, sealed with the master key. Each algorithm has one `current`
//! key that signs, one `next` key already published, and `previous` keys still
//! published until tokens signed by them have expired.

use super::{Store, StoreError, conflict};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct KeyRow {
    pub kid: String,
    pub alg: String,
    pub state: String,
    pub sealed_der: Vec<u8>,
    pub public_jwk: String,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! columns {
    () => {
        "kid, alg, state, sealed_der, public_jwk, created_at, updated_at"
    };
}

impl Store {
    /// Keys that are published: next, current and previous.
    pub async fn live_keys(&self) -> Result<Vec<KeyRow>, StoreError> {
        Ok(sqlx::query_as(concat!("SELECT ", columns!(), " FROM signing_keys WHERE state IN ('next', 'current', 'previous') ORDER BY created_at, kid"))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Inserts a key; `Conflict` when another node already created the live key of that state.
    pub async fn insert_key(&self, k: &KeyRow) -> Result<(), StoreError> {
        sqlx::query(concat!(
            "INSERT INTO signing_keys (",
            columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(&k.kid)
        .bind(&k.alg)
        .bind(&k.state)
        .bind(&k.sealed_der)
        .bind(&k.public_jwk)
        .bind(k.created_at)
        .bind(k.updated_at)
        .execute(&self.pool)
        .await
        .map_err(|e| conflict(e, &format!("{} key of {}", k.state, k.alg)))?;
        Ok(())
    }

    /// Retires the previous keys that stopped being current at or before
    /// `before` (their tokens have all expired); returns how many.
    pub async fn retire_keys(&self, before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE signing_keys SET state = 'retired' WHERE state = 'previous' AND updated_at <= $1",
        )
        .bind(before)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// current → previous, next → current, `new_next` → next; one transaction.
    /// Previous keys stay published (`updated_at` says since when) until
    /// `retire_keys`: a second rotation must not orphan live tokens.
    pub async fn rotate_keys(
        &self,
        alg: &str,
        new_next: &KeyRow,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        for (from, to) in [("current", "previous"), ("next", "current")] {
            sqlx::query(
                "UPDATE signing_keys SET state = $1, updated_at = $2 WHERE alg = $3 AND state = $4",
            )
            .bind(to)
            .bind(now)
            .bind(alg)
            .bind(from)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(concat!(
            "INSERT INTO signing_keys (",
            columns!(),
            ") VALUES ($1, $2, 'next', $3, $4, $5, $6)"
        ))
        .bind(&new_next.kid)
        .bind(alg)
        .bind(&new_next.sealed_der)
        .bind(&new_next.public_jwk)
        .bind(new_next.created_at)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict(e, "next key"))?;
        tx.commit().await?;
        Ok(())
    }
}
