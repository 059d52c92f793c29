//! Who may do what in the admin console and its JSON API, in one place.
//! A person's [`Powers`] are read once per request (the super-administrator
//! flag, the role rows, their unit) and answer every question the pages, the
//! API and the signing service ask. Granting and revoking roles are audited
//! with the roles before and after.
//!
//! A unit administrator reaches only the people of their own unit; anyone
//! else is "not found" to them (a 404, so they cannot probe who exists). An
//! auditor reads and changes nothing. Nobody grants more than they hold,
//! changes their own roles, or removes the last super administrator.

use super::{Actor, audit};
use crate::audit::Kind;
use crate::ids::UserId;
use crate::kinds::Role;
use crate::store::{Store, StoreError, User};

#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    #[error("{0} may not do this")]
    Forbidden(String),
    #[error("no such person")]
    NotFound,
    #[error("the last super administrator keeps the role")]
    LastSuperAdmin,
    #[error("a unit administrator needs a unit")]
    NoUnit,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one person may do in the console, computed once per request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Powers {
    pub user_id: UserId,
    /// Their unit (`users.unit`).
    pub unit: Option<String>,
    /// Every role they hold, `SuperAdmin` first when they have the flag.
    pub roles: Vec<Role>,
}

impl Powers {
    pub fn of(user: &User, rows: &[Role]) -> Powers {
        let mut roles = Vec::new();
        if user.is_admin() {
            roles.push(Role::SuperAdmin);
        }
        for r in rows {
            if *r != Role::SuperAdmin && !roles.contains(r) {
                roles.push(*r);
            }
        }
        Powers {
            user_id: user.id.clone(),
            unit: user.unit.clone().filter(|u| !u.is_empty()),
            roles,
        }
    }

    /// Reads a person's powers from the store.
    pub async fn load(store: &Store, user: &User) -> Result<Powers, StoreError> {
        let rows: Vec<Role> = store
            .roles_of(&user.id)
            .await?
            .into_iter()
            .map(|r| r.role)
            .collect();
        Ok(Powers::of(user, &rows))
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    fn is_super(&self) -> bool {
        self.has(Role::SuperAdmin)
    }

    /// The unit a unit administrator manages (`None` for anyone else).
    fn managed_unit(&self) -> Option<&str> {
        if self.has(Role::UnitAdmin) {
            self.unit.as_deref()
        } else {
            None
        }
    }

    /// Any console role at all: may open the console.
    pub fn any(&self) -> bool {
        !self.roles.is_empty()
    }

    /// May open the people pages (and the units list).
    pub fn may_list_people(&self) -> bool {
        self.is_super() || self.has(Role::Auditor) || self.managed_unit().is_some()
    }

    /// The unit a people list is limited to: `Some` for a unit administrator
    /// (who is neither super administrator nor auditor).
    pub fn people_scope(&self) -> Option<&str> {
        if self.is_super() || self.has(Role::Auditor) {
            None
        } else {
            self.managed_unit()
        }
    }

    /// May see this person (else: not found).
    pub fn may_see(&self, person: &User) -> bool {
        if self.is_super() || self.has(Role::Auditor) || self.user_id == person.id {
            return true;
        }
        self.managed_unit()
            .is_some_and(|u| person.unit.as_deref() == Some(u))
    }

    /// May disable, enable, unlock and reset the factors of this person.
    pub fn may_change(&self, person: &User) -> bool {
        if self.is_super() {
            return true;
        }
        // A unit administrator changes the people of their unit, never a
        // super administrator nor themselves.
        self.managed_unit()
            .is_some_and(|u| person.unit.as_deref() == Some(u))
            && !person.is_admin()
            && self.user_id != person.id
    }

    /// May grant or revoke `role` for this person.
    pub fn may_grant(&self, role: Role, person: &User) -> bool {
        if self.user_id == person.id {
            return false;
        }
        if self.is_super() {
            return true;
        }
        // The auditor reads the whole province: only a super administrator
        // grants (or takes back) more than the granter holds.
        role == Role::Clerk && self.may_change(person)
    }

    /// May read the whole audit log.
    pub fn may_read_audit(&self) -> bool {
        self.is_super() || self.has(Role::Auditor) || self.managed_unit().is_some()
    }

    /// The unit whose people's events an audit reader is limited to.
    pub fn audit_scope(&self) -> Option<&str> {
        self.people_scope()
    }

    /// May register apps and clients.
    pub fn may_manage_apps(&self) -> bool {
        self.is_super()
    }

    /// May see the apps and clients pages.
    pub fn may_see_apps(&self) -> bool {
        self.is_super() || self.has(Role::Auditor)
    }

    /// May link and unlink the legacy accounts of people of `unit`.
    pub fn may_manage_links(&self, unit: Option<&str>) -> bool {
        self.is_super() || (unit.is_some() && self.managed_unit() == unit)
    }

    /// May see the account-link pages.
    pub fn may_see_links(&self) -> bool {
        self.is_super() || self.has(Role::Auditor) || self.managed_unit().is_some()
    }
}

/// `true` when the person holds `role` (the signing service asks for `Clerk`).
pub async fn has(store: &Store, user: &User, role: Role) -> Result<bool, StoreError> {
    Ok(Powers::load(store, user).await?.has(role))
}

/// `true` when the person holds any console role (then a second factor is
/// required at every sign-in, like administrators).
pub async fn any(store: &Store, user: &User) -> Result<bool, StoreError> {
    Ok(user.is_admin() || !store.roles_of(&user.id).await?.is_empty())
}

fn names(roles: &[Role]) -> String {
    let v: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    if v.is_empty() {
        "-".into()
    } else {
        v.join(",")
    }
}

/// Grants (`on`) or revokes `role` for `person`, if `by` may (`None` for the
/// command line, which may do anything). Returns `false` when nothing changed.
pub async fn set(
    store: &Store,
    by: Option<&Powers>,
    person: &User,
    role: Role,
    on: bool,
    actor: &Actor,
    now: i64,
) -> Result<bool, RoleError> {
    if let Some(p) = by {
        if !p.may_see(person) {
            return Err(RoleError::NotFound);
        }
        if !p.may_grant(role, person) {
            return Err(RoleError::Forbidden(actor.0.clone()));
        }
    }
    if on && role == Role::UnitAdmin && person.unit.as_deref().is_none_or(str::is_empty) {
        return Err(RoleError::NoUnit);
    }
    // The flag as stored now, not as the caller read it.
    let person = &store
        .user_by_id(&person.id)
        .await?
        .ok_or(RoleError::NotFound)?;
    let before = Powers::load(store, person).await?;
    let changed = match (role, on) {
        (Role::SuperAdmin, true) => {
            !person.is_admin() && store.set_super_admin(&person.id, true, now).await?
        }
        (Role::SuperAdmin, false) => {
            if !person.is_admin() {
                false
            } else if store.set_super_admin(&person.id, false, now).await? {
                true
            } else {
                return Err(RoleError::LastSuperAdmin);
            }
        }
        (r, true) => store.grant_role(&person.id, r, &actor.0, now).await?,
        (r, false) => store.revoke_role(&person.id, r).await?,
    };
    if changed {
        let mut after = before.roles.clone();
        if on {
            after.push(role);
        } else {
            after.retain(|r| *r != role);
        }
        let kind = if on {
            Kind::AdminRoleGranted
        } else {
            Kind::AdminRoleRevoked
        };
        let detail = format!(
            "role {role}; before {}; after {}",
            names(&before.roles),
            names(&after)
        );
        audit(store, actor, kind, &person.email, Some(detail), now).await?;
    }
    Ok(changed)
}

#[cfg(test)]
mod tests;
