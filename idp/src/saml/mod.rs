//! SAML 2.0 IdP (Web Browser SSO and Single Logout profiles, SAML 2.0
//! profiles §4.1 and §4.4) from the same sign-in session as OIDC and CAS.
//! `xml` (reading what apps send under hard limits; writing canonical
//! form), `dsig` (the IdP key, enveloped signatures, the Redirect binding's
//! query signature), `metadata` (ours, signed; theirs, read at
//! registration), `bindings` (HTTP-Redirect and HTTP-POST in and out),
//! `registry` (the SPs and what each is told), `sso` (AuthnRequest →
//! signed Response, and IdP-initiated sign-in from the portal), `slo`
//! (LogoutRequest/LogoutResponse both ways).

pub mod bindings;
pub mod dsig;
pub mod metadata;
pub mod registry;
pub mod slo;
pub mod sso;
pub mod verify;
pub mod xml;
pub mod xmlenc;

use crate::auth::session::SessionError;
use crate::cache::CacheError;
use crate::crypto::CryptoError;
use crate::store::StoreError;

pub const NS_SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
pub const NS_SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub const NS_MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
pub const BINDING_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
pub const BINDING_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
pub const NAMEID_EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
pub const NAMEID_PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
pub const NAMEID_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";
pub const NAMEID_TRANSIENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
pub const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
pub const STATUS_REQUESTER: &str = "urn:oasis:names:tc:SAML:2.0:status:Requester";
pub const STATUS_RESPONDER: &str = "urn:oasis:names:tc:SAML:2.0:status:Responder";
pub const STATUS_NO_PASSIVE: &str = "urn:oasis:names:tc:SAML:2.0:status:NoPassive";
pub const STATUS_UNKNOWN_PRINCIPAL: &str = "urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal";
pub const STATUS_PARTIAL_LOGOUT: &str = "urn:oasis:names:tc:SAML:2.0:status:PartialLogout";
pub const STATUS_INVALID_NAMEID_POLICY: &str =
    "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy";
pub const AC_PASSWORD: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";
/// A sign-in with a second factor (REFEDS MFA profile).
pub const AC_MFA: &str = "https://refeds.org/profile/mfa";

/// How far an app's clock may be from ours, and how old a request may be.
pub const CLOCK_SKEW_SECS: i64 = 180;
pub const REQUEST_MAX_AGE_SECS: i64 = 600;

#[derive(Debug, thiserror::Error)]
pub enum SamlError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Oidc(#[from] crate::oidc::OidcError),
    #[error("SAML key: {0}")]
    Key(String),
    #[error("SP metadata: {0}")]
    Metadata(String),
}

/// A new message or assertion ID: an NCName (`_` then 32 random bytes, hex).
pub fn new_id() -> Result<String, CryptoError> {
    let bytes = crate::crypto::random_bytes(20)?;
    Ok(std::iter::once('_')
        .chain(bytes.iter().flat_map(|b| {
            let hex = b"0123456789abcdef";
            [
                char::from(hex[usize::from(b >> 4)]),
                char::from(hex[usize::from(b & 15)]),
            ]
        }))
        .collect())
}

/// Text from a message for a log line or an audit row: at most 200
/// characters, control characters replaced.
pub fn clip(s: &str) -> String {
    s.chars()
        .take(200)
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

/// The client id shown for SP `entity_id` beside OIDC clients (the sign-out
/// page, the audit log): `saml:ENTITY_ID`.
pub fn client_label(entity_id: &str) -> String {
    format!("saml:{entity_id}")
}

/// An `xs:dateTime` in UTC with seconds, as SAML writes instants.
pub fn instant(t: i64) -> String {
    crate::signing::tsp::rfc3339(t)
}

/// Reads an `xs:dateTime` (UTC, `Z` or `+00:00`, optional fraction).
pub fn parse_instant(s: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::parse(s.trim(), &Rfc3339)
        .ok()
        .map(time::OffsetDateTime::unix_timestamp)
}

/// The IdP's SAML side, built at start when `[saml] enabled`.
#[derive(Debug)]
pub struct Saml {
    pub key: dsig::IdpKey,
    pub urls: metadata::IdpUrls,
    /// `/saml/metadata`, signed once at start (the key and addresses do not change while running).
    pub metadata: String,
}

impl Saml {
    pub async fn open(
        config: &crate::config::Config,
        store: &crate::store::Store,
        master: &crate::crypto::MasterKey,
    ) -> Result<Saml, SamlError> {
        let key = dsig::IdpKey::open(store, master, crate::now()).await?;
        let urls = metadata::IdpUrls::new(config.issuer(), config.saml.entity_id.as_deref());
        let metadata = metadata::idp_metadata(&key, &urls, config.saml.want_authn_requests_signed)?;
        Ok(Saml {
            key,
            urls,
            metadata,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_ncnames_and_instants_read_back() {
        let id = new_id().unwrap_or_default();
        assert_eq!(id.len(), 41);
        assert!(id.starts_with('_'));
        assert_ne!(id, new_id().unwrap_or_default());
        assert_eq!(parse_instant(&instant(1_700_000_000)), Some(1_700_000_000));
        assert_eq!(
            parse_instant("2026-12-02T05:00:00.123Z"),
            Some(1_796_187_600)
        );
        assert_eq!(parse_instant("yesterday"), None);
    }
}
