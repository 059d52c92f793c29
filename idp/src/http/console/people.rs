//! `/admin/people`, `/admin/people/{id}` and its actions, `/admin/units`.
//! Each action is a CSRF-checked POST that calls one `admin::people` step
//! and comes back to the person's page with what happened.

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use portal_ui::console::{
    EventRow, Opt, Pager, PeoplePage, PersonPage, PersonRow, RoleAction, UnitRow, UnitsPage,
};
use serde::Deserialize;

use super::{Button, Console, CsrfForm, Posted, enc, role_label};
use crate::admin::people::{self, PeopleError, Search};
use crate::ids::UserId;
use crate::kinds::{FactorKind, Role, UserSource};
use crate::portal::account::vn_time;
use crate::store::AuditEvent;

#[derive(Debug, Default, Deserialize)]
pub struct PeopleQuery {
    pub q: Option<String>,
    pub unit: Option<String>,
    pub state: Option<String>,
    pub page: Option<i64>,
}

fn href(q: &PeopleQuery, page: i64) -> String {
    format!(
        "/admin/people?q={}&unit={}&state={}&page={page}",
        enc(q.q.as_deref().unwrap_or("")),
        enc(q.unit.as_deref().unwrap_or("")),
        enc(q.state.as_deref().unwrap_or("")),
    )
}

pub async fn people_get(c: Console, Query(q): Query<PeopleQuery>) -> Response {
    let s = Search {
        text: q.q.clone(),
        unit: q.unit.clone(),
        state: q.state.clone(),
        page: q.page.unwrap_or(1),
    };
    let found = match people::search(c.idp(), &c.powers, &s).await {
        Ok(f) => f,
        Err(PeopleError::Forbidden) => return c.not_allowed(),
        Err(e) => return c.internal(&e),
    };
    let units = match c.idp().store.unit_names().await {
        Ok(u) => u,
        Err(e) => return c.internal(&e),
    };
    let t = c.ctx.lang.texts();
    let state = q.state.clone().unwrap_or_default();
    let states = [
        ("", t.console.state_all),
        ("active", t.console.state_active),
        ("disabled", t.console.state_disabled),
    ]
    .into_iter()
    .map(|(v, label)| Opt {
        value: v.into(),
        label: label.into(),
        selected: v == state,
    })
    .collect();
    let pager = Pager {
        summary: (t.console.page_of)(found.page, found.pages),
        prev: (found.page > 1).then(|| href(&q, found.page - 1)),
        next: (found.page < found.pages).then(|| href(&q, found.page + 1)),
    };
    let unit = q.unit.clone().unwrap_or_default();
    c.page("/admin/people", None, None, |l| PeoplePage {
        l,
        q: q.q.clone().unwrap_or_default(),
        units: units
            .into_iter()
            .map(|u| Opt {
                selected: u == unit,
                value: u.clone(),
                label: u,
            })
            .collect(),
        states,
        scope: c.powers.people_scope().map(str::to_owned),
        found: (t.console.found)(found.total),
        rows: found
            .people
            .into_iter()
            .map(|u| PersonRow {
                disabled: u.is_disabled(),
                id: u.id.to_string(),
                name: u.name,
                email: u.email.to_string(),
                unit: u.unit.unwrap_or_default(),
            })
            .collect(),
        pager,
    })
}

pub fn event_rows(events: Vec<AuditEvent>) -> Vec<EventRow> {
    events
        .into_iter()
        .map(|e| EventRow {
            at: vn_time(e.at),
            kind: e.kind,
            actor: e.actor.unwrap_or_default(),
            subject: e.subject.unwrap_or_default(),
            ip: e.ip.unwrap_or_default(),
            detail: e.detail.unwrap_or_default(),
        })
        .collect()
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    pub done: Option<String>,
}

/// What an action said, by the `done` the redirect carries.
fn said(
    t: &'static portal_ui::Texts,
    done: Option<&str>,
) -> (Option<&'static str>, Option<&'static str>) {
    let c = &t.console;
    match done {
        Some("disabled") => (Some(c.done_disabled), None),
        Some("enabled") => (Some(c.done_enabled), None),
        Some("unlocked") => (Some(c.done_unlocked), None),
        Some("reset") => (Some(c.done_reset), None),
        Some("granted") => (Some(c.done_granted), None),
        Some("revoked") => (Some(c.done_revoked), None),
        Some("same") => (Some(c.nothing_changed), None),
        Some("last") => (None, Some(c.last_super_admin)),
        Some("nounit") => (None, Some(c.unit_admin_needs_unit)),
        _ => (None, None),
    }
}

pub async fn person_get(
    c: Console,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let id = UserId::from(id);
    let d = match people::detail(c.idp(), &c.powers, &id, crate::now()).await {
        Ok(d) => d,
        Err(PeopleError::NotFound) => return c.not_found(),
        Err(e) => return c.internal(&e),
    };
    let t = c.ctx.lang.texts();
    let (notice, error) = said(t, q.done.as_deref());
    let here = format!("/admin/people/{}", d.user.id);
    c.page(&here, notice, error, |l| PersonPage {
        l,
        id: d.user.id.to_string(),
        name: d.user.name.clone(),
        email: d.user.email.to_string(),
        unit: d.user.unit.clone().unwrap_or_default(),
        title: d.user.title.clone().unwrap_or_default(),
        source: match d.user.source {
            UserSource::Local => t.console.source_local,
            UserSource::Directory => t.console.source_directory,
        },
        disabled: d.user.is_disabled(),
        roles: d.roles.iter().map(|r| role_label(t, *r)).collect(),
        factors: d
            .factors
            .iter()
            .map(|f| match f {
                FactorKind::Totp => t.console.factor_totp,
                FactorKind::Email => t.console.factor_email,
            })
            .collect(),
        recovery: (t.console.recovery_left)(d.recovery_codes),
        lock: match d.locked_secs {
            Some(s) => (t.console.locked_for)(s.div_ceil(60)),
            None => t.console.not_locked.to_owned(),
        },
        may_change: d.may_change,
        role_actions: d
            .grantable
            .iter()
            .map(|r| RoleAction {
                value: r.as_str(),
                label: role_label(t, *r),
                held: d.roles.contains(r),
            })
            .collect(),
        events: event_rows(d.events),
    })
}

/// Back to the person's page saying what happened, or the refusal.
fn after(c: &Console, id: &UserId, r: Result<&'static str, PeopleError>) -> Response {
    match r {
        Ok(done) => super::redirect(&format!("/admin/people/{id}?done={done}")),
        Err(PeopleError::NotFound) => c.not_found(),
        Err(PeopleError::Forbidden) => c.not_allowed(),
        Err(PeopleError::LastSuperAdmin) => {
            super::redirect(&format!("/admin/people/{id}?done=last"))
        }
        Err(e) => c.internal(&e),
    }
}

pub async fn disable_post(Path(id): Path<String>, p: Posted<Button>) -> Response {
    let id = UserId::from(id);
    let c = &p.c;
    let r = people::disable(c.idp(), &c.powers, &id, c.ip(), crate::now()).await;
    after(
        c,
        &id,
        r.map(|changed| if changed { "disabled" } else { "same" }),
    )
}

pub async fn enable_post(Path(id): Path<String>, p: Posted<Button>) -> Response {
    let id = UserId::from(id);
    let c = &p.c;
    let r = people::enable(c.idp(), &c.powers, &id, crate::now()).await;
    after(
        c,
        &id,
        r.map(|changed| if changed { "enabled" } else { "same" }),
    )
}

pub async fn unlock_post(Path(id): Path<String>, p: Posted<Button>) -> Response {
    let id = UserId::from(id);
    let c = &p.c;
    let r = people::unlock(c.idp(), &c.powers, &id, crate::now()).await;
    after(c, &id, r.map(|()| "unlocked"))
}

pub async fn reset_factors_post(Path(id): Path<String>, p: Posted<Button>) -> Response {
    let id = UserId::from(id);
    let c = &p.c;
    let r = people::reset_factors(c.idp(), &c.powers, &id, crate::now()).await;
    after(c, &id, r.map(|_| "reset"))
}

#[derive(Debug, Default, Deserialize)]
pub struct RoleForm {
    pub csrf: Option<String>,
    pub role: Option<String>,
    /// `grant` or `revoke`.
    pub op: Option<String>,
}

impl CsrfForm for RoleForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

pub async fn roles_post(Path(id): Path<String>, p: Posted<RoleForm>) -> Response {
    let id = UserId::from(id);
    let c = &p.c;
    let role = p.form.role.as_deref().and_then(|r| r.parse::<Role>().ok());
    let on = match p.form.op.as_deref() {
        Some("grant") => Some(true),
        Some("revoke") => Some(false),
        _ => None,
    };
    let (Some(role), Some(on)) = (role, on) else {
        return c.message(
            StatusCode::BAD_REQUEST,
            c.ctx.lang.texts().errors.bad_request,
        );
    };
    let r = people::set_role(c.idp(), &c.powers, &id, role, on, crate::now()).await;
    let r = match r {
        Ok(true) => Ok(if on { "granted" } else { "revoked" }),
        Ok(false) => Ok("same"),
        Err(PeopleError::NoUnit) => Ok("nounit"),
        Err(e) => Err(e),
    };
    after(c, &id, r)
}

pub async fn units_get(c: Console) -> Response {
    if !c.powers.may_list_people() {
        return c.not_allowed();
    }
    let units = match c.idp().store.unit_counts().await {
        Ok(u) => u,
        Err(e) => return c.internal(&e),
    };
    let scope = c.powers.people_scope().map(str::to_owned);
    c.page("/admin/units", None, None, |l| UnitsPage {
        l,
        rows: units
            .into_iter()
            .filter(|u| scope.as_deref().is_none_or(|s| s == u.unit))
            .map(|u| UnitRow {
                href: format!("/admin/people?unit={}", enc(&u.unit)),
                unit: u.unit,
                people: u.people,
                disabled: u.disabled,
            })
            .collect(),
        scope,
    })
}
