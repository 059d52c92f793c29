//! Account links: every rule about which legacy app account belongs to whom,
//! in one place the command line, the admin console's pages and its JSON API
//! call alike.
//!
//! The rules: an account has at most one owner and a person at most one
//! account per app (the schema's keys guard it too); anything that would
//! break that is a *conflict*, refused with a message naming the current
//! owner or account, or listed by [`conflicts`] for an administrator, never
//! stored. Former staff (disabled people) and inactive accounts are never
//! linked. A rejected suggestion stays rejected across matching runs, and a
//! removed link's suggestion becomes rejected, so matching never undoes an
//! administrator. Every change is audited with what was before and after.
//!
//! Each function takes the store, the [`Actor`], plain data and `now`. A
//! `unit: Option<&str>` restricts the call to people of that unit (a unit
//! administrator's view): reads leave the others out, changes refuse them.
//!
//! Files: `import` (an app's accounts), `suggest` (matching, accepting exact
//! matches), `csv` (export and import of links), `review` (coverage, queue,
//! conflicts, search), `requests` (a person asks, an administrator decides),
//! this file the one-link steps and the claim released at sign-in.

mod csv;
mod import;
mod requests;
mod review;
mod suggest;

pub use csv::{CsvImportReport, MAX_CSV_BYTES, export_csv, import_links_csv};
pub use import::{ImportReport, import_accounts};
pub use requests::{
    Decided, RequestDecision, RequestOutcome, RequestState, RequestStatus, decide_request,
    pending_requests, request, request_for, request_state,
};
pub use review::{
    Conflict, Coverage, MAX_PAGE, SearchResults, conflicts, coverage, list_links, queue, search,
    unlinked_accounts,
};
pub use suggest::{AcceptReport, SuggestReport, accept_all_exact, suggest};

use super::{Actor, audit};
use crate::audit::Kind;
use crate::ids::{Email, UserId};
use crate::kinds::LinkMethod;
use crate::store::{LegacyRow, Link, Store, StoreError, User};

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("no app {0}; see `idp app list`")]
    NoApp(String),
    #[error("no person with e-mail {0}")]
    NoPerson(String),
    #[error("{0} is disabled (former staff are never linked)")]
    PersonDisabled(String),
    #[error(
        "no account {username} in {app}; import the app's accounts first (`idp link import {app} …`)"
    )]
    NoAccount { app: String, username: String },
    #[error("account {username} of {app} is inactive in the app and cannot be linked")]
    AccountInactive { app: String, username: String },
    /// `owner` is `None` when the owner is outside the caller's unit: a unit
    /// administrator learns that the account is taken, not by whom.
    #[error("conflict: account {username} of {app} is already linked to {}", .owner.as_deref().unwrap_or("a person of another unit"))]
    AccountTaken {
        app: String,
        username: String,
        owner: Option<String>,
    },
    #[error("conflict: {person} already has account {username} in {app}")]
    PersonHasAccount {
        app: String,
        person: String,
        username: String,
    },
    #[error("account {username} of {app} is not linked")]
    NotLinked { app: String, username: String },
    #[error("no pending suggestion links {username} of {app} to that person")]
    NoSuggestion { app: String, username: String },
    #[error("{0} is not in your unit")]
    OutsideUnit(String),
    /// Nobody links a legacy account to themselves: another administrator
    /// (or the command line) does, so no one asserts their own identity.
    #[error("you cannot link an account to yourself; another administrator must")]
    SelfLink,
    #[error("no link request {0}")]
    NoRequest(i64),
    #[error("link request {0} was already decided")]
    AlreadyDecided(i64),
    #[error("{0}")]
    BadInput(String),
    #[error("{0}")]
    Connector(#[from] connectors::ConnectorError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The longest username, name, e-mail, phone or unit accepted from outside.
pub const MAX_FIELD_CHARS: usize = 256;

/// OIDC's registered claims (OIDC Core §2, §5.1; RFC 7519 §4.1; RFC 9068)
/// and ours: a legacy username may not pose as one of them.
const REGISTERED_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "sid",
    "at_hash",
    "c_hash",
    "s_hash",
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "profile",
    "picture",
    "website",
    "email",
    "email_verified",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone_number",
    "phone_number_verified",
    "address",
    "updated_at",
    "client_id",
    "scope",
    "cnf",
    "events",
    "typ",
    "unit",
    "title",
    "employee_code",
];

/// The claim names an app may receive its legacy username in:
/// `preferred_username`, or `[a-z][a-z0-9_]{0,63}` that is no registered claim.
pub fn check_claim_name(name: &str) -> Result<(), String> {
    if name == "preferred_username" {
        return Ok(());
    }
    let mut chars = name.chars();
    let shaped = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 64;
    if !shaped {
        return Err(format!(
            "legacy claim {name:?}: use preferred_username or a name of [a-z][a-z0-9_]{{0,63}}"
        ));
    }
    if REGISTERED_CLAIMS.contains(&name) {
        return Err(format!(
            "legacy claim {name:?} is a registered claim; use preferred_username or a name of your own"
        ));
    }
    Ok(())
}

/// A client receives one legacy username: refuses a claim for `app` when
/// another app of the same client releases one already.
pub async fn claim_free(store: &Store, client: &str, app: &str) -> Result<(), String> {
    match store.legacy_claim_of_client(client).await {
        Ok(Some((other, _))) if other != app => Err(format!(
            "app {other} already releases a legacy username to client {client}; one app per client may"
        )),
        Ok(_) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// What the client of a sign-in receives about the person's legacy account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Release {
    /// The client's app releases no legacy username.
    Nothing,
    /// Put `username` in the claim `claim`.
    Claim { claim: String, username: String },
    /// The app releases one, but the person has no account linked in it.
    NoLink { app_id: String },
}

/// What `client_id` receives for `user`: only the link of the client's own
/// app, never another app's, and only while the app's last export still
/// lists the account as active (a username the app has retired, and may
/// give to someone else, is not asserted).
pub async fn release(store: &Store, client_id: &str, user: &UserId) -> Result<Release, StoreError> {
    let Some((app_id, claim)) = store.legacy_claim_of_client(client_id).await? else {
        return Ok(Release::Nothing);
    };
    Ok(match releasable_link(store, &app_id, user).await? {
        Some(link) => Release::Claim {
            claim,
            username: link.username,
        },
        None => Release::NoLink { app_id },
    })
}

/// The account `user` owns in `app` that a sign-in may assert, for OIDC
/// (through [`release`]) and CAS (`legacy_username`) alike: the link, only
/// while the app's last export still lists the account as active (a
/// username the app has retired, and may give to someone else, is not
/// asserted). `None` when there is no such link.
pub async fn releasable_link(
    store: &Store,
    app: &str,
    user: &UserId,
) -> Result<Option<Link>, StoreError> {
    let Some(link) = store.link_of_person(app, user).await? else {
        return Ok(None);
    };
    let active = store
        .legacy_account(app, &link.username)
        .await?
        .is_some_and(|a| a.active.0);
    Ok(active.then_some(link))
}

/// Sets or clears the claim that carries the linked username to `app`'s client.
pub async fn set_claim(
    store: &Store,
    actor: &Actor,
    app: &str,
    claim: Option<&str>,
    now: i64,
) -> Result<(), LinkError> {
    let before = app_of(store, app).await?;
    if let Some(c) = claim {
        check_claim_name(c).map_err(LinkError::BadInput)?;
        if before.client_id.is_none() {
            return Err(LinkError::BadInput(format!(
                "app {app} has no OIDC client to release the claim to"
            )));
        }
    }
    if claim.is_some()
        && let Some(client) = &before.client_id
    {
        claim_free(store, client, app)
            .await
            .map_err(LinkError::BadInput)?;
    }
    store.set_app_legacy_claim(app, claim).await?;
    let detail = format!(
        "before: {}; after: {}",
        before.legacy_claim.as_deref().unwrap_or("none"),
        claim.unwrap_or("none")
    );
    audit(store, actor, Kind::LinkClaimSet, app, Some(detail), now).await?;
    Ok(())
}

/// The account `user` owns in `app`.
pub async fn link_for(store: &Store, app: &str, user: &UserId) -> Result<Option<Link>, LinkError> {
    Ok(store.link_of_person(app, user).await?)
}

/// Accepts a pending suggestion: links the account to the person with the
/// suggestion's reason as the method.
pub async fn accept(
    store: &Store,
    actor: &Actor,
    app: &str,
    username: &str,
    user: &UserId,
    unit: Option<&str>,
    now: i64,
) -> Result<Link, LinkError> {
    let s = store
        .suggestion(app, username, user)
        .await?
        .filter(|s| s.status == crate::kinds::Decision::Pending)
        .ok_or_else(|| LinkError::NoSuggestion {
            app: app.into(),
            username: username.into(),
        })?;
    let person = person_by_id(store, user).await?;
    link_one(store, actor, app, username, &person, s.reason, unit, now).await
}

/// Rejects a pending suggestion; it stays rejected when matching runs again.
pub async fn reject(
    store: &Store,
    actor: &Actor,
    app: &str,
    username: &str,
    user: &UserId,
    unit: Option<&str>,
    now: i64,
) -> Result<(), LinkError> {
    let person = person_by_id(store, user).await?;
    in_unit(&person, unit)?;
    if !store
        .reject_suggestion(app, username, user, &actor.0, now)
        .await?
    {
        return Err(LinkError::NoSuggestion {
            app: app.into(),
            username: username.into(),
        });
    }
    let detail = format!("before: suggested {}; after: rejected", person.email);
    let subject = format!("{app}/{username}");
    audit(
        store,
        actor,
        Kind::LinkRejected,
        &subject,
        Some(detail),
        now,
    )
    .await?;
    Ok(())
}

/// Links `username` of `app` to the person with official e-mail `email` by
/// hand. A conflict is refused naming the current owner or account.
pub async fn add(
    store: &Store,
    actor: &Actor,
    email: &Email,
    app: &str,
    username: &str,
    unit: Option<&str>,
    now: i64,
) -> Result<Link, LinkError> {
    let person = match store.user_by_email(email).await? {
        Some(p) => p,
        // To a unit administrator nobody and another unit's person look the same.
        None if unit.is_some() => return Err(LinkError::OutsideUnit(email.to_string())),
        None => return Err(LinkError::NoPerson(email.to_string())),
    };
    link_one(
        store,
        actor,
        app,
        username,
        &person,
        LinkMethod::Manual,
        unit,
        now,
    )
    .await
}

/// Removes the link of `username` in `app`; returns what it was.
pub async fn remove(
    store: &Store,
    actor: &Actor,
    app: &str,
    username: &str,
    unit: Option<&str>,
    now: i64,
) -> Result<Link, LinkError> {
    app_of(store, app).await?;
    let not_linked = || LinkError::NotLinked {
        app: app.into(),
        username: username.into(),
    };
    let current = store.link(app, username).await?.ok_or_else(not_linked)?;
    let owner = person_by_id(store, &current.user_id).await?;
    in_unit(&owner, unit)?;
    let link = store
        .delete_link(app, username, &actor.0, now)
        .await?
        .ok_or_else(not_linked)?;
    let detail = format!(
        "before: {} ({} by {} at {}); after: unlinked",
        owner.email, link.method, link.linked_by, link.linked_at
    );
    let subject = format!("{app}/{username}");
    audit(store, actor, Kind::LinkRemoved, &subject, Some(detail), now).await?;
    Ok(link)
}

/// The one way a single link is made: every check, then the store (whose
/// keys refuse a conflict that raced past the checks), then the audit.
#[allow(clippy::too_many_arguments)]
async fn link_one(
    store: &Store,
    actor: &Actor,
    app: &str,
    username: &str,
    person: &User,
    method: LinkMethod,
    unit: Option<&str>,
    now: i64,
) -> Result<Link, LinkError> {
    in_unit(person, unit)?;
    not_self(actor, person)?;
    let account = linkable(store, app, username, person, unit).await?;
    let link = Link {
        app_id: app.to_owned(),
        username: account.username,
        user_id: person.id.clone(),
        method,
        linked_by: actor.0.clone(),
        linked_at: now,
    };
    store
        .insert_links(app, std::slice::from_ref(&link))
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => LinkError::BadInput(format!(
                "conflict: {username} of {app} or {} was linked meanwhile; look again",
                person.email
            )),
            e => LinkError::Store(e),
        })?;
    let detail = format!(
        "before: unlinked; after: {} ({method} by {})",
        person.email, actor.0
    );
    let subject = format!("{app}/{username}");
    audit(store, actor, Kind::LinkAdded, &subject, Some(detail), now).await?;
    Ok(link)
}

/// The account, when linking it to `person` breaks no rule: it exists and is
/// active, the person is active, it has no owner and the person no account
/// in the app. `unit` is the caller's scope (a unit administrator's).
async fn linkable(
    store: &Store,
    app: &str,
    username: &str,
    person: &User,
    unit: Option<&str>,
) -> Result<LegacyRow, LinkError> {
    app_of(store, app).await?;
    if person.is_disabled() {
        return Err(LinkError::PersonDisabled(person.email.to_string()));
    }
    let account =
        store
            .legacy_account(app, username)
            .await?
            .ok_or_else(|| LinkError::NoAccount {
                app: app.into(),
                username: username.into(),
            })?;
    if !account.active.0 {
        return Err(LinkError::AccountInactive {
            app: app.into(),
            username: username.into(),
        });
    }
    // An account that carries another person's official address is theirs
    // as far as a unit administrator can tell: only a super administrator
    // (or the command line) links it elsewhere.
    if unit.is_some()
        && let Some(e) = account.email.as_deref().and_then(|e| Email::parse(e).ok())
        && e != person.email
        && store.user_by_email(&e).await?.is_some()
    {
        return Err(LinkError::BadInput(format!(
            "account {username} of {app} carries another person's official e-mail; a super administrator may link it"
        )));
    }
    if let Some(l) = store.link(app, username).await? {
        let owner = person_by_id(store, &l.user_id).await?;
        return Err(LinkError::AccountTaken {
            app: app.into(),
            username: username.into(),
            owner: in_unit(&owner, unit)
                .is_ok()
                .then(|| owner.email.to_string()),
        });
    }
    if let Some(l) = store.link_of_person(app, &person.id).await? {
        return Err(LinkError::PersonHasAccount {
            app: app.into(),
            person: person.email.to_string(),
            username: l.username,
        });
    }
    Ok(account)
}

async fn app_of(store: &Store, app: &str) -> Result<crate::store::App, LinkError> {
    store
        .app(app)
        .await?
        .ok_or_else(|| LinkError::NoApp(app.into()))
}

async fn person_by_id(store: &Store, user: &UserId) -> Result<User, LinkError> {
    store
        .user_by_id(user)
        .await?
        .ok_or_else(|| LinkError::NoPerson(user.to_string()))
}

/// A unit administrator acts only on people of their unit.
fn not_self(actor: &Actor, person: &User) -> Result<(), LinkError> {
    if actor.0 == person.id.as_str() {
        Err(LinkError::SelfLink)
    } else {
        Ok(())
    }
}

fn in_unit(person: &User, unit: Option<&str>) -> Result<(), LinkError> {
    match unit {
        Some(u) if person.unit.as_deref() != Some(u) => {
            Err(LinkError::OutsideUnit(person.email.to_string()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
