//! Portal pages: the sign-in form, the signed-in home, the language switch
//! and the stylesheet.

use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use portal_ui::pages::{Chrome, HomePage, LoginPage};
use portal_ui::{Lang, Texts};
use serde::Deserialize;

use super::ctx::Ctx;
use super::oidc::see_other;
use super::{cookies, csrf, error};
use crate::Idp;
use crate::auth::session;
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

/// Picks a text from the page's language.
type Pick = fn(&Texts) -> &'static str;

/// Renders the sign-in form (with a fresh CSRF cookie when needed), in the
/// language the app asked for with `ui_locales`, else the person's.
async fn form(
    idp: &Idp,
    ctx: &Ctx,
    req: Option<&str>,
    account: String,
    error: Option<Pick>,
) -> Response {
    let (client_name, hint, lang) = match req {
        None => (None, None, ctx.lang),
        Some(r) => match login::pending(idp, r).await {
            Ok(Some(p)) => {
                let asked = p
                    .ui_locales
                    .as_deref()
                    .and_then(|u| u.split(' ').find_map(Lang::from_tag));
                (Some(p.client_name), p.login_hint, asked.unwrap_or(ctx.lang))
            }
            Ok(None) => {
                return error::refused(Refusal::LoginExpired, ctx.lang, "/login", &ctx.request_id);
            }
            Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
        },
    };
    let c = match csrf::issue(idp, ctx) {
        Ok(c) => c,
        Err(e) => return error::internal(&e, false, ctx.lang, &ctx.request_id),
    };
    let page = LoginPage {
        chrome: Chrome::new(lang, &here(req)),
        csrf: c.token,
        req: req.map(str::to_owned),
        client_name,
        account: if account.is_empty() {
            hint.unwrap_or_default()
        } else {
            account
        },
        error: error.map(|pick| pick(lang.texts())),
    };
    let mut resp = error::render(&page, &ctx.request_id);
    if let Some(set) = c.set_cookie.and_then(|s| HeaderValue::from_str(&s).ok()) {
        resp.headers_mut().append(SET_COOKIE, set);
    }
    resp
}

pub async fn login_get(State(idp): St, ctx: Ctx, Query(q): Query<LoginQuery>) -> Response {
    if q.req.is_none() && signed_in(&idp, &ctx).await {
        return see_other("/");
    }
    form(&idp, &ctx, q.req.as_deref(), String::new(), None).await
}

async fn signed_in(idp: &Idp, ctx: &Ctx) -> bool {
    match ctx.cookie(cookies::session_name(idp)) {
        Some(c) => matches!(
            session::load(&idp.cache, &idp.config.session, c, crate::now()).await,
            Ok(Some(_))
        ),
        None => false,
    }
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
            Some(|t| t.form_expired),
        )
        .await;
    }
    let attempt = Attempt {
        account: &account,
        password: f.password.as_deref().unwrap_or_default(),
        req: f.req.as_deref(),
        old_cookie: ctx.cookie(cookies::session_name(&idp)),
        ip: ctx.ip.clone(),
        request_id: ctx.request_id.clone(),
    };
    match login::submit(&idp, attempt, crate::now()).await {
        Ok(LoginResult::SignedIn { cookie, redirect }) => {
            let mut resp = see_other(&redirect);
            if let Ok(v) =
                HeaderValue::from_str(&cookies::set(&idp, cookies::session_name(&idp), &cookie))
            {
                resp.headers_mut().append(SET_COOKIE, v);
            }
            resp
        }
        Ok(LoginResult::Invalid) => {
            form(
                &idp,
                &ctx,
                f.req.as_deref(),
                account,
                Some(|t| t.invalid_credentials),
            )
            .await
        }
        Ok(LoginResult::Refuse(r)) => error::refused(r, ctx.lang, "/login", &ctx.request_id),
        // The store, cache or directory is unreachable: "try again later", details in the log.
        Err(e) => error::internal(&e, true, ctx.lang, &ctx.request_id),
    }
}

pub async fn home_get(State(idp): St, ctx: Ctx) -> Response {
    let now = crate::now();
    let sess = match ctx.cookie(cookies::session_name(&idp)) {
        Some(c) => match session::load(&idp.cache, &idp.config.session, c, now).await {
            Ok(s) => s,
            Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
        },
        None => None,
    };
    let Some(sess) = sess else {
        return see_other("/login");
    };
    let user = match idp.store.user_by_id(&sess.user_id).await {
        Ok(Some(u)) => u,
        Ok(None) => return see_other("/login"),
        Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
    };
    let c = match csrf::issue(&idp, &ctx) {
        Ok(c) => c,
        Err(e) => return error::internal(&e, false, ctx.lang, &ctx.request_id),
    };
    let page = HomePage {
        chrome: Chrome::new(ctx.lang, "/"),
        csrf: c.token,
        name: user.name,
        email: user.email,
    };
    let mut resp = error::render(&page, &ctx.request_id);
    if let Some(set) = c.set_cookie.and_then(|s| HeaderValue::from_str(&s).ok()) {
        resp.headers_mut().append(SET_COOKIE, set);
    }
    resp
}

#[derive(Debug, Default, Deserialize)]
pub struct LangQuery {
    pub next: Option<String>,
}

/// Only our own paths: no `//host`, no `/\host`, no scheme.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => n,
        _ => "/",
    }
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
    let mut resp = see_other(safe_next(q.next.as_deref()));
    if let Ok(v) = HeaderValue::from_str(&cookies::set_lang(&idp, lang.tag())) {
        resp.headers_mut().append(SET_COOKIE, v);
    }
    resp
}

pub async fn css_get() -> Response {
    let mut resp = portal_ui::APP_CSS.into_response();
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    resp.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    resp
}

pub async fn not_found(ctx: Ctx) -> Response {
    error::page(
        StatusCode::NOT_FOUND,
        ctx.lang.texts().error_not_found,
        ctx.lang,
        "/",
        &ctx.request_id,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_be_a_local_path() {
        assert_eq!(safe_next(Some("/login?req=1")), "/login?req=1");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
