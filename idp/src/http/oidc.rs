//! OIDC endpoints: each handler extracts, calls one domain function, maps the result.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, RawQuery, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, PRAGMA, SET_COOKIE,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use portal_ui::pages::{AppProgressView, Chrome, LoggedOutPage, LogoutConfirmPage};
use serde::Deserialize;

use super::ctx::Ctx;
use super::{cookies, csrf, error};
use crate::Idp;
use crate::auth::session;
use crate::oidc::authorize::{self, AuthorizeRequest, Step};
use crate::oidc::introspection::{self, TokenForm};
use crate::oidc::logout::{self, AppNotice, EndSessionRequest, LogoutStep, Notice};
use crate::oidc::token::{self, TokenRequest};
use crate::oidc::{OidcError, params, revocation, userinfo};
use crate::portal::signout::{self, AppState};
use crate::refusal::Refusal;

type St = State<Arc<Idp>>;

pub async fn discovery_get(State(idp): St) -> Response {
    error::json_bytes(idp.discovery.clone(), "public, max-age=3600")
}

pub async fn jwks_get(State(idp): St) -> Response {
    error::json_bytes(idp.keys.ring().jwks.clone(), "public, max-age=600")
}

pub fn see_other(to: &str) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        resp.headers_mut().insert(LOCATION, v);
    }
    resp
}

pub async fn authorize_get(
    State(idp): St,
    ctx: Ctx,
    q: Result<Query<AuthorizeRequest>, QueryRejection>,
) -> Response {
    match q {
        Ok(Query(req)) => authorize(&idp, &ctx, req).await,
        // Duplicated or malformed parameters: no redirect, the URI is unchecked.
        Err(_) => error::refused(Refusal::BadRequest, ctx.lang, "/", &ctx.request_id),
    }
}

pub async fn authorize_post(
    State(idp): St,
    ctx: Ctx,
    f: Result<Form<AuthorizeRequest>, FormRejection>,
) -> Response {
    match f {
        Ok(Form(req)) => authorize(&idp, &ctx, req).await,
        Err(_) => error::refused(Refusal::BadRequest, ctx.lang, "/", &ctx.request_id),
    }
}

async fn authorize(idp: &Idp, ctx: &Ctx, req: AuthorizeRequest) -> Response {
    let now = crate::now();
    let cookie = ctx.cookie(cookies::session_name(idp));
    let sess = match cookie {
        Some(c) => match session::load(&idp.cache, &idp.config.session, c, now).await {
            Ok(s) => s,
            Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
        },
        None => None,
    };
    match authorize::start(idp, req, sess.as_ref(), now).await {
        Ok(Step::Redirect(to)) => see_other(&to),
        Ok(Step::Login { req_id }) => see_other(&format!("/login?req={req_id}")),
        Ok(Step::SecondFactor { token }) => super::mfa::to_second_factor(idp, &token),
        Ok(Step::Refuse(r)) => error::refused(r, ctx.lang, "/", &ctx.request_id),
        Err(e) => error::internal(&e, true, ctx.lang, &ctx.request_id),
    }
}

fn no_store(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp.headers_mut()
        .insert(PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

fn form_error(ctx: &Ctx) -> Response {
    error::oauth(
        &OidcError::InvalidRequest(
            "the body must be application/x-www-form-urlencoded, each parameter once".into(),
        ),
        &ctx.request_id,
    )
}

pub async fn token_post(
    State(idp): St,
    ctx: Ctx,
    f: Result<Form<TokenRequest>, FormRejection>,
) -> Response {
    let Ok(Form(req)) = f else {
        return form_error(&ctx);
    };
    reply(
        &ctx,
        token::exchange(&idp, req, ctx.basic(), crate::now()).await,
    )
}

/// A JSON answer that must not be cached, or the OAuth error.
fn reply<T: serde::Serialize>(ctx: &Ctx, result: Result<T, OidcError>) -> Response {
    match result {
        Ok(v) => no_store(Json(v).into_response()),
        Err(e) => error::oauth(&with_basic(e, ctx), &ctx.request_id),
    }
}

/// Asks for `WWW-Authenticate: Basic` whenever the client tried Basic (RFC 6749 §5.2).
fn with_basic(e: OidcError, ctx: &Ctx) -> OidcError {
    match e {
        OidcError::InvalidClient { reason, .. } => OidcError::InvalidClient {
            reason,
            basic: ctx.tried_basic(),
        },
        other => other,
    }
}

/// `GET` or `POST /userinfo`: the bearer token from the header or, on a
/// form-encoded POST, from the body's `access_token`.
pub async fn userinfo_any(
    State(idp): St,
    ctx: Ctx,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let form = method == Method::POST
        && headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                v.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
    let presented = userinfo::Presented {
        header: ctx.bearer(),
        body: if form {
            url::form_urlencoded::parse(&body)
                .filter(|(k, _)| k == "access_token")
                .map(|(_, v)| v.into_owned())
                .collect()
        } else {
            Vec::new()
        },
        in_query: query.as_deref().is_some_and(|q| {
            url::form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "access_token")
        }),
    };
    let token = match userinfo::presented_token(presented) {
        Ok(t) => t,
        Err(e) => return error::oauth(&e, &ctx.request_id),
    };
    reply(&ctx, userinfo::userinfo(&idp, &token, crate::now()).await)
}

pub async fn introspect_post(
    State(idp): St,
    ctx: Ctx,
    f: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = f else {
        return form_error(&ctx);
    };
    reply(
        &ctx,
        introspection::introspect(&idp, form, ctx.basic(), crate::now()).await,
    )
}

pub async fn revoke_post(
    State(idp): St,
    ctx: Ctx,
    f: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = f else {
        return form_error(&ctx);
    };
    // RFC 7009 §2.2: 200 whatever became of the token; the body is ignored.
    let done = revocation::revoke(&idp, form, ctx.basic(), crate::now()).await;
    reply(&ctx, done.map(|()| serde_json::json!({})))
}

pub async fn logout_get(
    State(idp): St,
    ctx: Ctx,
    q: Result<Query<EndSessionRequest>, QueryRejection>,
) -> Response {
    let Ok(Query(req)) = q else {
        return error::refused(Refusal::BadRequest, ctx.lang, "/", &ctx.request_id);
    };
    logout(&idp, &ctx, &req, false).await
}

#[derive(Debug, Default, Deserialize)]
pub struct LogoutForm {
    pub csrf: Option<String>,
    pub id_token_hint: Option<String>,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub ui_locales: Option<String>,
}

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
    let req = EndSessionRequest {
        id_token_hint: form.id_token_hint,
        client_id: form.client_id,
        post_logout_redirect_uri: form.post_logout_redirect_uri,
        state: form.state,
        ui_locales: form.ui_locales,
    };
    logout(&idp, &ctx, &req, true).await
}

async fn logout(idp: &Idp, ctx: &Ctx, req: &EndSessionRequest, confirmed: bool) -> Response {
    // Over-long values are refused before anything is looked up or kept.
    if params::check(&[
        ("id_token_hint", req.id_token_hint.as_deref()),
        ("client_id", req.client_id.as_deref()),
        (
            "post_logout_redirect_uri",
            req.post_logout_redirect_uri.as_deref(),
        ),
        ("state", req.state.as_deref()),
        ("ui_locales", req.ui_locales.as_deref()),
    ])
    .is_err()
    {
        return error::refused(Refusal::BadRequest, ctx.lang, "/logout", &ctx.request_id);
    }
    let cookie = ctx.cookie(cookies::session_name(idp));
    let step = logout::end_session(idp, req, cookie, confirmed, ctx.ip.clone(), crate::now()).await;
    match step {
        Ok(LogoutStep::Refuse(r)) => error::refused(r, ctx.lang, "/logout", &ctx.request_id),
        Ok(LogoutStep::Confirm) => {
            let fields = req.fields();
            super::form::FormPage::new(idp, ctx, "/logout").render(|csrf, chrome| {
                LogoutConfirmPage {
                    chrome,
                    csrf,
                    action: "/logout".into(),
                    fields,
                }
            })
        }
        Ok(LogoutStep::Done {
            redirect,
            signed_out,
        }) => signed_out_response(idp, ctx, redirect, signed_out).await,
        Err(e) => error::internal(&e, true, ctx.lang, &ctx.request_id),
    }
}

/// After a sign-out (OIDC's or CAS's): the progress page when apps are being
/// told, else straight to `redirect` or the signed-out page; the session
/// cookie cleared.
pub(super) async fn signed_out_response(
    idp: &Idp,
    ctx: &Ctx,
    redirect: Option<String>,
    signed_out: Option<logout::SignedOut>,
) -> Response {
    let progress = match &signed_out {
        // Only back channels (or none) and an app to go back to: straight there.
        Some(out) if out.apps.is_empty() => None,
        Some(out) if redirect.is_some() && out.front_urls().next().is_none() => None,
        Some(out) => match signout::save(idp, out, redirect.clone()).await {
            Ok(id) => Some(id),
            Err(e) => {
                // Signed out already; only the progress page is lost.
                tracing::error!(request_id = %ctx.request_id, error = %e, "sign-out progress not kept");
                None
            }
        },
        None => None,
    };
    let mut resp = match (progress, redirect) {
        (Some(id), _) => see_other(&format!("/logout/done/{id}")),
        (None, Some(to)) => see_other(&to),
        (None, None) => error::render(
            &LoggedOutPage {
                chrome: Chrome::new(ctx.lang, "/logout"),
                apps: Vec::new(),
                here: "/logout".into(),
                redirect: None,
            },
            &ctx.request_id,
        ),
    };
    if let Ok(v) = HeaderValue::from_str(&cookies::clear(idp, cookies::session_name(idp))) {
        resp.headers_mut().append(SET_COOKIE, v);
    }
    resp
}

fn progress_views(
    lang: portal_ui::Lang,
    states: Vec<(AppNotice, AppState)>,
) -> Vec<AppProgressView> {
    let t = lang.texts();
    states
        .into_iter()
        .map(|(app, state)| {
            let (class, label) = match state {
                AppState::Done => ("done", t.logout.status_done),
                AppState::Pending => ("pending", t.logout.status_pending),
                AppState::Retrying => ("pending", t.logout.status_retrying),
                AppState::Failed => ("failed", t.logout.status_failed),
                AppState::Front => ("front", t.logout.status_front),
                AppState::Unreachable => ("unreachable", t.logout.status_unreachable),
            };
            AppProgressView {
                frame: match app.notice {
                    Notice::Front { url } => Some(url),
                    _ => None,
                },
                client_id: app.client_id.into_string(),
                name: app.name,
                state: class,
                label,
            }
        })
        .collect()
}

/// The sign-out page: each app's progress, the front-channel frames, and
/// the way back to the app that asked.
pub async fn logout_done_get(State(idp): St, ctx: Ctx, Path(id): Path<String>) -> Response {
    let here = format!("/logout/done/{id}");
    let loaded = match signout::load(&idp, &id).await {
        Ok(Some(p)) => match signout::states(&idp, &p).await {
            Ok(states) => Some((p, states)),
            Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
        },
        Ok(None) => None,
        Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
    };
    let Some((p, states)) = loaded else {
        // Older than ten minutes: just say so.
        let page = LoggedOutPage {
            chrome: Chrome::new(ctx.lang, "/logout"),
            apps: Vec::new(),
            here,
            redirect: None,
        };
        return error::render(&page, &ctx.request_id);
    };
    let frames = signout::frame_origins(&p);
    let page = LoggedOutPage {
        chrome: Chrome::new(ctx.lang, &here),
        apps: progress_views(ctx.lang, states),
        here,
        redirect: p.redirect,
    };
    let mut resp = error::render(&page, &ctx.request_id);
    // Frames only for the apps' front-channel origins; the progress script is ours.
    let frame_src = if frames.is_empty() {
        "'none'".to_owned()
    } else {
        frames.join(" ")
    };
    let csp = format!(
        "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; connect-src 'self'; \
         frame-src {frame_src}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        resp.headers_mut().insert(CONTENT_SECURITY_POLICY, v);
    }
    resp
}

/// The progress as JSON, for the page's script.
pub async fn logout_status_get(State(idp): St, ctx: Ctx, Path(id): Path<String>) -> Response {
    let states = match signout::load(&idp, &id).await {
        Ok(Some(p)) => signout::states(&idp, &p).await,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => Err(e),
    };
    match states {
        Ok(states) => {
            let apps: Vec<_> = progress_views(ctx.lang, states)
                .into_iter()
                .map(|a| {
                    serde_json::json!({
                        "client_id": a.client_id,
                        "state": a.state,
                        "label": a.label,
                    })
                })
                .collect();
            axum::Json(serde_json::json!({ "apps": apps })).into_response()
        }
        Err(e) => {
            tracing::error!(request_id = %ctx.request_id, error = %e, "sign-out progress not read");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
