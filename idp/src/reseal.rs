//! The upgrade to per-purpose sub-keys of the master key. Versions before
//! them sealed signing keys and authenticator keys with the raw master key;
//! at start every such value is sealed again under its own sub-key, so an
//! upgrade loses no signing key and no enrolled authenticator. Values an old
//! node seals later still open (the raw key is tried second) and move at
//! the next start. Nodes starting together each replace a row only while it
//! holds what they read, so the work is done once.

use crate::crypto::{self, MasterKey, Seal};
use crate::ids::UserId;
use crate::store::{Store, StoreError};

/// What a pass did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Resealed {
    pub signing_keys: usize,
    pub totp_secrets: usize,
    /// Values that neither the sub-key nor the raw key opens (another master
    /// key, a damaged row): left as they are, and named in the log.
    pub unreadable: Vec<String>,
}

/// The associated data of an authenticator's key (as `auth::mfa` seals it).
fn totp_aad(user_id: &UserId) -> String {
    format!("totp:{user_id}")
}

/// Seals again under its sub-key every value still sealed with the raw master key.
pub async fn legacy_values(store: &Store, master: &MasterKey) -> Result<Resealed, StoreError> {
    let mut done = Resealed::default();
    for (kid, sealed) in store.sealed_signing_keys().await? {
        match master.reseal(Seal::SigningKey, kid.as_bytes(), &sealed) {
            Ok(None) => {}
            Ok(Some(new)) => {
                if store.reseal_signing_key(&kid, &sealed, &new).await? {
                    done.signing_keys += 1;
                }
            }
            Err(_) => done.unreadable.push(format!("signing key {kid}")),
        }
    }
    for (user_id, secret) in store.sealed_totp_secrets().await? {
        let aad = totp_aad(&user_id);
        let resealed = crypto::b64_decode(&secret)
            .ok_or(crypto::CryptoError::Decrypt)
            .and_then(|bytes| master.reseal(Seal::TotpSecret, aad.as_bytes(), &bytes));
        match resealed {
            Ok(None) => {}
            Ok(Some(new)) => {
                if store
                    .reseal_totp_secret(&user_id, &secret, &crypto::b64(&new))
                    .await?
                {
                    done.totp_secrets += 1;
                }
            }
            Err(_) => done
                .unreadable
                .push(format!("authenticator of user {user_id}")),
        }
    }
    if done.signing_keys + done.totp_secrets > 0 {
        tracing::info!(
            signing_keys = done.signing_keys,
            authenticator_keys = done.totp_secrets,
            "values sealed with the raw master key by an earlier version are now sealed under their own sub-keys"
        );
    }
    for what in &done.unreadable {
        tracing::warn!(
            value = %what,
            "sealed value opens with neither the master key's sub-key nor the master key: left as it is (another master key, or a damaged row?)"
        );
    }
    Ok(done)
}
