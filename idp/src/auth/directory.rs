//! Which directory checks a password: the official-mail directory (LDAP)
//! when one is configured, except for people with a local password
//! (administrators, contractors); otherwise the local accounts. A person the
//! directory lets in gets (or refreshes) their row here, marked as coming
//! from the directory, so name and unit stay the directory's.

use connectors::{Directory, DirectoryError, LdapDirectory, LoginOutcome};

use super::local::LocalDirectory;
use crate::crypto;
use crate::store::Store;

pub struct Directories {
    pub local: LocalDirectory,
    pub ldap: Option<LdapDirectory>,
    pub store: Store,
}

/// What the `source` column says of people from the directory.
pub const LDAP_SOURCE: &str = "ldap";

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
        let user = self.store.user_by_email(email).await.map_err(unavailable)?;
        if user
            .as_ref()
            .is_some_and(|u| u.source == "local" && u.password_hash.is_some())
        {
            return self.local.authenticate(email, password).await;
        }
        let LoginOutcome::Authenticated(identity) = ldap.authenticate(email, password).await?
        else {
            return Ok(LoginOutcome::InvalidCredentials);
        };
        let id = crypto::random_id().map_err(|e| DirectoryError::Other(e.to_string()))?;
        let user = self
            .store
            .upsert_directory_user(&id, &identity, LDAP_SOURCE, crate::now())
            .await
            .map_err(unavailable)?;
        // Disabled here (by an admin, or as a leaver at the last sync): no entry.
        if user.is_disabled() {
            return Ok(LoginOutcome::InvalidCredentials);
        }
        Ok(LoginOutcome::Authenticated(identity))
    }
}
