//! People's link requests: the pending list, and deciding one by linking an
//! account chosen among the app's unlinked ones or refusing with a reason.
//! The domain step queues the mail to the person; the outbox is woken here.

use axum::extract::{Path, Query};
use axum::response::Response;
use portal_ui::console::Opt;
use portal_ui::console_links::{DecidePage, RequestRow, RequestsPage};
use serde::Deserialize;

use super::{actor, may_change, refused, scope};
use crate::admin::links::{self, RequestDecision};
use crate::http::console::{Console, CsrfForm, Posted, redirect};
use crate::portal::account::vn_time;

/// Requests listed at once.
const LIST: i64 = 200;

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    pub done: Option<String>,
}

pub async fn requests_get(c: Console, Query(q): Query<DoneQuery>) -> Response {
    if !c.powers.may_see_links() {
        return c.not_allowed();
    }
    let store = &c.idp().store;
    let list = match links::pending_requests(store, scope(&c), 0, LIST).await {
        Ok(l) => l,
        Err(e) => return c.internal(&e),
    };
    let mut rows = Vec::new();
    for r in list {
        let person = match store.user_by_id(&r.user_id).await {
            Ok(Some(u)) => format!("{} <{}>", u.name, u.email),
            Ok(None) => r.user_id.to_string(),
            Err(e) => return c.internal(&e),
        };
        rows.push(RequestRow {
            id: r.id,
            person,
            app: r.app_id,
            note: r.note,
            at: vn_time(r.created_at),
        });
    }
    let t = c.ctx.lang.texts();
    let notice = (q.done.as_deref() == Some("decided")).then_some(t.console_links.done_decided);
    c.page("/admin/links/requests", notice, None, |l| RequestsPage {
        l,
        tab: "requests",
        rows,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct DecideQuery {
    pub q: Option<String>,
}

pub async fn decide_get(c: Console, Path(id): Path<i64>, Query(q): Query<DecideQuery>) -> Response {
    if !c.powers.may_see_links() {
        return c.not_allowed();
    }
    let store = &c.idp().store;
    let (req, person) = match links::request_for(store, id, scope(&c)).await {
        Ok(x) => x,
        Err(e) => return refused(&c, &e, "/admin/links/requests"),
    };
    let text = q.q.unwrap_or_default();
    let accounts = match links::unlinked_accounts(store, &req.app_id, &text).await {
        Ok(a) => a,
        Err(e) => return refused(&c, &e, "/admin/links/requests"),
    };
    let accounts = accounts
        .into_iter()
        .map(|a| Opt {
            label: format!(
                "{} · {} · {}",
                a.username,
                a.display_name,
                a.email.as_deref().unwrap_or("")
            ),
            value: a.username,
            selected: false,
        })
        .collect();
    c.page("/admin/links/requests", None, None, |l| DecidePage {
        l,
        tab: "requests",
        id,
        person: format!("{} <{}>", person.name, person.email),
        app: req.app_id,
        note: req.note,
        q: text,
        accounts,
        may_change: may_change(&c),
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct DecideForm {
    pub csrf: Option<String>,
    pub username: Option<String>,
    pub reason: Option<String>,
}

impl CsrfForm for DecideForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

async fn decide(c: Console, id: i64, d: RequestDecision) -> Response {
    if !may_change(&c) {
        return c.not_allowed();
    }
    let back = format!("/admin/links/requests/{id}");
    let r = links::decide_request(
        &c.idp().store,
        &actor(&c),
        id,
        d,
        scope(&c),
        // Told by mail only when there is a mail server (`mailed` says so).
        c.idp().mailer.is_some(),
        crate::now(),
    )
    .await;
    match r {
        Ok(_) => {
            crate::outbox::wake(c.idp());
            redirect("/admin/links/requests?done=decided")
        }
        Err(e) => refused(&c, &e, &back),
    }
}

pub async fn decide_link_post(Path(id): Path<i64>, p: Posted<DecideForm>) -> Response {
    let username = p.form.username.clone().unwrap_or_default();
    decide(p.c, id, RequestDecision::Link { username }).await
}

pub async fn decide_reject_post(Path(id): Path<i64>, p: Posted<DecideForm>) -> Response {
    let reason = p.form.reason.clone().unwrap_or_default();
    decide(p.c, id, RequestDecision::Reject { reason }).await
}
