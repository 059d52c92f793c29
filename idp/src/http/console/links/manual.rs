//! Linking by hand: search people (name without diacritics, e-mail) and an
//! app's accounts (username, name), link an account to an official e-mail,
//! unlink one, and the app's links as CSV (export with a byte-order mark so
//! spreadsheets read Vietnamese; import all rows or none).

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Query};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use portal_ui::console_links::{AccountHit, ManualPage, PersonHit};
use serde::Deserialize;

use super::{actor, app_opts, may_change, refused, scope};
use crate::admin::links::{self, LinkError};
use crate::http::console::{Console, CsrfForm, Posted, enc, redirect};
use crate::http::csrf;
use crate::ids::Email;

/// The request body an import may have: the file's cap and the form around it.
pub const IMPORT_BODY_LIMIT: usize = links::MAX_CSV_BYTES + 64 * 1024;

#[derive(Debug, Default, Deserialize)]
pub struct ManualQuery {
    pub app: Option<String>,
    pub q: Option<String>,
    pub done: Option<String>,
    pub linked: Option<i64>,
    pub unchanged: Option<i64>,
    pub skipped: Option<i64>,
}

pub async fn manual_get(c: Console, Query(q): Query<ManualQuery>) -> Response {
    if !c.powers.may_see_links() {
        return c.not_allowed();
    }
    let mut apps = match app_opts(&c, "").await {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    let app = q
        .app
        .clone()
        .filter(|a| apps.iter().any(|o| &o.value == a))
        .or_else(|| apps.first().map(|a| a.value.clone()))
        .unwrap_or_default();
    for o in &mut apps {
        o.selected = o.value == app;
    }
    let text = q.q.clone().unwrap_or_default();
    let (mut people, mut accounts, mut searched) = (Vec::new(), Vec::new(), false);
    if !text.trim().is_empty() {
        let app_opt = (!app.is_empty()).then_some(app.as_str());
        match links::search(&c.idp().store, &text, app_opt, scope(&c)).await {
            Ok(found) => {
                searched = true;
                people = found
                    .people
                    .into_iter()
                    .map(|p| PersonHit {
                        name: p.name,
                        email: p.email.to_string(),
                        unit: p.unit.unwrap_or_default(),
                    })
                    .collect();
                accounts = found
                    .accounts
                    .into_iter()
                    .map(|a| AccountHit {
                        active: a.active.0,
                        username: a.username,
                        name: a.display_name,
                        email: a.email.unwrap_or_default(),
                    })
                    .collect();
            }
            Err(e) => return refused(&c, &e, "/admin/links/manual"),
        }
    }
    let t = c.ctx.lang.texts();
    let notice = match q.done.as_deref() {
        Some("linked") => Some(t.console_links.done_linked),
        Some("unlinked") => Some(t.console_links.done_unlinked),
        _ => None,
    };
    let outcome = match (q.linked, q.unchanged, q.skipped) {
        (Some(l), Some(u), Some(s)) => Some((t.console_links.imported)(l, u, s)),
        _ => None,
    };
    c.page("/admin/links/manual", notice, None, |l| ManualPage {
        l,
        tab: "manual",
        apps,
        app,
        q: text,
        searched,
        may_change: may_change(&c),
        people,
        accounts,
        import_hint: (t.console_links.import_hint)(links::MAX_CSV_BYTES / 1024 / 1024),
        outcome,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct LinkForm {
    pub csrf: Option<String>,
    pub app: String,
    pub username: String,
    /// Only to link.
    pub email: Option<String>,
}

impl CsrfForm for LinkForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

fn manual_href(app: &str) -> String {
    format!("/admin/links/manual?app={}", enc(app))
}

pub async fn add_post(p: Posted<LinkForm>) -> Response {
    let (c, f) = (p.c, p.form);
    if !may_change(&c) {
        return c.not_allowed();
    }
    let back = manual_href(&f.app);
    let raw = f.email.as_deref().unwrap_or("").trim();
    let Ok(email) = Email::parse(raw) else {
        return refused(
            &c,
            &LinkError::NoPerson(raw.chars().take(256).collect()),
            &back,
        );
    };
    let username = f.username.trim();
    match links::add(
        &c.idp().store,
        &actor(&c),
        &email,
        &f.app,
        username,
        scope(&c),
        crate::now(),
    )
    .await
    {
        Ok(_) => redirect(&format!("{back}&done=linked")),
        Err(e) => refused(&c, &e, &back),
    }
}

pub async fn remove_post(p: Posted<LinkForm>) -> Response {
    let (c, f) = (p.c, p.form);
    if !may_change(&c) {
        return c.not_allowed();
    }
    let back = manual_href(&f.app);
    match links::remove(
        &c.idp().store,
        &actor(&c),
        &f.app,
        f.username.trim(),
        scope(&c),
        crate::now(),
    )
    .await
    {
        Ok(_) => redirect(&format!("{back}&done=unlinked")),
        Err(e) => refused(&c, &e, &back),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct AppQuery {
    pub app: Option<String>,
}

/// `text/csv` (the export starts with a byte-order mark), as an attachment.
pub fn csv_response(app: &str, body: String) -> Response {
    let name: String = app
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"links-{name}.csv\"")) {
        h.insert(CONTENT_DISPOSITION, v);
    }
    resp
}

pub async fn export_csv_get(c: Console, Query(q): Query<AppQuery>) -> Response {
    if !c.powers.may_see_links() {
        return c.not_allowed();
    }
    let app = q.app.unwrap_or_default();
    match links::export_csv(&c.idp().store, &app, scope(&c)).await {
        Ok(body) => csv_response(&app, body),
        Err(e) => refused(&c, &e, "/admin/links/manual"),
    }
}

/// The upload's CSRF token and file, or why it could not be read.
async fn read_upload(mut m: Multipart) -> Result<(Option<String>, Vec<u8>), String> {
    let (mut token, mut file) = (None, Vec::new());
    loop {
        let field = match m.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => return Ok((token, file)),
            Err(e) => return Err(e.body_text()),
        };
        let name = field.name().map(str::to_owned);
        let data = field.bytes().await.map_err(|e| e.body_text())?;
        match name.as_deref() {
            Some("csrf") => token = String::from_utf8(data.to_vec()).ok(),
            Some("file") => file = data.to_vec(),
            _ => {}
        }
    }
}

pub async fn import_post(
    c: Console,
    Query(q): Query<AppQuery>,
    m: Result<Multipart, MultipartRejection>,
) -> Response {
    let t = c.ctx.lang.texts();
    let app = q.app.unwrap_or_default();
    let back = manual_href(&app);
    let upload = match m {
        Ok(m) => read_upload(m).await,
        Err(e) => Err(e.body_text()),
    };
    let (token, bytes) = match upload {
        Ok(u) => u,
        Err(why) => {
            tracing::info!(request_id = %c.ctx.request_id, why, "link CSV upload unreadable");
            let max = links::MAX_CSV_BYTES / 1024 / 1024;
            return refused(
                &c,
                &LinkError::BadInput((t.console_links.import_hint)(max)),
                &back,
            );
        }
    };
    if !csrf::check(c.idp(), &c.ctx, token.as_deref()) {
        tracing::info!(request_id = %c.ctx.request_id, user = %c.user.id, "link CSV import refused: CSRF token missing or wrong");
        return c.message(StatusCode::FORBIDDEN, t.console.form_expired);
    }
    if !may_change(&c) {
        return c.not_allowed();
    }
    match links::import_links_csv(
        &c.idp().store,
        &actor(&c),
        &app,
        &bytes,
        scope(&c),
        crate::now(),
    )
    .await
    {
        Ok(r) => redirect(&format!(
            "{back}&linked={}&unchanged={}&skipped={}",
            r.linked, r.unchanged, r.skipped
        )),
        Err(e) => refused(&c, &e, &back),
    }
}
