//! `/links/missing/{app}`: the page a signed-in person is sent to instead of
//! back to an app that needs their linked legacy account when they have
//! none, and its "request linking" button (a CSRF-checked POST, counted per
//! address with the other pages; asking twice finds the pending request).
//! The rules are `admin::links` (`request_state`, `request`).

use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use portal_ui::pages::LinkMissingPage;
use serde::Deserialize;

use super::csrf;
use super::ctx::Ctx;
use super::error;
use super::form::{FormPage, require};
use crate::Idp;
use crate::admin::links::{self, LinkError, RequestOutcome, RequestStatus};
use crate::refusal::Refusal;

type St = State<Arc<Idp>>;

#[derive(Debug, Default, Deserialize)]
pub struct RequestForm {
    pub csrf: Option<String>,
    pub note: Option<String>,
}

fn page(
    idp: &Idp,
    ctx: &Ctx,
    app_id: &str,
    app_name: String,
    stage: &'static str,
    problem: Option<(StatusCode, String)>,
) -> Response {
    let here = format!("/links/missing/{app_id}");
    FormPage::new(idp, ctx, &here)
        .status(problem.as_ref().map_or(StatusCode::OK, |(s, _)| *s))
        .render(|csrf, chrome| LinkMissingPage {
            chrome,
            csrf,
            app_id: app_id.to_owned(),
            app_name,
            stage,
            error: problem.map(|(_, m)| m),
        })
}

fn failed(e: &LinkError, ctx: &Ctx) -> Response {
    match e {
        LinkError::NoApp(_) => {
            error::refused(Refusal::AppNotAllowed, ctx.lang, "/", &ctx.request_id)
        }
        LinkError::BadInput(_) => {
            error::refused(Refusal::BadRequest, ctx.lang, "/", &ctx.request_id)
        }
        e => error::internal(e, true, ctx.lang, &ctx.request_id),
    }
}

pub async fn missing_get(State(idp): St, ctx: Ctx, Path(app_id): Path<String>) -> Response {
    let (_, user) = match require(&idp, &ctx).await {
        Ok(pair) => pair,
        Err(resp) => return resp,
    };
    match links::request_state(&idp.store, &user.id, &app_id).await {
        Ok(s) => {
            let stage = match s.status {
                RequestStatus::NotLinked => "missing",
                RequestStatus::Pending => "pending",
                RequestStatus::Linked(_) => "linked",
            };
            page(&idp, &ctx, &app_id, s.app_name, stage, None)
        }
        Err(e) => failed(&e, &ctx),
    }
}

pub async fn missing_post(
    State(idp): St,
    ctx: Ctx,
    Path(app_id): Path<String>,
    f: Result<Form<RequestForm>, FormRejection>,
) -> Response {
    let (_, user) = match require(&idp, &ctx).await {
        Ok(pair) => pair,
        Err(resp) => return resp,
    };
    let Ok(Form(f)) = f else {
        return error::refused(Refusal::BadRequest, ctx.lang, "/", &ctx.request_id);
    };
    let state = match links::request_state(&idp.store, &user.id, &app_id).await {
        Ok(s) => s,
        Err(e) => return failed(&e, &ctx),
    };
    if !csrf::check(&idp, &ctx, f.csrf.as_deref()) {
        let expired = ctx.lang.texts().errors.form_expired.to_owned();
        return page(
            &idp,
            &ctx,
            &app_id,
            state.app_name,
            "missing",
            Some((StatusCode::OK, expired)),
        );
    }
    let note = f.note.unwrap_or_default();
    let stage = match links::request(&idp.store, &user.id, &app_id, &note, crate::now()).await {
        Ok(RequestOutcome::Created(id)) => {
            tracing::info!(request_id = %ctx.request_id, link_request = id, app = %app_id, user = %user.id, "link requested");
            "requested"
        }
        Ok(RequestOutcome::AlreadyPending(_)) => "pending",
        Ok(RequestOutcome::AlreadyLinked(_)) => "linked",
        Err(e) => return failed(&e, &ctx),
    };
    page(&idp, &ctx, &app_id, state.app_name, stage, None)
}
