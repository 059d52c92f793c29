//! `idp directory sync`: people and their units from the directory into SQL.
//! New people are added, changed ones updated, people who left are disabled
//! (never deleted: their history and links stay), all in one transaction.
//! Only rows that differ are written, so a re-run changes nothing.
//!
//! Refused, and audited as `directory.refused` (the admin fixes the
//! directory): an address claimed by several entries (none of them is
//! imported: the first one read is not more right than the others), an
//! entry with several addresses or one outside the domain, and an address
//! that is a local account here (never converted).
//!
//! Incremental: after a first full read, only entries whose `modifyTimestamp`
//! is at or after the last one seen (less a margin for clocks and entries
//! changed while the last read ran) are read in full; who is still there comes
//! from a cheap listing of addresses and units. A full read happens with
//! `--full`, when there is no mark yet, and once a day.

use std::collections::HashMap;
use std::time::Instant;

use connectors::{DirectoryError, Identity, LdapDirectory};

use crate::audit::{self, Event, Kind};
use crate::crypto::{self, CryptoError};
use crate::kinds::UserSource;
use crate::store::{DirectoryChanges, Store, StoreError};

/// A full read at least this often, whatever the marks say.
const FULL_EVERY_SECS: i64 = 24 * 3600;
/// Entries changed this long before the mark are read again.
const MARGIN_SECS: i64 = 300;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Everyone read in full (not only who changed).
    pub full: bool,
    /// People in the directory now.
    pub listed: usize,
    /// People read in full (everyone, or who changed).
    pub read: usize,
    pub added: usize,
    pub updated: usize,
    /// People who left the directory, disabled here.
    pub disabled: usize,
    pub unchanged: usize,
    /// Distinct units among the people read.
    pub units: usize,
    /// Entries and addresses refused (audited one by one).
    pub refused: usize,
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
    full: bool,
    now: i64,
    progress: impl FnMut(usize),
) -> Result<(Report, f64), SyncError> {
    let started = Instant::now();
    let state = store.directory_state(UserSource::Directory).await?;
    let since = match &state {
        Some((Some(mark), full_at)) if !full && now - full_at < FULL_EVERY_SECS => {
            before(mark, MARGIN_SECS)
        }
        _ => None,
    };
    let read = ldap.people(since.as_deref(), progress).await?;
    let (people, latest) = (read.people, read.latest);
    let roster: Vec<(String, Option<String>)> = match since {
        Some(_) => ldap.roster().await?,
        None => people
            .iter()
            .map(|p| (p.email.clone(), p.unit.clone()))
            .collect(),
    };
    let known = store.directory_people(UserSource::Directory).await?;
    let locals = store.local_emails().await?;
    if roster.is_empty() && !known.is_empty() {
        return Err(SyncError::Empty(known.len()));
    }
    let by_email: HashMap<&str, &crate::store::User> =
        known.iter().map(|u| (u.email.as_str(), u)).collect();
    let mut changes = DirectoryChanges {
        full: since.is_none(),
        mark: latest.or_else(|| state.and_then(|(m, _)| m)),
        ..DirectoryChanges::default()
    };
    let mut report = Report {
        full: since.is_none(),
        read: people.len(),
        ..Report::default()
    };
    let mut units: HashMap<&str, i64> = HashMap::new();
    let mut present = std::collections::HashSet::new();
    for (email, unit) in &roster {
        // One mailbox listed twice counts once.
        if present.insert(email.as_str())
            && let Some(u) = unit
        {
            *units.entry(u.as_str()).or_default() += 1;
        }
    }
    report.listed = present.len();
    report.units = units.len();
    changes.units = units.into_iter().map(|(u, n)| (u.to_owned(), n)).collect();
    let mut claims: HashMap<&str, usize> = HashMap::new();
    for (email, _) in &roster {
        *claims.entry(email.as_str()).or_default() += 1;
    }
    let mut refused: Vec<(String, String)> = read
        .unfit
        .iter()
        .map(|(dn, why)| (dn.clone(), format!("directory entry {dn}: {why}")))
        .collect();
    let mut seen = std::collections::HashSet::new();
    for p in &people {
        if !seen.insert(p.email.as_str()) {
            continue;
        }
        let n = claims.get(p.email.as_str()).copied().unwrap_or(1);
        if n > 1 {
            refused.push((
                p.email.clone(),
                format!("{n} directory entries claim this address; none is imported"),
            ));
            continue;
        }
        // People with a local account keep it.
        if locals.contains(&p.email) {
            refused.push((
                p.email.clone(),
                "a directory entry claims this local account; not converted".into(),
            ));
            continue;
        }
        match by_email.get(p.email.as_str()) {
            None => {
                changes.add.push((crypto::random_id()?.into(), p.clone()));
                report.added += 1;
            }
            Some(u) if differs(u, p) => {
                changes.update.push((u.id.clone(), p.clone()));
                report.updated += 1;
            }
            Some(_) => {}
        }
    }
    let updated: std::collections::HashSet<&str> =
        changes.update.iter().map(|(id, _)| id.as_str()).collect();
    for u in by_email.values() {
        if !present.contains(u.email.as_str()) {
            if !u.is_disabled() {
                changes.disable.push(u.id.clone());
                report.disabled += 1;
            }
        } else if !u.is_disabled() && !updated.contains(u.id.as_str()) {
            report.unchanged += 1;
        }
    }
    store
        .apply_directory_changes(&changes, UserSource::Directory, now)
        .await?;
    report.refused = refused.len();
    for (subject, detail) in refused {
        tracing::warn!(%subject, %detail, "directory sync refused an entry");
        let event = Event::new(Kind::DirectorySyncRefused, now)
            .subject(subject)
            .detail(detail);
        audit::record(store, event).await?;
    }
    Ok((report, started.elapsed().as_secs_f64()))
}

/// The generalized time `secs` before `mark` (`20261122083000Z`), or `None`
/// when it cannot be read (then everyone is read).
fn before(mark: &str, secs: i64) -> Option<String> {
    let d = mark.get(..14)?;
    if !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| d[r].parse::<u8>().ok();
    let year: i32 = d[..4].parse().ok()?;
    let date =
        time::Date::from_calendar_date(year, time::Month::try_from(n(4..6)?).ok()?, n(6..8)?)
            .ok()?;
    let t = time::Time::from_hms(n(8..10)?, n(10..12)?, n(12..14)?).ok()?;
    let at = time::PrimitiveDateTime::new(date, t) - time::Duration::seconds(secs);
    Some(format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    ))
}

fn differs(u: &crate::store::User, p: &Identity) -> bool {
    u.is_disabled()
        || u.name != p.name
        || u.unit != p.unit
        || u.title != p.title
        || u.employee_code != p.employee_code
        || (u.phone.is_none() && p.phone.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_step_back_across_days_and_years() {
        assert_eq!(
            before("20261122083000Z", 300).as_deref(),
            Some("20261122082500Z")
        );
        assert_eq!(
            before("20270101000100Z", 300).as_deref(),
            Some("20261231235600Z")
        );
        assert_eq!(
            before("20261122083000.123Z", 0).as_deref(),
            Some("20261122083000Z")
        );
        assert_eq!(before("garbage", 300), None);
    }
}
