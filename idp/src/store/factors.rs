//! Second factors, recovery codes and the browsers each person has used.

use super::{Store, StoreError};
use crate::ids::UserId;
use crate::kinds::FactorKind;

/// An enrolled second factor: `totp` (a sealed key) or `email` (an address).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Factor {
    pub user_id: UserId,
    pub kind: FactorKind,
    pub secret: Option<String>,
    pub address: Option<String>,
    pub last_step: i64,
    pub created_at: i64,
}

impl Store {
    pub async fn factors(&self, user_id: &UserId) -> Result<Vec<Factor>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT user_id, kind, secret, address, last_step, created_at FROM factors \
             WHERE user_id = $1 ORDER BY kind DESC",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Adds a factor, replacing one of the same kind.
    pub async fn put_factor(&self, f: &Factor) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO factors (user_id, kind, secret, address, last_step, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id, kind) DO UPDATE SET \
             secret = excluded.secret, address = excluded.address, last_step = excluded.last_step, \
             created_at = excluded.created_at",
        )
        .bind(&f.user_id)
        .bind(f.kind)
        .bind(&f.secret)
        .bind(&f.address)
        .bind(f.last_step)
        .bind(f.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Removes one factor; with the last one go the recovery codes. With
    /// `keep_one` (a person who must keep a factor) only while another kind
    /// remains: `false` when nothing was removed.
    pub async fn delete_factor(
        &self,
        user_id: &UserId,
        kind: FactorKind,
        keep_one: bool,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        // Locks the person's row (PostgreSQL) or the database (SQLite) first, so
        // two removals of different factors cannot each see the other's factor
        // still there and leave none.
        sqlx::query("UPDATE users SET updated_at = updated_at WHERE id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let r = sqlx::query(
            "DELETE FROM factors WHERE user_id = $1 AND kind = $2 \
             AND ($3 = 0 OR EXISTS (SELECT 1 FROM factors o WHERE o.user_id = $1 AND o.kind <> $2))",
        )
        .bind(user_id)
        .bind(kind)
        .bind(i64::from(keep_one))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM recovery_codes WHERE user_id = $1 \
             AND NOT EXISTS (SELECT 1 FROM factors WHERE user_id = $1)",
        )
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(r.rows_affected() == 1)
    }

    /// Removes every factor and recovery code (an administrator's reset);
    /// returns how many factors there were.
    pub async fn reset_factors(&self, user_id: &UserId) -> Result<u64, StoreError> {
        let mut tx = self.write_tx().await?;
        let r = sqlx::query("DELETE FROM factors WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(r.rows_affected())
    }

    /// Stores a new enrolment code (its hash) for a person, replacing any
    /// earlier one.
    pub async fn put_enrolment_code(
        &self,
        user_id: &UserId,
        code_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO enrolment_codes (user_id, code_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO UPDATE SET \
             code_hash = excluded.code_hash, created_at = excluded.created_at, \
             expires_at = excluded.expires_at",
        )
        .bind(user_id)
        .bind(code_hash)
        .bind(now)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Spends an enrolment code: `true` for exactly one caller while it is
    /// live (a conditional DELETE, so two nodes cannot both use it).
    pub async fn take_enrolment_code(
        &self,
        user_id: &UserId,
        code_hash: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "DELETE FROM enrolment_codes WHERE user_id = $1 AND code_hash = $2 AND expires_at > $3",
        )
        .bind(user_id)
        .bind(code_hash)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Accepts a TOTP time step once: `false` when this step (or a later
    /// one) was already used, so a code seen over a shoulder is worthless.
    pub async fn use_totp_step(&self, user_id: &UserId, step: i64) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE factors SET last_step = $1 WHERE user_id = $2 AND kind = 'totp' AND last_step < $1",
        )
        .bind(step)
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Replaces the person's recovery codes with these hashes.
    pub async fn replace_recovery_codes(
        &self,
        user_id: &UserId,
        hashes: &[String],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        for h in hashes {
            sqlx::query(
                "INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)",
            )
            .bind(user_id)
            .bind(h)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Spends a recovery code; `false` when it is not one or was used.
    pub async fn use_recovery_code(
        &self,
        user_id: &UserId,
        hash: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(now)
        .bind(user_id)
        .bind(hash)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn recovery_codes_left(&self, user_id: &UserId) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
        )
        .bind(user_id)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Notes a sign-in from a browser; `Some(first)` when it is new to this
    /// person, `first` telling whether it is the person's first browser at all.
    pub async fn touch_device(
        &self,
        user_id: &UserId,
        device_hash: &str,
        now: i64,
    ) -> Result<Option<bool>, StoreError> {
        let seen = sqlx::query(
            "UPDATE known_devices SET last_seen = $1 WHERE user_id = $2 AND device_hash = $3",
        )
        .bind(now)
        .bind(user_id)
        .bind(device_hash)
        .execute(&self.pool)
        .await?;
        if seen.rows_affected() == 1 {
            return Ok(None);
        }
        let before: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM known_devices WHERE user_id = $1")
                .bind(user_id)
                .fetch_one(&self.pool)
                .await?;
        sqlx::query(
            "INSERT INTO known_devices (user_id, device_hash, first_seen, last_seen) VALUES ($1, $2, $3, $3) \
             ON CONFLICT (user_id, device_hash) DO NOTHING",
        )
        .bind(user_id)
        .bind(device_hash)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(Some(before == 0))
    }
}
