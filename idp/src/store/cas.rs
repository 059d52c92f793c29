//! CAS services (the registry of `cas::registry`) and the service tickets
//! validated in each portal session (for CAS single logout).

use super::{Store, StoreError, conflict, json_list, to_json};

/// A registered CAS service as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CasService {
    pub id: String,
    pub name: String,
    /// An absolute http(s) URL: the service URL itself (`exact`) or its prefix.
    pub pattern: String,
    pub exact: bool,
    /// The attributes released at `p3/serviceValidate`, by name (`cas::Attribute`).
    pub attributes: Vec<String>,
    /// Where the SLO `logoutRequest` is POSTed; `None`: no single logout.
    pub logout_url: Option<String>,
    /// May receive proxy-granting tickets at a `pgtUrl` matching `pattern`.
    pub allow_proxy: bool,
    /// May be the `targetService` of a proxy ticket (another service may act
    /// for the person here).
    pub accept_proxy: bool,
    /// Sign-in for this service needs a second factor (`acr` 2).
    pub require_mfa: bool,
    /// The portal app whose linked account is `legacy_username`.
    pub app_id: Option<String>,
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    name: String,
    pattern: String,
    exact: i64,
    attributes: String,
    logout_url: Option<String>,
    allow_proxy: i64,
    accept_proxy: i64,
    require_mfa: i64,
    app_id: Option<String>,
    created_at: i64,
}

impl TryFrom<Row> for CasService {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<CasService, StoreError> {
        Ok(CasService {
            attributes: json_list(&r.attributes, "cas_services.attributes")?,
            id: r.id,
            name: r.name,
            pattern: r.pattern,
            exact: r.exact != 0,
            logout_url: r.logout_url,
            allow_proxy: r.allow_proxy != 0,
            accept_proxy: r.accept_proxy != 0,
            require_mfa: r.require_mfa != 0,
            app_id: r.app_id,
            created_at: r.created_at,
        })
    }
}

/// A service ticket validated in a portal session: whom to tell at sign-out.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct CasSessionRow {
    pub sid: String,
    pub service_id: String,
    pub ticket: String,
    pub service_url: String,
    pub created_at: i64,
}

macro_rules! columns {
    () => {
        "id, name, pattern, exact, attributes, logout_url, allow_proxy, accept_proxy, require_mfa, app_id, created_at"
    };
}

impl Store {
    pub async fn create_cas_service(&self, s: &CasService) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO cas_services (id, name, pattern, exact, attributes, logout_url, allow_proxy, \
             accept_proxy, require_mfa, app_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&s.id)
        .bind(&s.name)
        .bind(&s.pattern)
        .bind(i64::from(s.exact))
        .bind(to_json(&s.attributes))
        .bind(&s.logout_url)
        .bind(i64::from(s.allow_proxy))
        .bind(i64::from(s.accept_proxy))
        .bind(i64::from(s.require_mfa))
        .bind(&s.app_id)
        .bind(s.created_at)
        .execute(&self.pool)
        .await
        .map_err(|e| conflict(e, &s.id))?;
        Ok(())
    }

    pub async fn cas_service(&self, id: &str) -> Result<Option<CasService>, StoreError> {
        let row: Option<Row> = sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM cas_services WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(CasService::try_from).transpose()
    }

    /// Every service, by id.
    pub async fn cas_services(&self) -> Result<Vec<CasService>, StoreError> {
        let rows: Vec<Row> = sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM cas_services ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(CasService::try_from).collect()
    }

    /// Removes a service and its session rows; `false` when there was none.
    pub async fn delete_cas_service(&self, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM cas_sessions WHERE service_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let r = sqlx::query("DELETE FROM cas_services WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(r.rows_affected() > 0)
    }

    /// Records a validated service ticket of session `sid`.
    pub async fn record_cas_session(&self, r: &CasSessionRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO cas_sessions (sid, service_id, ticket, service_url, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sid, ticket) DO NOTHING",
        )
        .bind(&r.sid)
        .bind(&r.service_id)
        .bind(&r.ticket)
        .bind(&r.service_url)
        .bind(r.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets one validated ticket of session `sid` (its validation was
    /// refused after it was recorded).
    pub async fn forget_cas_session(&self, sid: &str, ticket: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM cas_sessions WHERE sid = $1 AND ticket = $2")
            .bind(sid)
            .bind(ticket)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Takes the CAS sessions of portal session `sid`: deleted and returned
    /// in one statement, so each service is told of the sign-out once.
    pub async fn take_cas_sessions(&self, sid: &str) -> Result<Vec<CasSessionRow>, StoreError> {
        // One statement: a read then a delete in one transaction could not
        // become a writer on SQLite once another connection had written
        // (SQLITE_BUSY_SNAPSHOT), and the services would not be told.
        let mut rows: Vec<CasSessionRow> = sqlx::query_as(
            "DELETE FROM cas_sessions WHERE sid = $1 \
             RETURNING sid, service_id, ticket, service_url, created_at",
        )
        .bind(sid)
        .fetch_all(&self.pool)
        .await?;
        rows.sort_by(|a, b| (a.created_at, &a.ticket).cmp(&(b.created_at, &b.ticket)));
        Ok(rows)
    }

    /// Forgets CAS sessions recorded before `before` (past any session's end).
    pub async fn purge_cas_sessions(&self, before: i64) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM cas_sessions WHERE created_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }
}
