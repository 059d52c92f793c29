//! "Forgot your password" for a local account, with a real SMTP server: the
//! same answer for an unknown account, a single-use link by mail, the new
//! password checked, every old session ended, the owner told.

use reqwest::StatusCode;

use crate::browser::{Browser, hidden, location};
use crate::harness::{Backends, Idp, PASSWORD, Smtp};

const TAM: &str = "tamtt@binhphuoc.gov.vn";

/// Asks for a reset link for `account`: the status and the page's notice.
pub(crate) async fn forgot(idp: &Idp, account: &str) -> (StatusCode, String) {
    let b = Browser::new();
    let html = b
        .get(&idp.url("/password/forgot"))
        .await
        .text()
        .await
        .unwrap();
    let csrf = hidden(&html, "csrf").unwrap();
    let r = b
        .http
        .post(idp.url("/password/forgot"))
        .form(&[("csrf", csrf.as_str()), ("account", account)])
        .send()
        .await
        .unwrap();
    let status = r.status();
    let html = r.text().await.unwrap();
    let notice = html
        .split(r#"<p class="notice" role="status">"#)
        .nth(1)
        .map(|p| p[..p.find("</p>").unwrap()].to_owned())
        .unwrap_or_default();
    (status, notice)
}

async fn choose(
    b: &Browser,
    idp: &Idp,
    link: &str,
    pw: &str,
    repeat: &str,
) -> (StatusCode, String) {
    let r = b.get(link).await;
    let status = r.status();
    let html = r.text().await.unwrap();
    if status != StatusCode::OK {
        return (status, html);
    }
    let r = b
        .http
        .post(idp.url("/password/reset"))
        .form(&[
            ("csrf", hidden(&html, "csrf").unwrap().as_str()),
            ("token", hidden(&html, "token").unwrap().as_str()),
            ("password", pw),
            ("repeat", repeat),
        ])
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

#[tokio::test]
async fn a_local_account_resets_its_password_by_mail() {
    let smtp = Smtp::start();
    let idp = Idp::spawn(&Backends {
        env: smtp.env(),
        ..Backends::default()
    });
    idp.add_person();
    let before = Browser::new();
    let r = before
        .submit_login(&idp.base, &idp.url("/login"), "tamtt", PASSWORD)
        .await;
    assert_eq!(location(&r), "/");

    // The same answer for a real and an unknown account; mail only for the real one.
    let real = forgot(&idp, "tamtt").await;
    let unknown = forgot(&idp, "khongco").await;
    assert_eq!(real.0, StatusCode::OK);
    assert!(real.1.contains("Nếu tài khoản tồn tại"), "{real:?}");
    assert_eq!(real, unknown);
    let m = smtp.wait_for(TAM, "Đặt lại mật khẩu", 1);
    let start = m.body.find("http://").unwrap();
    let link = m.body[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    assert!(
        link.starts_with(&format!("{}/password/reset?token=", idp.base)),
        "{link}"
    );

    let b = Browser::new();
    let new = "Mật-khẩu-mới-2025";
    let (st, html) = choose(&b, &idp, &link, new, "khác-hẳn-2025").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("Hai mật khẩu không giống nhau."));
    // The page says which rule failed, with the policy's own minimum.
    let (st, html) = choose(&b, &idp, &link, "ngắn", "ngắn").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        html.contains("Mật khẩu phải có ít nhất 10 ký tự."),
        "{html}"
    );
    let (st, html) = choose(&b, &idp, &link, "matkhau@123", "matkhau@123").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("danh sách mật khẩu phổ biến"), "{html}");
    assert!(
        !html.contains("ít nhất 10 ký tự."),
        "one reason, not every rule"
    );
    let (st, html) = choose(&b, &idp, &link, new, new).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Đã đổi mật khẩu."), "{html}");
    // The link works once.
    let (st, _) = choose(&b, &idp, &link, new, new).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // The session from before is over; the old password no longer works, the new one does.
    let home = before.get(&idp.url("/")).await.text().await.unwrap();
    assert!(home.contains(r#"action="/login""#), "signed out everywhere");
    let r = Browser::new()
        .submit_login(&idp.base, &idp.url("/login"), "tamtt", PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::OK, "the old password");
    let r = Browser::new()
        .submit_login(&idp.base, &idp.url("/login"), "tamtt", new)
        .await;
    assert_eq!(location(&r), "/");
    let m = smtp.wait_for(TAM, "Mật khẩu đã được thay đổi", 1);
    assert!(m.body.contains("mọi phiên đăng nhập cũ đã kết thúc"));
    assert!(
        !smtp.received().iter().any(|m| m.to.contains("khongco")),
        "nobody else gets mail"
    );
}
