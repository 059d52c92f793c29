//! The review queue in real headless Chromium: an administrator signs in
//! with their second factor (a recovery code), opens coverage, filters the
//! queue, accepts one suggestion, rejects one, and accepts all exact
//! matches after confirming; screenshots `target/screenshots/console-
//! coverage.png`, `console-queue.png` and `console-conflicts.png`.

use fantoccini::{Client, Locator};

use crate::chromium::{click, shot, text};
use crate::console::{NOI_VU, console_sign_in, person};
use crate::console_browser::sign_in_with_recovery;
use crate::console_links::onewin_world;
use crate::harness::{Slapd, browser, chromedriver};

/// The number of suggestion rows on the page.
async fn count_rows(c: &Client) -> usize {
    c.find_all(Locator::Css("tr.suggestion"))
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn an_administrator_reviews_the_link_queue_in_chromium() {
    let slapd = Slapd::start();
    let s = onewin_world(&slapd);
    person(&s, "quantri", "Quản trị hệ thống", NOI_VU, true, None);
    let (_, mut codes) = console_sign_in(&s, "quantri").await;
    let code = codes.pop().unwrap();

    let driver = chromedriver();
    let c = browser(&driver).await;
    c.set_window_size(1280, 1000).await.unwrap();
    sign_in_with_recovery(&c, &s, "/admin/links", "quantri", &code).await;

    // Coverage.
    c.goto(&s.idp.url("/admin/links")).await.unwrap();
    c.wait()
        .for_element(Locator::Css("table.coverage meter"))
        .await
        .unwrap();
    let page = text(&c).await;
    assert!(
        page.contains("Một cửa điện tử") && page.contains("Tỷ lệ liên kết"),
        "{page}"
    );
    shot(&c, "console-coverage").await;

    // The queue, filtered by app and reason.
    click(&c, "nav.tabs a[href='/admin/links/queue']").await;
    click(&c, "select#app option[value='onewin']").await;
    click(&c, "select#reason option[value='email']").await;
    click(&c, "#filter").await;
    c.wait()
        .for_element(Locator::Css("tr.suggestion"))
        .await
        .unwrap();
    let url = c.current_url().await.unwrap();
    assert!(url.as_str().contains("app=onewin") && url.as_str().contains("reason=email"));
    assert!(text(&c).await.contains("Trùng e-mail"));
    let before = count_rows(&c).await;
    assert!(before > 0);
    shot(&c, "console-queue").await;

    // Accept one, reject one.
    let first = c
        .find(Locator::Css("tr.suggestion"))
        .await
        .unwrap()
        .attr("data-account")
        .await
        .unwrap()
        .unwrap();
    click(&c, "tr.suggestion button.accept").await;
    c.wait()
        .for_element(Locator::Css("p.notice"))
        .await
        .unwrap();
    let page = text(&c).await;
    assert!(page.contains("Đã chấp nhận đề xuất"), "{page}");
    assert!(
        !c.source()
            .await
            .unwrap()
            .contains(&format!("data-account=\"{first}\""))
    );
    click(&c, "tr.suggestion button.reject").await;
    c.wait()
        .for_element(Locator::Css("p.notice"))
        .await
        .unwrap();
    assert!(text(&c).await.contains("Đã từ chối đề xuất"));

    // Accept all exact matches, after confirming.
    click(&c, "#accept-all").await;
    c.wait().for_element(Locator::Id("confirm")).await.unwrap();
    assert!(text(&c).await.contains("Xác nhận chấp nhận hàng loạt"));
    click(&c, "#confirm").await;
    c.wait().for_element(Locator::Id("outcome")).await.unwrap();
    let page = text(&c).await;
    assert!(
        page.contains("Đã liên kết") && page.contains("đề xuất xung đột"),
        "{page}"
    );

    // Conflicts.
    c.goto(&s.idp.url("/admin/links/conflicts?app=onewin"))
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("nav.tabs"))
        .await
        .unwrap();
    shot(&c, "console-conflicts").await;
    c.close().await.unwrap();
}
