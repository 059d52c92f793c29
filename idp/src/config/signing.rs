//! `[signing]`: PDF signing (issue 10). The time-stamping authority for
//! PAdES B-T and the trust anchors verification checks chains against.

use std::path::PathBuf;

use serde::Deserialize;

/// `[signing]`: PDF signing and verification.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SigningConfig {
    /// RFC 3161 time-stamping authority (`IDP_SIGNING__TSA_URL`, http or
    /// https): every signature gets its time-stamp (PAdES B-T), and signing
    /// fails when the TSA does. Unset: signatures are B-B.
    pub tsa_url: Option<String>,
    /// PEM files of the certificates that signer and TSA certificates must
    /// chain to for `idp sign verify` to call them trusted
    /// (`IDP_SIGNING__TRUST_ANCHORS`, paths separated by commas). Empty:
    /// trust is not checked.
    #[serde(deserialize_with = "paths")]
    pub trust_anchors: Vec<PathBuf>,
    /// The office's name on its visible signature (`IDP_SIGNING__OFFICE_NAME`).
    pub office_name: Option<String>,
    /// The office's red seal, a transparent PNG (`IDP_SIGNING__OFFICE_SEAL`):
    /// drawn over the left third of the official's signature when the clerk
    /// signs for the office. Unset: the office's signature is invisible.
    pub office_seal: Option<PathBuf>,
}

/// A list of paths, or (from the environment) one string of them separated
/// by commas.
fn paths<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<PathBuf>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Paths {
        One(String),
        Many(Vec<PathBuf>),
    }
    Ok(match Paths::deserialize(d)? {
        Paths::One(s) => s
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .collect(),
        Paths::Many(v) => v,
    })
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::super::tests::env;

    #[test]
    fn tsa_and_anchors_come_from_the_environment() {
        let c = Config::load_from(
            None,
            &env(&[
                ("IDP_SIGNING__TSA_URL", "http://127.0.0.1:3180/tsa"),
                ("IDP_SIGNING__TRUST_ANCHORS", "/etc/a.pem, /etc/b.pem"),
            ]),
        )
        .unwrap();
        assert_eq!(
            c.signing.tsa_url.as_deref(),
            Some("http://127.0.0.1:3180/tsa")
        );
        assert_eq!(c.signing.trust_anchors.len(), 2);
        assert!(
            Config::load_from(None, &[])
                .unwrap()
                .signing
                .trust_anchors
                .is_empty()
        );
    }
}
