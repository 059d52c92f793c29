//! The account page over HTTP: profile changes checked and saved, signature
//! uploads (a valid PNG, a non-image, an oversized and a half-written one)
//! that never lose the image already there, the person's sessions with
//! "sign out of my other sessions", and recent sign-in activity.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};

use crate::browser::{Browser, hidden, location};
use crate::harness::{Backends, Idp, PASSWORD};
use crate::portal::fixture;

async fn signed_in(idp: &Idp, user_agent: &str) -> Browser {
    let browser = Browser {
        http: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(user_agent)
            .build()
            .unwrap(),
    };
    let r = browser
        .submit_login(&idp.base, &idp.url("/login"), "tamtt", PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    browser
}

async fn account(browser: &Browser, idp: &Idp) -> (String, String) {
    let r = browser.get(&idp.url("/account")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let csrf = hidden(&html, "csrf").unwrap();
    (html, csrf)
}

async fn upload(
    browser: &Browser,
    idp: &Idp,
    csrf: &str,
    name: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let form = Form::new()
        .text("csrf", csrf.to_owned())
        .part("signature", Part::bytes(bytes).file_name(name.to_owned()));
    browser
        .http
        .post(idp.url("/account/signature"))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// A PNG of `w`×`h` pixels that does not compress to nothing.
fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(w, h, |x, y| {
        image::Rgba([
            (x * 7 % 256) as u8,
            (y * 13 % 256) as u8,
            ((x ^ y) % 256) as u8,
            255,
        ])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[tokio::test]
async fn profile_and_signature_are_checked_and_kept() {
    let idp = Idp::spawn(&Backends::default());
    idp.add_person();
    let browser = signed_in(&idp, "Mozilla/5.0 (Windows NT 10.0) Chrome/120.0").await;

    // A stranger is sent to the sign-in form; nobody sees anyone's signature.
    let stranger = Browser::new();
    assert_eq!(location(&stranger.get(&idp.url("/account")).await), "/");
    assert_eq!(
        location(&stranger.get(&idp.url("/account/signature.png")).await),
        "/"
    );

    let (html, csrf) = account(&browser, &idp).await;
    assert!(html.contains("tamtt@binhphuoc.gov.vn"));
    assert!(html.contains(r#"value="0888778078""#), "phone from the CLI");
    assert!(html.contains("Chưa có ảnh chữ ký."));

    // The profile: saved when valid, refused with a reason when not.
    let profile = |phone: &str, csrf: &str| {
        vec![
            ("csrf", csrf.to_owned()),
            ("name", "Trương Thanh Tâm".to_owned()),
            ("unit", "Văn phòng UBND tỉnh".to_owned()),
            ("phone", phone.to_owned()),
            ("personal_email", "tamtt.ca.nhan@gmail.com".to_owned()),
            ("signature_page", "first".to_owned()),
            ("signature_place", "top-right".to_owned()),
        ]
    };
    let r = browser
        .http
        .post(idp.url("/account"))
        .form(&profile("0912 345 678", &csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/account?done=saved");
    let (html, _) = account(&browser, &idp).await;
    assert!(html.contains(r#"value="0912345678""#));
    assert!(html.contains(r#"value="tamtt.ca.nhan@gmail.com""#));
    // The unit is not the person's to change (it bounds a unit administrator):
    // an administrator moves them.
    assert!(!html.contains("Văn phòng UBND tỉnh"), "{html}");
    let out = idp.cli_ok(&["user", "set-unit", "tamtt", "Văn phòng UBND tỉnh"], None);
    assert!(out.contains("is now in unit Văn phòng UBND tỉnh"), "{out}");
    let (html, _) = account(&browser, &idp).await;
    assert!(
        html.contains(r#"value="Văn phòng UBND tỉnh" readonly"#),
        "{html}"
    );
    assert!(html.contains(r#"<option value="first" selected>"#));
    assert!(html.contains(r#"<option value="top-right" selected>"#));

    let r = browser
        .http
        .post(idp.url("/account"))
        .form(&profile("09-12ab", &csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Số điện thoại không hợp lệ")
    );
    let r = browser
        .http
        .post(idp.url("/account"))
        .form(&profile("0999999999", "forged"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "no CSRF token, no change"
    );
    let (html, _) = account(&browser, &idp).await;
    assert!(
        html.contains(r#"value="0912345678""#),
        "bad input lost nothing"
    );

    // A valid PNG is stored, re-encoded: same pixels, our own PNG.
    let original = std::fs::read(fixture("signature.png")).unwrap();
    let r = upload(&browser, &idp, &csrf, "signature.png", original.clone()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/account?done=signature");
    let html = browser
        .get(&idp.url("/account?done=signature"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Đã lưu ảnh chữ ký."));
    assert!(html.contains(r#"src="/account/signature.png?v="#));
    let r = browser.get(&idp.url("/account/signature.png")).await;
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["cache-control"], "private, no-store");
    let stored = r.bytes().await.unwrap().to_vec();
    let a = image::load_from_memory(&original).unwrap().into_rgba8();
    let b = image::load_from_memory(&stored).unwrap().into_rgba8();
    assert_eq!((b.width(), b.height()), (600, 240));
    assert_eq!(a, b, "the same pixels");

    // Refused uploads say why, in Vietnamese, and keep the stored image.
    let not_image = std::fs::read(fixture("not-an-image.png")).unwrap();
    let mut oversized = original.clone();
    oversized.resize(1024 * 1024 + 10, 0);
    let half = original[..original.len() / 2].to_vec();
    for (name, bytes, status, says) in [
        (
            "not-an-image.png",
            not_image,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "không phải ảnh PNG hoặc JPEG",
        ),
        (
            "oversized.png",
            oversized,
            StatusCode::PAYLOAD_TOO_LARGE,
            "Ảnh lớn hơn 1 MB",
        ),
        (
            "wide.png",
            png(2400, 300),
            StatusCode::UNPROCESSABLE_ENTITY,
            "2000 × 1000",
        ),
        (
            "half.png",
            half,
            StatusCode::UNPROCESSABLE_ENTITY,
            "chưa tải lên hết",
        ),
    ] {
        let r = upload(&browser, &idp, &csrf, name, bytes).await;
        assert_eq!(r.status(), status, "{name}");
        let html = r.text().await.unwrap();
        assert!(html.contains(says), "{name}: {html}");
    }
    let r = upload(&browser, &idp, "forged", "signature.png", png(300, 100)).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let still = browser
        .get(&idp.url("/account/signature.png"))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(still.to_vec(), stored, "refused uploads lose nothing");

    // Deleting it.
    let r = browser
        .http
        .post(idp.url("/account/signature/delete"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/account?done=deleted");
    assert_eq!(
        browser
            .get(&idp.url("/account/signature.png"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn other_sessions_are_listed_and_signed_out() {
    let idp = Idp::spawn(&Backends::default());
    idp.add_person();
    // A wrong password first: it shows in the activity.
    let r = Browser::new()
        .submit_login(&idp.base, &idp.url("/login"), "tamtt", "wrong password")
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let office = signed_in(
        &idp,
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36",
    )
    .await;
    let phone = signed_in(
        &idp,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1",
    )
    .await;

    let (html, csrf) = account(&office, &idp).await;
    assert!(html.contains("Chrome · Windows"));
    assert!(html.contains("Safari · iPhone"));
    assert_eq!(html.matches("Phiên này").count(), 1);
    assert!(html.contains("Đăng nhập không thành công (sai mật khẩu)"));
    assert_eq!(html.matches("Đăng nhập thành công").count(), 2);

    let r = office
        .http
        .post(idp.url("/account/sessions/others"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/account?done=others");

    // The phone is signed out; the office PC is not.
    let home = phone.get(&idp.url("/")).await.text().await.unwrap();
    assert!(
        home.contains(r#"name="password""#),
        "the phone sees the sign-in form"
    );
    let html = office
        .get(&idp.url("/account?done=others"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Đã đăng xuất khỏi các phiên khác."));
    assert!(!html.contains("Safari · iPhone"));
    assert!(html.contains("Không có phiên nào khác."));
    assert!(
        html.contains(">Đăng xuất<"),
        "the sign-out is in the activity"
    );
}
