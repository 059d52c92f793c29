//! The append-only audit log: sign-ins, failures, sign-outs, token abuse,
//! changes made with the CLI. Rows are only ever inserted. The kinds and the
//! way to record an event are `crate::audit`.

use super::{Store, StoreError};
use crate::audit::{self, Kind};
use crate::ids::{Email, UserId};

/// A row of `audit_events` as stored. The kind stays the stored string, so
/// a row written by a newer version (a kind this one does not know) still
/// reads; [`AuditEvent::kind`] parses it.
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditEvent {
    pub at: i64,
    pub kind: String,
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub client_id: Option<String>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub detail: Option<String>,
}

impl AuditEvent {
    /// The kind, or `None` for one this version does not know.
    pub fn kind(&self) -> Option<Kind> {
        self.kind.parse().ok()
    }
}

impl Store {
    pub async fn record(&self, e: &AuditEvent) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_events (at, kind, actor, subject, client_id, ip, request_id, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(e.at)
        .bind(&e.kind)
        .bind(&e.actor)
        .bind(&e.subject)
        .bind(&e.client_id)
        .bind(&e.ip)
        .bind(&e.request_id)
        .bind(&e.detail)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest events first.
    pub async fn recent_audit(&self, limit: i64) -> Result<Vec<AuditEvent>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT at, kind, actor, subject, client_id, ip, request_id, detail FROM audit_events ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// A person's own sign-ins, failures and sign-outs, newest first: the
    /// events about their e-mail or their id.
    pub async fn sign_in_activity(
        &self,
        email: &Email,
        user_id: &UserId,
        limit: i64,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT at, kind, actor, subject, client_id, ip, request_id, detail FROM audit_events \
             WHERE subject IN ($1, $2) AND kind IN ($3, $4, $5) \
             ORDER BY at DESC, id DESC LIMIT $6",
        )
        .bind(email)
        .bind(user_id)
        .bind(audit::SIGN_IN_ACTIVITY[0].as_str())
        .bind(audit::SIGN_IN_ACTIVITY[1].as_str())
        .bind(audit::SIGN_IN_ACTIVITY[2].as_str())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}
