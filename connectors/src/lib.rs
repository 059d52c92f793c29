//! Where identities come from: the official-mail directory and the legacy
//! apps' account lists, and the matching that links the two. No HTTP server
//! in this crate.
//!
//! - [`directory`], [`ldap`], [`memory`]: the official-mail directory.
//! - [`legacy`]: a legacy app's accounts as [`LegacyAccount`]s, from a
//!   [`Source`] (a [`Format`] read from a [`Location`] with
//!   [`SourceSettings`]): the four apps' own exports and user APIs
//!   (`onewin`, `ioffice`, `ecabinet`, `calendar`), or a configurable CSV or
//!   HTTP-JSON source. Files and downloads are capped (`max_bytes`, 64 MiB by
//!   default), HTTP has connect, read and request timeouts.
//! - [`matching`]: [`suggest`] proposes links between accounts and
//!   [`Person`]s, each a [`Suggestion`] with a [`Reason`], a confidence and
//!   whether it is exact (safe to accept without a person looking).
//!
//! ```no_run
//! # async fn run(people: Vec<connectors::Person>) -> Result<(), connectors::ConnectorError> {
//! use connectors::{suggest, AppConnector, Format, Location, Source, SourceSettings};
//! let source = Source {
//!     format: Format::Onewin,
//!     location: Location::parse("onewin-users.json"),
//!     settings: SourceSettings::default(),
//! };
//! let accounts = source.list_accounts(&|n| eprintln!("{n} accounts read")).await?;
//! let exact: Vec<_> = suggest(&people, &accounts).into_iter().filter(|s| s.is_exact()).collect();
//! # Ok(()) }
//! ```

pub mod directory;
pub mod ldap;
pub mod legacy;
pub mod matching;
pub mod memory;

pub use directory::{Directory, DirectoryError, Identity, LoginOutcome};
pub use ldap::{AttributeMap, Bind, LdapDirectory, LdapSettings, People, Work};
pub use legacy::{
    AppConnector, ConnectorError, FieldNames, Format, LegacyAccount, Location, Paging,
    SettingsError, Source, SourceSettings, TextEncoding,
};
pub use matching::{Person, Reason, Suggestion, suggest};
pub use memory::{MemoryDirectory, Password};
