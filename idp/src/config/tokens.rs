//! `[session]` and `[tokens]`: how long the SSO session, a started sign-in,
//! codes, tokens and refresh-token families live, and how often signing keys
//! are reloaded.

use serde::Deserialize;

use super::{ConfigError, invalid};

/// The SSO session at the portal.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    /// Signed out after this long without activity.
    pub idle_timeout_secs: u64,
    /// Signed out this long after signing in, whatever the activity.
    pub absolute_timeout_secs: u64,
    /// How long a started sign-in (the login form) stays valid.
    pub login_request_ttl_secs: u64,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            idle_timeout_secs: 8 * 3600,
            absolute_timeout_secs: 12 * 3600,
            login_request_ttl_secs: 30 * 60,
        }
    }
}

/// `[tokens]`: lifetimes of what the token endpoint issues.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenConfig {
    /// Lifetime of an authorization code (RFC 6749 §4.1.2 recommends at most 10 minutes).
    pub code_ttl_secs: u64,
    /// Lifetime of an access token.
    pub access_ttl_secs: u64,
    /// Lifetime of an ID token.
    pub id_ttl_secs: u64,
    /// Lifetime of a refresh-token family from its first issue.
    pub refresh_ttl_secs: u64,
    /// How often each node reloads signing keys from the database (picks up `idp keys rotate`).
    pub key_reload_secs: u64,
}

impl Default for TokenConfig {
    fn default() -> Self {
        TokenConfig {
            code_ttl_secs: 60,
            access_ttl_secs: 600,
            id_ttl_secs: 600,
            refresh_ttl_secs: 12 * 3600,
            key_reload_secs: 60,
        }
    }
}

/// Checks both sections: no lifetime is zero, a code lives at most ten minutes.
pub(super) fn validate(t: &TokenConfig, s: &SessionConfig) -> Result<(), ConfigError> {
    if !(1..=600).contains(&t.code_ttl_secs) {
        return Err(invalid(
            "tokens.code_ttl_secs",
            "must be 1 to 600 seconds (RFC 6749 §4.1.2)",
        ));
    }
    for (name, v) in [
        ("tokens.access_ttl_secs", t.access_ttl_secs),
        ("tokens.id_ttl_secs", t.id_ttl_secs),
        ("tokens.refresh_ttl_secs", t.refresh_ttl_secs),
        ("tokens.key_reload_secs", t.key_reload_secs),
        ("session.idle_timeout_secs", s.idle_timeout_secs),
        ("session.absolute_timeout_secs", s.absolute_timeout_secs),
        ("session.login_request_ttl_secs", s.login_request_ttl_secs),
    ] {
        if v == 0 {
            return Err(invalid(name, "must be greater than 0"));
        }
    }
    Ok(())
}
