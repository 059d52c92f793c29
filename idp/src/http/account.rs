//! The account page (`/account`): profile, signature image and its default
//! place, sessions and recent activity. Every change is a CSRF-checked POST
//! that ends in a redirect (or the page again with a message saying what is
//! wrong), and is audited.

use std::sync::Arc;

use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Multipart, Query, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use portal_ui::pages::{AccountPage, ActivityView, Choice, Chrome, SessionView};
use portal_ui::{Lang, Texts};
use serde::Deserialize;

use super::ctx::Ctx;
use super::oidc::see_other;
use super::portal::{asset, signed_in};
use super::{csrf, error};
use crate::Idp;
use crate::auth::session::SsoSession;
use crate::images::{self, ImageError};
use crate::oidc::logout;
use crate::portal::account::{self, PAGES, PLACES, Problem, ProfileForm};
use crate::refusal::Refusal;
use crate::store::{AuditEvent, Signature, User};

type St = State<Arc<Idp>>;
type Pick = fn(&Texts) -> &'static str;

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

/// The signed-in person, or the response to send instead.
pub(super) async fn require(idp: &Idp, ctx: &Ctx) -> Result<(SsoSession, User), Response> {
    match signed_in(idp, ctx).await {
        Ok(Some(pair)) => Ok(pair),
        Ok(None) => Err(see_other("/")),
        Err(e) => Err(error::internal(&e, true, ctx.lang, &ctx.request_id)),
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
        "top-left" => t.place_top_left,
        "top-center" => t.place_top_center,
        "top-right" => t.place_top_right,
        "bottom-left" => t.place_bottom_left,
        "bottom-center" => t.place_bottom_center,
        _ => t.place_bottom_right,
    }
}

/// Renders the page for `user`, with a notice or an error (then `status`).
async fn page(
    idp: &Idp,
    ctx: &Ctx,
    sess: &SsoSession,
    user: &User,
    notice: Option<Pick>,
    problem: Option<(StatusCode, Pick)>,
) -> Response {
    let t = ctx.lang.texts();
    let now = crate::now();
    let loaded = async {
        let sessions = account::live_sessions(idp, &user.id, now).await?;
        let activity = account::activity(idp, user).await?;
        let signature = idp.store.signature(&user.id).await?;
        let mfa_on = !idp.store.factors(&user.id).await?.is_empty();
        Ok::<_, account::AccountError>((sessions, activity, signature, mfa_on))
    };
    let (sessions, activity, signature, mfa_on) = match loaded.await {
        Ok(x) => x,
        Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
    };
    let c = match csrf::issue(idp, ctx) {
        Ok(c) => c,
        Err(e) => return error::internal(&e, false, ctx.lang, &ctx.request_id),
    };
    let view = AccountPage {
        chrome: Chrome::new(ctx.lang, "/account"),
        csrf: c.token.clone(),
        email: user.email.clone(),
        name: user.name.clone(),
        unit: user.unit.clone().unwrap_or_default(),
        from_directory: user.source != "local",
        phone: user.phone.clone().unwrap_or_default(),
        personal_email: user.personal_email.clone().unwrap_or_default(),
        pages: choices(&PAGES, &user.signature_page, |p| {
            if p == "first" {
                t.page_first
            } else {
                t.page_last
            }
        }),
        places: choices(&PLACES, &user.signature_place, |p| place_label(t, p)),
        signature: signature.map(|s| s.updated_at.to_string()),
        mfa_on,
        sessions: sessions
            .into_iter()
            .map(|s| SessionView {
                device: account::device(s.row.user_agent.as_deref())
                    .unwrap_or_else(|| t.unknown_device.to_owned()),
                ip: s.row.ip.clone().unwrap_or_default(),
                started: account::vn_time(s.row.created_at),
                last_active: account::vn_time(s.last_seen),
                current: s.row.sid == sess.sid,
            })
            .collect(),
        activity: activity
            .into_iter()
            .map(|e| ActivityView {
                at: account::vn_time(e.at),
                what: match e.kind.as_str() {
                    "auth.login" => t.activity_login,
                    "auth.login_failed" => t.activity_failed,
                    _ => t.activity_logout,
                },
                ip: e.ip.unwrap_or_default(),
                failed: e.kind == "auth.login_failed",
            })
            .collect(),
        notice: notice.map(|pick| pick(t)),
        error: problem.map(|(_, pick)| pick(t)),
    };
    let mut resp = error::render(&view, &ctx.request_id);
    if let Some((status, _)) = problem {
        *resp.status_mut() = status;
    }
    c.attach(resp)
}

pub async fn account_get(State(idp): St, ctx: Ctx, Query(q): Query<AccountQuery>) -> Response {
    let (sess, user) = match require(&idp, &ctx).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    let notice: Option<Pick> = match q.done.as_deref() {
        Some("saved") => Some(|t| t.saved),
        Some("signature") => Some(|t| t.signature_saved),
        Some("deleted") => Some(|t| t.signature_deleted),
        Some("others") => Some(|t| t.others_signed_out),
        _ => None,
    };
    page(&idp, &ctx, &sess, &user, notice, None).await
}

pub(super) async fn audit(idp: &Idp, ctx: &Ctx, kind: &str, user: &User, detail: Option<String>) {
    let mut e = AuditEvent::new(kind, crate::now());
    e.actor = Some(user.id.clone());
    e.subject = Some(user.email.clone());
    e.ip = ctx.ip.clone();
    e.request_id = Some(ctx.request_id.clone());
    e.detail = detail;
    idp.audit(e).await;
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
    let change = match account::check(&f, &user) {
        Ok(c) => c,
        Err(p) => {
            let pick: Pick = match p {
                Problem::Name => |t| t.invalid_name,
                Problem::Phone => |t| t.invalid_phone,
                Problem::PersonalEmail => |t| t.invalid_personal_email,
                Problem::Choice => |t| t.error_bad_request,
            };
            return page(
                &idp,
                &ctx,
                &sess,
                &user,
                None,
                Some((StatusCode::BAD_REQUEST, pick)),
            )
            .await;
        }
    };
    if let Err(e) = idp
        .store
        .update_profile(&user.id, &change, crate::now())
        .await
    {
        return error::internal(&e, true, ctx.lang, &ctx.request_id);
    }
    audit(&idp, &ctx, "account.profile_changed", &user, None).await;
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
    let cleaned = match upload {
        Ok((_, Some(bytes))) if !bytes.is_empty() => {
            // Decoding is CPU work: off the async threads.
            tokio::task::spawn_blocking(move || images::clean_signature(&bytes))
                .await
                .unwrap_or_else(|e| Err(ImageError::Broken(e.to_string())))
        }
        Ok(_) => {
            let pick: Pick = |t| t.signature_missing;
            return page(
                &idp,
                &ctx,
                &sess,
                &user,
                None,
                Some((StatusCode::BAD_REQUEST, pick)),
            )
            .await;
        }
        Err(e) => Err(e),
    };
    let (png, w, h) = match cleaned {
        Ok(x) => x,
        Err(e) => {
            tracing::info!(request_id = %ctx.request_id, error = %e, "signature image refused");
            let (status, pick): (StatusCode, Pick) = match e {
                ImageError::NotAnImage => (StatusCode::UNSUPPORTED_MEDIA_TYPE, |t| {
                    t.signature_not_image
                }),
                ImageError::TooManyBytes => (StatusCode::PAYLOAD_TOO_LARGE, |t| {
                    t.signature_too_many_bytes
                }),
                ImageError::TooLarge(..) => {
                    (StatusCode::UNPROCESSABLE_ENTITY, |t| t.signature_too_large)
                }
                ImageError::TooSmall(..) => {
                    (StatusCode::UNPROCESSABLE_ENTITY, |t| t.signature_too_small)
                }
                ImageError::Broken(_) => (StatusCode::UNPROCESSABLE_ENTITY, |t| t.signature_broken),
            };
            return page(&idp, &ctx, &sess, &user, None, Some((status, pick))).await;
        }
    };
    let sig = Signature {
        image: png,
        width: i64::from(w),
        height: i64::from(h),
        updated_at: crate::now(),
    };
    if let Err(e) = idp.store.set_signature(&user.id, &sig).await {
        return error::internal(&e, true, ctx.lang, &ctx.request_id);
    }
    audit(
        &idp,
        &ctx,
        "account.signature_set",
        &user,
        Some(format!("{w}x{h} png, {} bytes", sig.image.len())),
    )
    .await;
    see_other("/account?done=signature")
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
    match idp.store.delete_signature(&user.id).await {
        Ok(true) => audit(&idp, &ctx, "account.signature_deleted", &user, None).await,
        Ok(false) => {}
        Err(e) => return error::internal(&e, true, ctx.lang, &ctx.request_id),
    }
    see_other("/account?done=deleted")
}

/// The person's own signature image (the preview); nobody else's.
pub async fn signature_get(State(idp): St, ctx: Ctx) -> Response {
    let (_, user) = match require(&idp, &ctx).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    match idp.store.signature(&user.id).await {
        Ok(Some(s)) => {
            let mut resp = asset(s.image, HeaderValue::from_static("image/png"), "0");
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
    match logout::sign_out_others(
        &idp,
        &user.id,
        Some(&sess.sid),
        ctx.ip.clone(),
        crate::now(),
    )
    .await
    {
        Ok(n) => {
            tracing::info!(request_id = %ctx.request_id, sessions = n, "other sessions signed out");
            see_other("/account?done=others")
        }
        Err(e) => error::internal(&e, true, ctx.lang, &ctx.request_id),
    }
}
