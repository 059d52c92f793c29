//! The admin console in real headless Chromium: an administrator signs in
//! with a second factor (a recovery code), opens the overview, the people
//! list, a person, the audit log and an app; screenshots go to
//! `target/screenshots/console-*.png` for a person to look at.

use fantoccini::{Client, Locator};

use crate::chromium::{click, shot, text};

use crate::console::{NOI_VU, console_sign_in, person};
use crate::harness::{Backends, PASSWORD, browser, chromedriver};
use crate::mfa::{Setup, setup_on};

pub(crate) async fn fill(c: &Client, id: &str, value: &str) {
    c.find(Locator::Id(id))
        .await
        .unwrap()
        .send_keys(value)
        .await
        .unwrap();
}

/// Opens `path`, signs `account` in with the password and a recovery code
/// (their authenticator is bound beforehand), and waits for the portal.
pub(crate) async fn sign_in_with_recovery(
    c: &Client,
    s: &Setup,
    path: &str,
    account: &str,
    code: &str,
) {
    c.goto(&s.idp.url(path)).await.unwrap();
    fill(c, "account", account).await;
    fill(c, "password", PASSWORD).await;
    click(c, "form button[type=submit]").await;
    // The second-factor page, not the sign-in form still on screen.
    c.wait().for_element(Locator::Id("recovery")).await.unwrap();
    click(c, "details summary").await;
    fill(c, "recovery", code).await;
    click(c, "details form button[type=submit]").await;
    c.wait()
        .for_element(Locator::Css("header.top"))
        .await
        .unwrap();
}

#[tokio::test]
async fn an_administrator_uses_the_console_in_chromium() {
    let s = setup_on(Backends::default());
    person(&s, "quantri", "Quản trị hệ thống", NOI_VU, true, None);
    person(&s, "hungnv", "Nguyễn Văn Hùng", NOI_VU, false, None);
    s.idp.cli_ok(
        &[
            "app",
            "add",
            "vanban",
            "--name",
            "Văn bản điều hành",
            "--url",
            "https://vanban.binhphuoc.gov.vn/",
            "--client",
            "vanban",
        ],
        None,
    );
    // The authenticator is bound beforehand; Chromium signs in with a recovery code.
    let (_, mut codes) = console_sign_in(&s, "quantri").await;
    let code = codes.pop().unwrap();

    let driver = chromedriver();
    let c = browser(&driver).await;
    c.set_window_size(1280, 900).await.unwrap();
    sign_in_with_recovery(&c, &s, "/admin", "quantri", &code).await;

    c.goto(&s.idp.url("/admin")).await.unwrap();
    c.wait()
        .for_element(Locator::Css(".console nav"))
        .await
        .unwrap();
    let page = text(&c).await;
    assert!(
        page.contains("Tổng quan") && page.contains("Người dùng") && page.contains("Nhật ký"),
        "{page}"
    );
    shot(&c, "console-overview").await;

    click(&c, "nav a[href='/admin/people']").await;
    fill(&c, "q", "nguyen van").await;
    click(&c, "form.filters button").await;
    c.wait()
        .for_element(Locator::LinkText("Nguyễn Văn Hùng"))
        .await
        .unwrap();
    assert!(text(&c).await.contains("Tìm thấy 1 người."));
    shot(&c, "console-people").await;

    c.find(Locator::LinkText("Nguyễn Văn Hùng"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("form.act"))
        .await
        .unwrap();
    let page = text(&c).await;
    assert!(
        page.contains("hungnv@binhphuoc.gov.vn") && page.contains("Vô hiệu hóa tài khoản"),
        "{page}"
    );
    shot(&c, "console-person").await;
    c.find(Locator::Css(
        "form[action$='/roles'] input[value='clerk'] ~ button",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    c.wait()
        .for_element(Locator::Css("p.notice"))
        .await
        .unwrap();
    assert!(text(&c).await.contains("Đã cấp vai trò."));

    click(&c, "nav a[href='/admin/audit']").await;
    c.wait()
        .for_element(Locator::Css("form.filters"))
        .await
        .unwrap();
    let page = text(&c).await;
    assert!(
        page.contains("admin.role_granted") && page.contains("role clerk; before -; after clerk"),
        "{page}"
    );
    shot(&c, "console-audit").await;

    // An app's page: its tile, client, icon and legacy-username claim.
    c.goto(&s.idp.url("/admin/apps/vanban")).await.unwrap();
    c.wait()
        .for_element(Locator::Css("form[action='/admin/apps/vanban/claim']"))
        .await
        .unwrap();
    let page = text(&c).await;
    assert!(
        page.contains("Văn bản điều hành") && page.contains("https://vanban.binhphuoc.gov.vn/"),
        "{page}"
    );
    shot(&c, "console-app").await;
    c.close().await.unwrap();
}
