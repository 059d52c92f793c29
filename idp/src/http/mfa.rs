//! Second factors in the browser: the second step of signing in
//! (`/login/second-factor`, also the step-up an app asks for) and the
//! person's own factors (`/account/mfa`). Every form is a CSRF-checked POST
//! with an `op`; wrong codes are counted per person and audited; every
//! change to the factors is audited and mailed to the owner.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use portal_ui::Texts;
use portal_ui::pages::{Chrome, EnrolState, FactorsPage, SecondFactorPage, TotpEnrolView};
use serde::Deserialize;

use super::account::{audit, require};
use super::ctx::Ctx;
use super::oidc::see_other;
use super::{cookies, csrf, error};
use crate::Idp;
use crate::auth::mfa::{self, CodeCheck, Method, Sent};
use crate::mail;
use crate::oidc::authorize::{Half, half_key};
use crate::portal::account::vn_time;
use crate::portal::login::{self, Context, LoginResult};
use crate::refusal::Refusal;
use crate::store::{Factor, User};

type St = State<Arc<Idp>>;
type Pick = fn(&Texts) -> &'static str;

const SIGN_IN: &str = "/login/second-factor";
const ACCOUNT: &str = "/account/mfa";

#[derive(Debug, Default, Deserialize)]
pub struct FactorForm {
    pub csrf: Option<String>,
    pub op: Option<String>,
    pub code: Option<String>,
    pub address: Option<String>,
}

/// Sends the browser to the second step with its cookie.
pub fn to_second_factor(idp: &Idp, token: &str) -> Response {
    let mut resp = see_other(SIGN_IN);
    if let Ok(v) = HeaderValue::from_str(&cookies::set(idp, cookies::half_name(idp), token)) {
        resp.headers_mut().append(SET_COOKIE, v);
    }
    resp
}

/// Signed in: the session cookie, a device cookie for a new browser, and on.
pub fn signed_in_response(
    idp: &Idp,
    cookie: &str,
    redirect: &str,
    device: Option<&str>,
) -> Response {
    let mut resp = see_other(redirect);
    let mut set = vec![cookies::set(idp, cookies::session_name(idp), cookie)];
    if let Some(d) = device {
        set.push(cookies::set_device(idp, d));
    }
    for s in set {
        if let Ok(v) = HeaderValue::from_str(&s) {
            resp.headers_mut().append(SET_COOKIE, v);
        }
    }
    resp
}

/// What a page shows beyond the person's factors.
#[derive(Default)]
struct Say {
    error: Option<(StatusCode, String)>,
    notice: Option<String>,
    /// An address a code was just sent to (enrolment by e-mail).
    email_sent: Option<String>,
    recovery_codes: Vec<String>,
    /// Show the authenticator's QR code (a pending key exists).
    totp: bool,
}

impl Say {
    fn error(status: StatusCode, t: &Texts, pick: Pick) -> Say {
        Say {
            error: Some((status, pick(t).to_owned())),
            ..Say::default()
        }
    }

    fn notice(text: String) -> Say {
        Say {
            notice: Some(text),
            ..Say::default()
        }
    }
}

fn totp_enrol_key(user_id: &str) -> String {
    format!("totpenrol:{user_id}")
}

/// The key being enrolled, made on first use and kept while the person scans it.
async fn pending_totp(idp: &Idp, user: &User) -> Result<String, String> {
    let key = totp_enrol_key(&user.id);
    if let Some(s) = idp
        .cache
        .get_json::<String>(&key)
        .await
        .map_err(|e| e.to_string())?
    {
        return Ok(s);
    }
    let sealed = mfa::new_totp_secret(idp, &user.id).map_err(|e| e.to_string())?;
    idp.cache
        .set_json(&key, &sealed, Duration::from_secs(15 * 60))
        .await
        .map_err(|e| e.to_string())?;
    Ok(sealed)
}

async fn enrol_state(
    idp: &Idp,
    user: &User,
    action: &'static str,
    say: &mut Say,
) -> Result<EnrolState, String> {
    let totp = if say.totp {
        let sealed = pending_totp(idp, user).await?;
        let e = mfa::enrolment(idp, user, &sealed).map_err(|e| e.to_string())?;
        let svg = e.qr_svg.find("<svg").map_or("", |i| &e.qr_svg[i..]);
        Some(TotpEnrolView {
            qr_svg: svg.to_owned(),
            key: e.key,
        })
    } else {
        None
    };
    Ok(EnrolState {
        action,
        totp,
        mail_possible: idp.mailer.is_some(),
        email: say
            .email_sent
            .clone()
            .or_else(|| user.personal_email.clone())
            .unwrap_or_default(),
        email_sent: say.email_sent.is_some(),
        recovery_codes: std::mem::take(&mut say.recovery_codes),
    })
}

// --- Signing in -------------------------------------------------------------

/// The person half-way through, from the second-factor cookie.
async fn half(idp: &Idp, ctx: &Ctx) -> Result<Option<(String, Half, User)>, String> {
    let Some(token) = ctx.cookie(cookies::half_name(idp)) else {
        return Ok(None);
    };
    let Some(half) = idp
        .cache
        .get_json::<Half>(&half_key(token))
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(None);
    };
    let user = idp
        .store
        .user_by_id(&half.user_id)
        .await
        .map_err(|e| e.to_string())?
        .filter(|u| !u.is_disabled());
    Ok(user.map(|u| (token.to_owned(), half, u)))
}

async fn second_page(
    idp: &Idp,
    ctx: &Ctx,
    half: &Half,
    user: &User,
    factors: &[Factor],
    mut say: Say,
) -> Response {
    let client_name = match &half.req {
        Some(r) => login::pending(idp, r)
            .await
            .ok()
            .flatten()
            .map(|p| p.client_name),
        None => None,
    };
    let enrolling = factors.is_empty() && half.passed.is_none();
    say.totp = enrolling;
    let enrol = match enrol_state(idp, user, SIGN_IN, &mut say).await {
        Ok(e) => e,
        Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
    };
    let c = match csrf::issue(idp, ctx) {
        Ok(c) => c,
        Err(e) => return error::internal(&e, false, ctx.lang, &ctx.request_id),
    };
    let (status, err) = say
        .error
        .map_or((StatusCode::OK, None), |(s, m)| (s, Some(m)));
    let view = SecondFactorPage {
        chrome: Chrome::new(ctx.lang, SIGN_IN),
        csrf: c.token.clone(),
        client_name,
        error: err,
        notice: say.notice,
        totp: factors.iter().any(|f| f.kind == mfa::TOTP),
        email: factors
            .iter()
            .find(|f| f.kind == mfa::EMAIL)
            .and_then(|f| f.address.as_deref())
            .map(mfa::mask),
        enrolling,
        enrol,
    };
    let mut resp = error::render(&view, &ctx.request_id);
    *resp.status_mut() = status;
    c.attach(resp)
}

pub async fn second_factor_get(State(idp): St, ctx: Ctx) -> Response {
    let (_, half, user) = match half(&idp, &ctx).await {
        Ok(Some(x)) => x,
        Ok(None) => return see_other("/login"),
        Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
    };
    let factors = match idp.store.factors(&user.id).await {
        Ok(f) => f,
        Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
    };
    second_page(&idp, &ctx, &half, &user, &factors, Say::default()).await
}

/// Counts a wrong code and says so.
async fn wrong_code(idp: &Idp, ctx: &Ctx, user: &User, what: &str) -> Say {
    audit(
        idp,
        ctx,
        "auth.second_factor_failed",
        user,
        Some(what.into()),
    )
    .await;
    if let Ok(true) = mfa::failed(idp, &user.id).await {
        audit(idp, ctx, "auth.second_factor_paused", user, None).await;
    }
    Say::error(StatusCode::OK, ctx.lang.texts(), |t| t.wrong_code)
}

fn email_sent_text(t: &Texts, address: &str) -> String {
    t.email_sent.replace("{addr}", address)
}

/// Sends a code and says what happened.
async fn send_code(
    idp: &Idp,
    ctx: &Ctx,
    user: &User,
    purpose: &str,
    address: &str,
    shown: &str,
) -> Result<Say, String> {
    let t = ctx.lang.texts();
    let sent = mfa::send_email_code(idp, &user.id, purpose, address, crate::now())
        .await
        .map_err(|e| e.to_string())?;
    Ok(match sent {
        Sent::Sent => Say::notice(email_sent_text(t, shown)),
        Sent::TooSoon(n) => Say {
            error: Some((
                StatusCode::TOO_MANY_REQUESTS,
                t.email_too_soon.replace("{n}", &n.to_string()),
            )),
            ..Say::default()
        },
        Sent::NoMail => Say::error(StatusCode::SERVICE_UNAVAILABLE, t, |t| t.no_mail),
    })
}

/// A plausible address for codes: one `@`, a dot in the domain, no spaces.
fn plausible_address(a: &str) -> bool {
    a.len() <= 254
        && a.parse::<lettre::Address>()
            .is_ok_and(|x| x.domain().contains('.'))
}

/// Enrolment steps shared by both pages; `Ok(None)` when `op` is not one.
/// On success the new factor is saved, audited and mailed, and recovery
/// codes are made if the person had none.
async fn enrol_op(
    idp: &Idp,
    ctx: &Ctx,
    user: &User,
    f: &FactorForm,
) -> Result<Option<(Say, Option<Method>)>, String> {
    let t = ctx.lang.texts();
    let now = crate::now();
    let code = f.code.as_deref().unwrap_or_default();
    let saved = match f.op.as_deref() {
        Some("enrol_totp") => {
            let sealed = pending_totp(idp, user).await?;
            match mfa::check_new_totp(idp, user, &sealed, code, now).map_err(|e| e.to_string())? {
                Some(step) => {
                    mfa::save_totp(idp, user, &sealed, step, now)
                        .await
                        .map_err(|e| e.to_string())?;
                    let _ = idp
                        .cache
                        .take_json::<String>(&totp_enrol_key(&user.id))
                        .await;
                    Method::Totp
                }
                None => {
                    let mut say = wrong_code(idp, ctx, user, "enrol totp").await;
                    say.totp = true;
                    return Ok(Some((say, None)));
                }
            }
        }
        Some("enrol_email_send") => {
            let address = f.address.as_deref().unwrap_or_default().trim().to_owned();
            if !plausible_address(&address) {
                return Ok(Some((
                    Say::error(StatusCode::BAD_REQUEST, t, |t| t.invalid_personal_email),
                    None,
                )));
            }
            let mut say = send_code(idp, ctx, user, "enrol", &address, &address).await?;
            say.email_sent = Some(address);
            return Ok(Some((say, None)));
        }
        Some("enrol_email") => {
            match mfa::check_email_code(idp, &user.id, "enrol", code, now)
                .await
                .map_err(|e| e.to_string())?
            {
                CodeCheck::Right(address) => {
                    idp.store
                        .put_factor(&Factor {
                            user_id: user.id.clone(),
                            kind: mfa::EMAIL.into(),
                            secret: None,
                            address: Some(address),
                            last_step: 0,
                            created_at: now,
                        })
                        .await
                        .map_err(|e| e.to_string())?;
                    Method::Email
                }
                CodeCheck::Wrong | CodeCheck::Missing => {
                    return Ok(Some((
                        wrong_code(idp, ctx, user, "enrol email").await,
                        None,
                    )));
                }
            }
        }
        _ => return Ok(None),
    };
    let (kind, vi, en) = match saved {
        Method::Email => (
            "mfa.email_added",
            "Đã thêm nhận mã xác thực qua e-mail",
            "Codes by e-mail were added",
        ),
        _ => (
            "mfa.totp_added",
            "Đã thêm ứng dụng xác thực",
            "An authenticator app was added",
        ),
    };
    audit(idp, ctx, kind, user, None).await;
    mail::notify(
        idp,
        &user.email,
        &mail::factors_changed(vi, en, &vn_time(now)),
    )
    .await;
    let mut say = Say::notice(t.factor_saved.to_owned());
    let left = idp
        .store
        .recovery_codes_left(&user.id)
        .await
        .map_err(|e| e.to_string())?;
    if left == 0 {
        say.recovery_codes = mfa::new_recovery_codes(idp, &user.id, now)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(Some((say, Some(saved))))
}

pub async fn second_factor_post(
    State(idp): St,
    ctx: Ctx,
    f: Result<Form<FactorForm>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = f else {
        return error::refused(Refusal::BadRequest, ctx.lang, "/login", &ctx.request_id);
    };
    let (token, mut half, user) = match half(&idp, &ctx).await {
        Ok(Some(x)) => x,
        Ok(None) => {
            return error::refused(Refusal::LoginExpired, ctx.lang, "/login", &ctx.request_id);
        }
        Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
    };
    match second_factor_step(&idp, &ctx, &f, &token, &mut half, &user).await {
        Ok(r) => r,
        Err(e) => error::internal(&e, true, ctx.lang, &ctx.request_id),
    }
}

async fn second_factor_step(
    idp: &Idp,
    ctx: &Ctx,
    f: &FactorForm,
    token: &str,
    half: &mut Half,
    user: &User,
) -> Result<Response, String> {
    let t = ctx.lang.texts();
    let now = crate::now();
    let factors = idp
        .store
        .factors(&user.id)
        .await
        .map_err(|e| e.to_string())?;
    if !csrf::check(idp, ctx, f.csrf.as_deref()) {
        let say = Say::error(StatusCode::OK, t, |t| t.form_expired);
        return Ok(second_page(idp, ctx, half, user, &factors, say).await);
    }
    if mfa::paused(idp, &user.id)
        .await
        .map_err(|e| e.to_string())?
    {
        let say = Say::error(StatusCode::TOO_MANY_REQUESTS, t, |t| t.mfa_paused);
        return Ok(second_page(idp, ctx, half, user, &factors, say).await);
    }
    let code = f.code.as_deref().unwrap_or_default();
    let factor = |kind: &str| factors.iter().find(|x| x.kind == kind);
    let proven = match f.op.as_deref() {
        Some("totp") => match factor(mfa::TOTP) {
            Some(fa)
                if mfa::check_totp(idp, user, fa, code, now)
                    .await
                    .map_err(|e| e.to_string())? =>
            {
                Some(Method::Totp.amr())
            }
            _ => None,
        },
        Some("email_send") => {
            let Some(address) = factor(mfa::EMAIL).and_then(|x| x.address.clone()) else {
                return Ok(see_other(SIGN_IN));
            };
            let say = send_code(idp, ctx, user, "login", &address, &mfa::mask(&address)).await?;
            return Ok(second_page(idp, ctx, half, user, &factors, say).await);
        }
        Some("email") => match mfa::check_email_code(idp, &user.id, "login", code, now)
            .await
            .map_err(|e| e.to_string())?
        {
            CodeCheck::Right(_) => Some(Method::Email.amr()),
            CodeCheck::Wrong | CodeCheck::Missing => None,
        },
        Some("recovery") => {
            if mfa::use_recovery_code(idp, &user.id, code, now)
                .await
                .map_err(|e| e.to_string())?
            {
                let left = idp
                    .store
                    .recovery_codes_left(&user.id)
                    .await
                    .map_err(|e| e.to_string())?;
                audit(
                    idp,
                    ctx,
                    "mfa.recovery_code_used",
                    user,
                    Some(format!("{left} left")),
                )
                .await;
                let mail = mail::factors_changed(
                    &format!("Một mã khôi phục đã được dùng để đăng nhập (còn {left} mã)"),
                    &format!("A recovery code was used to sign in ({left} left)"),
                    &vn_time(now),
                );
                mail::notify(idp, &user.email, &mail).await;
                Some(Method::Recovery.amr())
            } else {
                None
            }
        }
        Some("done") => half.passed.clone(),
        // Enrolment is for people without any factor yet.
        _ if !factors.is_empty() => return Ok(see_other(SIGN_IN)),
        _ => match enrol_op(idp, ctx, user, f).await? {
            Some((say, Some(method))) => {
                if say.recovery_codes.is_empty() {
                    // No new codes to show: on to the app.
                    return finish(idp, ctx, token, half, method.amr()).await;
                }
                // The codes first; "continue" finishes with this factor.
                half.passed = Some(method.amr());
                half.update(idp, token).await.map_err(|e| e.to_string())?;
                let factors = idp
                    .store
                    .factors(&user.id)
                    .await
                    .map_err(|e| e.to_string())?;
                return Ok(second_page(idp, ctx, half, user, &factors, say).await);
            }
            Some((say, None)) => return Ok(second_page(idp, ctx, half, user, &factors, say).await),
            None => return Ok(see_other(SIGN_IN)),
        },
    };
    match proven {
        Some(amr) => finish(idp, ctx, token, half, amr).await,
        None => {
            let say = wrong_code(idp, ctx, user, f.op.as_deref().unwrap_or("?")).await;
            Ok(second_page(idp, ctx, half, user, &factors, say).await)
        }
    }
}

/// The second factor is proven: sign in, or raise the session.
async fn finish(
    idp: &Idp,
    ctx: &Ctx,
    token: &str,
    half: &Half,
    amr: Vec<String>,
) -> Result<Response, String> {
    // Taken, so the same half cannot finish twice.
    if idp
        .cache
        .take_json::<Half>(&half_key(token))
        .await
        .map_err(|e| e.to_string())?
        .is_none()
    {
        return Ok(error::refused(
            Refusal::LoginExpired,
            ctx.lang,
            "/login",
            &ctx.request_id,
        ));
    }
    let c = Context {
        session_cookie: ctx.cookie(cookies::session_name(idp)),
        device: ctx.cookie(cookies::device_name(idp)),
        ip: ctx.ip.clone(),
        user_agent: ctx.user_agent.clone(),
        request_id: ctx.request_id.clone(),
    };
    let mut resp = match login::complete(idp, half, amr, c, crate::now())
        .await
        .map_err(|e| e.to_string())?
    {
        LoginResult::SignedIn {
            cookie,
            redirect,
            device,
        } => signed_in_response(idp, &cookie, &redirect, device.as_deref()),
        LoginResult::Refuse(r) => error::refused(r, ctx.lang, "/login", &ctx.request_id),
        other => return Err(format!("unexpected sign-in result {other:?}")),
    };
    if let Ok(v) = HeaderValue::from_str(&cookies::clear(idp, cookies::half_name(idp))) {
        resp.headers_mut().append(SET_COOKIE, v);
    }
    Ok(resp)
}

// --- The account's factors --------------------------------------------------

async fn factors_page(idp: &Idp, ctx: &Ctx, user: &User, mut say: Say) -> Result<Response, String> {
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
    let enrol = enrol_state(idp, user, ACCOUNT, &mut say).await?;
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
    let (_, user) = match require(&idp, &ctx).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    factors_page(&idp, &ctx, &user, Say::default())
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
    let (_, user) = match require(&idp, &ctx).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    if !csrf::check(&idp, &ctx, f.csrf.as_deref()) {
        return error::refused(Refusal::FormExpired, ctx.lang, ACCOUNT, &ctx.request_id);
    }
    factors_step(&idp, &ctx, &user, &f)
        .await
        .unwrap_or_else(|e| error::internal(&e, true, ctx.lang, &ctx.request_id))
}

async fn factors_step(
    idp: &Idp,
    ctx: &Ctx,
    user: &User,
    f: &FactorForm,
) -> Result<Response, String> {
    let t = ctx.lang.texts();
    let now = crate::now();
    if mfa::paused(idp, &user.id)
        .await
        .map_err(|e| e.to_string())?
    {
        let say = Say::error(StatusCode::TOO_MANY_REQUESTS, t, |t| t.mfa_paused);
        return factors_page(idp, ctx, user, say).await;
    }
    if let Some((say, _)) = enrol_op(idp, ctx, user, f).await? {
        return factors_page(idp, ctx, user, say).await;
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
            let factors = idp
                .store
                .factors(&user.id)
                .await
                .map_err(|e| e.to_string())?;
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
            let factors = idp
                .store
                .factors(&user.id)
                .await
                .map_err(|e| e.to_string())?;
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
    factors_page(idp, ctx, user, say).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_for_codes() {
        assert!(plausible_address("nguyenvana@gmail.com"));
        assert!(!plausible_address("nguyenvana"));
        assert!(!plausible_address("a@localhost"));
        assert!(!plausible_address("a b@gmail.com"));
    }
}
