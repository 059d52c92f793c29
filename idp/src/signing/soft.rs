//! The embedded software key: an ECDSA P-256 key generated at first use,
//! sealed with the master key in `document_keys` (as the OIDC keys are in
//! `signing_keys`), with a self-signed certificate that says it is not
//! legally valid. It lets `idp serve` with no configuration sign, and the
//! tests run the whole path; production signs with keys on a token.

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};

use super::backend::{BoxFuture, KeyAlg, KeyBackend, KeyInfo};
use super::{SigningError, cert};
use crate::crypto::{self, MasterKey, Seal};
use crate::store::{DocumentKeyRow, Store};

/// The label of the software key (in `document_keys` and on the command line).
pub const LABEL: &str = "soft";

pub struct SoftBackend {
    key: EcdsaKeyPair,
    cert_der: Vec<u8>,
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

impl SoftBackend {
    /// The stored software key, or a new one (stored first, so every node
    /// and command signs with the one that won a race).
    pub async fn open(
        store: &Store,
        master: &MasterKey,
        now: i64,
    ) -> Result<SoftBackend, SigningError> {
        if let Some(row) = store.document_key(LABEL).await? {
            return SoftBackend::from_row(&row, master);
        }
        let (pkcs8, cert_der) = generate(now)?;
        let row = DocumentKeyRow {
            label: LABEL.into(),
            alg: KeyAlg::EcdsaP256Sha256.as_str().into(),
            sealed_der: master.seal(
                Seal::DocumentKey,
                &aad(LABEL, KeyAlg::EcdsaP256Sha256.as_str(), &cert_der),
                &pkcs8,
            )?,
            cert_der,
            created_at: now,
        };
        if store.insert_document_key(&row).await? {
            tracing::info!(
                "generated the software document-signing key (a test key, not legally valid)"
            );
        }
        let row = store
            .document_key(LABEL)
            .await?
            .ok_or_else(|| SigningError::NoKey(LABEL.into()))?;
        SoftBackend::from_row(&row, master)
    }

    fn from_row(row: &DocumentKeyRow, master: &MasterKey) -> Result<SoftBackend, SigningError> {
        if KeyAlg::parse(&row.alg) != Some(KeyAlg::EcdsaP256Sha256) {
            return Err(SigningError::Key(format!(
                "software key of unsupported algorithm {}",
                row.alg
            )));
        }
        // The AAD binds the sealed key to its row's certificate and
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
        let key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &pkcs8).map_err(key_error)?;
        Ok(SoftBackend {
            key,
            cert_der: row.cert_der.clone(),
            rng: SystemRandom::new(),
        })
    }

    /// A key that lives only in memory (tests, benchmarks): never stored.
    pub fn ephemeral(now: i64) -> Result<SoftBackend, SigningError> {
        let (pkcs8, cert_der) = generate(now)?;
        let key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &pkcs8).map_err(key_error)?;
        Ok(SoftBackend {
            key,
            cert_der,
            rng: SystemRandom::new(),
        })
    }

    /// The certificate, DER (the trust anchor a test gives a validator).
    pub fn certificate(&self) -> &[u8] {
        &self.cert_der
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

/// A new key (PKCS#8) and its self-signed certificate (DER).
pub fn generate(now: i64) -> Result<(Vec<u8>, Vec<u8>), SigningError> {
    let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).map_err(key_error)?;
    let pkcs8 = key.to_pkcs8v1().map_err(key_error)?.as_ref().to_vec();
    let spki = cert::p256_spki(key.public_key().as_ref())?;
    let serial = crypto::random_bytes(16)?;
    let rng = SystemRandom::new();
    let cert_der = cert::self_signed(spki, &serial, now, |tbs| {
        Ok(key.sign(&rng, tbs).map_err(key_error)?.as_ref().to_vec())
    })?;
    Ok((pkcs8, cert_der))
}

impl KeyBackend for SoftBackend {
    fn key<'a>(&'a self, label: &'a str) -> BoxFuture<'a, Result<KeyInfo, SigningError>> {
        Box::pin(async move {
            if label != LABEL {
                return Err(SigningError::NoKey(label.into()));
            }
            Ok(KeyInfo {
                label: LABEL.into(),
                alg: KeyAlg::EcdsaP256Sha256,
                chain: vec![self.cert_der.clone()],
            })
        })
    }

    fn sign<'a>(
        &'a self,
        label: &'a str,
        message: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, SigningError>> {
        Box::pin(async move {
            if label != LABEL {
                return Err(SigningError::NoKey(label.into()));
            }
            Ok(self
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

    const NOW: i64 = 1_790_000_000;

    #[tokio::test]
    async fn the_stored_key_is_bound_to_its_certificate_and_algorithm() {
        let (store, _dir) = crate::testing::test_store().await;
        let master = MasterKey::from_bytes(&[3; 32]).unwrap();
        let first = SoftBackend::open(&store, &master, NOW).await.unwrap();
        let again = SoftBackend::open(&store, &master, NOW + 5).await.unwrap();
        assert_eq!(first.certificate(), again.certificate(), "one key, stored");

        let row = store.document_key(LABEL).await.unwrap().unwrap();
        assert!(SoftBackend::from_row(&row, &master).is_ok());
        // Another certificate put in the row: the sealed key no longer opens.
        let (_, other_cert) = generate(NOW).unwrap();
        let swapped = DocumentKeyRow {
            cert_der: other_cert,
            ..row.clone()
        };
        let e = SoftBackend::from_row(&swapped, &master)
            .unwrap_err()
            .to_string();
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
        assert!(SoftBackend::from_row(&old_form, &master).is_err());
        // Another master key opens nothing.
        let other = MasterKey::from_bytes(&[4; 32]).unwrap();
        assert!(SoftBackend::from_row(&row, &other).is_err());
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
