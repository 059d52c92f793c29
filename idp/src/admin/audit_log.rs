//! The audit log as the console and the admin API read it: filtered by
//! kind, actor, subject and time, newest first, paged by row id; and the
//! same selection as CSV for a spreadsheet. Super administrators and
//! auditors read every event; a unit administrator reads the events about
//! the people of their unit (their e-mail or id as subject) and nothing
//! else. CSV cells that a spreadsheet would run as a formula (`=`, `+`, `-`,
//! `@`, tab, carriage return) get a leading `'`, and an export stops at
//! [`CSV_MAX_ROWS`] so a year of events cannot exhaust memory.

use super::roles::Powers;
use crate::store::{AuditQuery, AuditRow, Store, StoreError};

/// Rows of one CSV export at most (the last line then says it was cut).
pub const CSV_MAX_ROWS: i64 = 50_000;
/// Rows read per query while exporting.
const CSV_BATCH: i64 = 1000;
/// Characters kept of each typed filter.
const MAX_FILTER_CHARS: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum AuditLogError {
    #[error("not allowed to read the audit log")]
    Forbidden,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The filters as typed (form or query string).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
pub struct Filter {
    pub kind: Option<String>,
    pub actor: Option<String>,
    pub subject: Option<String>,
    /// `YYYY-MM-DD`, from the start of that day (Vietnam time).
    pub from: Option<String>,
    /// `YYYY-MM-DD`, to the end of that day (Vietnam time).
    pub to: Option<String>,
    /// Keyset paging: events older than this row id.
    pub before: Option<i64>,
}

fn clean(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.chars().take(MAX_FILTER_CHARS).collect())
}

/// Midnight of a `YYYY-MM-DD` day in Vietnam (UTC+7), as Unix seconds.
pub fn day_start(day: &str) -> Option<i64> {
    let mut it = day.trim().splitn(3, '-');
    let y: i32 = it.next()?.parse().ok()?;
    let m: u8 = it.next()?.parse().ok()?;
    let d: u8 = it.next()?.parse().ok()?;
    let month = time::Month::try_from(m).ok()?;
    let date = time::Date::from_calendar_date(y, month, d).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp() - 7 * 3600)
}

impl Filter {
    fn query(&self, by: &Powers, limit: i64) -> AuditQuery {
        AuditQuery {
            kind: clean(&self.kind),
            actor: clean(&self.actor),
            subject: clean(&self.subject),
            from: self.from.as_deref().and_then(day_start),
            until: self.to.as_deref().and_then(day_start).map(|t| t + 86_400),
            unit: by.audit_scope().map(str::to_owned),
            before: self.before,
            limit,
        }
    }
}

/// A page of events and the id to ask for the next one with.
#[derive(Debug)]
pub struct Page {
    pub rows: Vec<AuditRow>,
    pub next: Option<i64>,
}

pub async fn list(
    store: &Store,
    by: &Powers,
    f: &Filter,
    limit: i64,
) -> Result<Page, AuditLogError> {
    if !by.may_read_audit() {
        return Err(AuditLogError::Forbidden);
    }
    let limit = limit.clamp(1, 500);
    let mut rows = store.audit_events(&f.query(by, limit + 1)).await?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        rows.last().map(|r| r.id)
    } else {
        None
    };
    Ok(Page { rows, next })
}

/// The selected events as CSV (UTF-8 with a BOM, so spreadsheets read the
/// diacritics), newest first, at most [`CSV_MAX_ROWS`].
pub async fn csv(store: &Store, by: &Powers, f: &Filter) -> Result<String, AuditLogError> {
    if !by.may_read_audit() {
        return Err(AuditLogError::Forbidden);
    }
    let mut out =
        String::from("\u{feff}time_utc,kind,actor,subject,client_id,ip,request_id,detail\r\n");
    let mut q = f.query(by, CSV_BATCH);
    let mut written = 0i64;
    loop {
        let rows = store.audit_events(&q).await?;
        for r in &rows {
            if written == CSV_MAX_ROWS {
                out.push_str(&format!(
                    "# cut at {CSV_MAX_ROWS} rows: narrow the filter\r\n"
                ));
                return Ok(out);
            }
            let e = &r.event;
            let at = time::OffsetDateTime::from_unix_timestamp(e.at)
                .map(|t| t.to_string())
                .unwrap_or_default();
            let fields = [
                at.as_str(),
                e.kind.as_str(),
                e.actor.as_deref().unwrap_or(""),
                e.subject.as_deref().unwrap_or(""),
                e.client_id.as_deref().unwrap_or(""),
                e.ip.as_deref().unwrap_or(""),
                e.request_id.as_deref().unwrap_or(""),
                e.detail.as_deref().unwrap_or(""),
            ];
            let line: Vec<String> = fields.iter().map(|v| super::csv_cell(v)).collect();
            out.push_str(&line.join(","));
            out.push_str("\r\n");
            written += 1;
        }
        match rows.last() {
            Some(last) if rows.len() as i64 == CSV_BATCH => q.before = Some(last.id),
            _ => return Ok(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_cells_quoted() {
        let cell = crate::admin::csv_cell;
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        // A `;` list separator cannot split a formula out of a cell.
        assert_eq!(cell("Nguyễn;=cmd"), "\"Nguyễn;=cmd\"");
        assert_eq!(cell("+84888778078"), "'+84888778078");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("\tx"), "'\tx");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("tamtt@binhphuoc.gov.vn"), "tamtt@binhphuoc.gov.vn");
    }

    #[test]
    fn days_are_vietnam_days() {
        // 2026-11-01 00:00 in Vietnam is 2026-10-31 17:00 UTC.
        assert_eq!(
            day_start("2026-11-01"),
            Some(crate::testing::START - 7 * 3600)
        );
        assert_eq!(day_start("2026-13-01"), None);
        assert_eq!(day_start("x"), None);
    }
}
