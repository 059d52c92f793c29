//! Cookie names and attributes. Session and CSRF cookies are HttpOnly,
//! SameSite=Lax, and Secure with the `__Host-` prefix when the issuer is https.

use crate::Idp;

pub const LANG_COOKIE: &str = "dn_lang";

/// `__Host-NAME` over https, `NAME` on a loopback http issuer.
fn named(idp: &Idp, secure: &'static str, plain: &'static str) -> &'static str {
    if idp.config.issuer_is_https() {
        secure
    } else {
        plain
    }
}

pub fn session_name(idp: &Idp) -> &'static str {
    named(idp, "__Host-dn_session", "dn_session")
}

pub fn csrf_name(idp: &Idp) -> &'static str {
    named(idp, "__Host-dn_csrf", "dn_csrf")
}

/// Between the password and the second factor.
pub fn half_name(idp: &Idp) -> &'static str {
    named(idp, "__Host-dn_2fa", "dn_2fa")
}

/// Names the browser, so a sign-in from a new one can be told to its owner.
pub fn device_name(idp: &Idp) -> &'static str {
    named(idp, "__Host-dn_device", "dn_device")
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

/// The device cookie outlives the browser session (about 400 days).
pub fn set_device(idp: &Idp, value: &str) -> String {
    format!(
        "{}={value}; Path=/; Max-Age=34560000; HttpOnly; SameSite=Lax{}",
        device_name(idp),
        secure(idp)
    )
}

pub fn set_lang(idp: &Idp, tag: &str) -> String {
    format!(
        "{LANG_COOKIE}={tag}; Path=/; Max-Age=31536000; SameSite=Lax{}",
        secure(idp)
    )
}
