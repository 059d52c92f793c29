//! SAML 2.0 endpoints under `/saml`: each handler extracts, calls one
//! `saml::` function and maps the result to a redirect, a page or XML.
//! A message that comes by POST (cross-site, so without the `SameSite=Lax`
//! session cookie) is kept a moment and read again by the browser's GET.

use std::sync::Arc;
use std::time::Duration;

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_FRAME_OPTIONS};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use portal_ui::pages::{Chrome, SamlPostPage};
use serde::Deserialize;

use super::ctx::Ctx;
use super::oidc::see_other;
use super::{cookies, error};
use crate::Idp;
use crate::auth::session::{self, SsoSession};
use crate::cache::keys;
use crate::refusal::Refusal;
use crate::saml::bindings::{self, Direction, Incoming};
use crate::saml::slo::{self, Outcome};
use crate::saml::sso::{self, Step};

type St = State<Arc<Idp>>;

/// How long a POSTed message waits for the browser's GET.
const STASH_TTL: Duration = Duration::from_secs(60);

/// `GET /saml/metadata`: the IdP's metadata, signed.
pub async fn metadata_get(State(idp): St) -> Response {
    let Some(saml) = idp.saml.as_ref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut resp = saml.metadata.clone().into_response();
    let h = resp.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/samlmetadata+xml"),
    );
    h.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    resp
}

async fn live_session(idp: &Idp, ctx: &Ctx) -> Result<Option<SsoSession>, Response> {
    match ctx.cookie(cookies::session_name(idp)) {
        Some(c) => session::load(&idp.cache, &idp.config.session, c, crate::now())
            .await
            .map_err(|e| error::internal(&e, true, ctx.lang, &ctx.request_id)),
        None => Ok(None),
    }
}

fn step_response(step: Result<Step, crate::saml::SamlError>, ctx: &Ctx) -> Response {
    match step {
        Ok(Step::Redirect(to)) => see_other(&to),
        Ok(Step::Login { req_id }) => see_other(&format!("/login?req={req_id}")),
        Ok(Step::Refuse(r)) => error::refused(r, ctx.lang, "/", &ctx.request_id),
        Err(e) => error::internal(&e, true, ctx.lang, &ctx.request_id),
    }
}

/// `GET /saml/sso`: an AuthnRequest by the Redirect binding, or one that
/// came by POST (`?continue=ID`).
pub async fn sso_get(State(idp): St, ctx: Ctx, RawQuery(q): RawQuery) -> Response {
    let incoming = match incoming_of_get(&idp, &ctx, q).await {
        Ok(m) => m,
        Err(resp) => return resp,
    };
    let sess = match live_session(&idp, &ctx).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    step_response(
        sso::start(&idp, incoming, sess.as_ref(), crate::now()).await,
        &ctx,
    )
}

/// The message of a GET: by the Redirect binding, or the one a POST kept
/// (`?continue=ID`, once).
async fn incoming_of_get(idp: &Idp, ctx: &Ctx, q: Option<String>) -> Result<Incoming, Response> {
    let q = q.unwrap_or_default();
    let incoming = match continue_id(&q) {
        Some(id) => match idp
            .cache
            .take_json::<Incoming>(&keys::saml_incoming(&id))
            .await
        {
            Ok(Some(m)) => Ok(m),
            Ok(None) => {
                return Err(error::refused(
                    Refusal::LoginExpired,
                    ctx.lang,
                    "/",
                    &ctx.request_id,
                ));
            }
            Err(e) => return Err(error::internal(&e, true, ctx.lang, &ctx.request_id)),
        },
        None => bindings::from_query(&q),
    };
    incoming.map_err(|e| {
        tracing::warn!(request_id = %ctx.request_id, error = %e, "SAML message unreadable");
        error::refused(Refusal::BadSamlRequest, ctx.lang, "/", &ctx.request_id)
    })
}

/// `continue=ID` alone in a query.
fn continue_id(q: &str) -> Option<String> {
    let mut it = url::form_urlencoded::parse(q.as_bytes());
    match (it.next(), it.next()) {
        (Some((k, v)), None) if k == "continue" && v.len() <= 64 => Some(v.into_owned()),
        _ => None,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PostFields {
    #[serde(rename = "SAMLRequest")]
    pub request: Option<String>,
    #[serde(rename = "SAMLResponse")]
    pub response: Option<String>,
    #[serde(rename = "RelayState")]
    pub relay_state: Option<String>,
}

fn read_form(f: Result<Form<PostFields>, FormRejection>) -> Result<Incoming, String> {
    let Form(f) = f.map_err(|e| e.to_string())?;
    bindings::from_form(
        f.request.as_deref(),
        f.response.as_deref(),
        f.relay_state.as_deref(),
    )
    .map_err(|e| e.to_string())
}

/// `POST /saml/sso`: an AuthnRequest by the POST binding, kept for the GET.
pub async fn sso_post(
    State(idp): St,
    ctx: Ctx,
    f: Result<Form<PostFields>, FormRejection>,
) -> Response {
    match read_form(f) {
        Ok(m) => keep_for_get(&idp, &ctx, m, "AuthnRequest", "/saml/sso").await,
        Err(e) => {
            tracing::warn!(request_id = %ctx.request_id, error = %e, "SAML request unreadable");
            error::refused(Refusal::BadSamlRequest, ctx.lang, "/", &ctx.request_id)
        }
    }
}

/// A request that came by POST (cross-site: without the `SameSite=Lax`
/// session cookie) is kept a minute, when it is a readable `kind` from a
/// registered SP, and the browser sent to `path?continue=ID` to bring it
/// back with its cookie.
async fn keep_for_get(
    idp: &Idp,
    ctx: &Ctx,
    incoming: Incoming,
    kind: &str,
    path: &str,
) -> Response {
    match sso::from_registered_sp(idp, &incoming, kind).await {
        Ok(true) => {}
        Ok(false) => {
            return error::refused(Refusal::BadSamlRequest, ctx.lang, "/", &ctx.request_id);
        }
        Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
    }
    let id = match crate::crypto::random_id() {
        Ok(id) => id,
        Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
    };
    if let Err(e) = idp
        .cache
        .set_json(&keys::saml_incoming(&id), &incoming, STASH_TTL)
        .await
    {
        return error::internal(&e, true, ctx.lang, &ctx.request_id);
    }
    see_other(&format!("{path}?continue={id}"))
}

#[derive(Debug, Default, Deserialize)]
pub struct InitQuery {
    pub app: Option<String>,
}

/// `GET /saml/init?app=APP`: IdP-initiated sign-in from a portal tile (the
/// portal's `/launch/{app}` leads here), for a signed-in person only.
pub async fn init_get(
    State(idp): St,
    ctx: Ctx,
    q: Result<Query<InitQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(InitQuery { app: Some(app) })) = q else {
        return error::refused(Refusal::BadRequest, ctx.lang, "/", &ctx.request_id);
    };
    let sess = match live_session(&idp, &ctx).await {
        Ok(Some(s)) => s,
        Ok(None) => return see_other("/"),
        Err(resp) => return resp,
    };
    step_response(sso::initiate(&idp, &app, &sess, crate::now()).await, &ctx)
}

/// `GET /saml/post/{id}`: the auto-submitted form carrying a response to
/// the app, for the browser whose session it was made in.
pub async fn post_get(State(idp): St, ctx: Ctx, Path(id): Path<String>) -> Response {
    let sess = match live_session(&idp, &ctx).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let form = match sso::take_post(&idp, &id, sess.as_ref().map(|s| s.sid.as_str())).await {
        Ok(Some(f)) => f,
        Ok(None) => return error::refused(Refusal::LoginExpired, ctx.lang, "/", &ctx.request_id),
        Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
    };
    let origin = url::Url::parse(&form.action)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| "'none'".into());
    // A logout message (held for no session: it carries no assertion) is
    // framed by the IdP's own sign-out page; anything else by no page.
    let (ancestors, frame_options) = if form.sid.is_empty() {
        ("'self'", "SAMEORIGIN")
    } else {
        ("'none'", "DENY")
    };
    let page = SamlPostPage {
        chrome: Chrome::new(ctx.lang, "/"),
        action: form.action,
        field: form.field,
        value: form.value,
        relay_state: form.relay_state,
    };
    let mut resp = error::render(&page, &ctx.request_id);
    let csp = format!(
        "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; \
         form-action {origin}; base-uri 'none'; frame-ancestors {ancestors}"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        resp.headers_mut().insert(CONTENT_SECURITY_POLICY, v);
    }
    resp.headers_mut()
        .insert(X_FRAME_OPTIONS, HeaderValue::from_static(frame_options));
    resp.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

pub async fn post_js_get() -> Response {
    super::portal::asset(
        portal_ui::SAML_POST_JS,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
        "86400",
    )
}

/// `GET /saml/slo`: a LogoutRequest or LogoutResponse by the Redirect
/// binding, or a LogoutRequest that came by POST (`?continue=ID`).
pub async fn slo_get(State(idp): St, ctx: Ctx, RawQuery(q): RawQuery) -> Response {
    match incoming_of_get(&idp, &ctx, q).await {
        Ok(m) => slo(&idp, &ctx, m).await,
        Err(resp) => resp,
    }
}

/// `POST /saml/slo`: the same by the POST binding; a LogoutRequest is kept
/// for the browser's GET, which brings the session cookie.
pub async fn slo_post(
    State(idp): St,
    ctx: Ctx,
    f: Result<Form<PostFields>, FormRejection>,
) -> Response {
    match read_form(f) {
        Ok(m) if m.direction == Direction::Request => {
            keep_for_get(&idp, &ctx, m, "LogoutRequest", "/saml/slo").await
        }
        Ok(m) => slo(&idp, &ctx, m).await,
        Err(e) => {
            tracing::warn!(request_id = %ctx.request_id, error = %e, "SAML logout message unreadable");
            error::refused(Refusal::BadSamlRequest, ctx.lang, "/", &ctx.request_id)
        }
    }
}

async fn slo(idp: &Idp, ctx: &Ctx, incoming: Incoming) -> Response {
    let now = crate::now();
    let asked = match slo::receive(idp, incoming, now).await {
        Ok(Outcome::Acknowledged) => return StatusCode::NO_CONTENT.into_response(),
        Ok(Outcome::Refused) => {
            return error::refused(Refusal::BadSamlRequest, ctx.lang, "/", &ctx.request_id);
        }
        Ok(Outcome::SignOut(asked)) => asked,
        Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
    };
    // The browser's session ends only when it is the one the SP names.
    let sess = match live_session(idp, ctx).await {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let ours = match &sess {
        Some(s) => match slo::take_initiator(idp, &s.sid, &asked).await {
            Ok(ours) => ours,
            Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
        },
        None => false,
    };
    let signed_out = match ctx.cookie(cookies::session_name(idp)) {
        Some(c) if ours => {
            let label = crate::saml::client_label(&asked.initiator);
            match crate::oidc::logout::sign_out(idp, c, Some(&label), ctx.ip.clone(), now).await {
                Ok(d) => d,
                Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
            }
        }
        _ => None,
    };
    // Success when its session ended, or when the browser has none left.
    let ended = signed_out.is_some() || sess.is_none();
    let respond_to = match asked.response_url(idp, ended, now).await {
        Ok(u) => u,
        Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
    };
    if signed_out.is_none() {
        return see_other(&respond_to);
    }
    super::oidc::signed_out_response(idp, ctx, Some(respond_to), signed_out).await
}
