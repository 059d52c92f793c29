//! The token endpoint (RFC 6749 §3.2, §4.1.3, §4.4, §6; OIDC Core §3.1.3).
//!
//! - `authorization_code`: single use; a second use revokes everything the
//!   first one issued (RFC 6749 §4.1.2).
//! - `refresh_token`: rotated on every use; presenting a spent one revokes
//!   the whole family (RFC 9700 §4.14.2).
//! - `client_credentials`: confidential clients acting for themselves.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::authorize::{CodeGrant, pkce_shaped};
use super::client_auth::{self, Presented};
use super::tokens::{self, AccessGrant, IdTokenFacts, secs};
use super::{OidcError, params};
use crate::Idp;
use crate::audit::{Event, Kind};
use crate::cache::CacheBackend;
use crate::cache::keys;
use crate::crypto;
use crate::kinds::GrantType;
use crate::store::{Client, Grant, RefreshUse};

#[derive(Debug, Default, Deserialize)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    /// Secret: `Debug` shows it redacted.
    pub client_secret: Option<SecretString>,
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<String>,
    /// RFC 8707 resource indicator (`client_credentials` only).
    pub resource: Option<String>,
}

impl TokenRequest {
    fn too_long(&self) -> Result<(), params::TooLong> {
        params::check(&[
            ("grant_type", self.grant_type.as_deref()),
            ("code", self.code.as_deref()),
            ("redirect_uri", self.redirect_uri.as_deref()),
            ("code_verifier", self.code_verifier.as_deref()),
            ("refresh_token", self.refresh_token.as_deref()),
            ("scope", self.scope.as_deref()),
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
            ("resource", self.resource.as_deref()),
        ])
    }
}

#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub scope: String,
}

/// Handles `POST /token`; `basic` is the decoded `Authorization: Basic` pair.
pub async fn exchange(
    idp: &Idp,
    req: TokenRequest,
    basic: Option<(String, String)>,
    now: i64,
) -> Result<TokenResponse, OidcError> {
    req.too_long()
        .map_err(|e| OidcError::InvalidRequest(e.describe()))?;
    let presented = Presented {
        basic: client_auth::basic_pair(basic),
        client_id: req.client_id.clone(),
        client_secret: req.client_secret.clone(),
        assertion_type: req.client_assertion_type.clone(),
        assertion: req.client_assertion.clone(),
    };
    let grant_type = req
        .grant_type
        .clone()
        .ok_or_else(|| OidcError::InvalidRequest("grant_type is required".into()))?;
    let client = client_auth::authenticate(idp, &presented, now).await?;
    let grant_type = grant_type.parse::<GrantType>().ok();
    if req.resource.is_some() && grant_type != Some(GrantType::ClientCredentials) {
        return Err(OidcError::InvalidTarget(
            "resource is supported with client_credentials only".into(),
        ));
    }
    let Some(grant_type) = grant_type else {
        return Err(OidcError::UnsupportedGrantType);
    };
    let response = match grant_type {
        GrantType::AuthorizationCode => authorization_code(idp, &client, req, now).await?,
        GrantType::RefreshToken => refresh(idp, &client, req, now).await?,
        GrantType::ClientCredentials => client_credentials(idp, &client, req, now)?,
    };
    idp.metrics.token_issued(grant_type.as_str());
    Ok(response)
}

fn bad_grant(why: &str) -> OidcError {
    OidcError::InvalidGrant(why.to_owned())
}

async fn authorization_code(
    idp: &Idp,
    client: &Client,
    req: TokenRequest,
    now: i64,
) -> Result<TokenResponse, OidcError> {
    if !client.allows_grant(GrantType::AuthorizationCode) {
        return Err(OidcError::UnauthorizedClient(
            "authorization_code is not allowed for this client".into(),
        ));
    }
    let code = req
        .code
        .as_deref()
        .ok_or_else(|| OidcError::InvalidRequest("code is required".into()))?;
    let Some(cg) = idp.cache.take_json::<CodeGrant>(&keys::code(code)).await? else {
        // Replayed: revoke what the first redemption issued.
        if let Some(gid) = idp.cache.get(&keys::code_used(code)).await? {
            let gid = String::from_utf8_lossy(&gid).into_owned();
            tokens::revoke_grant(idp, &gid, "authorization code replayed", now).await?;
            let e = Event::new(Kind::CodeReplayed, now)
                .client(&client.id)
                .subject(gid);
            idp.audit(e).await;
            tracing::warn!(client_id = %client.id, "authorization code replayed; grant revoked");
        }
        return Err(bad_grant("the code is invalid, expired or already used"));
    };
    if cg.client_id != client.id {
        return Err(bad_grant("the code was issued to another client"));
    }
    if cg.expires_at <= now {
        return Err(bad_grant("the code has expired"));
    }
    if req.redirect_uri.as_deref() != Some(cg.redirect_uri.as_str()) {
        return Err(bad_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    match (&cg.code_challenge, req.code_verifier.as_deref()) {
        (Some(challenge), verifier) => {
            let verifier = verifier.unwrap_or_default();
            let computed = crypto::sha256_b64(verifier.as_bytes());
            if !pkce_shaped(verifier) || !crypto::ct_eq(computed.as_bytes(), challenge.as_bytes()) {
                return Err(bad_grant("PKCE verification failed"));
            }
        }
        // RFC 9700 §4.8.2: a verifier for a request that sent no challenge is a downgrade.
        (None, Some(_)) => {
            return Err(bad_grant(
                "code_verifier sent, but the authorization request had no code_challenge",
            ));
        }
        // Only a `--pkce optional` client that sent a nonce gets a code without a challenge.
        (None, None) => {}
    }
    let user = idp
        .store
        .user_by_id(&cg.user_id)
        .await?
        .filter(|u| !u.is_disabled())
        .ok_or_else(|| bad_grant("the account is disabled"))?;

    let gid = crypto::random_id()?;
    idp.cache
        .set(
            &keys::code_used(code),
            gid.as_bytes(),
            Duration::from_secs(3600),
        )
        .await?;
    let refresh = client
        .allows_grant(GrantType::RefreshToken)
        .then(crypto::random_token)
        .transpose()?;
    let grant = Grant {
        id: gid.clone(),
        client_id: client.id.clone(),
        user_id: user.id.clone(),
        sid: Some(cg.sid.clone()),
        scope: cg.scope.join(" "),
        auth_time: cg.auth_time,
        amr: cg.amr.clone(),
        acr: cg.acr.clone(),
        created_at: now,
        expires_at: now + secs(idp.config.tokens.refresh_ttl_secs),
        revoked_at: None,
    };
    let refresh_hash = refresh.as_deref().map(|r| crypto::sha256_b64(r.as_bytes()));
    // The session may have ended since the code was issued (a sign-out in between).
    if !idp
        .store
        .create_grant(&grant, refresh_hash.as_deref())
        .await?
    {
        return Err(bad_grant("the session of this code has ended"));
    }
    let facts = IdTokenFacts {
        nonce: cg.nonce.as_deref(),
        auth_time: cg.auth_time,
        sid: Some(&cg.sid),
        amr: &cg.amr,
        acr: &cg.acr,
        scope: &cg.scope,
        legacy: tokens::legacy_claim(idp, &client.id, &user.id).await?,
    };
    respond(idp, client, &user, &grant, &facts, refresh, now)
}

fn respond(
    idp: &Idp,
    client: &Client,
    user: &crate::store::User,
    grant: &Grant,
    facts: &IdTokenFacts<'_>,
    refresh: Option<String>,
    now: i64,
) -> Result<TokenResponse, OidcError> {
    let ring = idp.keys.ring();
    let scope = facts.scope.join(" ");
    let (access, _) = tokens::mint_access(
        idp,
        &ring,
        &AccessGrant {
            sub: &user.id,
            client_id: &client.id,
            audience: None,
            scope: &scope,
            auth_time: Some(grant.auth_time),
            sid: grant.sid.as_deref(),
            gid: Some(&grant.id),
        },
        now,
    )?;
    let id_token = tokens::mint_id_token(idp, &ring, client, user, facts, now)?;
    Ok(TokenResponse {
        access_token: access,
        token_type: "Bearer",
        expires_in: idp.config.tokens.access_ttl_secs,
        refresh_token: refresh,
        id_token: Some(id_token),
        scope,
    })
}

async fn refresh(
    idp: &Idp,
    client: &Client,
    req: TokenRequest,
    now: i64,
) -> Result<TokenResponse, OidcError> {
    if !client.allows_grant(GrantType::RefreshToken) {
        return Err(OidcError::UnauthorizedClient(
            "refresh_token is not allowed for this client".into(),
        ));
    }
    let token = req
        .refresh_token
        .as_deref()
        .ok_or_else(|| OidcError::InvalidRequest("refresh_token is required".into()))?;
    let hash = crypto::sha256_b64(token.as_bytes());
    // Check ownership before spending, so another client cannot burn it.
    match idp.store.refresh_token(&hash).await? {
        Some((g, _)) if g.client_id == client.id => {}
        _ => return Err(bad_grant("the refresh token is invalid")),
    }
    let grant = match idp.store.use_refresh_token(&hash, now).await? {
        RefreshUse::Unknown => return Err(bad_grant("the refresh token is invalid")),
        RefreshUse::Reused(g) => {
            tokens::revoke_grant(idp, &g.id, "refresh token reused", now).await?;
            let e = Event::new(Kind::RefreshReused, now)
                .client(&client.id)
                .subject(&g.user_id)
                .detail(format!("grant {}", g.id));
            idp.audit(e).await;
            tracing::warn!(client_id = %client.id, grant = %g.id, "refresh token reused; family revoked");
            return Err(bad_grant(
                "the refresh token was already used; the session is revoked",
            ));
        }
        RefreshUse::Fresh(g) => g,
    };
    if grant.revoked_at.is_some() || grant.expires_at <= now {
        return Err(bad_grant("the refresh token has expired or was revoked"));
    }
    let granted: Vec<String> = grant.scope.split(' ').map(str::to_owned).collect();
    let scope = match req.scope.as_deref() {
        None => granted.clone(),
        Some(asked) => {
            let asked: Vec<String> = asked
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            if asked.iter().any(|s| !granted.contains(s)) {
                return Err(OidcError::InvalidScope(
                    "a refresh cannot widen the scope".into(),
                ));
            }
            asked
        }
    };
    let user = idp
        .store
        .user_by_id(&grant.user_id)
        .await?
        .filter(|u| !u.is_disabled())
        .ok_or_else(|| bad_grant("the account is disabled"))?;
    let next = crypto::random_token()?;
    idp.store
        .add_refresh_token(&grant.id, &crypto::sha256_b64(next.as_bytes()), now)
        .await?;
    let facts = IdTokenFacts {
        nonce: None,
        auth_time: grant.auth_time,
        sid: grant.sid.as_deref(),
        amr: &grant.amr,
        acr: &grant.acr,
        scope: &scope,
        legacy: tokens::legacy_claim(idp, &client.id, &user.id).await?,
    };
    respond(idp, client, &user, &grant, &facts, Some(next), now)
}

/// RFC 6749 §3.3 scope-token characters.
pub fn scope_token_ok(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}

/// The scope of a `client_credentials` token: what was asked, each scope
/// registered for the client (`idp client add --scope`), or, when nothing
/// was asked, everything registered.
fn client_scope(client: &Client, asked: Option<&str>) -> Result<String, OidcError> {
    let asked: Vec<&str> = asked
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    if asked.is_empty() {
        return Ok(client.allowed_scopes.join(" "));
    }
    if let Some(s) = asked
        .iter()
        .find(|s| !client.allowed_scopes.iter().any(|a| a == *s))
    {
        tracing::info!(client_id = %client.id, scope = %s.escape_debug(), "scope not registered for the client");
        return Err(OidcError::InvalidScope(
            "a scope asked for is not registered for this client".into(),
        ));
    }
    let mut unique: Vec<&str> = Vec::new();
    for s in asked {
        if !unique.contains(&s) {
            unique.push(s);
        }
    }
    Ok(unique.join(" "))
}

/// RFC 8707 §2: an absolute URI without a fragment.
pub fn resource_ok(r: &str) -> bool {
    url::Url::parse(r).is_ok_and(|u| u.fragment().is_none()) && !r.contains('#')
}

fn client_credentials(
    idp: &Idp,
    client: &Client,
    req: TokenRequest,
    now: i64,
) -> Result<TokenResponse, OidcError> {
    if client.is_public() || !client.allows_grant(GrantType::ClientCredentials) {
        return Err(OidcError::UnauthorizedClient(
            "client_credentials is not allowed for this client".into(),
        ));
    }
    let scope = client_scope(client, req.scope.as_deref())?;
    let audience = match req.resource.as_deref() {
        None => None,
        Some(r) if !resource_ok(r) => {
            return Err(OidcError::InvalidTarget(
                "resource must be an absolute URI without a fragment".into(),
            ));
        }
        Some(r) if !client.allowed_resources.iter().any(|a| a == r) => {
            return Err(OidcError::InvalidTarget(
                "this client may not ask for that resource".into(),
            ));
        }
        Some(r) => Some(r),
    };
    let ring = idp.keys.ring();
    let (access, _) = tokens::mint_access(
        idp,
        &ring,
        &AccessGrant {
            sub: &client.id,
            client_id: &client.id,
            audience,
            scope: &scope,
            auth_time: None,
            sid: None,
            gid: None,
        },
        now,
    )?;
    Ok(TokenResponse {
        access_token: access,
        token_type: "Bearer",
        expires_in: idp.config.tokens.access_ttl_secs,
        refresh_token: None,
        id_token: None,
        scope,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_are_absolute_uris_without_fragments() {
        assert!(resource_ok("https://api.vanban.gov.vn/"));
        assert!(resource_ok("https://api.vanban.gov.vn/docs?v=1"));
        assert!(!resource_ok("https://api.vanban.gov.vn/#x"));
        assert!(!resource_ok("https://api.vanban.gov.vn/#"));
        assert!(!resource_ok("/docs"));
        assert!(resource_ok("urn:gov:vanban"));
        assert!(!resource_ok("docs"));
    }

    #[test]
    fn scope_tokens() {
        assert!(scope_token_ok("read:docs"));
        assert!(!scope_token_ok("a\"b"));
        assert!(!scope_token_ok("a\\b"));
    }

    #[test]
    fn client_secrets_are_redacted_in_debug() {
        let req: TokenRequest = serde_json::from_value(serde_json::json!({
            "grant_type": "client_credentials",
            "client_secret": "form-secret-9d3e7a",
        }))
        .unwrap();
        let p = Presented {
            basic: client_auth::basic_pair(Some(("app".into(), "basic-secret-2b8c4f".into()))),
            client_secret: req.client_secret.clone(),
            ..Presented::default()
        };
        let shown = format!("{req:?} {p:?}");
        assert!(!shown.contains("form-secret-9d3e7a"), "{shown}");
        assert!(!shown.contains("basic-secret-2b8c4f"), "{shown}");
        assert_eq!(
            req.client_secret.as_ref().map(|s| s.expose_secret()),
            Some("form-secret-9d3e7a")
        );
    }
}
