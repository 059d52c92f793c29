//! Cookie names and attributes. Session and CSRF cookies are HttpOnly,
//! SameSite=Lax, and Secure with the `__Host-` prefix when the issuer is https.

use crate::Idp;

pub const LANG_COOKIE: &str = "dn_lang";

pub fn session_name(idp: &Idp) -> &'static str {
    if idp.config.issuer_is_https() {
        "__Host-dn_session"
    } else {
        "dn_session"
    }
}

pub fn csrf_name(idp: &Idp) -> &'static str {
    if idp.config.issuer_is_https() {
        "__Host-dn_csrf"
    } else {
        "dn_csrf"
    }
}

fn secure(idp: &Idp) -> &'static str {
    if idp.config.issuer_is_https() {
        "; Secure"
    } else {
        ""
    }
}

/// A browser-session cookie: closing the browser on a shared office PC ends it.
pub fn set(idp: &Idp, name: &str, value: &str) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax{}",
        secure(idp)
    )
}

pub fn clear(idp: &Idp, name: &str) -> String {
    format!(
        "{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        secure(idp)
    )
}

pub fn set_lang(idp: &Idp, tag: &str) -> String {
    format!(
        "{LANG_COOKIE}={tag}; Path=/; Max-Age=31536000; SameSite=Lax{}",
        secure(idp)
    )
}
