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
