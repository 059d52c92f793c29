//! Portal pages: the sign-in form, the signed-in home, the language switch
//! and the stylesheet.

use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use portal_ui::pages::{LoginPage, PortalPage, TileView};
use portal_ui::{Lang, Texts};
use serde::Deserialize;

use super::ctx::Ctx;
use super::form::{self, FormPage};
use super::oidc::see_other;
use super::{cookies, csrf, error};
use crate::Idp;
use crate::auth::guard::Verdict;
use crate::portal::apps;
use crate::portal::login::{self, Attempt, LoginResult};
use crate::refusal::Refusal;

type St = State<Arc<Idp>>;

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    pub req: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginForm {
    pub csrf: Option<String>,
    pub account: Option<String>,
    pub password: Option<String>,
    pub req: Option<String>,
}

fn here(req: Option<&str>) -> String {
    match req {
        Some(r) => format!("/login?req={r}"),
        None => "/login".into(),
    }
}

/// What the sign-in form says: a text of the page's language, with its
/// numbers (seconds or minutes) already given.
type Say = Box<dyn FnOnce(&'static Texts) -> String + Send>;

/// A text without a value.
fn say(pick: fn(&'static Texts) -> &'static str) -> Option<Say> {
    Some(Box::new(move |t| pick(t).to_owned()))
}

/// Renders the sign-in form (with a fresh CSRF cookie when needed), in the
/// language the app asked for with `ui_locales`, else the person's.
async fn form(
    idp: &Idp,
    ctx: &Ctx,
    req: Option<&str>,
    account: String,
    error: Option<Say>,
    status: StatusCode,
) -> Response {
    let (client_name, hint, lang) = match req {
        None => (None, None, ctx.lang),
        Some(r) => match login::app_asks(idp, r).await {
            Ok(Some(a)) => (
                Some(a.client_name),
                a.login_hint,
                a.lang.unwrap_or(ctx.lang),
            ),
            Ok(None) => {
                return error::refused(Refusal::LoginExpired, ctx.lang, "/login", &ctx.request_id);
            }
            Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
        },
    };
    let here = here(req);
    FormPage::new(idp, ctx, &here)
        .lang(lang)
        .status(status)
        .render(|csrf, chrome| LoginPage {
            chrome,
            csrf,
            req: req.map(str::to_owned),
            client_name,
            account: if account.is_empty() {
                hint.unwrap_or_default()
            } else {
                account
            },
            error: error.map(|say| say(lang.texts())),
        })
}

pub async fn login_get(State(idp): St, ctx: Ctx, Query(q): Query<LoginQuery>) -> Response {
    if q.req.is_none() && matches!(person(&idp, &ctx).await, Ok(Some(_))) {
        return see_other("/");
    }
    form(
        &idp,
        &ctx,
        q.req.as_deref(),
        String::new(),
        None,
        StatusCode::OK,
    )
    .await
}

pub async fn login_post(
    State(idp): St,
    ctx: Ctx,
    f: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = f else {
        return error::refused(Refusal::BadRequest, ctx.lang, "/login", &ctx.request_id);
    };
    let account = f.account.unwrap_or_default();
    if !csrf::check(&idp, &ctx, f.csrf.as_deref()) {
        return form(
            &idp,
            &ctx,
            f.req.as_deref(),
            account,
            say(|t| t.errors.form_expired),
            StatusCode::OK,
        )
        .await;
    }
    // The check runs to its end in a task of its own: a browser that goes
    // away (or the handler timeout) must not drop it between the reservation
    // and its settlement, which would hold the account's turn until it expires.
    let check = {
        let idp = Arc::clone(&idp);
        let account = account.clone();
        let password = f.password.unwrap_or_default();
        let req = f.req.clone();
        let old_cookie = ctx.cookie(cookies::session_name(&idp)).map(str::to_owned);
        let device = ctx.cookie(cookies::device_name(&idp)).map(str::to_owned);
        let (ip, user_agent, request_id) = (
            ctx.ip.clone(),
            ctx.user_agent.clone(),
            ctx.request_id.clone(),
        );
        tokio::spawn(async move {
            let attempt = Attempt {
                account: &account,
                password: &password,
                req: req.as_deref(),
                old_cookie: old_cookie.as_deref(),
                device: device.as_deref(),
                ip,
                user_agent,
                request_id,
            };
            login::submit(&idp, attempt, crate::now()).await
        })
    };
    let outcome = match check.await {
        Ok(outcome) => outcome,
        Err(e) => return error::internal(&e, false, ctx.lang, &ctx.request_id),
    };
    match outcome {
        Ok(LoginResult::SignedIn {
            cookie,
            redirect,
            device,
        }) => super::mfa::signed_in_response(&idp, &cookie, &redirect, device.as_deref()),
        Ok(LoginResult::SecondFactor { token }) => super::mfa::to_second_factor(&idp, &token),
        Ok(LoginResult::Invalid) => {
            form(
                &idp,
                &ctx,
                f.req.as_deref(),
                account,
                say(|t| t.login.invalid_credentials),
                StatusCode::OK,
            )
            .await
        }
        Ok(LoginResult::Refuse(r)) => error::refused(r, ctx.lang, "/login", &ctx.request_id),
        Ok(LoginResult::Throttled(v)) => {
            let said: Option<Say> = match v {
                Verdict::Wait(secs) => Some(Box::new(move |t| (t.login.wait)(secs))),
                Verdict::Locked(secs) => {
                    Some(Box::new(move |t| (t.login.locked)(secs.div_ceil(60))))
                }
                Verdict::Address | Verdict::Go => say(|t| t.login.address),
            };
            let status = StatusCode::TOO_MANY_REQUESTS;
            form(&idp, &ctx, f.req.as_deref(), account, said, status).await
        }
        // Not the person's password: the mail directory did not answer. Said
        // as such, the form kept, the details for the admin in the log.
        Err(login::LoginError::DirectoryDown(m)) => {
            tracing::error!(request_id = %ctx.request_id, error = %m, "sign-in: the directory cannot be reached");
            let said = say(|t| t.login.directory_down);
            let status = StatusCode::SERVICE_UNAVAILABLE;
            form(&idp, &ctx, f.req.as_deref(), account, said, status).await
        }
        // The store, cache or directory is unreachable: "try again later", details in the log.
        Err(e) => error::internal(&e, true, ctx.lang, &ctx.request_id),
    }
}

/// The signed-in person, or `None` (no cookie, session over, person gone).
async fn person(idp: &Idp, ctx: &Ctx) -> Result<Option<crate::store::User>, String> {
    Ok(form::signed_in(idp, ctx).await?.map(|(_, u)| u))
}

#[derive(Debug, Default, Deserialize)]
pub struct PortalQuery {
    pub q: Option<String>,
}

/// The portal: the sign-in form for a stranger, the app-picker for a person.
pub async fn home_get(State(idp): St, ctx: Ctx, Query(q): Query<PortalQuery>) -> Response {
    let user = match person(&idp, &ctx).await {
        Ok(Some(u)) => u,
        Ok(None) => return form(&idp, &ctx, None, String::new(), None, StatusCode::OK).await,
        Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
    };
    let query =
        q.q.unwrap_or_default()
            .trim()
            .chars()
            .take(100)
            .collect::<String>();
    let tiles = match apps::tiles(&idp, &user, Some(&query)).await {
        Ok(t) => t,
        Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
    };
    FormPage::new(&idp, &ctx, "/").render(|csrf, chrome| PortalPage {
        chrome,
        csrf,
        name: user.name,
        email: user.email.into_string(),
        query,
        tiles: tiles
            .into_iter()
            .map(|t| TileView {
                id: t.id,
                name: t.name,
                description: t.description,
                has_icon: t.has_icon,
            })
            .collect(),
    })
}

/// A tile: records the use and sends the person on to the app's login.
pub async fn launch_get(State(idp): St, ctx: Ctx, Path(app_id): Path<String>) -> Response {
    let user = match person(&idp, &ctx).await {
        Ok(Some(u)) => u,
        Ok(None) => return see_other("/"),
        Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
    };
    match apps::launch(&idp, &user, &app_id, crate::now()).await {
        Ok(Some(to)) => see_other(&to),
        Ok(None) => error::refused(Refusal::AppNotAllowed, ctx.lang, "/", &ctx.request_id),
        Err(e) => error::internal(&e, true, ctx.lang, &ctx.request_id),
    }
}

/// An app's icon (checked as PNG or JPEG when it was added).
pub async fn icon_get(State(idp): St, ctx: Ctx, Path(app_id): Path<String>) -> Response {
    match apps::icon(&idp, &app_id).await {
        Ok(Some((bytes, kind))) => match HeaderValue::from_str(&kind) {
            Ok(kind) => asset(bytes, kind, "3600"),
            Err(_) => not_found(ctx).await,
        },
        Ok(None) => not_found(ctx).await,
        Err(e) => error::internal(&e, true, ctx.lang, &ctx.request_id),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct LangQuery {
    pub next: Option<String>,
}

pub async fn lang_get(
    State(idp): St,
    ctx: Ctx,
    Path(tag): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let Some(lang) = Lang::from_tag(&tag) else {
        return error::refused(Refusal::BadRequest, ctx.lang, "/", &ctx.request_id);
    };
    let mut resp = see_other(&super::return_to::local_path(
        idp.config.issuer(),
        q.next.as_deref(),
    ));
    if let Ok(v) = HeaderValue::from_str(&cookies::set_lang(&idp, lang.tag())) {
        resp.headers_mut().append(SET_COOKIE, v);
    }
    resp
}

/// A static or configured asset that browsers may keep for a while.
pub(super) fn asset(
    body: impl IntoResponse,
    content_type: HeaderValue,
    max_age: &'static str,
) -> Response {
    let mut resp = body.into_response();
    resp.headers_mut().insert(CONTENT_TYPE, content_type);
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={max_age}")) {
        resp.headers_mut().insert(CACHE_CONTROL, v);
    }
    resp
}

const CSS: HeaderValue = HeaderValue::from_static("text/css; charset=utf-8");

pub async fn css_get() -> Response {
    asset(portal_ui::APP_CSS, CSS, "86400")
}

pub async fn logout_js_get() -> Response {
    asset(
        portal_ui::LOGOUT_JS,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
        "86400",
    )
}

pub async fn brand_css_get(State(idp): St) -> Response {
    asset(idp.brand_css.clone(), CSS, "3600")
}

pub async fn logo_get(State(idp): St, ctx: Ctx) -> Response {
    match idp.logo.clone() {
        Some((bytes, kind)) => asset(bytes, HeaderValue::from_static(kind), "3600"),
        None => not_found(ctx).await,
    }
}

pub async fn not_found(ctx: Ctx) -> Response {
    error::page(
        StatusCode::NOT_FOUND,
        ctx.lang.texts().errors.not_found,
        ctx.lang,
        "/",
        &ctx.request_id,
    )
}
