//! The person's own second factors (`/account/mfa`): the page and its ops.
//! The rules (the recent proof a change needs, the bootstrap, reserving code
//! checks, auditing and mailing the owner) are in `auth::mfa::manage`.

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::response::Response;
use portal_ui::pages::FactorsPage;

use super::super::ctx::Ctx;
use super::super::form::{FormPage, require};
use super::super::{csrf, error};
use super::{FactorForm, St, enrol_state, words};
use crate::Idp;
use crate::auth::mfa::{self, Answer, Who};
use crate::refusal::Refusal;
use crate::store::User;

const ACCOUNT: &str = "/account/mfa";

async fn factors_page(idp: &Idp, ctx: &Ctx, sid: &str, user: &User, answer: Answer) -> Response {
    let w = words(ctx.lang.texts(), &answer.said);
    let v = match mfa::factors_view(idp, user, sid, answer, crate::now()).await {
        Ok(v) => v,
        Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
    };
    FormPage::new(idp, ctx, ACCOUNT)
        .status(w.status)
        .render(|csrf, chrome| FactorsPage {
            chrome,
            csrf,
            error: w.error,
            notice: w.notice,
            totp: v.totp,
            email: v.email,
            recovery_left: v.recovery_left,
            required: v.required,
            enrol: enrol_state(ACCOUNT, v.enrol),
        })
}

pub async fn factors_get(State(idp): St, ctx: Ctx) -> Response {
    let (sess, user) = match require(&idp, &ctx).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    factors_page(&idp, &ctx, &sess.sid, &user, Answer::default()).await
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
    let who = Who {
        ip: ctx.ip.clone(),
        request_id: ctx.request_id.clone(),
    };
    match mfa::manage(&idp, &who, &user, &sess.sid, f.input(), crate::now()).await {
        Ok(answer) => factors_page(&idp, &ctx, &sess.sid, &user, answer).await,
        Err(e) => error::internal(&e, true, ctx.lang, &ctx.request_id),
    }
}
