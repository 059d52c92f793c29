//! The portal's pages as domain steps: sign-in now; the app-picker and the
//! account page come with the portal issue.

pub mod login;
