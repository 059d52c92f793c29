//! `/cas/logout` (CAS 3.0 §2.3): ends the portal session, so every app of
//! it hears (OIDC back- and front-channel, CAS single logout), and goes back
//! to `service` only when a registered service matches it.
//!
//! A bare link must not sign people out (logout CSRF): the session ends at
//! once only when the request is `confirmed` — it came from the IdP's own
//! origin, or is the POST of the confirmation form (CSRF-checked by the
//! caller). Otherwise the person is asked first, on the page OIDC's
//! end-session endpoint asks with; an app's link costs one click.

use super::{CasError, registry};
use crate::Idp;
use crate::auth::session;
use crate::oidc::logout::{self, SignedOut};

/// What became of a CAS logout.
#[derive(Debug)]
pub enum Step {
    /// A session is live and the request did not prove it came from the
    /// person: ask, then POST `service` back.
    Confirm { service: Option<String> },
    /// Signed out (or was not signed in): go here, or show the signed-out page.
    Done {
        redirect: Option<String>,
        signed_out: Option<SignedOut>,
    },
}

/// Signs out the session behind `cookie` (if any) when `confirmed`.
pub async fn logout(
    idp: &Idp,
    service: Option<&str>,
    cookie: Option<&str>,
    confirmed: bool,
    ip: Option<String>,
    now: i64,
) -> Result<Step, CasError> {
    let redirect = match service.and_then(registry::normalize) {
        // An unregistered address is never followed.
        Some(url) => registry::find(&idp.store, &url).await?.map(|_| url),
        None => None,
    };
    let live = match cookie {
        Some(c) => session::load(&idp.cache, &idp.config.session, c, now)
            .await?
            .is_some(),
        None => false,
    };
    if live && !confirmed {
        // Only a registered service is carried through the form.
        return Ok(Step::Confirm { service: redirect });
    }
    let signed_out = match cookie {
        Some(c) => logout::sign_out(idp, c, Some("cas"), ip, now).await?,
        None => None,
    };
    Ok(Step::Done {
        redirect,
        signed_out,
    })
}
