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
use crate::auth::policy::{self, Weak};
use crate::auth::reset::{self, Asker, Forgot, Refused};

type St = State<Arc<Idp>>;

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

/// Says which rule of the password policy the new password broke.
fn weak_text(t: &Texts, weak: Weak) -> String {
    match weak {
        Weak::TooShort { min } => (t.reset.weak_too_short)(min),
        Weak::TooLong { max } => (t.reset.weak_too_long)(max),
        Weak::LikeAccount => t.reset.weak_like_account.into(),
        Weak::Common => t.reset.weak_common.into(),
    }
}

fn show(
    idp: &Idp,
    ctx: &Ctx,
    stage: &'static str,
    token: String,
    error: Option<(StatusCode, String)>,
) -> Response {
    let here = if stage == "reset" {
        "/password/reset"
    } else {
        "/password/forgot"
    };
    FormPage::new(idp, ctx, here)
        .status(error.as_ref().map_or(StatusCode::OK, |(status, _)| *status))
        .render(|csrf, chrome| PasswordPage {
            chrome,
            csrf,
            stage,
            token,
            error: error.map(|(_, text)| text),
            min_chars: policy::MIN_CHARS,
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
            Some((
                StatusCode::BAD_REQUEST,
                ctx.lang.texts().errors.bad_request.into(),
            )),
        );
    };
    if !csrf::check(&idp, &ctx, f.csrf.as_deref()) {
        return show(
            &idp,
            &ctx,
            "forgot",
            String::new(),
            Some((StatusCode::OK, ctx.lang.texts().errors.form_expired.into())),
        );
    }
    let typed = f.account.unwrap_or_default();
    // The same answer and work for every account (see auth::reset).
    match reset::forgot(&idp, &typed, asker(&ctx), crate::now()).await {
        Forgot::Sent => show(&idp, &ctx, "sent", String::new(), None),
        Forgot::NoMail => show(
            &idp,
            &ctx,
            "forgot",
            String::new(),
            Some((
                StatusCode::SERVICE_UNAVAILABLE,
                ctx.lang.texts().factors.no_mail.into(),
            )),
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
            Some((StatusCode::NOT_FOUND, ctx.lang.texts().reset.invalid.into())),
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
            Some((
                StatusCode::BAD_REQUEST,
                ctx.lang.texts().errors.bad_request.into(),
            )),
        );
    };
    let token = f.token.unwrap_or_default();
    if !csrf::check(&idp, &ctx, f.csrf.as_deref()) {
        return show(
            &idp,
            &ctx,
            "reset",
            token,
            Some((StatusCode::OK, ctx.lang.texts().errors.form_expired.into())),
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
            Some((StatusCode::NOT_FOUND, ctx.lang.texts().reset.invalid.into())),
        ),
        Ok(Err(Refused::Differ)) => show(
            &idp,
            &ctx,
            "reset",
            token,
            Some((
                StatusCode::BAD_REQUEST,
                ctx.lang.texts().reset.passwords_differ.into(),
            )),
        ),
        Ok(Err(Refused::Weak(weak))) => show(
            &idp,
            &ctx,
            "reset",
            token,
            Some((StatusCode::BAD_REQUEST, weak_text(ctx.lang.texts(), weak))),
        ),
        Err(e) => error::internal(&e, true, ctx.lang, &ctx.request_id),
    }
}

#[cfg(test)]
mod tests {
    use portal_ui::Lang;

    use super::*;

    #[test]
    fn the_page_names_the_rule_the_password_broke() {
        let email = "tamtt@binhphuoc.gov.vn";
        for lang in [Lang::Vi, Lang::En] {
            let t = lang.texts();
            let said = |p: &str| weak_text(t, policy::check(p, email).unwrap_err());
            let short = said("ngắn");
            assert!(short.contains(&policy::MIN_CHARS.to_string()), "{short}");
            assert_eq!(said("matkhau@123"), t.reset.weak_common);
            assert_eq!(said("tamtt-2025-xyz"), t.reset.weak_like_account);
            let long = said(&"x".repeat(policy::MAX_CHARS + 1));
            assert!(long.contains(&policy::MAX_CHARS.to_string()), "{long}");
            // Another minimum, another number: nothing is written in the text.
            assert!((t.reset.weak_too_short)(14).contains("14"));
        }
    }
}
