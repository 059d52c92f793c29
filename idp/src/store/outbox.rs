//! The outbox: messages owed to others, each delivered once by whichever
//! node claims it first (a conditional UPDATE on `next_at` is the lease).
//! The kinds, queueing and the worker are `crate::outbox`.

use super::{Store, StoreError};
use crate::outbox::Kind;

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxItem {
    pub id: String,
    pub kind: String,
    pub target: String,
    pub payload: String,
    pub client_id: Option<String>,
    pub attempts: i64,
    pub next_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
    pub given_up_at: Option<i64>,
}

macro_rules! columns {
    () => {
        "id, kind, target, payload, client_id, attempts, next_at, last_error, created_at, delivered_at, given_up_at"
    };
}

impl Store {
    pub async fn enqueue(&self, item: &OutboxItem) -> Result<(), StoreError> {
        sqlx::query(concat!(
            "INSERT INTO outbox (",
            columns!(),
            ") VALUES ($1, $2, $3, $4, $5, 0, $6, NULL, $7, NULL, NULL)"
        ))
        .bind(&item.id)
        .bind(&item.kind)
        .bind(&item.target)
        .bind(&item.payload)
        .bind(&item.client_id)
        .bind(item.next_at)
        .bind(item.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Undelivered items due at `now`, oldest first.
    pub async fn due(&self, now: i64, limit: i64) -> Result<Vec<OutboxItem>, StoreError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM outbox WHERE delivered_at IS NULL AND given_up_at IS NULL AND next_at <= $1 ORDER BY next_at LIMIT $2"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Claims an item until `lease_until`; `false` when another node was first.
    pub async fn claim(&self, item: &OutboxItem, lease_until: i64) -> Result<bool, StoreError> {
        let r = sqlx::query("UPDATE outbox SET next_at = $1 WHERE id = $2 AND next_at = $3 AND delivered_at IS NULL")
            .bind(lease_until)
            .bind(&item.id)
            .bind(item.next_at)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Marks an item delivered. A mail's content (codes, links) is not kept.
    pub async fn delivered(&self, id: &str, attempts: i64, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET delivered_at = $1, attempts = $2, last_error = NULL, payload = CASE WHEN kind = $3 THEN '' ELSE payload END WHERE id = $4",
        )
        .bind(now)
        .bind(attempts)
        .bind(Kind::Mail.as_str())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a failed attempt: try again at `next_at`, or give up when `None`.
    pub async fn failed(
        &self,
        id: &str,
        attempts: i64,
        next_at: Option<i64>,
        error: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE outbox SET attempts = $1, next_at = COALESCE($2, next_at), given_up_at = $3, last_error = $4, \
                     payload = CASE WHEN $3 IS NOT NULL AND kind = $6 THEN '' ELSE payload END WHERE id = $5")
            .bind(attempts)
            .bind(next_at)
            .bind(next_at.is_none().then_some(now))
            .bind(error)
            .bind(id)
            .bind(Kind::Mail.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn outbox_item(&self, id: &str) -> Result<Option<OutboxItem>, StoreError> {
        Ok(
            sqlx::query_as(concat!("SELECT ", columns!(), " FROM outbox WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}
