//! `/cas/logout` (CAS 3.0 §2.3): ends the portal session, so every app of
//! it hears (OIDC back- and front-channel, CAS single logout), and goes back
//! to `service` only when a registered service matches it.

use super::{CasError, registry};
use crate::Idp;
use crate::oidc::logout::{self, SignedOut};

/// What became of a CAS logout: where to go after, and what ended.
#[derive(Debug)]
pub struct Done {
    pub redirect: Option<String>,
    pub signed_out: Option<SignedOut>,
}

/// Signs out the session behind `cookie` (if any).
pub async fn logout(
    idp: &Idp,
    service: Option<&str>,
    cookie: Option<&str>,
    ip: Option<String>,
    now: i64,
) -> Result<Done, CasError> {
    let redirect = match service.and_then(registry::normalize) {
        // An unregistered address is never followed.
        Some(url) => registry::find(&idp.store, &url).await?.map(|_| url),
        None => None,
    };
    let signed_out = match cookie {
        Some(c) => logout::sign_out(idp, c, Some("cas"), ip, now).await?,
        None => None,
    };
    Ok(Done {
        redirect,
        signed_out,
    })
}
