//! Matching an app's accounts against people (`connectors::matching`) into
//! the review queue, and accepting the exact matches: an unambiguous e-mail
//! or phone match is linked unless that would be a conflict (the person
//! already owns an account of the app, or two accounts claim one person, or
//! one account two people), which stays pending and is counted.

use std::collections::{BTreeMap, HashMap, HashSet};

use connectors::LegacyAccount;
use connectors::matching::{self, Person};

use super::{LinkError, app_of};
use crate::admin::{Actor, audit};
use crate::audit::Kind;
use crate::ids::UserId;
use crate::kinds::{Decision, LinkMethod};
use crate::store::{Link, NewSuggestion, Store};

/// What a matching run found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SuggestReport {
    /// Active accounts without a link, matched.
    pub accounts: usize,
    /// Suggestions kept pending or linked, by reason.
    pub by_reason: BTreeMap<LinkMethod, usize>,
    /// Of them, ambiguous.
    pub ambiguous: usize,
    /// Pairs an administrator rejected before: left rejected.
    pub rejected_before: usize,
    /// With `accept_exact`: what was linked and what was not.
    pub accepted: AcceptReport,
}

/// What accepting exact matches did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AcceptReport {
    /// Links made, by reason.
    pub linked: BTreeMap<LinkMethod, usize>,
    /// Exact matches left pending because linking them would be a conflict.
    pub conflicts: usize,
}

impl AcceptReport {
    pub fn linked_total(&self) -> usize {
        self.linked.values().sum()
    }
}

/// Matches `app`'s active, unlinked accounts against active people and
/// replaces the app's pending suggestions with the result; with
/// `accept_exact`, links the exact ones (see [`accept_all_exact`]).
pub async fn suggest(
    store: &Store,
    actor: &Actor,
    app: &str,
    accept_exact: bool,
    now: i64,
) -> Result<SuggestReport, LinkError> {
    app_of(store, app).await?;
    let linked: HashSet<String> = store
        .links_of_app(app)
        .await?
        .into_iter()
        .map(|l| l.username)
        .collect();
    let accounts: Vec<LegacyAccount> = store
        .legacy_accounts(app)
        .await?
        .into_iter()
        .filter(|a| a.active.0 && !linked.contains(&a.username))
        .map(|a| LegacyAccount {
            username: a.username,
            display_name: a.display_name,
            email: a.email,
            phone: a.phone,
            unit: a.unit,
            active: true,
        })
        .collect();
    // Former staff are not in the list at all: nothing can propose them.
    let people_rows = store.active_people().await?;
    let ids: HashMap<&str, &UserId> = people_rows
        .iter()
        .map(|p| (p.email.as_str(), &p.id))
        .collect();
    let people: Vec<Person> = people_rows
        .iter()
        .map(|p| Person {
            email: p.email.to_string(),
            name: p.name.clone(),
            phone: p.phone.clone(),
            unit: p.unit.clone(),
        })
        .collect();
    let found = matching::suggest(&people, &accounts);
    let rejected: HashSet<(String, UserId)> = store
        .suggestions(app, Some(Decision::Rejected))
        .await?
        .into_iter()
        .map(|s| (s.username, s.user_id))
        .collect();
    let mut report = SuggestReport {
        accounts: accounts.len(),
        ..SuggestReport::default()
    };
    let mut list = Vec::with_capacity(found.len());
    for s in found {
        let Some(&user_id) = ids.get(s.email.as_str()) else {
            tracing::warn!(app, email = %s.email, "matching proposed an unknown person; skipped");
            continue;
        };
        if rejected.contains(&(s.username.clone(), user_id.clone())) {
            report.rejected_before += 1;
            continue;
        }
        let reason = LinkMethod::of_reason(s.reason);
        *report.by_reason.entry(reason).or_default() += 1;
        report.ambiguous += usize::from(s.ambiguous);
        list.push(NewSuggestion {
            exact: s.is_exact(),
            username: s.username,
            user_id: user_id.clone(),
            reason,
            confidence: i64::from(s.confidence),
            ambiguous: s.ambiguous,
        });
    }
    store.replace_suggestions(app, &list, now).await?;
    if accept_exact {
        report.accepted = accept_exact_in(store, actor, app, None, now).await?;
    }
    let detail = format!(
        "accounts {}, suggestions {:?}, ambiguous {}, rejected before {}, linked {:?}, conflicts {}",
        report.accounts,
        report.by_reason,
        report.ambiguous,
        report.rejected_before,
        report.accepted.linked,
        report.accepted.conflicts
    );
    audit(store, actor, Kind::LinkSuggested, app, Some(detail), now).await?;
    Ok(report)
}

/// Links every pending exact suggestion of `app` (of people of `unit`, when
/// given) that is no conflict.
pub async fn accept_all_exact(
    store: &Store,
    actor: &Actor,
    app: &str,
    unit: Option<&str>,
    now: i64,
) -> Result<AcceptReport, LinkError> {
    app_of(store, app).await?;
    accept_exact_in(store, actor, app, unit, now).await
}

async fn accept_exact_in(
    store: &Store,
    actor: &Actor,
    app: &str,
    unit: Option<&str>,
    now: i64,
) -> Result<AcceptReport, LinkError> {
    let pending = store.suggestions(app, Some(Decision::Pending)).await?;
    let owners: HashSet<UserId> = store
        .links_of_app(app)
        .await?
        .into_iter()
        .map(|l| l.user_id)
        .collect();
    // Only active people (of `unit`, when given) and accounts still active
    // in the app: someone disabled or an account gone since matching ran
    // is never linked in bulk.
    let people: HashSet<UserId> = store
        .active_people()
        .await?
        .into_iter()
        .filter(|p| unit.is_none_or(|u| p.unit.as_deref() == Some(u)))
        .map(|p| p.id)
        .collect();
    let active: HashSet<String> = store
        .legacy_accounts(app)
        .await?
        .into_iter()
        .filter(|a| a.active.0)
        .map(|a| a.username)
        .collect();
    let exact: Vec<(String, UserId, LinkMethod)> = pending
        .into_iter()
        .filter(|s| s.exact.0 && active.contains(&s.username))
        .map(|s| (s.username, s.user_id, s.reason))
        .collect();
    let (plan, conflicts) = plan_exact(&exact, &owners);
    let mut report = AcceptReport {
        conflicts,
        ..AcceptReport::default()
    };
    let links: Vec<Link> = plan
        .into_iter()
        // The administrator's own match waits for another administrator.
        .filter(|(_, user, _)| people.contains(user) && actor.0 != user.as_str())
        .map(|(username, user_id, method)| {
            *report.linked.entry(method).or_default() += 1;
            Link {
                app_id: app.to_owned(),
                username,
                user_id,
                method,
                linked_by: actor.0.clone(),
                linked_at: now,
            }
        })
        .collect();
    store.insert_links(app, &links).await?;
    if !links.is_empty() {
        let detail = format!(
            "before: unlinked; after: {} exact matches linked {:?}; {} conflicts left pending",
            links.len(),
            report.linked,
            report.conflicts
        );
        audit(store, actor, Kind::LinkAdded, app, Some(detail), now).await?;
    }
    Ok(report)
}

/// Which exact suggestions may be linked: not those of a person who already
/// owns an account in the app, nor of a person several accounts claim, nor
/// of an account claimed for several people. Returns them and the number of
/// conflicts left.
pub(super) fn plan_exact(
    exact: &[(String, UserId, LinkMethod)],
    owners: &HashSet<UserId>,
) -> (Vec<(String, UserId, LinkMethod)>, usize) {
    let mut per_person: HashMap<&UserId, usize> = HashMap::new();
    let mut per_account: HashMap<&str, usize> = HashMap::new();
    for (username, user, _) in exact {
        *per_person.entry(user).or_default() += 1;
        *per_account.entry(username).or_default() += 1;
    }
    let mut plan = Vec::new();
    let mut conflicts = 0;
    for (username, user, method) in exact {
        if owners.contains(user) || per_person[user] > 1 || per_account[username.as_str()] > 1 {
            conflicts += 1;
        } else {
            plan.push((username.clone(), user.clone(), *method));
        }
    }
    (plan, conflicts)
}
