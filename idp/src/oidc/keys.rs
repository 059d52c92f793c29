//! Signing keys and their rotation. Each algorithm (RS256 for ID tokens by
//! default, ES256 for access tokens and on request) has a `current` key that
//! signs, a `next` key published ahead so relying parties already trust it,
//! and `previous` keys published until the tokens they signed have expired.
//! Private keys are sealed with the master key; every node reloads the set
//! from the database, so `idp keys rotate` reaches all nodes.

use std::sync::{Arc, RwLock};

use bytes::Bytes;
use serde_json::json;

use crate::crypto::{self, MasterKey, Seal};
use crate::jose::{Alg, SigningKey, VerifyingKey};
use crate::store::{KeyRow, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Crypto(#[from] crypto::CryptoError),
    #[error(transparent)]
    Jose(#[from] crate::jose::JoseError),
    #[error("no current {0} signing key in the database")]
    Missing(&'static str),
}

/// The keys in force at one moment.
pub struct KeyRing {
    pub rs256: SigningKey,
    pub es256: SigningKey,
    /// Every published key (next, current, previous), to verify our own tokens.
    pub verifying: Vec<VerifyingKey>,
    /// The JWKS document, serialised once.
    pub jwks: Bytes,
}

impl KeyRing {
    pub fn signer(&self, alg: Alg) -> &SigningKey {
        match alg {
            Alg::RS256 => &self.rs256,
            Alg::ES256 => &self.es256,
        }
    }
}

pub struct KeyManager {
    store: Store,
    master: Arc<MasterKey>,
    ring: RwLock<Arc<KeyRing>>,
}

const ALGS: [Alg; 2] = [Alg::RS256, Alg::ES256];

fn new_row(master: &MasterKey, alg: Alg, state: &str, now: i64) -> Result<KeyRow, KeyError> {
    let kid = crypto::random_id()?;
    let (key, der) = SigningKey::generate(kid.clone(), alg)?;
    Ok(KeyRow {
        sealed_der: master.seal(Seal::SigningKey, kid.as_bytes(), &der)?,
        public_jwk: key.public_jwk().to_string(),
        kid,
        alg: alg.as_str().to_owned(),
        state: state.to_owned(),
        created_at: now,
        updated_at: now,
    })
}

/// Creates the current and next keys of each algorithm when missing. Safe
/// when several nodes start at once: the unique index keeps one of each.
pub async fn ensure_keys(store: &Store, master: &MasterKey, now: i64) -> Result<(), KeyError> {
    let rows = store.live_keys().await?;
    for alg in ALGS {
        for state in ["current", "next"] {
            if rows
                .iter()
                .any(|r| r.alg == alg.as_str() && r.state == state)
            {
                continue;
            }
            match store.insert_key(&new_row(master, alg, state, now)?).await {
                Ok(()) | Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

/// Rotates every algorithm once: next becomes current, a new next is made.
pub async fn rotate(store: &Store, master: &MasterKey, now: i64) -> Result<Vec<String>, KeyError> {
    ensure_keys(store, master, now).await?;
    let mut made = Vec::new();
    for alg in ALGS {
        let row = new_row(master, alg, "next", now)?;
        store.rotate_keys(alg.as_str(), &row, now).await?;
        made.push(format!("{} {}", alg.as_str(), row.kid));
    }
    Ok(made)
}

async fn build_ring(store: &Store, master: &MasterKey) -> Result<KeyRing, KeyError> {
    let rows = store.live_keys().await?;
    let mut verifying = Vec::new();
    let mut jwks = Vec::new();
    let mut rs256 = None;
    let mut es256 = None;
    for row in &rows {
        let Some(alg) = Alg::parse(&row.alg) else {
            continue;
        };
        let jwk: serde_json::Value = serde_json::from_str(&row.public_jwk)
            .map_err(|e| StoreError::Corrupt(format!("signing_keys.public_jwk: {e}")))?;
        if let Some(vk) = VerifyingKey::from_jwk(&jwk) {
            verifying.push(vk);
        }
        jwks.push(jwk);
        if row.state == "current" {
            let der = master.open(Seal::SigningKey, row.kid.as_bytes(), &row.sealed_der)?;
            let key = SigningKey::from_pkcs8(row.kid.clone(), alg, &der)?;
            match alg {
                Alg::RS256 => rs256 = Some(key),
                Alg::ES256 => es256 = Some(key),
            }
        }
    }
    Ok(KeyRing {
        rs256: rs256.ok_or(KeyError::Missing("RS256"))?,
        es256: es256.ok_or(KeyError::Missing("ES256"))?,
        verifying,
        jwks: Bytes::from(json!({ "keys": jwks }).to_string()),
    })
}

impl KeyManager {
    /// Makes sure keys exist and loads them.
    pub async fn open(
        store: Store,
        master: Arc<MasterKey>,
        now: i64,
    ) -> Result<KeyManager, KeyError> {
        ensure_keys(&store, &master, now).await?;
        let ring = build_ring(&store, &master).await?;
        Ok(KeyManager {
            store,
            master,
            ring: RwLock::new(Arc::new(ring)),
        })
    }

    /// The keys in force now.
    pub fn ring(&self) -> Arc<KeyRing> {
        self.ring
            .read()
            .map(|r| Arc::clone(&r))
            .unwrap_or_else(|p| Arc::clone(&p.into_inner()))
    }

    /// Re-reads the keys (after a rotation by another node or the CLI).
    pub async fn reload(&self) -> Result<(), KeyError> {
        let ring = Arc::new(build_ring(&self.store, &self.master).await?);
        match self.ring.write() {
            Ok(mut g) => *g = ring,
            Err(p) => *p.into_inner() = ring,
        }
        Ok(())
    }
}
