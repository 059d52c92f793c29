//! argon2id password hashing (RFC 9106) with OWASP parameters by default.
//! Hashing runs on the blocking pool behind a semaphore, so a flood of
//! sign-ins queues instead of starving the server of CPU and memory.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::config::PasswordConfig;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("argon2: {0}")]
    Argon2(String),
    #[error("hashing task failed")]
    Task,
}

#[derive(Clone)]
pub struct Hasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// A hash of nothing, checked for unknown accounts so they take as long as known ones.
    dummy: Arc<String>,
}

/// The result of checking a password.
#[derive(Debug, PartialEq, Eq)]
pub enum Check {
    Match { needs_rehash: bool },
    Mismatch,
}

impl Hasher {
    pub fn new(cfg: &PasswordConfig) -> Result<Hasher, PasswordError> {
        let params = Params::new(cfg.memory_kib, cfg.iterations, cfg.parallelism, None)
            .map_err(|e| PasswordError::Argon2(e.to_string()))?;
        let mut h = Hasher {
            params,
            permits: Arc::new(Semaphore::new(cfg.max_concurrent_hashes)),
            dummy: Arc::new(String::new()),
        };
        h.dummy = Arc::new(h.hash_now("dangnhap-dummy-password")?);
        Ok(h)
    }

    fn argon(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    fn hash_now(&self, password: &str) -> Result<String, PasswordError> {
        let salt_bytes =
            crate::crypto::random_bytes(16).map_err(|e| PasswordError::Argon2(e.to_string()))?;
        let salt = SaltString::encode_b64(&salt_bytes)
            .map_err(|e| PasswordError::Argon2(e.to_string()))?;
        self.argon()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| PasswordError::Argon2(e.to_string()))
    }

    fn check_now(&self, hash: &str, password: &str) -> Check {
        let Ok(parsed) = PasswordHash::new(hash) else {
            return Check::Mismatch;
        };
        if self
            .argon()
            .verify_password(password.as_bytes(), &parsed)
            .is_err()
        {
            return Check::Mismatch;
        }
        let current = Params::try_from(&parsed).ok();
        let needs_rehash = parsed.algorithm.as_str() != "argon2id"
            || current.is_none_or(|p| {
                p.m_cost() != self.params.m_cost()
                    || p.t_cost() != self.params.t_cost()
                    || p.p_cost() != self.params.p_cost()
            });
        Check::Match { needs_rehash }
    }

    /// Hashes a new password.
    pub async fn hash(&self, password: String) -> Result<String, PasswordError> {
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
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| PasswordError::Task)?;
        let me = self.clone();
        tokio::task::spawn_blocking(move || match hash {
            Some(h) => me.check_now(&h, &password),
            None => {
                let _ = me.check_now(&me.dummy, &password);
                Check::Mismatch
            }
        })
        .await
        .map_err(|_| PasswordError::Task)
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
        assert!(hash.starts_with("$argon2id$"));
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
}
