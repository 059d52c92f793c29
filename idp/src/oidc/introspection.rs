//! Token introspection (RFC 7662) for resource servers. Any registered
//! confidential client may introspect access tokens; a refresh token is
//! described only to the client it was issued to. A public client has no
//! secret to prove who it is (anyone can send its `client_id`), so it is
//! refused (RFC 7662 §2.1: the endpoint requires authorization).

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use super::client_auth::{self, Presented};
use super::tokens::verify_access;
use super::{OidcError, params};
use crate::Idp;
use crate::crypto;

#[derive(Debug, Default, Deserialize)]
pub struct TokenForm {
    pub token: Option<String>,
    pub token_type_hint: Option<String>,
    pub client_id: Option<String>,
    /// Secret: `Debug` shows it redacted.
    pub client_secret: Option<SecretString>,
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<String>,
}

impl TokenForm {
    /// The first parameter over its length cap, as an `invalid_request`.
    pub fn check_lengths(&self) -> Result<(), OidcError> {
        params::check(&[
            ("token", self.token.as_deref()),
            ("token_type_hint", self.token_type_hint.as_deref()),
            ("client_id", self.client_id.as_deref()),
            (
                "client_secret",
                self.client_secret.as_ref().map(|s| s.expose_secret()),
            ),
            (
                "client_assertion_type",
                self.client_assertion_type.as_deref(),
            ),
            ("client_assertion", self.client_assertion.as_deref()),
        ])
        .map_err(|e| OidcError::InvalidRequest(e.describe()))
    }

    pub fn presented(&self, basic: Option<(String, String)>) -> Presented {
        Presented {
            basic: client_auth::basic_pair(basic),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            assertion_type: self.client_assertion_type.clone(),
            assertion: self.client_assertion.clone(),
        }
    }
}

/// `true` when the token has the shape of a JWT (three dot-separated parts).
pub fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}

pub async fn introspect(
    idp: &Idp,
    form: TokenForm,
    basic: Option<(String, String)>,
    now: i64,
) -> Result<Value, OidcError> {
    form.check_lengths()?;
    let client = client_auth::authenticate(idp, &form.presented(basic), now).await?;
    if client.is_public() {
        return Err(OidcError::InvalidClient {
            reason: "a public client may not introspect".into(),
            basic: false,
        });
    }
    let token = form
        .token
        .ok_or_else(|| OidcError::InvalidRequest("token is required".into()))?;
    let inactive = json!({ "active": false });
    if looks_like_jwt(&token) {
        return Ok(match verify_access(idp, &token, now).await {
            Ok(c) => json!({
                "active": true,
                "token_type": "Bearer",
                "scope": c.scope,
                "client_id": c.client_id,
                "sub": c.sub,
                "aud": c.aud,
                "iss": c.iss,
                "exp": c.exp,
                "iat": c.iat,
                "jti": c.jti,
            }),
            Err(OidcError::InvalidToken(_)) => inactive,
            Err(e) => return Err(e),
        });
    }
    let Some((grant, used_at)) = idp
        .store
        .refresh_token(&crypto::sha256_b64(token.as_bytes()))
        .await?
    else {
        return Ok(inactive);
    };
    let active = grant.client_id == client.id
        && used_at.is_none()
        && grant.revoked_at.is_none()
        && grant.expires_at > now;
    if !active {
        return Ok(inactive);
    }
    Ok(json!({
        "active": true,
        "token_type": "refresh_token",
        "scope": grant.scope,
        "client_id": grant.client_id,
        "sub": grant.user_id,
        "iss": idp.config.issuer(),
        "exp": grant.expires_at,
    }))
}
