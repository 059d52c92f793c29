//! Keys on a PKCS#11 token (PKCS#11 v2.40 / v3; an HSM in production,
//! SoftHSM2 in the tests), through `cryptoki`.
//!
//! The module is loaded once, the token found by its label and logged in
//! once with the user PIN. The login belongs to the application, not to a
//! session (PKCS#11 §5.6), so one session is held open for as long as the
//! backend lives and the others come from a small pool: a signature takes
//! an idle session (or opens one), signs on the blocking pool and gives it
//! back. `cryptoki`'s `Session` is `Send` but not `Sync`, so a session is
//! only ever used by the one thread that took it out of the pool.
//!
//! A key is found by its CKA_LABEL (one private key, RSA ≥ 2048 bits or EC
//! P-256), its certificate by the key's CKA_ID. RSA signs with
//! CKM_SHA256_RSA_PKCS; EC with CKM_ECDSA over a SHA-256 digest computed
//! here, the token's raw `r‖s` turned into the DER `Ecdsa-Sig-Value` CMS
//! wants (RFC 5753 §2.1.1, SEC 1 §C.5). A token that goes away (pulled,
//! restarted, sessions closed under us) is met with one attempt to log in
//! again, then a clear error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use aws_lc_rs::digest::{SHA256, digest};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{
    Attribute, AttributeType, CertificateType, KeyType, ObjectClass, ObjectHandle,
};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use der::Encode;
use secrecy::SecretString;

use super::SigningError;
use super::backend::{BoxFuture, KeyAlg, KeyBackend, KeyInfo};

/// Idle sessions kept beyond the one that holds the login. Signing is CPU
/// work on the token; more sessions than cores gains nothing.
const MAX_IDLE_SESSIONS: usize = 4;

/// Smallest RSA modulus accepted, in bits.
const MIN_RSA_BITS: usize = 2048;

/// The DER of the named curve P-256 (`CKA_EC_PARAMS`: an OBJECT IDENTIFIER).
const P256_PARAMS: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// A key found on the token: its handle and what the CMS writer needs.
#[derive(Clone)]
struct Found {
    handle: ObjectHandle,
    info: KeyInfo,
}

/// The logged-in state: the session that keeps the login and the idle ones.
struct Live {
    slot: Slot,
    /// Never leaves: while it is open the application stays logged in.
    _anchor: Session,
    idle: Vec<Session>,
    /// Which login this is: a session taken out before the token went away
    /// is not put back into the pool of a later login.
    generation: u64,
}

struct Inner {
    ctx: Pkcs11,
    module: PathBuf,
    token_label: String,
    pin: SecretString,
    /// `None` after the token went away and logging in again failed; the
    /// next request tries again.
    live: Mutex<Option<Live>>,
    /// Keys already looked up; handles stay valid while the login does, so
    /// the cache is emptied with each new login.
    keys: Mutex<HashMap<String, Found>>,
    generations: std::sync::atomic::AtomicU64,
}

/// Keys on a PKCS#11 token.
pub struct Pkcs11Backend {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Pkcs11Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Backend")
            .field("module", &self.inner.module)
            .field("token_label", &self.inner.token_label)
            .finish_non_exhaustive()
    }
}

/// The `SigningError` for a PKCS#11 failure, in words an operator can act on.
fn token_error(token: &str, what: &str, e: &CkError) -> SigningError {
    let message = match e {
        CkError::Pkcs11(RvError::PinIncorrect, _) => {
            format!(
                "wrong PIN for token '{token}' (CKR_PIN_INCORRECT); check signing.pin_file or IDP_SIGNING__PIN"
            )
        }
        CkError::Pkcs11(RvError::PinLocked, _) => format!(
            "the user PIN of token '{token}' is locked after too many wrong tries (CKR_PIN_LOCKED); \
             the security officer must unlock it"
        ),
        CkError::Pkcs11(RvError::PinExpired, _) => {
            format!("the user PIN of token '{token}' has expired (CKR_PIN_EXPIRED); set a new one")
        }
        CkError::Pkcs11(
            RvError::TokenNotPresent | RvError::DeviceRemoved | RvError::SlotIdInvalid,
            _,
        ) => format!("token '{token}' is not present any more ({e})"),
        _ => format!("token '{token}': {what}: {e}"),
    };
    SigningError::Key(message)
}

/// Failures after which the sessions (or the login) are gone and logging
/// in again may help.
fn session_lost(e: &CkError) -> bool {
    matches!(
        e,
        CkError::Pkcs11(
            RvError::SessionHandleInvalid
                | RvError::SessionClosed
                | RvError::UserNotLoggedIn
                | RvError::DeviceRemoved
                | RvError::TokenNotPresent
                | RvError::SlotIdInvalid
                | RvError::ObjectHandleInvalid
                | RvError::KeyHandleInvalid
                | RvError::CryptokiNotInitialized,
            _
        )
    )
}

/// What went wrong in one attempt: a token failure (perhaps worth one
/// more try after logging in again) or an answer that stands.
enum Failure {
    Token(CkError, &'static str),
    Final(SigningError),
}

impl From<SigningError> for Failure {
    fn from(e: SigningError) -> Self {
        Failure::Final(e)
    }
}

fn ck(what: &'static str) -> impl FnOnce(CkError) -> Failure {
    move |e| Failure::Token(e, what)
}

impl Pkcs11Backend {
    /// Loads `module`, finds the token labelled `token_label` and logs in
    /// with `pin`. Blocking (a token may take a while): call it from the
    /// blocking pool or at start.
    pub fn open(
        module: &Path,
        token_label: &str,
        pin: SecretString,
    ) -> Result<Pkcs11Backend, SigningError> {
        if !module.is_file() {
            return Err(SigningError::Key(format!(
                "PKCS#11 module {} not found; check signing.module",
                module.display()
            )));
        }
        let ctx = Pkcs11::new(module).map_err(|e| {
            SigningError::Key(format!(
                "cannot load the PKCS#11 module {}: {e}",
                module.display()
            ))
        })?;
        match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => {
                return Err(SigningError::Key(format!(
                    "cannot initialise the PKCS#11 module {}: {e}",
                    module.display()
                )));
            }
        }
        let inner = Inner {
            ctx,
            module: module.to_path_buf(),
            token_label: token_label.to_owned(),
            pin,
            live: Mutex::new(None),
            keys: Mutex::new(HashMap::new()),
            generations: std::sync::atomic::AtomicU64::new(0),
        };
        let live = inner.log_in()?;
        *inner.lock() = Some(live);
        Ok(Pkcs11Backend {
            inner: Arc::new(inner),
        })
    }

    /// Runs `work` with a logged-in session on the blocking pool.
    async fn with_session<T: Send + 'static>(
        &self,
        work: impl Fn(&Inner, &Session) -> Result<T, Failure> + Send + Sync + 'static,
    ) -> Result<T, SigningError> {
        let inner = self.inner.clone();
        match tokio::task::spawn_blocking(move || inner.run(work)).await {
            Ok(result) => result,
            Err(e) => Err(SigningError::Worker(e.to_string())),
        }
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Option<Live>> {
        // A panic while holding the lock left at worst a session in use: the
        // state is still sound, so the lock is taken over.
        self.live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn keys(&self) -> MutexGuard<'_, HashMap<String, Found>> {
        self.keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Finds the token and logs in on a new anchor session.
    fn log_in(&self) -> Result<Live, SigningError> {
        let label = self.token_label.as_str();
        let slots = self
            .ctx
            .get_slots_with_token()
            .map_err(|e| token_error(label, "listing slots", &e))?;
        let mut seen = Vec::new();
        let mut slot = None;
        for s in slots {
            let Ok(info) = self.ctx.get_token_info(s) else {
                continue;
            };
            let l = info.label().trim_end().to_owned();
            if l == label {
                if info.user_pin_locked() {
                    return Err(token_error(
                        label,
                        "login",
                        &CkError::Pkcs11(RvError::PinLocked, cryptoki::context::Function::Login),
                    ));
                }
                slot = Some(s);
                break;
            }
            seen.push(l);
        }
        let Some(slot) = slot else {
            return Err(SigningError::Key(format!(
                "no token labelled '{label}' in {} (tokens seen: {}); check signing.token_label",
                self.module.display(),
                if seen.is_empty() {
                    "none".to_owned()
                } else {
                    seen.join(", ")
                }
            )));
        };
        let anchor = self
            .ctx
            .open_ro_session(slot)
            .map_err(|e| token_error(label, "opening a session", &e))?;
        match anchor.login(UserType::User, Some(&self.pin)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(e) => return Err(token_error(label, "login", &e)),
        }
        self.keys().clear();
        Ok(Live {
            slot,
            _anchor: anchor,
            idle: Vec::new(),
            generation: self
                .generations
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        })
    }

    /// One attempt at `work`, and one more after logging in again when the
    /// sessions were lost.
    fn run<T>(
        &self,
        work: impl Fn(&Inner, &Session) -> Result<T, Failure>,
    ) -> Result<T, SigningError> {
        let label = self.token_label.as_str();
        for attempt in 0..2 {
            match self.attempt(&work) {
                Ok(v) => return Ok(v),
                Err(Failure::Final(e)) => return Err(e),
                Err(Failure::Token(e, what)) => {
                    if attempt == 0 && session_lost(&e) {
                        tracing::warn!(
                            token = label,
                            error = %e,
                            "the PKCS#11 sessions were lost; logging in again"
                        );
                        // Dropping the state closes its sessions (errors ignored:
                        // they are gone already).
                        *self.lock() = None;
                        continue;
                    }
                    return Err(token_error(label, what, &e));
                }
            }
        }
        Err(SigningError::Key(format!(
            "token '{label}' is not available"
        )))
    }

    fn attempt<T>(
        &self,
        work: &impl Fn(&Inner, &Session) -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        // Take an idle session (or open one) under the lock; work without it.
        let (session, generation) = {
            let mut guard = self.lock();
            let live = match guard.take() {
                Some(live) => guard.insert(live),
                None => guard.insert(self.log_in()?),
            };
            let session = match live.idle.pop() {
                Some(s) => s,
                None => self
                    .ctx
                    .open_ro_session(live.slot)
                    .map_err(ck("opening a session"))?,
            };
            (session, live.generation)
        };
        let result = work(self, &session);
        let lost = matches!(&result, Err(Failure::Token(e, _)) if session_lost(e));
        if !lost {
            let mut guard = self.lock();
            if let Some(live) = guard.as_mut()
                && live.generation == generation
                && live.idle.len() < MAX_IDLE_SESSIONS
            {
                live.idle.push(session);
            }
        }
        result
    }
}

/// The key labelled `label`: exactly one private key, of an accepted
/// algorithm and size, with its certificate.
fn find_key(session: &Session, label: &str) -> Result<Found, Failure> {
    let keys = session
        .find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Label(label.as_bytes().to_vec()),
        ])
        .map_err(ck("finding the key"))?;
    let handle = match keys.as_slice() {
        [] => return Err(SigningError::NoKey(label.into()).into()),
        [one] => *one,
        _ => {
            return Err(SigningError::Key(format!(
                "{} private keys are labelled '{label}' on the token; labels must be unique",
                keys.len()
            ))
            .into());
        }
    };
    let attrs = session
        .get_attributes(
            handle,
            &[
                AttributeType::KeyType,
                AttributeType::Id,
                AttributeType::Modulus,
                AttributeType::EcParams,
            ],
        )
        .map_err(ck("reading the key's attributes"))?;
    let mut key_type = None;
    let mut id = None;
    let mut modulus = None;
    let mut ec_params = None;
    for a in attrs {
        match a {
            Attribute::KeyType(t) => key_type = Some(t),
            Attribute::Id(v) => id = Some(v),
            Attribute::Modulus(v) => modulus = Some(v),
            Attribute::EcParams(v) => ec_params = Some(v),
            _ => {}
        }
    }
    let alg = match key_type {
        Some(t) if t == KeyType::RSA => {
            let bits = modulus.as_deref().map_or(0, rsa_bits);
            if bits < MIN_RSA_BITS {
                return Err(SigningError::Key(format!(
                    "key '{label}' is RSA-{bits}; at least RSA-{MIN_RSA_BITS} is required"
                ))
                .into());
            }
            KeyAlg::RsaPkcs1Sha256
        }
        Some(t) if t == KeyType::EC => {
            if ec_params.as_deref() != Some(P256_PARAMS) {
                return Err(SigningError::Key(format!(
                    "key '{label}' is on another curve than P-256; only P-256 is accepted"
                ))
                .into());
            }
            KeyAlg::EcdsaP256Sha256
        }
        other => {
            return Err(SigningError::Key(format!(
                "key '{label}' is of type {}; only RSA (≥ 2048 bits) and EC P-256 sign documents",
                other.map_or_else(|| "unknown".to_owned(), |t| t.to_string())
            ))
            .into());
        }
    };
    let cert = find_certificate(session, label, id.as_deref().unwrap_or_default())?;
    Ok(Found {
        handle,
        info: KeyInfo {
            label: label.to_owned(),
            alg,
            chain: vec![cert],
        },
    })
}

/// The X.509 certificate with the key's CKA_ID (where tools put it:
/// `pkcs11-tool --write-object --type cert --id`), else the one labelled
/// like the key.
fn find_certificate(session: &Session, label: &str, id: &[u8]) -> Result<Vec<u8>, Failure> {
    let mut templates = Vec::new();
    if !id.is_empty() {
        templates.push(Attribute::Id(id.to_vec()));
    }
    templates.push(Attribute::Label(label.as_bytes().to_vec()));
    for t in templates {
        let found = session
            .find_objects(&[
                Attribute::Class(ObjectClass::CERTIFICATE),
                Attribute::CertificateType(CertificateType::X_509),
                t,
            ])
            .map_err(ck("finding the certificate"))?;
        if let Some(&cert) = found.first() {
            let attrs = session
                .get_attributes(cert, &[AttributeType::Value])
                .map_err(ck("reading the certificate"))?;
            for a in attrs {
                if let Attribute::Value(der) = a
                    && !der.is_empty()
                {
                    return Ok(der);
                }
            }
        }
    }
    Err(SigningError::Key(format!(
        "key '{label}' has no X.509 certificate on the token (none with its CKA_ID or label)"
    ))
    .into())
}

/// The size in bits of a big-endian modulus.
fn rsa_bits(modulus: &[u8]) -> usize {
    let trimmed: &[u8] = match modulus.iter().position(|&b| b != 0) {
        Some(i) => &modulus[i..],
        None => &[],
    };
    match trimmed.first() {
        Some(&b) => trimmed.len() * 8 - b.leading_zeros() as usize,
        None => 0,
    }
}

/// The key labelled `label`, from the cache or the token. A label with no
/// key is not cached: the key may be put on the token later.
fn lookup(inner: &Inner, session: &Session, label: &str) -> Result<Found, Failure> {
    if let Some(f) = inner.keys().get(label) {
        return Ok(f.clone());
    }
    let found = find_key(session, label)?;
    inner.keys().insert(label.to_owned(), found.clone());
    Ok(found)
}

/// ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (SEC 1 §C.5).
#[derive(der::Sequence)]
struct EcdsaSig<'a> {
    r: der::asn1::UintRef<'a>,
    s: der::asn1::UintRef<'a>,
}

/// The DER `Ecdsa-Sig-Value` of a raw P-256 signature `r‖s` (64 bytes).
pub fn ecdsa_raw_to_der(raw: &[u8]) -> Result<Vec<u8>, SigningError> {
    if raw.len() != 64 {
        return Err(SigningError::Key(format!(
            "the token returned an ECDSA signature of {} bytes; P-256 gives 64",
            raw.len()
        )));
    }
    let (r, s) = raw.split_at(32);
    Ok(EcdsaSig {
        r: der::asn1::UintRef::new(r)?,
        s: der::asn1::UintRef::new(s)?,
    }
    .to_der()?)
}

impl KeyBackend for Pkcs11Backend {
    fn key<'a>(&'a self, label: &'a str) -> BoxFuture<'a, Result<KeyInfo, SigningError>> {
        let label = label.to_owned();
        Box::pin(async move {
            self.with_session(move |inner, session| Ok(lookup(inner, session, &label)?.info))
                .await
        })
    }

    fn sign<'a>(
        &'a self,
        label: &'a str,
        message: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, SigningError>> {
        let label = label.to_owned();
        let message = message.to_vec();
        Box::pin(async move {
            self.with_session(move |inner, session| {
                let found = lookup(inner, session, &label)?;
                match found.info.alg {
                    KeyAlg::RsaPkcs1Sha256 => session
                        .sign(&Mechanism::Sha256RsaPkcs, found.handle, &message)
                        .map_err(ck("signing")),
                    KeyAlg::EcdsaP256Sha256 => {
                        let hash = digest(&SHA256, &message);
                        let raw = session
                            .sign(&Mechanism::Ecdsa, found.handle, hash.as_ref())
                            .map_err(ck("signing"))?;
                        Ok(ecdsa_raw_to_der(&raw)?)
                    }
                }
            })
            .await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_ecdsa_becomes_der_with_minimal_integers() {
        let mut raw = [0u8; 64];
        raw[0] = 0x80; // r needs a leading zero byte to stay positive
        raw[63] = 1; // s is 1
        let der = ecdsa_raw_to_der(&raw).unwrap();
        assert_eq!(&der[..4], &[0x30, 0x26, 0x02, 0x21]);
        assert_eq!(der[4], 0x00);
        assert_eq!(&der[der.len() - 3..], &[0x02, 0x01, 0x01]);
        assert!(ecdsa_raw_to_der(&raw[..63]).is_err());
    }

    #[test]
    fn rsa_sizes_are_counted_in_bits() {
        assert_eq!(rsa_bits(&[0x00, 0x80, 0, 0]), 24);
        assert_eq!(rsa_bits(&[0x01; 256]), 2041);
        assert_eq!(rsa_bits(&[0xff; 256]), 2048);
        assert_eq!(rsa_bits(&[]), 0);
    }

    #[test]
    fn a_missing_module_is_a_clear_error() {
        let e = Pkcs11Backend::open(
            Path::new("/nonexistent/libpkcs11.so"),
            "t",
            SecretString::from("1234"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("/nonexistent/libpkcs11.so"), "{e}");
        assert!(e.contains("signing.module"), "{e}");
    }
}
