//! The account page (`/account`): profile, signature image and its default
//! place, sessions and recent activity. Every change is a CSRF-checked POST
//! that ends in a redirect (or the page again with a message saying what is
//! wrong); the rules and the audit are in `portal::account`.

use std::sync::Arc;

use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Multipart, Query, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use portal_ui::pages::{AccountPage, ActivityView, Choice, SessionView};
use portal_ui::{Lang, Texts};
use serde::Deserialize;

use super::ctx::Ctx;
use super::form::{FormPage, require};
use super::oidc::see_other;
use super::portal::asset;
use super::{csrf, error};
use crate::Idp;
use crate::audit::Who;
use crate::auth::session::SsoSession;
use crate::images::{self, ImageError};
use crate::kinds::UserSource;
use crate::portal::account::{self, PAGES, PLACES, Problem, ProfileForm};
use crate::refusal::Refusal;
use crate::store::User;

type St = State<Arc<Idp>>;
type Pick = fn(&Texts) -> &'static str;
/// A problem's text, with the numbers it names (the image limits) given.
type Say = fn(&'static Texts) -> String;

/// The largest upload body: the image limit and room for the form's other parts.
pub const UPLOAD_BODY_LIMIT: usize = images::SIGNATURE_MAX_BYTES + 64 * 1024;

#[derive(Debug, Default, Deserialize)]
pub struct AccountQuery {
    /// What was just done: `saved`, `signature`, `deleted`, `others`.
    pub done: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct CsrfForm {
    pub csrf: Option<String>,
}

fn who(ctx: &Ctx) -> Who {
    Who {
        ip: ctx.ip.clone(),
        request_id: ctx.request_id.clone(),
    }
}

/// The signed-in person behind a button's POST whose CSRF token is right.
async fn require_posted(
    idp: &Idp,
    ctx: &Ctx,
    f: Result<Form<CsrfForm>, FormRejection>,
) -> Result<(SsoSession, User), Response> {
    let pair = require(idp, ctx).await?;
    let token = f.ok().and_then(|Form(f)| f.csrf);
    if !csrf::check(idp, ctx, token.as_deref()) {
        return Err(form_expired(ctx.lang, &ctx.request_id));
    }
    Ok(pair)
}

fn choices(
    values: &[&'static str],
    selected: &str,
    label: impl Fn(&str) -> &'static str,
) -> Vec<Choice> {
    values
        .iter()
        .map(|v| Choice {
            value: v,
            label: label(v),
            selected: *v == selected,
        })
        .collect()
}

fn place_label(t: &'static Texts, place: &str) -> &'static str {
    match place {
        "top-left" => t.account.place_top_left,
        "top-center" => t.account.place_top_center,
        "top-right" => t.account.place_top_right,
        "bottom-left" => t.account.place_bottom_left,
        "bottom-center" => t.account.place_bottom_center,
        _ => t.account.place_bottom_right,
    }
}

/// Renders the page for `user`, with a notice or an error (then `status`).
async fn page(
    idp: &Idp,
    ctx: &Ctx,
    sess: &SsoSession,
    user: &User,
    notice: Option<Pick>,
    problem: Option<(StatusCode, Say)>,
) -> Response {
    let t = ctx.lang.texts();
    let o = match account::overview(idp, user, crate::now()).await {
        Ok(o) => o,
        Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
    };
    let status = problem.map_or(StatusCode::OK, |(s, _)| s);
    FormPage::new(idp, ctx, "/account")
        .status(status)
        .render(|csrf, chrome| AccountPage {
            chrome,
            csrf,
            email: user.email.to_string(),
            name: user.name.clone(),
            unit: user.unit.clone().unwrap_or_default(),
            from_directory: user.source != UserSource::Local,
            phone: user.phone.clone().unwrap_or_default(),
            personal_email: user.personal_email.clone().unwrap_or_default(),
            pages: choices(&PAGES, user.signature_page.as_str(), |p| {
                if p == "first" {
                    t.account.page_first
                } else {
                    t.account.page_last
                }
            }),
            places: choices(&PLACES, user.signature_place.as_str(), |p| {
                place_label(t, p)
            }),
            signature: o.signature_at.map(|at| at.to_string()),
            mfa_on: o.mfa_on,
            sessions: o
                .sessions
                .into_iter()
                .map(|s| SessionView {
                    device: account::device(s.row.user_agent.as_deref())
                        .unwrap_or_else(|| t.account.unknown_device.to_owned()),
                    ip: s.row.ip.clone().unwrap_or_default(),
                    started: account::vn_time(s.row.created_at),
                    last_active: account::vn_time(s.last_seen),
                    current: s.row.sid == sess.sid,
                })
                .collect(),
            activity: o
                .activity
                .into_iter()
                .map(|e| ActivityView {
                    at: account::vn_time(e.at),
                    what: match e.kind.as_str() {
                        "auth.login" => t.account.activity_login,
                        "auth.login_failed" => t.account.activity_failed,
                        _ => t.account.activity_logout,
                    },
                    ip: e.ip.unwrap_or_default(),
                    failed: e.kind == "auth.login_failed",
                })
                .collect(),
            notice: notice.map(|pick| pick(t)),
            error: problem.map(|(_, say)| say(t)),
            image_limits: images::SIGNATURE_LIMITS,
        })
}

pub async fn account_get(State(idp): St, ctx: Ctx, Query(q): Query<AccountQuery>) -> Response {
    let (sess, user) = match require(&idp, &ctx).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    let notice: Option<Pick> = match q.done.as_deref() {
        Some("saved") => Some(|t| t.account.saved),
        Some("signature") => Some(|t| t.account.signature_saved),
        Some("deleted") => Some(|t| t.account.signature_deleted),
        Some("others") => Some(|t| t.account.others_signed_out),
        _ => None,
    };
    page(&idp, &ctx, &sess, &user, notice, None).await
}

fn form_expired(lang: Lang, request_id: &str) -> Response {
    error::refused(Refusal::FormExpired, lang, "/account", request_id)
}

pub async fn account_post(
    State(idp): St,
    ctx: Ctx,
    f: Result<Form<ProfileForm>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = f else {
        return error::refused(Refusal::BadRequest, ctx.lang, "/account", &ctx.request_id);
    };
    let (sess, user) = match require(&idp, &ctx).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    if !csrf::check(&idp, &ctx, f.csrf.as_deref()) {
        return form_expired(ctx.lang, &ctx.request_id);
    }
    match account::change_profile(&idp, &who(&ctx), &user, &f, crate::now()).await {
        Ok(Ok(())) => {}
        Ok(Err(p)) => {
            let say: Say = match p {
                Problem::Name => |t| t.account.invalid_name.into(),
                Problem::Phone => |t| t.account.invalid_phone.into(),
                Problem::PersonalEmail => |t| t.common.invalid_personal_email.into(),
                Problem::Choice => |t| t.errors.bad_request.into(),
            };
            let problem = Some((StatusCode::BAD_REQUEST, say));
            return page(&idp, &ctx, &sess, &user, None, problem).await;
        }
        Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
    }
    see_other("/account?done=saved")
}

/// The upload's parts: the CSRF token and the file.
async fn read_upload(
    mut m: Multipart,
) -> Result<(Option<String>, Option<bytes::Bytes>), ImageError> {
    let mut token = None;
    let mut file = None;
    loop {
        let field = match m.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(ImageError::TooManyBytes);
            }
            Err(e) => return Err(ImageError::Broken(e.body_text())),
        };
        let name = field.name().map(str::to_owned);
        let data = match field.bytes().await {
            Ok(d) => d,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(ImageError::TooManyBytes);
            }
            Err(e) => return Err(ImageError::Broken(e.body_text())),
        };
        match name.as_deref() {
            Some("csrf") => token = String::from_utf8(data.to_vec()).ok(),
            Some("signature") => file = Some(data),
            _ => {}
        }
    }
    Ok((token, file))
}

pub async fn signature_post(
    State(idp): St,
    ctx: Ctx,
    m: Result<Multipart, MultipartRejection>,
) -> Response {
    let (sess, user) = match require(&idp, &ctx).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    let Ok(m) = m else {
        return error::refused(Refusal::BadRequest, ctx.lang, "/account", &ctx.request_id);
    };
    let upload = read_upload(m).await;
    // The token first: a cross-site post learns nothing about our checks.
    if let Ok((token, _)) = &upload
        && !csrf::check(&idp, &ctx, token.as_deref())
    {
        return form_expired(ctx.lang, &ctx.request_id);
    }
    let bytes = match upload {
        Ok((_, Some(bytes))) if !bytes.is_empty() => bytes,
        Ok(_) => {
            let say: Say = |t| t.account.signature_missing.into();
            let problem = Some((StatusCode::BAD_REQUEST, say));
            return page(&idp, &ctx, &sess, &user, None, problem).await;
        }
        Err(e) => return image_refused(&idp, &ctx, &sess, &user, e).await,
    };
    match account::set_signature(&idp, &who(&ctx), &user, bytes, crate::now()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return image_refused(&idp, &ctx, &sess, &user, e).await,
        Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
    }
    see_other("/account?done=signature")
}

/// The page again, saying why the image was refused.
async fn image_refused(
    idp: &Idp,
    ctx: &Ctx,
    sess: &SsoSession,
    user: &User,
    e: ImageError,
) -> Response {
    tracing::info!(request_id = %ctx.request_id, error = %e, "signature image refused");
    // The limits the texts name are the ones images:: enforces.
    let (status, say): (StatusCode, Say) = match e {
        ImageError::NotAnImage => (StatusCode::UNSUPPORTED_MEDIA_TYPE, |t| {
            t.account.signature_not_image.into()
        }),
        ImageError::TooManyBytes => (StatusCode::PAYLOAD_TOO_LARGE, |t| {
            (t.account.signature_too_many_bytes)(&images::SIGNATURE_LIMITS)
        }),
        ImageError::TooLarge(..) => (StatusCode::UNPROCESSABLE_ENTITY, |t| {
            (t.account.signature_too_large)(&images::SIGNATURE_LIMITS)
        }),
        ImageError::TooSmall(..) => (StatusCode::UNPROCESSABLE_ENTITY, |t| {
            (t.account.signature_too_small)(&images::SIGNATURE_LIMITS)
        }),
        ImageError::Broken(_) => (StatusCode::UNPROCESSABLE_ENTITY, |t| {
            t.account.signature_broken.into()
        }),
    };
    page(idp, ctx, sess, user, None, Some((status, say))).await
}

pub async fn signature_delete_post(
    State(idp): St,
    ctx: Ctx,
    f: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    let (_, user) = match require_posted(&idp, &ctx, f).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    if let Err(e) = account::delete_signature(&idp, &who(&ctx), &user, crate::now()).await {
        return error::internal(&e, true, ctx.lang, &ctx.request_id);
    }
    see_other("/account?done=deleted")
}

/// The person's own signature image (the preview); nobody else's.
pub async fn signature_get(State(idp): St, ctx: Ctx) -> Response {
    let (_, user) = match require(&idp, &ctx).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    match account::signature_png(&idp, &user).await {
        Ok(Some(png)) => {
            let mut resp = asset(png, HeaderValue::from_static("image/png"), "0");
            resp.headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
            resp
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => error::internal(&e, true, ctx.lang, &ctx.request_id),
    }
}

pub async fn sign_out_others_post(
    State(idp): St,
    ctx: Ctx,
    f: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    let (sess, user) = match require_posted(&idp, &ctx, f).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    match account::sign_out_others(&idp, &who(&ctx), &user, &sess.sid, crate::now()).await {
        Ok(n) => {
            tracing::info!(request_id = %ctx.request_id, sessions = n, "other sessions signed out");
            see_other("/account?done=others")
        }
        Err(e) => error::internal(&e, true, ctx.lang, &ctx.request_id),
    }
}
