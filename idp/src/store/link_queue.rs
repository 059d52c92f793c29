//! What the account-linking pages read: the review queue (keyset pages over
//! `link_suggestions_queue`), coverage per app, conflicts, search for manual
//! linking, the people matching reads, and people's link requests.

use sqlx::AssertSqlSafe;

use super::links::Flag;
use super::people::like_contains;
use super::{Store, StoreError, conflict};
use crate::ids::{Email, UserId};
use crate::kinds::{Decision, LinkMethod};

/// Which pending suggestions a queue page shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueFilter {
    pub app: Option<String>,
    pub reason: Option<LinkMethod>,
    /// Only unambiguous e-mail and phone matches.
    pub exact_only: bool,
    /// Only suggestions of people of this unit (a unit administrator's view).
    pub unit: Option<String>,
}

/// Where a queue page starts: the last row of the page before.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QueueKey {
    pub app_id: String,
    pub username: String,
    pub user_id: UserId,
}

/// One row of the review queue: the suggestion, the account and the person.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct QueueRow {
    pub app_id: String,
    pub username: String,
    pub user_id: UserId,
    pub reason: LinkMethod,
    pub confidence: i64,
    #[sqlx(try_from = "i64")]
    pub ambiguous: Flag,
    #[sqlx(try_from = "i64")]
    pub exact: Flag,
    pub created_at: i64,
    pub account_name: String,
    pub account_email: Option<String>,
    pub account_phone: Option<String>,
    pub account_unit: Option<String>,
    pub person_email: Email,
    pub person_name: String,
    pub person_phone: Option<String>,
    pub person_unit: Option<String>,
}

impl QueueRow {
    pub fn key(&self) -> QueueKey {
        QueueKey {
            app_id: self.app_id.clone(),
            username: self.username.clone(),
            user_id: self.user_id.clone(),
        }
    }
}

/// Counts for one app.
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct CoverageCounts {
    pub app_id: String,
    pub accounts: i64,
    pub active: i64,
    pub linked: i64,
    /// Active accounts with no link.
    pub unlinked_active: i64,
    /// Pending suggestions.
    pub pending: i64,
}

/// A person as matching and search read them.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PersonRow {
    pub id: UserId,
    pub email: Email,
    pub name: String,
    pub phone: Option<String>,
    pub unit: Option<String>,
}

/// A person's request to be linked to an app.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct LinkRequest {
    pub id: i64,
    pub user_id: UserId,
    pub app_id: String,
    pub note: String,
    pub status: Decision,
    pub created_at: i64,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    /// The account linked, or why not.
    pub decision: Option<String>,
}

const REQUEST_COLUMNS: &str =
    "id, user_id, app_id, note, status, created_at, decided_by, decided_at, decision";

impl Store {
    /// One page of the review queue: pending suggestions after `after`, in
    /// (app, username, person) order, so each page is an index range read.
    pub async fn queue_page(
        &self,
        f: &QueueFilter,
        after: Option<&QueueKey>,
        limit: i64,
    ) -> Result<Vec<QueueRow>, StoreError> {
        let mut sql = String::from(
            "SELECT s.app_id, s.username, s.user_id, s.reason, s.confidence, s.ambiguous, s.exact, \
             s.created_at, a.display_name AS account_name, a.email AS account_email, \
             a.phone AS account_phone, a.unit AS account_unit, u.email AS person_email, \
             u.name AS person_name, u.phone AS person_phone, u.unit AS person_unit \
             FROM link_suggestions s \
             JOIN legacy_accounts a ON a.app_id = s.app_id AND a.username = s.username \
             JOIN users u ON u.id = s.user_id \
             WHERE s.status = 'pending'",
        );
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        if f.app.is_some() {
            sql += &format!(" AND s.app_id = {}", next());
        }
        if f.reason.is_some() {
            sql += &format!(" AND s.reason = {}", next());
        }
        if f.exact_only {
            sql += " AND s.exact = 1";
        }
        if f.unit.is_some() {
            sql += &format!(" AND u.unit = {}", next());
        }
        if after.is_some() {
            let (a, b, c) = (next(), next(), next());
            sql += &format!(" AND (s.app_id, s.username, s.user_id) > ({a}, {b}, {c})");
        }
        sql += &format!(" ORDER BY s.app_id, s.username, s.user_id LIMIT {}", next());
        let mut q = sqlx::query_as(AssertSqlSafe(sql));
        if let Some(app) = &f.app {
            q = q.bind(app);
        }
        if let Some(r) = f.reason {
            q = q.bind(r);
        }
        if let Some(u) = &f.unit {
            q = q.bind(u);
        }
        if let Some(k) = after {
            q = q.bind(&k.app_id).bind(&k.username).bind(&k.user_id);
        }
        Ok(q.bind(limit).fetch_all(&self.pool).await?)
    }

    /// Counts per app that has accounts, links or suggestions.
    pub async fn coverage_counts(&self) -> Result<Vec<CoverageCounts>, StoreError> {
        // One pass over each table, grouped by app (accounts in key order,
        // links joined to their accounts once, pending from the queue index),
        // rather than a count per app and column.
        Ok(sqlx::query_as(
            "SELECT p.id AS app_id, \
             COALESCE(a.accounts, 0) AS accounts, COALESCE(a.active, 0) AS active, \
             COALESCE(l.linked, 0) AS linked, \
             COALESCE(a.active, 0) - COALESCE(l.linked_active, 0) AS unlinked_active, \
             COALESCE(s.pending, 0) AS pending \
             FROM apps p \
             LEFT JOIN (SELECT app_id, COUNT(*) AS accounts, CAST(SUM(active) AS BIGINT) AS active \
                FROM legacy_accounts GROUP BY app_id) a ON a.app_id = p.id \
             LEFT JOIN (SELECT k.app_id, COUNT(*) AS linked, CAST(SUM(x.active) AS BIGINT) AS linked_active \
                FROM account_links k JOIN legacy_accounts x \
                ON x.app_id = k.app_id AND x.username = k.username GROUP BY k.app_id) l ON l.app_id = p.id \
             LEFT JOIN (SELECT app_id, COUNT(*) AS pending FROM link_suggestions \
                WHERE status = 'pending' GROUP BY app_id) s ON s.app_id = p.id \
             ORDER BY p.id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// How many conflicts [`crate::admin::links::conflicts`] lists for `app`
    /// (without a unit), counted in the database: a pending suggestion of a
    /// person who owns an account, a person with several strong pending
    /// suggestions, an account with several.
    pub async fn conflict_count(&self, app: &str) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT \
             (SELECT COUNT(*) FROM link_suggestions s JOIN account_links l \
                ON l.app_id = s.app_id AND l.user_id = s.user_id \
                WHERE s.app_id = $1 AND s.status = 'pending') \
             + (SELECT COUNT(*) FROM (SELECT user_id FROM link_suggestions \
                WHERE status = 'pending' AND reason IN ('email', 'email-variant', 'phone') \
                AND app_id = $1 GROUP BY user_id HAVING COUNT(*) > 1) p) \
             + (SELECT COUNT(*) FROM (SELECT username FROM link_suggestions \
                WHERE status = 'pending' AND reason IN ('email', 'email-variant', 'phone') \
                AND app_id = $1 GROUP BY username HAVING COUNT(*) > 1) a)",
        )
        .bind(app)
        .fetch_one(&self.pool)
        .await?;
        Ok(n)
    }

    /// Pending suggestions whose person already owns another account of the
    /// app: (username, person, the account they own).
    pub async fn suggestions_for_linked_people(
        &self,
        app: &str,
    ) -> Result<Vec<(String, UserId, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT s.username, s.user_id, l.username FROM link_suggestions s \
             JOIN account_links l ON l.app_id = s.app_id AND l.user_id = s.user_id \
             WHERE s.app_id = $1 AND s.status = 'pending' ORDER BY s.username",
        )
        .bind(app)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Pending exact suggestions of `app` as (username, person), for finding
    /// people claimed by several accounts and accounts claimed by several people.
    pub async fn strong_pending(&self, app: &str) -> Result<Vec<(String, UserId)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT username, user_id FROM link_suggestions WHERE app_id = $1 AND status = 'pending' \
             AND reason IN ('email', 'email-variant', 'phone') ORDER BY username, user_id",
        )
        .bind(app)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Active people (never the disabled: former staff get no links).
    pub async fn active_people(&self) -> Result<Vec<PersonRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, email, name, phone, unit FROM users WHERE disabled_at IS NULL ORDER BY email",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Accounts of `app` whose username or name contains `q`.
    pub async fn search_accounts(
        &self,
        app: &str,
        q: &str,
        limit: i64,
    ) -> Result<Vec<super::links::LegacyRow>, StoreError> {
        let pattern = like_contains(&q.to_lowercase());
        Ok(sqlx::query_as(
            "SELECT app_id, username, display_name, email, phone, unit, active, imported_at \
             FROM legacy_accounts WHERE app_id = $1 \
             AND (LOWER(username) LIKE $2 ESCAPE '\\' OR LOWER(display_name) LIKE $2 ESCAPE '\\') \
             ORDER BY username LIMIT $3",
        )
        .bind(app)
        .bind(pattern)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Active accounts of `app` with no owner whose username or name contains
    /// `q` (all of them when `q` is empty), by username: what a link request
    /// may be decided with.
    pub async fn unlinked_accounts(
        &self,
        app: &str,
        q: &str,
        limit: i64,
    ) -> Result<Vec<super::links::LegacyRow>, StoreError> {
        let pattern = like_contains(&q.to_lowercase());
        Ok(sqlx::query_as(
            "SELECT a.app_id, a.username, a.display_name, a.email, a.phone, a.unit, a.active, a.imported_at \
             FROM legacy_accounts a WHERE a.app_id = $1 AND a.active = 1 \
             AND NOT EXISTS (SELECT 1 FROM account_links l WHERE l.app_id = a.app_id AND l.username = a.username) \
             AND (LOWER(a.username) LIKE $2 ESCAPE '\\' OR LOWER(a.display_name) LIKE $2 ESCAPE '\\') \
             ORDER BY a.username LIMIT $3",
        )
        .bind(app)
        .bind(pattern)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Records a pending request; `Conflict` when one is already pending for
    /// the person and app.
    pub async fn create_link_request(
        &self,
        user: &UserId,
        app: &str,
        note: &str,
        now: i64,
    ) -> Result<i64, StoreError> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO link_requests (user_id, app_id, note, status, created_at) \
             VALUES ($1, $2, $3, 'pending', $4) RETURNING id",
        )
        .bind(user)
        .bind(app)
        .bind(note)
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| conflict(e, "a pending request"))?;
        Ok(id)
    }

    pub async fn link_request(&self, id: i64) -> Result<Option<LinkRequest>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {REQUEST_COLUMNS} FROM link_requests WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The person's pending request for `app`.
    pub async fn pending_link_request(
        &self,
        user: &UserId,
        app: &str,
    ) -> Result<Option<LinkRequest>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {REQUEST_COLUMNS} FROM link_requests \
             WHERE user_id = $1 AND app_id = $2 AND status = 'pending'"
        )))
        .bind(user)
        .bind(app)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Requests in `status` (all when `None`) of people of `unit` (everyone's
    /// when `None`), oldest first, after id `after`.
    pub async fn link_requests(
        &self,
        status: Option<Decision>,
        unit: Option<&str>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<LinkRequest>, StoreError> {
        Ok(sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {REQUEST_COLUMNS} FROM link_requests \
             WHERE ($1 IS NULL OR status = $1) AND id > $2 \
             AND ($4 IS NULL OR user_id IN (SELECT id FROM users WHERE unit = $4)) \
             ORDER BY id LIMIT $3"
        )))
        .bind(status)
        .bind(after)
        .bind(limit)
        .bind(unit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Accepts a pending request with `link`, in one transaction: `false`
    /// (nothing stored) when it was not pending; `Conflict` (nothing stored)
    /// when the link would give the account a second owner or the person a
    /// second account.
    pub async fn accept_link_request(
        &self,
        id: i64,
        link: &super::Link,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        let r = sqlx::query(
            "UPDATE link_requests SET status = 'accepted', decided_by = $1, decided_at = $2, decision = $3 \
             WHERE id = $4 AND status = 'pending'",
        )
        .bind(&link.linked_by)
        .bind(now)
        .bind(&link.username)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO account_links (app_id, username, user_id, method, linked_by, linked_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&link.app_id)
        .bind(&link.username)
        .bind(&link.user_id)
        .bind(link.method)
        .bind(&link.linked_by)
        .bind(link.linked_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict(e, &format!("{}/{}", link.app_id, link.username)))?;
        sqlx::query("DELETE FROM link_suggestions WHERE app_id = $1 AND username = $2 AND status = 'pending'")
            .bind(&link.app_id)
            .bind(&link.username)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Decides a pending request; `false` when it was not pending (decided
    /// already, perhaps by another administrator at the same moment).
    pub async fn decide_link_request(
        &self,
        id: i64,
        status: Decision,
        by: &str,
        decision: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE link_requests SET status = $1, decided_by = $2, decided_at = $3, decision = $4 \
             WHERE id = $5 AND status = 'pending'",
        )
        .bind(status)
        .bind(by)
        .bind(now)
        .bind(decision)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }
}
