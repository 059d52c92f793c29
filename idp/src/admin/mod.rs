//! What an administrator does, as domain steps: add and manage people
//! (`users`), register OIDC clients (`clients`) and portal tiles (`apps`),
//! rotate signing keys (`keys`), sync the directory (`directory`), link
//! legacy app accounts to people (`links`), console roles (`roles`), people
//! and units as the console shows them (`people`), the audit log's read side
//! (`audit_log`), admin API tokens (`api_token`) and CAS services (`cas`).
//!
//! The command line, the admin console and its JSON API call the same
//! functions, so a rule (a redirect URI must be https, a
//! public client must use PKCE, a password must pass the policy) lives once.
//! Each function takes plain data, the store and `now`; it never prints and
//! knows nothing of clap or HTTP. Every change is audited here.

pub mod api_token;
pub mod apps;
pub mod audit_log;
pub mod cas;
pub mod clients;
pub mod directory;
pub mod keys;
pub mod links;
pub mod people;
pub mod roles;
pub mod saml;
pub mod users;

use crate::audit::{self, Event, Kind};
use crate::store::{Store, StoreError};

/// Who made a change, for the audit log: `cli` for the command line, the
/// administrator's user id for the console.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor(pub String);

impl Actor {
    pub fn cli() -> Actor {
        Actor("cli".into())
    }

    /// A person acting in the console or through the admin API.
    pub fn person(id: &crate::ids::UserId) -> Actor {
        Actor(id.to_string())
    }
}

/// What a spreadsheet may read a formula from at the start of a cell.
pub const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// One cell of a CSV the IdP writes: a cell that would start a formula gets
/// a leading `'` (OWASP "CSV injection"), and a cell holding a separator
/// (`,`, or the `;` a spreadsheet in a comma-decimal locale splits on), a
/// quote or a line break is quoted, so no part of it starts a cell of its own.
pub fn csv_cell(v: &str) -> String {
    let v = if v.starts_with(FORMULA_START) {
        format!("'{v}")
    } else {
        v.to_owned()
    };
    if v.contains([',', ';', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

/// The one place administrative changes reach the audit log.
async fn audit(
    store: &Store,
    actor: &Actor,
    kind: Kind,
    subject: &str,
    detail: Option<String>,
    now: i64,
) -> Result<(), StoreError> {
    let mut e = Event::new(kind, now)
        .actor(actor.0.as_str())
        .subject(subject);
    e.detail = detail;
    audit::record(store, e).await
}

/// An identifier an administrator chooses (client or app id): 1–64 of
/// `A-Z a-z 0-9 . _ -`, so it is safe in URLs, logs and tab-separated lists.
fn id_ok(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

/// A URI we send people or tokens to: absolute, no fragment, https (or
/// http on loopback, or anywhere with `insecure_http`).
pub fn check_redirect_uri(uri: &str, insecure_http: bool) -> Result<(), String> {
    let u = url::Url::parse(uri).map_err(|e| format!("{uri}: {e}"))?;
    if u.fragment().is_some() {
        return Err(format!("{uri}: must not have a fragment (RFC 6749 §3.1.2)"));
    }
    let loopback = matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match u.scheme() {
        "https" => Ok(()),
        "http" if loopback || insecure_http => Ok(()),
        "http" => Err(format!(
            "{uri}: use https (or pass --insecure-http for an intranet app)"
        )),
        s => Err(format!("{uri}: scheme {s} is not allowed")),
    }
}

#[cfg(test)]
pub(crate) use crate::testing::test_store;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_must_be_https_outside_loopback() {
        assert!(check_redirect_uri("https://app.gov.vn/cb", false).is_ok());
        assert!(check_redirect_uri("http://127.0.0.1:9000/cb", false).is_ok());
        assert!(check_redirect_uri("http://app.gov.vn/cb", false).is_err());
        assert!(check_redirect_uri("http://app.gov.vn/cb", true).is_ok());
        assert!(check_redirect_uri("https://app.gov.vn/cb#x", false).is_err());
        assert!(check_redirect_uri("javascript:alert(1)", true).is_err());
        assert!(check_redirect_uri("/relative", false).is_err());
    }

    #[test]
    fn ids_are_short_and_plain() {
        assert!(id_ok("vanban.v2_test-1"));
        assert!(!id_ok(""));
        assert!(!id_ok(&"a".repeat(65)));
        assert!(!id_ok("văn-bản"));
        assert!(!id_ok("a b"));
    }
}
