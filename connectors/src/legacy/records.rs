//! The rules every source shares once it has found an account's fields:
//! values trimmed and capped, empty values absent, a username on every row
//! and once per source, the status read against the active values, and
//! progress every few hundred accounts.

use std::collections::HashMap;

use super::{ConnectorError, LegacyAccount};

/// The longest value of any field, in bytes: far above any real name, but a
/// bound on what one row can hold.
pub(crate) const MAX_VALUE_BYTES: usize = 1024;

/// How often the progress callback hears from a long read.
pub(crate) const PROGRESS_EVERY: usize = 250;

/// One account's fields as found, before cleaning.
#[derive(Default)]
pub(crate) struct RawAccount<'a> {
    pub username: Option<&'a str>,
    pub display_name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub unit: Option<&'a str>,
    pub status: Option<&'a str>,
}

/// Collects the accounts of one source.
pub(crate) struct Collector<'p> {
    accounts: Vec<LegacyAccount>,
    /// Each username and where it was first seen, for the duplicate error.
    seen: HashMap<String, String>,
    active_values: Vec<String>,
    progress: &'p (dyn Fn(usize) + Sync),
}

impl<'p> Collector<'p> {
    /// `active_values`: the status values of an active account (any case).
    pub fn new(active_values: &[String], progress: &'p (dyn Fn(usize) + Sync)) -> Self {
        Collector {
            accounts: Vec::new(),
            seen: HashMap::new(),
            active_values: active_values
                .iter()
                .map(|v| v.trim().to_lowercase())
                .collect(),
            progress,
        }
    }

    /// Adds one account; `at` says where it is ("line 12", "record 3 of
    /// page 2") for the errors.
    pub fn push(&mut self, at: &str, raw: RawAccount<'_>) -> Result<(), ConnectorError> {
        let username = clean(at, "username", raw.username)?
            .ok_or_else(|| ConnectorError::Malformed(format!("{at}: no username")))?;
        if let Some(first) = self.seen.get(&username) {
            return Err(ConnectorError::Malformed(format!(
                "{at}: duplicate username {username:?} (first at {first})"
            )));
        }
        let status = clean(at, "status", raw.status)?;
        let active = status.is_none_or(|s| self.active_values.contains(&s.to_lowercase()));
        let account = LegacyAccount {
            display_name: clean(at, "display name", raw.display_name)?.unwrap_or_default(),
            email: clean(at, "e-mail", raw.email)?,
            phone: clean(at, "phone", raw.phone)?,
            unit: clean(at, "unit", raw.unit)?,
            active,
            username,
        };
        self.seen.insert(account.username.clone(), at.to_owned());
        self.accounts.push(account);
        if self.accounts.len().is_multiple_of(PROGRESS_EVERY) {
            (self.progress)(self.accounts.len());
        }
        Ok(())
    }

    pub fn finish(self) -> Vec<LegacyAccount> {
        (self.progress)(self.accounts.len());
        self.accounts
    }
}

/// Trimmed, `None` when empty, refused when longer than [`MAX_VALUE_BYTES`].
fn clean(at: &str, field: &str, value: Option<&str>) -> Result<Option<String>, ConnectorError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.len() > MAX_VALUE_BYTES {
        return Err(ConnectorError::Malformed(format!(
            "{at}: the {field} is longer than {MAX_VALUE_BYTES} bytes"
        )));
    }
    Ok(Some(value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn raw(username: &str) -> RawAccount<'_> {
        RawAccount {
            username: Some(username),
            ..RawAccount::default()
        }
    }

    #[test]
    fn values_are_trimmed_and_empty_ones_absent() {
        let mut c = Collector::new(&["hoat_dong".into()], &|_| {});
        c.push(
            "line 2",
            RawAccount {
                username: Some("  tamtt "),
                display_name: Some(" Trương Thanh Tâm "),
                email: Some("   "),
                phone: Some(""),
                unit: None,
                status: Some(" HOAT_DONG "),
            },
        )
        .unwrap();
        let a = &c.finish()[0];
        assert_eq!(a.username, "tamtt");
        assert_eq!(a.display_name, "Trương Thanh Tâm");
        assert_eq!((&a.email, &a.phone, &a.unit), (&None, &None, &None));
        assert!(a.active);
    }

    #[test]
    fn the_status_decides_active() {
        let mut c = Collector::new(&["hoat_dong".into()], &|_| {});
        for (name, status) in [("a", Some("khoa")), ("b", Some("")), ("c", None)] {
            let mut r = raw(name);
            r.status = status;
            c.push(name, r).unwrap();
        }
        let active: Vec<bool> = c.finish().iter().map(|a| a.active).collect();
        assert_eq!(active, [false, true, true]);
    }

    #[test]
    fn a_row_without_username_or_a_second_one_is_named() {
        let mut c = Collector::new(&[], &|_| {});
        let e = c.push("line 7", raw("  ")).unwrap_err().to_string();
        assert!(e.contains("line 7: no username"), "{e}");
        c.push("line 8", raw("tamtt")).unwrap();
        let e = c.push("line 9", raw("tamtt")).unwrap_err().to_string();
        assert!(
            e.contains("line 9") && e.contains("\"tamtt\"") && e.contains("line 8"),
            "{e}"
        );
    }

    #[test]
    fn a_huge_value_is_refused() {
        let mut c = Collector::new(&[], &|_| {});
        let long = "x".repeat(MAX_VALUE_BYTES + 1);
        let mut r = raw("a");
        r.unit = Some(&long);
        let e = c.push("line 3", r).unwrap_err().to_string();
        assert!(e.contains("line 3: the unit is longer"), "{e}");
    }

    #[test]
    fn progress_is_told_every_few_hundred_and_at_the_end() {
        let seen = Mutex::new(Vec::new());
        let progress = |n| seen.lock().unwrap().push(n);
        let mut c = Collector::new(&[], &progress);
        for i in 0..600 {
            c.push("x", raw(&i.to_string())).unwrap();
        }
        assert_eq!(c.finish().len(), 600);
        assert_eq!(*seen.lock().unwrap(), [250, 500, 600]);
    }
}
