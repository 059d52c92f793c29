//! Small cryptographic helpers over aws-lc-rs: random tokens, hashes of
//! bearer secrets, constant-time comparison and the master key that
//! encrypts signing keys at rest (AES-256-GCM).

use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::{digest, hmac, rand};
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

/// The key that seals signing keys at rest and derives other server secrets.
pub struct MasterKey {
    aead: LessSafeKey,
    hmac: hmac::Key,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(redacted)")
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<MasterKey, CryptoError> {
        let unbound = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| CryptoError::Random)?;
        Ok(MasterKey {
            aead: LessSafeKey::new(unbound),
            hmac: hmac::Key::new(hmac::HMAC_SHA256, bytes),
        })
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
        let bytes: Option<Vec<u8>> = (text.len() == 64)
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

    /// AES-256-GCM with a random nonce; `aad` binds the ciphertext to its row.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let nonce_bytes: [u8; NONCE_LEN] = random_bytes(NONCE_LEN)?
            .try_into()
            .map_err(|_| CryptoError::Random)?;
        let mut data = plaintext.to_vec();
        self.aead
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

    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < NONCE_LEN {
            return Err(CryptoError::Decrypt);
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Decrypt)?;
        let mut data = ct.to_vec();
        let plain = self
            .aead
            .open_in_place(nonce, Aad::from(aad), &mut data)
            .map_err(|_| CryptoError::Decrypt)?;
        Ok(plain.to_vec())
    }

    /// A MAC under a purpose label, e.g. CSRF tokens; every node derives the same.
    pub fn mac(&self, purpose: &str, data: &[u8]) -> Vec<u8> {
        let mut ctx = hmac::Context::with_key(&self.hmac);
        ctx.update(purpose.as_bytes());
        ctx.update(&[0]);
        ctx.update(data);
        ctx.sign().as_ref().to_vec()
    }
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
        let sealed = key.seal(b"kid-1", b"secret key").unwrap();
        assert_eq!(key.open(b"kid-1", &sealed).unwrap(), b"secret key");
        assert!(key.open(b"kid-2", &sealed).is_err(), "aad binds the row");
        let mut bad = sealed.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(key.open(b"kid-1", &bad).is_err());
        let other = MasterKey::from_bytes(&[8; 32]).unwrap();
        assert!(other.open(b"kid-1", &sealed).is_err());
    }

    #[test]
    fn master_key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/master.key");
        let a = MasterKey::load_or_create(&path).unwrap();
        let sealed = a.seal(b"x", b"y").unwrap();
        let b = MasterKey::load_or_create(&path).unwrap();
        assert_eq!(b.open(b"x", &sealed).unwrap(), b"y");
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
