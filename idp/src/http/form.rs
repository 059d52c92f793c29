//! One helper for every form page: issue the CSRF token (and its cookie when
//! the browser has none), build the chrome in the page's language, render,
//! set the status; and find the signed-in person a page belongs to. Every
//! POST still checks its token with [`csrf::check`].

use axum::http::StatusCode;
use axum::response::Response;
use portal_ui::pages::Chrome;
use portal_ui::{Lang, Template};

use super::ctx::Ctx;
use super::oidc::see_other;
use super::{csrf, error};
use crate::Idp;
use crate::auth::session::SsoSession;
use crate::store::User;

/// A form page at `here`, in the person's language unless [`FormPage::lang`] says otherwise.
pub struct FormPage<'a> {
    idp: &'a Idp,
    ctx: &'a Ctx,
    here: &'a str,
    lang: Lang,
    status: StatusCode,
}

impl<'a> FormPage<'a> {
    pub fn new(idp: &'a Idp, ctx: &'a Ctx, here: &'a str) -> FormPage<'a> {
        FormPage {
            idp,
            ctx,
            here,
            lang: ctx.lang,
            status: StatusCode::OK,
        }
    }

    /// Renders in `lang` (an app asked for it with `ui_locales`).
    pub fn lang(mut self, lang: Lang) -> Self {
        self.lang = lang;
        self
    }

    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Renders the view `build` makes from the form's CSRF token and the chrome.
    pub fn render<V: Template>(self, build: impl FnOnce(String, Chrome) -> V) -> Response {
        let ctx = self.ctx;
        let c = match csrf::issue(self.idp, ctx) {
            Ok(c) => c,
            Err(e) => return error::internal(&e, false, ctx.lang, &ctx.request_id),
        };
        let view = build(c.token.clone(), Chrome::new(self.lang, self.here));
        let mut resp = error::render(&view, &ctx.request_id);
        *resp.status_mut() = self.status;
        c.attach(resp)
    }
}

/// The live session and its person, or `None` (no cookie, session over,
/// person gone or disabled).
pub async fn signed_in(idp: &Idp, ctx: &Ctx) -> Result<Option<(SsoSession, User)>, String> {
    let Some(cookie) = ctx.cookie(super::cookies::session_name(idp)) else {
        return Ok(None);
    };
    crate::portal::signed_in(idp, cookie, crate::now())
        .await
        .map_err(|e| e.to_string())
}

/// The signed-in person, or the response to send instead (to the portal).
pub async fn require(idp: &Idp, ctx: &Ctx) -> Result<(SsoSession, User), Response> {
    match signed_in(idp, ctx).await {
        Ok(Some(pair)) => Ok(pair),
        Ok(None) => Err(see_other("/")),
        Err(e) => Err(error::internal(&e, true, ctx.lang, &ctx.request_id)),
    }
}
