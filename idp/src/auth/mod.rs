//! Who you are: the account name, password checks (argon2id), the local
//! and LDAP directories and the SSO session. Second factors and the
//! brute-force guard plug in here.

pub mod account;
pub mod directory;
pub mod guard;
pub mod local;
pub mod mfa;
pub mod password;
pub mod policy;
pub mod reset;
pub mod session;
pub mod sync;
