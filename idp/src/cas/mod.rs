//! CAS: Apereo CAS Protocol 3.0 (<https://apereo.github.io/cas/development/protocol/CAS-Protocol-Specification.html>)
//! from the same sign-in session as OIDC. `registry` (services and how a
//! service URL matches one), `tickets` (ST, PT, PGT and PGTIOU in the shared
//! cache, taken once), `login` (`/cas/login`, §2.1–2.2, resuming after the
//! portal's sign-in), `logout` (`/cas/logout`, §2.3), `validate` (`/validate` §2.4, `/serviceValidate` and
//! `/proxyValidate` §2.5–2.6, their `/p3/` forms with attributes),
//! `proxy` (`/proxy` §2.7 and the proxy callback §2.5.4), `response`
//! (the XML and JSON bodies, appendix A and §2.5.8 (JSON)), `slo` (single
//! logout: the SAML `logoutRequest` of appendix C, through the outbox).
//! `flow_tests` and `policy_tests` run them on the in-process IdP.

pub mod login;
pub mod logout;
pub mod proxy;
pub mod registry;
pub mod response;
pub mod slo;
pub mod tickets;
pub mod validate;

#[cfg(test)]
mod flow_tests;
#[cfg(test)]
mod policy_tests;

use crate::auth::session::SessionError;
use crate::cache::CacheError;
use crate::crypto::CryptoError;
use crate::store::StoreError;

pub use registry::Attribute;

#[derive(Debug, thiserror::Error)]
pub enum CasError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Session(#[from] SessionError),
    /// Ending the portal session (`/cas/logout`).
    #[error(transparent)]
    Oidc(#[from] crate::oidc::OidcError),
    /// The step-up to a second factor (`--require-mfa`).
    #[error(transparent)]
    Mfa(#[from] crate::auth::mfa::MfaError),
    #[error("writing XML: {0}")]
    Xml(#[from] std::io::Error),
}

/// The longest `service`, `pgtUrl` or `targetService` accepted (CAS 3.0 §2.1.1
/// asks for the URL; browsers cap theirs near this).
pub const MAX_URL: usize = 2048;
/// The longest ticket accepted (§3.1.1: at least 32 characters, up to 256 expected).
pub const MAX_TICKET: usize = 256;

/// The longest chain of proxies a proxy-granting ticket may stand at the
/// end of (§2.6.2 `cas:proxies`): a PGT is not delivered to a sixth proxy.
pub const MAX_PROXY_CHAIN: usize = 5;

/// `true` while the portal session `sid` lives: not ended, and neither idle
/// nor past its absolute lifetime (`auth::session`). A PGT yields proxy
/// tickets, and a ticket validates, only then. Reading it does not keep the
/// session alive: only the person's own use of the portal does.
pub async fn session_live(idp: &crate::Idp, sid: &str, now: i64) -> Result<bool, CasError> {
    if crate::auth::session::has_ended(&idp.cache, sid).await? {
        return Ok(false);
    }
    let Some(row) = idp.store.session_by_sid(sid).await? else {
        return Ok(false);
    };
    if row.ended_at.is_some() {
        return Ok(false);
    }
    let cfg = &idp.config.session;
    Ok(
        crate::auth::session::peek_by_hash(&idp.cache, cfg, &row.key_hash, now)
            .await?
            .is_some_and(|s| s.sid == sid),
    )
}

/// `true` for a CAS boolean parameter that is set (`renew`, `gateway`):
/// present and not `false` (§2.1.1: "if this parameter is set").
pub fn flag(v: Option<&str>) -> bool {
    v.is_some_and(|v| !v.eq_ignore_ascii_case("false") && v != "0")
}

/// The client id shown for CAS service `id` beside OIDC clients (the
/// sign-out page, the audit log): `cas:ID`.
pub fn client_label(id: &str) -> String {
    format!("cas:{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_set_unless_false() {
        assert!(flag(Some("true")));
        assert!(flag(Some("")));
        assert!(flag(Some("1")));
        assert!(!flag(Some("false")));
        assert!(!flag(Some("FALSE")));
        assert!(!flag(None));
    }
}
