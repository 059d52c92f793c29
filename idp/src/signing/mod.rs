//! PDF signing for the document apps (issue 10): PAdES baseline B-B
//! signatures written as incremental updates, keys behind [`KeyBackend`]
//! (the embedded software key now; a PKCS#11 token next), and
//! verification. See the README's Architecture section.
//!
//! The flow: the document is hashed as it arrives ([`Upload`]), its
//! dictionaries are read on the blocking pool under a size cap and a time
//! limit ([`pdf`], [`reader`]), an update with an empty signature is
//! appended to the document's own buffer, the hash goes on over the update
//! around /Contents, the CMS signed attributes are built
//! and signed by the backend ([`cms`]), the result checked against the
//! certificate, and /Contents filled. Nothing is written to disk until the
//! whole signed file is there ([`write_atomically`]).

pub mod appearance;
pub mod backend;
pub mod cert;
mod changes;
pub mod cms;
pub mod deferred;
pub mod font;
#[cfg(test)]
mod hardening_tests;
mod oids;
pub mod pdf;
pub mod pkcs11;
pub mod placement;
pub mod policy;
mod reader;
#[cfg(test)]
mod reader_hostile_tests;
#[cfg(test)]
mod reader_tests;
pub mod service;
pub mod soft;
mod syntax;
#[cfg(test)]
mod tests;
pub mod trust;
pub mod tsp;
mod upload;
pub mod verify;
#[cfg(test)]
mod visible_tests;

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aws_lc_rs::digest::{Context, SHA256, digest};
use der::Encode;
use tokio::sync::Semaphore;

pub use appearance::Appearance;
pub use backend::{KeyAlg, KeyBackend, KeyInfo};
pub use placement::{Placement, Position, Rect};
pub use service::{Params, Service};
pub use upload::Upload;

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
    #[error("time-stamp: {0}")]
    TimeStamp(String),
    #[error(
        "the PDF is certified with no changes allowed (DocMDP /P 1): a new signature would break its certification"
    )]
    Certified,
    #[error("a signature already on the document does not hold ({0}): the office does not seal it")]
    SignatureBroken(String),
    #[error("the office seals only a document an official signed: {0}")]
    NotApproved(String),
    #[error(
        "checking every signature would read {parse} bytes of the file's revisions, more than the {limit} one verification may read: the file has too many revisions for its size"
    )]
    TooManyRevisions { parse: usize, limit: usize },
    #[error("DER: {0}")]
    Der(#[from] der::Error),
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
    #[error("database: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Placement(#[from] placement::PlacementError),
    #[error(transparent)]
    Appearance(#[from] appearance::AppearanceError),
    #[error("the PDF worker failed: {0}")]
    Worker(String),
    #[error("certificate: {0}")]
    BadCertificate(String),
    #[error("the certificate does not name the signer's official e-mail")]
    NotYourCertificate,
    #[error("the signing state: {0}")]
    BadState(&'static str),
    #[error("the signing service is busy")]
    Busy,
    #[error("deferred signing is for personal signatures (the office's key is on the server)")]
    DeferredPersonalOnly,
    #[error("cache: {0}")]
    Cache(String),
}

/// What kind of signature: the person's own, or the office's seal (the
/// clerk's, at issuance).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    /// The time-stamping authority for PAdES B-T; None signs B-B.
    pub tsa: Option<&'a tsp::TsaClient>,
    /// Where the signature is seen: none keeps it invisible, unless an
    /// appearance is given (then the account page's own default place,
    /// the last page's bottom right).
    pub placement: Option<Position>,
    /// What it shows; a placement without one shows the signer's name.
    pub appearance: Option<Appearance>,
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
    /// Where the signature is seen (page from 1, rectangle in user space);
    /// none when invisible.
    pub placement: Option<Placement>,
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

/// How long a document waits for a free parsing slot before the caller is
/// told the service is busy.
pub const SLOT_WAIT: Duration = Duration::from_secs(20);

/// One slot per core: a PDF being read holds memory up to the caps of
/// [`pdf`], so at most this many are read at once in the process. A slot
/// stays taken until its thread ends, even one whose caller stopped waiting.
fn parse_slots() -> &'static Arc<Semaphore> {
    static SLOTS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Arc::new(Semaphore::new(cores))
    })
}

tokio::task_local! {
    /// What each parse started by the current task holds until its thread
    /// ends ([`holding`]).
    static HOLD: Arc<dyn std::any::Any + Send + Sync>;
}

/// Runs `fut` so that every parse it starts ([`on_blocking`]) holds `hold`
/// until its thread ends, even after `fut` stopped waiting for it: a
/// person's request place ([`service::PersonSlot`]) then counts the parses
/// their requests gave up on, which still take a parsing slot.
pub async fn holding<F: Future>(hold: Arc<dyn std::any::Any + Send + Sync>, fut: F) -> F::Output {
    HOLD.scope(hold, fut).await
}

/// Runs `work` on the blocking pool in a parsing slot, giving up after
/// [`PARSE_TIME_LIMIT`]. A parse that overruns is left to finish on its
/// thread (a thread cannot be killed), holding its slot; its result is
/// dropped. The size cap bounds what it can cost.
pub async fn on_blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, SigningError> + Send + 'static,
) -> Result<T, SigningError> {
    within(PARSE_TIME_LIMIT, work).await
}

async fn within<T: Send + 'static>(
    limit: Duration,
    work: impl FnOnce() -> Result<T, SigningError> + Send + 'static,
) -> Result<T, SigningError> {
    let slot =
        match tokio::time::timeout(SLOT_WAIT, Arc::clone(parse_slots()).acquire_owned()).await {
            Ok(Ok(slot)) => slot,
            _ => return Err(SigningError::Busy),
        };
    let hold = HOLD.try_with(Arc::clone).ok();
    let task = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        let _hold = hold;
        work()
    });
    match tokio::time::timeout(limit, task).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => Err(SigningError::Worker(e.to_string())),
        Err(_) => Err(SigningError::Timeout),
    }
}

/// Signs `input` with the backend's key: a new signature field in an
/// incremental update, invisible on the first page or, with a placement or
/// an appearance, drawn where asked.
pub async fn sign_pdf(
    backend: &dyn KeyBackend,
    input: impl Into<Upload>,
    req: &SignRequest<'_>,
    now: i64,
) -> Result<Signed, SigningError> {
    let key = backend.key(req.key).await?;
    let pending = begin(input, key, req, now).await?;
    let signature = backend.sign(req.key, &pending.attrs_der).await?;
    finish(pending, signature, req.tsa).await
}

/// A document with its signature field written and /Contents still empty,
/// and what the key must sign: [`begin`] makes it, [`finish`] fills it. In
/// between, the key signs, here or elsewhere ([`deferred`]).
pub struct Pending {
    pub prepared: pdf::Prepared,
    /// The DER of the CMS signed attributes: what the key signs.
    pub attrs_der: Vec<u8>,
    attrs: ::cms::signed_data::SignedAttributes,
    key: KeyInfo,
    signer: x509_cert::Certificate,
    /// SHA-256 of the document as it came, hex.
    pub input_sha256: String,
    /// Its SHA-256 context and length, when at hand ([`resume_after`]).
    input: Option<(Context, usize)>,
}

/// Reads `input` (on the blocking pool, under the size cap and time limit),
/// appends the signature field for `key` and builds the signed attributes.
pub async fn begin(
    input: impl Into<Upload>,
    key: KeyInfo,
    req: &SignRequest<'_>,
    now: i64,
) -> Result<Pending, SigningError> {
    let (input, input_ctx) = input.into().into_parts();
    if input.len() > pdf::MAX_PDF_BYTES {
        return Err(SigningError::TooLarge {
            limit: pdf::MAX_PDF_BYTES,
        });
    }
    let signer_der = key.chain.first().ok_or(SigningError::NoCertificate)?;
    let signer = <x509_cert::Certificate as der::Decode>::from_der(signer_der)?;
    check_validity(&signer, now)?;
    let reason = req.reason.map(str::to_owned);
    let name = cms::subject(&signer);
    let (position, shown) = appearance::visible(req.placement, req.appearance.as_ref(), &name);
    let input_len = input.len();
    let prepared = on_blocking(move || {
        let doc = pdf::load_for_signing(&input)?;
        // A certification that allows no change would be broken by ours.
        if pdf::docmdp_permission(&doc) == Some(1) {
            return Err(SigningError::Certified);
        }
        let fields = pdf::SigFields {
            reason: reason.as_deref(),
            name: Some(&name),
            now,
            position,
            appearance: shown.as_ref(),
        };
        // The update is appended to the document's own vector (no copy of
        // it), so the document as it came begins the signed range and the
        // signed file: its hash, taken as it arrived ([`Upload`]), serves
        // all three digests.
        pdf::prepare_in(input, &doc, &fields)
    })
    .await?;
    let input_sha256 = hex(input_ctx.clone().finish().as_ref());
    let mut pending = resume_after(prepared, key, Some((input_ctx, input_len)))?;
    pending.input_sha256 = input_sha256;
    Ok(pending)
}

/// A [`Pending`] again from a prepared document and its key: the signed
/// attributes depend only on the signed bytes and the certificate (there is
/// no signing time), so they come out as they were.
pub fn resume(prepared: pdf::Prepared, key: KeyInfo) -> Result<Pending, SigningError> {
    resume_after(prepared, key, None)
}

/// [`resume`], given the hash of the document as it came when it is at
/// hand (`input`: its SHA-256 context and length): the update is appended,
/// so the document begins both the signed range and the signed file, and its
/// bytes are hashed once for all three digests.
fn resume_after(
    prepared: pdf::Prepared,
    key: KeyInfo,
    input: Option<(Context, usize)>,
) -> Result<Pending, SigningError> {
    let signer_der = key.chain.first().ok_or(SigningError::NoCertificate)?;
    let signer = <x509_cert::Certificate as der::Decode>::from_der(signer_der)?;
    let (head, tail) = prepared.signed_ranges();
    let mut ctx = match &input {
        Some((ctx, len)) => {
            let mut ctx = ctx.clone();
            ctx.update(appended(head, *len)?);
            ctx
        }
        None => {
            let mut ctx = Context::new(&SHA256);
            ctx.update(head);
            ctx
        }
    };
    ctx.update(tail);
    let attrs = cms::signed_attributes(ctx.finish().as_ref(), signer_der)?;
    Ok(Pending {
        attrs_der: attrs.to_der()?,
        attrs,
        prepared,
        key,
        signer,
        input_sha256: String::new(),
        input,
    })
}

/// Checks `signature` against the signer's certificate, has it time-stamped
/// when `tsa` is given, and puts the CMS signature into the document.
pub async fn finish(
    pending: Pending,
    signature: Vec<u8>,
    tsa: Option<&tsp::TsaClient>,
) -> Result<Signed, SigningError> {
    // A token that signs with another key than its certificate's (or a
    // broken one, or a client sending something else) is caught here, not
    // by the first reader of the document.
    let alg = match pending.key.alg {
        KeyAlg::EcdsaP256Sha256 => oids::ECDSA_WITH_SHA256,
        KeyAlg::RsaPkcs1Sha256 => oids::SHA256_WITH_RSA,
    };
    if !cms::verify(&pending.signer, alg, &pending.attrs_der, &signature) {
        return Err(SigningError::BadSignature);
    }
    // B-T: the time-stamp covers the signature value, so it comes after it.
    // A TSA that fails fails the signing: no output without the time-stamp
    // that was asked for.
    let token = match tsa {
        Some(tsa) => Some(tsa.stamp(&signature).await?.0),
        None => None,
    };
    let cms_der = cms::assemble_with(pending.attrs, signature, &pending.key, token.as_deref())?;
    let placement = pending.prepared.placement;
    let pdf = pending.prepared.fill(&cms_der)?;
    let output_sha256 = match pending.input {
        Some((mut ctx, len)) => {
            ctx.update(appended(&pdf, len)?);
            hex(ctx.finish().as_ref())
        }
        None => hex(digest(&SHA256, &pdf).as_ref()),
    };
    Ok(Signed {
        placement,
        output_sha256,
        pdf,
        input_sha256: pending.input_sha256,
        signer: cms::subject(&pending.signer),
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

/// A signed file written whole under a temporary name next to its final
/// one, private (0600 from its creation: a signed document is not for
/// every account on the machine) and synced, not yet in place:
/// [`Staged::publish`] gives it its name; dropped unpublished, it is removed.
#[derive(Debug)]
pub struct Staged {
    tmp: std::path::PathBuf,
    path: std::path::PathBuf,
    published: bool,
}

impl Staged {
    /// Writes `bytes` beside `path` under a temporary name and syncs them.
    pub fn write(path: &Path, bytes: &[u8]) -> Result<Staged, SigningError> {
        use std::io::Write;
        let dir = parent_dir(path);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        // Created private: never wider, not even for a moment.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        // The name need only be new: create_new refuses one that is taken
        // (a file or a symbolic link planted there), and another is tried.
        // Not the key-grade generator: its first use in a process gathers
        // entropy for some 20 ms, a seventh of a command-line signature.
        let mut attempt = 0;
        let (tmp, mut f) = loop {
            let tmp = dir.join(format!(".{name}.{}.partial", temporary_suffix()));
            match options.open(&tmp) {
                Ok(f) => break (tmp, f),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 8 => {
                    attempt += 1;
                }
                Err(e) => return Err(e.into()),
            }
        };
        let staged = Staged {
            tmp,
            path: path.to_path_buf(),
            published: false,
        };
        f.write_all(bytes)?;
        f.sync_all()?;
        Ok(staged)
    }

    /// Where it lies until published.
    pub fn temporary_path(&self) -> &Path {
        &self.tmp
    }

    /// Renames it over its final name and syncs the directory, so the name
    /// survives a crash.
    pub fn publish(mut self) -> Result<(), SigningError> {
        std::fs::rename(&self.tmp, &self.path)?;
        self.published = true;
        #[cfg(unix)]
        if let Ok(d) = std::fs::File::open(parent_dir(&self.path)) {
            // Best effort: some file systems refuse fsync on a directory.
            let _ = d.sync_all();
        }
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.published {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// 128 bits for a temporary file's name, from the operating system's
/// generator through the standard library's hash keys (no key-grade
/// generator to seed), with the process and the time.
fn temporary_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    let half = || {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        h.finish()
    };
    format!("{:016x}{:016x}", half(), half())
}

fn parent_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Writes `bytes` to `path` all or nothing (mode 0600): a temporary file in
/// the same directory, synced, then renamed over `path`. A failure leaves
/// no file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SigningError> {
    Staged::write(path, bytes)?.publish()
}

/// Writes a signed document to `path` only once `audit` has recorded it:
/// staged whole (0600, synced), then audited, then renamed into place. A
/// failed audit leaves no output (no signature goes out unrecorded); an
/// output in place was always audited and is never removed afterwards.
pub async fn write_audited<E>(
    path: &Path,
    bytes: &[u8],
    audit: impl Future<Output = Result<(), E>>,
) -> Result<(), WriteError<E>> {
    let staged = Staged::write(path, bytes).map_err(WriteError::Write)?;
    audit.await.map_err(WriteError::Audit)?;
    staged.publish().map_err(WriteError::Publish)
}

/// Why [`write_audited`] wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum WriteError<E> {
    #[error("{0}")]
    Write(SigningError),
    #[error("the audit record could not be written, so the signed file was not: {0}")]
    Audit(E),
    #[error("the signature is in the audit log, but the file could not be put in place: {0}")]
    Publish(SigningError),
}
