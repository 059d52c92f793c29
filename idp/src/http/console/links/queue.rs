//! The review queue (keyset pages, filters by app, reason and exact only),
//! accepting or rejecting one suggestion, accepting all exact matches of an
//! app after a confirmation, and the conflicts with a way to settle each.

use axum::extract::Query;
use axum::response::Response;
use portal_ui::console::Opt;
use portal_ui::console_links::{
    Choice, ConfirmPage, ConflictItem, ConflictsPage, QueueItem, QueuePage,
};
use serde::Deserialize;

use super::{actor, app_opts, back_to, may_change, refused, scope};
use crate::admin::links::{self, Conflict};
use crate::http::console::{Console, CsrfForm, Posted, enc, redirect};
use crate::ids::UserId;
use crate::kinds::LinkMethod;
use crate::store::{QueueFilter, QueueKey};

/// Rows of a queue page.
pub const PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    pub app: Option<String>,
    pub reason: Option<String>,
    pub exact: Option<String>,
    pub after_app: Option<String>,
    pub after_username: Option<String>,
    pub after_user: Option<String>,
    /// A bulk accept's counts, shown once.
    pub linked: Option<i64>,
    pub conflicts: Option<i64>,
    pub done: Option<String>,
}

fn nonempty(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.chars().take(links::MAX_FIELD_CHARS).collect())
}

pub fn reason_label(t: &'static portal_ui::Texts, r: LinkMethod) -> &'static str {
    let t = &t.console_links;
    match r {
        LinkMethod::Email => t.reason_email,
        LinkMethod::EmailVariant => t.reason_email_variant,
        LinkMethod::Phone => t.reason_phone,
        LinkMethod::Name => t.reason_name,
        _ => t.reason_other,
    }
}

fn filter_href(app: &str, reason: &str, exact: bool) -> String {
    format!(
        "/admin/links/queue?app={}&reason={}{}",
        enc(app),
        enc(reason),
        if exact { "&exact=1" } else { "" }
    )
}

pub async fn queue_get(c: Console, Query(q): Query<QueueQuery>) -> Response {
    if !c.powers.may_see_links() {
        return c.not_allowed();
    }
    let t = c.ctx.lang.texts();
    let app = nonempty(&q.app).unwrap_or_default();
    let reason: Option<LinkMethod> = nonempty(&q.reason).and_then(|r| r.parse().ok());
    let exact_only = q.exact.as_deref() == Some("1");
    let filter = QueueFilter {
        app: (!app.is_empty()).then(|| app.clone()),
        reason,
        exact_only,
        unit: scope(&c).map(str::to_owned),
    };
    let after = match (
        nonempty(&q.after_app),
        nonempty(&q.after_username),
        nonempty(&q.after_user),
    ) {
        (Some(app_id), Some(username), Some(user)) => Some(QueueKey {
            app_id,
            username,
            user_id: UserId::from(user.as_str()),
        }),
        _ => None,
    };
    let rows = match links::queue(&c.idp().store, &filter, after.as_ref(), PAGE).await {
        Ok(r) => r,
        Err(e) => return c.internal(&e),
    };
    let apps = match app_opts(&c, &app).await {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    let reason_str = reason.map(LinkMethod::as_str).unwrap_or("");
    let base = filter_href(&app, reason_str, exact_only);
    let next = (rows.len() as i64 == PAGE)
        .then(|| rows.last())
        .flatten()
        .map(|r| {
            format!(
                "{base}&after_app={}&after_username={}&after_user={}",
                enc(&r.app_id),
                enc(&r.username),
                enc(r.user_id.as_str())
            )
        });
    let here = match &after {
        Some(k) => format!(
            "{base}&after_app={}&after_username={}&after_user={}",
            enc(&k.app_id),
            enc(&k.username),
            enc(k.user_id.as_str())
        ),
        None => base.clone(),
    };
    let reasons = [
        LinkMethod::Email,
        LinkMethod::EmailVariant,
        LinkMethod::Phone,
        LinkMethod::Name,
    ]
    .into_iter()
    .map(|r| Opt {
        value: r.as_str().into(),
        label: reason_label(t, r).into(),
        selected: Some(r) == reason,
    })
    .collect();
    let rows = rows
        .into_iter()
        .map(|r| QueueItem {
            reason: reason_label(t, r.reason),
            confidence: (t.console_links.confidence)(r.confidence),
            ambiguous: r.ambiguous.0,
            exact: r.exact.0,
            app_id: r.app_id,
            username: r.username,
            user_id: r.user_id.to_string(),
            account_name: r.account_name,
            account_email: r.account_email.unwrap_or_default(),
            account_phone: r.account_phone.unwrap_or_default(),
            account_unit: r.account_unit.unwrap_or_default(),
            person_name: r.person_name,
            person_email: r.person_email.to_string(),
            person_phone: r.person_phone.unwrap_or_default(),
            person_unit: r.person_unit.unwrap_or_default(),
        })
        .collect();
    let outcome = match (q.linked, q.conflicts) {
        (Some(l), Some(n)) => Some((t.console_links.bulk_done)(l, n)),
        _ => None,
    };
    let notice = match q.done.as_deref() {
        Some("accepted") => Some(t.console_links.done_accepted),
        Some("rejected") => Some(t.console_links.done_rejected),
        Some("unlinked") => Some(t.console_links.done_unlinked),
        _ => None,
    };
    c.page("/admin/links/queue", notice, None, |l| QueuePage {
        l,
        tab: "queue",
        apps,
        reasons,
        exact_only,
        may_change: may_change(&c),
        rows,
        first: after.is_some().then(|| base.clone()),
        here,
        next,
        app,
        outcome,
    })
}

/// One suggestion to accept or reject, and the page to come back to.
#[derive(Debug, Default, Deserialize)]
pub struct PairForm {
    pub csrf: Option<String>,
    pub app: String,
    pub username: String,
    pub user: String,
    pub back: Option<String>,
}

impl CsrfForm for PairForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

fn with_done(back: &str, done: &str) -> String {
    let sep = if back.contains('?') { '&' } else { '?' };
    format!("{back}{sep}done={done}")
}

pub async fn accept_post(p: Posted<PairForm>) -> Response {
    let (c, f) = (p.c, p.form);
    if !may_change(&c) {
        return c.not_allowed();
    }
    let back = back_to(&c, f.back.as_deref(), "/admin/links/queue");
    let user = UserId::from(f.user.as_str());
    let r = links::accept(
        &c.idp().store,
        &actor(&c),
        &f.app,
        &f.username,
        &user,
        scope(&c),
        crate::now(),
    )
    .await;
    match r {
        Ok(_) => redirect(&with_done(&back, "accepted")),
        Err(e) => refused(&c, &e, &back),
    }
}

pub async fn reject_post(p: Posted<PairForm>) -> Response {
    let (c, f) = (p.c, p.form);
    if !may_change(&c) {
        return c.not_allowed();
    }
    let back = back_to(&c, f.back.as_deref(), "/admin/links/queue");
    let user = UserId::from(f.user.as_str());
    let r = links::reject(
        &c.idp().store,
        &actor(&c),
        &f.app,
        &f.username,
        &user,
        scope(&c),
        crate::now(),
    )
    .await;
    match r {
        Ok(()) => redirect(&with_done(&back, "rejected")),
        Err(e) => refused(&c, &e, &back),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct AppQuery {
    pub app: Option<String>,
}

/// The confirmation before accepting all exact matches of an app.
pub async fn accept_exact_get(c: Console, Query(q): Query<AppQuery>) -> Response {
    if !may_change(&c) {
        return c.not_allowed();
    }
    let Some(app) = nonempty(&q.app) else {
        return redirect("/admin/links/queue");
    };
    let t = c.ctx.lang.texts();
    c.page("/admin/links/queue", None, None, |l| ConfirmPage {
        l,
        tab: "queue",
        lead: (t.console_links.confirm_lead)(&app),
        app,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct AppForm {
    pub csrf: Option<String>,
    pub app: String,
}

impl CsrfForm for AppForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

pub async fn accept_exact_post(p: Posted<AppForm>) -> Response {
    let (c, f) = (p.c, p.form);
    if !may_change(&c) {
        return c.not_allowed();
    }
    let back = format!("/admin/links/queue?app={}", enc(&f.app));
    match links::accept_all_exact(&c.idp().store, &actor(&c), &f.app, scope(&c), crate::now()).await
    {
        Ok(r) => redirect(&format!(
            "{back}&linked={}&conflicts={}",
            r.linked_total(),
            r.conflicts
        )),
        Err(e) => refused(&c, &e, &back),
    }
}

pub async fn conflicts_get(c: Console, Query(q): Query<AppQuery>) -> Response {
    if !c.powers.may_see_links() {
        return c.not_allowed();
    }
    let mut apps = match app_opts(&c, "").await {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    let app = nonempty(&q.app)
        .or_else(|| apps.first().map(|a| a.value.clone()))
        .unwrap_or_default();
    for o in &mut apps {
        o.selected = o.value == app;
    }
    let found = if app.is_empty() {
        Vec::new()
    } else {
        match links::conflicts(&c.idp().store, &app, scope(&c)).await {
            Ok(f) => f,
            Err(e) => return refused(&c, &e, "/admin/links"),
        }
    };
    let t = c.ctx.lang.texts();
    // People by id, for their names and e-mails.
    let mut names = std::collections::HashMap::new();
    for conflict in &found {
        for id in conflict.people() {
            if names.contains_key(id) {
                continue;
            }
            match c.idp().store.user_by_id(id).await {
                Ok(Some(u)) => {
                    names.insert(id.clone(), format!("{} <{}>", u.name, u.email));
                }
                Ok(None) => {}
                Err(e) => return c.internal(&e),
            }
        }
    }
    let name = |id: &UserId| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let items = found
        .iter()
        .map(|conflict| match conflict {
            Conflict::PersonAlreadyLinked {
                username,
                person,
                linked_username,
            } => ConflictItem {
                text: (t.console_links.person_already_linked)(
                    &name(person),
                    linked_username,
                    username,
                ),
                choices: vec![Choice {
                    username: username.clone(),
                    user_id: person.to_string(),
                    label: username.clone(),
                }],
                unlink: Some(linked_username.clone()),
            },
            Conflict::PersonClaimedTwice { person, usernames } => ConflictItem {
                text: (t.console_links.person_claimed_twice)(&name(person)),
                choices: usernames
                    .iter()
                    .map(|u| Choice {
                        username: u.clone(),
                        user_id: person.to_string(),
                        label: u.clone(),
                    })
                    .collect(),
                unlink: None,
            },
            Conflict::AccountClaimedTwice { username, people } => ConflictItem {
                text: (t.console_links.account_claimed_twice)(username),
                choices: people
                    .iter()
                    .map(|p| Choice {
                        username: username.clone(),
                        user_id: p.to_string(),
                        label: name(p),
                    })
                    .collect(),
                unlink: None,
            },
        })
        .collect();
    let here = format!("/admin/links/conflicts?app={}", enc(&app));
    c.page("/admin/links/conflicts", None, None, |l| ConflictsPage {
        l,
        tab: "conflicts",
        apps,
        app,
        here,
        may_change: may_change(&c),
        items,
    })
}
