//! The embedded software keys: ECDSA P-256 keys generated at first use,
//! sealed with the master key in `document_keys` (as the OIDC keys are in
//! `signing_keys`), each with a self-signed certificate that says it is
//! not legally valid. The office has one ([`LABEL`]); every person gets
//! their own at their first signature ([`person_label`]), its certificate
//! naming their official e-mail, so a signature made on the embedded
//! default says who signed, as one made on a token does. They let
//! `idp serve` with no configuration sign, and the tests run the whole
//! path; production signs with keys on a token.

use std::collections::HashMap;
use std::sync::Arc;

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use tokio::sync::Mutex;

use super::backend::{BoxFuture, KeyAlg, KeyBackend, KeyInfo};
use super::{SigningError, cert};
use crate::crypto::{self, MasterKey, Seal};
use crate::store::{DocumentKeyRow, Store};

/// The label of the office's software key (in `document_keys` and on the
/// command line).
pub const LABEL: &str = "soft";

/// What a person's software key label starts with; their e-mail follows.
const PERSON_PREFIX: &str = "soft:";

/// The label of the software key of the person whose official e-mail is `email`.
pub fn person_label(email: &str) -> String {
    format!("{PERSON_PREFIX}{}", email.trim().to_lowercase())
}

/// Whose key `label` names: the office's (None) or a person's (their
/// e-mail). An e-mail is taken only in the plain form official addresses
/// have (letters, digits, `.`, `_`, `-`, one `@`), so it can be written
/// into a certificate's name as it is.
fn owner(label: &str) -> Result<Option<&str>, SigningError> {
    if label == LABEL {
        return Ok(None);
    }
    let plain = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
    };
    match label.strip_prefix(PERSON_PREFIX) {
        Some(email)
            if email.len() <= 254
                && email
                    .split_once('@')
                    .is_some_and(|(l, d)| plain(l) && plain(d) && d.contains('.')) =>
        {
            Ok(Some(email))
        }
        _ => Err(SigningError::NoKey(label.into())),
    }
}

struct SoftKey {
    key: EcdsaKeyPair,
    cert_der: Vec<u8>,
}

impl std::fmt::Debug for SoftKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SoftKey(redacted)")
    }
}

/// Where keys are kept: sealed in the database, or only in memory (tests,
/// benchmarks).
enum Keep {
    Stored {
        store: Store,
        master: Arc<MasterKey>,
    },
    Memory,
}

pub struct SoftBackend {
    keep: Keep,
    office: Arc<SoftKey>,
    /// Keys already opened or made, by label (the office's among them).
    keys: Mutex<HashMap<String, Arc<SoftKey>>>,
    rng: SystemRandom,
}

impl std::fmt::Debug for SoftBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SoftBackend(redacted)")
    }
}

fn key_error(e: impl std::fmt::Display) -> SigningError {
    SigningError::Key(e.to_string())
}

/// The stored key named `label`, or a new one (stored first, so every
/// node and command signs with the one that won a race).
async fn load_or_make(
    store: &Store,
    master: &MasterKey,
    label: &str,
    email: Option<&str>,
    now: i64,
) -> Result<SoftKey, SigningError> {
    if let Some(row) = store.document_key(label).await? {
        return from_row(&row, master);
    }
    let (pkcs8, cert_der) = generate(email, now)?;
    let alg = KeyAlg::EcdsaP256Sha256.as_str();
    let row = DocumentKeyRow {
        label: label.into(),
        alg: alg.into(),
        sealed_der: master.seal(Seal::DocumentKey, &aad(label, alg, &cert_der), &pkcs8)?,
        cert_der,
        created_at: now,
    };
    if store.insert_document_key(&row).await? {
        tracing::info!(
            label,
            "generated a software document-signing key (a test key, not legally valid)"
        );
    }
    let row = store
        .document_key(label)
        .await?
        .ok_or_else(|| SigningError::NoKey(label.into()))?;
    from_row(&row, master)
}

fn from_row(row: &DocumentKeyRow, master: &MasterKey) -> Result<SoftKey, SigningError> {
    if KeyAlg::parse(&row.alg) != Some(KeyAlg::EcdsaP256Sha256) {
        return Err(SigningError::Key(format!(
            "software key of unsupported algorithm {}",
            row.alg
        )));
    }
    // The AAD binds the sealed key to its row's label, certificate and
    // algorithm: a row whose certificate was swapped does not open.
    let pkcs8 = master
        .open(
            Seal::DocumentKey,
            &aad(&row.label, &row.alg, &row.cert_der),
            &row.sealed_der,
        )
        .map_err(|_| {
            SigningError::Key(format!(
                "the stored document key '{}' does not open: another master key, or its \
                 certificate or algorithm was changed in the database",
                row.label
            ))
        })?;
    in_memory(&pkcs8, row.cert_der.clone())
}

fn in_memory(pkcs8: &[u8], cert_der: Vec<u8>) -> Result<SoftKey, SigningError> {
    let key =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8).map_err(key_error)?;
    Ok(SoftKey { key, cert_der })
}

impl SoftBackend {
    /// The stored keys; the office's is opened (or made) now, so a wrong
    /// master key shows at start, a person's at their first signature.
    pub async fn open(
        store: &Store,
        master: &Arc<MasterKey>,
        now: i64,
    ) -> Result<SoftBackend, SigningError> {
        let office = Arc::new(load_or_make(store, master, LABEL, None, now).await?);
        Ok(SoftBackend::with(
            Keep::Stored {
                store: store.clone(),
                master: Arc::clone(master),
            },
            office,
        ))
    }

    /// Keys that live only in memory (tests, benchmarks): never stored.
    pub fn ephemeral(now: i64) -> Result<SoftBackend, SigningError> {
        let (pkcs8, cert_der) = generate(None, now)?;
        Ok(SoftBackend::with(
            Keep::Memory,
            Arc::new(in_memory(&pkcs8, cert_der)?),
        ))
    }

    fn with(keep: Keep, office: Arc<SoftKey>) -> SoftBackend {
        let keys = HashMap::from([(LABEL.to_owned(), Arc::clone(&office))]);
        SoftBackend {
            keep,
            office,
            keys: Mutex::new(keys),
            rng: SystemRandom::new(),
        }
    }

    /// The office key's certificate, DER (the trust anchor a test gives a validator).
    pub fn certificate(&self) -> &[u8] {
        &self.office.cert_der
    }

    /// The key named `label`: opened once, made at its first use.
    async fn get(&self, label: &str) -> Result<Arc<SoftKey>, SigningError> {
        let email = owner(label)?;
        let mut keys = self.keys.lock().await;
        if let Some(key) = keys.get(label) {
            return Ok(Arc::clone(key));
        }
        let now = crate::now();
        let key = Arc::new(match &self.keep {
            Keep::Stored { store, master } => {
                load_or_make(store, master, label, email, now).await?
            }
            Keep::Memory => {
                let (pkcs8, cert_der) = generate(email, now)?;
                in_memory(&pkcs8, cert_der)?
            }
        });
        keys.insert(label.to_owned(), Arc::clone(&key));
        Ok(key)
    }
}

/// What a sealed document key is bound to: `label|alg|SHA-256(certificate)`
/// (the digest is the last 32 bytes, so the form reads back unambiguously).
fn aad(label: &str, alg: &str, cert_der: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(label.len() + alg.len() + 34);
    out.extend_from_slice(label.as_bytes());
    out.push(b'|');
    out.extend_from_slice(alg.as_bytes());
    out.push(b'|');
    out.extend_from_slice(digest(&SHA256, cert_der).as_ref());
    out
}

/// A new key (PKCS#8) and its self-signed certificate (DER): the office's,
/// or the person's whose e-mail is given.
pub fn generate(email: Option<&str>, now: i64) -> Result<(Vec<u8>, Vec<u8>), SigningError> {
    let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).map_err(key_error)?;
    let pkcs8 = key.to_pkcs8v1().map_err(key_error)?.as_ref().to_vec();
    let spki = cert::p256_spki(key.public_key().as_ref())?;
    let serial = crypto::random_bytes(16)?;
    let rng = SystemRandom::new();
    let subject = match email {
        Some(email) => cert::TEST_PERSON_SUBJECT.replace("{email}", email),
        None => cert::TEST_SUBJECT.to_owned(),
    };
    let cert_der = cert::self_signed(spki, &subject, email, &serial, now, |tbs| {
        Ok(key.sign(&rng, tbs).map_err(key_error)?.as_ref().to_vec())
    })?;
    Ok((pkcs8, cert_der))
}

impl KeyBackend for SoftBackend {
    fn key<'a>(&'a self, label: &'a str) -> BoxFuture<'a, Result<KeyInfo, SigningError>> {
        Box::pin(async move {
            let key = self.get(label).await?;
            Ok(KeyInfo {
                label: label.into(),
                alg: KeyAlg::EcdsaP256Sha256,
                chain: vec![key.cert_der.clone()],
            })
        })
    }

    fn sign<'a>(
        &'a self,
        label: &'a str,
        message: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, SigningError>> {
        Box::pin(async move {
            let key = self.get(label).await?;
            Ok(key
                .key
                .sign(&self.rng, message)
                .map_err(key_error)?
                .as_ref()
                .to_vec())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::{SignKind, SignRequest, sign_pdf};
    use der::Encode;

    const NOW: i64 = 1_790_000_000;

    #[tokio::test]
    async fn the_stored_key_is_bound_to_its_certificate_and_algorithm() {
        let (store, _dir) = crate::testing::test_store().await;
        let master = Arc::new(MasterKey::from_bytes(&[3; 32]).unwrap());
        let first = SoftBackend::open(&store, &master, NOW).await.unwrap();
        let again = SoftBackend::open(&store, &master, NOW + 5).await.unwrap();
        assert_eq!(first.certificate(), again.certificate(), "one key, stored");

        let row = store.document_key(LABEL).await.unwrap().unwrap();
        assert!(from_row(&row, &master).is_ok());
        // Another certificate put in the row: the sealed key no longer opens.
        let (_, other_cert) = generate(None, NOW).unwrap();
        let swapped = DocumentKeyRow {
            cert_der: other_cert,
            ..row.clone()
        };
        let e = from_row(&swapped, &master).unwrap_err().to_string();
        assert!(e.contains("does not open"), "{e}");
        // Nor does a key sealed under the old form (the label alone as AAD).
        let pkcs8 = master
            .open(
                Seal::DocumentKey,
                &aad(&row.label, &row.alg, &row.cert_der),
                &row.sealed_der,
            )
            .unwrap();
        let old_form = DocumentKeyRow {
            sealed_der: master
                .seal(Seal::DocumentKey, row.label.as_bytes(), &pkcs8)
                .unwrap(),
            ..row.clone()
        };
        assert!(from_row(&old_form, &master).is_err());
        // Another master key opens nothing.
        let other = MasterKey::from_bytes(&[4; 32]).unwrap();
        assert!(from_row(&row, &other).is_err());
    }

    #[tokio::test]
    async fn each_person_gets_their_own_stored_key_naming_them() {
        let (store, _dir) = crate::testing::test_store().await;
        let master = Arc::new(MasterKey::from_bytes(&[3; 32]).unwrap());
        let backend = SoftBackend::open(&store, &master, NOW).await.unwrap();
        let tam = person_label("TamTT@binhphuoc.gov.vn");
        let lan = person_label("lanpt@binhphuoc.gov.vn");
        let cert_of = |info: KeyInfo| {
            <x509_cert::Certificate as der::Decode>::from_der(&info.chain[0]).unwrap()
        };
        let tam_cert = cert_of(backend.key(&tam).await.unwrap());
        let lan_cert = cert_of(backend.key(&lan).await.unwrap());
        assert!(crate::signing::deferred::belongs_to(
            &tam_cert,
            "tamtt@binhphuoc.gov.vn"
        ));
        assert!(!crate::signing::deferred::belongs_to(
            &tam_cert,
            "lanpt@binhphuoc.gov.vn"
        ));
        assert_ne!(
            tam_cert.tbs_certificate().subject_public_key_info(),
            lan_cert.tbs_certificate().subject_public_key_info()
        );
        let subject = tam_cert.tbs_certificate().subject().to_string();
        assert!(subject.contains("NOT LEGALLY VALID"), "{subject}");
        // Stored: another node (a new backend on the same database) signs
        // with the same key, and the office's is not a person's.
        let again = SoftBackend::open(&store, &master, NOW + 5).await.unwrap();
        assert_eq!(
            again.key(&tam).await.unwrap().chain,
            vec![tam_cert.to_der().unwrap()]
        );
        let office = again.key(LABEL).await.unwrap().chain;
        assert!(
            !crate::signing::deferred::belongs_to(
                &<x509_cert::Certificate as der::Decode>::from_der(&office[0]).unwrap(),
                "tamtt@binhphuoc.gov.vn"
            ),
            "the office's certificate names nobody"
        );
        // Labels that are not the office's or a plain official address.
        for bad in [
            "soft:",
            "soft:a@b",
            "soft:a,O=x@b.vn",
            "soft:A@B.vn",
            "soft:a+b@b.vn",
            "softa@b.vn",
            "other",
        ] {
            assert!(
                matches!(backend.key(bad).await, Err(SigningError::NoKey(_))),
                "{bad}"
            );
        }
    }

    #[tokio::test]
    async fn an_expired_or_not_yet_valid_certificate_does_not_sign() {
        let pdf = std::fs::read(format!(
            "{}/../tests/fixtures/documents/ke-hoach-1-trang.pdf",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let backend = SoftBackend::ephemeral(NOW).unwrap();
        let req = SignRequest {
            key: LABEL,
            kind: SignKind::Personal,
            reason: None,
            tsa: None,
            placement: None,
            appearance: None,
        };
        let late = NOW + i64::try_from(cert::TEST_VALIDITY.as_secs()).unwrap() + 60;
        let e = sign_pdf(&backend, pdf.clone(), &req, late)
            .await
            .unwrap_err();
        assert!(matches!(e, SigningError::CertificateNotValid(_)), "{e}");
        assert!(e.to_string().contains("expired"), "{e}");
        let e = sign_pdf(&backend, pdf.clone(), &req, NOW - 3600)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("not valid before"), "{e}");
        assert!(sign_pdf(&backend, pdf, &req, NOW + 60).await.is_ok());
    }
}
