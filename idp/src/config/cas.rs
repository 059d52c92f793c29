//! `[cas]`: the CAS 3.0 endpoints under `/cas`; `[compat]`: aliases of the
//! OIDC endpoints at the paths WSO2 Identity Server uses.

use serde::Deserialize;

use super::{ConfigError, invalid};

/// `[cas]`: Apereo CAS Protocol 3.0 for apps that validate tickets at `/cas`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CasConfig {
    /// Serve `/cas/*` (services still have to be registered with
    /// `idp cas service add`).
    pub enabled: bool,
    /// Lifetime of a service or proxy ticket, in seconds (CAS 3.0 §3.1.1
    /// recommends at most five minutes; apps validate within seconds).
    pub ticket_ttl_secs: u64,
    /// Accept a plain http `pgtUrl` when its host is 127.0.0.1 or ::1 (tests
    /// only; CAS 3.0 §2.5.4 wants https).
    pub allow_http_proxy_callback_on_loopback: bool,
}

impl Default for CasConfig {
    fn default() -> Self {
        CasConfig {
            enabled: true,
            ticket_ttl_secs: 60,
            allow_http_proxy_callback_on_loopback: false,
        }
    }
}

impl CasConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if !(5..=300).contains(&self.ticket_ttl_secs) {
            return Err(invalid(
                "cas.ticket_ttl_secs",
                "must be between 5 and 300 seconds; e.g. IDP_CAS__TICKET_TTL_SECS=60",
            ));
        }
        Ok(())
    }
}

/// `[compat]`: paths other identity servers used, so their apps only change
/// the host name.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompatConfig {
    /// Also serve the OIDC endpoints at WSO2 Identity Server's paths:
    /// `/oauth2/authorize`, `/oauth2/token`, `/oauth2/userinfo`,
    /// `/oauth2/jwks` and `/oidc/logout` (discovery keeps the canonical ones).
    pub wso2_paths: bool,
}
