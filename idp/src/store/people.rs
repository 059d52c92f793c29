//! The console's read side: people found by name (without diacritics),
//! e-mail or unit, units with their numbers of people, and audit events by
//! kind, actor, subject and time. Typed text goes into `LIKE` only escaped
//! (`%`, `_` and `\` match themselves), and every list is paged.

use sqlx::{FromRow, Row};

use super::users::columns;
use super::{AuditEvent, Store, StoreError, User};

/// Rows folded per transaction when names are folded for the search.
const FOLD_BATCH: i64 = 2000;

/// A search of people. `text` is matched, folded, inside names and e-mails.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeopleQuery {
    pub text: Option<String>,
    /// Exactly this unit.
    pub unit: Option<String>,
    /// `Some(true)`: only disabled people; `Some(false)`: only active ones.
    pub disabled: Option<bool>,
    pub limit: i64,
    pub offset: i64,
}

/// A unit and its people, counted from `users.unit`.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct UnitCount {
    pub unit: String,
    pub people: i64,
    pub disabled: i64,
}

/// A filter of the audit log; empty strings and `None` do not filter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub kind: Option<String>,
    pub actor: Option<String>,
    pub subject: Option<String>,
    /// `at >= from`.
    pub from: Option<i64>,
    /// `at < until`.
    pub until: Option<i64>,
    /// Only events about people of this unit (their e-mail or id as subject).
    pub unit: Option<String>,
    /// Keyset paging: events older than this row id.
    pub before: Option<i64>,
    pub limit: i64,
}

/// An audit event with its row id (for paging).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    #[sqlx(flatten)]
    pub event: AuditEvent,
}

/// `%text%` for `LIKE … ESCAPE '\'`: the wildcards typed match themselves.
pub fn like_contains(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

macro_rules! people_where {
    () => {
        " FROM users WHERE ($1 = '' OR name_folded LIKE $2 ESCAPE '\\' OR email LIKE $2 ESCAPE '\\') \
     AND ($3 = '' OR unit = $3) \
     AND ($4 < 0 OR (CASE WHEN disabled_at IS NULL THEN 0 ELSE 1 END) = $4)"
    };
}

macro_rules! unit_where {
    () => {
        " FROM users WHERE unit = $1 \
     AND ($2 < 0 OR (CASE WHEN disabled_at IS NULL THEN 0 ELSE 1 END) = $2)"
    };
}

macro_rules! audit_where {
    () => {
        " FROM audit_events WHERE ($1 = '' OR kind = $1) AND ($2 = '' OR actor = $2) \
     AND ($3 = '' OR subject = $3) AND at >= $4 AND at < $5 AND id < $6 \
     AND ($7 = '' OR subject IN (SELECT email FROM users WHERE unit = $7) \
          OR subject IN (SELECT id FROM users WHERE unit = $7))"
    };
}

impl Store {
    /// Folds the names that have no folded form yet (new people, changed
    /// names): `fold` is the portal's diacritics-free lower case.
    pub async fn fold_names(&self, fold: fn(&str) -> String) -> Result<u64, StoreError> {
        let mut done = 0u64;
        loop {
            let rows: Vec<(String, String)> =
                sqlx::query_as("SELECT id, name FROM users WHERE name_folded IS NULL LIMIT $1")
                    .bind(FOLD_BATCH)
                    .fetch_all(&self.pool)
                    .await?;
            if rows.is_empty() {
                return Ok(done);
            }
            let mut tx = self.write_tx().await?;
            for (id, name) in &rows {
                // Only while the name is still the one folded.
                sqlx::query("UPDATE users SET name_folded = $1 WHERE id = $2 AND name = $3")
                    .bind(fold(name))
                    .bind(id)
                    .bind(name)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            done += rows.len() as u64;
        }
    }

    /// One page of the people `q` finds (by folded name, then e-mail) and
    /// how many it finds in all. Call [`Store::fold_names`] first.
    pub async fn search_people(&self, q: &PeopleQuery) -> Result<(Vec<User>, i64), StoreError> {
        let text = q.text.clone().unwrap_or_default();
        let pattern = like_contains(&text);
        let unit = q.unit.clone().unwrap_or_default();
        let disabled = q.disabled.map_or(-1i64, i64::from);
        if !text.is_empty() {
            // Typed text cannot use an index: one scan that keeps the few
            // matches, counts them and sorts only them (about 15 ms at 50,000
            // people, where walking the name index costs four times that).
            let rows = sqlx::query(concat!(
                "SELECT ",
                columns!(),
                ", COUNT(*) OVER () AS total",
                people_where!(),
                " ORDER BY name_folded, email LIMIT $5 OFFSET $6"
            ))
            .bind(&text)
            .bind(&pattern)
            .bind(&unit)
            .bind(disabled)
            .bind(q.limit)
            .bind(q.offset)
            .fetch_all(&self.pool)
            .await?;
            let total = match rows.first() {
                Some(r) => r.try_get::<i64, _>("total")?,
                None => {
                    self.count_people_where(&text, &pattern, &unit, disabled)
                        .await?
                }
            };
            let people = rows
                .iter()
                .map(User::from_row)
                .collect::<Result<Vec<_>, _>>()?;
            return Ok((people, total));
        }
        if !unit.is_empty() {
            return self
                .people_of_unit(&unit, disabled, q.limit, q.offset)
                .await;
        }
        let rows = sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            people_where!(),
            " ORDER BY name_folded, email LIMIT $5 OFFSET $6"
        ))
        .bind(&text)
        .bind(&pattern)
        .bind(&unit)
        .bind(disabled)
        .bind(q.limit)
        .bind(q.offset)
        .fetch_all(&self.pool)
        .await?;
        let n = self
            .count_people_where(&text, &pattern, &unit, disabled)
            .await?;
        Ok((rows, n))
    }

    /// A unit's people in name order: the unit in the WHERE as a plain
    /// equality, so the (unit, name_folded, email) index serves both the
    /// filter and the order (about 1,000 of 50,000 people are read, not all).
    async fn people_of_unit(
        &self,
        unit: &str,
        disabled: i64,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<User>, i64), StoreError> {
        let rows = sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            unit_where!(),
            " ORDER BY name_folded, email LIMIT $3 OFFSET $4"
        ))
        .bind(unit)
        .bind(disabled)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let (n,): (i64,) = sqlx::query_as(concat!("SELECT COUNT(*)", unit_where!()))
            .bind(unit)
            .bind(disabled)
            .fetch_one(&self.pool)
            .await?;
        Ok((rows, n))
    }

    async fn count_people_where(
        &self,
        text: &str,
        pattern: &str,
        unit: &str,
        disabled: i64,
    ) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as(concat!("SELECT COUNT(*)", people_where!()))
            .bind(text)
            .bind(pattern)
            .bind(unit)
            .bind(disabled)
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// Every unit named in `users.unit`, in order: read from the unit index
    /// alone (a filter's choices; [`Store::unit_counts`] reads every row).
    pub async fn unit_names(&self) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT DISTINCT unit FROM users WHERE unit IS NOT NULL ORDER BY unit")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(u,)| u).collect())
    }

    /// Every unit named in `users.unit`, with its people and how many of them are disabled.
    pub async fn unit_counts(&self) -> Result<Vec<UnitCount>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT unit, COUNT(*) AS people, \
             SUM(CASE WHEN disabled_at IS NULL THEN 0 ELSE 1 END) AS disabled \
             FROM users WHERE unit IS NOT NULL GROUP BY unit ORDER BY unit",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// How many people there are, and how many are active.
    pub async fn count_people(&self) -> Result<(i64, i64), StoreError> {
        Ok(sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN disabled_at IS NULL THEN 1 ELSE 0 END), 0) FROM users",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    /// Open sessions (rows not ended), for the console's overview.
    pub async fn count_open_sessions(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM sso_sessions WHERE ended_at IS NULL")
                .fetch_one(&self.pool)
                .await?;
        Ok(n)
    }

    /// Audit events `q` selects, newest first.
    pub async fn audit_events(&self, q: &AuditQuery) -> Result<Vec<AuditRow>, StoreError> {
        Ok(sqlx::query_as(concat!(
            "SELECT id, at, kind, actor, subject, client_id, ip, request_id, detail",
            audit_where!(),
            " ORDER BY id DESC LIMIT $8"
        ))
        .bind(q.kind.clone().unwrap_or_default())
        .bind(q.actor.clone().unwrap_or_default())
        .bind(q.subject.clone().unwrap_or_default())
        .bind(q.from.unwrap_or(i64::MIN))
        .bind(q.until.unwrap_or(i64::MAX))
        .bind(q.before.unwrap_or(i64::MAX))
        .bind(q.unit.clone().unwrap_or_default())
        .bind(q.limit)
        .fetch_all(&self.pool)
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_wildcards_match_themselves() {
        assert_eq!(like_contains("hung"), "%hung%");
        assert_eq!(like_contains("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
