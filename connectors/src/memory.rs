//! A directory held in memory: people and their passwords (argon2 PHC hashes,
//! or plain text for tests and demos). A real `Directory`, for an embedded
//! default or a test; it passes the same conformance suite as LDAP.
//!
//! Addresses are normalised as the LDAP directory normalises `mail` (trimmed,
//! NFC, lower case). Every check does the same work whatever the account:
//! one argon2 verification (against the entry's hash, or against a stand-in
//! hash for an unknown account and for a plain password, which is then
//! compared in constant time), off the async threads.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use subtle::ConstantTimeEq;
use unicode_normalization::UnicodeNormalization;

use crate::directory::{Directory, DirectoryError, Identity, LoginOutcome};

/// How a person's password is kept.
#[derive(Clone)]
pub enum Password {
    /// An argon2 PHC string (`$argon2id$v=19$…`).
    Argon2(String),
    /// The password itself (tests, demos): compared in constant time.
    Plain(String),
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password or its hash in a log.
        f.write_str(match self {
            Password::Argon2(_) => "Argon2(…)",
            Password::Plain(_) => "Plain(…)",
        })
    }
}

/// Verifies `typed` against an argon2 PHC string (counted in `runs`); a
/// string that is not one matches nothing.
fn argon2_matches(runs: &AtomicU64, phc: &str, typed: &str) -> bool {
    runs.fetch_add(1, Ordering::Relaxed);
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(typed.as_bytes(), &h)
            .is_ok()
    })
}

/// The hash verified when there is no entry's hash to verify (an unknown
/// account, a plain password), so every check costs one argon2 run. Made once,
/// with the default parameters of the hashes this directory is given.
fn stand_in() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        SaltString::from_b64("c3RhbmQtaW4tc2FsdA")
            .ok()
            .and_then(|salt| {
                Argon2::default()
                    .hash_password(b"no password is this one", &salt)
                    .ok()
                    .map(|h| h.to_string())
            })
            .unwrap_or_default()
    })
}

impl Password {
    /// One argon2 verification whatever the password's form.
    fn matches(&self, runs: &AtomicU64, typed: &str) -> bool {
        match self {
            Password::Argon2(phc) => argon2_matches(runs, phc, typed),
            Password::Plain(p) => {
                let _ = argon2_matches(runs, stand_in(), typed);
                // Plain passwords are for tests and demos; only their length
                // can show in the time taken.
                bool::from(p.as_bytes().ct_eq(typed.as_bytes()))
            }
        }
    }
}

#[derive(Clone, Debug)]
struct Entry {
    identity: Identity,
    password: Password,
    disabled: bool,
}

/// People and passwords in memory, by normalised address.
#[derive(Debug, Default)]
pub struct MemoryDirectory {
    people: RwLock<BTreeMap<String, Entry>>,
    /// argon2 verifications done, to show every check costs one.
    hashes: Arc<AtomicU64>,
}

/// An address as the directory keys it: trimmed, NFC, lower case.
pub fn normalise_mail(mail: &str) -> String {
    mail.trim().nfc().collect::<String>().to_lowercase()
}

impl MemoryDirectory {
    pub fn new() -> MemoryDirectory {
        MemoryDirectory::default()
    }

    /// Adds or replaces a person; their address is normalised.
    pub fn insert(&self, identity: Identity, password: Password) {
        let email = normalise_mail(&identity.email);
        let entry = Entry {
            identity: Identity {
                email: email.clone(),
                ..identity
            },
            password,
            disabled: false,
        };
        self.write().insert(email, entry);
    }

    /// Disables (or enables again) a person: a disabled person's right
    /// password is refused like a wrong one. Returns whether they exist.
    pub fn set_disabled(&self, email: &str, disabled: bool) -> bool {
        match self.write().get_mut(&normalise_mail(email)) {
            Some(e) => {
                e.disabled = disabled;
                true
            }
            None => false,
        }
    }

    /// Removes a person (they left).
    pub fn remove(&self, email: &str) -> bool {
        self.write().remove(&normalise_mail(email)).is_some()
    }

    /// The argon2 verifications done so far.
    pub fn hashes(&self) -> u64 {
        self.hashes.load(Ordering::Relaxed)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Entry>> {
        // A panic while holding the lock leaves the map whole: keep using it.
        self.people.write().unwrap_or_else(|e| e.into_inner())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Entry>> {
        self.people.read().unwrap_or_else(|e| e.into_inner())
    }
}

impl Directory for MemoryDirectory {
    async fn authenticate(
        &self,
        email: &str,
        password: &str,
    ) -> Result<LoginOutcome, DirectoryError> {
        // The account looked up is the account signed in: an address that is
        // not already normalised names no entry, as with LDAP.
        let entry = self.read().get(email).cloned();
        let stored = entry.as_ref().map(|e| e.password.clone());
        let typed = password.to_owned();
        let hashes = Arc::clone(&self.hashes);
        // argon2 takes tens of milliseconds: not on an async worker thread.
        let matches = tokio::task::spawn_blocking(move || match stored {
            Some(p) => p.matches(&hashes, &typed),
            None => {
                let _ = argon2_matches(&hashes, stand_in(), &typed);
                false
            }
        })
        .await
        .map_err(|e| DirectoryError::Other(format!("password check: {e}")))?;
        Ok(match entry {
            // The empty password is refused, as LDAP refuses it (an empty
            // bind would be unauthenticated, RFC 4513 §5.1.2).
            Some(e) if matches && !e.disabled && !password.is_empty() => {
                LoginOutcome::Authenticated(e.identity)
            }
            _ => LoginOutcome::InvalidCredentials,
        })
    }

    async fn list_people(&self) -> Result<Vec<Identity>, DirectoryError> {
        Ok(self
            .read()
            .values()
            .filter(|e| !e.disabled)
            .map(|e| e.identity.clone())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(email: &str) -> Identity {
        Identity {
            email: email.into(),
            name: "Lê Hồng Hương".into(),
            phone: None,
            unit: None,
            title: None,
            employee_code: None,
            department: None,
        }
    }

    #[tokio::test]
    async fn addresses_are_kept_in_nfc_lower_case() {
        let d = MemoryDirectory::new();
        // "Đ" and "ư" decomposed (NFD), upper case, with spaces around.
        let nfd = " Hu\u{031b}o\u{031b}ngLH@BinhPhuoc.gov.vn ";
        d.insert(person(nfd), Password::Plain("mật khẩu".into()));
        let nfc = "hươnglh@binhphuoc.gov.vn";
        let LoginOutcome::Authenticated(who) = d.authenticate(nfc, "mật khẩu").await.unwrap()
        else {
            panic!("the NFC address signs in");
        };
        assert_eq!(who.email, nfc);
    }

    #[tokio::test]
    async fn argon2_hashes_are_checked_and_disabled_people_refused() {
        let salt = SaltString::from_b64("c29tZXNhbHRzb21lc2FsdA").unwrap();
        let phc = Argon2::default()
            .hash_password(b"long enough", &salt)
            .unwrap()
            .to_string();
        let d = MemoryDirectory::new();
        d.insert(person("a@x.vn"), Password::Argon2(phc));
        assert!(matches!(
            d.authenticate("a@x.vn", "long enough").await.unwrap(),
            LoginOutcome::Authenticated(_)
        ));
        assert_eq!(
            d.authenticate("a@x.vn", "long enougH").await.unwrap(),
            LoginOutcome::InvalidCredentials
        );
        assert!(d.set_disabled("A@X.vn", true));
        assert_eq!(
            d.authenticate("a@x.vn", "long enough").await.unwrap(),
            LoginOutcome::InvalidCredentials,
            "a disabled person is refused like a wrong password"
        );
        assert!(d.list_people().await.unwrap().is_empty());
        assert!(d.remove("a@x.vn") && !d.remove("a@x.vn"));
    }

    #[tokio::test]
    async fn every_check_costs_one_argon2_run() {
        let salt = SaltString::from_b64("c29tZXNhbHRzb21lc2FsdA").unwrap();
        let phc = Argon2::default()
            .hash_password(b"long enough", &salt)
            .unwrap()
            .to_string();
        let d = MemoryDirectory::new();
        d.insert(person("a@x.vn"), Password::Argon2(phc));
        d.insert(person("b@x.vn"), Password::Plain("long enough".into()));
        for (account, typed) in [
            ("a@x.vn", "long enough"),
            ("a@x.vn", "wrong"),
            ("b@x.vn", "long enough"),
            ("b@x.vn", "wrong"),
            ("nobody@x.vn", "long enough"),
        ] {
            let before = d.hashes();
            d.authenticate(account, typed).await.unwrap();
            assert_eq!(d.hashes() - before, 1, "{account} {typed}");
        }
        assert!(!stand_in().is_empty(), "the stand-in is a real hash");
        assert!(PasswordHash::new(stand_in()).is_ok());
    }

    #[test]
    fn debug_never_shows_a_password() {
        let d = MemoryDirectory::new();
        d.insert(person("a@x.vn"), Password::Plain("s3cret-value".into()));
        assert!(!format!("{d:?}").contains("s3cret-value"));
    }
}
