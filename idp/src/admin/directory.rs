//! A directory sync started by an administrator (`idp directory sync`): the
//! rules of the sync itself are in `auth::sync`; here its report is put in
//! words and audited.

use super::{Actor, audit};
use crate::audit::Kind;
use crate::auth::sync::{self, SyncError};
use crate::store::Store;

/// Runs a sync; returns its report in one line and how long it took in seconds.
pub async fn sync(
    store: &Store,
    ldap: &connectors::LdapDirectory,
    url: &str,
    full: bool,
    progress: impl FnMut(usize),
    actor: &Actor,
    now: i64,
) -> Result<(String, f64), SyncError> {
    let (r, secs) = sync::run(store, ldap, full, now, progress).await?;
    let detail = format!(
        "{} read {}, added {}, updated {}, disabled {}, unchanged {}; {} people in {} units",
        if r.full { "full:" } else { "changes only:" },
        r.read,
        r.added,
        r.updated,
        r.disabled,
        r.unchanged,
        r.listed,
        r.units
    );
    audit(
        store,
        actor,
        Kind::AdminDirectorySynced,
        url,
        Some(detail.clone()),
        now,
    )
    .await?;
    Ok((detail, secs))
}
