//! RP-initiated logout (OIDC RP-Initiated Logout 1.0). The person is signed
//! out at once when the client proves the request with an `id_token_hint`
//! for this session, an ID token of ours and nothing else we sign (access
//! and logout tokens are refused as hints: RFC 8725 §3.11 explicit typing);
//! otherwise we ask first (a bare link must not sign people out). We never
//! redirect to a `post_logout_redirect_uri` that the client has not
//! registered, nor on a forged hint.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::OidcError;
use crate::Idp;
use crate::audit::{Event, Kind};
use crate::auth::session::{self, SsoSession};
use crate::ids::ClientId;
use crate::ids::UserId;
use crate::jose;
use crate::refusal::Refusal;

#[derive(Clone, Debug, Default, Deserialize)]
pub struct EndSessionRequest {
    pub id_token_hint: Option<String>,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub ui_locales: Option<String>,
}

impl EndSessionRequest {
    /// The parameters to carry through the confirmation form.
    pub fn fields(&self) -> Vec<(String, String)> {
        [
            ("id_token_hint", &self.id_token_hint),
            ("client_id", &self.client_id),
            ("post_logout_redirect_uri", &self.post_logout_redirect_uri),
            ("state", &self.state),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k.to_owned(), v)))
        .collect()
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum LogoutStep {
    Refuse(Refusal),
    /// Ask the person before signing out.
    Confirm,
    /// Signed out (or was not signed in): go here, or show the signed-out page.
    Done {
        redirect: Option<String>,
        /// The session that ended and how its apps are told; `None` when
        /// there was none.
        signed_out: Option<SignedOut>,
    },
}

/// Handles the end-session endpoint. `confirmed` means the person pressed the
/// button on our own form (CSRF already checked by the caller).
pub async fn end_session(
    idp: &Idp,
    req: &EndSessionRequest,
    cookie: Option<&str>,
    confirmed: bool,
    ip: Option<String>,
    now: i64,
) -> Result<LogoutStep, OidcError> {
    let hint = match &req.id_token_hint {
        None => None,
        Some(t) => {
            let ring = idp.keys.ring();
            // Expired hints are fine (the person may have been idle); forged ones are not.
            let Ok(v) = jose::verify(t, &ring.verifying) else {
                return Ok(LogoutStep::Refuse(Refusal::BadLogoutRequest));
            };
            if v.claims.get("iss").and_then(Value::as_str) != Some(idp.config.issuer()) {
                return Ok(LogoutStep::Refuse(Refusal::BadLogoutRequest));
            }
            match id_token_claims(v, idp.config.issuer()) {
                Some(c) if audience_known(idp, &c).await? => Some(c),
                // Our signature on another kind of token (an access token a
                // resource server saw, a logout token): no proof that an app
                // of this person asks, so the person is asked.
                _ => {
                    tracing::warn!(
                        "id_token_hint is not an ID token of this issuer; asking the person"
                    );
                    None
                }
            }
        }
    };
    let hint_aud = hint.as_ref().and_then(|c| match c.get("aud") {
        Some(Value::String(a)) => Some(a.clone()),
        Some(Value::Array(list)) => list.first().and_then(Value::as_str).map(str::to_owned),
        _ => None,
    });
    if let (Some(a), Some(c)) = (&hint_aud, &req.client_id)
        && a != c
    {
        return Ok(LogoutStep::Refuse(Refusal::BadLogoutRequest));
    }
    let client_id = hint_aud.or_else(|| req.client_id.clone());
    let redirect = match &req.post_logout_redirect_uri {
        None => None,
        Some(uri) => {
            let client = match &client_id {
                Some(id) => idp.store.client(&ClientId::from(id.as_str())).await?,
                None => None,
            };
            if !client.is_some_and(|c| c.post_logout_redirect_uris.iter().any(|u| u == uri)) {
                return Ok(LogoutStep::Refuse(Refusal::BadLogoutRequest));
            }
            Some(super::authorize::with_params(
                uri,
                &[("state", req.state.as_deref())],
            ))
        }
    };
    let current = match cookie {
        Some(c) => session::load(&idp.cache, &idp.config.session, c, now).await?,
        None => None,
    };
    let Some(sess) = current else {
        return Ok(LogoutStep::Done {
            redirect,
            signed_out: None,
        });
    };
    let hint_matches = hint.as_ref().is_some_and(|c| {
        c.get("sub").and_then(Value::as_str) == Some(sess.user_id.as_str())
            && c.get("sid")
                .and_then(Value::as_str)
                .is_none_or(|sid| sid == sess.sid)
    });
    if !(confirmed || hint_matches) {
        return Ok(LogoutStep::Confirm);
    }
    let signed_out = match cookie {
        Some(c) => sign_out(idp, c, client_id.as_deref(), ip, now).await?,
        None => None,
    };
    Ok(LogoutStep::Done {
        redirect,
        signed_out,
    })
}

/// The claims of `v` when it is an ID token of `issuer` (OIDC Core §2):
/// typed `JWT` as we mint them, never an access token (`at+jwt`, RFC 9068) or
/// a logout token (`logout+jwt`), with a subject and an audience. Expiry is
/// not checked: an expired ID token is a valid hint (RP-Initiated Logout §2).
pub fn id_token_claims(v: jose::Verified, issuer: &str) -> Option<Map<String, Value>> {
    let c = v.claims;
    let s = |k: &str| c.get(k).and_then(Value::as_str);
    let typed = v.header.typ.as_deref() == Some(super::tokens::ID_TOKEN_TYP);
    // Claims only the other kinds carry, in case a typ was ever left out.
    let other_kind = ["events", "scope", "client_id", "gid"]
        .iter()
        .any(|k| c.contains_key(*k));
    let ok = typed
        && !other_kind
        && s("iss") == Some(issuer)
        && s("sub").is_some_and(|sub| !sub.is_empty())
        && c.get("aud").is_some();
    ok.then_some(c)
}

/// The hint's audience is an app registered here.
async fn audience_known(idp: &Idp, c: &Map<String, Value>) -> Result<bool, OidcError> {
    let aud = match c.get("aud") {
        Some(Value::String(a)) => Some(a.as_str()),
        Some(Value::Array(list)) => list.first().and_then(Value::as_str),
        _ => None,
    };
    Ok(match aud {
        Some(a) => idp.store.client(&ClientId::from(a)).await?.is_some(),
        None => false,
    })
}

/// How an app of an ended session hears of it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "via", rename_all = "snake_case")]
pub enum Notice {
    /// A logout token, delivered from the outbox (this id) with retries.
    Back { outbox_id: String },
    /// A frame on the sign-out page (OIDC Front-Channel Logout 1.0): this URL.
    Front { url: String },
    /// Neither channel is registered: its tokens are revoked, and its own
    /// session ends when it next asks us.
    Unreachable,
}

/// One app of an ended session and how it is told.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct AppNotice {
    pub client_id: ClientId,
    pub name: String,
    pub notice: Notice,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedOut {
    pub sess: SsoSession,
    pub apps: Vec<AppNotice>,
}

impl SignedOut {
    /// The front-channel logout URLs to frame.
    pub fn front_urls(&self) -> impl Iterator<Item = &str> {
        self.apps.iter().filter_map(|a| match &a.notice {
            Notice::Front { url } => Some(url.as_str()),
            _ => None,
        })
    }
}

/// Ends the SSO session behind `cookie` and revokes the grants made in it.
pub async fn sign_out(
    idp: &Idp,
    cookie: &str,
    initiator: Option<&str>,
    ip: Option<String>,
    now: i64,
) -> Result<Option<SignedOut>, OidcError> {
    end(idp, &session::key_hash(cookie), initiator, ip, now).await
}

/// Ends every session of the person but `keep_sid` (none: every one, after
/// a new password) and revokes every grant outside it, set-based in SQL, so
/// neither the number of sessions nor one already gone from the cache leaves
/// anything behind; their apps hear of it over the back channel. Returns how
/// many sessions ended.
pub async fn sign_out_others(
    idp: &Idp,
    user_id: &UserId,
    keep_sid: Option<&str>,
    ip: Option<String>,
    now: i64,
) -> Result<usize, OidcError> {
    let ended = idp
        .store
        .end_sessions_of_person(user_id, keep_sid, "signed out", now)
        .await?;
    // The SQL end is committed, so a retry would not find these again: every
    // one is tried even when a cache write fails (a full cache, Redis
    // flapping), and the first failure is reported once all were tried.
    let mut failure: Option<OidcError> = None;
    for (sid, hash) in &ended.sessions {
        if let Err(e) = session::end_by_hash(&idp.cache, &idp.config.session, hash, sid).await {
            tracing::error!(sid = %sid, error = %e, "sign-out: session not ended in the cache");
            failure.get_or_insert(e.into());
        }
    }
    for (gid, _) in &ended.grants {
        if let Err(e) = super::tokens::revoke_grant_access(idp, gid).await {
            tracing::error!(grant = %gid, error = %e, "sign-out: access tokens not revoked in the cache");
            failure.get_or_insert(e);
        }
    }
    let mut sids: Vec<&str> = ended.sessions.iter().map(|(s, _)| s.as_str()).collect();
    sids.extend(ended.apps.iter().map(|(s, _)| s.as_str()));
    sids.sort_unstable();
    sids.dedup();
    for sid in sids {
        let client_ids: Vec<String> = ended
            .apps
            .iter()
            .filter(|(s, _)| s == sid)
            .map(|(_, c)| c.clone())
            .collect();
        notify(idp, user_id, sid, &client_ids, now).await;
        crate::cas::slo::notify(idp, sid, now).await;
        // SAML SPs hear only through the browser (front channel): with no
        // page to frame their LogoutRequests, their rows are dropped.
        if let Err(e) = idp.store.take_saml_sessions(sid).await {
            tracing::error!(sid = %sid, error = %e, "SAML session rows not dropped");
        }
        let e = Event::new(Kind::Logout, now)
            .actor(user_id)
            .subject(user_id)
            .ip(ip.clone())
            .detail(format!(
                "sid {sid}; apps: {}; {}",
                client_ids.join(", "),
                if keep_sid.is_some() {
                    "signed out from another session"
                } else {
                    "every session"
                }
            ));
        idp.audit(e).await;
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(ended.sessions.len()),
    }
}

/// Ends the session named by `hash` (see [`session::key_hash`]).
async fn end(
    idp: &Idp,
    hash: &str,
    initiator: Option<&str>,
    ip: Option<String>,
    now: i64,
) -> Result<Option<SignedOut>, OidcError> {
    let Some(sess) = session::destroy_by_hash(&idp.cache, &idp.config.session, hash).await? else {
        return Ok(None);
    };
    for gid in idp.store.end_session(&sess.sid, "signed out", now).await? {
        super::tokens::revoke_grant_access(idp, &gid).await?;
    }
    // The person is signed out here whatever happens next; an app that cannot
    // be told is an error for the admin, not for the person.
    let client_ids = idp.store.clients_of_session(&sess.sid).await?;
    let mut apps = notify(idp, &sess.user_id, &sess.sid, &client_ids, now).await;
    // The CAS services of the session hear of it too (CAS single logout).
    apps.extend(crate::cas::slo::notify(idp, &sess.sid, now).await);
    // And its SAML SPs, by a LogoutRequest in a frame of the sign-out page.
    apps.extend(crate::saml::slo::notify(idp, &sess.sid, now).await);
    let mut e = Event::new(Kind::Logout, now)
        .actor(&sess.user_id)
        .subject(&sess.user_id)
        .ip(ip)
        .detail(format!("sid {}; apps: {}", sess.sid, client_ids.join(", ")));
    e.client_id = initiator.map(str::to_owned);
    idp.audit(e).await;
    Ok(Some(SignedOut { sess, apps }))
}

/// Tells each app of the session: a queued logout token where it has a back
/// channel, else a front-channel URL for the sign-out page to frame.
async fn notify(
    idp: &Idp,
    user_id: &UserId,
    sid: &str,
    client_ids: &[String],
    now: i64,
) -> Vec<AppNotice> {
    let mut apps = Vec::with_capacity(client_ids.len());
    // People know the app by its tile's name; the client's name is the fallback.
    let tiles = idp.store.list_apps().await.unwrap_or_default();
    for id in client_ids {
        let client = match idp.store.client(&ClientId::from(id.as_str())).await {
            Ok(Some(c)) => c,
            Ok(None) => continue,
            Err(e) => {
                tracing::error!(error = %e, client = %id, sid = %sid, "app not told of the sign-out");
                continue;
            }
        };
        let notice = if let Some(uri) = &client.backchannel_logout_uri {
            match super::backchannel::enqueue(idp, user_id, sid, &client, uri, now).await {
                Ok(outbox_id) => Notice::Back { outbox_id },
                Err(e) => {
                    tracing::error!(error = %e, client = %id, sid = %sid, "back-channel logout not queued");
                    Notice::Unreachable
                }
            }
        } else if let Some(uri) = &client.frontchannel_logout_uri {
            Notice::Front {
                url: super::authorize::with_params(
                    uri,
                    &[("iss", Some(idp.config.issuer())), ("sid", Some(sid))],
                ),
            }
        } else {
            Notice::Unreachable
        };
        let name = tiles
            .iter()
            .find(|a| a.client_id.as_deref() == Some(client.id.as_str()))
            .map_or(client.name, |a| a.name.clone());
        apps.push(AppNotice {
            client_id: client.id,
            name,
            notice,
        });
    }
    if apps.iter().any(|a| matches!(a.notice, Notice::Back { .. })) {
        crate::outbox::wake(idp);
    }
    apps
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ISS: &str = "https://dangnhap.binhphuoc.gov.vn";

    fn token(typ: Option<&str>, claims: Value) -> jose::Verified {
        jose::Verified {
            header: jose::Header {
                alg: "RS256".into(),
                kid: Some("k1".into()),
                typ: typ.map(str::to_owned),
            },
            claims: claims.as_object().cloned().unwrap_or_default(),
        }
    }

    fn id_claims() -> Value {
        json!({"iss": ISS, "aud": "vanban", "sub": "u1", "sid": "s1", "iat": 1, "exp": 2, "auth_time": 1})
    }

    #[test]
    fn only_an_id_token_of_ours_is_a_hint() {
        // An ID token, expired long ago: a valid hint.
        assert!(id_token_claims(token(Some("JWT"), id_claims()), ISS).is_some());
        // An access token (RFC 9068) carries sub, sid and aud too.
        let access = json!({"iss": ISS, "aud": "vanban", "sub": "u1", "sid": "s1", "client_id": "vanban",
            "scope": "openid", "jti": "j", "gid": "g", "iat": 1, "exp": 2});
        assert!(id_token_claims(token(Some("at+jwt"), access.clone()), ISS).is_none());
        assert!(
            id_token_claims(token(Some("JWT"), access), ISS).is_none(),
            "retyped"
        );
        // A logout token.
        let mut logout = id_claims();
        logout["events"] = json!({ crate::oidc::backchannel::EVENT: {} });
        assert!(id_token_claims(token(Some("logout+jwt"), logout.clone()), ISS).is_none());
        assert!(id_token_claims(token(Some("JWT"), logout), ISS).is_none());
        // Untyped, another issuer, no subject.
        assert!(id_token_claims(token(None, id_claims()), ISS).is_none());
        assert!(
            id_token_claims(token(Some("JWT"), id_claims()), "https://other.example").is_none()
        );
        let mut anonymous = id_claims();
        anonymous["sub"] = json!("");
        assert!(id_token_claims(token(Some("JWT"), anonymous), ISS).is_none());
    }
}
