//! Which directory checks a password: the official-mail directory (LDAP)
//! when one is configured, except for people with a local password
//! (administrators, contractors); otherwise the local accounts. A person the
//! directory lets in gets (or refreshes) their row here, marked as coming
//! from the directory, so name and unit stay the directory's.
//!
//! The account looked up is the account signed in: the directory's entry
//! must name exactly the address typed (one `mail`, inside the domain), and
//! a local account is never turned into a directory one at sign-in; such a
//! conflict is refused and audited (`auth.directory_refused`), as the sync
//! leaves local accounts alone.
//!
//! Every check does the same work, so the time taken does not tell unknown,
//! directory and local accounts apart: one password hash, one directory
//! search and one bind (a stand-in where there is nothing to bind as), the
//! hash running beside the directory's work. Chosen over a fixed minimum
//! time, which would have to exceed the slowest directory answer for
//! everyone, and still tell accounts apart whenever the directory is slower.

use connectors::{Bind, Directory, DirectoryError, LdapDirectory, LoginOutcome};

use super::local::LocalDirectory;
use crate::audit::{self, Event, Kind};
use crate::crypto;
use crate::ids::{Email, UserId};
use crate::kinds::UserSource;
use crate::store::Store;

pub struct Directories {
    pub local: LocalDirectory,
    pub ldap: Option<LdapDirectory>,
    pub store: Store,
}

impl Directories {
    /// A directory entry that signs nobody in (it names another account, or
    /// claims one from another source): logged and audited.
    async fn refuse(&self, email: &str, detail: String) -> LoginOutcome {
        tracing::warn!(account = %email, %detail, "directory sign-in refused");
        let event = Event::new(Kind::DirectoryRefused, crate::now())
            .subject(email)
            .detail(detail);
        if let Err(e) = audit::record(&self.store, event).await {
            tracing::error!(error = %e, "audit event not recorded");
        }
        LoginOutcome::InvalidCredentials
    }

    async fn by_ldap(
        &self,
        ldap: &LdapDirectory,
        email: &str,
        password: &str,
        user: Option<crate::store::User>,
    ) -> Result<LoginOutcome, DirectoryError> {
        let unavailable = |e: crate::store::StoreError| DirectoryError::Unavailable(e.to_string());
        // The hash a local account would cost, beside the directory's work.
        let (bound, _) = tokio::join!(
            ldap.bind(email, password),
            self.local.hasher.check(None, password.to_owned())
        );
        let (dn, identity) = match bound? {
            Bind::No => return Ok(LoginOutcome::InvalidCredentials),
            Bind::Unfit { dn, reason } => {
                return Ok(self
                    .refuse(email, format!("directory entry {dn}: {reason}"))
                    .await);
            }
            Bind::Ok { dn, identity } => (dn, identity),
        };
        if identity.email != email {
            return Ok(self
                .refuse(
                    email,
                    format!(
                        "directory entry {dn} names {}, not the account looked up",
                        identity.email
                    ),
                )
                .await);
        }
        if let Some(u) = &user
            && u.source != UserSource::Directory
        {
            return Ok(self
                .refuse(
                    email,
                    format!(
                        "directory entry {dn} claims the {} account; not converted",
                        u.source
                    ),
                )
                .await);
        }
        let id =
            UserId::from(crypto::random_id().map_err(|e| DirectoryError::Other(e.to_string()))?);
        let user = self
            .store
            .upsert_directory_user(&id, &identity, UserSource::Directory, crate::now())
            .await
            .map_err(unavailable)?;
        // Became a local account meanwhile: the store left it alone.
        if user.source != UserSource::Directory {
            return Ok(self
                .refuse(
                    email,
                    format!("directory entry {dn} claims a local account; not converted"),
                )
                .await);
        }
        // Disabled here (by an admin, or as a leaver at the last sync): no entry.
        if user.is_disabled() {
            return Ok(LoginOutcome::InvalidCredentials);
        }
        Ok(LoginOutcome::Authenticated(identity))
    }
}

impl Directory for Directories {
    async fn authenticate(
        &self,
        email: &str,
        password: &str,
    ) -> Result<LoginOutcome, DirectoryError> {
        let Some(ldap) = &self.ldap else {
            return self.local.authenticate(email, password).await;
        };
        let unavailable = |e: crate::store::StoreError| DirectoryError::Unavailable(e.to_string());
        let user = match Email::parse(email) {
            Ok(email) => self
                .store
                .user_by_email(&email)
                .await
                .map_err(unavailable)?,
            Err(_) => None,
        };
        if user
            .as_ref()
            .is_some_and(|u| u.source == UserSource::Local && u.password_hash.is_some())
        {
            // The directory's work beside the hash, so local accounts take as long.
            let (outcome, ()) =
                tokio::join!(self.local.authenticate(email, password), ldap.spend(email));
            return outcome;
        }
        self.by_ldap(ldap, email, password, user).await
    }
}
