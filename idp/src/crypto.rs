//! Small cryptographic helpers over aws-lc-rs: random tokens, hashes of
//! bearer secrets, constant-time comparison and the master key. The master
//! key is never used directly: each use has its own key derived from it with
//! HKDF-SHA256 (RFC 5869), one `info` label per purpose, so a value sealed or
//! a MAC made for one purpose is worthless for another.

use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::{digest, hkdf, hmac, rand};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("random generator failed")]
    Random,
    #[error("master key file {path}: {message}")]
    MasterKey { path: String, message: String },
    #[error("encrypted key cannot be opened: wrong master key or corrupted data")]
    Decrypt,
    #[error("a sub-key of the master key cannot be derived")]
    Derive,
}

/// `n` random bytes from the system generator.
pub fn random_bytes(n: usize) -> Result<Vec<u8>, CryptoError> {
    let mut buf = vec![0u8; n];
    rand::fill(&mut buf).map_err(|_| CryptoError::Random)?;
    Ok(buf)
}

/// A 256-bit random token, base64url: codes, session ids, refresh tokens, secrets.
pub fn random_token() -> Result<String, CryptoError> {
    Ok(b64(&random_bytes(32)?))
}

/// A shorter random identifier (128 bits) for ids that are not secrets.
pub fn random_id() -> Result<String, CryptoError> {
    Ok(b64(&random_bytes(16)?))
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn b64_decode(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s).ok()
}

/// SHA-256, base64url. Bearer secrets (codes, refresh tokens, client secrets,
/// session ids) are 256-bit random, so a plain hash is enough to store them:
/// argon2 is for passwords people choose.
pub fn sha256_b64(data: &[u8]) -> String {
    b64(digest::digest(&digest::SHA256, data).as_ref())
}

/// Compares secrets without leaking where they differ.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// What a value sealed with the master key is. Each kind has its own
/// AES-256-GCM key, so a sealed authenticator key never opens as a signing
/// key (or the other way round) whatever its row says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seal {
    /// The private signing keys (`signing_keys.sealed_der`, AAD the `kid`).
    SigningKey,
    /// Authenticator-app keys (`factors.secret` and pending enrolments, AAD the person).
    TotpSecret,
    /// Keys that sign PDF documents (`document_keys.sealed_der`, AAD the label):
    /// apart from the OIDC keys, so neither kind opens as the other.
    DocumentKey,
    /// The SAML IdP's signing key (`saml_keys.sealed_der`, AAD its name and certificate).
    SamlKey,
}

/// What a MAC under the master key is for. Each purpose has its own
/// HMAC-SHA256 key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mac {
    /// The form token of the signed double-submit CSRF cookie.
    Csrf,
    /// The state a deferred signature carries from prepare to complete.
    DeferredSignature,
    /// A person's persistent SAML NameID at one service provider (pairwise, opaque).
    SamlNameId,
}

/// HKDF `info` labels: changing one makes every value of that purpose
/// unreadable, so they are fixed forever (a test pins them).
impl Seal {
    /// Whether values of this kind were ever sealed with the raw master key
    /// (before the sub-keys): only those may be opened with it.
    fn has_legacy_form(self) -> bool {
        match self {
            Seal::SigningKey | Seal::TotpSecret => true,
            Seal::DocumentKey | Seal::SamlKey => false,
        }
    }

    fn label(self) -> &'static [u8] {
        match self {
            Seal::SigningKey => b"dangnhap/v1/seal/signing-key",
            Seal::TotpSecret => b"dangnhap/v1/seal/totp-secret",
            Seal::DocumentKey => b"dangnhap/v1/seal/document-key",
            Seal::SamlKey => b"dangnhap/v1/seal/saml-key",
        }
    }
}

impl Mac {
    fn label(self) -> &'static [u8] {
        match self {
            Mac::Csrf => b"dangnhap/v1/mac/csrf",
            Mac::DeferredSignature => b"dangnhap/v1/mac/deferred-signature",
            Mac::SamlNameId => b"dangnhap/v1/mac/saml-name-id",
        }
    }
}

/// HKDF salt: names the application, so the same key file used elsewhere
/// derives other keys.
const HKDF_SALT: &[u8] = b"dangnhap master key";

/// The master key (the file's 32 bytes), held only as the keys derived from
/// it, plus the raw key as an AES key for one job: opening values sealed by
/// versions before the sub-keys, which [`MasterKey::reseal`] moves to their
/// sub-key. It never seals and never MACs.
pub struct MasterKey {
    signing_keys: LessSafeKey,
    totp_secrets: LessSafeKey,
    document_keys: LessSafeKey,
    saml_keys: LessSafeKey,
    csrf: hmac::Key,
    deferred: hmac::Key,
    saml_name_ids: hmac::Key,
    legacy: LessSafeKey,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(redacted)")
    }
}

/// 32 bytes of HKDF-SHA256 output for `label`.
fn derive(prk: &hkdf::Prk, label: &'static [u8]) -> Result<[u8; 32], CryptoError> {
    let info = [label];
    let mut out = [0u8; 32];
    prk.expand(&info, hkdf::HKDF_SHA256)
        .and_then(|okm| okm.fill(&mut out))
        .map_err(|_| CryptoError::Derive)?;
    Ok(out)
}

fn aead_key(bytes: &[u8]) -> Result<LessSafeKey, CryptoError> {
    let unbound = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| CryptoError::Derive)?;
    Ok(LessSafeKey::new(unbound))
}

impl MasterKey {
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<MasterKey, CryptoError> {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, HKDF_SALT).extract(bytes);
        Ok(MasterKey {
            signing_keys: aead_key(&derive(&prk, Seal::SigningKey.label())?)?,
            totp_secrets: aead_key(&derive(&prk, Seal::TotpSecret.label())?)?,
            document_keys: aead_key(&derive(&prk, Seal::DocumentKey.label())?)?,
            saml_keys: aead_key(&derive(&prk, Seal::SamlKey.label())?)?,
            csrf: hmac::Key::new(hmac::HMAC_SHA256, &derive(&prk, Mac::Csrf.label())?),
            deferred: hmac::Key::new(
                hmac::HMAC_SHA256,
                &derive(&prk, Mac::DeferredSignature.label())?,
            ),
            saml_name_ids: hmac::Key::new(
                hmac::HMAC_SHA256,
                &derive(&prk, Mac::SamlNameId.label())?,
            ),
            legacy: aead_key(bytes)?,
        })
    }

    fn aead(&self, what: Seal) -> &LessSafeKey {
        match what {
            Seal::SigningKey => &self.signing_keys,
            Seal::TotpSecret => &self.totp_secrets,
            Seal::DocumentKey => &self.document_keys,
            Seal::SamlKey => &self.saml_keys,
        }
    }

    fn hmac(&self, what: Mac) -> &hmac::Key {
        match what {
            Mac::Csrf => &self.csrf,
            Mac::DeferredSignature => &self.deferred,
            Mac::SamlNameId => &self.saml_name_ids,
        }
    }

    /// Reads the hex key at `path`, or creates it (mode 0600) when missing.
    pub fn load_or_create(path: &Path) -> Result<MasterKey, CryptoError> {
        let err = |message: String| CryptoError::MasterKey {
            path: path.display().to_string(),
            message,
        };
        if !path.exists() {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                // Owner only: the directory holds the key (and, by default, the database).
                crate::files::create_private_dir(dir).map_err(|e| err(e.to_string()))?;
            }
            let hex: String = random_bytes(32)?
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            write_private(path, &hex).map_err(|e| err(e.to_string()))?;
        }
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let text = text.trim();
        // ASCII first: slicing text with other characters could split one.
        let bytes: Option<Vec<u8>> = (text.len() == 64 && text.is_ascii())
            .then(|| {
                (0..32)
                    .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok())
                    .collect()
            })
            .flatten();
        let bytes: [u8; 32] = bytes
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| err("must hold 64 hex digits (32 bytes)".into()))?;
        MasterKey::from_bytes(&bytes)
    }

    /// AES-256-GCM under the sub-key of `what`, with a random nonce
    /// (nonce ‖ ciphertext ‖ tag); `aad` binds the ciphertext to its row.
    pub fn seal(&self, what: Seal, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let nonce_bytes: [u8; NONCE_LEN] = random_bytes(NONCE_LEN)?
            .try_into()
            .map_err(|_| CryptoError::Random)?;
        let mut data = plaintext.to_vec();
        self.aead(what)
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(aad),
                &mut data,
            )
            .map_err(|_| CryptoError::Random)?;
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&data);
        Ok(out)
    }

    /// Opens a value sealed for `what`, or sealed with the raw master key by
    /// an earlier version (so an upgrade loses no key; [`MasterKey::reseal`]
    /// moves such values to the sub-key). Document keys came after the
    /// sub-keys: no version sealed one with the raw key, so none opens so.
    pub fn open(&self, what: Seal, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let opened = open_with(self.aead(what), aad, sealed);
        if what.has_legacy_form() {
            opened.or_else(|_| open_with(&self.legacy, aad, sealed))
        } else {
            opened
        }
    }

    /// `Some(sealed again under the sub-key of what)` for a value that only
    /// the raw master key opens (sealed by an earlier version); `None` for a
    /// value already under its sub-key; an error when neither opens it.
    pub fn reseal(
        &self,
        what: Seal,
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<Option<Vec<u8>>, CryptoError> {
        if open_with(self.aead(what), aad, sealed).is_ok() {
            return Ok(None);
        }
        if !what.has_legacy_form() {
            return Err(CryptoError::Decrypt);
        }
        let plain = open_with(&self.legacy, aad, sealed)?;
        Ok(Some(self.seal(what, aad, &plain)?))
    }

    /// HMAC-SHA256 of `data` under the sub-key of `what`; every node
    /// derives the same.
    pub fn mac(&self, what: Mac, data: &[u8]) -> Vec<u8> {
        hmac::sign(self.hmac(what), data).as_ref().to_vec()
    }

    /// Checks a MAC made by [`MasterKey::mac`] for the same purpose, in constant time.
    pub fn verify_mac(&self, what: Mac, data: &[u8], tag: &[u8]) -> bool {
        hmac::verify(self.hmac(what), data, tag).is_ok()
    }
}

fn open_with(key: &LessSafeKey, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < NONCE_LEN {
        return Err(CryptoError::Decrypt);
    }
    let (nonce, ct) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Decrypt)?;
    let mut data = ct.to_vec();
    let plain = key
        .open_in_place(nonce, Aad::from(aad), &mut data)
        .map_err(|_| CryptoError::Decrypt)?;
    Ok(plain.to_vec())
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open_round_trip_and_reject_tampering() {
        let key = MasterKey::from_bytes(&[7; 32]).unwrap();
        let sealed = key.seal(Seal::SigningKey, b"kid-1", b"secret key").unwrap();
        assert_eq!(
            key.open(Seal::SigningKey, b"kid-1", &sealed).unwrap(),
            b"secret key"
        );
        assert!(
            key.open(Seal::SigningKey, b"kid-2", &sealed).is_err(),
            "aad binds the row"
        );
        let mut bad = sealed.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(key.open(Seal::SigningKey, b"kid-1", &bad).is_err());
        let other = MasterKey::from_bytes(&[8; 32]).unwrap();
        assert!(other.open(Seal::SigningKey, b"kid-1", &sealed).is_err());
    }

    /// AES-256-GCM under the raw master key, as versions before the
    /// sub-keys sealed (written out here, independent of the code under test).
    fn legacy_seal(raw: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, raw).unwrap());
        let nonce = [3u8; NONCE_LEN];
        let mut data = plaintext.to_vec();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut data,
        )
        .unwrap();
        [nonce.as_slice(), &data].concat()
    }

    /// HKDF-SHA256 (RFC 5869 §2.2–2.3, one block) with HMAC written out.
    fn hkdf_by_hand(ikm: &[u8], info: &[u8]) -> Vec<u8> {
        let salt = hmac::Key::new(hmac::HMAC_SHA256, b"dangnhap master key");
        let prk = hmac::sign(&salt, ikm);
        let prk = hmac::Key::new(hmac::HMAC_SHA256, prk.as_ref());
        hmac::sign(&prk, &[info, &[1u8]].concat()).as_ref().to_vec()
    }

    #[test]
    fn each_purpose_has_its_own_sub_key() {
        let raw = [7u8; 32];
        let key = MasterKey::from_bytes(&raw).unwrap();

        // A value sealed for one purpose does not open for another, even
        // with the same associated data; nor does the raw key open it.
        let as_key = key.seal(Seal::SigningKey, b"same", b"secret").unwrap();
        let as_totp = key.seal(Seal::TotpSecret, b"same", b"secret").unwrap();
        assert!(key.open(Seal::TotpSecret, b"same", &as_key).is_err());
        assert!(key.open(Seal::SigningKey, b"same", &as_totp).is_err());
        assert!(key.reseal(Seal::TotpSecret, b"same", &as_key).is_err());
        let raw_aead = aead_key(&raw).unwrap();
        assert!(open_with(&raw_aead, b"same", &as_key).is_err());
        assert!(open_with(&raw_aead, b"same", &as_totp).is_err());

        // The sub-keys are HKDF-SHA256 of the master key under fixed labels
        // (pinned: a changed label would make every stored value unreadable).
        for (what, label) in [
            (Seal::SigningKey, "dangnhap/v1/seal/signing-key"),
            (Seal::TotpSecret, "dangnhap/v1/seal/totp-secret"),
            (Seal::DocumentKey, "dangnhap/v1/seal/document-key"),
            (Seal::SamlKey, "dangnhap/v1/seal/saml-key"),
        ] {
            let sub = aead_key(&hkdf_by_hand(&raw, label.as_bytes())).unwrap();
            let sealed = key.seal(what, b"row", b"value").unwrap();
            assert_eq!(
                open_with(&sub, b"row", &sealed).unwrap(),
                b"value",
                "{label}"
            );
        }
        let csrf = hmac::Key::new(
            hmac::HMAC_SHA256,
            &hkdf_by_hand(&raw, b"dangnhap/v1/mac/csrf"),
        );
        let tag = key.mac(Mac::Csrf, b"cookie");
        assert_eq!(tag, hmac::sign(&csrf, b"cookie").as_ref());
        let deferred = hmac::Key::new(
            hmac::HMAC_SHA256,
            &hkdf_by_hand(&raw, b"dangnhap/v1/mac/deferred-signature"),
        );
        assert_eq!(
            key.mac(Mac::DeferredSignature, b"state"),
            hmac::sign(&deferred, b"state").as_ref()
        );
        assert_ne!(key.mac(Mac::DeferredSignature, b"cookie"), tag);

        // The MAC is not the one the raw key made before (purpose, 0, data),
        // so the master key is no longer an HMAC key as well as an AES key.
        let legacy = hmac::Key::new(hmac::HMAC_SHA256, &raw);
        assert_ne!(tag, hmac::sign(&legacy, b"csrf\0cookie").as_ref());
        assert_ne!(tag, hmac::sign(&legacy, b"cookie").as_ref());

        // A MAC verifies for its purpose and data only, and only whole.
        assert!(key.verify_mac(Mac::Csrf, b"cookie", &tag));
        assert!(!key.verify_mac(Mac::Csrf, b"cookie2", &tag));
        assert!(!key.verify_mac(Mac::Csrf, b"cookie", &tag[..16]));
        assert!(!key.verify_mac(Mac::Csrf, b"cookie", b""));
        let mut bad = tag.clone();
        bad[0] ^= 1;
        assert!(!key.verify_mac(Mac::Csrf, b"cookie", &bad));
        let other = MasterKey::from_bytes(&[8; 32]).unwrap();
        assert!(!other.verify_mac(Mac::Csrf, b"cookie", &tag));
        // Nor does a value sealed for a purpose verify as one of its MACs.
        assert!(!key.verify_mac(Mac::Csrf, b"same", &as_key[NONCE_LEN..]));
    }

    #[test]
    fn values_sealed_with_the_raw_key_still_open_and_are_resealed() {
        let raw = [9u8; 32];
        let key = MasterKey::from_bytes(&raw).unwrap();
        for what in [Seal::SigningKey, Seal::TotpSecret] {
            let old = legacy_seal(&raw, b"kid-7", b"pkcs8 der");
            assert_eq!(key.open(what, b"kid-7", &old).unwrap(), b"pkcs8 der");
            assert!(key.open(what, b"kid-8", &old).is_err(), "aad still binds");
            let new = key.reseal(what, b"kid-7", &old).unwrap().expect("resealed");
            assert_ne!(new, old);
            assert_eq!(key.open(what, b"kid-7", &new).unwrap(), b"pkcs8 der");
            assert!(
                open_with(&aead_key(&raw).unwrap(), b"kid-7", &new).is_err(),
                "under the sub-key now, not the raw key"
            );
            assert_eq!(key.reseal(what, b"kid-7", &new).unwrap(), None, "once");
            assert!(key.reseal(what, b"kid-8", &old).is_err());
            assert!(key.reseal(what, b"kid-7", b"short").is_err());
        }
        // A document key never had the raw-key form: such a value does not open.
        let old = legacy_seal(&raw, b"soft", b"pkcs8 der");
        assert!(key.open(Seal::DocumentKey, b"soft", &old).is_err());
        assert!(key.reseal(Seal::DocumentKey, b"soft", &old).is_err());
        // Another master key opens neither form.
        let other = MasterKey::from_bytes(&[1; 32]).unwrap();
        let old = legacy_seal(&raw, b"kid-7", b"pkcs8 der");
        assert!(other.open(Seal::SigningKey, b"kid-7", &old).is_err());
        assert!(other.reseal(Seal::SigningKey, b"kid-7", &old).is_err());
    }

    #[test]
    fn master_key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/master.key");
        let a = MasterKey::load_or_create(&path).unwrap();
        let sealed = a.seal(Seal::TotpSecret, b"x", b"y").unwrap();
        let b = MasterKey::load_or_create(&path).unwrap();
        assert_eq!(b.open(Seal::TotpSecret, b"x", &sealed).unwrap(), b"y");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        std::fs::write(&path, "short").unwrap();
        assert!(MasterKey::load_or_create(&path).is_err());
        // 64 bytes, but not 64 hex digits: a configuration error naming the file, no panic.
        std::fs::write(&path, format!("a{}b", "é".repeat(31))).unwrap();
        let e = MasterKey::load_or_create(&path).err().unwrap().to_string();
        assert!(
            e.contains("master.key") && e.contains("64 hex digits"),
            "{e}"
        );
    }

    #[test]
    fn tokens_are_random_and_comparison_is_exact() {
        assert_ne!(random_token().unwrap(), random_token().unwrap());
        assert_eq!(random_token().unwrap().len(), 43);
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}
