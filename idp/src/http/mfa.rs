//! Second factors in the browser: the second step of signing in
//! (`/login/second-factor`, also the step-up an app asks for) and the
//! person's own factors (`/account/mfa`). Every form is a CSRF-checked POST
//! with an `op`; the rules (which op is allowed when, reserving code checks,
//! the recent proof a change needs, auditing, mailing the owner) are in
//! `auth::mfa`: these handlers extract the form, call one domain function and
//! map its answer to a page or a redirect.

use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use portal_ui::Texts;
use portal_ui::pages::{ConfirmView, EnrolState, SecondFactorPage, TotpEnrolView};
use serde::Deserialize;

use super::ctx::Ctx;
use super::form::FormPage;
use super::oidc::see_other;
use super::{cookies, csrf, error};
use crate::Idp;
use crate::auth::mfa::Half;
use crate::auth::mfa::step::{self, StepOutcome};
use crate::auth::mfa::{
    Answer, EMAIL_CODE_MINUTES, EnrolView, FRESH_MINUTES, Input, Op, PAUSE_MINUTES, Said,
};
use crate::portal::login::{Context, LoginResult};
use crate::refusal::Refusal;
use crate::store::User;

mod account;
pub use account::{factors_get, factors_post};

type St = State<Arc<Idp>>;

const SIGN_IN: &str = "/login/second-factor";

#[derive(Debug, Default, Deserialize)]
pub struct FactorForm {
    pub csrf: Option<String>,
    pub op: Option<String>,
    pub code: Option<String>,
    pub address: Option<String>,
}

impl FactorForm {
    fn input(&self) -> Input<'_> {
        Input {
            op: Op::parse(self.op.as_deref()),
            code: self.code.as_deref().unwrap_or_default(),
            address: self.address.as_deref().unwrap_or_default(),
        }
    }
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

/// What a page says, in words: the status, an error or a notice.
struct Words {
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
}

fn words(t: &Texts, said: &Said) -> Words {
    let error = |status, text: &str| Words {
        status,
        error: Some(text.to_owned()),
        notice: None,
    };
    let notice = |text: String| Words {
        status: StatusCode::OK,
        error: None,
        notice: Some(text),
    };
    match said {
        Said::Nothing => Words {
            status: StatusCode::OK,
            error: None,
            notice: None,
        },
        Said::Paused => error(
            StatusCode::TOO_MANY_REQUESTS,
            &(t.second_factor.paused)(PAUSE_MINUTES),
        ),
        Said::WrongCode => error(StatusCode::OK, t.second_factor.wrong_code),
        Said::CodeSent(to) => notice((t.second_factor.email_sent)(to, EMAIL_CODE_MINUTES)),
        Said::TooSoon(n) => error(
            StatusCode::TOO_MANY_REQUESTS,
            &(t.second_factor.email_too_soon)(*n),
        ),
        Said::NoMail => error(StatusCode::SERVICE_UNAVAILABLE, t.factors.no_mail),
        Said::BadAddress => error(StatusCode::BAD_REQUEST, t.common.invalid_personal_email),
        Said::Confirmed => notice((t.factors.confirmed)(FRESH_MINUTES)),
        Said::ConfirmFirst => error(StatusCode::FORBIDDEN, t.factors.confirm_first),
        Said::FactorSaved => notice(t.factors.saved.to_owned()),
        Said::FactorRemoved => notice(t.factors.removed.to_owned()),
        Said::StillRequired => error(StatusCode::CONFLICT, t.factors.required_note),
        Said::BadRequest => error(StatusCode::BAD_REQUEST, t.errors.bad_request),
    }
}

/// The enrolment part of both pages.
fn enrol_state(action: &'static str, e: EnrolView) -> EnrolState {
    EnrolState {
        action,
        totp: e.totp.map(|t| TotpEnrolView {
            qr_svg: t
                .qr_svg
                .find("<svg")
                .map_or("", |i| &t.qr_svg[i..])
                .to_owned(),
            key: t.key,
        }),
        mail_possible: e.mail_possible,
        email: e.email,
        email_sent: e.email_sent,
        recovery_codes: e.recovery_codes,
        confirm: e.confirm.map(|c| ConfirmView {
            bootstrap: c.bootstrap,
            mail_to: c.mail_to,
        }),
    }
}

// --- Signing in -------------------------------------------------------------

/// The person half-way through, from the second-factor cookie.
async fn half(idp: &Idp, ctx: &Ctx) -> Result<Option<(String, Half, User)>, String> {
    let Some(token) = ctx.cookie(cookies::half_name(idp)) else {
        return Ok(None);
    };
    Ok(step::half(idp, token)
        .await
        .map_err(|e| e.to_string())?
        .map(|(h, u)| (token.to_owned(), h, u)))
}

async fn second_page(
    idp: &Idp,
    ctx: &Ctx,
    token: &str,
    half: &Half,
    user: &User,
    answer: Answer,
) -> Response {
    let w = words(ctx.lang.texts(), &answer.said);
    page_with(idp, ctx, token, half, user, answer, w).await
}

async fn page_with(
    idp: &Idp,
    ctx: &Ctx,
    token: &str,
    half: &Half,
    user: &User,
    answer: Answer,
    w: Words,
) -> Response {
    let v = match step::view(idp, token, half, user, answer, crate::now()).await {
        Ok(v) => v,
        Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
    };
    FormPage::new(idp, ctx, SIGN_IN)
        .status(w.status)
        .render(|csrf, chrome| SecondFactorPage {
            chrome,
            csrf,
            client_name: v.client_name,
            error: w.error,
            notice: w.notice,
            totp: v.totp,
            email: v.email,
            enrolling: v.enrolling,
            enrol: enrol_state(SIGN_IN, v.enrol),
        })
}

pub async fn second_factor_get(State(idp): St, ctx: Ctx) -> Response {
    match half(&idp, &ctx).await {
        Ok(Some((token, half, user))) => {
            second_page(&idp, &ctx, &token, &half, &user, Answer::default()).await
        }
        Ok(None) => see_other("/login"),
        Err(e) => error::internal(&e, true, ctx.lang, &ctx.request_id),
    }
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
    if !csrf::check(&idp, &ctx, f.csrf.as_deref()) {
        let expired = Words {
            status: StatusCode::OK,
            error: Some(ctx.lang.texts().errors.form_expired.to_owned()),
            notice: None,
        };
        return page_with(&idp, &ctx, &token, &half, &user, Answer::default(), expired).await;
    }
    let c = Context {
        session_cookie: ctx.cookie(cookies::session_name(&idp)),
        device: ctx.cookie(cookies::device_name(&idp)),
        ip: ctx.ip.clone(),
        user_agent: ctx.user_agent.clone(),
        request_id: ctx.request_id.clone(),
    };
    let outcome = step::submit(&idp, &token, &mut half, &user, f.input(), c, crate::now()).await;
    match outcome {
        Ok(StepOutcome::Page(answer)) => {
            second_page(&idp, &ctx, &token, &half, &user, answer).await
        }
        Ok(StepOutcome::Again) => see_other(SIGN_IN),
        Ok(StepOutcome::Expired) => {
            error::refused(Refusal::LoginExpired, ctx.lang, "/login", &ctx.request_id)
        }
        Ok(StepOutcome::Finished(result)) => {
            let mut resp = match result {
                LoginResult::SignedIn {
                    cookie,
                    redirect,
                    device,
                } => signed_in_response(&idp, &cookie, &redirect, device.as_deref()),
                LoginResult::Refuse(r) => error::refused(r, ctx.lang, "/login", &ctx.request_id),
                other => {
                    let e = format!("unexpected sign-in result {other:?}");
                    return error::internal(&e, true, ctx.lang, &ctx.request_id);
                }
            };
            if let Ok(v) = HeaderValue::from_str(&cookies::clear(&idp, cookies::half_name(&idp))) {
                resp.headers_mut().append(SET_COOKIE, v);
            }
            resp
        }
        Err(e) => error::internal(&e, true, ctx.lang, &ctx.request_id),
    }
}

#[cfg(test)]
mod tests {
    use portal_ui::Lang;

    use super::*;

    #[test]
    fn the_numbers_said_are_the_ones_the_rules_use() {
        for lang in [Lang::Vi, Lang::En] {
            let t = lang.texts();
            let paused = words(t, &Said::Paused).error.unwrap();
            assert!(paused.contains(&PAUSE_MINUTES.to_string()), "{paused}");
            let sent = words(t, &Said::CodeSent("t***@x.vn".into()))
                .notice
                .unwrap();
            assert!(sent.contains(&format!("{EMAIL_CODE_MINUTES} ")), "{sent}");
            assert!(sent.contains("t***@x.vn"), "{sent}");
            let soon = words(t, &Said::TooSoon(27)).error.unwrap();
            assert!(soon.contains("27"), "{soon}");
            let confirmed = words(t, &Said::Confirmed).notice.unwrap();
            assert!(
                confirmed.contains(&FRESH_MINUTES.to_string()),
                "{confirmed}"
            );
        }
    }
}
