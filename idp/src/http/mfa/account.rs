//! The person's own second factors (`/account/mfa`): add or remove an
//! authenticator or an address for codes, new recovery codes. Every change
//! needs a recent proof in this session: a second factor at sign-in or
//! re-checked here within [`mfa::FRESH_MINUTES`], or for a first factor the
//! out-of-band bootstrap.

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::Response;
use portal_ui::pages::{Chrome, FactorsPage};

use super::super::account::{audit, require};
use super::super::ctx::Ctx;
use super::super::{csrf, error};
use super::{
    ACCOUNT, Attempt, FactorForm, Say, St, bootstrap_op, checks_code, confirm_view, enrol_op,
    enrol_state, paused_say, recovery_used, send_code,
};
use crate::Idp;
use crate::auth::mfa::{self, CodeCheck, Scope};
use crate::auth::session::SsoSession;
use crate::mail;
use crate::portal::account::vn_time;
use crate::refusal::Refusal;
use crate::store::{Factor, User};

async fn factors_page(
    idp: &Idp,
    ctx: &Ctx,
    sess: &SsoSession,
    user: &User,
    mut say: Say,
) -> Result<Response, String> {
    let factors = idp
        .store
        .factors(&user.id)
        .await
        .map_err(|e| e.to_string())?;
    let required = mfa::required_for(idp, user, &[])
        .await
        .map_err(|e| e.to_string())?;
    let recovery_left = idp
        .store
        .recovery_codes_left(&user.id)
        .await
        .map_err(|e| e.to_string())?;
    let scope = Scope::Session(&sess.sid);
    let confirm = confirm_view(idp, user, &factors, scope).await?;
    let enrol = enrol_state(idp, user, ACCOUNT, scope, confirm, &mut say).await?;
    let c = csrf::issue(idp, ctx).map_err(|e| e.to_string())?;
    let (status, err) = say
        .error
        .map_or((StatusCode::OK, None), |(s, m)| (s, Some(m)));
    let view = FactorsPage {
        chrome: Chrome::new(ctx.lang, ACCOUNT),
        csrf: c.token.clone(),
        error: err,
        notice: say.notice,
        totp: factors.iter().any(|f| f.kind == mfa::TOTP),
        email: factors
            .iter()
            .find(|f| f.kind == mfa::EMAIL)
            .and_then(|f| f.address.clone()),
        recovery_left,
        required,
        enrol,
    };
    let mut resp = error::render(&view, &ctx.request_id);
    *resp.status_mut() = status;
    Ok(c.attach(resp))
}

pub async fn factors_get(State(idp): St, ctx: Ctx) -> Response {
    let (sess, user) = match require(&idp, &ctx).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    factors_page(&idp, &ctx, &sess, &user, Say::default())
        .await
        .unwrap_or_else(|e| error::internal(&e, true, ctx.lang, &ctx.request_id))
}

pub async fn factors_post(
    State(idp): St,
    ctx: Ctx,
    f: Result<Form<FactorForm>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = f else {
        return error::refused(Refusal::BadRequest, ctx.lang, ACCOUNT, &ctx.request_id);
    };
    let (sess, user) = match require(&idp, &ctx).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    if !csrf::check(&idp, &ctx, f.csrf.as_deref()) {
        return error::refused(Refusal::FormExpired, ctx.lang, ACCOUNT, &ctx.request_id);
    }
    factors_step(&idp, &ctx, &sess, &user, &f)
        .await
        .unwrap_or_else(|e| error::internal(&e, true, ctx.lang, &ctx.request_id))
}

/// Re-checks a current factor on the spot (`recheck`): a six-digit code from
/// the authenticator or sent by e-mail, else a recovery code.
async fn recheck(
    idp: &Idp,
    ctx: &Ctx,
    user: &User,
    scope: Scope<'_>,
    factors: &[Factor],
    code: &str,
) -> Result<bool, String> {
    let now = crate::now();
    let six: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if six.len() == 6 && six.chars().all(|c| c.is_ascii_digit()) {
        if let Some(fa) = factors.iter().find(|x| x.kind == mfa::TOTP)
            && mfa::check_totp(idp, user, fa, &six, now)
                .await
                .map_err(|e| e.to_string())?
        {
            return Ok(true);
        }
        if factors.iter().any(|x| x.kind == mfa::EMAIL) {
            let c = mfa::check_email_code(idp, &user.id, &mfa::Purpose::Recheck(scope), &six, now)
                .await
                .map_err(|e| e.to_string())?;
            return Ok(matches!(c, CodeCheck::Right(_)));
        }
        return Ok(false);
    }
    if mfa::use_recovery_code(idp, &user.id, code, now)
        .await
        .map_err(|e| e.to_string())?
    {
        recovery_used(idp, ctx, user, now).await?;
        return Ok(true);
    }
    Ok(false)
}

async fn factors_step(
    idp: &Idp,
    ctx: &Ctx,
    sess: &SsoSession,
    user: &User,
    f: &FactorForm,
) -> Result<Response, String> {
    let t = ctx.lang.texts();
    let now = crate::now();
    let scope = Scope::Session(&sess.sid);
    let mut attempt = None;
    if checks_code(f.op.as_deref()) {
        match Attempt::reserve(idp, user).await? {
            Some(a) => attempt = Some(a),
            None => return factors_page(idp, ctx, sess, user, paused_say(t)).await,
        }
    } else if mfa::paused(idp, &user.id)
        .await
        .map_err(|e| e.to_string())?
    {
        return factors_page(idp, ctx, sess, user, paused_say(t)).await;
    }
    let factors = idp
        .store
        .factors(&user.id)
        .await
        .map_err(|e| e.to_string())?;
    // The proof a change needs: a current factor re-checked here, or the
    // out-of-band bootstrap for a person with none yet.
    match (f.op.as_deref(), attempt.as_mut()) {
        (Some("recheck_send"), _) => {
            let Some(address) = factors
                .iter()
                .find(|x| x.kind == mfa::EMAIL)
                .and_then(|x| x.address.clone())
            else {
                return factors_page(idp, ctx, sess, user, Say::default()).await;
            };
            let purpose = mfa::Purpose::Recheck(scope);
            let say = send_code(idp, ctx, user, &purpose, &address, &mfa::mask(&address)).await?;
            return factors_page(idp, ctx, sess, user, say).await;
        }
        (Some("recheck"), Some(a)) => {
            let code = f.code.as_deref().unwrap_or_default();
            let say =
                if !factors.is_empty() && recheck(idp, ctx, user, scope, &factors, code).await? {
                    a.right(idp, user).await?;
                    mfa::mark_fresh(idp, scope, now)
                        .await
                        .map_err(|e| e.to_string())?;
                    audit(idp, ctx, "mfa.rechecked", user, None).await;
                    Say::notice(t.confirmed.to_owned())
                } else {
                    a.wrong(idp, ctx, user, "recheck").await
                };
            return factors_page(idp, ctx, sess, user, say).await;
        }
        _ => {}
    }
    if factors.is_empty()
        && let Some(say) = bootstrap_op(idp, ctx, user, scope, f, &mut attempt).await?
    {
        return factors_page(idp, ctx, sess, user, say).await;
    }
    if !mfa::is_fresh(idp, scope, now)
        .await
        .map_err(|e| e.to_string())?
    {
        let say = Say::error(StatusCode::FORBIDDEN, t, |t| t.confirm_first);
        return factors_page(idp, ctx, sess, user, say).await;
    }
    if let Some((say, _)) = enrol_op(idp, ctx, user, scope, f, &mut attempt).await? {
        return factors_page(idp, ctx, sess, user, say).await;
    }
    let say = match f.op.as_deref() {
        Some("start_totp") => Say {
            totp: true,
            ..Say::default()
        },
        Some(op @ ("remove_totp" | "remove_email")) => {
            let kind = if op == "remove_totp" {
                mfa::TOTP
            } else {
                mfa::EMAIL
            };
            let last = factors.iter().all(|x| x.kind == kind);
            if last
                && mfa::required_for(idp, user, &[])
                    .await
                    .map_err(|e| e.to_string())?
            {
                Say::error(StatusCode::CONFLICT, t, |t| t.mfa_required_note)
            } else {
                if idp
                    .store
                    .delete_factor(&user.id, kind)
                    .await
                    .map_err(|e| e.to_string())?
                {
                    audit(idp, ctx, &format!("mfa.{kind}_removed"), user, None).await;
                    let (vi, en) = if kind == mfa::TOTP {
                        (
                            "Đã gỡ bỏ ứng dụng xác thực",
                            "An authenticator app was removed",
                        )
                    } else {
                        (
                            "Đã gỡ bỏ nhận mã xác thực qua e-mail",
                            "Codes by e-mail were removed",
                        )
                    };
                    mail::notify(
                        idp,
                        &user.email,
                        &mail::factors_changed(vi, en, &vn_time(now)),
                    )
                    .await;
                }
                Say::notice(t.factor_removed.to_owned())
            }
        }
        Some("new_codes") => {
            if factors.is_empty() {
                Say::default()
            } else {
                let codes = mfa::new_recovery_codes(idp, &user.id, now)
                    .await
                    .map_err(|e| e.to_string())?;
                audit(idp, ctx, "mfa.recovery_codes_renewed", user, None).await;
                let mail = mail::factors_changed(
                    "Đã tạo bộ mã khôi phục mới (các mã cũ không còn dùng được)",
                    "New recovery codes were made (the old ones no longer work)",
                    &vn_time(now),
                );
                mail::notify(idp, &user.email, &mail).await;
                Say {
                    recovery_codes: codes,
                    ..Say::default()
                }
            }
        }
        _ => Say::error(StatusCode::BAD_REQUEST, t, |t| t.error_bad_request),
    };
    factors_page(idp, ctx, sess, user, say).await
}
