//! CAS 3.0 endpoints under `/cas`: each handler extracts, calls one
//! `cas::` function and maps the result to a redirect, a page, XML, JSON or
//! CAS 1.0 text. Validation failures are marked for the per-address limit
//! of failed calls (`rate::FailedCall`), so tickets cannot be guessed at volume.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderValue;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::ctx::Ctx;
use super::oidc::see_other;
use super::rate::FailedCall;
use super::{cookies, error};
use crate::Idp;
use crate::auth::session;
use crate::cas::login::{self, LoginRequest, Step};
use crate::cas::proxy::{self, ProxyRequest};
use crate::cas::response::{self, Code, Failure, Format};
use crate::cas::validate::{self, Endpoint, ValidateRequest};
use crate::refusal::Refusal;

type St = State<Arc<Idp>>;

/// `GET /cas/login` (§2.1).
pub async fn login_get(
    State(idp): St,
    ctx: Ctx,
    q: Result<Query<LoginRequest>, QueryRejection>,
) -> Response {
    let Ok(Query(req)) = q else {
        return error::refused(Refusal::BadRequest, ctx.lang, "/", &ctx.request_id);
    };
    let now = crate::now();
    let sess = match ctx.cookie(cookies::session_name(&idp)) {
        Some(c) => match session::load(&idp.cache, &idp.config.session, c, now).await {
            Ok(s) => s,
            Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
        },
        None => None,
    };
    match login::start(&idp, req, sess.as_ref(), now).await {
        Ok(Step::Redirect(to)) => see_other(&to),
        Ok(Step::Login { req_id }) => see_other(&format!("/login?req={req_id}")),
        Ok(Step::Refuse(r)) => error::refused(r, ctx.lang, "/", &ctx.request_id),
        Err(e) => error::internal(&e, true, ctx.lang, &ctx.request_id),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct LogoutQuery {
    pub service: Option<String>,
}

/// `GET /cas/logout` (§2.3): signs out at once, as CAS apps expect.
pub async fn logout_get(
    State(idp): St,
    ctx: Ctx,
    q: Result<Query<LogoutQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(q)) = q else {
        return error::refused(Refusal::BadRequest, ctx.lang, "/", &ctx.request_id);
    };
    let cookie = ctx.cookie(cookies::session_name(&idp));
    let done = crate::cas::logout::logout(
        &idp,
        q.service.as_deref(),
        cookie,
        ctx.ip.clone(),
        crate::now(),
    )
    .await;
    match done {
        Ok(d) => super::oidc::signed_out_response(&idp, &ctx, d.redirect, d.signed_out).await,
        Err(e) => error::internal(&e, true, ctx.lang, &ctx.request_id),
    }
}

/// A failure marked for the rate limit of failed calls.
fn counted(mut resp: Response, failed: bool) -> Response {
    if failed {
        resp.extensions_mut().insert(FailedCall);
    }
    resp
}

fn body(content_type: &'static str, text: String) -> Response {
    let mut resp = text.into_response();
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

fn xml(r: Result<String, crate::cas::CasError>, ctx: &Ctx) -> Response {
    match r {
        Ok(x) => body("application/xml; charset=utf-8", x),
        Err(e) => error::internal(&e, false, ctx.lang, &ctx.request_id),
    }
}

/// Malformed parameters (a duplicate, bad encoding): INVALID_REQUEST.
fn bad_query() -> Result<response::Success, Failure> {
    Err(Failure::new(
        Code::InvalidRequest,
        "each parameter once, URL-encoded",
    ))
}

async fn run_validation(
    idp: &Idp,
    ctx: &Ctx,
    q: Result<Query<ValidateRequest>, QueryRejection>,
    endpoint: Endpoint,
    attributes: bool,
) -> Response {
    let (r, format) = match q {
        Ok(Query(req)) => match Format::parse(req.format.as_deref()) {
            Some(f) => (
                validate::validate(
                    idp,
                    &req,
                    endpoint,
                    attributes,
                    ctx.ip.clone(),
                    crate::now(),
                )
                .await,
                f,
            ),
            None => (
                Err(Failure::new(Code::InvalidRequest, "format is XML or JSON")),
                Format::Xml,
            ),
        },
        Err(_) => (bad_query(), Format::Xml),
    };
    let failed = r.is_err();
    let resp = if endpoint == Endpoint::V1 {
        body("text/plain; charset=utf-8", response::v1_text(&r))
    } else {
        match format {
            Format::Json => Json(response::validation_json(&r)).into_response(),
            Format::Xml => xml(response::validation_xml(&r), ctx),
        }
    };
    counted(resp, failed)
}

/// `GET /cas/validate` (CAS 1.0, §2.4).
pub async fn validate_get(
    State(idp): St,
    ctx: Ctx,
    q: Result<Query<ValidateRequest>, QueryRejection>,
) -> Response {
    run_validation(&idp, &ctx, q, Endpoint::V1, false).await
}

/// `GET /cas/serviceValidate` (§2.5).
pub async fn service_validate_get(
    State(idp): St,
    ctx: Ctx,
    q: Result<Query<ValidateRequest>, QueryRejection>,
) -> Response {
    run_validation(&idp, &ctx, q, Endpoint::Service, false).await
}

/// `GET /cas/proxyValidate` (§2.6).
pub async fn proxy_validate_get(
    State(idp): St,
    ctx: Ctx,
    q: Result<Query<ValidateRequest>, QueryRejection>,
) -> Response {
    run_validation(&idp, &ctx, q, Endpoint::Proxy, false).await
}

/// `GET /cas/p3/serviceValidate` (§2.8): with attributes.
pub async fn p3_service_validate_get(
    State(idp): St,
    ctx: Ctx,
    q: Result<Query<ValidateRequest>, QueryRejection>,
) -> Response {
    run_validation(&idp, &ctx, q, Endpoint::Service, true).await
}

/// `GET /cas/p3/proxyValidate` (§2.9): with attributes.
pub async fn p3_proxy_validate_get(
    State(idp): St,
    ctx: Ctx,
    q: Result<Query<ValidateRequest>, QueryRejection>,
) -> Response {
    run_validation(&idp, &ctx, q, Endpoint::Proxy, true).await
}

/// `GET /cas/proxy` (§2.7).
pub async fn proxy_get(
    State(idp): St,
    ctx: Ctx,
    q: Result<Query<ProxyRequest>, QueryRejection>,
) -> Response {
    let (r, format) = match q {
        Ok(Query(req)) => match Format::parse(req.format.as_deref()) {
            Some(f) => (proxy::proxy(&idp, &req, crate::now()).await, f),
            None => (
                Err(Failure::new(Code::InvalidRequest, "format is XML or JSON")),
                Format::Xml,
            ),
        },
        Err(_) => (
            Err(Failure::new(
                Code::InvalidRequest,
                "each parameter once, URL-encoded",
            )),
            Format::Xml,
        ),
    };
    let failed = r.is_err();
    let resp = match format {
        Format::Json => Json(response::proxy_json(&r)).into_response(),
        Format::Xml => xml(response::proxy_xml(&r), &ctx),
    };
    counted(resp, failed)
}
