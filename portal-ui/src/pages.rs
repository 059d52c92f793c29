//! One view struct per page. Handlers fill them; `render()` makes the HTML.

use askama::Template;

use crate::texts::{ImageLimits, Lang, Texts};

mod links;
pub use links::LinkMissingPage;

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
        self.brand
            .name
            .as_deref()
            .unwrap_or(self.t.common.system_name)
    }

    pub fn new(lang: Lang, here: &str) -> Chrome {
        let other = lang.other();
        Chrome {
            lang,
            t: lang.texts(),
            brand: crate::brand(),
            switch_href: format!("/lang/{}?next={}", other.tag(), encode_component(here)),
            switch_name: other.texts().common.language_name,
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
    pub error: Option<String>,
}

/// Carries a SAML message to an app by the HTTP-POST binding (`/saml/post/{id}`).
#[derive(Template)]
#[template(path = "saml_post.html")]
pub struct SamlPostPage {
    pub chrome: Chrome,
    /// The app's ACS (or SLO) address.
    pub action: String,
    /// `SAMLResponse` or `SAMLRequest`.
    pub field: String,
    /// The message, base64.
    pub value: String,
    pub relay_state: Option<String>,
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
    /// Where the form posts: `/logout` (OIDC end-session) or `/cas/logout`.
    pub action: String,
    /// Hidden fields carried to the POST: (name, value).
    pub fields: Vec<(String, String)>,
}

/// One app of the ended session on the sign-out page, and how far it is.
pub struct AppProgressView {
    pub client_id: String,
    pub name: String,
    /// `done`, `pending`, `failed`: styles the line and tells the script when to stop.
    pub state: &'static str,
    pub label: &'static str,
    /// The app's front-channel logout URL, framed by the page.
    pub frame: Option<String>,
}

/// After signing out: each app's progress, and the way back to the app.
#[derive(Template)]
#[template(path = "logged_out.html")]
pub struct LoggedOutPage {
    pub chrome: Chrome,
    pub apps: Vec<AppProgressView>,
    /// This page's own address (the script polls `{here}/status`).
    pub here: String,
    /// Where the app that asked wants the person back.
    pub redirect: Option<String>,
}

/// A choice in a select box.
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

/// One SSO session on the account page.
pub struct SessionView {
    pub device: String,
    pub ip: String,
    pub started: String,
    pub last_active: String,
    pub current: bool,
}

/// One line of recent sign-in activity.
pub struct ActivityView {
    pub at: String,
    pub what: &'static str,
    pub ip: String,
    pub failed: bool,
}

/// The person's own account page (`/account`).
#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountPage {
    pub chrome: Chrome,
    pub csrf: String,
    pub email: String,
    pub name: String,
    pub unit: String,
    /// Name and unit come from the directory: shown, not edited.
    pub from_directory: bool,
    pub phone: String,
    pub personal_email: String,
    pub pages: Vec<Choice>,
    pub places: Vec<Choice>,
    /// Cache-busting version of the signature image, when there is one.
    pub signature: Option<String>,
    /// A second factor is set up.
    pub mfa_on: bool,
    pub sessions: Vec<SessionView>,
    pub activity: Vec<ActivityView>,
    /// What was just done, or what went wrong (`error` set).
    pub notice: Option<&'static str>,
    pub error: Option<String>,
    /// What a signature image must keep to, as the hint states it.
    pub image_limits: ImageLimits,
}

impl AccountPage {
    pub fn signature_hint(&self) -> String {
        (self.chrome.t.account.signature_hint)(&self.image_limits)
    }

    pub fn other_sessions(&self) -> bool {
        self.sessions.iter().any(|s| !s.current)
    }
}

/// An error a person can act on, with the request id to quote to the help desk.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub chrome: Chrome,
    pub message: String,
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
            error: Some(crate::texts::VI.login.invalid_credentials.into()),
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
            message: crate::texts::VI.errors.unknown_client.into(),
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
            action: "/cas/logout".into(),
            fields: vec![("state".into(), "a\"b".into())],
        };
        let html = page.render().unwrap();
        assert!(html.contains(r#"name="state" value="a&#34;b""#));
        assert!(html.contains(r#"action="/cas/logout""#));
    }

    const LIMITS: ImageLimits = ImageLimits {
        max_bytes: 1024 * 1024,
        min_width: 40,
        min_height: 20,
        max_width: 2000,
        max_height: 1000,
    };

    fn account(lang: Lang, from_directory: bool) -> AccountPage {
        AccountPage {
            chrome: Chrome::new(lang, "/account"),
            csrf: "tok".into(),
            email: "tamtt@binhphuoc.gov.vn".into(),
            name: "Trương Thanh Tâm".into(),
            unit: "Sở Nội vụ".into(),
            from_directory,
            phone: "0912345678".into(),
            personal_email: "<tam>@gmail.com".into(),
            pages: vec![
                Choice {
                    value: "first",
                    label: "Trang đầu",
                    selected: false,
                },
                Choice {
                    value: "last",
                    label: "Trang cuối",
                    selected: true,
                },
            ],
            places: vec![Choice {
                value: "bottom-right",
                label: "Phía dưới, bên phải",
                selected: true,
            }],
            signature: Some("1700".into()),
            mfa_on: false,
            sessions: vec![
                SessionView {
                    device: "Chrome · Windows".into(),
                    ip: "10.0.0.5".into(),
                    started: "22/11/2026 08:00".into(),
                    last_active: "22/11/2026 09:10".into(),
                    current: true,
                },
                SessionView {
                    device: "Safari · iPhone".into(),
                    ip: "10.0.0.9".into(),
                    started: "21/11/2026 17:00".into(),
                    last_active: "21/11/2026 17:05".into(),
                    current: false,
                },
            ],
            activity: vec![ActivityView {
                at: "22/11/2026 08:00".into(),
                what: crate::texts::VI.account.activity_failed,
                ip: "10.0.0.5".into(),
                failed: true,
            }],
            notice: None,
            error: Some(crate::texts::VI.account.signature_not_image.into()),
            image_limits: LIMITS,
        }
    }

    #[test]
    fn account_page_renders_every_section() {
        let html = account(Lang::Vi, false).render().unwrap();
        // Every form carries the CSRF token; the upload is multipart.
        assert_eq!(html.matches(r#"name="csrf" value="tok""#).count(), 4);
        assert!(html.contains(r#"enctype="multipart/form-data""#));
        assert!(html.contains(r#"accept="image/png,image/jpeg""#));
        assert!(html.contains(r#"name="name" type="text" value="Trương Thanh Tâm""#));
        assert!(html.contains(r#"<option value="last" selected>Trang cuối</option>"#));
        assert!(html.contains(r#"src="/account/signature.png?v=1700""#));
        assert!(html.contains("Phiên này"));
        assert!(html.contains("Đăng xuất khỏi các phiên khác"));
        assert!(html.contains("Đăng nhập không thành công"));
        assert!(html.contains(r#"role="alert">Tệp đã chọn không phải ảnh PNG hoặc JPEG."#));
        assert!(!html.contains("<tam>"), "input is escaped");
        assert!(html.contains("tối đa 1 MB, từ 40 × 20 đến 2000 × 1000 điểm ảnh"));
        // Name and unit from the directory are shown, not posted.
        let html = account(Lang::Vi, true).render().unwrap();
        assert!(!html.contains(r#"name="name""#) && !html.contains(r#"name="unit""#));
        assert!(html.contains("Lấy từ danh bạ"));
        // No other session: no button, a sentence instead.
        let mut alone = account(Lang::En, false);
        alone.sessions.truncate(1);
        alone.signature = None;
        let html = alone.render().unwrap();
        assert!(!html.contains("/account/sessions/others"));
        assert!(html.contains("There are no other sessions."));
        assert!(html.contains("No signature image yet."));
    }

    #[test]
    fn sign_out_page_shows_each_app_and_frames_front_channel_ones() {
        let page = LoggedOutPage {
            chrome: Chrome::new(Lang::Vi, "/logout/done/x"),
            apps: vec![
                AppProgressView {
                    client_id: "vanban".into(),
                    name: "Quản lý văn bản".into(),
                    state: "done",
                    label: crate::texts::VI.logout.status_done,
                    frame: None,
                },
                AppProgressView {
                    client_id: "phonghop".into(),
                    name: "Phòng họp không giấy".into(),
                    state: "front",
                    label: crate::texts::VI.logout.status_front,
                    frame: Some("https://phonghop.gov.vn/fcl?iss=a&sid=b".into()),
                },
            ],
            here: "/logout/done/x".into(),
            redirect: Some("https://phonghop.gov.vn/?state=1".into()),
        };
        let html = page.render().unwrap();
        assert!(html.contains(r#"<li class="done" data-app="vanban">"#));
        assert!(html.contains(r#"<iframe src="https://phonghop.gov.vn/fcl?iss=a&#38;sid=b""#));
        assert!(html.contains(r#"data-next="https://phonghop.gov.vn/?state=1""#));
        assert!(html.contains(r#"<script src="/static/logout.js" defer></script>"#));
        assert!(html.contains("Tiếp tục"));
        // Nothing to follow: no script, the way back to the sign-in form.
        let plain = LoggedOutPage {
            apps: vec![],
            redirect: None,
            ..page
        };
        let html = plain.render().unwrap();
        assert!(!html.contains("<script"));
        assert!(html.contains(r#"href="/login""#));
    }
}

/// Setting up an authenticator: its QR code (SVG markup we drew) and the
/// key to type by hand.
pub struct TotpEnrolView {
    pub qr_svg: String,
    pub key: String,
}

/// What both second-factor pages share: enrolling a factor and showing new
/// recovery codes (`_enrol.html`, `_codes.html`).
pub struct EnrolState {
    /// Where the forms post.
    pub action: &'static str,
    pub totp: Option<TotpEnrolView>,
    /// Mail is configured, so codes by e-mail can be offered.
    pub mail_possible: bool,
    /// The address being added (or the personal e-mail, to start with).
    pub email: String,
    /// A code went to `email`; show the field for it.
    pub email_sent: bool,
    /// Just made: shown once.
    pub recovery_codes: Vec<String>,
    /// Changes wait for a proof first (`_confirm.html`): the enrolment forms
    /// are not shown.
    pub confirm: Option<ConfirmView>,
}

/// The proof asked before the factors change: the out-of-band bootstrap of
/// a first factor, or a re-check of a current one.
pub struct ConfirmView {
    /// No factor yet: an administrator's enrolment code or a code from the
    /// official mailbox.
    pub bootstrap: bool,
    /// Where an e-mailed code would go (masked), when mail is possible.
    pub mail_to: Option<String>,
}

/// The second step of signing in (`/login/second-factor`).
#[derive(Template)]
#[template(path = "second_factor.html")]
pub struct SecondFactorPage {
    pub chrome: Chrome,
    pub csrf: String,
    pub client_name: Option<String>,
    pub error: Option<String>,
    pub notice: Option<String>,
    /// The person has an authenticator.
    pub totp: bool,
    /// The person gets codes by e-mail, at this (masked) address.
    pub email: Option<String>,
    /// Enrolment when the person has no factor yet.
    pub enrolling: bool,
    pub enrol: EnrolState,
}

/// The person's second factors (`/account/mfa`).
#[derive(Template)]
#[template(path = "factors.html")]
pub struct FactorsPage {
    pub chrome: Chrome,
    pub csrf: String,
    pub error: Option<String>,
    pub notice: Option<String>,
    pub totp: bool,
    pub email: Option<String>,
    pub recovery_left: i64,
    /// The policy requires a second factor of this person.
    pub required: bool,
    pub enrol: EnrolState,
}

impl FactorsPage {
    pub fn recovery_left_text(&self) -> String {
        (self.chrome.t.factors.recovery_left)(self.recovery_left)
    }
}

/// "Forgot your password" and choosing a new one (`/password/…`).
#[derive(Template)]
#[template(path = "password.html")]
pub struct PasswordPage {
    pub chrome: Chrome,
    pub csrf: String,
    /// `forgot` (ask for the account), `sent`, `reset` (choose one) or `done`.
    pub stage: &'static str,
    /// The reset link's token, carried through the form.
    pub token: String,
    pub error: Option<String>,
    /// The password policy's minimum length (`auth::policy::MIN_CHARS`).
    pub min_chars: usize,
}

impl PasswordPage {
    pub fn password_rules(&self) -> String {
        (self.chrome.t.reset.password_rules)(self.min_chars)
    }
}
