//! The local directory: people whose argon2id password hash lives in our
//! database (administrators, contractors, and everyone until LDAP is set up).

use connectors::{Directory, DirectoryError, Identity, LoginOutcome};

use super::password::{Check, Hasher};
use crate::ids::Email;
use crate::store::Store;

pub struct LocalDirectory {
    pub store: Store,
    pub hasher: Hasher,
}

impl Directory for LocalDirectory {
    async fn authenticate(
        &self,
        email: &str,
        password: &str,
    ) -> Result<LoginOutcome, DirectoryError> {
        let user = match Email::parse(email) {
            Ok(email) => self
                .store
                .user_by_email(&email)
                .await
                .map_err(|e| DirectoryError::Unavailable(e.to_string()))?,
            Err(_) => None,
        };
        let usable = user.as_ref().filter(|u| !u.is_disabled());
        // Unknown, disabled and password-less accounts still pay for one hash.
        let hash = usable.and_then(|u| u.password_hash.clone());
        let check = self
            .hasher
            .check(hash, password.to_owned())
            .await
            .map_err(|e| DirectoryError::Other(e.to_string()))?;
        let (Check::Match { needs_rehash }, Some(user)) = (check, usable) else {
            return Ok(LoginOutcome::InvalidCredentials);
        };
        if needs_rehash {
            // Upgrade to the current parameters; a failure only delays the upgrade.
            match self.hasher.hash(password.to_owned()).await {
                Ok(new) => {
                    if let Err(e) = self
                        .store
                        .set_password_hash(&user.id, &new, crate::now())
                        .await
                    {
                        tracing::warn!(error = %e, "password hash upgrade not saved");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "password hash upgrade failed"),
            }
        }
        Ok(LoginOutcome::Authenticated(Identity {
            email: user.email.to_string(),
            name: user.name.clone(),
            phone: user.phone.clone(),
            unit: user.unit.clone(),
            title: user.title.clone(),
            employee_code: user.employee_code.clone(),
            department: None,
        }))
    }
}
