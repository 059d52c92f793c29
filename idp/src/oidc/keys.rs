//! Signing keys and their rotation. Each algorithm (RS256 for ID tokens by
//! default, ES256 for access tokens and on request) has a `current` key that
//! signs, a `next` key published ahead so relying parties already trust it,
//! and `previous` keys published until the tokens they signed have expired:
//! a key that stopped being current is kept in the JWKS for the longest
//! token lifetime plus clock skew (`retention_secs`), however many rotations
//! happen meanwhile, then retired.
//! Private keys are sealed with the master key; every node reloads the set
//! from the database, so `idp keys rotate` reaches all nodes.

use std::sync::{Arc, RwLock};

use bytes::Bytes;
use serde_json::json;

use crate::config::TokenConfig;
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
    /// `retention_secs` of the configuration.
    retain: i64,
    ring: RwLock<Arc<KeyRing>>,
}

const ALGS: [Alg; 2] = [Alg::RS256, Alg::ES256];

/// Lifetime of a back-channel logout token (`backchannel::logout_token`).
pub const LOGOUT_TOKEN_TTL_SECS: i64 = 120;
/// Relying parties' clocks may run this far behind ours.
pub const CLOCK_SKEW_SECS: i64 = 60;

/// How long a key stays published after it stopped signing: the longest
/// lifetime of the tokens it signed (access, ID, logout) plus clock skew.
pub fn retention_secs(tokens: &TokenConfig) -> i64 {
    let longest = tokens.access_ttl_secs.max(tokens.id_ttl_secs);
    super::tokens::secs(longest)
        .max(LOGOUT_TOKEN_TTL_SECS)
        .saturating_add(CLOCK_SKEW_SECS)
}

/// `true` for a key that is in the JWKS at `now`: next and current always,
/// a previous key until `retain` seconds after it stopped being current.
pub fn published(row: &KeyRow, retain: i64, now: i64) -> bool {
    match row.state.as_str() {
        "previous" => row.updated_at.saturating_add(retain) > now,
        _ => true,
    }
}

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

/// Rotates every algorithm once: next becomes current, a new next is made;
/// previous keys older than `retain` are retired.
pub async fn rotate(
    store: &Store,
    master: &MasterKey,
    retain: i64,
    now: i64,
) -> Result<Vec<String>, KeyError> {
    ensure_keys(store, master, now).await?;
    store.retire_keys(now.saturating_sub(retain)).await?;
    let mut made = Vec::new();
    for alg in ALGS {
        let row = new_row(master, alg, "next", now)?;
        store.rotate_keys(alg.as_str(), &row, now).await?;
        made.push(format!("{} {}", alg.as_str(), row.kid));
    }
    Ok(made)
}

async fn build_ring(
    store: &Store,
    master: &MasterKey,
    retain: i64,
    now: i64,
) -> Result<KeyRing, KeyError> {
    let mut rows = store.live_keys().await?;
    rows.retain(|r| published(r, retain, now));
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
        retain: i64,
        now: i64,
    ) -> Result<KeyManager, KeyError> {
        ensure_keys(&store, &master, now).await?;
        let ring = build_ring(&store, &master, retain, now).await?;
        Ok(KeyManager {
            store,
            master,
            retain,
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
        self.reload_at(crate::now()).await
    }

    /// Re-reads the keys as of `now`: previous keys past their retention drop out.
    pub async fn reload_at(&self, now: i64) -> Result<(), KeyError> {
        let ring = Arc::new(build_ring(&self.store, &self.master, self.retain, now).await?);
        match self.ring.write() {
            Ok(mut g) => *g = ring,
            Err(p) => *p.into_inner() = ring,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose;

    #[test]
    fn retention_is_the_longest_token_lifetime_and_skew() {
        let t = crate::config::Config::default().tokens;
        assert_eq!(retention_secs(&t), 600 + CLOCK_SKEW_SECS);
        let short = TokenConfig {
            access_ttl_secs: 30,
            id_ttl_secs: 60,
            ..t
        };
        assert_eq!(
            retention_secs(&short),
            LOGOUT_TOKEN_TTL_SECS + CLOCK_SKEW_SECS
        );
    }

    fn published_keys(km: &KeyManager) -> Vec<jose::VerifyingKey> {
        let doc: serde_json::Value = serde_json::from_slice(&km.ring().jwks).unwrap();
        jose::parse_jwks(&doc)
    }

    /// Two rotations within a token's lifetime leave it verifiable; once its
    /// lifetime (and skew) has passed since its key stopped signing, the key
    /// is gone from the JWKS, and the next rotation retires it.
    #[tokio::test]
    async fn two_rotations_keep_live_tokens_verifiable_until_they_expire() {
        let (store, _dir) = crate::testing::test_store().await;
        let master = Arc::new(MasterKey::from_bytes(&[7; 32]).unwrap());
        let retain = 660;
        let t0 = 1_000_000;
        let km = KeyManager::open(store.clone(), Arc::clone(&master), retain, t0)
            .await
            .unwrap();
        let ring = km.ring();
        let access = ring.es256.sign("at+jwt", &json!({"sub": "a"})).unwrap();
        let id = ring.rs256.sign("JWT", &json!({"sub": "a"})).unwrap();
        let old_kids = [ring.es256.kid.clone(), ring.rs256.kid.clone()];

        rotate(&store, &master, retain, t0 + 10).await.unwrap();
        rotate(&store, &master, retain, t0 + 20).await.unwrap();
        km.reload_at(t0 + 20).await.unwrap();
        let keys = published_keys(&km);
        assert!(
            jose::verify(&access, &keys).is_ok(),
            "access token after two rotations"
        );
        assert!(
            jose::verify(&id, &keys).is_ok(),
            "ID token after two rotations"
        );
        assert!(jose::verify(&access, &km.ring().verifying).is_ok());

        // The first key stopped signing at t0 + 10.
        km.reload_at(t0 + 10 + retain - 1).await.unwrap();
        assert!(jose::verify(&access, &published_keys(&km)).is_ok());
        km.reload_at(t0 + 10 + retain).await.unwrap();
        let keys = published_keys(&km);
        assert!(
            jose::verify(&access, &keys).is_err(),
            "gone after its lifetime"
        );
        assert!(jose::verify(&id, &keys).is_err());
        assert!(jose::verify(&access, &km.ring().verifying).is_err());
        // The second generation (previous since t0 + 20) is still there.
        assert_eq!(keys.len(), 6, "per algorithm: next, current, one previous");

        rotate(&store, &master, retain, t0 + 10 + retain)
            .await
            .unwrap();
        let rows = store.live_keys().await.unwrap();
        assert!(rows.iter().all(|r| !old_kids.contains(&r.kid)), "retired");
    }
}
