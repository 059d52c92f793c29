//! "Forgot your password": a local account gets a single-use link (30
//! minutes, kept in the cache under its hash) to its official mailbox; a
//! person whose password belongs to the mail directory is told to change it
//! there. The page says the same whatever the account, so it reveals nobody.
//! A new password ends every session of the account.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use portal_ui::Texts;
use portal_ui::pages::{Chrome, PasswordPage};
use serde::Deserialize;

use super::account::audit;
use super::ctx::Ctx;
use super::{csrf, error};
use crate::Idp;
use crate::auth::account;
use crate::cache::CacheBackend;
use crate::crypto;
use crate::mail;
use crate::oidc::logout;
use crate::portal::account::vn_time;

type St = State<Arc<Idp>>;
type Pick = fn(&Texts) -> &'static str;

/// How long a reset link works.
const LINK_MINUTES: u64 = 30;
/// Reset mails per account per hour.
const MAILS_PER_HOUR: i64 = 3;

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

fn token_key(token: &str) -> String {
    format!("pwreset:{}", crypto::sha256_b64(token.as_bytes()))
}

fn show(
    idp: &Idp,
    ctx: &Ctx,
    stage: &'static str,
    token: String,
    error: Option<(StatusCode, Pick)>,
) -> Response {
    let c = match csrf::issue(idp, ctx) {
        Ok(c) => c,
        Err(e) => return error::internal(&e, false, ctx.lang, &ctx.request_id),
    };
    let here = if stage == "reset" {
        "/password/reset"
    } else {
        "/password/forgot"
    };
    let page = PasswordPage {
        chrome: Chrome::new(ctx.lang, here),
        csrf: c.token.clone(),
        stage,
        token,
        error: error.map(|(_, pick)| pick(ctx.lang.texts())),
    };
    let mut resp = error::render(&page, &ctx.request_id);
    if let Some((status, _)) = error {
        *resp.status_mut() = status;
    }
    c.attach(resp)
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
    if idp.mailer.is_none() {
        return show(
            &idp,
            &ctx,
            "forgot",
            String::new(),
            Some((StatusCode::SERVICE_UNAVAILABLE, |t| t.no_mail)),
        );
    }
    if let Ok(email) = account::normalize(&typed, idp.config.email_domain.as_deref())
        && let Err(e) = send(&idp, &ctx, &email).await
    {
        // Said as "sent" like every other case; the admin reads the log.
        tracing::error!(request_id = %ctx.request_id, error = %e, "password reset not sent");
    }
    show(&idp, &ctx, "sent", String::new(), None)
}

/// Mails the link (or the directory's advice) to an account that exists.
async fn send(idp: &Idp, ctx: &Ctx, email: &str) -> Result<(), String> {
    let count = idp
        .cache
        .incr(&format!("pwreset:count:{email}"), Duration::from_secs(3600))
        .await
        .map_err(|e| e.to_string())?;
    if count > MAILS_PER_HOUR {
        return Ok(());
    }
    let Some(user) = idp
        .store
        .user_by_email(email)
        .await
        .map_err(|e| e.to_string())?
        .filter(|u| !u.is_disabled())
    else {
        return Ok(());
    };
    let mail = if user.source == "local" && user.password_hash.is_some() {
        let token = crypto::random_token().map_err(|e| e.to_string())?;
        idp.cache
            .set_json(
                &token_key(&token),
                &user.id,
                Duration::from_secs(LINK_MINUTES * 60),
            )
            .await
            .map_err(|e| e.to_string())?;
        let url = format!("{}/password/reset?token={token}", idp.config.issuer());
        mail::reset_link(&url, LINK_MINUTES)
    } else {
        mail::reset_in_directory()
    };
    mail::queue(idp, &user.email, &mail)
        .await
        .map_err(|e| e.to_string())?;
    audit(idp, ctx, "auth.password_reset_requested", &user, None).await;
    Ok(())
}

pub async fn reset_get(State(idp): St, ctx: Ctx, Query(q): Query<ResetQuery>) -> Response {
    let token = q.token.unwrap_or_default();
    match idp.cache.get_json::<String>(&token_key(&token)).await {
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

/// A password a person may choose: 10 characters or more, without their account name.
pub fn acceptable(password: &str, email: &str) -> bool {
    let local = email.split('@').next().unwrap_or(email).to_lowercase();
    let n = password.chars().count();
    (10..=1024).contains(&n) && !(local.len() >= 3 && password.to_lowercase().contains(&local))
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
    match reset(
        &idp,
        &ctx,
        &token,
        f.password.unwrap_or_default(),
        f.repeat.unwrap_or_default(),
    )
    .await
    {
        Ok(Ok(())) => show(&idp, &ctx, "done", String::new(), None),
        Ok(Err((stage, problem))) => show(&idp, &ctx, stage, token, Some(problem)),
        Err(e) => error::internal(&e, true, ctx.lang, &ctx.request_id),
    }
}

type Problem = (&'static str, (StatusCode, Pick));

async fn reset(
    idp: &Idp,
    ctx: &Ctx,
    token: &str,
    password: String,
    repeat: String,
) -> Result<Result<(), Problem>, String> {
    let invalid: Problem = ("done", (StatusCode::NOT_FOUND, |t| t.reset_invalid));
    let key = token_key(token);
    let Some(user_id) = idp
        .cache
        .get_json::<String>(&key)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(Err(invalid));
    };
    let Some(user) = idp
        .store
        .user_by_id(&user_id)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(Err(invalid));
    };
    if password != repeat {
        return Ok(Err((
            "reset",
            (StatusCode::BAD_REQUEST, |t| t.passwords_differ),
        )));
    }
    if !acceptable(&password, &user.email) {
        return Ok(Err((
            "reset",
            (StatusCode::BAD_REQUEST, |t| t.password_weak),
        )));
    }
    // Taken only now, so a typo above does not spend the link; taken, so it works once.
    if idp
        .cache
        .take_json::<String>(&key)
        .await
        .map_err(|e| e.to_string())?
        .is_none()
    {
        return Ok(Err(invalid));
    }
    let hash = idp.hasher.hash(password).await.map_err(|e| e.to_string())?;
    let now = crate::now();
    idp.store
        .set_password_hash(&user.id, &hash, now)
        .await
        .map_err(|e| e.to_string())?;
    let ended = logout::sign_out_others(idp, &user.id, "", ctx.ip.clone(), now)
        .await
        .map_err(|e| e.to_string())?;
    audit(
        idp,
        ctx,
        "auth.password_reset",
        &user,
        Some(format!("{ended} sessions ended")),
    )
    .await;
    mail::notify(idp, &user.email, &mail::password_changed(&vn_time(now))).await;
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_passwords_are_long_and_not_the_account_name() {
        assert!(acceptable("Mật-khẩu-2024!", "tamtt@binhphuoc.gov.vn"));
        assert!(!acceptable("ngắn-quá", "tamtt@binhphuoc.gov.vn"));
        assert!(!acceptable("TAMTT-2024-abc", "tamtt@binhphuoc.gov.vn"));
    }
}
