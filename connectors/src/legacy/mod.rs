//! The legacy apps' own accounts (Onewin, VNPT-iOffice, eCabinet, the work
//! calendar, or any app through a configurable CSV or HTTP-JSON source), as
//! read from their exports or user APIs so they can be linked to people.
//!
//! Every source yields the same [`LegacyAccount`]; what each app calls its
//! fields, how its file is encoded and how its API pages live in one file per
//! source.

use std::future::Future;

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

/// How a generic source is read (column names, JSON paths, paging, the
/// auth header of a user API). The four apps need none of it.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSettings {}

/// One source of accounts: a format read from a location.
#[derive(Clone, Debug)]
pub struct Source {
    pub format: Format,
    pub location: Location,
    pub settings: SourceSettings,
}

impl AppConnector for Source {
    async fn list_accounts(
        &self,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<Vec<LegacyAccount>, ConnectorError> {
        let _ = progress;
        Err(ConnectorError::Unavailable(format!(
            "{} sources are not readable yet",
            self.format.as_str()
        )))
    }
}
