//! Signing-key rotation by an administrator (the server also rotates on its
//! own schedule through `oidc::keys`): next → current, current → previous,
//! a new next key, for each algorithm; audited.

use super::{Actor, audit};
use crate::audit::Kind;
use crate::crypto::MasterKey;
use crate::oidc::keys::{self, KeyError};
use crate::store::Store;

/// Rotates every algorithm's keys; returns a line per new next key.
pub async fn rotate(
    store: &Store,
    master: &MasterKey,
    retain: i64,
    actor: &Actor,
    now: i64,
) -> Result<Vec<String>, KeyError> {
    let made = keys::rotate(store, master, retain, now).await?;
    audit(
        store,
        actor,
        Kind::AdminKeysRotated,
        "signing_keys",
        None,
        now,
    )
    .await?;
    Ok(made)
}
