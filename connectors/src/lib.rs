//! Where identities come from: the official-mail directory and the legacy
//! apps' account lists, and the matching that links the two. No HTTP server
//! in this crate.

pub mod directory;
pub mod ldap;
pub mod legacy;
pub mod matching;
pub mod memory;

pub use directory::{Directory, DirectoryError, Identity, LoginOutcome};
pub use ldap::{AttributeMap, Bind, LdapDirectory, LdapSettings, People, Work};
pub use legacy::{
    AppConnector, ConnectorError, Format, LegacyAccount, Location, Source, SourceSettings,
};
pub use memory::{MemoryDirectory, Password};
