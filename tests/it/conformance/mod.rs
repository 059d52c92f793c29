//! One conformance suite per trait: every cache (memory, Redis), every
//! store (SQLite, PostgreSQL) and every directory (LDAP, in memory) passes
//! the same tests.

mod cache;
mod directory;
mod store;
mod store_apps;
mod store_cas;
mod store_console;
mod store_links;
mod store_saml;
mod store_signing;
