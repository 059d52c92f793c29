//! Length caps on every parameter the OIDC endpoints take from outside
//! (authorize, token, introspection, revocation, userinfo, logout).
//!
//! A pending sign-in is kept in the cache for half an hour, so an unbounded
//! `state` or `login_hint` lets anyone fill the cache's memory; every other
//! value is capped too, so nothing over-long is hashed, parsed or stored.
//! Each cap is well above what a conforming client sends.

/// The largest value accepted for the parameter `name`, in bytes.
pub fn cap(name: &str) -> usize {
    match name {
        "response_type"
        | "response_mode"
        | "code_challenge_method"
        | "grant_type"
        | "token_type_hint"
        | "max_age" => 64,
        "prompt" | "acr_values" | "ui_locales" => 128,
        // The CLI registers ids of at most 64 characters; some slack for the error.
        "client_id" => 128,
        // RFC 7636 §4.1: 43–128 characters.
        "code_challenge" | "code_verifier" => 128,
        "client_assertion_type" => 128,
        "login_hint" => 256,
        // Our codes and refresh tokens are 43 characters.
        "code" | "refresh_token" => 256,
        "state" | "nonce" => 512,
        // Secrets are 32–512 characters (`idp client add --secret-stdin`).
        "client_secret" => 512,
        "scope" => 1024,
        "redirect_uri" | "post_logout_redirect_uri" | "resource" | "request_uri" => 2048,
        // Our access tokens are under 1 KiB; ID tokens with every claim under 2 KiB.
        "token" | "access_token" | "id_token_hint" => 4096,
        // An RS256 assertion with a 4096-bit key is about 1.2 KiB.
        "client_assertion" | "request" => 8192,
        _ => 256,
    }
}

/// A parameter longer than its cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooLong {
    pub name: &'static str,
    pub cap: usize,
}

impl TooLong {
    /// The `error_description` sent back.
    pub fn describe(&self) -> String {
        format!("{} is too long (at most {} bytes)", self.name, self.cap)
    }
}

/// The first of `fields` whose value is longer than its cap.
pub fn check(fields: &[(&'static str, Option<&str>)]) -> Result<(), TooLong> {
    for (name, value) in fields {
        let cap = cap(name);
        if value.is_some_and(|v| v.len() > cap) {
            return Err(TooLong { name, cap });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_over_their_cap_are_named() {
        assert!(check(&[("state", Some(&"s".repeat(512))), ("nonce", None)]).is_ok());
        assert_eq!(
            check(&[("nonce", Some("n")), ("state", Some(&"s".repeat(513)))]),
            Err(TooLong {
                name: "state",
                cap: 512
            })
        );
        assert!(check(&[("login_hint", Some(&"a".repeat(257)))]).is_err());
        assert!(check(&[("scope", Some(&"a".repeat(1024)))]).is_ok());
        assert!(check(&[("code_challenge", Some(&"a".repeat(129)))]).is_err());
        assert!(check(&[("anything_else", Some(&"a".repeat(257)))]).is_err());
    }
}
