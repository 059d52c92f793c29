//! The JSON admin API under `/api/admin/v1`, mirroring the console: the
//! same `admin::` steps with the same `Powers`, authenticated by an access
//! token of this IdP with the `admin` scope and `acr` 2 (`admin::api_token`).
//! Errors are `{ "error", "error_description" }` (RFC 6750 §3 for the token:
//! 401 `invalid_token` with `WWW-Authenticate`, 403 `insufficient_scope`),
//! 404 `not_found` for what the caller may not see, 403 `forbidden` for what
//! they may not change. Described by the OpenAPI 3.1 document served at
//! `/api/admin/v1/openapi.json` (`openapi.json` beside this file).
//!
//! **Adding an endpoint**: a handler `async fn x(a: ApiCaller, …) ->
//! Response` that calls one `admin::` step with `&a.powers` and answers with
//! [`json`] or an [`ApiError`]; one entry in [`endpoints`]; its path in
//! `openapi.json` (a test checks that both list the same paths and methods).

mod apps;
mod links;
mod people;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post, put};
use serde_json::json;

use super::ctx::Ctx;
use crate::Idp;
use crate::admin::api_token::{self, ApiAuthError};
use crate::admin::roles::Powers;

/// The OpenAPI 3.1 description of this API.
pub const OPENAPI: &str = include_str!("openapi.json");

/// Every endpoint: its path (relative to `/api/admin/v1`) and handlers.
pub fn endpoints() -> Vec<(&'static str, MethodRouter<Arc<Idp>>)> {
    vec![
        ("/openapi.json", get(openapi_get)),
        ("/people", get(people::list)),
        ("/people/{id}", get(people::get_one)),
        ("/people/{id}/disable", post(people::disable)),
        ("/people/{id}/enable", post(people::enable)),
        ("/people/{id}/unlock", post(people::unlock)),
        ("/people/{id}/reset-factors", post(people::reset_factors)),
        (
            "/people/{id}/roles/{role}",
            post(people::grant).merge(delete(people::revoke)),
        ),
        ("/units", get(people::units)),
        ("/apps", get(apps::list_apps).post(apps::create_app)),
        ("/apps/{id}", get(apps::get_app).patch(apps::update_app)),
        (
            "/apps/{id}/icon",
            put(apps::put_icon).layer(DefaultBodyLimit::max(apps::ICON_BODY_LIMIT)),
        ),
        ("/apps/{id}/legacy-claim", put(apps::put_claim)),
        (
            "/clients",
            get(apps::list_clients).post(apps::create_client),
        ),
        (
            "/clients/{id}",
            get(apps::get_client).put(apps::update_client),
        ),
        ("/clients/{id}/secret", post(apps::rotate_secret)),
        ("/audit", get(people::audit)),
        ("/audit.csv", get(people::audit_csv)),
        ("/links/coverage", get(links::coverage)),
        ("/links/queue", get(links::queue)),
        ("/links/queue/accept", post(links::accept)),
        ("/links/queue/reject", post(links::reject)),
        ("/links/queue/accept-exact", post(links::accept_exact)),
        ("/links/conflicts", get(links::conflicts)),
        ("/links/search", get(links::search)),
        (
            "/links/apps/{app}",
            get(links::list).merge(post(links::add)),
        ),
        ("/links/apps/{app}/{username}", delete(links::remove)),
        ("/links/apps/{app}/export.csv", get(links::export_csv)),
        (
            "/links/apps/{app}/import.csv",
            post(links::import_csv).layer(DefaultBodyLimit::max(links::IMPORT_BODY_LIMIT)),
        ),
        ("/links/requests", get(links::requests)),
        ("/links/requests/{id}", post(links::decide)),
    ]
}

pub const BASE: &str = "/api/admin/v1";

pub fn routes() -> Router<Arc<Idp>> {
    let mut r = Router::new();
    for (path, handlers) in endpoints() {
        r = r.route(&format!("{BASE}{path}"), handlers);
    }
    r
}

async fn openapi_get() -> Response {
    let mut resp = OPENAPI.into_response();
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    resp
}

/// `Err` (a 403) unless the caller's powers allow it.
pub fn allow(allowed: bool) -> Result<(), ApiError> {
    if allowed {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

/// A JSON body, or a 400 that says what is wrong with it.
pub fn body<T>(
    b: Result<axum::Json<T>, axum::extract::rejection::JsonRejection>,
) -> Result<T, ApiError> {
    b.map(|axum::Json(v)| v)
        .map_err(|e| ApiError::bad_request(e.body_text()))
}

/// A refusal or failure, as JSON.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
    /// The scope an `insufficient_scope` refusal names.
    pub scope: Option<&'static str>,
    /// A sentence in Vietnamese an app can show its user (the signing API's).
    pub message: Option<&'static str>,
    /// For `insufficient_user_authentication`: the sign-in age RFC 9470 asks for.
    pub max_age: Option<i64>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        error: &'static str,
        description: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            error,
            description: description.into(),
            scope: None,
            message: None,
            max_age: None,
        }
    }

    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such person")
    }

    pub fn forbidden() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the caller may not do this",
        )
    }

    /// A caller the token check refused: RFC 6750's answers.
    pub fn refused(e: ApiAuthError, request_id: &str) -> ApiError {
        match e {
            ApiAuthError::InvalidToken(why) => {
                ApiError::new(StatusCode::UNAUTHORIZED, "invalid_token", why)
            }
            ApiAuthError::InsufficientScope(scope) => ApiError {
                scope: Some(scope),
                ..ApiError::new(
                    StatusCode::FORBIDDEN,
                    "insufficient_scope",
                    format!("the {scope} scope is required"),
                )
            },
            ApiAuthError::NeedsSecondFactor => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "insufficient_user_authentication",
                "sign in with a second factor (acr_values=2)",
            ),
            ApiAuthError::NoRole => ApiError::forbidden(),
            ApiAuthError::Store(e) => ApiError::internal(&e, request_id),
            ApiAuthError::Check(e) => ApiError::internal(&e, request_id),
        }
    }

    pub fn bad_request(why: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", why)
    }

    /// A failure of our own: logged with the request id, not described.
    pub fn internal(e: &dyn std::fmt::Display, request_id: &str) -> ApiError {
        tracing::error!(request_id, error = %e, "admin API request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            format!("request {request_id} failed"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.error, "error_description": self.description });
        if let Some(m) = self.message {
            body["message"] = json!(m);
        }
        let mut resp = (self.status, axum::Json(body)).into_response();
        let h = resp.headers_mut();
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        let challenge = match (self.status, self.scope) {
            (StatusCode::UNAUTHORIZED, _) => Some(match self.max_age {
                Some(age) => format!(
                    r#"Bearer realm="dangnhap", error="{}", max_age={age}"#,
                    self.error
                ),
                None => format!(r#"Bearer realm="dangnhap", error="{}""#, self.error),
            }),
            (StatusCode::FORBIDDEN, Some(scope)) => Some(format!(
                r#"Bearer realm="dangnhap", error="insufficient_scope", scope="{scope}""#
            )),
            _ => None,
        };
        if let Some(v) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            h.insert(WWW_AUTHENTICATE, v);
        }
        resp
    }
}

/// JSON with `Cache-Control: no-store`.
pub fn json(v: serde_json::Value) -> Response {
    let mut resp = axum::Json(v).into_response();
    resp.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// A caller that passed `admin::api_token::caller`.
pub struct ApiCaller {
    pub ctx: Ctx,
    pub powers: Powers,
    idp: Arc<Idp>,
}

impl ApiCaller {
    pub fn idp(&self) -> &Idp {
        &self.idp
    }

    pub fn internal(&self, e: &dyn std::fmt::Display) -> ApiError {
        ApiError::internal(e, &self.ctx.request_id)
    }
}

impl FromRequestParts<Arc<Idp>> for ApiCaller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, idp: &Arc<Idp>) -> Result<Self, Response> {
        let Ok(ctx) = Ctx::from_request_parts(parts, idp).await;
        match api_token::caller(idp, ctx.bearer(), crate::now()).await {
            Ok((_, powers)) => Ok(ApiCaller {
                ctx,
                powers,
                idp: Arc::clone(idp),
            }),
            Err(e) => {
                tracing::info!(request_id = %ctx.request_id, error = %e, "admin API call refused");
                Err(ApiError::refused(e, &ctx.request_id).into_response())
            }
        }
    }
}

#[cfg(test)]
mod tests;
