//! Single sign-on and single logout in a real browser: headless Chromium
//! driven over WebDriver (chromedriver). Screenshots of the sign-in,
//! portal, app and sign-out pages at desktop and phone widths are written to
//! `target/screenshots/` on every run, for a person to look at.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use serde_json::json;

use crate::demo_apps::{Channel, DemoApp, demo_app};
use crate::harness::screenshot_dir;
use crate::harness::{Backends, Idp, PASSWORD, browser, chromedriver};

/// Writes a screenshot of the page as `target/screenshots/NAME.png`.
pub(crate) async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).unwrap();
}

/// Clicks `css` once it is on the page, and again when the page replaced
/// the element between finding and clicking (a form post's redirect on a
/// slow machine).
pub(crate) async fn click(c: &Client, css: &str) {
    use fantoccini::error::{CmdError, ErrorStatus};
    for _ in 0..5 {
        let e = c.wait().for_element(Locator::Css(css)).await.unwrap();
        match e.click().await {
            Ok(()) => return,
            Err(CmdError::Standard(w)) if w.error == ErrorStatus::StaleElementReference => {}
            Err(e) => panic!("clicking {css}: {e}"),
        }
    }
    panic!("{css} was replaced five times over");
}

/// The page's visible text.
pub(crate) async fn text(c: &Client) -> String {
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn sign_in(c: &Client, idp: &Idp, shots: Option<&str>) {
    c.goto(&idp.url("/")).await.unwrap();
    if let Some(prefix) = shots {
        shot(c, &format!("{prefix}-sign-in")).await;
    }
    c.find(Locator::Id("account"))
        .await
        .unwrap()
        .send_keys("tamtt")
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    click(c, "form button[type=submit]").await;
    c.wait().for_element(Locator::Css(".tiles")).await.unwrap();
}

async fn open_tile(c: &Client, idp: &Idp, app: &DemoApp, id: &str) {
    c.goto(&idp.url("/")).await.unwrap();
    c.find(Locator::Css(&format!("a[href='/launch/{id}']")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_url(&url::Url::parse(&format!("{}/", app.base)).unwrap())
        .await
        .unwrap();
    let page = text(c).await;
    assert!(
        page.contains("Trương Thanh Tâm"),
        "{id} shows who is signed in: {page}"
    );
}

/// The account page: a signature uploaded through the file input shows in the preview.
async fn account_page(c: &Client, idp: &Idp) {
    c.goto(&idp.url("/")).await.unwrap();
    click(c, "a[href='/account']").await;
    c.wait()
        .for_element(Locator::Css("input[type=file]"))
        .await
        .unwrap()
        .send_keys(
            crate::portal::fixture("signature.png")
                .canonicalize()
                .unwrap()
                .to_str()
                .unwrap(),
        )
        .await
        .unwrap();
    click(c, "form[enctype] button[type=submit]").await;
    c.wait()
        .for_element(Locator::Css(".signature img"))
        .await
        .unwrap();
    let width = c
        .execute(
            "const i = document.querySelector('.signature img'); return i.complete && i.naturalWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(width, json!(600), "the preview shows the uploaded image");
    assert!(text(c).await.contains("Đã lưu ảnh chữ ký."));
}

async fn assert_signed_out(c: &Client, app: &DemoApp) {
    let start = Instant::now();
    loop {
        c.goto(&format!("{}/", app.base)).await.unwrap();
        if text(c).await.contains("Chưa đăng nhập") {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{} still signed in",
            app.base
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_sign_on_and_logout_in_chromium() {
    let idp = Idp::spawn(&Backends::default());
    idp.cli_ok(
        &[
            "user",
            "add",
            "tamtt",
            "--name",
            "Trương Thanh Tâm",
            "--unit",
            "Sở Nội vụ",
            "--password-stdin",
        ],
        Some(PASSWORD),
    );
    let docs = demo_app(&idp, "vanban", "Quản lý văn bản", Channel::Back);
    let meet = demo_app(&idp, "phonghop", "Phòng họp không giấy", Channel::Front);
    idp.cli_ok(
        &[
            "app",
            "add",
            "lich",
            "--name",
            "Lịch công tác",
            "--url",
            "http://127.0.0.1:9/lich",
            "--description",
            "Lịch làm việc của cơ quan",
        ],
        None,
    );
    let driver = chromedriver();
    let c = browser(&driver).await;
    c.set_window_size(1280, 860).await.unwrap();

    // Sign in once at the portal; both apps open from their tiles without a second sign-in.
    sign_in(&c, &idp, Some("desktop")).await;
    shot(&c, "desktop-portal").await;
    open_tile(&c, &idp, &docs, "vanban").await;
    shot(&c, "desktop-app").await;
    account_page(&c, &idp).await;
    // Tall enough for the whole page, the signature preview included.
    c.set_window_size(1280, 2000).await.unwrap();
    shot(&c, "desktop-account").await;
    c.set_window_size(1280, 860).await.unwrap();
    open_tile(&c, &idp, &meet, "phonghop").await;

    // Sign out at the portal: both apps are signed out.
    c.goto(&idp.url("/")).await.unwrap();
    click(&c, ".who-bar button").await;
    c.wait()
        .for_element(Locator::XPath("//h1[contains(., 'Bạn đã đăng xuất')]"))
        .await
        .unwrap();
    // The page follows both apps: the document app over the back channel,
    // the meeting app through its front-channel frame.
    for app in ["vanban", "phonghop"] {
        c.wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css(&format!("li.done[data-app='{app}']")))
            .await
            .unwrap_or_else(|e| panic!("{app} not shown as signed out: {e}"));
    }
    shot(&c, "desktop-signed-out").await;
    assert_signed_out(&c, &docs).await;
    assert_signed_out(&c, &meet).await;

    // Again, with the sign-out started in the meeting app.
    sign_in(&c, &idp, None).await;
    open_tile(&c, &idp, &docs, "vanban").await;
    open_tile(&c, &idp, &meet, "phonghop").await;
    c.goto(&format!("{}/logout", meet.base)).await.unwrap();
    // Through the IdP's sign-out page (it frames the meeting app's front
    // channel) and back to the meeting app's home, signed out.
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::XPath("//*[contains(., 'Chưa đăng nhập')]"))
        .await
        .unwrap();
    assert!(
        c.current_url()
            .await
            .unwrap()
            .as_str()
            .starts_with(&meet.base)
    );
    assert_signed_out(&c, &docs).await;
    assert_signed_out(&c, &meet).await;
    c.goto(&idp.url("/")).await.unwrap();
    assert!(
        text(&c).await.contains("Mật khẩu"),
        "signed out at the portal too"
    );

    // Phone width.
    c.set_window_size(390, 844).await.unwrap();
    sign_in(&c, &idp, Some("phone")).await;
    shot(&c, "phone-portal").await;
    c.goto(&idp.url("/account")).await.unwrap();
    shot(&c, "phone-account").await;
    // Setting up an authenticator: the QR code is drawn (inline SVG under the strict CSP).
    c.goto(&idp.url("/account/mfa")).await.unwrap();
    shot(&c, "phone-second-factors").await;
    // A first factor needs an administrator's enrolment code (no mail server here).
    let out = idp.cli_ok(&["user", "enrolment-code", "tamtt"], None);
    let code = out.rsplit(' ').next().unwrap().trim();
    c.find(Locator::Id("bootstrap-code"))
        .await
        .unwrap()
        .send_keys(code)
        .await
        .unwrap();
    click(&c, "input[value=bootstrap] ~ button").await;
    click(&c, "input[value=start_totp] + button").await;
    c.wait().for_element(Locator::Css(".qr svg")).await.unwrap();
    let width = c
        .execute(
            "return document.querySelector('.qr svg').getBoundingClientRect().width;",
            vec![],
        )
        .await
        .unwrap();
    assert!(width.as_f64().unwrap() >= 150.0, "QR code drawn: {width}");
    shot(&c, "phone-second-factor-setup").await;
    c.goto(&idp.url("/logout")).await.unwrap();
    shot(&c, "phone-sign-out").await;
    click(&c, "form button[type=submit]").await;
    c.wait()
        .for_element(Locator::XPath("//h1[contains(., 'Bạn đã đăng xuất')]"))
        .await
        .unwrap();
    shot(&c, "phone-signed-out").await;
    c.close().await.unwrap();
}
