//! One view struct per page. Handlers fill them; `render()` makes the HTML.

use askama::Template;

use crate::texts::{Lang, Texts};

/// What every page needs: the language, its texts and the link to switch.
pub struct Chrome {
    pub lang: Lang,
    pub t: &'static Texts,
    pub brand: &'static crate::Brand,
    /// `/lang/en?next=…`: switches language and comes back here.
    pub switch_href: String,
    pub switch_name: &'static str,
}

impl Chrome {
    /// The deployment's name, or the neutral system name in this language.
    pub fn brand_name(&self) -> &str {
        self.brand.name.as_deref().unwrap_or(self.t.system_name)
    }

    pub fn new(lang: Lang, here: &str) -> Chrome {
        let other = lang.other();
        Chrome {
            lang,
            t: lang.texts(),
            brand: crate::brand(),
            switch_href: format!("/lang/{}?next={}", other.tag(), encode_component(here)),
            switch_name: other.texts().language_name,
        }
    }
}

/// The sign-in form (`GET /login`).
#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub chrome: Chrome,
    pub csrf: String,
    /// The pending authorization request, carried through the form.
    pub req: Option<String>,
    /// The app the person is signing in to, when one asked.
    pub client_name: Option<String>,
    pub account: String,
    pub error: Option<&'static str>,
}

/// One app on the portal.
pub struct TileView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub has_icon: bool,
}

impl TileView {
    /// The first letter of the name, shown when the app has no icon.
    pub fn initial(&self) -> String {
        self.name
            .chars()
            .next()
            .map(|c| c.to_uppercase().collect())
            .unwrap_or_default()
    }
}

/// The app-picker at `/`: a tile per app the person may use.
#[derive(Template)]
#[template(path = "portal.html")]
pub struct PortalPage {
    pub chrome: Chrome,
    pub csrf: String,
    pub name: String,
    pub email: String,
    pub query: String,
    pub tiles: Vec<TileView>,
}

/// Asks before signing out when the request does not prove it came from the person's app.
#[derive(Template)]
#[template(path = "logout.html")]
pub struct LogoutConfirmPage {
    pub chrome: Chrome,
    pub csrf: String,
    /// Hidden fields carried to the POST: (name, value).
    pub fields: Vec<(String, String)>,
}

/// After signing out, when there is no app to go back to.
#[derive(Template)]
#[template(path = "logged_out.html")]
pub struct LoggedOutPage {
    pub chrome: Chrome,
}

/// An error a person can act on, with the request id to quote to the help desk.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub chrome: Chrome,
    pub message: &'static str,
    pub request_id: String,
}

/// Percent-encodes a query component (RFC 3986 unreserved characters stay).
fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chrome(lang: Lang) -> Chrome {
        Chrome::new(lang, "/login?req=abc")
    }

    #[test]
    fn login_page_renders_form_with_csrf_and_escapes_input() {
        let page = LoginPage {
            chrome: chrome(Lang::Vi),
            csrf: "tok123".into(),
            req: Some("req456".into()),
            client_name: Some("Quản lý văn bản".into()),
            account: "<script>".into(),
            error: Some(crate::texts::VI.invalid_credentials),
        };
        let html = page.render().unwrap();
        assert!(html.contains(r#"name="csrf" value="tok123""#));
        assert!(html.contains(r#"name="req" value="req456""#));
        assert!(html.contains("Mật khẩu"));
        assert!(html.contains("Tài khoản hoặc mật khẩu không đúng."));
        assert!(html.contains("Quản lý văn bản"));
        assert!(!html.contains("<script>"), "account must be escaped");
        assert!(html.contains(r#"<html lang="vi">"#));
        assert!(html.contains("/lang/en?next=/login%3Freq%3Dabc"));
    }

    #[test]
    fn english_login_page_uses_english_texts() {
        let page = LoginPage {
            chrome: chrome(Lang::En),
            csrf: "t".into(),
            req: None,
            client_name: None,
            account: String::new(),
            error: None,
        };
        let html = page.render().unwrap();
        assert!(html.contains("Sign in"));
        assert!(html.contains(r#"<html lang="en">"#));
        assert!(!html.contains(r#"name="req""#));
    }

    #[test]
    fn portal_page_shows_tiles_and_escapes_the_query() {
        let page = PortalPage {
            chrome: Chrome::new(Lang::Vi, "/"),
            csrf: "c".into(),
            name: "Trương Thanh Tâm".into(),
            email: "tamtt@binhphuoc.gov.vn".into(),
            query: "<b>".into(),
            tiles: vec![
                TileView {
                    id: "vanban".into(),
                    name: "Quản lý văn bản".into(),
                    description: "Onewin".into(),
                    has_icon: true,
                },
                TileView {
                    id: "lich".into(),
                    name: "lịch công tác".into(),
                    description: String::new(),
                    has_icon: false,
                },
            ],
        };
        let html = page.render().unwrap();
        assert!(html.contains(r#"href="/launch/vanban""#));
        assert!(html.contains(r#"src="/apps/vanban/icon""#));
        assert!(html.contains(">L<"), "initial instead of an icon");
        assert!(html.contains("Ứng dụng của bạn"));
        assert!(!html.contains("<b>"));
        let empty = PortalPage {
            tiles: vec![],
            query: "x".into(),
            ..page
        };
        assert!(
            empty
                .render()
                .unwrap()
                .contains("Không có ứng dụng nào khớp")
        );
    }

    #[test]
    fn error_page_shows_request_id() {
        let page = ErrorPage {
            chrome: chrome(Lang::Vi),
            message: crate::texts::VI.error_unknown_client,
            request_id: "r-42".into(),
        };
        let html = page.render().unwrap();
        assert!(html.contains("r-42"));
        assert!(html.contains("chưa được đăng ký"));
    }

    #[test]
    fn logout_page_carries_hidden_fields() {
        let page = LogoutConfirmPage {
            chrome: chrome(Lang::Vi),
            csrf: "c".into(),
            fields: vec![("state".into(), "a\"b".into())],
        };
        let html = page.render().unwrap();
        assert!(html.contains(r#"name="state" value="a&#34;b""#));
    }
}
