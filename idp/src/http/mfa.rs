//! Second factors in the browser: the second step of signing in
//! (`/login/second-factor`, also the step-up an app asks for) and the
//! person's own factors (`/account/mfa`). Every form is a CSRF-checked POST
//! with an `op`; every code check is reserved in the per-person count before
//! the code is looked at, and wrong ones are audited; every change to the
//! factors is audited and mailed to the owner. A change needs a recent proof
//! in the same sign-in or session: a current factor (at sign-in or re-checked
//! here), or for a first factor the out-of-band bootstrap (an administrator's
//! enrolment code, or a code sent to the official mailbox).

use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use portal_ui::Texts;
use portal_ui::pages::{Chrome, ConfirmView, EnrolState, SecondFactorPage, TotpEnrolView};
use serde::Deserialize;

use super::account::audit;
use super::ctx::Ctx;
use super::oidc::see_other;
use super::{cookies, csrf, error};
use crate::Idp;
use crate::auth::mfa::{self, CodeCheck, Method, Scope, Sent};
use crate::mail;
use crate::oidc::authorize::{Half, half_key};
use crate::portal::account::vn_time;
use crate::portal::login::{self, Context, LoginResult};
use crate::refusal::Refusal;
use crate::store::{Factor, User};

mod account;
pub use account::{factors_get, factors_post};

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

/// The proof a scope still owes before its factors change: `None` when it
/// proved one recently (or, in a sign-in, bootstrapped the first factor).
async fn confirm_view(
    idp: &Idp,
    user: &User,
    factors: &[Factor],
    scope: Scope<'_>,
) -> Result<Option<ConfirmView>, String> {
    if mfa::is_fresh(idp, scope, crate::now())
        .await
        .map_err(|e| e.to_string())?
    {
        return Ok(None);
    }
    let bootstrap = factors.is_empty();
    let mail_to = if idp.mailer.is_none() {
        None
    } else if bootstrap {
        Some(mfa::mask(&user.email))
    } else {
        factors
            .iter()
            .find(|f| f.kind == mfa::EMAIL)
            .and_then(|f| f.address.as_deref())
            .map(mfa::mask)
    };
    Ok(Some(ConfirmView { bootstrap, mail_to }))
}

async fn enrol_state(
    idp: &Idp,
    user: &User,
    action: &'static str,
    scope: Scope<'_>,
    confirm: Option<ConfirmView>,
    say: &mut Say,
) -> Result<EnrolState, String> {
    let totp = if say.totp && confirm.is_none() {
        let sealed = mfa::pending_totp(idp, user, scope)
            .await
            .map_err(|e| e.to_string())?;
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
        confirm,
    })
}

/// One code check, reserved in the count before the code is looked at
/// ([`mfa::reserve`]) and settled once the answer is known.
struct Attempt(Option<mfa::Reserved>);

impl Attempt {
    /// `None` while the person's factors pause: the code is not checked.
    async fn reserve(idp: &Idp, user: &User) -> Result<Option<Attempt>, String> {
        Ok(mfa::reserve(idp, &user.id)
            .await
            .map_err(|e| e.to_string())?
            .map(|r| Attempt(Some(r))))
    }

    async fn right(&mut self, idp: &Idp, user: &User) -> Result<(), String> {
        if let Some(r) = self.0.take() {
            mfa::settle(idp, &user.id, r, true)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Counts a wrong code and says so.
    async fn wrong(&mut self, idp: &Idp, ctx: &Ctx, user: &User, what: &str) -> Say {
        audit(
            idp,
            ctx,
            "auth.second_factor_failed",
            user,
            Some(what.into()),
        )
        .await;
        if let Some(r) = self.0.take()
            && let Ok(true) = mfa::settle(idp, &user.id, r, false).await
        {
            audit(idp, ctx, "auth.second_factor_paused", user, None).await;
        }
        Say::error(StatusCode::OK, ctx.lang.texts(), |t| t.wrong_code)
    }
}

/// The ops that check a code, each reserved before it runs.
fn checks_code(op: Option<&str>) -> bool {
    matches!(
        op,
        Some(
            "totp" | "email" | "recovery" | "bootstrap" | "recheck" | "enrol_totp" | "enrol_email"
        )
    )
}

fn paused_say(t: &Texts) -> Say {
    Say::error(StatusCode::TOO_MANY_REQUESTS, t, |t| t.mfa_paused)
}

/// A recovery code was spent: audited, and the owner is told how many are left.
async fn recovery_used(idp: &Idp, ctx: &Ctx, user: &User, now: i64) -> Result<(), String> {
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
    Ok(())
}

/// The first factor's bootstrap (`bootstrap_send`, `bootstrap`); `None` when
/// `op` is neither. Only for people with no factor yet.
async fn bootstrap_op(
    idp: &Idp,
    ctx: &Ctx,
    user: &User,
    scope: Scope<'_>,
    f: &FactorForm,
    attempt: &mut Option<Attempt>,
) -> Result<Option<Say>, String> {
    let now = crate::now();
    match f.op.as_deref() {
        Some("bootstrap_send") => {
            // Only the official mailbox, never an address typed here.
            let official = user.email.clone();
            let purpose = mfa::Purpose::Bootstrap(scope);
            Ok(Some(
                send_code(idp, ctx, user, &purpose, &official, &mfa::mask(&official)).await?,
            ))
        }
        Some("bootstrap") => {
            let Some(attempt) = attempt else {
                return Ok(Some(paused_say(ctx.lang.texts())));
            };
            let code = f.code.as_deref().unwrap_or_default();
            match mfa::check_bootstrap(idp, user, scope, code, now)
                .await
                .map_err(|e| e.to_string())?
            {
                Some(how) => {
                    attempt.right(idp, user).await?;
                    let how = match how {
                        mfa::Bootstrap::AdminCode => "administrator's enrolment code",
                        mfa::Bootstrap::OfficialMail => "code sent to the official mailbox",
                    };
                    audit(idp, ctx, "mfa.bootstrapped", user, Some(how.into())).await;
                    Ok(Some(Say::notice(ctx.lang.texts().confirmed.to_owned())))
                }
                None => Ok(Some(attempt.wrong(idp, ctx, user, "bootstrap").await)),
            }
        }
        _ => Ok(None),
    }
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
    token: &str,
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
    let scope = Scope::Half(token);
    let confirm = if enrolling {
        match confirm_view(idp, user, factors, scope).await {
            Ok(c) => c,
            Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
        }
    } else {
        None
    };
    let enrol = match enrol_state(idp, user, SIGN_IN, scope, confirm, &mut say).await {
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
    let (token, half, user) = match half(&idp, &ctx).await {
        Ok(Some(x)) => x,
        Ok(None) => return see_other("/login"),
        Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
    };
    let factors = match idp.store.factors(&user.id).await {
        Ok(f) => f,
        Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
    };
    second_page(&idp, &ctx, &token, &half, &user, &factors, Say::default()).await
}

fn email_sent_text(t: &Texts, address: &str) -> String {
    t.email_sent.replace("{addr}", address)
}

/// Sends a code and says what happened.
async fn send_code(
    idp: &Idp,
    ctx: &Ctx,
    user: &User,
    purpose: &mfa::Purpose<'_>,
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
/// The caller has checked that `scope` may change the factors. On success
/// the new factor is saved, audited and mailed, and recovery codes are made
/// if the person had none.
async fn enrol_op(
    idp: &Idp,
    ctx: &Ctx,
    user: &User,
    scope: Scope<'_>,
    f: &FactorForm,
    attempt: &mut Option<Attempt>,
) -> Result<Option<(Say, Option<Method>)>, String> {
    let t = ctx.lang.texts();
    let now = crate::now();
    let code = f.code.as_deref().unwrap_or_default();
    let saved = match (f.op.as_deref(), attempt.as_mut()) {
        (Some("enrol_totp"), Some(attempt)) => {
            let sealed = mfa::pending_totp(idp, user, scope)
                .await
                .map_err(|e| e.to_string())?;
            match mfa::check_new_totp(idp, user, &sealed, code, now).map_err(|e| e.to_string())? {
                Some(step) => {
                    attempt.right(idp, user).await?;
                    mfa::save_totp(idp, user, &sealed, step, now)
                        .await
                        .map_err(|e| e.to_string())?;
                    let _ = mfa::drop_pending_totp(idp, user, scope).await;
                    Method::Totp
                }
                None => {
                    let mut say = attempt.wrong(idp, ctx, user, "enrol totp").await;
                    say.totp = true;
                    return Ok(Some((say, None)));
                }
            }
        }
        (Some("enrol_email_send"), _) => {
            let address = f.address.as_deref().unwrap_or_default().trim().to_owned();
            if !plausible_address(&address) {
                return Ok(Some((
                    Say::error(StatusCode::BAD_REQUEST, t, |t| t.invalid_personal_email),
                    None,
                )));
            }
            let purpose = mfa::Purpose::Enrol(scope);
            let mut say = send_code(idp, ctx, user, &purpose, &address, &address).await?;
            say.email_sent = Some(address);
            return Ok(Some((say, None)));
        }
        (Some("enrol_email"), Some(attempt)) => {
            match mfa::check_email_code(idp, &user.id, &mfa::Purpose::Enrol(scope), code, now)
                .await
                .map_err(|e| e.to_string())?
            {
                CodeCheck::Right(address) => {
                    attempt.right(idp, user).await?;
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
                        attempt.wrong(idp, ctx, user, "enrol email").await,
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
    let scope = Scope::Half(token);
    let factors = idp
        .store
        .factors(&user.id)
        .await
        .map_err(|e| e.to_string())?;
    if !csrf::check(idp, ctx, f.csrf.as_deref()) {
        let say = Say::error(StatusCode::OK, t, |t| t.form_expired);
        return Ok(second_page(idp, ctx, token, half, user, &factors, say).await);
    }
    // A code check holds its place in the count before the code is looked
    // at, so parallel guesses cannot all be checked.
    let mut attempt = None;
    if checks_code(f.op.as_deref()) {
        match Attempt::reserve(idp, user).await? {
            Some(a) => attempt = Some(a),
            None => {
                return Ok(second_page(idp, ctx, token, half, user, &factors, paused_say(t)).await);
            }
        }
    } else if mfa::paused(idp, &user.id)
        .await
        .map_err(|e| e.to_string())?
    {
        return Ok(second_page(idp, ctx, token, half, user, &factors, paused_say(t)).await);
    }
    let code = f.code.as_deref().unwrap_or_default();
    let factor = |kind: &str| factors.iter().find(|x| x.kind == kind);
    let proven = match (f.op.as_deref(), attempt.as_mut()) {
        (Some("totp"), Some(_)) => match factor(mfa::TOTP) {
            Some(fa)
                if mfa::check_totp(idp, user, fa, code, now)
                    .await
                    .map_err(|e| e.to_string())? =>
            {
                Some(Method::Totp.amr())
            }
            _ => None,
        },
        (Some("email_send"), _) => {
            let Some(address) = factor(mfa::EMAIL).and_then(|x| x.address.clone()) else {
                return Ok(see_other(SIGN_IN));
            };
            let purpose = mfa::Purpose::Login;
            let say = send_code(idp, ctx, user, &purpose, &address, &mfa::mask(&address)).await?;
            return Ok(second_page(idp, ctx, token, half, user, &factors, say).await);
        }
        (Some("email"), Some(_)) => {
            match mfa::check_email_code(idp, &user.id, &mfa::Purpose::Login, code, now)
                .await
                .map_err(|e| e.to_string())?
            {
                CodeCheck::Right(_) => Some(Method::Email.amr()),
                CodeCheck::Wrong | CodeCheck::Missing => None,
            }
        }
        (Some("recovery"), Some(_)) => {
            if mfa::use_recovery_code(idp, &user.id, code, now)
                .await
                .map_err(|e| e.to_string())?
            {
                recovery_used(idp, ctx, user, now).await?;
                Some(Method::Recovery.amr())
            } else {
                None
            }
        }
        (Some("done"), _) => half.passed.clone(),
        // Enrolment is for people without any factor yet.
        _ if !factors.is_empty() => return Ok(see_other(SIGN_IN)),
        _ => {
            if let Some(say) = bootstrap_op(idp, ctx, user, scope, f, &mut attempt).await? {
                return Ok(second_page(idp, ctx, token, half, user, &factors, say).await);
            }
            // The first factor only after the out-of-band bootstrap: the
            // password alone binds nothing.
            if !mfa::is_fresh(idp, scope, now)
                .await
                .map_err(|e| e.to_string())?
            {
                let say = Say::error(StatusCode::FORBIDDEN, t, |t| t.confirm_first);
                return Ok(second_page(idp, ctx, token, half, user, &factors, say).await);
            }
            match enrol_op(idp, ctx, user, scope, f, &mut attempt).await? {
                Some((say, Some(_))) => {
                    // Enrolled in this sign-in: it proves the bootstrap, not a
                    // factor the person already held, so acr stays 1.
                    let amr = mfa::amr_enrolled();
                    if say.recovery_codes.is_empty() {
                        // No new codes to show: on to the app.
                        return finish(idp, ctx, token, half, amr).await;
                    }
                    // The codes first; "continue" finishes.
                    half.passed = Some(amr);
                    half.update(idp, token).await.map_err(|e| e.to_string())?;
                    let factors = idp
                        .store
                        .factors(&user.id)
                        .await
                        .map_err(|e| e.to_string())?;
                    return Ok(second_page(idp, ctx, token, half, user, &factors, say).await);
                }
                Some((say, None)) => {
                    return Ok(second_page(idp, ctx, token, half, user, &factors, say).await);
                }
                None => return Ok(see_other(SIGN_IN)),
            }
        }
    };
    match (proven, attempt) {
        (Some(amr), Some(mut a)) => {
            a.right(idp, user).await?;
            finish(idp, ctx, token, half, amr).await
        }
        (Some(amr), None) => finish(idp, ctx, token, half, amr).await,
        (None, Some(mut a)) => {
            let say = a
                .wrong(idp, ctx, user, f.op.as_deref().unwrap_or("?"))
                .await;
            Ok(second_page(idp, ctx, token, half, user, &factors, say).await)
        }
        (None, None) => Ok(see_other(SIGN_IN)),
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
