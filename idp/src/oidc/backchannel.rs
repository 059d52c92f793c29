//! OIDC Back-Channel Logout 1.0: when a session ends, every app that had a
//! session in it and registered a `backchannel_logout_uri` gets a logout
//! token. The outbox keeps the intent (subject and session); the token is
//! minted fresh at each delivery attempt, so a retry after an app's outage
//! does not carry an expired token.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::OidcError;
use crate::Idp;
use crate::crypto;
use crate::jose::Alg;
use crate::store::{Client, OutboxItem};

/// The event a logout token announces (§2.4).
pub const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// The JWT type of a logout token (§2.4, explicit typing per RFC 8725 §3.11).
pub const TYP: &str = "logout+jwt";
pub const KIND: &str = "backchannel_logout";

/// What the outbox keeps: who was signed out of which session.
#[derive(Debug, Serialize, Deserialize)]
pub struct Intent {
    pub sub: String,
    pub sid: String,
}

/// A logout token for `client` (§2.4): no nonce, short-lived, typed.
pub fn logout_token(
    idp: &Idp,
    client: &Client,
    intent: &Intent,
    now: i64,
) -> Result<String, OidcError> {
    let ring = idp.keys.ring();
    let claims = json!({
        "iss": idp.config.issuer(),
        "aud": client.id,
        "iat": now,
        "exp": now + 120,
        "jti": crypto::random_id()?,
        "sub": intent.sub,
        "sid": intent.sid,
        "events": { EVENT: {} },
    });
    let alg = Alg::parse(&client.id_token_alg).unwrap_or(Alg::RS256);
    Ok(ring.signer(alg).sign(TYP, &claims)?)
}

/// Queues a logout token for `client` at `uri` about the session `sid` of
/// `sub`; returns the outbox id, to follow its delivery. The caller wakes the worker.
pub async fn enqueue(
    idp: &Idp,
    sub: &str,
    sid: &str,
    client: &Client,
    uri: &str,
    now: i64,
) -> Result<String, OidcError> {
    let intent = Intent {
        sub: sub.to_owned(),
        sid: sid.to_owned(),
    };
    let id = crypto::random_id()?;
    idp.store
        .enqueue(&OutboxItem {
            id: id.clone(),
            kind: KIND.into(),
            target: uri.to_owned(),
            payload: json!(intent).to_string(),
            client_id: Some(client.id.clone()),
            attempts: 0,
            next_at: now,
            last_error: None,
            created_at: now,
            delivered_at: None,
            given_up_at: None,
        })
        .await?;
    Ok(id)
}
