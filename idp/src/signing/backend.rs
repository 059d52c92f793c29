//! Where a signing key lives. One trait for every backend: the embedded
//! software key ([`super::soft`]) now, a PKCS#11 token later. The PAdES
//! writer only ever asks a backend to sign the DER of the CMS signed
//! attributes, so a key never leaves its backend.

use std::future::Future;
use std::pin::Pin;

use super::SigningError;

/// A future a backend returns: boxed so the trait stays object-safe (the
/// signing service holds `Arc<dyn KeyBackend>`, whichever was configured).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The signature algorithms a document key may have (RSA ≥ 2048 or ECDSA
/// P-256, both over SHA-256).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum KeyAlg {
    /// ECDSA P-256 with SHA-256; the signature is DER (`Ecdsa-Sig-Value`), as CMS wants.
    EcdsaP256Sha256,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RsaPkcs1Sha256,
}

impl KeyAlg {
    /// The name stored in `document_keys.alg`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlg::EcdsaP256Sha256 => "ES256",
            KeyAlg::RsaPkcs1Sha256 => "RS256",
        }
    }

    pub fn parse(s: &str) -> Option<KeyAlg> {
        match s {
            "ES256" => Some(KeyAlg::EcdsaP256Sha256),
            "RS256" => Some(KeyAlg::RsaPkcs1Sha256),
            _ => None,
        }
    }
}

/// A key a backend can sign with: its label, algorithm and certificate chain
/// (the signer's certificate first, DER).
#[derive(Clone, Debug)]
pub struct KeyInfo {
    pub label: String,
    pub alg: KeyAlg,
    pub chain: Vec<Vec<u8>>,
}

pub trait KeyBackend: Send + Sync {
    /// The key named `label`, or [`SigningError::NoKey`].
    fn key<'a>(&'a self, label: &'a str) -> BoxFuture<'a, Result<KeyInfo, SigningError>>;

    /// Signs `message` (hashed with SHA-256 by the backend) with the key
    /// named `label`: for PAdES, the DER of the signed attributes.
    fn sign<'a>(
        &'a self,
        label: &'a str,
        message: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, SigningError>>;
}
