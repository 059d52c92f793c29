//! People as the console and the admin API see them: the search (within a
//! unit administrator's unit), one person's details, and the actions
//! (disable, enable, unlock, reset second factors), each checked against the
//! acting person's [`Powers`] and audited with them as actor. Someone the
//! actor may not see is [`PeopleError::NotFound`], exactly like nobody.

use super::roles::{Powers, RoleError};
use super::users::{self, UserError};
use super::{Actor, audit};
use crate::Idp;
use crate::audit::Kind;
use crate::ids::UserId;
use crate::kinds::{FactorKind, Role};
use crate::store::{AuditEvent, PeopleQuery, StoreError, User};

/// A page of a list: at most this many rows (the default of every list).
pub const PAGE: i64 = 50;
/// Characters of search text kept.
pub const MAX_SEARCH_CHARS: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum PeopleError {
    #[error("no such person")]
    NotFound,
    #[error("not allowed")]
    Forbidden,
    #[error("the last super administrator cannot be disabled")]
    LastSuperAdmin,
    #[error("a unit administrator needs a unit")]
    NoUnit,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    User(#[from] UserError),
    #[error("signing out: {0}")]
    SignOut(String),
}

impl From<RoleError> for PeopleError {
    fn from(e: RoleError) -> Self {
        match e {
            RoleError::NotFound => PeopleError::NotFound,
            RoleError::Forbidden(_) => PeopleError::Forbidden,
            RoleError::NoUnit => PeopleError::NoUnit,
            RoleError::LastSuperAdmin => PeopleError::LastSuperAdmin,
            RoleError::Store(s) => PeopleError::Store(s),
        }
    }
}

/// What a search asks, as typed.
#[derive(Clone, Debug, Default)]
pub struct Search {
    pub text: Option<String>,
    pub unit: Option<String>,
    /// `disabled`, `active`, or anything else for both.
    pub state: Option<String>,
    /// 1-based page.
    pub page: i64,
}

/// One page of people and how many were found.
#[derive(Debug)]
pub struct Found {
    pub people: Vec<User>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
}

/// Searches people within what `by` may see.
pub async fn search(idp: &Idp, by: &Powers, s: &Search) -> Result<Found, PeopleError> {
    if !by.may_list_people() {
        return Err(PeopleError::Forbidden);
    }
    idp.store.fold_names(crate::portal::apps::fold).await?;
    let text = s
        .text
        .as_deref()
        .map(|t| crate::portal::apps::fold(t.trim()))
        .map(|t| t.chars().take(MAX_SEARCH_CHARS).collect::<String>())
        .filter(|t| !t.is_empty());
    // A unit administrator's list is their unit, whatever was asked.
    let unit = match by.people_scope() {
        Some(u) => Some(u.to_owned()),
        None => s.unit.clone().filter(|u| !u.trim().is_empty()),
    };
    let page = s.page.clamp(1, 1_000_000);
    let q = PeopleQuery {
        text,
        unit,
        disabled: match s.state.as_deref() {
            Some("disabled") => Some(true),
            Some("active") => Some(false),
            _ => None,
        },
        limit: PAGE,
        offset: (page - 1) * PAGE,
    };
    let (people, total) = idp.store.search_people(&q).await?;
    Ok(Found {
        people,
        total,
        page,
        pages: ((total + PAGE - 1) / PAGE).max(1),
    })
}

/// A person as the console shows them.
#[derive(Debug)]
pub struct Detail {
    pub user: User,
    pub roles: Vec<Role>,
    pub factors: Vec<FactorKind>,
    pub recovery_codes: i64,
    /// Seconds left of a sign-in lock.
    pub locked_secs: Option<u64>,
    pub events: Vec<AuditEvent>,
    /// What the viewer may do to them.
    pub may_change: bool,
    /// The roles the viewer may grant or revoke for them.
    pub grantable: Vec<Role>,
}

/// The person `id`, if `by` may see them.
pub async fn find(idp: &Idp, by: &Powers, id: &UserId) -> Result<User, PeopleError> {
    match idp.store.user_by_id(id).await? {
        Some(u) if by.may_list_people() && by.may_see(&u) => Ok(u),
        _ => Err(PeopleError::NotFound),
    }
}

pub async fn detail(idp: &Idp, by: &Powers, id: &UserId, now: i64) -> Result<Detail, PeopleError> {
    let user = find(idp, by, id).await?;
    let powers = Powers::load(&idp.store, &user).await?;
    let factors = idp.store.factors(&user.id).await?;
    let events = idp
        .store
        .audit_events(&crate::store::AuditQuery {
            subject: Some(user.email.to_string()),
            limit: 20,
            ..Default::default()
        })
        .await?
        .into_iter()
        .map(|r| r.event)
        .collect();
    let locked_secs = crate::auth::guard::locked(&idp.cache, user.email.as_str(), now)
        .await
        .map_err(|e| PeopleError::SignOut(e.to_string()))?;
    Ok(Detail {
        recovery_codes: idp.store.recovery_codes_left(&user.id).await?,
        factors: factors.iter().map(|f| f.kind).collect(),
        roles: powers.roles,
        locked_secs,
        events,
        may_change: by.may_change(&user),
        grantable: Role::ALL
            .iter()
            .copied()
            .filter(|r| by.may_grant(*r, &user))
            .collect(),
        user,
    })
}

/// The person `id`, if `by` may change them.
async fn changeable(idp: &Idp, by: &Powers, id: &UserId) -> Result<User, PeopleError> {
    let user = find(idp, by, id).await?;
    if !by.may_change(&user) {
        return Err(PeopleError::Forbidden);
    }
    Ok(user)
}

/// Disables a person and ends every session and grant they have; `false`
/// when they were already disabled.
pub async fn disable(
    idp: &Idp,
    by: &Powers,
    id: &UserId,
    ip: Option<String>,
    now: i64,
) -> Result<bool, PeopleError> {
    let user = changeable(idp, by, id).await?;
    if user.is_disabled() {
        return Ok(false);
    }
    if !idp
        .store
        .disable_user_keeping_an_admin(&user.id, now)
        .await?
    {
        return Err(PeopleError::LastSuperAdmin);
    }
    let actor = Actor::person(&by.user_id);
    audit(
        &idp.store,
        &actor,
        Kind::AdminUserDisabled,
        &user.email,
        None,
        now,
    )
    .await?;
    crate::oidc::logout::sign_out_others(idp, &user.id, None, ip, now)
        .await
        .map_err(|e| PeopleError::SignOut(e.to_string()))?;
    Ok(true)
}

/// Enables a disabled person; `false` when they were not disabled.
pub async fn enable(idp: &Idp, by: &Powers, id: &UserId, now: i64) -> Result<bool, PeopleError> {
    let user = changeable(idp, by, id).await?;
    let changed = idp.store.enable_user(&user.id, now).await?;
    if changed {
        let actor = Actor::person(&by.user_id);
        audit(
            &idp.store,
            &actor,
            Kind::AdminUserEnabled,
            &user.email,
            None,
            now,
        )
        .await?;
    }
    Ok(changed)
}

/// Lifts a sign-in lock (the command line's step, with the console user as actor).
pub async fn unlock(idp: &Idp, by: &Powers, id: &UserId, now: i64) -> Result<(), PeopleError> {
    let user = changeable(idp, by, id).await?;
    let actor = Actor::person(&by.user_id);
    users::unlock(
        &idp.store,
        &idp.cache,
        None,
        user.email.as_str(),
        &actor,
        now,
    )
    .await?;
    Ok(())
}

/// Removes the person's second factors and tells them by mail; returns how many went.
pub async fn reset_factors(
    idp: &Idp,
    by: &Powers,
    id: &UserId,
    now: i64,
) -> Result<u64, PeopleError> {
    let user = changeable(idp, by, id).await?;
    let actor = Actor::person(&by.user_id);
    let (_, n) = users::reset_factors(
        &idp.store,
        None,
        user.email.as_str(),
        idp.mailer.is_some(),
        &actor,
        now,
    )
    .await?;
    crate::outbox::wake(idp);
    Ok(n)
}

/// Grants (`on`) or revokes a role; `false` when nothing changed.
pub async fn set_role(
    idp: &Idp,
    by: &Powers,
    id: &UserId,
    role: Role,
    on: bool,
    now: i64,
) -> Result<bool, PeopleError> {
    let user = find(idp, by, id).await?;
    let actor = Actor::person(&by.user_id);
    Ok(super::roles::set(&idp.store, Some(by), &user, role, on, &actor, now).await?)
}

#[cfg(test)]
mod tests;
