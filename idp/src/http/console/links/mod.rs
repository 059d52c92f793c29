//! `/admin/links…`: the account-linking pages. Coverage per app here;
//! `queue` (review, accept, reject, accept all exact, conflicts), `manual`
//! (search, link, unlink, CSV export and import) and `requests` (people's
//! link requests). Every page asks `Powers::may_see_links`; every change is
//! a CSRF-checked POST that calls one `admin::links` step with the console
//! person as the actor and, for a unit administrator, their unit, so the
//! domain refuses another unit's people (shown as not found).

mod manual;
mod queue;
mod requests;

use axum::http::StatusCode;
use axum::response::Response;
use portal_ui::console::Opt;
use portal_ui::console_links::{CoveragePage, CoverageRow, RefusedPage};

pub use manual::{
    IMPORT_BODY_LIMIT, add_post, csv_response, export_csv_get, import_post, manual_get, remove_post,
};
pub use queue::{
    accept_exact_get, accept_exact_post, accept_post, conflicts_get, queue_get, reject_post,
};
pub use requests::{decide_get, decide_link_post, decide_reject_post, requests_get};

use super::Console;
use crate::admin::Actor;
use crate::admin::links::{self, LinkError};

/// The unit a unit administrator's view and changes are limited to.
fn scope(c: &Console) -> Option<&str> {
    c.powers.people_scope()
}

/// May change links (a super administrator, or a unit administrator for
/// their unit); an auditor only looks.
fn may_change(c: &Console) -> bool {
    c.powers.may_manage_links(scope(c))
}

fn actor(c: &Console) -> Actor {
    Actor::person(&c.user.id)
}

/// The apps as choices of a `<select>`, `selected` marked.
async fn app_opts(c: &Console, selected: &str) -> Result<Vec<Opt>, Response> {
    let apps = c
        .idp()
        .store
        .list_apps()
        .await
        .map_err(|e| c.internal(&e))?;
    Ok(apps
        .into_iter()
        .map(|a| Opt {
            selected: a.id == selected,
            label: format!("{} ({})", a.name, a.id),
            value: a.id,
        })
        .collect())
}

/// A local path under `/admin/links` to come back to, else `fallback`.
fn back_to(c: &Console, raw: Option<&str>, fallback: &str) -> String {
    let p = super::super::return_to::local_path(c.idp().config.issuer(), raw);
    if p.starts_with("/admin/links") {
        p
    } else {
        fallback.to_owned()
    }
}

/// A change refused: logged for the administrator of the system, said in
/// the page's words to the person.
fn refused(c: &Console, e: &LinkError, back: &str) -> Response {
    let t = &c.ctx.lang.texts().console_links;
    tracing::info!(request_id = %c.ctx.request_id, user = %c.user.id, error = %e, "link change refused");
    let (status, why) = match e {
        LinkError::OutsideUnit(_) | LinkError::NoApp(_) | LinkError::NoRequest(_) => {
            return c.not_found();
        }
        LinkError::AccountTaken {
            username, owner, ..
        } => (
            StatusCode::CONFLICT,
            (t.err_taken)(username, owner.as_deref().unwrap_or(t.other_unit_person)),
        ),
        LinkError::PersonHasAccount {
            person, username, ..
        } => (StatusCode::CONFLICT, (t.err_has_account)(person, username)),
        LinkError::AccountInactive { .. } => (StatusCode::CONFLICT, t.err_inactive.into()),
        LinkError::PersonDisabled(_) => (StatusCode::CONFLICT, t.err_disabled.into()),
        LinkError::NoAccount { .. } => (StatusCode::BAD_REQUEST, t.err_no_account.into()),
        LinkError::NoPerson(_) => (StatusCode::BAD_REQUEST, t.err_no_person.into()),
        LinkError::NotLinked { .. } => (StatusCode::BAD_REQUEST, t.err_not_linked.into()),
        LinkError::NoSuggestion { .. } => (StatusCode::CONFLICT, t.err_no_suggestion.into()),
        LinkError::AlreadyDecided(_) => (StatusCode::CONFLICT, t.err_decided.into()),
        LinkError::BadInput(why) => (StatusCode::BAD_REQUEST, format!("{}: {why}", t.err_input)),
        LinkError::SelfLink => (StatusCode::FORBIDDEN, t.err_self.into()),
        LinkError::Connector(_) | LinkError::Store(_) => return c.internal(e),
    };
    let mut resp = c.page("/admin/links", None, None, |l| RefusedPage {
        l,
        tab: "",
        why,
        back: back.to_owned(),
    });
    *resp.status_mut() = status;
    resp
}

pub async fn coverage_get(c: Console) -> Response {
    if !c.powers.may_see_links() {
        return c.not_allowed();
    }
    let rows = match links::coverage(&c.idp().store).await {
        Ok(r) => r,
        Err(e) => return c.internal(&e),
    };
    let t = &c.ctx.lang.texts().console_links;
    let rows = rows
        .into_iter()
        .map(|r| {
            let percent = if r.active > 0 {
                (r.linked.min(r.active) * 100) / r.active
            } else {
                0
            };
            (r, percent)
        })
        .map(|(r, percent)| CoverageRow {
            percent,
            percent_label: (t.percent)(percent),
            app_id: r.app_id,
            app_name: r.app_name,
            accounts: r.accounts,
            active: r.active,
            linked: r.linked,
            pending: r.pending,
            conflicts: r.conflicts,
            unlinked_active: r.unlinked_active,
        })
        .collect();
    c.page("/admin/links", None, None, |l| CoveragePage {
        l,
        tab: "coverage",
        rows,
    })
}
