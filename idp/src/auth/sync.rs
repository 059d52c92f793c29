//! `idp directory sync`: people and their units from the directory into SQL.
//! New people are added, changed ones updated, people who left are disabled
//! (never deleted: their history and links stay), all in one transaction.
//! Only rows that differ are written, so a re-run changes nothing.

use std::collections::HashMap;
use std::time::Instant;

use connectors::{DirectoryError, Identity, LdapDirectory};

use super::directory::LDAP_SOURCE;
use crate::crypto::{self, CryptoError};
use crate::store::{DirectoryChanges, Store, StoreError};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub read: usize,
    pub added: usize,
    pub updated: usize,
    /// People who left the directory, disabled here.
    pub disabled: usize,
    pub unchanged: usize,
    /// Distinct units among the people read.
    pub units: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(
        "the directory listed nobody under its base while {0} people came from it: nothing changed (check directory.base_dn and people_filter)"
    )]
    Empty(usize),
}

pub async fn run(
    store: &Store,
    ldap: &LdapDirectory,
    now: i64,
    progress: impl FnMut(usize),
) -> Result<(Report, f64), SyncError> {
    let started = Instant::now();
    let people = ldap.people(progress).await?;
    let known = store.directory_people(LDAP_SOURCE).await?;
    let locals = store.local_emails().await?;
    if people.is_empty() && !known.is_empty() {
        return Err(SyncError::Empty(known.len()));
    }
    let mut by_email: HashMap<&str, &crate::store::User> =
        known.iter().map(|u| (u.email.as_str(), u)).collect();
    let mut changes = DirectoryChanges::default();
    let mut report = Report {
        read: people.len(),
        ..Report::default()
    };
    let mut units: Vec<&str> = people.iter().filter_map(|p| p.unit.as_deref()).collect();
    units.sort_unstable();
    units.dedup();
    report.units = units.len();
    let mut seen = std::collections::HashSet::new();
    for p in &people {
        // People with a local account keep it; one mailbox listed twice counts once.
        if locals.contains(&p.email) || !seen.insert(p.email.as_str()) {
            continue;
        }
        match by_email.remove(p.email.as_str()) {
            None => {
                changes.add.push((crypto::random_id()?, p.clone()));
                report.added += 1;
            }
            Some(u) if differs(u, p) => {
                changes.update.push((u.id.clone(), p.clone()));
                report.updated += 1;
            }
            Some(_) => report.unchanged += 1,
        }
    }
    for gone in by_email.into_values().filter(|u| !u.is_disabled()) {
        changes.disable.push(gone.id.clone());
        report.disabled += 1;
    }
    store
        .apply_directory_changes(&changes, LDAP_SOURCE, now)
        .await?;
    Ok((report, started.elapsed().as_secs_f64()))
}

fn differs(u: &crate::store::User, p: &Identity) -> bool {
    u.is_disabled()
        || u.name != p.name
        || u.unit != p.unit
        || u.title != p.title
        || u.employee_code != p.employee_code
        || (u.phone.is_none() && p.phone.is_some())
}
