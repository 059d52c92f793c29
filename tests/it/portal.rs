//! The portal at the issuer's root: the sign-in form for a stranger, the
//! app-picker for a person, with tiles by unit, most recently used first,
//! searchable without diacritics, launching through `initiate_login_uri`.

use reqwest::StatusCode;

use crate::browser::{Browser, location, param};
use crate::harness::{Backends, Idp, PASSWORD};

/// Sample images of the repository's test data (`tests/fixtures/images`).
pub fn fixture(name: &str) -> std::path::PathBuf {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/images")
        .join(name);
    assert!(
        p.exists(),
        "{} is missing from the repository's test data",
        p.display()
    );
    p
}

#[tokio::test]
async fn app_picker_shows_the_right_tiles_in_the_right_order() {
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
            "--group",
            "lanh-dao",
            "--password-stdin",
        ],
        Some(PASSWORD),
    );
    // Apps for groups: the leaders' one is shown to a leader of any unit.
    for (id, name, group) in [
        ("dieuhanh", "Chỉ đạo điều hành", "lanh-dao"),
        ("phathanh", "Phát hành văn bản", "van-thu"),
    ] {
        idp.cli_ok(
            &[
                "app",
                "add",
                id,
                "--name",
                name,
                "--url",
                "http://127.0.0.1:9/g",
                "--unit",
                "Sở Tài chính",
                "--group",
                group,
            ],
            None,
        );
    }
    assert!(
        idp.cli_ok(&["app", "list"], None)
            .contains("Sở Tài chính,group:lanh-dao")
    );
    idp.add_client(
        "vanban",
        "http://127.0.0.1:9/vanban/cb",
        &["--initiate-login-uri", "http://127.0.0.1:9/vanban/login"],
    );
    let icon = fixture("seal.png");
    idp.cli_ok(
        &[
            "app",
            "add",
            "vanban",
            "--name",
            "Quản lý văn bản",
            "--url",
            "http://127.0.0.1:9/vanban",
            "--client",
            "vanban",
            "--icon",
            icon.to_str().unwrap(),
            "--description",
            "Onewin",
        ],
        None,
    );
    idp.cli_ok(
        &[
            "app",
            "add",
            "lich",
            "--name",
            "Lịch công tác",
            "--url",
            "http://127.0.0.1:9/lich",
        ],
        None,
    );
    idp.cli_ok(
        &[
            "app",
            "add",
            "ngansach",
            "--name",
            "Ngân sách",
            "--url",
            "http://127.0.0.1:9/ns",
            "--unit",
            "Sở Tài chính",
        ],
        None,
    );
    // Bad icons and unknown clients are refused, and nothing is half-added.
    let bad = idp.cli(
        &[
            "app",
            "add",
            "x",
            "--name",
            "X",
            "--url",
            "http://127.0.0.1:9/x",
            "--icon",
            fixture("not-an-image.png").to_str().unwrap(),
        ],
        None,
    );
    assert!(String::from_utf8_lossy(&bad.stderr).contains("PNG or JPEG"));
    let bad = idp.cli(
        &[
            "app",
            "add",
            "y",
            "--name",
            "Y",
            "--url",
            "http://127.0.0.1:9/y",
            "--client",
            "nobody",
        ],
        None,
    );
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no client nobody"));
    assert!(!idp.cli_ok(&["app", "list"], None).contains("\tX\t"));

    // A stranger gets the sign-in form at the root.
    let browser = Browser::new();
    let html = browser.get(&idp.url("/")).await.text().await.unwrap();
    assert!(html.contains(r#"name="password""#));
    let r = browser
        .submit_login(&idp.base, &idp.url("/"), "tamtt", PASSWORD)
        .await;
    assert_eq!(location(&r), "/");

    let page = |q: &'static str| {
        let b = &browser;
        let url = idp.url(q);
        async move { b.get(&url).await.text().await.unwrap() }
    };
    let html = page("/").await;
    assert!(html.contains("Trương Thanh Tâm"));
    assert!(html.contains("Quản lý văn bản") && html.contains("Lịch công tác"));
    assert!(
        !html.contains("Ngân sách"),
        "an app for another unit is not shown"
    );
    assert!(
        html.contains("Chỉ đạo điều hành"),
        "an app for one of the person's groups is shown"
    );
    assert!(
        !html.contains("Phát hành văn bản"),
        "an app for another group is not shown"
    );
    assert!(
        html.find("Lịch công tác").unwrap() < html.find("Quản lý văn bản").unwrap(),
        "by name before any use"
    );

    // A tile starts the app's own login (OIDC Core §4), and moves to the front.
    let r = browser.get(&idp.url("/launch/vanban")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    assert!(to.starts_with("http://127.0.0.1:9/vanban/login?"), "{to}");
    assert_eq!(param(&to, "iss").as_deref(), Some(idp.base.as_str()));
    assert_eq!(
        param(&to, "target_link_uri").as_deref(),
        Some("http://127.0.0.1:9/vanban")
    );
    let html = page("/").await;
    assert!(
        html.find("Quản lý văn bản").unwrap() < html.find("Lịch công tác").unwrap(),
        "most recently used first"
    );
    let r = browser.get(&idp.url("/launch/lich")).await;
    assert_eq!(
        location(&r),
        "http://127.0.0.1:9/lich",
        "no initiate_login_uri: the launch URL"
    );

    // Search without diacritics or capitals.
    let html = page("/?q=VAN%20BAN").await;
    assert!(html.contains("Quản lý văn bản") && !html.contains("Lịch công tác"));
    assert!(
        page("/?q=khong-co")
            .await
            .contains("Không có ứng dụng nào khớp")
    );

    // Other units' and groups' apps cannot be launched by URL either.
    for app in ["ngansach", "phathanh"] {
        let r = browser.get(&idp.url(&format!("/launch/{app}"))).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{app}");
    }
    assert_eq!(
        location(&browser.get(&idp.url("/launch/dieuhanh")).await),
        "http://127.0.0.1:9/g"
    );

    // The icon is served as uploaded, with its type.
    let r = browser.get(&idp.url("/apps/vanban/icon")).await;
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(
        r.bytes().await.unwrap().as_ref(),
        std::fs::read(&icon).unwrap().as_slice()
    );
    assert_eq!(
        browser.get(&idp.url("/apps/lich/icon")).await.status(),
        StatusCode::NOT_FOUND
    );

    // In English on the switch.
    browser.get(&idp.url("/lang/en?next=/")).await;
    assert!(page("/").await.contains("Your apps"));
}

#[tokio::test]
async fn branding_names_the_province_and_a_bad_logo_stops_the_start() {
    let logo = fixture("seal.png");
    let idp = Idp::spawn(&Backends {
        env: vec![
            ("IDP_BRANDING__NAME".into(), "UBND tỉnh Bình Phước".into()),
            ("IDP_BRANDING__PRIMARY_COLOR".into(), "#a61b1b".into()),
            ("IDP_BRANDING__LOGO_PATH".into(), logo.display().to_string()),
        ],
        ..Backends::default()
    });
    let browser = Browser::new();
    let html = browser.get(&idp.url("/")).await.text().await.unwrap();
    assert!(html.contains(r#"<span class="brand"><img src="/static/logo" alt="" height="32">UBND tỉnh Bình Phước</span>"#), "{html}");
    assert!(
        !html.contains("Hệ thống thông tin chính quyền số"),
        "the neutral name is replaced"
    );
    let css = browser
        .get(&idp.url("/static/brand.css"))
        .await
        .text()
        .await
        .unwrap();
    assert!(css.contains("--brand: #a61b1b"));
    let r = browser.get(&idp.url("/static/logo")).await;
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(
        r.bytes().await.unwrap().as_ref(),
        std::fs::read(&logo).unwrap().as_slice()
    );

    // Without branding: the neutral name, an empty brand stylesheet, no logo.
    let plain = Idp::spawn(&Backends::default());
    let html = browser.get(&plain.url("/")).await.text().await.unwrap();
    assert!(html.contains("Hệ thống thông tin chính quyền số") && !html.contains("/static/logo\""));
    assert_eq!(
        browser.get(&plain.url("/static/logo")).await.status(),
        StatusCode::NOT_FOUND
    );

    // A logo that is not an image stops the server with the field and the reason.
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(crate::harness::idp_bin())
        .arg("serve")
        .env_clear()
        .env("IDP_LISTEN", "127.0.0.1:0")
        .env("IDP_DATA_DIR", dir.path())
        .env(
            "IDP_DATABASE_URL",
            format!("sqlite://{}/x.db", dir.path().display()),
        )
        .env("IDP_BRANDING__LOGO_PATH", fixture("not-an-image.png"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("branding.logo_path") && err.contains("PNG or JPEG"),
        "{err}"
    );
}
