//! The console's apps and clients pages and their JSON API against the real
//! binary: a client registered in the console signs a person in, a rotated
//! secret replaces the old one at the token endpoint at once, a plain http
//! redirect URI is refused with the reason, a secret never reaches the audit
//! log or the server's log; icons are checked and served on the tile;
//! visibility hides a tile from another unit; unit administrators and
//! auditors change nothing (console and API); and Chromium's view of an
//! app's page.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::browser::{Browser, authorize_url, hidden, param, pkce};
use crate::console::{NOI_VU, TAI_CHINH, console_sign_in, get, id_of, person, submit};
use crate::harness::{Backends, PASSWORD, audit_events};
use crate::mfa::{Setup, setup_on};
use crate::oidc_flow::{REDIRECT, rp_http};

const CB: &str = "https://congvan.binhphuoc.gov.vn/cb";

/// The secret a page shows once.
fn secret_on(html: &str) -> String {
    let start = html
        .find(r#"<code class="secret">"#)
        .expect("a secret on the page")
        + 21;
    let end = start + html[start..].find("</code>").unwrap();
    html[start..end].to_owned()
}

/// A sign-in of `b` to `client` by the code flow; returns the code and verifier.
async fn code_for(
    s: &Setup,
    b: &Browser,
    client: &str,
    extra: &[(&str, &str)],
) -> (String, String) {
    let (verifier, challenge) = pkce();
    let mut all = vec![
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    all.extend_from_slice(extra);
    let url = authorize_url(&s.idp.base, client, CB, &all);
    let back = b.sign_in_via(&s.idp.base, &url, "tamtt", PASSWORD).await;
    assert!(back.starts_with(CB), "{back}");
    (param(&back, "code").expect("a code"), verifier)
}

/// Redeems a code with `secret`; returns the status and the JSON body.
async fn redeem(
    s: &Setup,
    client: &str,
    secret: &str,
    code: &str,
    verifier: &str,
) -> (StatusCode, Value) {
    let r = rp_http()
        .post(s.idp.url("/token"))
        .basic_auth(client, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CB),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

/// Posts a console form with the page's token; returns status and page.
async fn post_page(
    b: &Browser,
    s: &Setup,
    path: &str,
    html: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let mut form: Vec<(&str, String)> = fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    form.push(("csrf", hidden(html, "csrf").expect("csrf field")));
    let r = b
        .http
        .post(s.idp.url(path))
        .form(&form)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

#[tokio::test]
async fn a_client_registered_in_the_console_signs_in_and_a_rotated_secret_replaces_the_old_one() {
    let s = setup_on(Backends::default());
    person(&s, "quantri", "Quản trị hệ thống", NOI_VU, true, None);
    let (admin, _) = console_sign_in(&s, "quantri").await;
    let (st, form) = get(&admin, &s, "/admin/clients/new").await;
    assert_eq!(st, StatusCode::OK);
    assert!(form.contains("Đăng ký client OIDC"), "{form}");

    // A redirect URI that is not https: refused with the reason, nothing stored.
    let mut fields = vec![
        ("client_id", "congvan"),
        ("name", "Công văn điện tử"),
        ("kind", "confidential"),
        ("grant_code", "1"),
        ("grant_refresh", "1"),
        ("redirect_uris", "http://congvan.binhphuoc.gov.vn/cb"),
        ("pkce", "required"),
        ("alg", "RS256"),
    ];
    let (st, html) = post_page(&admin, &s, "/admin/clients", &form, &fields).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("Địa chỉ phải dùng https"), "{html}");
    assert!(
        html.contains("<code>http://congvan.binhphuoc.gov.vn/cb</code>"),
        "{html}"
    );
    assert!(!s.idp.cli_ok(&["client", "list"], None).contains("congvan"));

    // Registered: the secret is shown on that response.
    fields[5] = ("redirect_uris", CB);
    let (st, html) = post_page(&admin, &s, "/admin/clients", &form, &fields).await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(html.contains("chỉ hiện một lần"), "{html}");
    let first = secret_on(&html);
    assert!(first.len() >= 32);

    // A real sign-in against it.
    let tam = Browser::new();
    let (code, verifier) = code_for(&s, &tam, "congvan", &[]).await;
    let (st, body) = redeem(&s, "congvan", &first, &code, &verifier).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert!(body["id_token"].is_string());

    // The client's page never shows it again; rotation shows a new one.
    let (st, page) = get(&admin, &s, "/admin/clients/congvan").await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        !page.contains(&first) && page.contains("Tạo secret mới"),
        "{page}"
    );
    let (st, html) = post_page(&admin, &s, "/admin/clients/congvan/rotate", &page, &[]).await;
    assert_eq!(st, StatusCode::OK);
    let second = secret_on(&html);
    assert_ne!(first, second);
    // The old secret is refused at once, the new one works.
    let (code, verifier) = code_for(&s, &tam, "congvan", &[]).await;
    let (st, body) = redeem(&s, "congvan", &first, &code, &verifier).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"], "invalid_client");
    let (code, verifier) = code_for(&s, &tam, "congvan", &[]).await;
    let (st, body) = redeem(&s, "congvan", &second, &code, &verifier).await;
    assert_eq!(st, StatusCode::OK, "{body}");

    // Addresses: http refused with the reason, a URI removed by leaving it out.
    let uris = format!("{CB}\nhttp://congvan.binhphuoc.gov.vn/cb2");
    let edit = [("name", "Công văn"), ("redirect_uris", uris.as_str())];
    let (st, html) = post_page(&admin, &s, "/admin/clients/congvan", &page, &edit).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("Địa chỉ phải dùng https"), "{html}");
    let two = format!("{CB}\nhttps://congvan.binhphuoc.gov.vn/cb2");
    let (st, to) = submit(
        &admin,
        &s,
        "/admin/clients/congvan",
        Some(&page),
        &[("name", "Công văn"), ("redirect_uris", &two)],
    )
    .await;
    assert_eq!(
        (st, to.as_deref()),
        (
            StatusCode::SEE_OTHER,
            Some("/admin/clients/congvan?done=saved")
        )
    );
    let (st, _) = submit(
        &admin,
        &s,
        "/admin/clients/congvan",
        Some(&page),
        &[("name", "Công văn"), ("redirect_uris", CB)],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, page) = get(&admin, &s, "/admin/clients/congvan").await;
    let uris = page
        .split(r#"name="redirect_uris" rows="3">"#)
        .nth(1)
        .and_then(|r| r.split("</textarea>").next())
        .unwrap_or_default();
    assert_eq!(uris, CB, "removed: {page}");

    // Audited with the administrator as actor; no secret anywhere in the audit log or the server's log.
    let admin_id = id_of(&s, "quantri@binhphuoc.gov.vn");
    let events = audit_events(&s.idp).await;
    for kind in [
        "admin.client_added",
        "admin.client_secret_rotated",
        "admin.client_updated",
    ] {
        let e = events
            .iter()
            .find(|e| e.kind == kind)
            .unwrap_or_else(|| panic!("{kind}"));
        assert_eq!(e.actor.as_deref(), Some(admin_id.as_str()), "{kind}");
    }
    // The first change, before and after.
    assert!(
        events.iter().any(|e| e.kind == "admin.client_updated"
            && e.detail.as_deref().is_some_and(|d| {
                d.contains("before: name=Công văn điện tử") && d.contains("/cb2")
            })),
        "{events:?}"
    );
    let everything = format!("{events:?}");
    let log = s.idp.log();
    for secret in [&first, &second] {
        assert!(
            !everything.contains(secret.as_str()),
            "a secret in the audit log"
        );
        assert!(
            !log.contains(secret.as_str()),
            "a secret in the server's log"
        );
    }
}

/// A small PNG (1×1).
fn png() -> Vec<u8> {
    let mut out = Vec::new();
    let img = image::RgbaImage::from_pixel(1, 1, image::Rgba([11, 83, 148, 255]));
    image::DynamicImage::ImageRgba8(img)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

async fn upload_icon(
    b: &Browser,
    s: &Setup,
    app: &str,
    page: &str,
    bytes: Vec<u8>,
) -> (StatusCode, String) {
    let form = Form::new()
        .text("csrf", hidden(page, "csrf").unwrap())
        .part("icon", Part::bytes(bytes).file_name("icon.png"));
    let r = b
        .http
        .post(s.idp.url(&format!("/admin/apps/{app}/icon")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

#[tokio::test]
async fn icons_are_checked_and_visibility_hides_a_tile_from_another_unit() {
    let s = setup_on(Backends::default());
    person(&s, "quantri", "Quản trị hệ thống", NOI_VU, true, None);
    person(&s, "lanvt", "Võ Thị Lan", NOI_VU, false, None);
    person(&s, "hungnv", "Nguyễn Văn Hùng", TAI_CHINH, false, None);
    let (admin, _) = console_sign_in(&s, "quantri").await;
    let (_, list) = get(&admin, &s, "/admin/apps").await;
    let add = [
        ("app_id", "congvan"),
        ("name", "Công văn"),
        ("url", "https://congvan.binhphuoc.gov.vn/"),
        ("client", "vanban"),
    ];
    let (st, to) = submit(&admin, &s, "/admin/apps", Some(&list), &add).await;
    assert_eq!(
        (st, to.as_deref()),
        (
            StatusCode::SEE_OTHER,
            Some("/admin/apps/congvan?done=added")
        )
    );
    let (st, page) = get(&admin, &s, "/admin/apps/congvan?done=added").await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        page.contains("Đã thêm ứng dụng.") && page.contains("Mọi người"),
        "{page}"
    );

    // A GIF, an SVG and a PNG over the cap are refused; nothing is stored.
    let (st, html) = upload_icon(
        &admin,
        &s,
        "congvan",
        &page,
        b"GIF89a\x01\x00\x01\x00".to_vec(),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        html.contains("Biểu tượng phải là ảnh PNG hoặc JPEG."),
        "{html}"
    );
    let (st, _) = upload_icon(
        &admin,
        &s,
        "congvan",
        &page,
        b"<svg onload=alert(1)>".to_vec(),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let big = [png(), vec![0; 300 * 1024]].concat();
    let (st, html) = upload_icon(&admin, &s, "congvan", &page, big).await;
    assert!(
        st == StatusCode::BAD_REQUEST || st == StatusCode::PAYLOAD_TOO_LARGE,
        "{st}"
    );
    if st == StatusCode::BAD_REQUEST {
        assert!(html.contains("lớn hơn 256 KB"), "{html}");
    }
    let r = rp_http()
        .get(s.idp.url("/apps/congvan/icon"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Without the token: refused before the file is looked at.
    let form = Form::new().part("icon", Part::bytes(png()).file_name("i.png"));
    let r = admin
        .http
        .post(s.idp.url("/admin/apps/congvan/icon"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A good one is served as the tile's icon.
    let (st, _) = upload_icon(&admin, &s, "congvan", &page, png()).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let r = rp_http()
        .get(s.idp.url("/apps/congvan/icon"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.unwrap().as_ref(), png().as_slice());

    // Shown to Sở Nội vụ only: Lan sees the tile with its icon, Hùng does not.
    let edit = [
        ("name", "Công văn"),
        ("url", "https://congvan.binhphuoc.gov.vn/"),
        ("client", "vanban"),
        ("units", NOI_VU),
    ];
    let (st, to) = submit(&admin, &s, "/admin/apps/congvan", Some(&page), &edit).await;
    assert_eq!(
        (st, to.as_deref()),
        (
            StatusCode::SEE_OTHER,
            Some("/admin/apps/congvan?done=saved")
        )
    );
    let (_, page) = get(&admin, &s, "/admin/apps/congvan").await;
    assert!(page.contains("Đơn vị: Sở Nội vụ"), "{page}");
    for (account, sees) in [("lanvt", true), ("hungnv", false)] {
        let b = Browser::new();
        let r = b
            .submit_login(&s.idp.base, &s.idp.url("/"), account, PASSWORD)
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (_, portal) = get(&b, &s, "/").await;
        assert_eq!(
            portal.contains("/launch/congvan"),
            sees,
            "{account}: {portal}"
        );
        assert_eq!(
            portal.contains(r#"src="/apps/congvan/icon""#),
            sees,
            "{account}"
        );
    }
    // The claim that carries the legacy username: a registered claim is refused.
    let (st, html) = post_page(
        &admin,
        &s,
        "/admin/apps/congvan/claim",
        &page,
        &[("claim", "sub")],
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("Tên claim"), "{html}");
    let (st, to) = submit(
        &admin,
        &s,
        "/admin/apps/congvan/claim",
        Some(&page),
        &[("claim", "preferred_username")],
    )
    .await;
    assert_eq!(
        (st, to.as_deref()),
        (
            StatusCode::SEE_OTHER,
            Some("/admin/apps/congvan?done=claim")
        )
    );
    let kinds: Vec<String> = audit_events(&s.idp)
        .await
        .into_iter()
        .map(|e| e.kind)
        .collect();
    for k in [
        "admin.app_added",
        "admin.app_icon_set",
        "admin.app_updated",
        "link.claim_set",
    ] {
        assert!(kinds.iter().any(|x| x == k), "{k} in {kinds:?}");
    }
}

/// An access token with the `admin` scope for the person signed in to `b`
/// (whose session has a second factor), through the client `console-cli`.
async fn admin_token(s: &Setup, b: &Browser, secret: &str) -> String {
    crate::console_api::token(s, b, "console-cli", secret, "openid admin", true).await
}

async fn api(
    token: &str,
    s: &Setup,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut r = rp_http()
        .request(method, s.idp.url(&format!("/api/admin/v1{path}")))
        .bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let st = r.status();
    (st, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn unit_admins_and_auditors_change_no_app_or_client_and_the_api_mirrors_the_console() {
    use reqwest::Method;
    let s = setup_on(Backends::default());
    person(&s, "quantri", "Quản trị hệ thống", NOI_VU, true, None);
    person(
        &s,
        "kiemtoan",
        "Kiểm toán viên",
        NOI_VU,
        false,
        Some("auditor"),
    );
    person(
        &s,
        "qtnoivu",
        "Quản trị Sở Nội vụ",
        NOI_VU,
        false,
        Some("unit_admin"),
    );
    person(&s, "lanvt", "Võ Thị Lan", NOI_VU, false, None);
    let console_cli = s
        .idp
        .add_client("console-cli", REDIRECT, &["--scope", "admin"]);
    s.idp.cli_ok(
        &[
            "app",
            "add",
            "vanban",
            "--name",
            "Văn bản",
            "--url",
            "https://vanban.binhphuoc.gov.vn/",
            "--client",
            "vanban",
        ],
        None,
    );

    // A unit administrator does not see the apps pages at all.
    let (unit, _) = console_sign_in(&s, "qtnoivu").await;
    let (_, home) = get(&unit, &s, "/admin").await;
    assert!(
        !home.contains(r#"href="/admin/apps""#),
        "no Ứng dụng in the navigation"
    );
    for path in [
        "/admin/apps",
        "/admin/apps/vanban",
        "/admin/clients/vanban",
        "/admin/clients/new",
    ] {
        let (st, _) = get(&unit, &s, path).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{path}");
    }
    // An auditor reads but every change is refused, with a valid token.
    let (auditor, _) = console_sign_in(&s, "kiemtoan").await;
    let (st, page) = get(&auditor, &s, "/admin/apps/vanban").await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        !page.contains(r#"action="/admin/apps/vanban"#),
        "no forms: {page}"
    );
    let (st, list) = get(&auditor, &s, "/admin/apps").await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        list.contains("Bạn chỉ được xem") && !list.contains("/admin/clients/new"),
        "{list}"
    );
    let tries: [(&str, &[(&str, &str)]); 5] = [
        (
            "/admin/apps",
            &[("app_id", "x"), ("name", "X"), ("url", "https://x.gov.vn/")],
        ),
        (
            "/admin/apps/vanban",
            &[("name", "Đổi tên"), ("url", "https://x.gov.vn/")],
        ),
        (
            "/admin/apps/vanban/claim",
            &[("claim", "preferred_username")],
        ),
        (
            "/admin/clients",
            &[("client_id", "x"), ("redirect_uris", CB)],
        ),
        ("/admin/clients/vanban/rotate", &[]),
    ];
    // The unit administrator's token comes from a page they may use.
    let lan = id_of(&s, "lanvt@binhphuoc.gov.vn");
    let (st, unit_page) = get(&unit, &s, &format!("/admin/people/{lan}")).await;
    assert_eq!(st, StatusCode::OK);
    // The auditor's pages have no forms: a valid token from their account page.
    let (_, account) = get(&auditor, &s, "/account").await;
    for (path, fields) in tries {
        for (who, html) in [(&auditor, &account), (&unit, &unit_page)] {
            let (st, _) = submit(who, &s, path, Some(html), fields).await;
            assert_eq!(st, StatusCode::FORBIDDEN, "{path}");
        }
    }
    let (st, _) = upload_icon(&auditor, &s, "vanban", &account, png()).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let kinds: Vec<String> = audit_events(&s.idp)
        .await
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(
        !kinds.iter().any(
            |k| k.starts_with("admin.client_") && k != "admin.client_added"
                || k == "admin.app_updated"
                || k == "link.claim_set"
        ),
        "{kinds:?}"
    );

    // The JSON API: the same powers.
    let (admin, _) = console_sign_in(&s, "quantri").await;
    let token = admin_token(&s, &admin, &console_cli).await;
    let (st, body) = api(&token, &s, Method::GET, "/apps", None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["apps"][0]["id"], "vanban");
    let reg = json!({"client_id": "lich", "redirect_uris": ["http://lich.binhphuoc.gov.vn/cb"]});
    let (st, body) = api(&token, &s, Method::POST, "/clients", Some(reg)).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("use https"),
        "{body}"
    );
    let reg = json!({"client_id": "lich", "redirect_uris": [CB]});
    let (st, body) = api(&token, &s, Method::POST, "/clients", Some(reg)).await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    let first = body["client_secret"].as_str().unwrap().to_owned();
    let (st, body) = api(&token, &s, Method::POST, "/clients/lich/secret", None).await;
    assert_eq!(st, StatusCode::OK);
    let second = body["client_secret"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    let (st, body) = api(&token, &s, Method::GET, "/clients/lich", None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(body.get("client_secret").is_none() && !body.to_string().contains(&second));
    let patch = json!({"name": "Văn bản điện tử", "units": [TAI_CHINH]});
    let (st, body) = api(&token, &s, Method::PATCH, "/apps/vanban", Some(patch)).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["units"], json!([TAI_CHINH]));
    assert_eq!(body["url"], "https://vanban.binhphuoc.gov.vn/", "unchanged");
    let r = rp_http()
        .put(s.idp.url("/api/admin/v1/apps/vanban/icon"))
        .bearer_auth(&token)
        .body(b"GIF89a".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = rp_http()
        .put(s.idp.url("/api/admin/v1/apps/vanban/icon"))
        .bearer_auth(&token)
        .body(png())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (st, _) = api(&token, &s, Method::GET, "/clients/nobody", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // The auditor's token reads and cannot write.
    let auditor_token = admin_token(&s, &auditor, &console_cli).await;
    let (st, _) = api(&auditor_token, &s, Method::GET, "/clients", None).await;
    assert_eq!(st, StatusCode::OK);
    let (st, body) = api(
        &auditor_token,
        &s,
        Method::POST,
        "/clients/lich/secret",
        None,
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    let (st, _) = api(
        &auditor_token,
        &s,
        Method::PATCH,
        "/apps/vanban",
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let log = s.idp.log();
    for secret in [&first, &second] {
        assert!(
            !log.contains(secret.as_str()),
            "a secret in the server's log"
        );
    }
}
