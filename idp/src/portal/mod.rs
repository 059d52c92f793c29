//! The portal's pages as domain steps: sign-in, the app-picker, the account
//! page and the sign-out progress.

pub mod account;
pub mod apps;
pub mod login;
pub mod signout;
