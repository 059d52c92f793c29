//! Account links over JSON: the console's linking steps (`admin::links`)
//! with the caller's powers. Reads need `may_see_links`; changes need
//! `may_manage_links` for the caller's unit, and a unit administrator's
//! calls carry their unit, so another unit's people are "not found".

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiCaller, ApiError};
use crate::admin::Actor;
use crate::admin::links::{self, LinkError, RequestDecision};
use crate::http::console::links_csv_response;
use crate::ids::{Email, UserId};
use crate::kinds::LinkMethod;
use crate::store::{QueueFilter, QueueKey, QueueRow};

/// The request body a CSV import may have.
pub const IMPORT_BODY_LIMIT: usize = links::MAX_CSV_BYTES + 64 * 1024;

fn scope(a: &ApiCaller) -> Option<&str> {
    a.powers.people_scope()
}

fn actor(a: &ApiCaller) -> Actor {
    Actor::person(&a.powers.user_id)
}

/// `Err` (a 403) unless the caller may look at links.
fn may_see(a: &ApiCaller) -> Result<(), ApiError> {
    super::allow(a.powers.may_see_links())
}

/// `Err` (a 403) unless the caller may change links.
fn may_change(a: &ApiCaller) -> Result<(), ApiError> {
    super::allow(a.powers.may_manage_links(scope(a)))
}

fn refused(a: &ApiCaller, e: LinkError) -> Response {
    tracing::info!(request_id = %a.ctx.request_id, error = %e, "admin API link change refused");
    let conflict = |e: &LinkError| ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string());
    match e {
        LinkError::OutsideUnit(_) | LinkError::NoApp(_) | LinkError::NoRequest(_) => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such app, person or request",
        ),
        LinkError::AccountTaken { .. }
        | LinkError::PersonHasAccount { .. }
        | LinkError::AccountInactive { .. }
        | LinkError::PersonDisabled(_)
        | LinkError::NoSuggestion { .. }
        | LinkError::AlreadyDecided(_) => conflict(&e),
        LinkError::NoAccount { .. }
        | LinkError::NoPerson(_)
        | LinkError::NotLinked { .. }
        | LinkError::BadInput(_) => ApiError::bad_request(e.to_string()),
        LinkError::SelfLink => ApiError::new(StatusCode::FORBIDDEN, "forbidden", e.to_string()),
        LinkError::Connector(_) | LinkError::Store(_) => a.internal(&e),
    }
    .into_response()
}

pub async fn coverage(a: ApiCaller) -> Response {
    if let Err(r) = may_see(&a) {
        return r.into_response();
    }
    match links::coverage(&a.idp().store).await {
        Ok(rows) => super::json(json!({
            "apps": rows.iter().map(|c| json!({
                "app_id": c.app_id,
                "app_name": c.app_name,
                "accounts": c.accounts,
                "active": c.active,
                "linked": c.linked,
                "pending": c.pending,
                "conflicts": c.conflicts,
                "unlinked_active": c.unlinked_active,
            })).collect::<Vec<_>>(),
        })),
        Err(e) => refused(&a, e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    pub app: Option<String>,
    pub reason: Option<String>,
    pub exact: Option<bool>,
    pub limit: Option<i64>,
    pub after_app: Option<String>,
    pub after_username: Option<String>,
    pub after_user: Option<String>,
}

fn row_json(r: &QueueRow) -> Value {
    json!({
        "app_id": r.app_id,
        "username": r.username,
        "user_id": r.user_id.as_str(),
        "reason": r.reason.as_str(),
        "confidence": r.confidence,
        "ambiguous": r.ambiguous.0,
        "exact": r.exact.0,
        "created_at": r.created_at,
        "account": {
            "name": r.account_name,
            "email": r.account_email,
            "phone": r.account_phone,
            "unit": r.account_unit,
        },
        "person": {
            "email": r.person_email.as_str(),
            "name": r.person_name,
            "phone": r.person_phone,
            "unit": r.person_unit,
        },
    })
}

pub async fn queue(a: ApiCaller, Query(q): Query<QueueQuery>) -> Response {
    if let Err(r) = may_see(&a) {
        return r.into_response();
    }
    let reason = match q.reason.as_deref().filter(|r| !r.is_empty()) {
        None => None,
        Some(r) => match r.parse::<LinkMethod>() {
            Ok(m) => Some(m),
            Err(e) => return ApiError::bad_request(e.to_string()).into_response(),
        },
    };
    let filter = QueueFilter {
        app: q.app.filter(|a| !a.is_empty()),
        reason,
        exact_only: q.exact.unwrap_or(false),
        unit: scope(&a).map(str::to_owned),
    };
    let after = match (q.after_app, q.after_username, q.after_user) {
        (Some(app_id), Some(username), Some(user)) => Some(QueueKey {
            app_id,
            username,
            user_id: UserId::from(user.as_str()),
        }),
        _ => None,
    };
    let limit = q.limit.unwrap_or(50).clamp(1, links::MAX_PAGE);
    match links::queue(&a.idp().store, &filter, after.as_ref(), limit).await {
        Ok(rows) => {
            let next = (rows.len() as i64 == limit)
                .then(|| rows.last())
                .flatten()
                .map(|r| {
                    json!({ "after_app": r.app_id, "after_username": r.username, "after_user": r.user_id.as_str() })
                });
            super::json(json!({
                "suggestions": rows.iter().map(row_json).collect::<Vec<_>>(),
                "next": next,
            }))
        }
        Err(e) => refused(&a, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct Pair {
    pub app: String,
    pub username: String,
    pub user_id: String,
}

pub async fn accept(a: ApiCaller, b: Result<Json<Pair>, JsonRejection>) -> Response {
    let p = match may_change(&a).and_then(|()| super::body(b)) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let user = UserId::from(p.user_id.as_str());
    let r = links::accept(
        &a.idp().store,
        &actor(&a),
        &p.app,
        &p.username,
        &user,
        scope(&a),
        crate::now(),
    )
    .await;
    match r {
        Ok(l) => super::json(
            json!({ "linked": { "app_id": l.app_id, "username": l.username, "user_id": l.user_id.as_str(), "method": l.method.as_str() } }),
        ),
        Err(e) => refused(&a, e),
    }
}

pub async fn reject(a: ApiCaller, b: Result<Json<Pair>, JsonRejection>) -> Response {
    let p = match may_change(&a).and_then(|()| super::body(b)) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let user = UserId::from(p.user_id.as_str());
    let r = links::reject(
        &a.idp().store,
        &actor(&a),
        &p.app,
        &p.username,
        &user,
        scope(&a),
        crate::now(),
    )
    .await;
    match r {
        Ok(()) => super::json(json!({ "rejected": true })),
        Err(e) => refused(&a, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct AppBody {
    pub app: String,
}

pub async fn accept_exact(a: ApiCaller, b: Result<Json<AppBody>, JsonRejection>) -> Response {
    let p = match may_change(&a).and_then(|()| super::body(b)) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    match links::accept_all_exact(&a.idp().store, &actor(&a), &p.app, scope(&a), crate::now()).await
    {
        Ok(r) => super::json(json!({ "linked": r.linked_total(), "conflicts": r.conflicts })),
        Err(e) => refused(&a, e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct AppQuery {
    pub app: Option<String>,
    pub q: Option<String>,
}

pub async fn conflicts(a: ApiCaller, Query(q): Query<AppQuery>) -> Response {
    if let Err(r) = may_see(&a) {
        return r.into_response();
    }
    let app = q.app.unwrap_or_default();
    match links::conflicts(&a.idp().store, &app, scope(&a)).await {
        Ok(list) => super::json(json!({
            "conflicts": list.iter().map(|c| match c {
                links::Conflict::PersonAlreadyLinked { username, person, linked_username } => json!({
                    "kind": "person_already_linked", "username": username,
                    "person": person.as_str(), "linked_username": linked_username,
                }),
                links::Conflict::PersonClaimedTwice { person, usernames } => json!({
                    "kind": "person_claimed_twice", "person": person.as_str(), "usernames": usernames,
                }),
                links::Conflict::AccountClaimedTwice { username, people } => json!({
                    "kind": "account_claimed_twice", "username": username,
                    "people": people.iter().map(UserId::as_str).collect::<Vec<_>>(),
                }),
            }).collect::<Vec<_>>(),
        })),
        Err(e) => refused(&a, e),
    }
}

pub async fn search(a: ApiCaller, Query(q): Query<AppQuery>) -> Response {
    if let Err(r) = may_see(&a) {
        return r.into_response();
    }
    let app = q.app.filter(|a| !a.is_empty());
    let text = q.q.unwrap_or_default();
    match links::search(&a.idp().store, &text, app.as_deref(), scope(&a)).await {
        Ok(f) => super::json(json!({
            "people": f.people.iter().map(|p| json!({
                "id": p.id.as_str(), "email": p.email.as_str(), "name": p.name, "unit": p.unit,
            })).collect::<Vec<_>>(),
            "accounts": f.accounts.iter().map(|x| json!({
                "username": x.username, "name": x.display_name, "email": x.email,
                "phone": x.phone, "unit": x.unit, "active": x.active.0,
            })).collect::<Vec<_>>(),
        })),
        Err(e) => refused(&a, e),
    }
}

pub async fn list(a: ApiCaller, Path(app): Path<String>) -> Response {
    if let Err(r) = may_see(&a) {
        return r.into_response();
    }
    match links::list_links(&a.idp().store, &app, scope(&a)).await {
        Ok(list) => super::json(json!({
            "links": list.iter().map(|(l, u)| json!({
                "username": l.username, "user_id": l.user_id.as_str(), "email": u.email.as_str(),
                "method": l.method.as_str(), "linked_by": l.linked_by, "linked_at": l.linked_at,
            })).collect::<Vec<_>>(),
        })),
        Err(e) => refused(&a, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct AddBody {
    pub email: String,
    pub username: String,
}

pub async fn add(
    a: ApiCaller,
    Path(app): Path<String>,
    b: Result<Json<AddBody>, JsonRejection>,
) -> Response {
    let p = match may_change(&a).and_then(|()| super::body(b)) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let Ok(email) = Email::parse(&p.email) else {
        return ApiError::bad_request("email is not an e-mail address").into_response();
    };
    match links::add(
        &a.idp().store,
        &actor(&a),
        &email,
        &app,
        &p.username,
        scope(&a),
        crate::now(),
    )
    .await
    {
        Ok(l) => super::json(
            json!({ "linked": { "app_id": l.app_id, "username": l.username, "user_id": l.user_id.as_str(), "method": l.method.as_str() } }),
        ),
        Err(e) => refused(&a, e),
    }
}

pub async fn remove(a: ApiCaller, Path((app, username)): Path<(String, String)>) -> Response {
    if let Err(r) = may_change(&a) {
        return r.into_response();
    }
    match links::remove(
        &a.idp().store,
        &actor(&a),
        &app,
        &username,
        scope(&a),
        crate::now(),
    )
    .await
    {
        Ok(l) => super::json(
            json!({ "removed": { "app_id": l.app_id, "username": l.username, "user_id": l.user_id.as_str() } }),
        ),
        Err(e) => refused(&a, e),
    }
}

pub async fn export_csv(a: ApiCaller, Path(app): Path<String>) -> Response {
    if let Err(r) = may_see(&a) {
        return r.into_response();
    }
    match links::export_csv(&a.idp().store, &app, scope(&a)).await {
        Ok(csv) => links_csv_response(&app, csv),
        Err(e) => refused(&a, e),
    }
}

pub async fn import_csv(
    a: ApiCaller,
    Path(app): Path<String>,
    b: Result<Bytes, BytesRejection>,
) -> Response {
    if let Err(r) = may_change(&a) {
        return r.into_response();
    }
    let bytes = match b {
        Ok(b) => b,
        Err(e) => {
            let status = e.status();
            return ApiError::new(status, "invalid_request", e.body_text()).into_response();
        }
    };
    match links::import_links_csv(
        &a.idp().store,
        &actor(&a),
        &app,
        &bytes,
        scope(&a),
        crate::now(),
    )
    .await
    {
        Ok(r) => super::json(json!({
            "rows": r.rows, "linked": r.linked, "unchanged": r.unchanged, "skipped": r.skipped,
        })),
        Err(e) => refused(&a, e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct RequestsQuery {
    pub after: Option<i64>,
}

pub async fn requests(a: ApiCaller, Query(q): Query<RequestsQuery>) -> Response {
    if let Err(r) = may_see(&a) {
        return r.into_response();
    }
    const PAGE: i64 = 200;
    match links::pending_requests(&a.idp().store, scope(&a), q.after.unwrap_or(0), PAGE).await {
        Ok(list) => super::json(json!({
            "requests": list.iter().map(|r| json!({
                "id": r.id, "user_id": r.user_id.as_str(), "app_id": r.app_id,
                "note": r.note, "created_at": r.created_at,
            })).collect::<Vec<_>>(),
            // `after` of the next page; null on the last one.
            "next": (list.len() as i64 == PAGE).then(|| list.last().map(|r| r.id)).flatten(),
        })),
        Err(e) => refused(&a, e),
    }
}

/// Link `link` (a username of the app) or refuse with `reject` (the reason).
#[derive(Debug, Deserialize)]
pub struct DecideBody {
    pub link: Option<String>,
    pub reject: Option<String>,
}

pub async fn decide(
    a: ApiCaller,
    Path(id): Path<i64>,
    b: Result<Json<DecideBody>, JsonRejection>,
) -> Response {
    let p = match may_change(&a).and_then(|()| super::body(b)) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let d = match (p.link, p.reject) {
        (Some(username), None) => RequestDecision::Link { username },
        (None, Some(reason)) => RequestDecision::Reject { reason },
        _ => return ApiError::bad_request("give either link or reject").into_response(),
    };
    match links::decide_request(
        &a.idp().store,
        &actor(&a),
        id,
        d,
        scope(&a),
        // Told by mail only when there is a mail server (`mailed` says so).
        a.idp().mailer.is_some(),
        crate::now(),
    )
    .await
    {
        Ok(d) => {
            crate::outbox::wake(a.idp());
            super::json(json!({
                "id": d.request.id,
                "status": d.request.status.as_str(),
                "decision": d.request.decision,
                "mailed": d.mailed,
            }))
        }
        Err(e) => refused(&a, e),
    }
}
