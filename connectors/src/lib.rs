//! Where identities come from: the official-mail directory and, later, the
//! legacy apps' account lists. No HTTP in this crate.

pub mod directory;
pub mod ldap;
pub mod memory;

pub use directory::{Directory, DirectoryError, Identity, LoginOutcome};
pub use ldap::{AttributeMap, Bind, LdapDirectory, LdapSettings, People, Work};
pub use memory::{MemoryDirectory, Password};
