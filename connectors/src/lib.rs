//! Where identities come from: the official-mail directory and, later, the
//! legacy apps' account lists. No HTTP in this crate.

pub mod directory;

pub use directory::{Directory, DirectoryError, Identity, LoginOutcome};
