//! The embedded software key: an ECDSA P-256 key generated at first use,
//! sealed with the master key in `document_keys` (as the OIDC keys are in
//! `signing_keys`), with a self-signed certificate that says it is not
//! legally valid. It lets `idp serve` with no configuration sign, and the
//! tests run the whole path; production signs with keys on a token.

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
            sealed_der: master.seal(Seal::DocumentKey, LABEL.as_bytes(), &pkcs8)?,
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
        let pkcs8 = master.open(Seal::DocumentKey, row.label.as_bytes(), &row.sealed_der)?;
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
