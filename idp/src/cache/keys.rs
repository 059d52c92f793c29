//! Every cache key, built in one place: one function per key, named by its
//! purpose. A secret (a code, a token, a cookie, an account as typed) is
//! hashed here (SHA-256, base64url) before it becomes part of a key, so
//! neither Redis nor a memory dump holds one.
//!
//! Keys stay byte for byte what earlier versions wrote: two nodes of
//! different versions share Redis during a rolling upgrade. Each key starts
//! with its own prefix ([`PREFIXES`]); a test checks that no two purposes can
//! produce the same key.

use std::net::IpAddr;

use crate::crypto;
use crate::ids::UserId;

/// SHA-256 of a secret, base64url without padding: 43 characters, never a `:`.
pub fn hash(secret: &str) -> String {
    crypto::sha256_b64(secret.as_bytes())
}

// --- OIDC -------------------------------------------------------------------

/// An authorization code's grant, taken once (RFC 6749 §4.1.2).
pub fn code(code: &str) -> String {
    format!("code:{}", hash(code))
}

/// The grant a redeemed code issued, to revoke it on a replay (§4.1.2).
pub fn code_used(code: &str) -> String {
    format!("codeused:{}", hash(code))
}

/// A pending authorization request, by the id in the sign-in form.
pub fn pending(req_id: &str) -> String {
    format!("authreq:{}", hash(req_id))
}

/// A sign-in between password and second factor, by its cookie.
pub fn half(token: &str) -> String {
    format!("half:{}", hash(token))
}

/// A revoked access token, by its `jti`.
pub fn revoked_jti(jti: &str) -> String {
    format!("revjti:{jti}")
}

/// Every access token of a revoked grant, by the grant id.
pub fn revoked_grant(gid: &str) -> String {
    format!("revgrant:{gid}")
}

/// A client assertion's `jti`, seen once per client (RFC 7523 §3).
pub fn assertion_jti(client_id: &str, jti: &str) -> String {
    format!("jti:{client_id}:{}", hash(jti))
}

/// The progress of a sign-out, by the id in its page's address.
pub fn signout(id: &str) -> String {
    format!("signout:{id}")
}

// --- CAS ---------------------------------------------------------------------

/// A CAS service or proxy ticket, taken once at validation (CAS 3.0 §3.1.2, §3.2).
pub fn cas_ticket(ticket: &str) -> String {
    format!("casticket:{}", hash(ticket))
}

/// A CAS proxy-granting ticket, for as long as its session (CAS 3.0 §3.3).
pub fn cas_pgt(pgt: &str) -> String {
    format!("caspgt:{}", hash(pgt))
}

// --- SAML --------------------------------------------------------------------

/// A SAML request's ID, seen once per SP (replays are refused).
pub fn saml_request(entity_id: &str, id: &str) -> String {
    format!("samlreq:{}", hash(&format!("{entity_id}\n{id}")))
}

/// A SAML message that came by POST, waiting for the same browser's GET
/// (which carries the `SameSite=Lax` session cookie a cross-site POST lacks).
pub fn saml_incoming(id: &str) -> String {
    format!("samlin:{}", hash(id))
}

/// A signed SAML response waiting for its browser to fetch the POST form.
pub fn saml_post(id: &str) -> String {
    format!("samlpost:{}", hash(id))
}

// --- Sessions ---------------------------------------------------------------

/// An SSO session, by the hash of its cookie ([`hash`]; the same hash names
/// it in the SQL index of a person's sessions).
pub fn session_by_hash(cookie_hash: &str) -> String {
    format!("sess:{cookie_hash}")
}

/// An SSO session, by its cookie.
pub fn session(cookie: &str) -> String {
    session_by_hash(&hash(cookie))
}

/// Marks a session id ended, so tokens of it are refused.
pub fn session_ended(sid: &str) -> String {
    format!("sessend:{sid}")
}

// --- Brute-force guard ------------------------------------------------------

/// The account as typed, trimmed and lower-cased, hashed: an unknown account
/// is counted exactly like a real one.
fn account(typed: &str) -> String {
    hash(&typed.trim().to_lowercase())
}

/// Wrong passwords for an account.
pub fn bf_failures(typed: &str) -> String {
    format!("bf:n:{}", account(typed))
}

/// When the last wrong password for an account came.
pub fn bf_last(typed: &str) -> String {
    format!("bf:t:{}", account(typed))
}

/// Until when an account is locked.
pub fn bf_lock(typed: &str) -> String {
    format!("bf:lock:{}", account(typed))
}

/// The one try at a time of an account.
pub fn bf_turn(typed: &str) -> String {
    format!("bf:turn:{}", account(typed))
}

/// Wrong passwords from an address (as counted: an IPv4 address or an IPv6 /64).
pub fn bf_address(address: &str) -> String {
    format!("bf:ip:{address}")
}

/// An account that signed in from an address before.
pub fn bf_known(typed: &str, address: &str) -> String {
    format!("bf:ok:{}", hash(&format!("{}|{address}", account(typed))))
}

// --- Rate limits ------------------------------------------------------------

/// What a per-address rate limit counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateClass {
    /// Requests to the pages anyone may call.
    Page,
    /// Failed calls of apps to the back-channel endpoints.
    Fail,
}

impl RateClass {
    pub const fn as_str(self) -> &'static str {
        match self {
            RateClass::Page => "page",
            RateClass::Fail => "fail",
        }
    }
}

/// The counter of `class` for `address` (itself, or its /64) in window `index`.
pub fn rate(class: RateClass, address: IpAddr, index: u64) -> String {
    format!("rate:{}:{}:{index}", class.as_str(), bucket(address))
}

/// What an address is counted as: itself, or its /64.
pub fn bucket(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

// --- Jobs -------------------------------------------------------------------

/// The lock that lets one node at a time run the scheduled directory sync.
pub fn directory_sync_lock() -> String {
    "sync:directory".to_owned()
}

// --- Second factors (`auth::mfa`) -------------------------------------------

/// What enrolment state belongs to: a sign-in half-way (by its cookie) or a
/// session (by its `sid`). The part of a key that names it.
#[derive(Clone, Copy, Debug)]
pub enum MfaScope<'a> {
    Half(&'a str),
    Session(&'a str),
}

impl MfaScope<'_> {
    fn part(self) -> String {
        match self {
            MfaScope::Half(token) => format!("h:{}", hash(token)),
            MfaScope::Session(sid) => format!("s:{sid}"),
        }
    }
}

/// What an e-mailed code is for; codes other than the sign-in's are bound to
/// the scope (the browser) that asked.
#[derive(Clone, Copy, Debug)]
pub enum CodePurpose<'a> {
    Login,
    Enrol(MfaScope<'a>),
    Bootstrap(MfaScope<'a>),
    Recheck(MfaScope<'a>),
}

impl CodePurpose<'_> {
    fn part(self) -> String {
        match self {
            CodePurpose::Login => "login".into(),
            CodePurpose::Enrol(s) => format!("enrol:{}", s.part()),
            CodePurpose::Bootstrap(s) => format!("bootstrap:{}", s.part()),
            CodePurpose::Recheck(s) => format!("recheck:{}", s.part()),
        }
    }
}

/// An authenticator key being enrolled by a person in a scope.
pub fn totp_enrol(user_id: &UserId, scope: MfaScope<'_>) -> String {
    format!("totpenrol:{user_id}:{}", scope.part())
}

/// An e-mailed code (its hash, address and send time).
pub fn email_code(user_id: &UserId, purpose: CodePurpose<'_>) -> String {
    format!("emailotp:{}:{user_id}", purpose.part())
}

/// The tries at an e-mailed code, counted apart so each is reserved first.
pub fn email_code_tries(user_id: &UserId, purpose: CodePurpose<'_>) -> String {
    format!("{}:tries", email_code(user_id, purpose))
}

/// A person's wrong second-factor codes in the current window.
pub fn mfa_failures(user_id: &UserId) -> String {
    format!("mfafail:{user_id}")
}

/// When a scope last proved a current factor.
pub fn mfa_fresh(scope: MfaScope<'_>) -> String {
    format!("mfafresh:{}", scope.part())
}

// --- Password reset (`auth::reset`) -----------------------------------------

/// A reset link, by the [`hash`] of its token (the hash is also kept under
/// [`reset_live`] to tell the person's one live link).
pub fn reset_link_by_hash(token_hash: &str) -> String {
    format!("pwreset:{token_hash}")
}

/// The hash of a person's one live reset link.
pub fn reset_live(user_id: &UserId) -> String {
    format!("pwreset:user:{user_id}")
}

/// Reset links asked for an account as typed, this hour.
pub fn reset_count(typed: &str) -> String {
    format!("pwreset:count:{}", hash(typed))
}

/// The literal start of every key above, with whether what follows it may
/// contain a `:` (an id, an address) or not (a [`hash`], a number).
pub const PREFIXES: &[(&str, bool)] = &[
    ("code:", false),
    ("codeused:", false),
    ("authreq:", false),
    ("half:", false),
    ("revjti:", true),
    ("revgrant:", true),
    ("jti:", true),
    ("signout:", true),
    ("casticket:", false),
    ("caspgt:", false),
    ("samlreq:", false),
    ("samlpost:", false),
    ("samlin:", false),
    ("sess:", false),
    ("sessend:", true),
    ("bf:n:", false),
    ("bf:t:", false),
    ("bf:lock:", false),
    ("bf:turn:", false),
    ("bf:ip:", true),
    ("bf:ok:", false),
    ("rate:", true),
    ("sync:directory", false),
    ("totpenrol:", true),
    ("emailotp:", true),
    ("mfafail:", true),
    ("mfafresh:", true),
    ("pwreset:", false),
    ("pwreset:user:", true),
    ("pwreset:count:", false),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// One key of each purpose, with the prefix it must start with.
    fn samples() -> Vec<(&'static str, String)> {
        let ip: IpAddr = "2001:db8:1:2:3::4".parse().unwrap();
        let by_cookie = MfaScope::Half("cookie");
        let sess = MfaScope::Session("sid1");
        vec![
            ("code:", code("c")),
            ("codeused:", code_used("c")),
            ("authreq:", pending("r")),
            ("half:", half("t")),
            ("revjti:", revoked_jti("j")),
            ("revgrant:", revoked_grant("g")),
            ("jti:", assertion_jti("vanban", "j")),
            ("signout:", signout("i")),
            ("casticket:", cas_ticket("ST-1")),
            ("caspgt:", cas_pgt("PGT-1")),
            ("samlreq:", saml_request("https://sp", "_1")),
            ("samlpost:", saml_post("p")),
            ("samlin:", saml_incoming("i")),
            ("sess:", session("cookie")),
            ("sessend:", session_ended("sid1")),
            ("bf:n:", bf_failures("tamtt")),
            ("bf:t:", bf_last("tamtt")),
            ("bf:lock:", bf_lock("tamtt")),
            ("bf:turn:", bf_turn("tamtt")),
            ("bf:ip:", bf_address("2001:db8::/64")),
            ("bf:ok:", bf_known("tamtt", "10.0.0.1")),
            ("rate:", rate(RateClass::Page, ip, 7)),
            ("sync:directory", directory_sync_lock()),
            ("totpenrol:", totp_enrol(&UserId::from("u1"), by_cookie)),
            (
                "emailotp:",
                email_code(&UserId::from("u1"), CodePurpose::Recheck(sess)),
            ),
            ("mfafail:", mfa_failures(&UserId::from("u1"))),
            ("mfafresh:", mfa_fresh(sess)),
            ("pwreset:", reset_link_by_hash(&hash("token"))),
            ("pwreset:user:", reset_live(&UserId::from("u1"))),
            ("pwreset:count:", reset_count("tamtt")),
        ]
    }

    #[test]
    fn every_key_starts_with_its_listed_prefix() {
        let samples = samples();
        assert_eq!(
            samples.len(),
            PREFIXES.len(),
            "a key without its prefix listed"
        );
        for ((p, key), (listed, _)) in samples.iter().zip(PREFIXES) {
            assert_eq!(p, listed);
            assert!(key.starts_with(p), "{key} does not start with {p}");
        }
    }

    #[test]
    fn no_two_purposes_can_make_the_same_key() {
        // Either neither prefix starts the other, or the shorter one is
        // followed by a colon-free value where the longer has a colon.
        for (short, may_have_colon) in PREFIXES {
            for (long, _) in PREFIXES {
                if short == long || !long.starts_with(short) {
                    continue;
                }
                assert!(
                    !may_have_colon && long[short.len()..].contains(':'),
                    "{short} and {long} can make the same key"
                );
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (p, _) in PREFIXES {
            assert!(seen.insert(p), "{p} twice");
        }
    }

    #[test]
    fn keys_stay_what_earlier_versions_wrote() {
        // A rolling upgrade shares Redis between versions.
        let h = crypto::sha256_b64(b"c");
        assert_eq!(code("c"), format!("code:{h}"));
        assert_eq!(code_used("c"), format!("codeused:{h}"));
        assert_eq!(assertion_jti("vanban", "c"), format!("jti:vanban:{h}"));
        assert_eq!(session_by_hash("x"), "sess:x");
        assert_eq!(session("c"), format!("sess:{h}"));
        let a = crypto::sha256_b64(b"tamtt");
        assert_eq!(bf_failures(" TamTT "), format!("bf:n:{a}"));
        assert_eq!(bf_lock("tamtt"), format!("bf:lock:{a}"));
        assert_eq!(
            bf_known("tamtt", "10.0.0.1"),
            format!(
                "bf:ok:{}",
                crypto::sha256_b64(format!("{a}|10.0.0.1").as_bytes())
            )
        );
        let ip: IpAddr = "2001:db8:1:2:3::4".parse().unwrap();
        assert_eq!(
            rate(RateClass::Fail, ip, 9),
            "rate:fail:2001:db8:1:2::/64:9"
        );
        let v4: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(rate(RateClass::Page, v4, 9), "rate:page:10.0.0.1:9");
        let t = crypto::sha256_b64(b"cookie");
        assert_eq!(
            totp_enrol(&UserId::from("u1"), MfaScope::Half("cookie")),
            format!("totpenrol:u1:h:{t}")
        );
        assert_eq!(
            email_code(
                &UserId::from("u1"),
                CodePurpose::Enrol(MfaScope::Session("s1"))
            ),
            "emailotp:enrol:s:s1:u1"
        );
        assert_eq!(
            email_code(&UserId::from("u1"), CodePurpose::Login),
            "emailotp:login:u1"
        );
        assert_eq!(
            email_code_tries(&UserId::from("u1"), CodePurpose::Login),
            "emailotp:login:u1:tries"
        );
        assert_eq!(mfa_fresh(MfaScope::Session("s1")), "mfafresh:s:s1");
        assert_eq!(reset_count("tamtt"), format!("pwreset:count:{a}"));
        assert_eq!(directory_sync_lock(), "sync:directory");
    }

    #[test]
    fn no_secret_stands_in_a_key() {
        for key in [
            code("the-code"),
            code_used("the-code"),
            pending("the-code"),
            half("the-code"),
            assertion_jti("c", "the-code"),
            session("the-code"),
            cas_ticket("the-code"),
            cas_pgt("the-code"),
            bf_failures("the-code"),
            bf_known("the-code", "the-code"),
            totp_enrol(&UserId::from("u"), MfaScope::Half("the-code")),
            reset_count("the-code"),
        ] {
            assert!(!key.contains("the-code"), "{key}");
        }
    }
}
