//! Importing a legacy app's accounts (from `connectors::legacy`): new ones
//! added, changed ones updated, and ones no longer in the source marked
//! inactive, never deleted, their links kept and reported.

use std::collections::{HashMap, HashSet};

use connectors::LegacyAccount;

use super::{LinkError, MAX_FIELD_CHARS, app_of};
use crate::admin::{Actor, audit};
use crate::audit::Kind;
use crate::store::{AccountWrite, Store};

/// The most accounts one import takes.
pub const MAX_ACCOUNTS: usize = 1_000_000;

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub read: usize,
    pub new: usize,
    pub changed: usize,
    pub unchanged: usize,
    /// Accounts no longer in the source, now inactive.
    pub gone: usize,
    /// Of those, the linked ones: (username, owner's e-mail). Their links
    /// stay; an administrator decides.
    pub gone_linked: Vec<(String, String)>,
    /// Usernames that appeared more than once in the source (the first is kept).
    pub duplicates: Vec<String>,
}

/// Writes `app`'s accounts as `accounts` lists them, in one transaction.
pub async fn import_accounts(
    store: &Store,
    actor: &Actor,
    app: &str,
    accounts: &[LegacyAccount],
    now: i64,
) -> Result<ImportReport, LinkError> {
    app_of(store, app).await?;
    if accounts.len() > MAX_ACCOUNTS {
        return Err(LinkError::BadInput(format!(
            "{} accounts: at most {MAX_ACCOUNTS} per import",
            accounts.len()
        )));
    }
    for a in accounts {
        check_account(a)?;
    }
    let stored = store.legacy_accounts(app).await?;
    let before: HashMap<&str, &crate::store::LegacyRow> =
        stored.iter().map(|r| (r.username.as_str(), r)).collect();
    let mut report = ImportReport {
        read: accounts.len(),
        ..ImportReport::default()
    };
    let mut seen = HashSet::with_capacity(accounts.len());
    let mut write = Vec::new();
    for a in accounts {
        if !seen.insert(a.username.as_str()) {
            report.duplicates.push(a.username.clone());
            continue;
        }
        let w = AccountWrite {
            username: &a.username,
            display_name: &a.display_name,
            email: a.email.as_deref(),
            phone: a.phone.as_deref(),
            unit: a.unit.as_deref(),
            active: a.active,
        };
        match before.get(a.username.as_str()) {
            None => report.new += 1,
            Some(r) if same(r, &w) => {
                report.unchanged += 1;
                continue;
            }
            Some(_) => report.changed += 1,
        }
        write.push(w);
    }
    let gone: Vec<String> = stored
        .iter()
        .filter(|r| r.active.0 && !seen.contains(r.username.as_str()))
        .map(|r| r.username.clone())
        .collect();
    report.gone = gone.len();
    if !gone.is_empty() {
        let gone_set: HashSet<&str> = gone.iter().map(String::as_str).collect();
        for l in store.links_of_app(app).await? {
            if gone_set.contains(l.username.as_str()) {
                let owner = store
                    .user_by_id(&l.user_id)
                    .await?
                    .map(|u| u.email.to_string())
                    .unwrap_or_else(|| l.user_id.to_string());
                report.gone_linked.push((l.username, owner));
            }
        }
    }
    store.write_import(app, &write, &gone, now).await?;
    for (username, owner) in &report.gone_linked {
        tracing::warn!(
            app,
            username,
            owner,
            "a linked account is gone from the app's source; the link is kept"
        );
    }
    let detail = format!(
        "read {}, new {}, changed {}, unchanged {}, gone {} (linked: {}), duplicates {}",
        report.read,
        report.new,
        report.changed,
        report.unchanged,
        report.gone,
        report
            .gone_linked
            .iter()
            .map(|(u, o)| format!("{u} of {o}"))
            .collect::<Vec<_>>()
            .join(", "),
        report.duplicates.len()
    );
    audit(
        store,
        actor,
        Kind::LinkAccountsImported,
        app,
        Some(detail),
        now,
    )
    .await?;
    Ok(report)
}

fn same(r: &crate::store::LegacyRow, w: &AccountWrite<'_>) -> bool {
    r.display_name == w.display_name
        && r.email.as_deref() == w.email
        && r.phone.as_deref() == w.phone
        && r.unit.as_deref() == w.unit
        && r.active.0 == w.active
}

/// Lengths capped, no control characters, a username present.
fn check_account(a: &LegacyAccount) -> Result<(), LinkError> {
    let bad = |why: &str| {
        let shown: String = a.username.chars().take(40).collect();
        LinkError::BadInput(format!("account {shown:?}: {why}"))
    };
    if a.username.trim().is_empty() {
        return Err(bad("the username is empty"));
    }
    for v in [Some(&a.username), Some(&a.display_name)]
        .into_iter()
        .chain([&a.email, &a.phone, &a.unit].map(Option::as_ref))
        .flatten()
    {
        if v.chars().count() > MAX_FIELD_CHARS {
            return Err(bad(&format!(
                "a field is longer than {MAX_FIELD_CHARS} characters"
            )));
        }
        if v.chars().any(char::is_control) {
            return Err(bad("a field holds a control character"));
        }
        // Right-to-left overrides and isolates make a name in the console
        // read as something else.
        if v.chars()
            .any(|c| matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
        {
            return Err(bad("a field holds a text-direction control character"));
        }
    }
    Ok(())
}
