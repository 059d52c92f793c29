//! JSON sources, from a file or a user API: a path per field
//! (`data[].tenDangNhap`, `[].account`, `account`, `data[].lienHe.email`),
//! and over HTTP paging by `?page=N&size=S` or by a next-page link, stopping
//! at an empty page, within `max_pages` and `max_bytes` for all pages
//! together.

use std::collections::HashSet;

use reqwest::Url;
use serde_json::Value;

use super::ConnectorError;
use super::fetch::{Http, shown, too_big};
use super::records::{Collector, RawAccount};
use super::settings::{FieldNames, Paging, SourceSettings};

/// Where the accounts and their fields are in a document.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct JsonLayout {
    /// The keys from the document to the array of accounts (none: the
    /// document is the array).
    records: Vec<String>,
    username: Vec<String>,
    display_name: Option<Vec<String>>,
    email: Option<Vec<String>>,
    phone: Option<Vec<String>>,
    unit: Option<Vec<String>>,
    status: Option<Vec<String>>,
}

impl JsonLayout {
    /// Reads the field paths; they must agree on where the array is.
    pub fn new(fields: &FieldNames) -> Result<JsonLayout, ConnectorError> {
        let mut records: Option<Vec<String>> = None;
        let mut path = |name: &str, setting: &str| -> Result<Option<Vec<String>>, ConnectorError> {
            let bad = |why: &str| {
                ConnectorError::Malformed(format!("settings: `fields.{setting}` {name:?} {why}"))
            };
            let name = name.trim();
            if name.is_empty() {
                return Ok(None);
            }
            let (array, field) = match name.split_once("[]") {
                Some((array, field)) => {
                    let field = field.strip_prefix('.').unwrap_or(field);
                    (Some(keys(array)), field)
                }
                None => (None, name),
            };
            if field.contains("[]") {
                return Err(bad("has more than one []"));
            }
            let field = keys(field);
            if field.is_empty() {
                return Err(bad("names no field after the array"));
            }
            if let Some(array) = array {
                match &records {
                    Some(seen) if *seen != array => {
                        return Err(bad("names another array than the other fields"));
                    }
                    _ => records = Some(array),
                }
            }
            Ok(Some(field))
        };
        let username = path(&fields.username, "username")?.ok_or_else(|| {
            ConnectorError::Malformed("settings: `fields.username` is empty".into())
        })?;
        let display_name = path(&fields.display_name, "display_name")?;
        let email = path(&fields.email, "email")?;
        let phone = path(&fields.phone, "phone")?;
        let unit = path(&fields.unit, "unit")?;
        let status = path(&fields.status, "status")?;
        Ok(JsonLayout {
            records: records.unwrap_or_default(),
            username,
            display_name,
            email,
            phone,
            unit,
            status,
        })
    }
}

fn keys(dotted: &str) -> Vec<String> {
    dotted
        .split('.')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Reads one document's accounts into `accounts`; `page` names it in errors.
/// Returns the document (for its next link) and how many accounts it held.
pub(crate) fn read_document(
    bytes: &[u8],
    layout: &JsonLayout,
    page: &str,
    accounts: &mut Collector<'_>,
) -> Result<(Value, usize), ConnectorError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let doc: Value = serde_json::from_slice(bytes)
        .map_err(|e| ConnectorError::Malformed(format!("{page}: not JSON: {e}")))?;
    let array = at_path(&doc, &layout.records)
        .and_then(Value::as_array)
        .ok_or_else(|| {
            ConnectorError::Malformed(format!(
                "{page}: no array at `{}`",
                if layout.records.is_empty() {
                    "the top".to_owned()
                } else {
                    layout.records.join(".")
                }
            ))
        })?;
    for (i, record) in array.iter().enumerate() {
        let at = format!("{page}, record {}", i + 1);
        let field = |path: &Option<Vec<String>>, name: &str| match path {
            None => Ok(None),
            Some(path) => text(record, path, &at, name),
        };
        let username = text(record, &layout.username, &at, "username")?;
        let display_name = field(&layout.display_name, "display name")?;
        let email = field(&layout.email, "e-mail")?;
        let phone = field(&layout.phone, "phone")?;
        let unit = field(&layout.unit, "unit")?;
        let status = field(&layout.status, "status")?;
        accounts.push(
            &at,
            RawAccount {
                username: username.as_deref(),
                display_name: display_name.as_deref(),
                email: email.as_deref(),
                phone: phone.as_deref(),
                unit: unit.as_deref(),
                status: status.as_deref(),
            },
        )?;
    }
    let count = array.len();
    Ok((doc, count))
}

fn at_path<'v>(value: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, key| v.get(key))
}

/// A field's text: strings as they are, numbers (a phone written as a
/// number) and booleans (a status) as text, absent or null as `None`.
fn text(
    record: &Value,
    path: &[String],
    at: &str,
    name: &str,
) -> Result<Option<String>, ConnectorError> {
    match at_path(record, path) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::Bool(b)) => Ok(Some(b.to_string())),
        Some(_) => Err(ConnectorError::Malformed(format!(
            "{at}: the {name} (`{}`) is not a text",
            path.join(".")
        ))),
    }
}

/// Every page of a user API, as `settings.paging` says.
pub(crate) async fn read_pages(
    url: &Url,
    settings: &SourceSettings,
    layout: &JsonLayout,
    accounts: &mut Collector<'_>,
) -> Result<(), ConnectorError> {
    let http = Http::new(settings)?;
    let mut budget = settings.max_bytes;
    let mut next = Some(url.clone());
    let mut visited = HashSet::new();
    for n in 0..settings.max_pages {
        let Some(page_url) = next.take() else {
            return Ok(());
        };
        let page_url = match &settings.paging {
            Paging::Page {
                page_param,
                size_param,
                size,
                first,
            } => with_page(url, page_param, size_param, first.saturating_add(n), *size),
            _ => page_url,
        };
        if !visited.insert(page_url.clone()) {
            return Err(ConnectorError::Malformed(format!(
                "{}: the next-page link leads back to a page already read",
                shown(&page_url)
            )));
        }
        let body = http.get(&page_url, budget, settings.max_bytes).await?;
        budget = budget.saturating_sub(body.len() as u64);
        let name = format!("page {}", n + 1);
        let (doc, count) = read_document(&body, layout, &name, accounts)?;
        tracing::debug!(url = %shown(&page_url), page = n + 1, count, "legacy accounts page read");
        if count == 0 {
            return Ok(());
        }
        next = match &settings.paging {
            Paging::None => None,
            Paging::Page { .. } => Some(page_url),
            Paging::NextLink { path } => next_link(&doc, path, &page_url)?,
        };
        if next.is_some() && budget == 0 {
            return Err(too_big(&shown(url), settings.max_bytes));
        }
    }
    match next {
        None => Ok(()),
        Some(_) => Err(ConnectorError::Malformed(format!(
            "{}: more than {} pages; raise `max_pages` if it is really that long",
            shown(url),
            settings.max_pages
        ))),
    }
}

/// `url` with its page and size parameters set (any already there replaced).
fn with_page(url: &Url, page_param: &str, size_param: &str, page: u32, size: u32) -> Url {
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != page_param && k != size_param)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut out = url.clone();
    out.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair(page_param, &page.to_string())
        .append_pair(size_param, &size.to_string());
    out
}

/// The next page's address: absolute or relative to this page, and on the
/// same origin (the auth header must not go to another server).
fn next_link(doc: &Value, path: &str, page: &Url) -> Result<Option<Url>, ConnectorError> {
    let link = match at_path(doc, &keys(path)) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => s.trim(),
        Some(_) => {
            return Err(ConnectorError::Malformed(format!(
                "{}: the next-page link `{path}` is not a text",
                shown(page)
            )));
        }
    };
    let next = page.join(link).map_err(|e| {
        ConnectorError::Malformed(format!(
            "{}: the next-page link is not a URL: {e}",
            shown(page)
        ))
    })?;
    if next.origin() != page.origin() {
        return Err(ConnectorError::Malformed(format!(
            "{}: the next-page link leads to another server ({}); refused",
            shown(page),
            shown(&next)
        )));
    }
    Ok(Some(next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::legacy::LegacyAccount;

    fn fields(username: &str, email: &str, status: &str) -> FieldNames {
        FieldNames {
            username: username.into(),
            display_name: String::new(),
            email: email.into(),
            phone: String::new(),
            unit: String::new(),
            status: status.into(),
            active_values: vec!["true".into()],
        }
    }

    fn read(doc: &str, fields: &FieldNames) -> Result<Vec<LegacyAccount>, ConnectorError> {
        let layout = JsonLayout::new(fields)?;
        let mut accounts = Collector::new(&fields.active_values, &|_| {});
        read_document(doc.as_bytes(), &layout, "page 1", &mut accounts)?;
        Ok(accounts.finish())
    }

    #[test]
    fn paths_name_the_array_and_dotted_fields() {
        let f = fields("result.items[].login", "result.items[].contact.email", "");
        let doc = r#"{"result":{"items":[{"login":"tamtt","contact":{"email":"tamtt@binhphuoc.gov.vn"}}]}}"#;
        let accounts = read(doc, &f).unwrap();
        assert_eq!(accounts[0].email.as_deref(), Some("tamtt@binhphuoc.gov.vn"));
        // A field without [] sits in the array the other fields name.
        let f = fields("result.items[].login", "contact.email", "");
        assert_eq!(read(doc, &f).unwrap(), accounts);
    }

    #[test]
    fn a_document_that_is_the_array_needs_no_prefix() {
        for username in ["account", "[].account"] {
            let f = fields(username, "", "active");
            let accounts = read(
                r#"[{"account":"a","active":true},{"account":"b","active":false}]"#,
                &f,
            )
            .unwrap();
            assert_eq!(
                accounts.iter().map(|a| a.active).collect::<Vec<_>>(),
                [true, false]
            );
        }
    }

    #[test]
    fn numbers_become_text_and_nulls_absent() {
        let mut f = fields("u", "e", "");
        f.phone = "p".into();
        let accounts = read(r#"[{"u":"a","e":null,"p":888778078}]"#, &f).unwrap();
        assert_eq!(accounts[0].phone.as_deref(), Some("888778078"));
        assert_eq!(accounts[0].email, None);
        let e = read(r#"[{"u":"a","e":{"x":1}}]"#, &f)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("page 1, record 1: the e-mail (`e`) is not a text"),
            "{e}"
        );
    }

    #[test]
    fn paths_that_disagree_or_nest_arrays_are_refused() {
        let e = JsonLayout::new(&fields("data[].u", "items[].e", "")).unwrap_err();
        assert!(e.to_string().contains("`fields.email`"), "{e}");
        let e = JsonLayout::new(&fields("data[].roles[].u", "", "")).unwrap_err();
        assert!(e.to_string().contains("more than one []"), "{e}");
        let e = JsonLayout::new(&fields("data[]", "", "")).unwrap_err();
        assert!(e.to_string().contains("no field"), "{e}");
    }

    #[test]
    fn a_bad_document_says_what_is_wrong() {
        let f = fields("data[].u", "", "");
        let e = read("{\"data\": [", &f).unwrap_err().to_string();
        assert!(e.contains("page 1: not JSON"), "{e}");
        let e = read(r#"{"data": {"u": "a"}}"#, &f).unwrap_err().to_string();
        assert!(e.contains("no array at `data`"), "{e}");
        let e = read(r#"{"data": [{"u": "a"}, {"name": "b"}]}"#, &f)
            .unwrap_err()
            .to_string();
        assert!(e.contains("page 1, record 2: no username"), "{e}");
        let e = read(r#"{"data": [{"u": "a"}, {"u": "a "}]}"#, &f)
            .unwrap_err()
            .to_string();
        assert!(e.contains("record 2: duplicate username \"a\""), "{e}");
        assert_eq!(read("\u{feff}{\"data\": []}", &f).unwrap(), []);
    }

    #[test]
    fn page_parameters_replace_any_already_in_the_url() {
        let url = Url::parse("http://127.0.0.1:1/users?token=x&page=9").unwrap();
        let page = with_page(&url, "page", "size", 3, 100);
        assert_eq!(page.query(), Some("token=x&page=3&size=100"));
    }

    #[test]
    fn next_links_resolve_and_stay_on_the_origin() {
        let page = Url::parse("http://127.0.0.1:9/api/users?page=1").unwrap();
        let doc: Value = serde_json::json!({"links": {"next": "/api/users?page=2"}});
        let next = next_link(&doc, "links.next", &page).unwrap().unwrap();
        assert_eq!(next.as_str(), "http://127.0.0.1:9/api/users?page=2");
        for end in [
            serde_json::json!({}),
            serde_json::json!({"links": {"next": null}}),
            serde_json::json!({"links": {"next": " "}}),
        ] {
            assert_eq!(next_link(&end, "links.next", &page).unwrap(), None);
        }
        let away = serde_json::json!({"links": {"next": "http://127.0.0.2:9/api/users?page=2"}});
        let e = next_link(&away, "links.next", &page)
            .unwrap_err()
            .to_string();
        assert!(e.contains("another server"), "{e}");
    }
}
