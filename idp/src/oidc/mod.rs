//! OpenID Connect provider: discovery, JWKS and key rotation, authorize,
//! token, userinfo, introspection, revocation and RP-initiated logout
//! (OIDC Core 1.0, Discovery 1.0, RFC 6749, 7636, 7009, 7662, 9068, 9207).

pub mod authorize;
pub mod backchannel;
pub mod client_auth;
pub mod discovery;
pub mod introspection;
pub mod keys;
pub mod logout;
pub mod params;
pub mod revocation;
pub mod token;
pub mod tokens;
pub mod userinfo;

use crate::auth::session::SessionError;
use crate::cache::CacheError;
use crate::crypto::CryptoError;
use crate::jose::JoseError;
use crate::store::StoreError;

/// Errors of the OAuth endpoints (RFC 6749 §5.2); the edge turns them into
/// JSON bodies with the right status.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    /// Client authentication failed (401; `WWW-Authenticate` when Basic was tried).
    #[error("invalid_client: {reason}")]
    InvalidClient { reason: String, basic: bool },
    #[error("invalid_grant: {0}")]
    InvalidGrant(String),
    #[error("unauthorized_client: {0}")]
    UnauthorizedClient(String),
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    #[error("invalid_scope: {0}")]
    InvalidScope(String),
    /// A `resource` the client may not name (RFC 8707 §2).
    #[error("invalid_target: {0}")]
    InvalidTarget(String),
    /// A bearer token that is missing, expired or revoked (RFC 6750 §3.1).
    #[error("invalid_token: {0}")]
    InvalidToken(String),
    #[error("insufficient_scope: {0}")]
    InsufficientScope(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Jose(#[from] JoseError),
    #[error(transparent)]
    Session(#[from] SessionError),
    /// Keeping the half-signed-in state of a step-up.
    #[error(transparent)]
    Mfa(#[from] crate::auth::mfa::MfaError),
}

impl OidcError {
    /// The RFC 6749 `error` code.
    pub fn code(&self) -> &'static str {
        match self {
            OidcError::InvalidRequest(_) => "invalid_request",
            OidcError::InvalidClient { .. } => "invalid_client",
            OidcError::InvalidGrant(_) => "invalid_grant",
            OidcError::UnauthorizedClient(_) => "unauthorized_client",
            OidcError::UnsupportedGrantType => "unsupported_grant_type",
            OidcError::InvalidScope(_) => "invalid_scope",
            OidcError::InvalidTarget(_) => "invalid_target",
            OidcError::InvalidToken(_) => "invalid_token",
            OidcError::InsufficientScope(_) => "insufficient_scope",
            _ => "server_error",
        }
    }

    /// A description safe to show the client (no internals).
    pub fn description(&self) -> Option<String> {
        match self {
            OidcError::InvalidRequest(d)
            | OidcError::InvalidGrant(d)
            | OidcError::UnauthorizedClient(d)
            | OidcError::InvalidScope(d)
            | OidcError::InvalidTarget(d)
            | OidcError::InvalidToken(d)
            | OidcError::InsufficientScope(d) => Some(d.clone()),
            OidcError::InvalidClient { .. } => Some("client authentication failed".into()),
            _ => None,
        }
    }
}

/// Scopes this provider knows; others are dropped (RFC 6749 §3.3 lets us narrow).
pub const SCOPES: &[&str] = &["openid", "profile", "email", "phone", "offline_access"];

/// The scope of the JSON admin API (`/api/admin/v1`): granted only to a
/// client registered for it (`idp client add --scope admin`) and only when
/// the request asks for it; the API also wants a person with a role and a
/// second factor.
pub const ADMIN_SCOPE: &str = "admin";

/// The scope of the signing API (`/api/v1/signing`): granted like `admin`,
/// only to a client registered for it (`idp client add --scope sign`); the
/// API also wants a second factor.
pub const SIGN_SCOPE: &str = "sign";

/// The scopes a person's sign-in grants only to a client registered for them.
pub const REGISTERED_SCOPES: [&str; 2] = [ADMIN_SCOPE, SIGN_SCOPE];

/// The known scopes of `scope`, plus those of [`REGISTERED_SCOPES`] asked
/// for by a client registered for them (`allowed`: the client's registered scopes).
pub fn granted_scopes(scope: Option<&str>, allowed: &[String]) -> Vec<String> {
    let mut out = known_scopes(scope);
    let asked: Vec<&str> = scope.unwrap_or_default().split(' ').collect();
    for s in REGISTERED_SCOPES {
        if asked.contains(&s) && allowed.iter().any(|a| a == s) {
            out.push(s.to_owned());
        }
    }
    out
}

/// Splits a scope string and keeps the known scopes, in a stable order.
pub fn known_scopes(scope: Option<&str>) -> Vec<String> {
    let asked: Vec<&str> = scope
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    SCOPES
        .iter()
        .filter(|s| asked.contains(s))
        .map(|s| (*s).to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_scopes_are_dropped_and_order_is_stable() {
        assert_eq!(
            known_scopes(Some("email openid  admin")),
            vec!["openid", "email"]
        );
        assert!(known_scopes(None).is_empty());
    }

    #[test]
    fn admin_is_granted_only_when_asked_by_a_client_registered_for_it() {
        let registered = vec![ADMIN_SCOPE.to_owned()];
        assert_eq!(
            granted_scopes(Some("openid admin"), &registered),
            ["openid", "admin"]
        );
        assert_eq!(granted_scopes(Some("openid"), &registered), ["openid"]);
        assert_eq!(granted_scopes(Some("openid admin"), &[]), ["openid"]);
        assert_eq!(
            granted_scopes(Some("openid administrator"), &registered),
            ["openid"]
        );
        // `sign` likewise, each scope for itself.
        assert_eq!(
            granted_scopes(Some("openid sign admin"), &registered),
            ["openid", "admin"]
        );
        let both = vec![SIGN_SCOPE.to_owned(), ADMIN_SCOPE.to_owned()];
        assert_eq!(
            granted_scopes(Some("sign openid"), &both),
            ["openid", "sign"]
        );
    }
}

#[cfg(test)]
mod flow_tests;
