//! Operations: liveness, readiness (database, cache and directory reachable)
//! and metrics.
//!
//! Readiness is checked one probe at a time, probes that waited share the
//! result, and a healthy result is reused for [`READY_FOR`]: a flood of
//! `/readyz` would otherwise be a flood of directory searches that starves
//! sign-in. `/metrics` needs `http.metrics_token` (a bearer token) on
//! the main address, and is off there without one; `http.metrics_listen`
//! serves it on a second, private address.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::Edge;
use super::ctx::Ctx;
use crate::Idp;
use crate::cache::CacheBackend;

/// How long a healthy readiness result is reused.
pub const READY_FOR: Duration = Duration::from_secs(2);

/// The last readiness check: when it started, and what it found. The lock
/// makes concurrent probes wait for one check and share its result.
#[derive(Default)]
pub struct Readiness {
    last: tokio::sync::Mutex<Option<(Instant, StatusCode, Value)>>,
}

pub async fn healthz_get() -> &'static str {
    "ok"
}

pub async fn readyz_get(
    State(idp): State<Arc<Idp>>,
    Extension(edge): Extension<Arc<Edge>>,
) -> Response {
    let arrived = Instant::now();
    let mut last = edge.ready.last.lock().await;
    if let Some((started, status, body)) = last.as_ref() {
        // A check that began while this probe waited answers it; a healthy
        // one is reused a little longer. An unhealthy one is not, so recovery
        // shows at the next probe.
        let fresh =
            *started >= arrived || (*status == StatusCode::OK && started.elapsed() < READY_FOR);
        if fresh {
            return (*status, Json(body.clone())).into_response();
        }
    }
    let started = Instant::now();
    let (status, body) = check(&idp).await;
    *last = Some((started, status, body.clone()));
    (status, Json(body)).into_response()
}

async fn check(idp: &Idp) -> (StatusCode, Value) {
    tracing::debug!("readiness checked");
    let db = idp.store.ping().await;
    let cache = idp.cache.ping().await;
    if let Err(e) = &db {
        tracing::warn!(error = %e, "readyz: database unreachable");
    }
    if let Err(e) = &cache {
        tracing::warn!(error = %e, "readyz: cache unreachable");
    }
    let directory = match &idp.directory.ldap {
        None => None,
        Some(ldap) => Some(ldap.ping().await),
    };
    if let Some(Err(e)) = &directory {
        tracing::warn!(error = %e, "readyz: directory unreachable");
    }
    let ok = db.is_ok() && cache.is_ok() && directory.as_ref().is_none_or(Result::is_ok);
    let body = json!({
        "database": if db.is_ok() { "ok" } else { "unreachable" },
        "cache": if cache.is_ok() { "ok" } else { "unreachable" },
        "cache_kind": idp.cache.kind(),
        "directory": match &directory {
            None => "local",
            Some(Ok(())) => "ok",
            Some(Err(_)) => "unreachable",
        },
    });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, body)
}

/// `/metrics` on the main address: only with the bearer token; without a
/// configured token it does not exist there.
pub async fn metrics_get(State(idp): State<Arc<Idp>>, ctx: Ctx) -> Response {
    if idp.config.http.metrics_token.is_none() {
        return super::portal::not_found(ctx).await;
    }
    metrics_private_get(State(idp), ctx).await
}

/// `/metrics` on `http.metrics_listen`: the token too, when one is configured.
pub async fn metrics_private_get(State(idp): State<Arc<Idp>>, ctx: Ctx) -> Response {
    if let Some(token) = &idp.config.http.metrics_token {
        let given = ctx.bearer().unwrap_or_default();
        if !crate::crypto::ct_eq(given.as_bytes(), token.expose_secret().as_bytes()) {
            tracing::info!(request_id = %ctx.request_id, client = ctx.ip.as_deref().unwrap_or("?"), "metrics: missing or wrong bearer token");
            let mut resp = StatusCode::UNAUTHORIZED.into_response();
            resp.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"metrics\""),
            );
            return resp;
        }
    }
    let mut resp = idp.metrics.render().into_response();
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    resp
}
