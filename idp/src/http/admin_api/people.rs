//! People, units and the audit log over JSON: the console's steps
//! (`admin::people`, `admin::audit_log`) with the caller's powers.

use axum::extract::{Path, Query};
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiCaller, ApiError};
use crate::admin::audit_log::{self, AuditLogError, Filter};
use crate::admin::people::{self, PeopleError, Search};
use crate::ids::UserId;
use crate::kinds::Role;
use crate::store::{AuditEvent, User};

fn person_json(u: &User) -> Value {
    json!({
        "id": u.id.as_str(),
        "email": u.email.as_str(),
        "name": u.name,
        "unit": u.unit,
        "title": u.title,
        "source": u.source.as_str(),
        "disabled": u.is_disabled(),
    })
}

fn event_json(e: &AuditEvent) -> Value {
    json!({
        "at": e.at,
        "kind": e.kind,
        "actor": e.actor,
        "subject": e.subject,
        "client_id": e.client_id,
        "ip": e.ip,
        "request_id": e.request_id,
        "detail": e.detail,
    })
}

fn refused(a: &ApiCaller, e: PeopleError) -> Response {
    match e {
        PeopleError::NotFound => ApiError::not_found(),
        PeopleError::Forbidden => ApiError::forbidden(),
        PeopleError::LastSuperAdmin => ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "last_super_admin",
            "the last super administrator keeps the role and stays enabled",
        ),
        PeopleError::NoUnit => ApiError::bad_request("a unit administrator needs a unit"),
        e => a.internal(&e),
    }
    .into_response()
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub q: Option<String>,
    pub unit: Option<String>,
    pub state: Option<String>,
    pub page: Option<i64>,
}

pub async fn list(a: ApiCaller, Query(q): Query<ListQuery>) -> Response {
    let s = Search {
        text: q.q,
        unit: q.unit,
        state: q.state,
        page: q.page.unwrap_or(1),
    };
    match people::search(a.idp(), &a.powers, &s).await {
        Ok(f) => super::json(json!({
            "total": f.total,
            "page": f.page,
            "pages": f.pages,
            "people": f.people.iter().map(person_json).collect::<Vec<_>>(),
        })),
        Err(e) => refused(&a, e),
    }
}

pub async fn get_one(a: ApiCaller, Path(id): Path<String>) -> Response {
    match people::detail(a.idp(), &a.powers, &UserId::from(id), crate::now()).await {
        Ok(d) => {
            let mut v = person_json(&d.user);
            v["roles"] = json!(d.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>());
            v["factors"] = json!(d.factors.iter().map(|f| f.as_str()).collect::<Vec<_>>());
            v["recovery_codes"] = json!(d.recovery_codes);
            v["locked_secs"] = json!(d.locked_secs);
            v["events"] = json!(d.events.iter().map(event_json).collect::<Vec<_>>());
            super::json(v)
        }
        Err(e) => refused(&a, e),
    }
}

fn changed(a: &ApiCaller, r: Result<bool, PeopleError>) -> Response {
    match r {
        Ok(c) => super::json(json!({ "changed": c })),
        Err(e) => refused(a, e),
    }
}

pub async fn disable(a: ApiCaller, Path(id): Path<String>) -> Response {
    let r = people::disable(
        a.idp(),
        &a.powers,
        &UserId::from(id),
        a.ctx.ip.clone(),
        crate::now(),
    )
    .await;
    changed(&a, r)
}

pub async fn enable(a: ApiCaller, Path(id): Path<String>) -> Response {
    let r = people::enable(a.idp(), &a.powers, &UserId::from(id), crate::now()).await;
    changed(&a, r)
}

pub async fn unlock(a: ApiCaller, Path(id): Path<String>) -> Response {
    let r = people::unlock(a.idp(), &a.powers, &UserId::from(id), crate::now()).await;
    changed(&a, r.map(|()| true))
}

pub async fn reset_factors(a: ApiCaller, Path(id): Path<String>) -> Response {
    let r = people::reset_factors(a.idp(), &a.powers, &UserId::from(id), crate::now()).await;
    changed(&a, r.map(|n| n > 0))
}

async fn set_role(a: ApiCaller, id: String, role: String, on: bool) -> Response {
    let Ok(role) = role.parse::<Role>() else {
        return ApiError::bad_request("unknown role; use super_admin, unit_admin, clerk, auditor")
            .into_response();
    };
    let r = people::set_role(
        a.idp(),
        &a.powers,
        &UserId::from(id),
        role,
        on,
        crate::now(),
    )
    .await;
    changed(&a, r)
}

pub async fn grant(a: ApiCaller, Path((id, role)): Path<(String, String)>) -> Response {
    set_role(a, id, role, true).await
}

pub async fn revoke(a: ApiCaller, Path((id, role)): Path<(String, String)>) -> Response {
    set_role(a, id, role, false).await
}

pub async fn units(a: ApiCaller) -> Response {
    if !a.powers.may_list_people() {
        return ApiError::forbidden().into_response();
    }
    let scope = a.powers.people_scope();
    match a.idp().store.unit_counts().await {
        Ok(units) => super::json(json!({
            "units": units
                .iter()
                .filter(|u| scope.is_none_or(|s| s == u.unit))
                .map(|u| json!({ "unit": u.unit, "people": u.people, "disabled": u.disabled }))
                .collect::<Vec<_>>(),
        })),
        Err(e) => a.internal(&e).into_response(),
    }
}

/// The audit filters and a page size (no `flatten`: the query's numbers
/// would arrive as strings).
#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    pub kind: Option<String>,
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub before: Option<i64>,
    pub limit: Option<i64>,
}

pub async fn audit(a: ApiCaller, Query(q): Query<AuditQuery>) -> Response {
    let limit = q.limit.unwrap_or(people::PAGE);
    let filter = Filter {
        kind: q.kind,
        actor: q.actor,
        subject: q.subject,
        from: q.from,
        to: q.to,
        before: q.before,
    };
    match audit_log::list(&a.idp().store, &a.powers, &filter, limit).await {
        Ok(p) => super::json(json!({
            "events": p.rows.iter().map(|r| event_json(&r.event)).collect::<Vec<_>>(),
            "next": p.next,
        })),
        Err(AuditLogError::Forbidden) => ApiError::forbidden().into_response(),
        Err(e) => a.internal(&e).into_response(),
    }
}

pub async fn audit_csv(a: ApiCaller, Query(mut f): Query<Filter>) -> Response {
    f.before = None;
    match audit_log::csv(&a.idp().store, &a.powers, &f).await {
        Ok(body) => {
            let mut resp = body.into_response();
            let h = resp.headers_mut();
            h.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            h.insert(
                CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"audit.csv\""),
            );
            resp
        }
        Err(AuditLogError::Forbidden) => ApiError::forbidden().into_response(),
        Err(e) => a.internal(&e).into_response(),
    }
}
