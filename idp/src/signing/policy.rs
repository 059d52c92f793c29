//! Who may sign with which key (issue 10, "Who may sign with what"): a
//! person signs `personal` only with their own key, found on the token by
//! `signing.person_key_label` with `{email}` replaced by their address; the
//! office's key (`signing.office_key_label`) signs `organization` only for
//! people with the clerk role (văn thư). On the software backend the same
//! rules hold with test keys: each person's own (`soft:{email}`, made at
//! their first signature) and the office's (`soft`). The REST API and the web pages ask here;
//! the operator CLI names its key itself.

use std::sync::Arc;

use super::backend::KeyBackend;
use super::pkcs11::Pkcs11Backend;
use super::{SignKind, SigningError, soft};
use crate::config::{SigningBackend, SigningConfig};
use crate::crypto::MasterKey;
use crate::store::Store;

/// The placeholder in `person_key_label`.
pub const EMAIL_PLACEHOLDER: &str = "{email}";

/// The label of the key `email` may sign a `kind` signature with, or
/// [`SigningError::NotAllowed`]. `is_clerk`: the person holds the clerk
/// role (`admin::roles::has(store, user, Role::Clerk)`).
pub fn key_for(
    cfg: &SigningConfig,
    kind: SignKind,
    email: &str,
    is_clerk: bool,
) -> Result<String, SigningError> {
    match kind {
        SignKind::Personal => {
            let email = email.trim();
            if email.is_empty() || !email.contains('@') {
                return Err(SigningError::NotAllowed(
                    "a personal signature needs the signer's e-mail address".into(),
                ));
            }
            if cfg.backend == SigningBackend::Soft {
                return Ok(soft::person_label(email));
            }
            let label = cfg.person_key_label.replace(EMAIL_PLACEHOLDER, email);
            // However the labels are configured, a person's key is never the office's.
            if cfg.office_key_label.as_deref() == Some(label.as_str())
                || label == cfg.person_key_label
            {
                return Err(SigningError::NotAllowed(format!(
                    "the key label '{label}' is not a personal key"
                )));
            }
            Ok(label)
        }
        SignKind::Organization => {
            if !is_clerk {
                return Err(SigningError::NotAllowed(
                    "only a clerk (văn thư) signs with the office's key".into(),
                ));
            }
            match (cfg.backend, &cfg.office_key_label) {
                (SigningBackend::Soft, _) => Ok(soft::LABEL.into()),
                (SigningBackend::Pkcs11, Some(label)) => Ok(label.clone()),
                (SigningBackend::Pkcs11, None) => Err(SigningError::NotAllowed(
                    "no office key is configured (signing.office_key_label)".into(),
                )),
            }
        }
    }
}

/// Checks that `email` may make a `kind` signature with the key `label`
/// (a request that names its key): the same rule as [`key_for`], so a
/// person naming someone else's key, or the office key without the clerk
/// role, gets [`SigningError::NotAllowed`].
pub fn check_key(
    cfg: &SigningConfig,
    kind: SignKind,
    email: &str,
    is_clerk: bool,
    label: &str,
) -> Result<(), SigningError> {
    let allowed = key_for(cfg, kind, email, is_clerk)?;
    if allowed != label {
        return Err(SigningError::NotAllowed(format!(
            "the key '{label}' is not one {email} may sign a {} signature with",
            kind.as_str()
        )));
    }
    Ok(())
}

/// The key backend the configuration names: the software key (generated
/// and stored at first use) or the PKCS#11 token, logged in.
pub async fn open_backend(
    cfg: &SigningConfig,
    store: &Store,
    master: &Arc<MasterKey>,
    now: i64,
) -> Result<Arc<dyn KeyBackend>, SigningError> {
    match cfg.backend {
        SigningBackend::Soft => Ok(Arc::new(soft::SoftBackend::open(store, master, now).await?)),
        SigningBackend::Pkcs11 => open_pkcs11(cfg).await,
    }
}

/// The PKCS#11 token of `cfg` (module, token label, PIN), logged in. It
/// needs no database, so the command line opens it while the database
/// opens.
pub async fn open_pkcs11(cfg: &SigningConfig) -> Result<Arc<dyn KeyBackend>, SigningError> {
    let module = cfg
        .module
        .clone()
        .ok_or_else(|| SigningError::Key("signing.module is not set".into()))?;
    let token = cfg
        .token_label
        .clone()
        .ok_or_else(|| SigningError::Key("signing.token_label is not set".into()))?;
    let pin = cfg
        .user_pin()
        .map_err(|e| SigningError::Key(e.to_string()))?;
    let backend = super::on_blocking(move || Pkcs11Backend::open(&module, &token, pin)).await?;
    Ok(Arc::new(backend))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkcs11() -> SigningConfig {
        SigningConfig {
            backend: SigningBackend::Pkcs11,
            office_key_label: Some("office-seal".into()),
            ..SigningConfig::default()
        }
    }

    #[test]
    fn a_person_signs_personal_only_with_their_own_key() {
        let cfg = pkcs11();
        assert_eq!(
            key_for(&cfg, SignKind::Personal, "tamtt@binhphuoc.gov.vn", false).unwrap(),
            "tamtt@binhphuoc.gov.vn"
        );
        let cfg = SigningConfig {
            person_key_label: "ca-nhan:{email}".into(),
            ..pkcs11()
        };
        assert_eq!(
            key_for(&cfg, SignKind::Personal, "an@x.vn", true).unwrap(),
            "ca-nhan:an@x.vn"
        );
        // Being a clerk gives no other personal key, and no address no key.
        assert!(matches!(
            key_for(&cfg, SignKind::Personal, "", true),
            Err(SigningError::NotAllowed(_))
        ));
        // A label template that would make the office key personal is refused.
        let cfg = SigningConfig {
            person_key_label: "office-{email}".into(),
            office_key_label: Some("office-a@b".into()),
            ..pkcs11()
        };
        assert!(matches!(
            key_for(&cfg, SignKind::Personal, "a@b", false),
            Err(SigningError::NotAllowed(_))
        ));
    }

    #[test]
    fn naming_someone_elses_key_is_refused() {
        let cfg = pkcs11();
        let me = "tamtt@binhphuoc.gov.vn";
        assert!(check_key(&cfg, SignKind::Personal, me, false, me).is_ok());
        for (kind, clerk, label) in [
            (SignKind::Personal, false, "annv@binhphuoc.gov.vn"),
            (SignKind::Personal, true, "annv@binhphuoc.gov.vn"),
            (SignKind::Personal, true, "office-seal"),
            (SignKind::Organization, false, "office-seal"),
            (SignKind::Organization, true, me),
        ] {
            assert!(
                matches!(
                    check_key(&cfg, kind, me, clerk, label),
                    Err(SigningError::NotAllowed(_))
                ),
                "{kind:?} clerk={clerk} {label}"
            );
        }
        assert!(check_key(&cfg, SignKind::Organization, me, true, "office-seal").is_ok());
    }

    #[test]
    fn only_a_clerk_signs_with_the_office_key() {
        let cfg = pkcs11();
        assert!(matches!(
            key_for(
                &cfg,
                SignKind::Organization,
                "tamtt@binhphuoc.gov.vn",
                false
            ),
            Err(SigningError::NotAllowed(_))
        ));
        assert_eq!(
            key_for(&cfg, SignKind::Organization, "tamtt@binhphuoc.gov.vn", true).unwrap(),
            "office-seal"
        );
        let none = SigningConfig {
            office_key_label: None,
            ..pkcs11()
        };
        assert!(matches!(
            key_for(&none, SignKind::Organization, "a@b", true),
            Err(SigningError::NotAllowed(_))
        ));
    }

    #[test]
    fn the_soft_backend_gives_each_person_their_own_key_under_the_same_rules() {
        let cfg = SigningConfig::default();
        assert_eq!(
            key_for(&cfg, SignKind::Personal, "TamTT@binhphuoc.gov.vn", false).unwrap(),
            "soft:tamtt@binhphuoc.gov.vn"
        );
        assert_ne!(
            key_for(&cfg, SignKind::Personal, "a@b.vn", true).unwrap(),
            key_for(&cfg, SignKind::Organization, "a@b.vn", true).unwrap(),
            "a clerk's own signature is not the office's"
        );
        assert!(matches!(
            key_for(&cfg, SignKind::Organization, "a@b", false),
            Err(SigningError::NotAllowed(_))
        ));
        assert_eq!(
            key_for(&cfg, SignKind::Organization, "a@b", true).unwrap(),
            soft::LABEL
        );
    }
}
