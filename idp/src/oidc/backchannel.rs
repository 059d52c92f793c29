//! OIDC Back-Channel Logout 1.0: when a session ends, every app that had a
//! session in it and registered a `backchannel_logout_uri` gets a logout
//! token. The outbox keeps the intent (subject and session); the token is
//! minted fresh at each delivery attempt ([`deliver`], the outbox worker's
//! part for this kind), so a retry after an app's outage does not carry an
//! expired token.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::OidcError;
use crate::Idp;
use crate::crypto;
use crate::ids::ClientId;
use crate::jose::Alg;
use crate::outbox::{self, Item, Outcome};
use crate::store::{Client, OutboxItem};

/// The event a logout token announces (§2.4).
pub const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// The JWT type of a logout token (§2.4, explicit typing per RFC 8725 §3.11).
pub const TYP: &str = "logout+jwt";

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
    let item = Item::BackchannelLogout {
        client_id: &client.id,
        uri,
        intent,
    };
    Ok(outbox::enqueue(&idp.store, item, now).await?)
}

/// Mints the logout token and posts it (§2.5): the outbox worker's delivery
/// of [`outbox::Kind::BackchannelLogout`].
pub async fn deliver(idp: &Idp, item: &OutboxItem) -> Outcome {
    let Ok(intent) = serde_json::from_str::<Intent>(&item.payload) else {
        return Outcome::Refused("corrupt outbox payload".into());
    };
    let client = match idp
        .store
        .client(&ClientId::from(
            item.client_id.as_deref().unwrap_or_default(),
        ))
        .await
    {
        Ok(Some(c)) => c,
        Ok(None) => return Outcome::Refused("the client no longer exists".into()),
        Err(e) => return Outcome::Retry(e.to_string()),
    };
    let token = match logout_token(idp, &client, &intent, crate::now()) {
        Ok(t) => t,
        Err(e) => return Outcome::Retry(e.to_string()),
    };
    outbox::post_form(idp, &item.target, &[("logout_token", token.as_str())]).await
}
