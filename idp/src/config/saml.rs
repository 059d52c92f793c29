//! `[saml]`: the SAML 2.0 IdP under `/saml`.

use serde::Deserialize;

use super::{ConfigError, invalid};

/// `[saml]`: SAML 2.0 Web Browser SSO and Single Logout for apps registered
/// with `idp saml sp add`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SamlConfig {
    /// Serve `/saml/*` (the IdP key is made at the first start).
    pub enabled: bool,
    /// The IdP's entity ID; unset: `{issuer}/saml/metadata`.
    pub entity_id: Option<String>,
    /// Refuse AuthnRequests that are not signed, whatever the SP's metadata says.
    pub want_authn_requests_signed: bool,
}

impl Default for SamlConfig {
    fn default() -> Self {
        SamlConfig {
            enabled: true,
            entity_id: None,
            want_authn_requests_signed: false,
        }
    }
}

impl SamlConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if let Some(e) = &self.entity_id
            && (e.trim().is_empty() || e.len() > 1024 || url::Url::parse(e).is_err())
        {
            return Err(invalid(
                "saml.entity_id",
                "must be an absolute URI; e.g. IDP_SAML__ENTITY_ID=https://dangnhap.binhphuoc.gov.vn/saml/metadata",
            ));
        }
        Ok(())
    }
}
