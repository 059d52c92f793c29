//! argon2id password hashing (RFC 9106) with OWASP parameters by default.
//!
//! Hashing runs on the blocking pool behind a semaphore, so a flood of
//! sign-ins queues instead of starving the server. Each hash needs a 19 MiB
//! working area; freed areas stay resident in the allocator's per-thread
//! arenas, so memory grew with every sign-in. Instead, the working areas
//! live in a pool with one area per permit: memory is bounded by
//! `max_concurrent_hashes` × `memory_kib` and reused for ever.

use std::sync::{Arc, Mutex};

use argon2::password_hash::{Output, ParamsString, PasswordHash, PasswordHasher as _, SaltString};
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;
use unicode_normalization::UnicodeNormalization;

use crate::config::PasswordConfig;
use crate::crypto;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("argon2: {0}")]
    Argon2(String),
    #[error("hashing task failed")]
    Task,
}

fn err(e: impl std::fmt::Display) -> PasswordError {
    PasswordError::Argon2(e.to_string())
}

/// The NFC form, the one stored and compared (`auth::policy` checks that form too).
fn nfc(password: String) -> String {
    if unicode_normalization::is_nfc(&password) {
        password
    } else {
        password.nfc().collect()
    }
}

#[derive(Clone)]
pub struct Hasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// Working areas, one per permit at most.
    areas: Arc<Mutex<Vec<Vec<Block>>>>,
    /// A hash of nothing, checked for unknown accounts so they take as long as known ones.
    dummy: Arc<String>,
    /// Passwords checked (real or against the dummy), for metrics.
    checks: prometheus_client::metrics::counter::Counter,
}

/// The result of checking a password.
#[derive(Debug, PartialEq, Eq)]
pub enum Check {
    Match { needs_rehash: bool },
    Mismatch,
}

impl Hasher {
    pub fn new(cfg: &PasswordConfig) -> Result<Hasher, PasswordError> {
        let params =
            Params::new(cfg.memory_kib, cfg.iterations, cfg.parallelism, None).map_err(err)?;
        // Made once with a temporary working area, so an idle server holds none.
        let salt = SaltString::encode_b64(&crypto::random_bytes(16).map_err(err)?).map_err(err)?;
        let dummy = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
            .hash_password(b"dangnhap-dummy-password", &salt)
            .map_err(err)?
            .to_string();
        Ok(Hasher {
            params,
            permits: Arc::new(Semaphore::new(cfg.max_concurrent_hashes)),
            areas: Arc::new(Mutex::new(Vec::new())),
            dummy: Arc::new(dummy),
            checks: prometheus_client::metrics::counter::Counter::default(),
        })
    }

    /// Runs argon2 in a pooled working area. Callers hold a permit, so the
    /// pool never holds more areas than there are permits.
    fn raw(
        &self,
        alg: Algorithm,
        version: Version,
        params: Params,
        pwd: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> Result<(), PasswordError> {
        let blocks = params.block_count();
        let mut area = self
            .areas
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop()
            .unwrap_or_default();
        if area.len() < blocks {
            area.resize(blocks, Block::default());
        }
        let result = Argon2::new(alg, version, params).hash_password_into_with_memory(
            pwd,
            salt,
            out,
            &mut area[..],
        );
        self.areas
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(area);
        result.map_err(err)
    }

    fn hash_now(&self, password: &str) -> Result<String, PasswordError> {
        let salt = crypto::random_bytes(16).map_err(err)?;
        let mut out = [0u8; 32];
        self.raw(
            Algorithm::Argon2id,
            Version::V0x13,
            self.params.clone(),
            password.as_bytes(),
            &salt,
            &mut out,
        )?;
        let salt = SaltString::encode_b64(&salt).map_err(err)?;
        let phc = PasswordHash {
            algorithm: ARGON2ID_IDENT,
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&self.params).map_err(err)?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out).map_err(err)?),
        };
        Ok(phc.to_string())
    }

    fn check_now(&self, hash: &str, password: &str) -> Check {
        let Ok(parsed) = PasswordHash::new(hash) else {
            return Check::Mismatch;
        };
        let (Ok(alg), Ok(params), Some(expected), Some(salt)) = (
            Algorithm::try_from(parsed.algorithm),
            Params::try_from(&parsed),
            parsed.hash,
            parsed.salt,
        ) else {
            return Check::Mismatch;
        };
        let version = parsed.version.map_or(Ok(Version::V0x13), Version::try_from);
        let mut salt_buf = [0u8; 64];
        let (Ok(version), Ok(salt)) = (version, salt.decode_b64(&mut salt_buf)) else {
            return Check::Mismatch;
        };
        let needs_rehash = alg != Algorithm::Argon2id
            || version != Version::V0x13
            || params.m_cost() != self.params.m_cost()
            || params.t_cost() != self.params.t_cost()
            || params.p_cost() != self.params.p_cost();
        let mut out = vec![0u8; expected.len()];
        if self
            .raw(alg, version, params, password.as_bytes(), salt, &mut out)
            .is_err()
        {
            return Check::Mismatch;
        }
        if crypto::ct_eq(&out, expected.as_bytes()) {
            Check::Match { needs_rehash }
        } else {
            Check::Mismatch
        }
    }

    /// Hashes a new password, NFC-normalised (see [`Hasher::check`]).
    pub async fn hash(&self, password: String) -> Result<String, PasswordError> {
        let password = nfc(password);
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| PasswordError::Task)?;
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.hash_now(&password))
            .await
            .map_err(|_| PasswordError::Task)?
    }

    /// Checks `password` against `hash`; with `None` checks against a dummy
    /// hash and reports a mismatch, taking the same time.
    pub async fn check(
        &self,
        hash: Option<String>,
        password: String,
    ) -> Result<Check, PasswordError> {
        self.checks.inc();
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| PasswordError::Task)?;
        let me = self.clone();
        let normal = nfc(password.clone());
        // A password typed decomposed (some Vietnamese keyboards send "e" and
        // combining marks) matches its composed hash. A hash made before
        // passwords were normalised may hold the decomposed form: that one is
        // tried second and upgraded. Unknown accounts pay the same second try.
        // The second try is counted in `/metrics` like the first: the work a
        // request costs stays visible.
        let raw = (normal != password).then_some(password);
        tokio::task::spawn_blocking(move || match hash {
            Some(h) => match (me.check_now(&h, &normal), raw) {
                (Check::Mismatch, Some(raw)) => match me.counted().check_now(&h, &raw) {
                    Check::Match { .. } => Check::Match { needs_rehash: true },
                    Check::Mismatch => Check::Mismatch,
                },
                (check, _) => check,
            },
            None => {
                let _ = me.check_now(&me.dummy, &normal);
                if let Some(raw) = raw {
                    let _ = me.counted().check_now(&me.dummy, &raw);
                }
                Check::Mismatch
            }
        })
        .await
        .map_err(|_| PasswordError::Task)
    }

    /// Counts one more hash in `/metrics`.
    fn counted(&self) -> &Hasher {
        self.checks.inc();
        self
    }

    /// The count of password checks (shared with every clone).
    pub fn checks(&self) -> prometheus_client::metrics::counter::Counter {
        self.checks.clone()
    }

    /// Working areas held now (never more than the permits).
    #[cfg(test)]
    fn pooled_areas(&self) -> usize {
        self.areas.lock().map(|a| a.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordConfig {
        PasswordConfig {
            memory_kib: 8192,
            iterations: 1,
            parallelism: 1,
            max_concurrent_hashes: 2,
        }
    }

    #[tokio::test]
    async fn hash_then_check() {
        let h = Hasher::new(&cheap()).unwrap();
        let hash = h.hash("Mật khẩu 123".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=8192,t=1,p=1$"), "{hash}");
        assert_eq!(
            h.check(Some(hash.clone()), "Mật khẩu 123".into())
                .await
                .unwrap(),
            Check::Match {
                needs_rehash: false
            }
        );
        assert_eq!(
            h.check(Some(hash), "mật khẩu 123".into()).await.unwrap(),
            Check::Mismatch
        );
        assert_eq!(h.check(None, "x".into()).await.unwrap(), Check::Mismatch);
        assert_eq!(
            h.check(Some("garbage".into()), "x".into()).await.unwrap(),
            Check::Mismatch
        );
    }

    #[tokio::test]
    async fn a_password_typed_decomposed_matches_its_composed_hash() {
        let h = Hasher::new(&cheap()).unwrap();
        let composed = "Mệt-khó-2024";
        let decomposed = "Me\u{323}\u{302}t-kho\u{301}-2024";
        let hash = h.hash(decomposed.into()).await.unwrap();
        for typed in [composed, decomposed] {
            assert_eq!(
                h.check(Some(hash.clone()), typed.into()).await.unwrap(),
                Check::Match {
                    needs_rehash: false
                },
                "{typed:?}"
            );
        }
        // A hash made before normalisation, of the decomposed form: it still
        // matches, and asks to be rehashed (into the composed form).
        let legacy = h.hash_now(decomposed).unwrap();
        assert_eq!(
            h.check(Some(legacy), decomposed.into()).await.unwrap(),
            Check::Match { needs_rehash: true }
        );
        assert_eq!(
            h.check(Some(hash), "Mệt-khó-2025".into()).await.unwrap(),
            Check::Mismatch
        );
        // Every hash run is in the metric: a decomposed wrong password, and an
        // unknown account typed decomposed, cost two.
        let before = h.checks().get();
        h.check(
            Some(h.hash_now(composed).unwrap()),
            "Mo\u{302}t-2025".into(),
        )
        .await
        .unwrap();
        h.check(None, "Mo\u{302}t-2025".into()).await.unwrap();
        h.check(None, "Một-2025".into()).await.unwrap();
        assert_eq!(h.checks().get() - before, 5);
    }

    #[tokio::test]
    async fn old_parameters_ask_for_a_rehash() {
        let old = Hasher::new(&cheap()).unwrap();
        let hash = old.hash("pw".into()).await.unwrap();
        let new = Hasher::new(&PasswordConfig {
            iterations: 2,
            ..cheap()
        })
        .unwrap();
        assert_eq!(
            new.check(Some(hash), "pw".into()).await.unwrap(),
            Check::Match { needs_rehash: true }
        );
    }

    #[tokio::test]
    async fn hashes_from_the_reference_implementation_verify() {
        // Made by the argon2 crate's own PasswordHasher, and an argon2i hash: both must verify.
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let params = Params::new(8192, 1, 1, None).unwrap();
        for alg in [Algorithm::Argon2id, Algorithm::Argon2i] {
            let reference = Argon2::new(alg, Version::V0x13, params.clone())
                .hash_password(b"pw", &salt)
                .unwrap()
                .to_string();
            let h = Hasher::new(&cheap()).unwrap();
            let expected = Check::Match {
                needs_rehash: alg != Algorithm::Argon2id,
            };
            assert_eq!(
                h.check(Some(reference.clone()), "pw".into()).await.unwrap(),
                expected
            );
            assert_eq!(
                h.check(Some(reference), "pX".into()).await.unwrap(),
                Check::Mismatch
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn working_areas_are_bounded_by_the_permits() {
        let h = Hasher::new(&cheap()).unwrap();
        let hash = h.hash("pw".into()).await.unwrap();
        let checks: Vec<_> = (0..12)
            .map(|_| {
                let (h, hash) = (h.clone(), hash.clone());
                tokio::spawn(async move { h.check(Some(hash), "pw".into()).await })
            })
            .collect();
        for c in checks {
            assert!(matches!(c.await.unwrap().unwrap(), Check::Match { .. }));
        }
        assert!(
            (1..=2).contains(&h.pooled_areas()),
            "{} areas for 2 permits",
            h.pooled_areas()
        );
    }
}
