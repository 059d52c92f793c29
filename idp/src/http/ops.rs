//! Operations: liveness, readiness (database and cache reachable) and metrics.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::Idp;
use crate::cache::CacheBackend;

pub async fn healthz_get() -> &'static str {
    "ok"
}

pub async fn readyz_get(State(idp): State<Arc<Idp>>) -> Response {
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
    let body = Json(json!({
        "database": if db.is_ok() { "ok" } else { "unreachable" },
        "cache": if cache.is_ok() { "ok" } else { "unreachable" },
        "cache_kind": idp.cache.kind(),
        "directory": match &directory {
            None => "local",
            Some(Ok(())) => "ok",
            Some(Err(_)) => "unreachable",
        },
    }));
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, body).into_response()
}

pub async fn metrics_get(State(idp): State<Arc<Idp>>) -> Response {
    let mut resp = idp.metrics.render().into_response();
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    resp
}
