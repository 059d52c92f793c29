//! Links as CSV: the export an administrator opens in a spreadsheet (every
//! cell that a spreadsheet would run as a formula neutralised) and the import
//! of an edited or hand-made file.
//!
//! The import is all or nothing: every row is checked first (unknown e-mail,
//! unknown or inactive account, conflict with a stored link or another row)
//! and nothing is written unless all are valid. A file that half applied
//! would leave the administrator to work out which half; this way the file
//! is fixed and imported again, and rows already linked as they say are
//! simply unchanged.

use std::collections::{HashMap, HashSet};

use super::{LinkError, app_of, in_unit, not_self};
use crate::admin::{Actor, FORMULA_START, audit, csv_cell};
use crate::audit::Kind;
use crate::ids::Email;
use crate::kinds::{Decision, LinkMethod};
use crate::store::{Link, Store};

/// The largest file accepted.
pub const MAX_CSV_BYTES: usize = 8 * 1024 * 1024;
/// The most rows accepted.
pub const MAX_CSV_ROWS: usize = 200_000;
/// The most fields a line may have (the file needs two).
const MAX_FIELDS: usize = 32;

/// The most problems reported at once.
const MAX_PROBLEMS: usize = 50;

/// Undoes the `'` [`csv_cell`] puts before a formula, on a cell read back.
fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_START) => rest,
        _ => cell,
    }
}

fn utc(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .map(|d| {
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                d.year(),
                u8::from(d.month()),
                d.day(),
                d.hour(),
                d.minute(),
                d.second()
            )
        })
        .unwrap_or_default()
}

/// Every account of `app` (of people of `unit` only, when given: then
/// unlinked accounts are left out): username, name, official e-mail, status
/// (`linked`, `pending`, `unlinked`, `inactive`, `inactive-linked`) and how it
/// was linked (method, by, when, UTC).
pub async fn export_csv(store: &Store, app: &str, unit: Option<&str>) -> Result<String, LinkError> {
    app_of(store, app).await?;
    let links: HashMap<String, Link> = store
        .links_of_app(app)
        .await?
        .into_iter()
        .map(|l| (l.username.clone(), l))
        .collect();
    let people: HashMap<_, _> = store
        .active_people()
        .await?
        .into_iter()
        .map(|p| (p.id.clone(), p))
        .collect();
    let pending: HashSet<String> = store
        .suggestions(app, Some(Decision::Pending))
        .await?
        .into_iter()
        .map(|s| s.username)
        .collect();
    // A byte-order mark first, so a spreadsheet reads the diacritics.
    let mut out = String::from(
        "\u{feff}username,display_name,official_email,status,method,linked_by,linked_at\r\n",
    );
    for a in store.legacy_accounts(app).await? {
        let link = links.get(&a.username);
        let owner = link.and_then(|l| people.get(&l.user_id));
        if let Some(u) = unit
            && owner.and_then(|p| p.unit.as_deref()) != Some(u)
        {
            continue;
        }
        let status = match (a.active.0, link.is_some()) {
            (true, true) => "linked",
            (false, true) => "inactive-linked",
            (false, false) => "inactive",
            (true, false) if pending.contains(&a.username) => "pending",
            (true, false) => "unlinked",
        };
        // A link to someone disabled since still shows whose it was.
        let email = match (link, owner) {
            (_, Some(p)) => p.email.to_string(),
            (Some(l), None) => store
                .user_by_id(&l.user_id)
                .await?
                .map(|u| u.email.to_string())
                .unwrap_or_default(),
            (None, None) => String::new(),
        };
        let cells = [
            csv_cell(&a.username),
            csv_cell(&a.display_name),
            csv_cell(&email),
            status.to_owned(),
            link.map(|l| l.method.as_str().to_owned())
                .unwrap_or_default(),
            link.map(|l| csv_cell(&l.linked_by)).unwrap_or_default(),
            link.map(|l| utc(l.linked_at)).unwrap_or_default(),
        ];
        out += &cells.join(",");
        out += "\r\n";
    }
    Ok(out)
}

/// What a CSV import of links did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CsvImportReport {
    pub rows: usize,
    pub linked: usize,
    /// Rows already linked as they say.
    pub unchanged: usize,
    /// Rows without an e-mail (an export's unlinked accounts): skipped.
    pub skipped: usize,
}

/// Imports links of `app` from CSV `bytes` with at least the columns
/// `username` and `official_email` (or `email`); other columns (an export's)
/// are ignored. All rows or none; see the module comment.
pub async fn import_links_csv(
    store: &Store,
    actor: &Actor,
    app: &str,
    bytes: &[u8],
    unit: Option<&str>,
    now: i64,
) -> Result<CsvImportReport, LinkError> {
    app_of(store, app).await?;
    if bytes.len() > MAX_CSV_BYTES {
        return Err(LinkError::BadInput(format!(
            "the file is larger than {} MiB",
            MAX_CSV_BYTES / 1024 / 1024
        )));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|e| LinkError::BadInput(format!("the file is not UTF-8: {e}")))?;
    let records = parse(text.strip_prefix('\u{feff}').unwrap_or(text))?;
    let Some((header, rows)) = records.split_first() else {
        return Err(LinkError::BadInput("the file is empty".into()));
    };
    let col = |names: &[&str]| header.iter().position(|h| names.contains(&h.trim()));
    let (Some(u_col), Some(e_col)) = (col(&["username"]), col(&["official_email", "email"])) else {
        return Err(LinkError::BadInput(
            "the first line must name the columns username and official_email".into(),
        ));
    };
    if rows.len() > MAX_CSV_ROWS {
        return Err(LinkError::BadInput(format!(
            "more than {MAX_CSV_ROWS} rows"
        )));
    }
    let mut report = CsvImportReport {
        rows: rows.len(),
        ..CsvImportReport::default()
    };
    let mut problems = Vec::new();
    let mut planned: Vec<Link> = Vec::new();
    let mut rows_of_account: HashMap<String, usize> = HashMap::new();
    let mut rows_of_person: HashMap<String, usize> = HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        let line = i + 2;
        let cell = |c: usize| restore(row.get(c).map_or("", |s| s.trim()));
        let (username, typed) = (cell(u_col), cell(e_col));
        if typed.is_empty() {
            report.skipped += 1;
            continue;
        }
        let problem = match check_row(store, actor, app, username, typed, unit).await? {
            Err(why) => Some(why),
            Ok(Row::Unchanged) => {
                report.unchanged += 1;
                None
            }
            Ok(Row::Link(user_id, email)) => {
                let first_a = rows_of_account.insert(username.to_owned(), line);
                let first_p = rows_of_person.insert(email.to_string(), line);
                match (first_a, first_p) {
                    (Some(l), _) => Some(format!("account {username} is also on line {l}")),
                    (_, Some(l)) => Some(format!("{email} is also on line {l}")),
                    _ => {
                        planned.push(Link {
                            app_id: app.to_owned(),
                            username: username.to_owned(),
                            user_id,
                            method: LinkMethod::Import,
                            linked_by: actor.0.clone(),
                            linked_at: now,
                        });
                        None
                    }
                }
            }
        };
        if let Some(p) = problem {
            problems.push(format!("line {line}: {p}"));
            if problems.len() >= MAX_PROBLEMS {
                problems.push("…".into());
                break;
            }
        }
    }
    if !problems.is_empty() {
        return Err(LinkError::BadInput(format!(
            "nothing was imported; fix these rows and import again:\n{}",
            problems.join("\n")
        )));
    }
    store.insert_links(app, &planned).await?;
    report.linked = planned.len();
    let detail = format!(
        "before: unlinked; after: {} linked from CSV ({}), {} unchanged, {} skipped",
        report.linked,
        planned
            .iter()
            .map(|l| l.username.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        report.unchanged,
        report.skipped
    );
    audit(store, actor, Kind::LinkAdded, app, Some(detail), now).await?;
    Ok(report)
}

enum Row {
    Link(crate::ids::UserId, Email),
    Unchanged,
}

/// One row against what is stored: the person to link, unchanged, or why not.
async fn check_row(
    store: &Store,
    actor: &Actor,
    app: &str,
    username: &str,
    typed: &str,
    unit: Option<&str>,
) -> Result<Result<Row, String>, LinkError> {
    let Ok(email) = Email::parse(typed) else {
        return Ok(Err(format!("{typed:?} is not an e-mail address")));
    };
    let Some(person) = store.user_by_email(&email).await? else {
        // To a unit administrator nobody and another unit's person look the same.
        return Ok(Err(match unit {
            Some(_) => LinkError::OutsideUnit(email.to_string()).to_string(),
            None => format!("no person with e-mail {email}"),
        }));
    };
    if let Err(e) = in_unit(&person, unit).and_then(|()| not_self(actor, &person)) {
        return Ok(Err(e.to_string()));
    }
    if let Some(l) = store.link(app, username).await?
        && l.user_id == person.id
    {
        return Ok(Ok(Row::Unchanged));
    }
    Ok(
        match super::linkable(store, app, username, &person, unit).await {
            Ok(_) => Ok(Row::Link(person.id, email)),
            Err(LinkError::Store(e)) => return Err(LinkError::Store(e)),
            Err(e) => Err(e.to_string()),
        },
    )
}

/// RFC 4180: fields split by `,`, quoted with `"` (`""` inside), records by
/// CRLF or LF.
fn parse(text: &str) -> Result<Vec<Vec<String>>, LinkError> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => {
                record.push(std::mem::take(&mut field));
                if record.len() >= MAX_FIELDS {
                    return Err(LinkError::BadInput(format!(
                        "line {}: more than {MAX_FIELDS} fields",
                        records.len() + 1
                    )));
                }
            }
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
                // The header and the rows; checked here, before the rest is read.
                if records.len() > MAX_CSV_ROWS + 1 {
                    return Err(LinkError::BadInput(format!(
                        "more than {MAX_CSV_ROWS} rows"
                    )));
                }
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err(LinkError::BadInput("a quoted field is not closed".into()));
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records.retain(|r| !(r.len() == 1 && r[0].trim().is_empty()));
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised_and_restored() {
        for cell in ["=HYPERLINK(1)", "+1", "-2+3", "@SUM(A1)", "\tx"] {
            let n = csv_cell(cell);
            assert!(n.starts_with('\''), "{cell:?} → {n:?}");
            assert_eq!(restore(&n), cell);
        }
        for cell in ["tamtt", "tam-tt", "'quoted", ""] {
            assert_eq!(csv_cell(cell), cell);
            assert_eq!(restore(cell), cell);
        }
        assert_eq!(csv_cell("=1,2"), "\"'=1,2\"");
        assert_eq!(csv_cell("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn a_line_of_endless_commas_is_refused_before_it_is_read_whole() {
        let e = parse(&",".repeat(1_000_000)).unwrap_err();
        assert!(e.to_string().contains("more than 32 fields"), "{e}");
    }

    #[test]
    fn csv_fields_are_read_as_rfc_4180_writes_them() {
        let r = parse("a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\nlast,\n\n").unwrap();
        assert_eq!(
            r,
            vec![
                vec!["a".to_owned(), "b".into()],
                vec!["x, y".into(), "say \"hi\"".into()],
                vec!["last".into(), String::new()],
            ]
        );
        assert!(parse("\"open").is_err());
    }
}
