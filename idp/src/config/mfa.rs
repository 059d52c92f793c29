//! `[mfa]`: who needs a second factor and the name authenticator apps show.

use serde::Deserialize;

use super::{ConfigError, invalid};

/// `[mfa]`: who needs a second factor beyond administrators (always: the
/// admin console is theirs), people who enrolled one and the apps that ask.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MfaConfig {
    /// Members of these groups always use a second factor.
    pub groups: Vec<String>,
    /// Name shown in authenticator apps beside the account.
    pub issuer_label: String,
}

impl Default for MfaConfig {
    fn default() -> Self {
        MfaConfig {
            groups: Vec::new(),
            issuer_label: "Đăng nhập".into(),
        }
    }
}

impl MfaConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        // The otpauth:// label is `issuer:account`.
        if self.issuer_label.contains(':') || self.issuer_label.trim().is_empty() {
            return Err(invalid("mfa.issuer_label", "must be a name without ':'"));
        }
        Ok(())
    }
}
