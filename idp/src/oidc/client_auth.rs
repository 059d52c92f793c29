//! Client authentication at the token, introspection and revocation
//! endpoints (RFC 6749 §2.3, OIDC Core §9): `client_secret_basic`,
//! `client_secret_post`, `private_key_jwt` (RFC 7523) and `none`.
//! A client must use the method it registered.
//! A public client (`none`) is identified, not authenticated: introspection
//! refuses it (see `introspection.rs`).

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::{OidcError, params};
use crate::Idp;
use crate::cache::CacheBackend;
use crate::crypto;
use crate::ids::ClientId;
use crate::jose;
use crate::kinds::ClientAuthMethod;
use crate::store::Client;

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// What the request carried to authenticate the client. The secrets are
/// `SecretString`s: a `Debug` of the request never shows them.
#[derive(Debug, Default)]
pub struct Presented {
    /// From `Authorization: Basic` (already form-url-decoded).
    pub basic: Option<(String, SecretString)>,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    pub assertion_type: Option<String>,
    pub assertion: Option<String>,
}

/// The `Authorization: Basic` pair as the edge decoded it, its secret wrapped.
pub fn basic_pair(basic: Option<(String, String)>) -> Option<(String, SecretString)> {
    basic.map(|(id, secret)| (id, SecretString::from(secret)))
}

fn fail(reason: &str, basic: bool) -> OidcError {
    OidcError::InvalidClient {
        reason: reason.to_owned(),
        basic,
    }
}

/// Authenticates the client.
pub async fn authenticate(idp: &Idp, p: &Presented, now: i64) -> Result<Client, OidcError> {
    let basic = p.basic.is_some();
    // The form's own fields are capped by each endpoint; these come from the header.
    if let Some((id, secret)) = &p.basic {
        params::check(&[
            ("client_id", Some(id)),
            ("client_secret", Some(secret.expose_secret())),
        ])
        .map_err(|e| OidcError::InvalidRequest(e.describe()))?;
    }
    let methods = usize::from(p.basic.is_some())
        + usize::from(p.client_secret.is_some())
        + usize::from(p.assertion.is_some());
    if methods > 1 {
        return Err(OidcError::InvalidRequest(
            "use only one client authentication method".into(),
        ));
    }
    let (method, claimed_id) = if let Some((id, _)) = &p.basic {
        (ClientAuthMethod::ClientSecretBasic, Some(id.clone()))
    } else if p.client_secret.is_some() {
        (ClientAuthMethod::ClientSecretPost, p.client_id.clone())
    } else if p.assertion.is_some() {
        if p.assertion_type.as_deref() != Some(JWT_BEARER) {
            return Err(OidcError::InvalidRequest(
                "unsupported client_assertion_type".into(),
            ));
        }
        (
            ClientAuthMethod::PrivateKeyJwt,
            assertion_subject(p.assertion.as_deref().unwrap_or_default()).or(p.client_id.clone()),
        )
    } else {
        (ClientAuthMethod::None, p.client_id.clone())
    };
    let Some(id) = claimed_id else {
        return Err(fail("no client identification", basic));
    };
    if p.client_id.as_ref().is_some_and(|c| c != &id) {
        return Err(fail("client_id does not match the credentials", basic));
    }
    let Some(client) = idp.store.client(&ClientId::from(id)).await? else {
        return Err(fail("unknown client", basic));
    };
    if client.auth_method != method {
        return Err(fail("not the registered authentication method", basic));
    }
    match method {
        ClientAuthMethod::ClientSecretBasic | ClientAuthMethod::ClientSecretPost => {
            let secret = p
                .basic
                .as_ref()
                .map(|(_, s)| s.expose_secret())
                .or(p.client_secret.as_ref().map(|s| s.expose_secret()))
                .unwrap_or_default();
            let given = crypto::sha256_b64(secret.as_bytes());
            let stored = client.secret_hash.as_deref().unwrap_or_default();
            if stored.is_empty() || !crypto::ct_eq(given.as_bytes(), stored.as_bytes()) {
                return Err(fail("wrong secret", basic));
            }
        }
        ClientAuthMethod::PrivateKeyJwt => {
            check_assertion(
                idp,
                &client,
                p.assertion.as_deref().unwrap_or_default(),
                now,
            )
            .await?
        }
        ClientAuthMethod::None => {} // a public client proves itself with PKCE instead.
    }
    Ok(client)
}

/// The `sub` of an assertion, read before verification only to find the client.
fn assertion_subject(jwt: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let v: Value = serde_json::from_slice(&crypto::b64_decode(payload)?).ok()?;
    v.get("sub")?.as_str().map(str::to_owned)
}

/// RFC 7523 §3: iss = sub = client_id, not expired, short-lived, and each
/// `jti` used once. The audience is our issuer identifier and nothing else,
/// a single string (draft-ietf-oauth-rfc7523bis §4): an assertion made for
/// an endpoint URL, or for a list of audiences, could be replayed to
/// another server that accepts the same.
async fn check_assertion(idp: &Idp, client: &Client, jwt: &str, now: i64) -> Result<(), OidcError> {
    let keys = client
        .jwks
        .as_deref()
        .and_then(|j| serde_json::from_str::<Value>(j).ok())
        .map(|doc| jose::parse_jwks(&doc))
        .unwrap_or_default();
    let v = jose::verify(jwt, &keys).map_err(|e| fail(&format!("client assertion: {e}"), false))?;
    let c = &v.claims;
    let s = |k: &str| c.get(k).and_then(Value::as_str);
    if s("iss") != Some(&client.id) || s("sub") != Some(&client.id) {
        return Err(fail(
            "client assertion iss and sub must be the client_id",
            false,
        ));
    }
    if s("aud") != Some(idp.config.issuer()) {
        return Err(fail(
            "client assertion aud must be the issuer identifier, a single string",
            false,
        ));
    }
    let exp = c
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(|| fail("client assertion exp", false))?;
    if exp <= now || exp > now + 600 {
        return Err(fail("client assertion expired or too long-lived", false));
    }
    let jti = s("jti").ok_or_else(|| fail("client assertion jti", false))?;
    let key = crate::cache::keys::assertion_jti(&client.id, jti);
    let ttl = Duration::from_secs(u64::try_from(exp - now).unwrap_or(1) + 60);
    if !idp.cache.set_nx(&key, b"1", ttl).await? {
        return Err(fail("client assertion replayed", false));
    }
    Ok(())
}
