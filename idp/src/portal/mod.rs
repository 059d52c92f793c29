//! The portal's pages as domain steps: sign-in and the app-picker (the
//! account page comes with the rest of the portal issue).

pub mod apps;
pub mod login;
