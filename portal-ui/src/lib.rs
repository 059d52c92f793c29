//! Server-rendered pages of the sign-in portal: askama view structs, one per
//! page, the typed text catalogue and the embedded static assets.
//!
//! No JavaScript: every page is a plain HTML form that works on a slow office PC.

pub mod pages;
pub mod texts;

pub use askama::Template;
pub use texts::{Lang, Texts};

/// The stylesheet, served at `/static/app.css`.
pub const APP_CSS: &str = include_str!("../static/app.css");
