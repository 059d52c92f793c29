//! CSRF protection for every form: a random cookie, and in the form a MAC
//! of it under the master key (signed double submit). Any node can check it,
//! and a cookie planted by a sibling subdomain is useless without the MAC.

use super::cookies;
use super::ctx::Ctx;
use crate::Idp;
use crate::crypto::{self, CryptoError};

pub struct Csrf {
    /// Goes in the form's hidden `csrf` field.
    pub token: String,
    /// Set when the browser had no CSRF cookie yet.
    pub set_cookie: Option<String>,
}

fn token_for(idp: &Idp, cookie: &str) -> String {
    crypto::b64(&idp.master.mac("csrf", cookie.as_bytes()))
}

pub fn issue(idp: &Idp, ctx: &Ctx) -> Result<Csrf, CryptoError> {
    let name = cookies::csrf_name(idp);
    if let Some(existing) = ctx.cookie(name).filter(|c| c.len() >= 32) {
        return Ok(Csrf {
            token: token_for(idp, existing),
            set_cookie: None,
        });
    }
    let fresh = crypto::random_token()?;
    Ok(Csrf {
        token: token_for(idp, &fresh),
        set_cookie: Some(cookies::set(idp, name, &fresh)),
    })
}

pub fn check(idp: &Idp, ctx: &Ctx, form_token: Option<&str>) -> bool {
    match (ctx.cookie(cookies::csrf_name(idp)), form_token) {
        (Some(cookie), Some(token)) => {
            crypto::ct_eq(token_for(idp, cookie).as_bytes(), token.as_bytes())
        }
        _ => false,
    }
}
