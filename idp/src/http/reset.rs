//! "Forgot your password" pages: the form, the answer (the same whatever the
//! account), the new-password form behind a link. The rules (one live link
//! per person, the same work for every account) are in `auth::reset`.

use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use portal_ui::Texts;
use portal_ui::pages::PasswordPage;
use serde::Deserialize;

use super::ctx::Ctx;
use super::form::FormPage;
use super::{csrf, error};
use crate::Idp;
use crate::auth::reset::{self, Asker, Forgot, Refused};

type St = State<Arc<Idp>>;
type Pick = fn(&Texts) -> &'static str;

#[derive(Debug, Default, Deserialize)]
pub struct ForgotForm {
    pub csrf: Option<String>,
    pub account: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ResetQuery {
    pub token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ResetForm {
    pub csrf: Option<String>,
    pub token: Option<String>,
    pub password: Option<String>,
    pub repeat: Option<String>,
}

fn asker(ctx: &Ctx) -> Asker {
    Asker {
        ip: ctx.ip.clone(),
        request_id: ctx.request_id.clone(),
    }
}

fn show(
    idp: &Idp,
    ctx: &Ctx,
    stage: &'static str,
    token: String,
    error: Option<(StatusCode, Pick)>,
) -> Response {
    let here = if stage == "reset" {
        "/password/reset"
    } else {
        "/password/forgot"
    };
    FormPage::new(idp, ctx, here)
        .status(error.map_or(StatusCode::OK, |(status, _)| status))
        .render(|csrf, chrome| PasswordPage {
            chrome,
            csrf,
            stage,
            token,
            error: error.map(|(_, pick)| pick(ctx.lang.texts())),
        })
}

pub async fn forgot_get(State(idp): St, ctx: Ctx) -> Response {
    show(&idp, &ctx, "forgot", String::new(), None)
}

pub async fn forgot_post(
    State(idp): St,
    ctx: Ctx,
    f: Result<Form<ForgotForm>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = f else {
        return show(
            &idp,
            &ctx,
            "forgot",
            String::new(),
            Some((StatusCode::BAD_REQUEST, |t| t.error_bad_request)),
        );
    };
    if !csrf::check(&idp, &ctx, f.csrf.as_deref()) {
        return show(
            &idp,
            &ctx,
            "forgot",
            String::new(),
            Some((StatusCode::OK, |t| t.form_expired)),
        );
    }
    let typed = f.account.unwrap_or_default();
    // The same answer and work for every account (see auth::reset).
    match reset::forgot(&idp, &typed, asker(&ctx)).await {
        Forgot::Sent => show(&idp, &ctx, "sent", String::new(), None),
        Forgot::NoMail => show(
            &idp,
            &ctx,
            "forgot",
            String::new(),
            Some((StatusCode::SERVICE_UNAVAILABLE, |t| t.no_mail)),
        ),
    }
}

pub async fn reset_get(State(idp): St, ctx: Ctx, Query(q): Query<ResetQuery>) -> Response {
    let token = q.token.unwrap_or_default();
    match reset::link_owner(&idp, &token).await {
        Ok(Some(_)) => show(&idp, &ctx, "reset", token, None),
        Ok(None) => show(
            &idp,
            &ctx,
            "done",
            String::new(),
            Some((StatusCode::NOT_FOUND, |t| t.reset_invalid)),
        ),
        Err(e) => error::internal(&e, true, ctx.lang, &ctx.request_id),
    }
}

pub async fn reset_post(
    State(idp): St,
    ctx: Ctx,
    f: Result<Form<ResetForm>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = f else {
        return show(
            &idp,
            &ctx,
            "forgot",
            String::new(),
            Some((StatusCode::BAD_REQUEST, |t| t.error_bad_request)),
        );
    };
    let token = f.token.unwrap_or_default();
    if !csrf::check(&idp, &ctx, f.csrf.as_deref()) {
        return show(
            &idp,
            &ctx,
            "reset",
            token,
            Some((StatusCode::OK, |t| t.form_expired)),
        );
    }
    let outcome = reset::reset(
        &idp,
        &token,
        f.password.unwrap_or_default(),
        f.repeat.unwrap_or_default(),
        &asker(&ctx),
        crate::now(),
    )
    .await;
    match outcome {
        Ok(Ok(())) => show(&idp, &ctx, "done", String::new(), None),
        Ok(Err(Refused::Link)) => show(
            &idp,
            &ctx,
            "done",
            String::new(),
            Some((StatusCode::NOT_FOUND, |t| t.reset_invalid)),
        ),
        Ok(Err(Refused::Differ)) => show(
            &idp,
            &ctx,
            "reset",
            token,
            Some((StatusCode::BAD_REQUEST, |t| t.passwords_differ)),
        ),
        Ok(Err(Refused::Weak)) => show(
            &idp,
            &ctx,
            "reset",
            token,
            Some((StatusCode::BAD_REQUEST, |t| t.password_weak)),
        ),
        Err(e) => error::internal(&e, true, ctx.lang, &ctx.request_id),
    }
}
