//! Minting and checking our tokens.
//!
//! - Access tokens are RFC 9068 JWTs (`typ: at+jwt`) signed with ES256: about
//!   30 µs each, where RS256 costs about 0.7 ms, and resource servers check
//!   them offline. Revocation is a cache entry per `jti` or per grant.
//! - ID tokens (OIDC Core §2) are RS256 by default, ES256 when the client asks.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::OidcError;
use super::keys::KeyRing;
use crate::Idp;
use crate::cache::{CacheBackend, keys as cache_keys};
use crate::crypto;
use crate::jose::{self, Alg};
use crate::store::{Client, User};

pub const ACCESS_TOKEN_TYP: &str = "at+jwt";
/// The JWT type of our ID tokens; the logout endpoint takes no other kind as a hint.
pub const ID_TOKEN_TYP: &str = "JWT";

/// The claims of an access token (RFC 9068 §2.2).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The grant this token came from, so revoking the grant revokes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<String>,
}

impl AccessClaims {
    /// `true` when a person (not a client acting for itself) is the subject.
    pub fn has_user(&self) -> bool {
        self.gid.is_some()
    }

    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split(' ').filter(|s| !s.is_empty())
    }
}

pub struct AccessGrant<'a> {
    pub sub: &'a str,
    pub client_id: &'a str,
    /// The `aud`: the resource asked for (RFC 8707), else the client.
    pub audience: Option<&'a str>,
    pub scope: &'a str,
    pub auth_time: Option<i64>,
    pub sid: Option<&'a str>,
    pub gid: Option<&'a str>,
}

pub fn mint_access(
    idp: &Idp,
    ring: &KeyRing,
    g: &AccessGrant<'_>,
    now: i64,
) -> Result<(String, AccessClaims), OidcError> {
    let claims = AccessClaims {
        iss: idp.config.issuer().to_owned(),
        sub: g.sub.to_owned(),
        aud: g.audience.unwrap_or(g.client_id).to_owned(),
        client_id: g.client_id.to_owned(),
        iat: now,
        exp: now + secs(idp.config.tokens.access_ttl_secs),
        jti: crypto::random_id()?,
        scope: g.scope.to_owned(),
        auth_time: g.auth_time,
        sid: g.sid.map(str::to_owned),
        gid: g.gid.map(str::to_owned),
    };
    let jwt = ring.es256.sign(ACCESS_TOKEN_TYP, &claims)?;
    Ok((jwt, claims))
}

pub fn secs(s: u64) -> i64 {
    i64::try_from(s).unwrap_or(i64::MAX)
}

/// What goes into an ID token besides the person.
pub struct IdTokenFacts<'a> {
    pub nonce: Option<&'a str>,
    pub auth_time: i64,
    pub sid: Option<&'a str>,
    pub amr: &'a [String],
    pub acr: &'a str,
    pub scope: &'a [String],
    /// The client's app's claim for the person's linked legacy username, and
    /// the username ([`legacy_claim`]).
    pub legacy: Option<(String, String)>,
}

/// The claim and linked username `client_id`'s app receives for `user`:
/// only the link of that app, never another app's; `None` when the app
/// releases none or the person has no link there.
pub async fn legacy_claim(
    idp: &Idp,
    client_id: &str,
    user: &crate::ids::UserId,
) -> Result<Option<(String, String)>, OidcError> {
    Ok(
        match crate::admin::links::release(&idp.store, client_id, user).await? {
            crate::admin::links::Release::Claim { claim, username } => Some((claim, username)),
            _ => None,
        },
    )
}

/// The claims a person releases under `scope` (OIDC Core §5.4).
pub fn profile_claims(user: &User, scope: &[String]) -> Map<String, Value> {
    let has = |s: &str| scope.iter().any(|x| x == s);
    let mut m = Map::new();
    m.insert("sub".into(), json!(user.id));
    if has("email") {
        m.insert("email".into(), json!(user.email));
        // The official mailbox is provisioned by the province: verified by construction.
        m.insert("email_verified".into(), json!(true));
    }
    if has("profile") {
        m.insert("name".into(), json!(user.name));
        for (k, v) in [
            ("unit", &user.unit),
            ("title", &user.title),
            ("employee_code", &user.employee_code),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), json!(v));
            }
        }
    }
    if has("phone")
        && let Some(p) = &user.phone
    {
        m.insert("phone_number".into(), json!(p));
    }
    m
}

pub fn mint_id_token(
    idp: &Idp,
    ring: &KeyRing,
    client: &Client,
    user: &User,
    f: &IdTokenFacts<'_>,
    now: i64,
) -> Result<String, OidcError> {
    let mut c = profile_claims(user, f.scope);
    c.insert("iss".into(), json!(idp.config.issuer()));
    c.insert("aud".into(), json!(client.id));
    c.insert("iat".into(), json!(now));
    c.insert(
        "exp".into(),
        json!(now + secs(idp.config.tokens.id_ttl_secs)),
    );
    c.insert("auth_time".into(), json!(f.auth_time));
    c.insert("amr".into(), json!(f.amr));
    c.insert("acr".into(), json!(f.acr));
    if let Some(n) = f.nonce {
        c.insert("nonce".into(), json!(n));
    }
    if let Some(s) = f.sid {
        c.insert("sid".into(), json!(s));
    }
    // The name was checked against every registered claim when it was set.
    if let Some((claim, username)) = &f.legacy {
        c.insert(claim.clone(), json!(username));
    }
    let alg = Alg::parse(&client.id_token_alg).unwrap_or(Alg::RS256);
    Ok(ring.signer(alg).sign(ID_TOKEN_TYP, &c)?)
}

/// Checks an access token we issued: signature, type, issuer, expiry, revocation.
pub async fn verify_access(idp: &Idp, token: &str, now: i64) -> Result<AccessClaims, OidcError> {
    let invalid = |why: &str| OidcError::InvalidToken(why.to_owned());
    let ring = idp.keys.ring();
    let v = jose::verify(token, &ring.verifying).map_err(|_| invalid("the token is not valid"))?;
    if v.header.typ.as_deref() != Some(ACCESS_TOKEN_TYP) {
        return Err(invalid("not an access token"));
    }
    let claims: AccessClaims = serde_json::from_value(Value::Object(v.claims))
        .map_err(|_| invalid("the token is not valid"))?;
    if claims.iss != idp.config.issuer() {
        return Err(invalid("wrong issuer"));
    }
    if claims.exp <= now {
        return Err(invalid("the token has expired"));
    }
    if idp
        .cache
        .get(&cache_keys::revoked_jti(&claims.jti))
        .await?
        .is_some()
    {
        return Err(invalid("the token was revoked"));
    }
    if let Some(gid) = &claims.gid
        && idp
            .cache
            .get(&cache_keys::revoked_grant(gid))
            .await?
            .is_some()
    {
        return Err(invalid("the token was revoked"));
    }
    Ok(claims)
}

/// Revokes one access token until it would have expired anyway.
pub async fn revoke_access(idp: &Idp, claims: &AccessClaims, now: i64) -> Result<(), OidcError> {
    let ttl = Duration::from_secs(u64::try_from(claims.exp - now).unwrap_or(0).max(1));
    idp.cache
        .set(&cache_keys::revoked_jti(&claims.jti), b"1", ttl)
        .await?;
    Ok(())
}

/// Revokes a grant: its refresh tokens in SQL, its access tokens in the cache.
pub async fn revoke_grant(idp: &Idp, gid: &str, reason: &str, now: i64) -> Result<(), OidcError> {
    idp.store.revoke_grant(gid, reason, now).await?;
    revoke_grant_access(idp, gid).await
}

/// Marks a grant's access tokens revoked (its refresh tokens are revoked in SQL).
pub async fn revoke_grant_access(idp: &Idp, gid: &str) -> Result<(), OidcError> {
    let ttl = Duration::from_secs(idp.config.tokens.access_ttl_secs.max(1));
    idp.cache
        .set(&cache_keys::revoked_grant(gid), b"1", ttl)
        .await?;
    Ok(())
}
