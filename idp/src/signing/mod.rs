//! PDF signing for the document apps (issue 10): PAdES baseline B-B
//! signatures written as incremental updates, keys behind [`KeyBackend`]
//! (the embedded software key now; a PKCS#11 token next), and
//! verification. See the README's Architecture section.
//!
//! The flow: the PDF is parsed on the blocking pool under a size cap and a
//! time limit ([`pdf`]), an update with an empty signature is appended, the
//! bytes around /Contents are hashed, the CMS signed attributes are built
//! and signed by the backend ([`cms`]), the result checked against the
//! certificate, and /Contents filled. Nothing is written to disk until the
//! whole signed file is there ([`write_atomically`]).

pub mod backend;
pub mod cert;
pub mod cms;
mod oids;
pub mod pdf;
pub mod pkcs11;
pub mod policy;
pub mod soft;
#[cfg(test)]
mod tests;
pub mod verify;

use std::path::Path;
use std::time::Duration;

use aws_lc_rs::digest::{Context, SHA256};
use der::Encode;

pub use backend::{KeyAlg, KeyBackend, KeyInfo};

/// How long parsing one PDF may take before the request gives up on it.
pub const PARSE_TIME_LIMIT: Duration = Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("not a PDF file")]
    NotPdf,
    #[error("the PDF is truncated (no %%EOF at its end)")]
    Truncated,
    #[error("the PDF is encrypted; remove the encryption before signing")]
    Encrypted,
    #[error("the PDF is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the PDF cannot be read: {0}")]
    Malformed(String),
    #[error("reading the PDF took longer than {} s", PARSE_TIME_LIMIT.as_secs())]
    Timeout,
    #[error("no signing key {0}")]
    NoKey(String),
    #[error("the signing key has no certificate")]
    NoCertificate,
    #[error("not allowed: {0}")]
    NotAllowed(String),
    #[error("the signing key's certificate {0}; renew it before signing")]
    CertificateNotValid(String),
    #[error("signing key: {0}")]
    Key(String),
    #[error("the signature made by the key does not verify with its certificate")]
    BadSignature,
    #[error("the signature ({0} bytes) does not fit the room reserved for it")]
    SignatureTooLarge(usize),
    #[error("CMS signature: {0}")]
    Cms(String),
    #[error("DER: {0}")]
    Der(#[from] der::Error),
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
    #[error("database: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the PDF worker failed: {0}")]
    Worker(String),
}

/// What kind of signature: the person's own, or the office's seal (the
/// clerk's, at issuance). Only `personal` is signed this session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SignKind {
    Personal,
    Organization,
}

impl SignKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SignKind::Personal => "personal",
            SignKind::Organization => "organization",
        }
    }
}

/// One signing request.
#[derive(Clone, Debug)]
pub struct SignRequest<'a> {
    pub key: &'a str,
    pub kind: SignKind,
    pub reason: Option<&'a str>,
}

/// A signed document and what the audit log records about it.
#[derive(Debug)]
pub struct Signed {
    pub pdf: Vec<u8>,
    /// SHA-256 of the document as it came, hex.
    pub input_sha256: String,
    /// SHA-256 of the signed document, hex.
    pub output_sha256: String,
    /// The signer certificate's subject.
    pub signer: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What follows the document's own `len` bytes in `bytes` (the update).
fn appended(bytes: &[u8], len: usize) -> Result<&[u8], SigningError> {
    bytes
        .get(len..)
        .ok_or_else(|| SigningError::Malformed("the update does not follow the document".into()))
}

/// Runs `work` on the blocking pool, giving up after [`PARSE_TIME_LIMIT`].
/// A parse that overruns is left to finish on its thread (a thread cannot be
/// killed); its result is dropped. The size cap bounds what it can cost.
pub async fn on_blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, SigningError> + Send + 'static,
) -> Result<T, SigningError> {
    within(PARSE_TIME_LIMIT, work).await
}

async fn within<T: Send + 'static>(
    limit: Duration,
    work: impl FnOnce() -> Result<T, SigningError> + Send + 'static,
) -> Result<T, SigningError> {
    match tokio::time::timeout(limit, tokio::task::spawn_blocking(work)).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => Err(SigningError::Worker(e.to_string())),
        Err(_) => Err(SigningError::Timeout),
    }
}

/// Signs `input` with the backend's key: a new invisible signature field
/// on the first page, in an incremental update.
pub async fn sign_pdf(
    backend: &dyn KeyBackend,
    input: Vec<u8>,
    req: &SignRequest<'_>,
    now: i64,
) -> Result<Signed, SigningError> {
    if input.len() > pdf::MAX_PDF_BYTES {
        return Err(SigningError::TooLarge {
            limit: pdf::MAX_PDF_BYTES,
        });
    }
    let key = backend.key(req.key).await?;
    let signer_der = key.chain.first().ok_or(SigningError::NoCertificate)?;
    let signer = <x509_cert::Certificate as der::Decode>::from_der(signer_der)?;
    check_validity(&signer, now)?;
    let signer_name = cms::subject(&signer);
    let reason = req.reason.map(str::to_owned);
    let name = signer_name.clone();
    let (prepared, input_ctx, input_len) = on_blocking(move || {
        let doc = pdf::load(&input)?;
        let fields = pdf::SigFields {
            reason: reason.as_deref(),
            name: Some(&name),
            now,
        };
        let prepared = pdf::prepare(&input, &doc, &fields)?;
        // The update is appended, so the document as it came begins the
        // signed range and the signed file: its bytes are hashed once for
        // all three digests (a pass over 10 MB costs several milliseconds).
        let mut ctx = Context::new(&SHA256);
        ctx.update(&input);
        Ok((prepared, ctx, input.len()))
    })
    .await?;
    let input_sha256 = hex(input_ctx.clone().finish().as_ref());
    let (head, tail) = prepared.signed_ranges();
    let mut ctx = input_ctx.clone();
    ctx.update(appended(head, input_len)?);
    ctx.update(tail);
    let attrs = cms::signed_attributes(ctx.finish().as_ref(), signer_der)?;
    let attrs_der = attrs.to_der()?;
    let signature = backend.sign(req.key, &attrs_der).await?;
    // A token that signs with another key than its certificate's (or a
    // broken one) is caught here, not by the first reader of the document.
    let alg = match key.alg {
        KeyAlg::EcdsaP256Sha256 => oids::ECDSA_WITH_SHA256,
        KeyAlg::RsaPkcs1Sha256 => oids::SHA256_WITH_RSA,
    };
    if !cms::verify(&signer, alg, &attrs_der, &signature) {
        return Err(SigningError::BadSignature);
    }
    let cms_der = cms::assemble(attrs, signature, &key)?;
    let pdf = prepared.fill(&cms_der)?;
    let mut out_ctx = input_ctx;
    out_ctx.update(appended(&pdf, input_len)?);
    Ok(Signed {
        output_sha256: hex(out_ctx.finish().as_ref()),
        pdf,
        input_sha256,
        signer: signer_name,
    })
}

/// Refuses a certificate outside its validity period at `now`: a signature
/// made with it would not validate anywhere.
pub fn check_validity(cert: &x509_cert::Certificate, now: i64) -> Result<(), SigningError> {
    let validity = cert.tbs_certificate().validity();
    let at = |t: &x509_cert::time::Time| t.to_date_time();
    let secs = |t: &x509_cert::time::Time| {
        i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
    };
    let now_text = u64::try_from(now)
        .ok()
        .and_then(|n| der::DateTime::from_unix_duration(Duration::from_secs(n)).ok())
        .map_or_else(|| now.to_string(), |d| d.to_string());
    if now < secs(&validity.not_before) {
        return Err(SigningError::CertificateNotValid(format!(
            "is not valid before {} (now {now_text})",
            at(&validity.not_before)
        )));
    }
    if now > secs(&validity.not_after) {
        return Err(SigningError::CertificateNotValid(format!(
            "expired on {} (now {now_text})",
            at(&validity.not_after)
        )));
    }
    Ok(())
}

/// Writes `bytes` to `path` all or nothing: a temporary file in the same
/// directory, synced, then renamed over `path`. A failure leaves no file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SigningError> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.partial", crate::crypto::random_id()?));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    Ok(result?)
}
