//! CSRF protection for every form: a random cookie, and in the form a MAC
//! of it under the master key's CSRF sub-key (signed double submit). Any
//! node can check it, and a cookie planted by a sibling subdomain is useless
//! without the MAC.

use axum::http::HeaderValue;
use axum::http::header::SET_COOKIE;
use axum::response::Response;

use super::cookies;
use super::ctx::Ctx;
use crate::Idp;
use crate::crypto::{self, CryptoError, Mac};

pub struct Csrf {
    /// Goes in the form's hidden `csrf` field.
    pub token: String,
    /// Set when the browser had no CSRF cookie yet.
    pub set_cookie: Option<String>,
}

fn token_for(idp: &Idp, cookie: &str) -> String {
    crypto::b64(&idp.master.mac(Mac::Csrf, cookie.as_bytes()))
}

impl Csrf {
    /// Adds the CSRF cookie to the page's response when the browser needs one.
    pub fn attach(&self, mut resp: Response) -> Response {
        if let Some(set) = self
            .set_cookie
            .as_deref()
            .and_then(|s| HeaderValue::from_str(s).ok())
        {
            resp.headers_mut().append(SET_COOKIE, set);
        }
        resp
    }
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
        (Some(cookie), Some(token)) => crypto::b64_decode(token)
            .is_some_and(|tag| idp.master.verify_mac(Mac::Csrf, cookie.as_bytes(), &tag)),
        _ => false,
    }
}
