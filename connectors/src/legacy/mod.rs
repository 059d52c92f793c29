//! The legacy apps' own accounts (Onewin, VNPT-iOffice, eCabinet, the work
//! calendar, or any app through a configurable CSV or HTTP-JSON source), as
//! read from their exports or user APIs so they can be linked to people.
//!
//! Every source yields the same [`LegacyAccount`]; what each app calls its
//! fields, how its file is encoded and how its API pages live in one file per
//! source.

mod calendar;
mod csv;
mod ecabinet;
mod fetch;
mod http_json;
mod ioffice;
mod onewin;
mod records;
mod settings;

use std::future::Future;

use records::Collector;
pub use settings::{
    DEFAULT_MAX_BYTES, FieldNames, Paging, SettingsError, SourceSettings, TextEncoding,
};

/// One account of a legacy app, as the app describes it. Values are trimmed;
/// empty fields are `None`. Nothing here is normalised for matching: that is
/// `matching`'s job, so an export shows what the app really holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegacyAccount {
    /// The app's login name, unique within the app.
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub unit: Option<String>,
    /// `false` for an account the app marks locked, disabled or deleted.
    pub active: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// The source could not be reached or read (network, file system).
    #[error("cannot read the source: {0}")]
    Unavailable(String),
    /// The content is not what this source's format expects; says where.
    #[error("malformed input: {0}")]
    Malformed(String),
}

/// Lists the accounts of one legacy app.
pub trait AppConnector: Send + Sync {
    /// Every account the app has, active or not. `progress` is called with
    /// the number read so far, for long runs.
    fn list_accounts(
        &self,
        progress: &(dyn Fn(usize) + Sync),
    ) -> impl Future<Output = Result<Vec<LegacyAccount>, ConnectorError>> + Send;
}

/// The shape of a source: one of the four apps' own exports or APIs, or a
/// generic CSV or JSON source described by [`SourceSettings`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Onewin,
    Ioffice,
    Ecabinet,
    Calendar,
    Csv,
    Json,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Onewin => "onewin",
            Format::Ioffice => "ioffice",
            Format::Ecabinet => "ecabinet",
            Format::Calendar => "calendar",
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        [
            Format::Onewin,
            Format::Ioffice,
            Format::Ecabinet,
            Format::Calendar,
            Format::Csv,
            Format::Json,
        ]
        .into_iter()
        .find(|f| f.as_str() == s)
    }
}

/// Where a source is read from: a file, or an http(s) URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    File(std::path::PathBuf),
    Url(String),
}

impl Location {
    /// `http://` or `https://` is a URL; anything else a file path.
    pub fn parse(s: &str) -> Location {
        if s.starts_with("http://") || s.starts_with("https://") {
            Location::Url(s.to_owned())
        } else {
            Location::File(s.into())
        }
    }
}

/// One source of accounts: a format read from a location.
#[derive(Clone, Debug)]
pub struct Source {
    pub format: Format,
    pub location: Location,
    pub settings: SourceSettings,
}

/// Where an app's fields are and how its text is laid out.
pub(crate) enum Layout {
    Csv {
        delimiter: u8,
        encoding: TextEncoding,
        fields: FieldNames,
    },
    Json(FieldNames),
}

impl Layout {
    fn fields(&self) -> &FieldNames {
        match self {
            Layout::Csv { fields, .. } | Layout::Json(fields) => fields,
        }
    }
}

impl Source {
    fn layout(&self) -> Result<Layout, ConnectorError> {
        Ok(match self.format {
            Format::Onewin => onewin::layout(),
            Format::Ioffice => ioffice::layout(),
            Format::Ecabinet => ecabinet::layout(),
            Format::Calendar => calendar::layout(),
            Format::Csv => Layout::Csv {
                delimiter: self.settings.delimiter_byte().map_err(settings_error)?,
                encoding: self.settings.encoding,
                fields: self.settings.fields.clone(),
            },
            Format::Json => Layout::Json(self.settings.fields.clone()),
        })
    }
}

fn settings_error(e: SettingsError) -> ConnectorError {
    ConnectorError::Malformed(format!("settings: {e}"))
}

impl AppConnector for Source {
    /// Reads the whole file or every page (parsing is quick: 50,000 accounts
    /// take well under a second, so it stays on the calling task).
    async fn list_accounts(
        &self,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<Vec<LegacyAccount>, ConnectorError> {
        self.settings.validate().map_err(settings_error)?;
        let layout = self.layout()?;
        let mut accounts = Collector::new(&layout.fields().active_values, progress);
        match (&layout, &self.location) {
            (Layout::Json(fields), Location::Url(url)) => {
                let url = fetch::parse_url(url)?;
                fetch::warn_plain_http(&url, &self.settings);
                let json = http_json::JsonLayout::new(fields)?;
                http_json::read_pages(&url, &self.settings, &json, &mut accounts).await?;
            }
            (Layout::Csv { .. }, _) if self.settings.paging != Paging::None => {
                return Err(ConnectorError::Malformed(
                    "settings: `paging` applies to JSON sources only".to_owned(),
                ));
            }
            (_, location) => {
                let bytes = match location {
                    Location::File(path) => fetch::read_file(path, self.settings.max_bytes).await?,
                    Location::Url(url) => {
                        let url = fetch::parse_url(url)?;
                        fetch::warn_plain_http(&url, &self.settings);
                        fetch::Http::new(&self.settings)?
                            .get(&url, self.settings.max_bytes, self.settings.max_bytes)
                            .await?
                    }
                };
                read_document(&layout, &bytes, &mut accounts)?;
            }
        }
        let accounts = accounts.finish();
        tracing::info!(
            format = self.format.as_str(),
            count = accounts.len(),
            "legacy accounts read"
        );
        Ok(accounts)
    }
}

/// One whole document (a file, or a CSV or unpaged JSON download).
fn read_document(
    layout: &Layout,
    bytes: &[u8],
    accounts: &mut Collector<'_>,
) -> Result<(), ConnectorError> {
    match layout {
        Layout::Csv {
            delimiter,
            encoding,
            fields,
        } => {
            let text = csv::decode(bytes, *encoding)?;
            let csv_layout = csv::CsvLayout {
                delimiter: *delimiter,
                fields,
            };
            csv::read(&text, &csv_layout, accounts)
        }
        Layout::Json(fields) => {
            let json = http_json::JsonLayout::new(fields)?;
            http_json::read_document(bytes, &json, "the document", accounts).map(|_| ())
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    /// A file of the repository's test data.
    pub(crate) fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/legacy")
            .join(name);
        std::fs::read(&path).unwrap()
    }

    /// Reads `bytes` as a file of `format`, the way `idp link import` does.
    pub(crate) async fn read_bytes(
        format: Format,
        bytes: &[u8],
    ) -> Result<Vec<LegacyAccount>, ConnectorError> {
        read_with(format, bytes, SourceSettings::default()).await
    }

    pub(crate) async fn read_with(
        format: Format,
        bytes: &[u8],
        settings: SourceSettings,
    ) -> Result<Vec<LegacyAccount>, ConnectorError> {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(bytes).unwrap();
        let source = Source {
            format,
            location: Location::File(file.path().to_owned()),
            settings,
        };
        source.list_accounts(&|_| {}).await
    }

    #[tokio::test]
    async fn a_generic_csv_source_reads_its_settings() {
        let settings: SourceSettings = toml::from_str(
            r#"
            delimiter = "|"
            [fields]
            username = "Ma"
            display_name = "Ten"
            email = ""
            phone = ""
            unit = "Phong"
            status = "KichHoat"
            active_values = ["có"]
            "#,
        )
        .unwrap();
        let text =
            "Ma|Ten|Phong|KichHoat\nnv01|Trần Văn Đạt|Sở Nội vụ|Có\nnv02|Lê Văn Phong||không\n";
        let accounts = read_with(Format::Csv, text.as_bytes(), settings)
            .await
            .unwrap();
        assert_eq!(accounts.len(), 2);
        assert_eq!(accounts[0].unit.as_deref(), Some("Sở Nội vụ"));
        assert!(accounts[0].active && !accounts[1].active);
    }

    #[tokio::test]
    async fn a_generic_json_file_reads_its_paths() {
        let mut settings = SourceSettings::default();
        settings.fields.username = "items[].login".into();
        settings.fields.display_name = "name".into();
        let doc =
            r#"{"items": [{"login": "tamtt", "name": "Tâm", "email": "tamtt@binhphuoc.gov.vn"}]}"#;
        let accounts = read_with(Format::Json, doc.as_bytes(), settings)
            .await
            .unwrap();
        assert_eq!(accounts[0].display_name, "Tâm");
        assert_eq!(accounts[0].email.as_deref(), Some("tamtt@binhphuoc.gov.vn"));
    }

    #[tokio::test]
    async fn bad_settings_are_refused_before_reading() {
        let settings = SourceSettings {
            delimiter: "ab".into(),
            ..SourceSettings::default()
        };
        let e = read_with(Format::Csv, b"username\na\n", settings)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("settings: `delimiter`"), "{e}");
        let settings = SourceSettings {
            paging: Paging::Page {
                page_param: "page".into(),
                size_param: "size".into(),
                size: 10,
                first: 1,
            },
            ..SourceSettings::default()
        };
        let source = Source {
            format: Format::Calendar,
            location: Location::Url("http://127.0.0.1:9/users.csv".into()),
            settings,
        };
        let e = source.list_accounts(&|_| {}).await.unwrap_err();
        assert!(e.to_string().contains("JSON sources only"), "{e}");
    }

    #[tokio::test]
    async fn a_file_over_the_cap_is_refused_whatever_the_format() {
        let settings = SourceSettings {
            max_bytes: 100,
            ..SourceSettings::default()
        };
        let e = read_with(Format::Onewin, &fixture("onewin-users.json"), settings)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("larger than 100 bytes"), "{e}");
    }

    #[test]
    fn formats_and_locations_parse() {
        for f in ["onewin", "ioffice", "ecabinet", "calendar", "csv", "json"] {
            assert_eq!(Format::parse(f).unwrap().as_str(), f);
        }
        assert_eq!(Format::parse("excel"), None);
        assert!(matches!(Location::parse("https://a/b"), Location::Url(_)));
        assert!(matches!(Location::parse("./users.csv"), Location::File(_)));
    }
}
