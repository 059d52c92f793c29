//! Who you are: the account name, password checks (argon2id), the local
//! directory and the SSO session. LDAP, second factors and the brute-force
//! guard plug in here.

pub mod account;
pub mod local;
pub mod password;
pub mod session;
