//! RP-initiated logout (OIDC RP-Initiated Logout 1.0). The person is signed
//! out at once when the client proves the request with an `id_token_hint`
//! for this session; otherwise we ask first (a bare link must not sign
//! people out). We never redirect to a `post_logout_redirect_uri` that the
//! client has not registered, nor on a forged hint.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::OidcError;
use crate::Idp;
use crate::auth::session::{self, SsoSession};
use crate::jose;
use crate::refusal::Refusal;
use crate::store::AuditEvent;

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
            Some(v.claims)
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
                Some(id) => idp.store.client(id).await?,
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
    pub client_id: String,
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

/// Ends every other session of the person ("sign out of my other sessions"):
/// their apps hear of it over the back channel; returns how many ended.
pub async fn sign_out_others(
    idp: &Idp,
    user_id: &str,
    keep_sid: &str,
    ip: Option<String>,
    now: i64,
) -> Result<usize, OidcError> {
    let lifetime = i64::try_from(idp.config.session.absolute_timeout_secs).unwrap_or(i64::MAX);
    let mut ended = 0;
    for row in idp
        .store
        .open_sessions(user_id, now.saturating_sub(lifetime))
        .await?
    {
        if row.sid != keep_sid
            && end(idp, &row.key_hash, None, ip.clone(), now)
                .await?
                .is_some()
        {
            ended += 1;
        }
        idp.store.end_session_row(&row.sid, now).await?;
    }
    Ok(ended)
}

/// Ends the session named by `hash` (see [`session::key_hash`]).
async fn end(
    idp: &Idp,
    hash: &str,
    initiator: Option<&str>,
    ip: Option<String>,
    now: i64,
) -> Result<Option<SignedOut>, OidcError> {
    let Some(sess) = session::destroy_by_hash(&idp.cache, hash).await? else {
        return Ok(None);
    };
    idp.store.end_session_row(&sess.sid, now).await?;
    for gid in idp
        .store
        .revoke_grants_of_session(&sess.sid, "signed out", now)
        .await?
    {
        super::tokens::revoke_grant_access(idp, &gid).await?;
    }
    // The person is signed out here whatever happens next; an app that cannot
    // be told is an error for the admin, not for the person.
    let client_ids = idp.store.clients_of_session(&sess.sid).await?;
    let apps = notify(idp, &sess, &client_ids, now).await;
    let mut e = AuditEvent::new("auth.logout", now);
    e.actor = Some(sess.user_id.clone());
    e.subject = Some(sess.user_id.clone());
    e.client_id = initiator.map(str::to_owned);
    e.ip = ip;
    e.detail = Some(format!("sid {}; apps: {}", sess.sid, client_ids.join(", ")));
    idp.audit(e).await;
    Ok(Some(SignedOut { sess, apps }))
}

/// Tells each app of the session: a queued logout token where it has a back
/// channel, else a front-channel URL for the sign-out page to frame.
async fn notify(idp: &Idp, sess: &SsoSession, client_ids: &[String], now: i64) -> Vec<AppNotice> {
    let mut apps = Vec::with_capacity(client_ids.len());
    // People know the app by its tile's name; the client's name is the fallback.
    let tiles = idp.store.list_apps().await.unwrap_or_default();
    for id in client_ids {
        let client = match idp.store.client(id).await {
            Ok(Some(c)) => c,
            Ok(None) => continue,
            Err(e) => {
                tracing::error!(error = %e, client = %id, sid = %sess.sid, "app not told of the sign-out");
                continue;
            }
        };
        let notice = if let Some(uri) = &client.backchannel_logout_uri {
            match super::backchannel::enqueue(idp, sess, &client, uri, now).await {
                Ok(outbox_id) => Notice::Back { outbox_id },
                Err(e) => {
                    tracing::error!(error = %e, client = %id, sid = %sess.sid, "back-channel logout not queued");
                    Notice::Unreachable
                }
            }
        } else if let Some(uri) = &client.frontchannel_logout_uri {
            Notice::Front {
                url: super::authorize::with_params(
                    uri,
                    &[("iss", Some(idp.config.issuer())), ("sid", Some(&sess.sid))],
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
        idp.outbox_wake.notify_one();
    }
    apps
}
