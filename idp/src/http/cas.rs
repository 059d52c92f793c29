//! CAS 3.0 endpoints under `/cas`: each handler extracts, calls one
//! `cas::` function and maps the result to a redirect, a page, XML, JSON or
//! CAS 1.0 text. Only requests the calling server alone made malformed are
//! marked for its per-address limit of failed calls (`rate::FailedCall`,
//! `response::Failure::counted`): a bad ticket comes from a person's
//! browser, and counting it would let one person block an app server for
//! everyone, while 256-bit single-use tickets cannot be guessed anyway. Past
//! the limit the answer is still CAS ([`too_many`]).

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::ctx::Ctx;
use super::oidc::see_other;
use super::rate::FailedCall;
use super::{cookies, csrf, error};
use crate::Idp;
use crate::auth::session;
use crate::cas::login::{self, LoginRequest, Step};
use crate::cas::logout::Step as CasLogout;
use crate::cas::proxy::{self, ProxyRequest};
use crate::cas::response::{self, Code, Failure, Format};
use crate::cas::validate::{self, Endpoint, ValidateRequest};
use crate::refusal::Refusal;
use portal_ui::pages::LogoutConfirmPage;

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
        Ok(Step::SecondFactor { token }) => super::mfa::to_second_factor(&idp, &token),
        Ok(Step::Refuse(r)) => error::refused(r, ctx.lang, "/", &ctx.request_id),
        Err(e) => error::internal(&e, true, ctx.lang, &ctx.request_id),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct LogoutQuery {
    pub service: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct LogoutForm {
    pub csrf: Option<String>,
    pub service: Option<String>,
}

/// `true` when the browser says the request comes from the IdP's own pages
/// or from the person typing the address: `Sec-Fetch-Site` `same-origin` or
/// `none`; without it (an older browser), an `Origin`, else a `Referer`, of
/// the issuer's origin. Anything else — another site, or no sign at all —
/// is not proof.
pub fn same_origin(headers: &HeaderMap, issuer: &str) -> bool {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return matches!(site, "same-origin" | "none");
    }
    let Ok(ours) = url::Url::parse(issuer).map(|u| u.origin()) else {
        return false;
    };
    let of = |v: &str| url::Url::parse(v).is_ok_and(|u| u.origin() == ours);
    match (header("origin"), header("referer")) {
        (Some(origin), _) => of(origin),
        (None, Some(referer)) => of(referer),
        (None, None) => false,
    }
}

/// `GET /cas/logout` (§2.3): signs out at once when the request comes from
/// the IdP's own origin, else asks first (a cross-site link or image must not
/// sign anyone out).
pub async fn logout_get(
    State(idp): St,
    ctx: Ctx,
    headers: HeaderMap,
    q: Result<Query<LogoutQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(q)) = q else {
        return error::refused(Refusal::BadRequest, ctx.lang, "/", &ctx.request_id);
    };
    let confirmed = same_origin(&headers, idp.config.issuer());
    logout(&idp, &ctx, q.service.as_deref(), confirmed).await
}

/// `POST /cas/logout`: the confirmation form's button.
pub async fn logout_post(
    State(idp): St,
    ctx: Ctx,
    f: Result<Form<LogoutForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = f else {
        return error::refused(Refusal::BadRequest, ctx.lang, "/", &ctx.request_id);
    };
    if !csrf::check(&idp, &ctx, form.csrf.as_deref()) {
        return error::refused(Refusal::FormExpired, ctx.lang, "/", &ctx.request_id);
    }
    logout(&idp, &ctx, form.service.as_deref(), true).await
}

async fn logout(idp: &Idp, ctx: &Ctx, service: Option<&str>, confirmed: bool) -> Response {
    let cookie = ctx.cookie(cookies::session_name(idp));
    let step = crate::cas::logout::logout(
        idp,
        service,
        cookie,
        confirmed,
        ctx.ip.clone(),
        crate::now(),
    )
    .await;
    match step {
        Ok(CasLogout::Confirm { service }) => {
            let fields: Vec<(String, String)> = service
                .map(|s| ("service".to_owned(), s))
                .into_iter()
                .collect();
            super::form::FormPage::new(idp, ctx, "/cas/logout").render(|csrf, chrome| {
                LogoutConfirmPage {
                    chrome,
                    csrf,
                    action: "/cas/logout".into(),
                    fields,
                }
            })
        }
        Ok(CasLogout::Done {
            redirect,
            signed_out,
        }) => super::oidc::signed_out_response(idp, ctx, redirect, signed_out).await,
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
    Err(Failure::malformed(
        Code::InvalidRequest,
        "each parameter once, URL-encoded",
    ))
}

/// `true` when `r` is a failure to count against the caller.
fn is_counted<T>(r: &Result<T, Failure>) -> bool {
    r.as_ref().err().is_some_and(|f| f.counted)
}

/// The 429 of a CAS endpoint (`rate::cas`): the failure in the form the
/// caller reads — CAS 1.0 text at `/cas/validate`, `proxyFailure` at
/// `/cas/proxy`, else `authenticationFailure`, in JSON when `format=JSON`.
pub fn too_many(path: &str, query: Option<&str>, retry_after: u64) -> Response {
    let f = Failure::new(
        Code::InvalidRequest,
        format!(
            "too many malformed requests from this address; retry in {} s",
            retry_after.max(1)
        ),
    );
    let json = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .any(|(k, v)| k == "format" && v.eq_ignore_ascii_case("json"));
    let mut resp = if path.ends_with("/cas/validate") {
        body("text/plain; charset=utf-8", response::v1_text(&Err(f)))
    } else if path.ends_with("/cas/proxy") {
        let r = Err(f);
        if json {
            Json(response::proxy_json(&r)).into_response()
        } else {
            match response::proxy_xml(&r) {
                Ok(x) => body("application/xml; charset=utf-8", x),
                Err(_) => StatusCode::TOO_MANY_REQUESTS.into_response(),
            }
        }
    } else {
        let r = Err(f);
        if json {
            Json(response::validation_json(&r)).into_response()
        } else {
            match response::validation_xml(&r) {
                Ok(x) => body("application/xml; charset=utf-8", x),
                Err(_) => StatusCode::TOO_MANY_REQUESTS.into_response(),
            }
        }
    };
    *resp.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    resp
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
                Err(Failure::malformed(
                    Code::InvalidRequest,
                    "format is XML or JSON",
                )),
                Format::Xml,
            ),
        },
        Err(_) => (bad_query(), Format::Xml),
    };
    let failed = is_counted(&r);
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
                Err(Failure::malformed(
                    Code::InvalidRequest,
                    "format is XML or JSON",
                )),
                Format::Xml,
            ),
        },
        Err(_) => (
            Err(Failure::malformed(
                Code::InvalidRequest,
                "each parameter once, URL-encoded",
            )),
            Format::Xml,
        ),
    };
    let failed = is_counted(&r);
    let resp = match format {
        Format::Json => Json(response::proxy_json(&r)).into_response(),
        Format::Xml => xml(response::proxy_xml(&r), &ctx),
    };
    counted(resp, failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISS: &str = "https://dangnhap.binhphuoc.gov.vn";

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn only_the_idps_own_origin_signs_out_at_once() {
        for ok in [
            &[("sec-fetch-site", "same-origin")][..],
            &[("sec-fetch-site", "none")][..],
            &[("origin", ISS)][..],
            &[("referer", "https://dangnhap.binhphuoc.gov.vn/")][..],
        ] {
            assert!(same_origin(&headers(ok), ISS), "{ok:?}");
        }
        for bad in [
            &[][..],
            &[("sec-fetch-site", "cross-site")][..],
            &[("sec-fetch-site", "same-site")][..],
            // The browser's own word wins over a Referer it also sent.
            &[
                ("sec-fetch-site", "cross-site"),
                ("referer", "https://dangnhap.binhphuoc.gov.vn/"),
            ][..],
            &[("origin", "https://vanban.binhphuoc.gov.vn")][..],
            &[("origin", "null")][..],
            &[("referer", "https://dangnhap.binhphuoc.gov.vn.evil.example/")][..],
            &[("referer", "http://dangnhap.binhphuoc.gov.vn/")][..],
            // An Origin decides, whatever the Referer says.
            &[
                ("origin", "https://evil.example"),
                ("referer", "https://dangnhap.binhphuoc.gov.vn/"),
            ][..],
        ] {
            assert!(!same_origin(&headers(bad), ISS), "{bad:?}");
        }
    }
}
