//! Console roles (`user_roles`) and the super-administrator flag
//! (`users.is_admin`). The last active super administrator cannot lose the
//! flag nor be disabled: the condition is in the UPDATE, after the rows of
//! every super administrator are locked (`lock_admins`), so two
//! administrators demoting each other at once cannot leave none.

use super::{Store, StoreError};
use crate::ids::UserId;
use crate::kinds::Role;

/// A granted role, with who granted it and when.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct RoleRow {
    pub role: Role,
    pub granted_by: String,
    pub granted_at: i64,
}

impl Store {
    /// The roles granted to a person (never `SuperAdmin`: that is the flag).
    pub async fn roles_of(&self, user_id: &UserId) -> Result<Vec<RoleRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT role, granted_by, granted_at FROM user_roles WHERE user_id = $1 ORDER BY role",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Grants a role row; `false` when the person already had it.
    pub async fn grant_role(
        &self,
        user_id: &UserId,
        role: Role,
        granted_by: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "INSERT INTO user_roles (user_id, role, granted_by, granted_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, role) DO NOTHING",
        )
        .bind(user_id)
        .bind(role)
        .bind(granted_by)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Revokes a role row; `false` when the person did not have it.
    pub async fn revoke_role(&self, user_id: &UserId, role: Role) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM user_roles WHERE user_id = $1 AND role = $2")
            .bind(user_id)
            .bind(role)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Sets the super-administrator flag. Clearing it is refused (`false`)
    /// when the person is the last active super administrator.
    pub async fn set_super_admin(
        &self,
        user_id: &UserId,
        on: bool,
        now: i64,
    ) -> Result<bool, StoreError> {
        let r = if on {
            sqlx::query("UPDATE users SET is_admin = 1, updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(user_id)
                .execute(&self.pool)
                .await?
        } else {
            let mut tx = self.write_tx().await?;
            lock_admins(&mut tx, self.backend).await?;
            let r = sqlx::query(
                "UPDATE users SET is_admin = 0, updated_at = $1 WHERE id = $2 AND is_admin = 1 \
                 AND (SELECT COUNT(*) FROM users o WHERE o.is_admin = 1 AND o.disabled_at IS NULL \
                      AND o.id <> $2) > 0",
            )
            .bind(now)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            r
        };
        Ok(r.rows_affected() == 1)
    }

    /// Disables a person unless they are the last active super
    /// administrator; `false` when refused or already disabled.
    pub async fn disable_user_keeping_an_admin(
        &self,
        user_id: &UserId,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        lock_admins(&mut tx, self.backend).await?;
        let r = sqlx::query(
            "UPDATE users SET disabled_at = $1, updated_at = $1 WHERE id = $2 AND disabled_at IS NULL \
             AND (is_admin = 0 OR (SELECT COUNT(*) FROM users o WHERE o.is_admin = 1 \
                  AND o.disabled_at IS NULL AND o.id <> $2) > 0)",
        )
        .bind(now)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(r.rows_affected() == 1)
    }

    /// Enables a disabled person; `false` when they were not disabled.
    pub async fn enable_user(&self, user_id: &UserId, now: i64) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE users SET disabled_at = NULL, updated_at = $1 WHERE id = $2 AND disabled_at IS NOT NULL",
        )
        .bind(now)
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }
}

/// Takes the row locks of every active super administrator for the rest of
/// `tx`, so two demotions (or disablings) at once cannot each count the
/// other as the one who remains: on PostgreSQL the second waits, then counts
/// again after the first commits (the rows locked in one order, so two never
/// wait for each other); SQLite has one writer at a time, taken here.
async fn lock_admins(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: super::Backend,
) -> Result<(), StoreError> {
    let sql = match backend {
        super::Backend::Postgres => {
            "SELECT id FROM users WHERE is_admin = 1 AND disabled_at IS NULL ORDER BY id FOR UPDATE"
        }
        super::Backend::Sqlite => "UPDATE users SET is_admin = is_admin WHERE is_admin = 1",
    };
    sqlx::query(sql).execute(&mut **tx).await?;
    Ok(())
}
