//! Account linking: the legacy apps' accounts as last imported, the links
//! from an account to its owner, the matcher's suggestions and the claim that
//! carries the linked username to each app. The rules (what is a conflict,
//! what may be linked) are `admin::links`; this file only reads and writes,
//! and the schema's keys (one owner per account, one account per person and
//! app) are the last guard: a write that would break them is a `Conflict`.
//! The review queue, coverage and search are `store::link_queue`.

use sqlx::AssertSqlSafe;

use super::{Store, StoreError, conflict};
use crate::ids::UserId;
use crate::kinds::{Decision, LinkMethod};

/// Rows per multi-row INSERT: 8 columns × 400 stays under every backend's
/// parameter limit (SQLite 32,766, PostgreSQL 65,535).
const BATCH: usize = 400;

/// One account of a legacy app as stored.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct LegacyRow {
    pub app_id: String,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub unit: Option<String>,
    #[sqlx(try_from = "i64")]
    pub active: Flag,
    pub imported_at: i64,
}

/// A stored 0/1 that reads as a `bool`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flag(pub bool);

impl From<i64> for Flag {
    fn from(v: i64) -> Flag {
        Flag(v != 0)
    }
}

/// An account linked to its owner.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Link {
    pub app_id: String,
    pub username: String,
    pub user_id: UserId,
    pub method: LinkMethod,
    /// `cli`, or the administrator's user id.
    pub linked_by: String,
    pub linked_at: i64,
}

/// One suggestion as the matcher made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSuggestion {
    pub username: String,
    pub user_id: UserId,
    pub reason: LinkMethod,
    pub confidence: i64,
    pub ambiguous: bool,
    /// Unambiguous e-mail or phone: may be accepted without a person looking.
    pub exact: bool,
}

/// A stored suggestion.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SuggestionRow {
    pub app_id: String,
    pub username: String,
    pub user_id: UserId,
    pub reason: LinkMethod,
    pub confidence: i64,
    #[sqlx(try_from = "i64")]
    pub ambiguous: Flag,
    #[sqlx(try_from = "i64")]
    pub exact: Flag,
    pub status: Decision,
    pub created_at: i64,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
}

/// An account as an import writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountWrite<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub unit: Option<&'a str>,
    pub active: bool,
}

fn placeholders(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| {
            let cells: Vec<String> = (1..=cols).map(|c| format!("${}", r * cols + c)).collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// Every account of `app`, by username.
    pub async fn legacy_accounts(&self, app: &str) -> Result<Vec<LegacyRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT app_id, username, display_name, email, phone, unit, active, imported_at \
             FROM legacy_accounts WHERE app_id = $1 ORDER BY username",
        )
        .bind(app)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn legacy_account(
        &self,
        app: &str,
        username: &str,
    ) -> Result<Option<LegacyRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT app_id, username, display_name, email, phone, unit, active, imported_at \
             FROM legacy_accounts WHERE app_id = $1 AND username = $2",
        )
        .bind(app)
        .bind(username)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Writes an import in one transaction: `write` is inserted or updated,
    /// `deactivate` marked inactive (never deleted: their links stay).
    pub async fn write_import(
        &self,
        app: &str,
        write: &[AccountWrite<'_>],
        deactivate: &[String],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        for chunk in write.chunks(BATCH) {
            let sql = format!(
                "INSERT INTO legacy_accounts (app_id, username, display_name, email, phone, unit, active, imported_at) \
                 VALUES {} ON CONFLICT (app_id, username) DO UPDATE SET display_name = excluded.display_name, \
                 email = excluded.email, phone = excluded.phone, unit = excluded.unit, \
                 active = excluded.active, imported_at = excluded.imported_at",
                placeholders(chunk.len(), 8)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for a in chunk {
                q = q
                    .bind(app)
                    .bind(a.username)
                    .bind(a.display_name)
                    .bind(a.email)
                    .bind(a.phone)
                    .bind(a.unit)
                    .bind(i64::from(a.active))
                    .bind(now);
            }
            q.execute(&mut *tx).await?;
        }
        for username in deactivate {
            sqlx::query(
                "UPDATE legacy_accounts SET active = 0, imported_at = $1 WHERE app_id = $2 AND username = $3",
            )
            .bind(now)
            .bind(app)
            .bind(username)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every link of `app`, by username.
    pub async fn links_of_app(&self, app: &str) -> Result<Vec<Link>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT app_id, username, user_id, method, linked_by, linked_at \
             FROM account_links WHERE app_id = $1 ORDER BY username",
        )
        .bind(app)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The link of account `username` in `app`.
    pub async fn link(&self, app: &str, username: &str) -> Result<Option<Link>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT app_id, username, user_id, method, linked_by, linked_at \
             FROM account_links WHERE app_id = $1 AND username = $2",
        )
        .bind(app)
        .bind(username)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The account `user` owns in `app`.
    pub async fn link_of_person(
        &self,
        app: &str,
        user: &UserId,
    ) -> Result<Option<Link>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT app_id, username, user_id, method, linked_by, linked_at \
             FROM account_links WHERE app_id = $1 AND user_id = $2",
        )
        .bind(app)
        .bind(user)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Stores `links` of `app` in one transaction, all or none: each one's
    /// suggestion becomes accepted and the linked accounts' other pending
    /// suggestions go. A link that would give an account a second owner or a
    /// person a second account in the app is `Conflict` (and nothing is
    /// stored). Set-based, so a bulk acceptance of 50,000 is a few statements.
    pub async fn insert_links(&self, app: &str, links: &[Link]) -> Result<(), StoreError> {
        let Some(first) = links.first() else {
            return Ok(());
        };
        let mut tx = self.write_tx().await?;
        for chunk in links.chunks(BATCH) {
            let sql = format!(
                "INSERT INTO account_links (app_id, username, user_id, method, linked_by, linked_at) VALUES {}",
                placeholders(chunk.len(), 6)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for l in chunk {
                q = q
                    .bind(app)
                    .bind(&l.username)
                    .bind(&l.user_id)
                    .bind(l.method)
                    .bind(&l.linked_by)
                    .bind(l.linked_at);
            }
            q.execute(&mut *tx).await.map_err(|e| {
                let names: Vec<&str> = chunk.iter().map(|l| l.username.as_str()).collect();
                conflict(e, &format!("{app}: {}", names.join(", ")))
            })?;
        }
        sqlx::query(
            "UPDATE link_suggestions SET status = 'accepted', decided_by = $1, decided_at = $2 \
             WHERE app_id = $3 AND status = 'pending' AND EXISTS (SELECT 1 FROM account_links l \
             WHERE l.app_id = link_suggestions.app_id AND l.username = link_suggestions.username \
             AND l.user_id = link_suggestions.user_id)",
        )
        .bind(&first.linked_by)
        .bind(first.linked_at)
        .bind(app)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM link_suggestions WHERE app_id = $1 AND status = 'pending' AND EXISTS \
             (SELECT 1 FROM account_links l WHERE l.app_id = link_suggestions.app_id \
             AND l.username = link_suggestions.username)",
        )
        .bind(app)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes the link of `username` in `app` and returns it; the pair is
    /// stored as a rejected suggestion (whether matching or an administrator
    /// made the link), so the next matching run does not link it again.
    pub async fn delete_link(
        &self,
        app: &str,
        username: &str,
        by: &str,
        now: i64,
    ) -> Result<Option<Link>, StoreError> {
        let mut tx = self.write_tx().await?;
        let link: Option<Link> = sqlx::query_as(
            "SELECT app_id, username, user_id, method, linked_by, linked_at \
             FROM account_links WHERE app_id = $1 AND username = $2",
        )
        .bind(app)
        .bind(username)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(l) = &link {
            sqlx::query("DELETE FROM account_links WHERE app_id = $1 AND username = $2")
                .bind(app)
                .bind(username)
                .execute(&mut *tx)
                .await?;
            // Rejected, with a row made for a link matching never proposed
            // (one made by hand): matching never makes it again.
            sqlx::query(
                "INSERT INTO link_suggestions \
                 (app_id, username, user_id, reason, confidence, status, created_at, decided_by, decided_at) \
                 VALUES ($1, $2, $3, $4, 0, 'rejected', $5, $6, $5) \
                 ON CONFLICT (app_id, username, user_id) DO UPDATE \
                 SET status = 'rejected', decided_by = excluded.decided_by, decided_at = excluded.decided_at",
            )
            .bind(app)
            .bind(username)
            .bind(&l.user_id)
            .bind(l.method)
            .bind(now)
            .bind(by)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(link)
    }

    /// Replaces `app`'s pending suggestions with `list`. A pair decided
    /// before (rejected, or accepted) keeps its decision.
    pub async fn replace_suggestions(
        &self,
        app: &str,
        list: &[NewSuggestion],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM link_suggestions WHERE app_id = $1 AND status = 'pending'")
            .bind(app)
            .execute(&mut *tx)
            .await?;
        for chunk in list.chunks(BATCH) {
            let sql = format!(
                "INSERT INTO link_suggestions (app_id, username, user_id, reason, confidence, ambiguous, exact, created_at) \
                 VALUES {} ON CONFLICT (app_id, username, user_id) DO NOTHING",
                placeholders(chunk.len(), 8)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for s in chunk {
                q = q
                    .bind(app)
                    .bind(&s.username)
                    .bind(&s.user_id)
                    .bind(s.reason)
                    .bind(s.confidence)
                    .bind(i64::from(s.ambiguous))
                    .bind(i64::from(s.exact))
                    .bind(now);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The suggestions of `app`, in one status (all when `None`).
    pub async fn suggestions(
        &self,
        app: &str,
        status: Option<Decision>,
    ) -> Result<Vec<SuggestionRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT app_id, username, user_id, reason, confidence, ambiguous, exact, status, \
             created_at, decided_by, decided_at FROM link_suggestions \
             WHERE app_id = $1 AND ($2 IS NULL OR status = $2) ORDER BY username, user_id",
        )
        .bind(app)
        .bind(status)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn suggestion(
        &self,
        app: &str,
        username: &str,
        user: &UserId,
    ) -> Result<Option<SuggestionRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT app_id, username, user_id, reason, confidence, ambiguous, exact, status, \
             created_at, decided_by, decided_at FROM link_suggestions \
             WHERE app_id = $1 AND username = $2 AND user_id = $3",
        )
        .bind(app)
        .bind(username)
        .bind(user)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Rejects a pending suggestion; `false` when there was none pending.
    pub async fn reject_suggestion(
        &self,
        app: &str,
        username: &str,
        user: &UserId,
        by: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE link_suggestions SET status = 'rejected', decided_by = $1, decided_at = $2 \
             WHERE app_id = $3 AND username = $4 AND user_id = $5 AND status = 'pending'",
        )
        .bind(by)
        .bind(now)
        .bind(app)
        .bind(username)
        .bind(user)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Sets (or clears) the claim that carries the linked username to `app`.
    pub async fn set_app_legacy_claim(
        &self,
        app: &str,
        claim: Option<&str>,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query("UPDATE apps SET legacy_claim = $1 WHERE id = $2")
            .bind(claim)
            .bind(app)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// The app behind `client_id` that releases a legacy username, and the
    /// claim's name: `(app id, claim)`.
    pub async fn legacy_claim_of_client(
        &self,
        client_id: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, legacy_claim FROM apps WHERE client_id = $1 AND legacy_claim IS NOT NULL \
             ORDER BY id LIMIT 1",
        )
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await?)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_number_rows_and_columns() {
        assert_eq!(super::placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }
}
