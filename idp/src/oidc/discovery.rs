//! The provider metadata (OIDC Discovery 1.0 §3, RFC 8414), built once.
//!
//! What the metadata cannot say per client:
//! - PKCE (`S256`) is required of every client, except a confidential client
//!   registered with `--pkce optional`, which may instead send a `nonce`
//!   (RFC 9700 §2.1.1); a `code_verifier` for a request without a challenge
//!   is refused.
//! - `client_credentials` grants only the scopes registered for the client
//!   (`--scope`), all of them when none is asked; a `resource` (RFC 8707)
//!   must be registered for the client (`--resource`) and becomes the access
//!   token's `aud`.
//! - Client assertions (`private_key_jwt`) name the issuer as their only `aud`.

use serde_json::{Value, json};

use crate::kinds::{ClientAuthMethod, GrantType};

pub const AUTHORIZE: &str = "/authorize";
pub const TOKEN: &str = "/token";
pub const USERINFO: &str = "/userinfo";
pub const JWKS: &str = "/jwks";
pub const END_SESSION: &str = "/logout";
pub const INTROSPECT: &str = "/introspect";
pub const REVOKE: &str = "/revoke";

pub fn document(issuer: &str) -> Value {
    let auth_methods = ClientAuthMethod::ALL;
    // Introspection needs a confidential client; revocation also takes public ones (RFC 7009 §2.1).
    let confidential: Vec<_> = auth_methods
        .iter()
        .filter(|m| **m != ClientAuthMethod::None)
        .collect();
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}{AUTHORIZE}"),
        "token_endpoint": format!("{issuer}{TOKEN}"),
        "userinfo_endpoint": format!("{issuer}{USERINFO}"),
        "jwks_uri": format!("{issuer}{JWKS}"),
        "end_session_endpoint": format!("{issuer}{END_SESSION}"),
        "introspection_endpoint": format!("{issuer}{INTROSPECT}"),
        "revocation_endpoint": format!("{issuer}{REVOKE}"),
        "scopes_supported": super::SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": GrantType::ALL,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "userinfo_signing_alg_values_supported": [],
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256"],
        "introspection_endpoint_auth_methods_supported": confidential,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login", "consent"],
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid",
            "email", "email_verified", "name", "phone_number"
        ],
        "acr_values_supported": ["1", "2"],
        "authorization_response_iss_parameter_supported": true,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "frontchannel_logout_supported": true,
        "frontchannel_logout_session_supported": true,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "ui_locales_supported": ["vi", "en"],
    })
}
