//! Real peers for the end-to-end tests, one module per peer: the `idp`
//! binary, PostgreSQL, Redis, OpenLDAP, an SMTP server, Chromium and Apache
//! with mod_auth_cas. Each starts in a temp dir on a free loopback port and
//! stops on drop. `pdf`
//! runs the PDF signature validators (pdfsig, qpdf, pyHanko); `softhsm`
//! makes a SoftHSM2 token with keys a test CA certified.

pub mod apache;
pub mod chromium;
pub mod idp;
pub mod pdf;
pub mod postgres;
pub mod redis;
pub mod slapd;
pub mod smtp;
pub mod softhsm;
pub mod tsa;
pub mod util;

pub use chromium::{Chromedriver, browser, chromedriver};
pub use idp::{Backends, DOMAIN, Idp, PASSWORD, audit_events};
pub use postgres::Postgres;
pub use redis::Redis;
pub use slapd::Slapd;
pub use smtp::{ReceivedMail, Smtp};
pub use util::{free_port, idp_bin, wait_until};

/// Where tests leave pictures for people to look at: `target/screenshots`.
pub fn screenshot_dir() -> std::path::PathBuf {
    // target/debug/idp → target/screenshots
    let dir = idp_bin()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
