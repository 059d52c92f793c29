//! The text catalogue: every word a person reads, once per language.
//!
//! `Texts` is a plain struct of groups, one per page or message (`t.login.title`),
//! each group a struct with its Vietnamese and English values in the group's
//! file, so a language that lacks a text does not compile. A text that carries
//! a value is a function of that value (`(t.login.wait)(secs)`), never a
//! string with a placeholder; numbers come from the settings they describe.

mod account;
mod apps;
mod common;
mod console;
mod console_apps;
mod console_links;
mod errors;
mod factors;
mod links;
mod login;
mod logout;
mod mail;
mod notices;
mod reset;
mod second_factor;

pub use account::Account;
pub use apps::Apps;
pub use common::Common;
pub use console::Console;
pub use console_apps::ConsoleApps;
pub use console_links::ConsoleLinks;
pub use errors::Errors;
pub use factors::Factors;
pub use links::Links;
pub use login::Login;
pub use logout::Logout;
pub use mail::Mail;
pub use notices::Notices;
pub use reset::Reset;
pub use second_factor::SecondFactor;

/// The languages the pages speak. Vietnamese is the default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    /// The BCP 47 tag, for `<html lang>` and the language cookie.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// Parses a tag as sent in `ui_locales`, a cookie or a query (`en`, `en-US`, `vi`).
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The other language, for the switch link.
    pub fn other(self) -> Lang {
        match self {
            Lang::Vi => Lang::En,
            Lang::En => Lang::Vi,
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Vi => &VI,
            Lang::En => &EN,
        }
    }
}

/// Everything the pages and messages say, grouped per page or message.
pub struct Texts {
    pub common: Common,
    pub errors: Errors,
    pub login: Login,
    pub logout: Logout,
    pub apps: Apps,
    pub account: Account,
    pub second_factor: SecondFactor,
    pub factors: Factors,
    pub reset: Reset,
    pub mail: Mail,
    pub notices: Notices,
    pub links: Links,
    pub console: Console,
    pub console_links: ConsoleLinks,
    pub console_apps: ConsoleApps,
}

pub static VI: Texts = Texts {
    common: common::VI,
    errors: errors::VI,
    login: login::VI,
    logout: logout::VI,
    apps: apps::VI,
    account: account::VI,
    second_factor: second_factor::VI,
    factors: factors::VI,
    reset: reset::VI,
    mail: mail::VI,
    notices: notices::VI,
    links: links::VI,
    console: console::VI,
    console_links: console_links::VI,
    console_apps: console_apps::VI,
};

pub static EN: Texts = Texts {
    common: common::EN,
    errors: errors::EN,
    login: login::EN,
    logout: logout::EN,
    apps: apps::EN,
    account: account::EN,
    second_factor: second_factor::EN,
    factors: factors::EN,
    reset: reset::EN,
    mail: mail::EN,
    notices: notices::EN,
    links: links::EN,
    console: console::EN,
    console_links: console_links::EN,
    console_apps: console_apps::EN,
};

/// The bounds a signature image must keep (`idp::images`), for the texts that name them.
#[derive(Clone, Copy, Debug)]
pub struct ImageLimits {
    pub max_bytes: usize,
    pub min_width: u32,
    pub min_height: u32,
    pub max_width: u32,
    pub max_height: u32,
}

/// A size in bytes as people read it: "1 MB", "512 KB", "100 B".
fn size(bytes: usize) -> String {
    const KB: usize = 1024;
    const MB: usize = 1024 * 1024;
    if bytes >= MB && bytes.is_multiple_of(MB) {
        format!("{} MB", bytes / MB)
    } else if bytes >= KB && bytes.is_multiple_of(KB) {
        format!("{} KB", bytes / KB)
    } else {
        format!("{bytes} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_parse_with_regions() {
        assert_eq!(Lang::from_tag("en-US"), Some(Lang::En));
        assert_eq!(Lang::from_tag("vi"), Some(Lang::Vi));
        assert_eq!(Lang::from_tag("fr"), None);
        assert_eq!(Lang::Vi.other(), Lang::En);
    }

    #[test]
    fn vietnamese_keeps_its_diacritics() {
        assert_eq!(VI.login.title, "Đăng nhập");
        assert_eq!(VI.login.password_label, "Mật khẩu");
    }

    #[test]
    fn every_placeholder_text_says_its_values() {
        let limits = ImageLimits {
            max_bytes: 3 * 1024 * 1024,
            min_width: 41,
            min_height: 21,
            max_width: 2001,
            max_height: 1001,
        };
        for t in [&VI, &EN] {
            let said: Vec<(String, Vec<&str>)> = vec![
                ((t.login.wait)(37), vec!["37"]),
                ((t.errors.too_many_requests)(43), vec!["43"]),
                ((t.login.locked)(17), vec!["17"]),
                (
                    (t.second_factor.email_sent)("t***@x.vn", 12),
                    vec!["t***@x.vn", "12"],
                ),
                ((t.second_factor.email_too_soon)(23), vec!["23"]),
                ((t.second_factor.paused)(19), vec!["19"]),
                ((t.factors.recovery_left)(7), vec!["7"]),
                ((t.factors.confirmed)(11), vec!["11"]),
                (
                    (t.account.signature_hint)(&limits),
                    vec!["3 MB", "41 × 21", "2001 × 1001"],
                ),
                ((t.account.signature_too_many_bytes)(&limits), vec!["3 MB"]),
                (
                    (t.account.signature_too_large)(&limits),
                    vec!["2001 × 1001"],
                ),
                ((t.account.signature_too_small)(&limits), vec!["41 × 21"]),
                ((t.reset.password_rules)(14), vec!["14"]),
                ((t.reset.weak_too_short)(13), vec!["13"]),
                ((t.reset.weak_too_long)(999), vec!["999"]),
                ((t.notices.recovery_code_used)(4), vec!["4"]),
                ((t.mail.code)("482913", 9), vec!["482913", "9"]),
                (
                    (t.mail.locked)(16, "10.1.2.3", "08:00 22/11/2026"),
                    vec!["16", "10.1.2.3", "08:00 22/11/2026"],
                ),
                (
                    (t.mail.reset_link)("https://x/r?t=1", 31),
                    vec!["https://x/r?t=1", "31"],
                ),
                (
                    (t.mail.password_changed)("08:00 22/11/2026"),
                    vec!["08:00 22/11/2026"],
                ),
                (
                    (t.mail.new_device)("Chrome", "10.1.2.3", "08:00"),
                    vec!["Chrome", "10.1.2.3", "08:00"],
                ),
                (
                    (t.mail.factors_changed)(t.notices.totp_added, "08:00"),
                    vec![t.notices.totp_added, "08:00"],
                ),
            ];
            for (text, values) in said {
                for v in values {
                    assert!(text.contains(v), "{v} missing in {text}");
                }
                assert!(!text.contains('{') && !text.contains('}'), "{text}");
            }
        }
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(1024 * 1024), "1 MB");
        assert_eq!(size(512 * 1024), "512 KB");
        assert_eq!(size(1000), "1000 B");
    }
}
