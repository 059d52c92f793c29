//! How a source is read: what a generic CSV or JSON source calls its fields,
//! how its text is encoded, and how a user API is reached (auth header,
//! timeouts, paging, caps). The four apps bring their own field names and
//! read only the HTTP part and the byte cap.

use secrecy::SecretString;
use serde::Deserialize;

/// The largest file or download (all pages together) a source reads by
/// default: 64 MiB, some hundred thousand accounts.
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;

/// How a source is read. Every field has a default, so an app's own format
/// over a plain file needs an empty table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourceSettings {
    /// `csv` only: the field separator, one ASCII character. Default `,`.
    pub delimiter: String,
    /// `csv` only: the text encoding when the file has no byte-order mark
    /// (`utf-8`, `utf-16le`, `utf-16be`, `windows-1258`). A byte-order mark
    /// always wins. Default `utf-8`.
    pub encoding: TextEncoding,
    /// `csv` and `json` only: where each field is.
    pub fields: FieldNames,
    /// The largest file, or download with all its pages together, in bytes;
    /// anything bigger is refused. Default 64 MiB.
    pub max_bytes: u64,
    /// HTTP: the value of the auth header, e.g. `Bearer …` (never logged).
    pub auth_header: Option<SecretString>,
    /// HTTP: the auth header's name. Default `Authorization`.
    pub auth_header_name: String,
    /// HTTP: how long to wait for a connection, in seconds. Default 10.
    pub connect_timeout_secs: u64,
    /// HTTP: how long the server may stay silent while answering, in
    /// seconds. Default 30.
    pub read_timeout_secs: u64,
    /// HTTP: the longest one request (one page) may take, in seconds.
    /// Default 300.
    pub request_timeout_secs: u64,
    /// HTTP, JSON sources (the app formats `onewin` and `ecabinet` too): how
    /// the accounts are paged. Default: one document.
    pub paging: Paging,
    /// HTTP: the most pages read before giving up. Default 10000.
    pub max_pages: u32,
}

impl Default for SourceSettings {
    fn default() -> Self {
        SourceSettings {
            delimiter: ",".to_owned(),
            encoding: TextEncoding::Utf8,
            fields: FieldNames::default(),
            max_bytes: DEFAULT_MAX_BYTES,
            auth_header: None,
            auth_header_name: "Authorization".to_owned(),
            connect_timeout_secs: 10,
            read_timeout_secs: 30,
            request_timeout_secs: 300,
            paging: Paging::None,
            max_pages: 10_000,
        }
    }
}

/// The text encoding of a CSV export without a byte-order mark.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum TextEncoding {
    #[default]
    #[serde(rename = "utf-8")]
    Utf8,
    #[serde(rename = "utf-16le")]
    Utf16Le,
    #[serde(rename = "utf-16be")]
    Utf16Be,
    /// The Vietnamese Windows code page of older Excel exports.
    #[serde(rename = "windows-1258")]
    Windows1258,
}

impl TextEncoding {
    pub(crate) fn encoding(self) -> &'static encoding_rs::Encoding {
        match self {
            TextEncoding::Utf8 => encoding_rs::UTF_8,
            TextEncoding::Utf16Le => encoding_rs::UTF_16LE,
            TextEncoding::Utf16Be => encoding_rs::UTF_16BE,
            TextEncoding::Windows1258 => encoding_rs::WINDOWS_1258,
        }
    }
}

/// Where each field of an account is: a CSV header name (compared without
/// case), or a JSON path such as `data[].tenDangNhap` (the accounts are the
/// array `data`; each one's `tenDangNhap`), `[].account` or plain `account`
/// (the document is the array), or `data[].lienHe.email` (dotted into an
/// object). An empty name means the source has no such field.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FieldNames {
    /// The login name; required. Default `username`.
    pub username: String,
    /// Default `display_name`.
    pub display_name: String,
    /// Default `email`.
    pub email: String,
    /// Default `phone`.
    pub phone: String,
    /// Default `unit`.
    pub unit: String,
    /// The account's status; empty (the default) means every account is
    /// active.
    pub status: String,
    /// The status values of an active account, compared without case after
    /// trimming; an empty status is active too, any other value inactive.
    /// Default `["1", "true", "active", "hoat_dong"]`.
    pub active_values: Vec<String>,
}

impl Default for FieldNames {
    fn default() -> Self {
        FieldNames {
            username: "username".to_owned(),
            display_name: "display_name".to_owned(),
            email: "email".to_owned(),
            phone: "phone".to_owned(),
            unit: "unit".to_owned(),
            status: String::new(),
            active_values: ["1", "true", "active", "hoat_dong"]
                .map(str::to_owned)
                .to_vec(),
        }
    }
}

/// How a JSON user API pages its accounts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Paging {
    /// One document holds every account.
    #[default]
    None,
    /// `?page=N&size=S` (the names are configurable), from `first` on,
    /// until a page holds no account.
    Page {
        #[serde(default = "default_page_param")]
        page_param: String,
        #[serde(default = "default_size_param")]
        size_param: String,
        #[serde(default = "default_page_size")]
        size: u32,
        #[serde(default = "default_first_page")]
        first: u32,
    },
    /// Each page names the next one at a dotted path (e.g. `links.next`),
    /// absolute or relative to the page, on the same origin; it ends where
    /// the link is missing, null or empty, or a page holds no account.
    NextLink { path: String },
}

fn default_page_param() -> String {
    "page".to_owned()
}
fn default_size_param() -> String {
    "size".to_owned()
}
fn default_page_size() -> u32 {
    100
}
fn default_first_page() -> u32 {
    1
}

/// A setting that cannot work, naming it.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{field}`: {problem}")]
pub struct SettingsError {
    pub field: &'static str,
    pub problem: String,
}

fn bad(field: &'static str, problem: impl Into<String>) -> SettingsError {
    SettingsError {
        field,
        problem: problem.into(),
    }
}

impl SourceSettings {
    /// Checks what the type cannot say; the error names the field.
    pub fn validate(&self) -> Result<(), SettingsError> {
        self.delimiter_byte()?;
        if self.fields.username.trim().is_empty() {
            return Err(bad("fields.username", "must name the login field"));
        }
        if self.max_bytes == 0 {
            return Err(bad("max_bytes", "must be at least 1"));
        }
        for (field, secs) in [
            ("connect_timeout_secs", self.connect_timeout_secs),
            ("read_timeout_secs", self.read_timeout_secs),
            ("request_timeout_secs", self.request_timeout_secs),
        ] {
            if !(1..=3600).contains(&secs) {
                return Err(bad(field, "must be between 1 and 3600 seconds"));
            }
        }
        if self.max_pages == 0 {
            return Err(bad("max_pages", "must be at least 1"));
        }
        if reqwest::header::HeaderName::from_bytes(self.auth_header_name.as_bytes()).is_err() {
            return Err(bad("auth_header_name", "is not a valid HTTP header name"));
        }
        match &self.paging {
            Paging::None => {}
            Paging::Page {
                page_param,
                size_param,
                size,
                ..
            } => {
                if page_param.is_empty() || size_param.is_empty() || page_param == size_param {
                    return Err(bad(
                        "paging.page_param",
                        "page and size parameters must be two different names",
                    ));
                }
                if !(1..=10_000).contains(size) {
                    return Err(bad("paging.size", "must be between 1 and 10000"));
                }
            }
            Paging::NextLink { path } => {
                if path.trim().is_empty() {
                    return Err(bad("paging.path", "must name where the next link is"));
                }
            }
        }
        Ok(())
    }

    /// The CSV separator as the byte the CSV reader wants.
    pub(crate) fn delimiter_byte(&self) -> Result<u8, SettingsError> {
        match self.delimiter.as_bytes() {
            [b] if b.is_ascii() && *b != b'"' && *b != b'\n' && *b != b'\r' => Ok(*b),
            _ => Err(bad(
                "delimiter",
                "must be one ASCII character other than a quote or a line break",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn an_empty_table_is_every_default() {
        let s: SourceSettings = toml::from_str("").unwrap();
        assert_eq!(s.delimiter, ",");
        assert_eq!(s.max_bytes, DEFAULT_MAX_BYTES);
        assert_eq!(s.paging, Paging::None);
        assert_eq!(s.fields.username, "username");
        assert!(s.validate().is_ok());
    }

    #[test]
    fn a_full_table_reads_every_field() {
        let s: SourceSettings = toml::from_str(
            r#"
            delimiter = ";"
            encoding = "windows-1258"
            max_bytes = 1048576
            auth_header = "Bearer bi-mat"
            auth_header_name = "X-Api-Key"
            connect_timeout_secs = 5
            read_timeout_secs = 20
            request_timeout_secs = 60
            max_pages = 50
            paging = { type = "page", size = 200 }
            [fields]
            username = "data[].tenDangNhap"
            display_name = "data[].hoTen"
            email = "data[].lienHe.email"
            phone = ""
            unit = "data[].donVi"
            status = "data[].trangThai"
            active_values = ["hoat_dong"]
            "#,
        )
        .unwrap();
        assert_eq!(s.encoding, TextEncoding::Windows1258);
        assert_eq!(
            s.auth_header.as_ref().unwrap().expose_secret(),
            "Bearer bi-mat"
        );
        assert!(
            !format!("{s:?}").contains("bi-mat"),
            "the secret is redacted"
        );
        assert_eq!(
            s.paging,
            Paging::Page {
                page_param: "page".into(),
                size_param: "size".into(),
                size: 200,
                first: 1
            }
        );
        assert_eq!(s.fields.active_values, vec!["hoat_dong".to_owned()]);
        assert!(s.validate().is_ok());
        let s: SourceSettings =
            toml::from_str(r#"paging = { type = "next_link", path = "links.next" }"#).unwrap();
        assert_eq!(
            s.paging,
            Paging::NextLink {
                path: "links.next".into()
            }
        );
    }

    #[test]
    fn unknown_keys_and_values_are_refused() {
        assert!(toml::from_str::<SourceSettings>("delimeter = \";\"").is_err());
        assert!(toml::from_str::<SourceSettings>("encoding = \"latin1\"").is_err());
        assert!(toml::from_str::<SourceSettings>("paging = { type = \"cursor\" }").is_err());
        assert!(
            toml::from_str::<SourceSettings>("paging = { type = \"page\", sise = 5 }").is_err()
        );
    }

    #[test]
    fn validation_names_the_field() {
        let field = |s: SourceSettings| s.validate().unwrap_err().field;
        for d in ["", ";;", "\"", "\n", "é"] {
            let s = SourceSettings {
                delimiter: d.into(),
                ..SourceSettings::default()
            };
            assert_eq!(field(s), "delimiter", "{d:?}");
        }
        let mut s = SourceSettings::default();
        s.fields.username = " ".into();
        assert_eq!(field(s), "fields.username");
        let s = SourceSettings {
            read_timeout_secs: 0,
            ..SourceSettings::default()
        };
        assert_eq!(field(s), "read_timeout_secs");
        let s = SourceSettings {
            max_bytes: 0,
            ..SourceSettings::default()
        };
        assert_eq!(field(s), "max_bytes");
        let s = SourceSettings {
            auth_header_name: "Bad Header".into(),
            ..SourceSettings::default()
        };
        assert_eq!(field(s), "auth_header_name");
        let s = SourceSettings {
            paging: Paging::Page {
                page_param: "p".into(),
                size_param: "p".into(),
                size: 10,
                first: 0,
            },
            ..SourceSettings::default()
        };
        assert_eq!(field(s), "paging.page_param");
    }
}
