//! RP-initiated logout (OIDC RP-Initiated Logout 1.0). The person is signed
//! out at once when the client proves the request with an `id_token_hint`
//! for this session; otherwise we ask first (a bare link must not sign
//! people out). We never redirect to a `post_logout_redirect_uri` that the
//! client has not registered, nor on a forged hint.

use serde::Deserialize;
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
        return Ok(LogoutStep::Done { redirect });
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
    if let Some(c) = cookie {
        sign_out(idp, c, client_id.as_deref(), ip, now).await?;
    }
    Ok(LogoutStep::Done { redirect })
}

/// Ends the SSO session behind `cookie` and revokes the grants made in it.
pub async fn sign_out(
    idp: &Idp,
    cookie: &str,
    initiator: Option<&str>,
    ip: Option<String>,
    now: i64,
) -> Result<Option<SsoSession>, OidcError> {
    let Some(sess) = session::destroy(&idp.cache, cookie).await? else {
        return Ok(None);
    };
    for gid in idp
        .store
        .revoke_grants_of_session(&sess.sid, "signed out", now)
        .await?
    {
        super::tokens::revoke_grant_access(idp, &gid).await?;
    }
    // The person is signed out here whatever happens next; an app that cannot
    // be told is an error for the admin, not for the person.
    let apps = idp.store.clients_of_session(&sess.sid).await?;
    if let Err(e) = super::backchannel::queue(idp, &sess, &apps, now).await {
        tracing::error!(error = %e, sid = %sess.sid, "back-channel logouts not queued");
    }
    let mut e = AuditEvent::new("auth.logout", now);
    e.actor = Some(sess.user_id.clone());
    e.subject = Some(sess.user_id.clone());
    e.client_id = initiator.map(str::to_owned);
    e.ip = ip;
    e.detail = Some(format!("sid {}; apps: {}", sess.sid, apps.join(", ")));
    idp.audit(e).await;
    Ok(Some(sess))
}
