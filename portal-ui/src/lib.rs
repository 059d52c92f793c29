//! Server-rendered pages of the sign-in portal: askama view structs, one per
//! page, the typed text catalogue and the embedded static assets.
//!
//! Every page is a plain HTML form that works without JavaScript on a slow
//! office PC; the one script (the sign-out page's progress) only saves a click.

pub mod console;
pub mod console_apps;
pub mod console_links;
pub mod pages;
pub mod texts;

pub use askama::Template;
pub use texts::{Lang, Texts};

/// The stylesheet, served at `/static/app.css`.
pub const APP_CSS: &str = include_str!("../static/app.css");
/// The sign-out page's progress script, served at `/static/logout.js`.
pub const LOGOUT_JS: &str = include_str!("../static/logout.js");
/// The SAML POST page's script, served at `/static/saml-post.js`.
pub const SAML_POST_JS: &str = include_str!("../static/saml-post.js");
/// The admin console's stylesheet, served at `/static/console.css`.
pub const CONSOLE_CSS: &str = include_str!("../static/console.css");

/// The deployment's branding, set once at start: like the stylesheet, it is
/// the same for every page and every person.
#[derive(Clone, Debug, Default)]
pub struct Brand {
    /// Replaces the neutral system name in the header, e.g. "UBND tỉnh Bình Phước".
    pub name: Option<String>,
    /// A logo is served at `/static/logo`.
    pub has_logo: bool,
}

static BRAND: std::sync::OnceLock<Brand> = std::sync::OnceLock::new();

/// Sets the branding; only the first call counts.
pub fn set_brand(brand: Brand) {
    let _ = BRAND.set(brand);
}

pub fn brand() -> &'static Brand {
    static NEUTRAL: Brand = Brand {
        name: None,
        has_logo: false,
    };
    BRAND.get().unwrap_or(&NEUTRAL)
}
