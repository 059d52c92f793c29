//! `[signing]`: where the document-signing keys live (the embedded software
//! key, or a PKCS#11 token), how a person's key and the office's key are
//! found on it, the time-stamp authority and the trust anchors.

use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use super::{ConfigError, invalid};

/// Which key backend signs documents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SigningBackend {
    /// The embedded software key with its self-signed test certificate (not
    /// legally valid): the default, so `idp serve` signs with no setup.
    #[default]
    Soft,
    /// Keys on a PKCS#11 token (an HSM, or SoftHSM2 in tests).
    Pkcs11,
}

/// `[signing]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SigningConfig {
    /// `soft` (default) or `pkcs11` (`IDP_SIGNING__BACKEND`).
    pub backend: SigningBackend,
    /// The PKCS#11 module (shared library), e.g. `/usr/lib/softhsm/libsofthsm2.so`.
    pub module: Option<PathBuf>,
    /// The label of the token holding the keys.
    pub token_label: Option<String>,
    /// A file holding the token's user PIN (one line; the trailing newline is dropped).
    pub pin_file: Option<PathBuf>,
    /// The token's user PIN (`IDP_SIGNING__PIN`); prefer `pin_file`. Never logged.
    pub pin: Option<SecretString>,
    /// The CKA_LABEL of the office's key (the seal the clerk adds); unset: no
    /// organization signatures.
    pub office_key_label: Option<String>,
    /// How a person's key is labelled on the token: `{email}` is replaced by
    /// their e-mail address.
    pub person_key_label: String,
    /// An RFC 3161 time-stamp authority (http or https URL); unset: PAdES B-B.
    pub tsa_url: Option<String>,
    /// PEM or DER certificates that verification chains signers and
    /// time-stamps to, and deferred signers' certificates must chain to
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

impl Default for SigningConfig {
    fn default() -> Self {
        SigningConfig {
            backend: SigningBackend::Soft,
            module: None,
            token_label: None,
            pin_file: None,
            pin: None,
            office_key_label: None,
            person_key_label: "{email}".into(),
            tsa_url: None,
            trust_anchors: Vec::new(),
            office_name: None,
            office_seal: None,
        }
    }
}

/// Longest PIN read from `pin_file`: a PIN is short; a large file is a mistake.
const MAX_PIN_BYTES: u64 = 256;

impl SigningConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.person_key_label.trim().is_empty() {
            return Err(invalid(
                "signing.person_key_label",
                "must not be empty; e.g. IDP_SIGNING__PERSON_KEY_LABEL={email}",
            ));
        }
        if let Some(l) = &self.office_key_label
            && l.trim().is_empty()
        {
            return Err(invalid(
                "signing.office_key_label",
                "must not be empty when set; e.g. IDP_SIGNING__OFFICE_KEY_LABEL=office-seal",
            ));
        }
        if let Some(tsa) = &self.tsa_url {
            let url = Url::parse(tsa).map_err(|e| {
                invalid(
                    "signing.tsa_url",
                    format!("{e}; e.g. IDP_SIGNING__TSA_URL=http://tsa.example.gov.vn/"),
                )
            })?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(invalid(
                    "signing.tsa_url",
                    "must be an http or https URL; e.g. IDP_SIGNING__TSA_URL=http://tsa.example.gov.vn/",
                ));
            }
        }
        for anchor in &self.trust_anchors {
            if !anchor.is_file() {
                return Err(invalid(
                    "signing.trust_anchors",
                    format!(
                        "{} is not a file; list CA certificates (PEM or DER)",
                        anchor.display()
                    ),
                ));
            }
        }
        if let Some(seal) = &self.office_seal
            && !seal.is_file()
        {
            return Err(invalid(
                "signing.office_seal",
                format!("{} is not a file; give the seal as a PNG", seal.display()),
            ));
        }
        if self.pin.is_some() && self.pin_file.is_some() {
            return Err(invalid(
                "signing.pin",
                "set one of pin (IDP_SIGNING__PIN) and pin_file, not both",
            ));
        }
        if self.backend == SigningBackend::Pkcs11 {
            if self.module.is_none() {
                return Err(invalid(
                    "signing.module",
                    "backend pkcs11 needs the module; e.g. IDP_SIGNING__MODULE=/usr/lib/softhsm/libsofthsm2.so",
                ));
            }
            if self
                .token_label
                .as_deref()
                .is_none_or(|l| l.trim().is_empty())
            {
                return Err(invalid(
                    "signing.token_label",
                    "backend pkcs11 needs the token's label; e.g. IDP_SIGNING__TOKEN_LABEL=dangnhap",
                ));
            }
            if !self.person_key_label.contains("{email}") {
                return Err(invalid(
                    "signing.person_key_label",
                    "must contain {email}, so each person has their own key; e.g. IDP_SIGNING__PERSON_KEY_LABEL={email}",
                ));
            }
            if self.pin.is_none() && self.pin_file.is_none() {
                return Err(invalid(
                    "signing.pin_file",
                    "backend pkcs11 needs the user PIN: set pin_file (or IDP_SIGNING__PIN)",
                ));
            }
            // Read now so a missing or unreadable file stops the start, not the first signature.
            self.user_pin()?;
        }
        Ok(())
    }

    /// The token's user PIN, from `pin` or read from `pin_file`.
    pub fn user_pin(&self) -> Result<SecretString, ConfigError> {
        if let Some(pin) = &self.pin {
            if pin.expose_secret().is_empty() {
                return Err(invalid("signing.pin", "must not be empty"));
            }
            return Ok(pin.clone());
        }
        let Some(path) = &self.pin_file else {
            return Err(invalid(
                "signing.pin_file",
                "no PIN: set pin_file (or IDP_SIGNING__PIN)",
            ));
        };
        let err = |message: String| ConfigError::File {
            path: path.display().to_string(),
            message: format!("{message} (signing.pin_file)"),
        };
        let len = std::fs::metadata(path)
            .map_err(|e| err(e.to_string()))?
            .len();
        if len > MAX_PIN_BYTES {
            return Err(err(format!("{len} bytes; a PIN file holds the PIN alone")));
        }
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let pin = text.trim_end_matches(['\r', '\n']);
        if pin.is_empty() {
            return Err(err("the file is empty".into()));
        }
        Ok(SecretString::from(pin))
    }
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
    use secrecy::ExposeSecret;

    use super::super::Config;
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn bad(pairs: &[(&str, &str)]) -> String {
        Config::load_from(None, &env(pairs))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn defaults_to_the_soft_key() {
        let c = Config::load_from(None, &[]).unwrap();
        assert_eq!(c.signing.backend, SigningBackend::Soft);
        assert_eq!(c.signing.person_key_label, "{email}");
        assert!(c.signing.office_key_label.is_none());
    }

    #[test]
    fn pkcs11_needs_module_token_and_pin() {
        let dir = tempfile::tempdir().unwrap();
        let pin_path = dir.path().join("pin");
        std::fs::write(&pin_path, "0123\n").unwrap();
        let pin_file = pin_path.to_str().unwrap();
        let full = [
            ("IDP_SIGNING__BACKEND", "pkcs11"),
            ("IDP_SIGNING__MODULE", "/usr/lib/softhsm/libsofthsm2.so"),
            ("IDP_SIGNING__TOKEN_LABEL", "dangnhap"),
            ("IDP_SIGNING__PIN_FILE", pin_file),
            ("IDP_SIGNING__OFFICE_KEY_LABEL", "office-seal"),
            ("IDP_SIGNING__TSA_URL", "http://127.0.0.1:3180/"),
        ];
        // IDP_SIGNING__PIN_FILE is the `_FILE` form of `pin`: read by the loader.
        let c = Config::load_from(None, &env(&full)).unwrap();
        assert_eq!(c.signing.backend, SigningBackend::Pkcs11);
        // A PIN with a leading zero stays a string.
        assert_eq!(c.signing.user_pin().unwrap().expose_secret(), "0123");
        assert!(
            !format!("{c:?}").contains("0123"),
            "the PIN is never printed"
        );

        let c = Config::load_from(
            None,
            &env(&[
                ("IDP_SIGNING__BACKEND", "pkcs11"),
                ("IDP_SIGNING__MODULE", "/m.so"),
                ("IDP_SIGNING__TOKEN_LABEL", "t"),
                ("IDP_SIGNING__PIN", "007"),
            ]),
        )
        .unwrap();
        assert_eq!(c.signing.user_pin().unwrap().expose_secret(), "007");

        assert!(bad(&[("IDP_SIGNING__BACKEND", "pkcs11")]).contains("signing.module"));
        assert!(
            bad(&[
                ("IDP_SIGNING__BACKEND", "pkcs11"),
                ("IDP_SIGNING__MODULE", "/m.so"),
            ])
            .contains("signing.token_label")
        );
        assert!(
            bad(&[
                ("IDP_SIGNING__BACKEND", "pkcs11"),
                ("IDP_SIGNING__MODULE", "/m.so"),
                ("IDP_SIGNING__TOKEN_LABEL", "t"),
            ])
            .contains("signing.pin")
        );
        assert!(bad(&[("IDP_SIGNING__BACKEND", "hsm")]).contains("signing.backend"));
        assert!(bad(&[("IDP_SIGNING__TSA_URL", "ftp://x/")]).contains("signing.tsa_url"));
        assert!(bad(&[("IDP_SIGNING__TSA_URL", "not a url")]).contains("signing.tsa_url"));
        let e = bad(&[("IDP_SIGNING__TRUST_ANCHORS", "[\"/nonexistent/ca.pem\"]")]);
        assert!(
            e.contains("signing.trust_anchors") && e.contains("/nonexistent/ca.pem"),
            "{e}"
        );
    }

    #[test]
    fn a_missing_pin_file_is_a_clear_error_at_start() {
        let toml_dir = tempfile::tempdir().unwrap();
        let toml = toml_dir.path().join("idp.toml");
        std::fs::write(
            &toml,
            "[signing]\nbackend = \"pkcs11\"\nmodule = \"/m.so\"\ntoken_label = \"t\"\npin_file = \"/nonexistent/hsm-pin\"\n",
        )
        .unwrap();
        let e = Config::load_from(Some(&toml), &[]).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/hsm-pin"), "{e}");
        assert!(e.contains("signing.pin_file"), "{e}");
    }

    #[test]
    fn tsa_and_anchors_come_from_the_environment() {
        // Anchors must be files: two that exist, separated by a comma.
        let a = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
        let b = concat!(env!("CARGO_MANIFEST_DIR"), "/src/lib.rs");
        let c = Config::load_from(
            None,
            &env(&[
                ("IDP_SIGNING__TSA_URL", "http://127.0.0.1:3180/tsa"),
                ("IDP_SIGNING__TRUST_ANCHORS", &format!("{a}, {b}")),
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
