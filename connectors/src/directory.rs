//! The `Directory` capability: check a person's password and say who they are.
//!
//! A wrong password is an outcome, not an error; an unreachable directory is an
//! error, so the caller can tell the person the directory is down instead of
//! blaming their password.

use std::future::Future;

/// A person as the directory knows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The official e-mail, normalised (lower case, NFC).
    pub email: String,
    pub name: String,
    pub phone: Option<String>,
    pub unit: Option<String>,
    pub title: Option<String>,
    pub employee_code: Option<String>,
    /// Phòng ban, within the unit.
    pub department: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoginOutcome {
    Authenticated(Identity),
    /// Unknown account, wrong password or disabled account: one outcome, so
    /// callers cannot leak which.
    InvalidCredentials,
}

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("directory unreachable: {0}")]
    Unavailable(String),
    #[error("directory error: {0}")]
    Other(String),
}

/// Checks credentials against a source of people, and lists them.
pub trait Directory: Send + Sync {
    /// Checks `password` for the account `email`, an address already
    /// normalised (trimmed, NFC, lower case): the identity returned is that
    /// account's, never another one the directory also matched.
    fn authenticate(
        &self,
        email: &str,
        password: &str,
    ) -> impl Future<Output = Result<LoginOutcome, DirectoryError>> + Send;

    /// Everyone who may sign in, each with their normalised address, for a
    /// sync. A source that cannot list people (local accounts, which are
    /// already here) says so as an error.
    fn list_people(&self) -> impl Future<Output = Result<Vec<Identity>, DirectoryError>> + Send {
        async {
            Err(DirectoryError::Other(
                "this directory does not list people".into(),
            ))
        }
    }
}
