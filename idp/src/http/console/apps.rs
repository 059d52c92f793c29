//! `/admin/apps` and `/admin/apps/{id}`: the portal's tiles with their
//! client, visibility and link coverage; a super administrator adds a tile,
//! changes its text, launch URL, client and visibility, replaces its icon
//! (multipart, the token checked before the file is looked at) and sets the
//! claim that carries the legacy username. Auditors read; unit
//! administrators do not see these pages (apps are province-wide settings).
//! Each change is one `admin::apps` (or `admin::links::set_claim`) call.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use portal_ui::Texts;
use portal_ui::console::Opt;
use portal_ui::console_apps::{AppPage, AppRow, AppsPage, ClientRow};
use serde::Deserialize;

use super::people::{DoneQuery, event_rows};
use super::{Console, CsrfForm, Posted, enc};
use crate::admin::apps::{self, AppChange, AppError, ICON_MAX_BYTES, NewApp};
use crate::admin::audit_log::{self, Filter};
use crate::admin::links::{self, Coverage, LinkError};
use crate::admin::{Actor, clients::ClientError};
use crate::http::csrf;
use crate::store::{App, AuditEvent, Client};

/// Lines of a textarea, trimmed, without the empty ones.
pub(super) fn lines(s: Option<&str>) -> Vec<String> {
    s.unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A text field, trimmed; `None` when empty.
pub(super) fn field(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Who sees a tile, in words.
fn visibility(t: &'static Texts, a: &App) -> String {
    let ta = &t.console_apps;
    let mut parts = Vec::new();
    if !a.units.is_empty() {
        parts.push(format!("{}: {}", ta.units_label, a.units.join(", ")));
    }
    if !a.groups.is_empty() {
        parts.push(format!("{}: {}", ta.groups_label, a.groups.join(", ")));
    }
    if parts.is_empty() {
        ta.everyone.to_owned()
    } else {
        parts.join("; ")
    }
}

fn coverage_of(t: &'static Texts, all: &[Coverage], app: &str) -> String {
    all.iter()
        .find(|c| c.app_id == app)
        .map(|c| (t.console_apps.coverage)(c.linked, c.active))
        .unwrap_or_default()
}

fn client_opts(clients: &[Client], selected: Option<&str>) -> Vec<Opt> {
    clients
        .iter()
        .map(|c| Opt {
            value: c.id.to_string(),
            label: format!("{} ({})", c.name, c.id),
            selected: selected == Some(c.id.as_str()),
        })
        .collect()
}

/// The recent events about `subject` (an app or client id).
pub(super) async fn events_of(c: &Console, subject: &str) -> Vec<AuditEvent> {
    let f = Filter {
        subject: Some(subject.to_owned()),
        ..Filter::default()
    };
    match audit_log::list(&c.idp().store, &c.powers, &f, 20).await {
        Ok(p) => p.rows.into_iter().map(|r| r.event).collect(),
        Err(e) => {
            tracing::warn!(request_id = %c.ctx.request_id, error = %e, "events of {subject} not read");
            Vec::new()
        }
    }
}

pub async fn apps_get(c: Console, Query(q): Query<DoneQuery>) -> Response {
    if !c.powers.may_see_apps() {
        return c.not_allowed();
    }
    let store = &c.idp().store;
    let (all, clients) = match (store.list_apps().await, store.list_clients().await) {
        (Ok(a), Ok(cl)) => (a, cl),
        (Err(e), _) | (_, Err(e)) => return c.internal(&e),
    };
    let cover = match links::coverage(store).await {
        Ok(cv) => cv,
        Err(e) => return c.internal(&e),
    };
    let t = c.ctx.lang.texts();
    let notice = (q.done.as_deref() == Some("client")).then_some(t.console_apps.done_saved);
    c.page("/admin/apps", notice, None, |l| AppsPage {
        l,
        may_manage: c.powers.may_manage_apps(),
        apps: all
            .iter()
            .map(|a| AppRow {
                id: a.id.clone(),
                name: a.name.clone(),
                has_icon: a.icon.is_some(),
                client: a.client_id.clone().unwrap_or_default(),
                visibility: visibility(t, a),
                coverage: coverage_of(t, &cover, &a.id),
            })
            .collect(),
        client_opts: client_opts(&clients, None),
        clients: clients
            .into_iter()
            .map(|cl| ClientRow {
                id: cl.id.to_string(),
                name: cl.name,
                auth: cl.auth_method.to_string(),
                redirects: cl.redirect_uris.join(" "),
            })
            .collect(),
    })
}

/// What an app's page says after a change, by the `done` of the redirect.
fn said(t: &'static Texts, done: Option<&str>) -> Option<&'static str> {
    let ta = &t.console_apps;
    match done {
        Some("saved") => Some(ta.done_saved),
        Some("icon") => Some(ta.done_icon),
        Some("claim") => Some(ta.done_claim),
        Some("added") => Some(ta.done_added),
        _ => None,
    }
}

pub async fn app_get(c: Console, Path(id): Path<String>, Query(q): Query<DoneQuery>) -> Response {
    let t = c.ctx.lang.texts();
    show_app(&c, &id, said(t, q.done.as_deref()), None).await
}

/// The app's page, with a notice or the reason a change was refused (400).
async fn show_app(
    c: &Console,
    id: &str,
    notice: Option<&'static str>,
    error: Option<&'static str>,
) -> Response {
    if !c.powers.may_see_apps() {
        return c.not_allowed();
    }
    let store = &c.idp().store;
    let a = match store.app(id).await {
        Ok(Some(a)) => a,
        Ok(None) => return app_not_found(c),
        Err(e) => return c.internal(&e),
    };
    let (clients, cover) = match (store.list_clients().await, links::coverage(store).await) {
        (Ok(cl), Ok(cv)) => (cl, cv),
        (Err(e), _) => return c.internal(&e),
        (_, Err(e)) => return c.internal(&e),
    };
    let events = event_rows(events_of(c, id).await);
    let t = c.ctx.lang.texts();
    let here = format!("/admin/apps/{}", enc(&a.id));
    let mut resp = c.page(&here, notice, error, |l| AppPage {
        l,
        may_manage: c.powers.may_manage_apps(),
        client_opts: client_opts(&clients, a.client_id.as_deref()),
        client: a.client_id.clone().unwrap_or_default(),
        units: a.units.join("\n"),
        groups: a.groups.join("\n"),
        visibility: visibility(t, &a),
        coverage: coverage_of(t, &cover, &a.id),
        claim: a.legacy_claim.clone().unwrap_or_default(),
        has_icon: a.icon.is_some(),
        id: a.id,
        name: a.name,
        description: a.description,
        url: a.launch_url,
        events,
    });
    if error.is_some() {
        *resp.status_mut() = StatusCode::BAD_REQUEST;
    }
    resp
}

fn app_not_found(c: &Console) -> Response {
    c.message(
        StatusCode::NOT_FOUND,
        c.ctx.lang.texts().console_apps.app_not_found,
    )
}

/// Why an app change was refused, for the person; the admin reads the log.
fn app_refusal(t: &'static Texts, e: &AppError) -> Option<&'static str> {
    let ta = &t.console_apps;
    Some(match e {
        AppError::BadId => ta.bad_app_id,
        AppError::BadUrl(m) => uri_refusal(t, m),
        AppError::NoClient(_) => ta.unknown_client,
        AppError::IconTooLarge => ta.icon_too_large,
        AppError::IconNotImage => ta.icon_not_image,
        AppError::BadClaim(_) => ta.bad_claim,
        AppError::Exists(_) => ta.exists,
        AppError::TooLong(..) => ta.too_long,
        AppError::NotFound(_) | AppError::Store(_) => return None,
    })
}

/// Which rule an address broke (`admin::check_redirect_uri`'s message).
pub(super) fn uri_refusal(t: &'static Texts, message: &str) -> &'static str {
    let ta = &t.console_apps;
    if message.contains("use https") {
        ta.uri_not_https
    } else if message.contains("fragment") {
        ta.uri_fragment
    } else {
        ta.uri_invalid
    }
}

/// The address a refusal names (`"URI: why"`), shown beside the reason.
pub(super) fn uri_of(message: &str) -> String {
    message
        .rsplit_once(": ")
        .map_or(message, |(uri, _)| uri)
        .to_owned()
}

/// Maps a refused app change to its page (400) or the failure.
async fn app_after(c: &Console, id: &str, e: AppError) -> Response {
    tracing::info!(request_id = %c.ctx.request_id, app = id, error = %e, "console: app change refused");
    match (app_refusal(c.ctx.lang.texts(), &e), e) {
        (_, AppError::NotFound(_)) => app_not_found(c),
        (Some(say), _) => show_app(c, id, None, Some(say)).await,
        (None, e) => c.internal(&e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct AppForm {
    pub csrf: Option<String>,
    pub app_id: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub url: Option<String>,
    pub client: Option<String>,
    pub units: Option<String>,
    pub groups: Option<String>,
    pub insecure_http: Option<String>,
}

impl CsrfForm for AppForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

pub async fn app_add_post(p: Posted<AppForm>) -> Response {
    let (c, f) = (&p.c, p.form);
    if !c.powers.may_manage_apps() {
        return c.not_allowed();
    }
    let a = NewApp {
        app_id: field(f.app_id.as_deref()).unwrap_or_default(),
        name: field(f.name.as_deref()).unwrap_or_default(),
        url: field(f.url.as_deref()).unwrap_or_default(),
        client: field(f.client.as_deref()),
        insecure_http: f.insecure_http.is_some(),
        ..NewApp::default()
    };
    let actor = Actor::person(&c.user.id);
    match apps::add(&c.idp().store, a, &actor, crate::now()).await {
        Ok(app) => super::redirect(&format!("/admin/apps/{}?done=added", enc(&app.id))),
        Err(e) => {
            tracing::info!(request_id = %c.ctx.request_id, error = %e, "console: app refused");
            match app_refusal(c.ctx.lang.texts(), &e) {
                Some(say) => c.message(StatusCode::BAD_REQUEST, say),
                None => c.internal(&e),
            }
        }
    }
}

pub async fn app_post(Path(id): Path<String>, p: Posted<AppForm>) -> Response {
    let (c, f) = (&p.c, p.form);
    if !c.powers.may_manage_apps() {
        return c.not_allowed();
    }
    let ch = AppChange {
        name: Some(f.name.unwrap_or_default()),
        description: Some(f.description.unwrap_or_default()),
        url: Some(field(f.url.as_deref()).unwrap_or_default()),
        client: Some(field(f.client.as_deref())),
        units: Some(lines(f.units.as_deref())),
        groups: Some(lines(f.groups.as_deref())),
        insecure_http: f.insecure_http.is_some(),
    };
    let actor = Actor::person(&c.user.id);
    match apps::update(&c.idp().store, &id, ch, &actor, crate::now()).await {
        Ok(_) => super::redirect(&format!("/admin/apps/{}?done=saved", enc(&id))),
        Err(e) => app_after(c, &id, e).await,
    }
}

/// The icon form's parts: the token and the file, each bounded. A body cut
/// at the limit or broken is refused whole, never kept in part.
async fn read_icon(mut m: Multipart) -> Result<(Option<String>, Option<Vec<u8>>), Unreadable> {
    let (mut token, mut file) = (None, None);
    let refused = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Unreadable::TooLarge
        } else {
            Unreadable::Broken(e.body_text())
        }
    };
    loop {
        let mut f = match m.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(refused(e)),
        };
        let name = f.name().map(str::to_owned);
        let mut data = Vec::new();
        // Read in chunks so a huge part stops at the cap, not at the body limit.
        loop {
            match f.chunk().await {
                Ok(Some(chunk)) if data.len() + chunk.len() > ICON_MAX_BYTES => {
                    return Err(Unreadable::TooLarge);
                }
                Ok(Some(chunk)) => data.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(e) => return Err(refused(e)),
            }
        }
        match name.as_deref() {
            Some("csrf") => token = String::from_utf8(data).ok(),
            Some("icon") => file = Some(data),
            _ => {}
        }
    }
    Ok((token, file))
}

/// Why an upload could not be read.
#[derive(Debug)]
enum Unreadable {
    TooLarge,
    Broken(String),
}

/// The body an icon upload may have: the icon and the form around it.
pub const ICON_BODY_LIMIT: usize = ICON_MAX_BYTES + 16 * 1024;

pub async fn icon_post(
    c: Console,
    Path(id): Path<String>,
    m: Result<Multipart, MultipartRejection>,
) -> Response {
    if !c.powers.may_manage_apps() {
        return c.not_allowed();
    }
    let t = c.ctx.lang.texts();
    let Ok(m) = m else {
        return c.message(StatusCode::BAD_REQUEST, t.errors.bad_request);
    };
    let upload = read_icon(m).await;
    // The token before any change. An upload too large or broken is refused
    // with its own page first: it changes nothing, whoever sent it.
    let token = upload.as_ref().ok().and_then(|(tok, _)| tok.as_deref());
    if upload.is_ok() && !csrf::check(c.idp(), &c.ctx, token) {
        tracing::info!(request_id = %c.ctx.request_id, user = %c.user.id, "console icon refused: CSRF token missing or wrong");
        return c.message(StatusCode::FORBIDDEN, t.console.form_expired);
    }
    let bytes = match upload {
        Ok((_, Some(b))) if !b.is_empty() => b,
        Ok(_) => return show_app(&c, &id, None, Some(t.console_apps.icon_missing)).await,
        Err(Unreadable::TooLarge) => return app_after(&c, &id, AppError::IconTooLarge).await,
        Err(Unreadable::Broken(why)) => {
            tracing::info!(request_id = %c.ctx.request_id, why, "console: icon upload unreadable");
            return c.message(StatusCode::BAD_REQUEST, t.errors.bad_request);
        }
    };
    let actor = Actor::person(&c.user.id);
    match apps::set_icon(&c.idp().store, &id, &bytes, &actor, crate::now()).await {
        Ok(()) => super::redirect(&format!("/admin/apps/{}?done=icon", enc(&id))),
        Err(e) => app_after(&c, &id, e).await,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ClaimForm {
    pub csrf: Option<String>,
    pub claim: Option<String>,
}

impl CsrfForm for ClaimForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

pub async fn claim_post(Path(id): Path<String>, p: Posted<ClaimForm>) -> Response {
    let (c, f) = (&p.c, p.form);
    if !c.powers.may_manage_apps() {
        return c.not_allowed();
    }
    let claim = field(f.claim.as_deref());
    let actor = Actor::person(&c.user.id);
    let r = links::set_claim(&c.idp().store, &actor, &id, claim.as_deref(), crate::now()).await;
    match r {
        Ok(()) => super::redirect(&format!("/admin/apps/{}?done=claim", enc(&id))),
        Err(LinkError::NoApp(_)) => app_not_found(c),
        Err(LinkError::BadInput(why)) => {
            tracing::info!(request_id = %c.ctx.request_id, app = %id, why, "console: claim refused");
            show_app(
                c,
                &id,
                None,
                Some(c.ctx.lang.texts().console_apps.bad_claim),
            )
            .await
        }
        Err(e) => c.internal(&e),
    }
}

/// Why a client change was refused, for the person; `None`: not theirs to fix.
pub(super) fn client_refusal(t: &'static Texts, e: &ClientError) -> Option<&'static str> {
    let ta = &t.console_apps;
    Some(match e {
        ClientError::BadId => ta.bad_client_id,
        ClientError::BadUri(m) => uri_refusal(t, m),
        ClientError::NoRedirectUri => ta.no_redirect,
        ClientError::AuthMethod | ClientError::BadAlg | ClientError::NoUsableKey => ta.auth_choice,
        ClientError::PublicClientCredentials | ClientError::PublicWithoutPkce => ta.public_rules,
        ClientError::ScopesWithoutClientCredentials
        | ClientError::BadScope(_)
        | ClientError::BadResource(_)
        | ClientError::BadSecret => ta.bad_scope,
        ClientError::Exists(_) => ta.exists,
        ClientError::TooManyUris => ta.too_many_uris,
        ClientError::NoSecret(..) => ta.no_secret,
        ClientError::NotFound(_) | ClientError::Store(_) | ClientError::Crypto(_) => return None,
    })
}
