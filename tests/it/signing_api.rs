//! The signing API (`/api/v1/signing`) against the real binary, as a
//! document app calls it: an access token with `scope=openid sign` and
//! `acr_values=2` from a client registered with `--scope sign`. The official
//! signs, the clerk (văn thư) adds the office's signature; a person without
//! the clerk role may not; tokens without the scope or the second factor are
//! refused; bad documents get a code and a Vietnamese message; deferred
//! signing with a key the server never sees (openssl, as a USB token would).
//! Every signed output is judged by pdfsig and pyHanko.

use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::browser::{Browser, hidden};
use crate::console::{NOI_VU, console_sign_in, person};
use crate::console_api::token;
use crate::demo_apps::{demo_document_app, follow};
use crate::harness::pdf::sample;
use crate::harness::pdf::{openssl_key_and_cert, pdfsig, pyhanko_validate};
use crate::harness::{Backends, audit_events};
use crate::mfa::{Setup, setup_on};
use crate::oidc_flow::{REDIRECT, rp_http};

const API: &str = "/api/v1/signing";

fn pdf_part(bytes: Vec<u8>) -> Part {
    Part::bytes(bytes)
        .file_name("van-ban.pdf")
        .mime_str("application/pdf")
        .unwrap()
}

/// A POST of `form` to `path` with `token`: status, headers, body.
async fn call(
    s: &Setup,
    path: &str,
    token: Option<&str>,
    form: Form,
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = rp_http()
        .post(s.idp.url(&format!("{API}{path}")))
        .multipart(form);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    let (st, h) = (r.status(), r.headers().clone());
    (st, h, r.bytes().await.unwrap().to_vec())
}

/// The JSON error of a refusal: its code and Vietnamese message.
fn refusal(body: &[u8]) -> (String, String) {
    let v: Value = serde_json::from_slice(body)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(body)));
    assert!(v["error_description"].is_string(), "{v}");
    (
        v["error"].as_str().unwrap().to_owned(),
        v["message"].as_str().unwrap_or_default().to_owned(),
    )
}

/// A software key's certificate (the office's, or a person's own) written
/// to a PEM file in `dir`: a trust anchor for the validators.
fn soft_certificate(s: &Setup, dir: &Path, email: Option<&str>) -> PathBuf {
    let mut args = vec!["sign", "certificate"];
    args.extend(email.iter().flat_map(|e| ["--email", e]));
    let path = dir.join(format!("{}.pem", email.unwrap_or("office")));
    std::fs::write(&path, s.idp.cli_ok(&args, None)).unwrap();
    path
}

/// pdfsig's and pyHanko's verdicts: every signature valid and intact.
fn all_valid(pdf: &Path, roots: &[&Path], count: usize) {
    let text = pdfsig(pdf);
    assert_eq!(
        text.matches("Signature is Valid.").count(),
        count,
        "pdfsig:\n{text}"
    );
    let report = pyhanko_validate(pdf, roots);
    assert_eq!(report.len(), count, "{report:?}");
    for sig in &report {
        assert_eq!(sig["intact"], true, "{sig}");
        assert_eq!(sig["valid"], true, "{sig}");
    }
}

#[tokio::test]
async fn officials_sign_clerks_seal_and_tokens_without_scope_or_second_factor_are_refused() {
    let s = setup_on(Backends::default());
    let secret = s
        .idp
        .add_client("vanban-ky", REDIRECT, &["--scope", "sign"]);
    // A clerk and a head of unit; the console sign-in gives each a second factor.
    person(&s, "vanthu", "Nguyễn Thị Thư", NOI_VU, false, Some("clerk"));
    person(&s, "giamdoc", "Lê Văn Đức", NOI_VU, false, Some("auditor"));
    let dir = tempfile::tempdir().unwrap();
    let root = soft_certificate(&s, dir.path(), None);
    let boss_root = soft_certificate(&s, dir.path(), Some("giamdoc@binhphuoc.gov.vn"));
    let document = std::fs::read(sample("ke-hoach-nhieu-trang.pdf")).unwrap();

    let (boss, _) = console_sign_in(&s, "giamdoc").await;
    let strong = token(&s, &boss, "vanban-ky", &secret, "openid sign", true).await;

    // No token; a token without the scope; one from a sign-in without a second factor.
    let form = || Form::new().part("file", pdf_part(document.clone()));
    let (st, h, body) = call(&s, "/pdf", None, form()).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(refusal(&body).0, "invalid_token");
    assert!(
        h["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    let plain = token(&s, &boss, "vanban-ky", &secret, "openid", true).await;
    // An app not registered for `sign` does not get it by asking.
    let other_secret = s.idp.add_client("lichtuan", REDIRECT, &[]);
    let unregistered = token(&s, &boss, "lichtuan", &other_secret, "openid sign", true).await;
    let (st, _, body) = call(&s, "/pdf", Some(&unregistered), form()).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(refusal(&body).0, "insufficient_scope");
    let (st, h, body) = call(&s, "/pdf", Some(&plain), form()).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(refusal(&body).0, "insufficient_scope");
    assert!(
        h["www-authenticate"]
            .to_str()
            .unwrap()
            .contains(r#"scope="sign""#)
    );
    let weak_browser = Browser::new();
    weak_browser
        .submit_login(
            &s.idp.base,
            &s.idp.url("/login"),
            "tamtt",
            crate::harness::PASSWORD,
        )
        .await;
    let weak = token(
        &s,
        &weak_browser,
        "vanban-ky",
        &secret,
        "openid sign",
        false,
    )
    .await;
    let (st, _, body) = call(&s, "/pdf", Some(&weak), form()).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (code, message) = refusal(&body);
    assert_eq!(code, "insufficient_user_authentication");
    assert!(message.contains("xác thực hai lớp"), "{message}");
    assert!(signed_events(&s).await.is_empty());

    // The head of unit signs personally; the office seal is not theirs to use.
    let form = Form::new()
        .part("file", pdf_part(document.clone()))
        .text("kind", "personal")
        .text("reason", "Phê duyệt kế hoạch");
    let (st, h, signed) = call(&s, "/pdf", Some(&strong), form).await;
    assert_eq!(st, StatusCode::OK, "{}", String::from_utf8_lossy(&signed));
    assert_eq!(h["content-type"], "application/pdf");
    assert!(signed.starts_with(&document), "an incremental update");
    let personal = dir.path().join("personal.pdf");
    std::fs::write(&personal, &signed).unwrap();
    // Signed with the official's own test key, not the office's.
    all_valid(&personal, &[&boss_root], 1);
    let form = Form::new()
        .part("file", pdf_part(signed.clone()))
        .text("kind", "organization");
    let (st, _, body) = call(&s, "/pdf", Some(&strong), form).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (code, message) = refusal(&body);
    assert_eq!(code, "forbidden");
    assert!(message.contains("văn thư"), "{message}");

    // The clerk issues it with the office's signature on top: both valid.
    let (clerk, _) = console_sign_in(&s, "vanthu").await;
    let clerk_token = token(&s, &clerk, "vanban-ky", &secret, "openid sign", true).await;
    // Not a document nobody signed: the seal issues what an official approved.
    let form = Form::new()
        .part("file", pdf_part(document.clone()))
        .text("kind", "organization");
    let (st, _, body) = call(&s, "/pdf", Some(&clerk_token), form).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (code, message) = refusal(&body);
    assert_eq!(code, "not_approved");
    assert!(message.contains("chưa có chữ ký số hợp lệ"), "{message}");
    // Not a copy changed after the official signed: one byte inside a
    // signed stream, and the office does not seal it.
    let mut changed = signed.clone();
    let inside = changed.windows(6).position(|w| w == b"stream").unwrap() + 20;
    changed[inside] ^= 0x01;
    let form = Form::new()
        .part("file", pdf_part(changed))
        .text("kind", "organization");
    let (st, _, body) = call(&s, "/pdf", Some(&clerk_token), form).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (code, message) = refusal(&body);
    assert_eq!(code, "signature_broken");
    assert!(message.contains("không còn nguyên vẹn"), "{message}");
    let form = Form::new()
        .part("file", pdf_part(signed.clone()))
        .text("kind", "organization");
    let (st, _, issued) = call(&s, "/pdf", Some(&clerk_token), form).await;
    assert_eq!(st, StatusCode::OK, "{}", String::from_utf8_lossy(&issued));
    assert!(issued.starts_with(&signed));
    let issued_path = dir.path().join("issued.pdf");
    std::fs::write(&issued_path, &issued).unwrap();
    all_valid(&issued_path, &[&root, &boss_root], 2);

    // Each signature is in the audit log: who, kind, the document's hashes.
    let events = signed_events(&s).await;
    assert_eq!(events.len(), 2, "{events:?}");
    let detail = |e: &idp::store::AuditEvent| {
        serde_json::from_str::<Value>(e.detail.as_deref().unwrap()).unwrap()
    };
    let kinds: Vec<String> = events
        .iter()
        .map(|e| detail(e)["kind"].as_str().unwrap().to_owned())
        .collect();
    assert!(kinds.contains(&"personal".to_owned()) && kinds.contains(&"organization".to_owned()));
    let subjects: Vec<&str> = events.iter().filter_map(|e| e.subject.as_deref()).collect();
    assert!(
        subjects.contains(&"giamdoc@binhphuoc.gov.vn")
            && subjects.contains(&"vanthu@binhphuoc.gov.vn")
    );
    assert!(
        events
            .iter()
            .all(|e| e.request_id.as_deref().is_some_and(|r| !r.is_empty()))
    );
    assert!(events.iter().all(|e| e.ip.is_some()));
    assert!(
        events
            .iter()
            .any(|e| detail(e)["signed_sha256"] == sha256_hex(&issued))
    );

    // The verification report of the issued document.
    let form = Form::new().part("file", pdf_part(issued.clone()));
    let (st, _, body) = call(&s, "/verify", Some(&strong), form).await;
    assert_eq!(st, StatusCode::OK);
    let report: Value = serde_json::from_slice(&body).unwrap();
    let sigs = report["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 2, "{report}");
    assert!(sigs.iter().all(|s| s["intact"] == true), "{report}");

    // Bad documents: a code and a Vietnamese sentence, nothing signed.
    for (bytes, status, code, words) in [
        (
            std::fs::read(sample("not-a-pdf.pdf")).unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not_pdf",
            "không phải là tệp PDF",
        ),
        (
            std::fs::read(sample("truncated.pdf")).unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "truncated_pdf",
            "cắt cụt",
        ),
    ] {
        let form = Form::new().part("file", pdf_part(bytes));
        let (st, _, body) = call(&s, "/pdf", Some(&strong), form).await;
        assert_eq!(st, status, "{}", String::from_utf8_lossy(&body));
        let (c, message) = refusal(&body);
        assert_eq!(c, code);
        assert!(message.contains(words), "{message}");
    }
    let (st, _, body) = call(
        &s,
        "/pdf",
        Some(&strong),
        Form::new().text("kind", "personal"),
    )
    .await;
    assert_eq!(
        (st, refusal(&body).0.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
    let form = Form::new()
        .part("file", pdf_part(document.clone()))
        .text("kind", "stamp");
    let (st, _, _) = call(&s, "/pdf", Some(&strong), form).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(signed_events(&s).await.len(), 2);
}

/// The signing events of the audit log.
async fn signed_events(s: &Setup) -> Vec<idp::store::AuditEvent> {
    audit_events(&s.idp)
        .await
        .into_iter()
        .filter(|e| e.kind == "sign.pdf_signed")
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An RSA key and a certificate naming `email`, as a USB token holds them.
fn usb_token(dir: &Path, email: &str) -> (PathBuf, PathBuf) {
    openssl_key_and_cert(dir, email, &format!("/CN={email}/O=Token"), Some(email))
}

/// What the token does: signs `data` with SHA-256.
fn token_sign(key: &Path, data: &[u8], dir: &Path) -> Vec<u8> {
    let input = dir.join("to-sign.der");
    std::fs::write(&input, data).unwrap();
    let out = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(key)
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(s: &str) -> Vec<u8> {
    idp::crypto::b64_decode(s).unwrap()
}

#[tokio::test]
async fn deferred_signing_embeds_a_signature_made_off_the_server_and_refuses_what_does_not_belong()
{
    let s = setup_on(Backends::default());
    let secret = s
        .idp
        .add_client("vanban-ky", REDIRECT, &["--scope", "sign"]);
    person(&s, "giamdoc", "Lê Văn Đức", NOI_VU, false, Some("auditor"));
    person(
        &s,
        "phogiamdoc",
        "Trần Văn Phó",
        NOI_VU,
        false,
        Some("auditor"),
    );
    let dir = tempfile::tempdir().unwrap();
    let (key, cert) = usb_token(dir.path(), "giamdoc@binhphuoc.gov.vn");
    let (_, other_cert) = usb_token(dir.path(), "someone@example.org");
    let document = std::fs::read(sample("ke-hoach-1-trang.pdf")).unwrap();
    let (b, _) = console_sign_in(&s, "giamdoc").await;
    let t = token(&s, &b, "vanban-ky", &secret, "openid sign", true).await;

    let prepare = |cert: PathBuf| {
        Form::new()
            .part("file", pdf_part(document.clone()))
            .text("reason", "Ký bằng USB token")
            .part("certificate", Part::bytes(std::fs::read(cert).unwrap()))
    };
    // A certificate that is not the person's.
    let (st, _, body) = call(&s, "/prepare", Some(&t), prepare(other_cert)).await;
    assert_eq!(
        st,
        StatusCode::FORBIDDEN,
        "{}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(refusal(&body).0, "not_your_certificate");

    let (st, _, body) = call(&s, "/prepare", Some(&t), prepare(cert.clone())).await;
    assert_eq!(st, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let p: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(p["algorithm"], "RS256");
    let prepared = unb64(p["prepared"].as_str().unwrap());
    let to_sign = unb64(p["to_sign"].as_str().unwrap());
    assert_eq!(
        unb64(p["to_sign_sha256"].as_str().unwrap()),
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &to_sign).as_ref()
    );
    let state = p["state"].as_str().unwrap().to_owned();
    let signature = token_sign(&key, &to_sign, dir.path());
    let complete = |pdf: Vec<u8>, state: &str, sig: &[u8]| {
        Form::new()
            .part("file", pdf_part(pdf))
            .text("state", state.to_owned())
            .text("signature", b64(sig))
    };

    // The wrong signature, a changed document, a forged state, another person.
    let wrong = token_sign(&key, b"something else", dir.path());
    let (st, _, body) = call(
        &s,
        "/complete",
        Some(&t),
        complete(prepared.clone(), &state, &wrong),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(refusal(&body).1.contains("không khớp"));
    let mut changed = prepared.clone();
    let at = changed.len() / 3;
    changed[at] ^= 1;
    let (st, _, body) = call(
        &s,
        "/complete",
        Some(&t),
        complete(changed, &state, &signature),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&body).contains("not the one that was prepared"));
    // A state whose body was changed (another offset) keeps its old tag: refused.
    let (body_part, tag) = state.split_once('.').unwrap();
    let mut inner: Value = serde_json::from_slice(&unb64(body_part)).unwrap();
    inner["start"] = serde_json::json!(inner["start"].as_u64().unwrap() - 1);
    let forged = format!(
        "{}.{tag}",
        idp::crypto::b64(&serde_json::to_vec(&inner).unwrap())
    );
    let (st, _, body) = call(
        &s,
        "/complete",
        Some(&t),
        complete(prepared.clone(), &forged, &signature),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&body).contains("not one this server gave"));
    // The office's seal is not signed off the server.
    let form = prepare(cert.clone()).text("kind", "organization");
    let (st, _, body) = call(&s, "/prepare", Some(&t), form).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(refusal(&body).1.contains("chữ ký cá nhân"));
    let (other, _) = console_sign_in(&s, "phogiamdoc").await;
    let other_t = token(&s, &other, "vanban-ky", &secret, "openid sign", true).await;
    let (st, _, body) = call(
        &s,
        "/complete",
        Some(&other_t),
        complete(prepared.clone(), &state, &signature),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&body).contains("someone else"));
    assert!(signed_events(&s).await.is_empty());

    // The right one: a valid signature by the token's certificate, audited.
    let (st, h, signed) = call(
        &s,
        "/complete",
        Some(&t),
        complete(prepared.clone(), &state, &signature),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{}", String::from_utf8_lossy(&signed));
    assert_eq!(h["content-type"], "application/pdf");
    assert!(signed.starts_with(&document));
    let out = dir.path().join("deferred.pdf");
    std::fs::write(&out, &signed).unwrap();
    all_valid(&out, &[&cert], 1);
    let report = pyhanko_validate(&out, &[&cert]);
    assert!(
        report[0]["signer"]
            .as_str()
            .unwrap()
            .contains("giamdoc@binhphuoc.gov.vn")
    );
    let events = signed_events(&s).await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].subject.as_deref(),
        Some("giamdoc@binhphuoc.gov.vn")
    );
}

/// Follows the redirects of a response to a POST, as a browser does.
async fn after_post(b: &Browser, app: &str, r: reqwest::Response) -> String {
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let next = r.headers()["location"].to_str().unwrap().to_owned();
    let next = url::Url::parse(app).unwrap().join(&next).unwrap();
    follow(b, next.as_str()).await.0
}

#[tokio::test]
async fn the_demo_document_app_has_the_official_sign_and_the_clerk_issue_through_the_api() {
    let s = setup_on(Backends::default());
    person(&s, "giamdoc", "Lê Văn Đức", NOI_VU, false, Some("auditor"));
    person(&s, "vanthu", "Nguyễn Thị Thư", NOI_VU, false, Some("clerk"));
    let dir = tempfile::tempdir().unwrap();
    let root = soft_certificate(&s, dir.path(), None);
    let boss_root = soft_certificate(&s, dir.path(), Some("giamdoc@binhphuoc.gov.vn"));
    let original = sample("ke-hoach-nhieu-trang.pdf");
    let app = demo_document_app(&s.idp, "onewin", "Một cửa điện tử", &original);
    let documents = format!("{}/documents", app.base);

    // The official: signed in at the IdP with a second factor, then in the app.
    let (boss, _) = console_sign_in(&s, "giamdoc").await;
    follow(&boss, &format!("{}/login", app.base)).await;
    let page = boss.get(&documents).await.text().await.unwrap();
    assert!(page.contains("Dự thảo, chờ phê duyệt."), "{page}");
    let csrf = hidden(&page, "csrf").unwrap();
    // A post without the form's token does nothing.
    let r = boss
        .post(&format!("{documents}/approve"), &[("csrf", "x")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Issuing is the clerk's: the API refuses, the app shows the API's sentence.
    let r = boss
        .post(&format!("{documents}/issue"), &[("csrf", &csrf)])
        .await;
    after_post(&boss, &app.base, r).await;
    let page = boss.get(&documents).await.text().await.unwrap();
    assert!(
        page.contains("id=\"problem\"") && page.contains("văn thư"),
        "{page}"
    );
    let r = boss
        .post(&format!("{documents}/approve"), &[("csrf", &csrf)])
        .await;
    let landed = after_post(&boss, &app.base, r).await;
    assert_eq!(landed, documents);
    let page = boss.get(&documents).await.text().await.unwrap();
    assert!(page.contains("Đã phê duyệt và ký (Lê Văn Đức)"), "{page}");

    // The clerk issues it.
    let (clerk, _) = console_sign_in(&s, "vanthu").await;
    follow(&clerk, &format!("{}/login", app.base)).await;
    let page = clerk.get(&documents).await.text().await.unwrap();
    let csrf = hidden(&page, "csrf").unwrap();
    let r = clerk
        .post(&format!("{documents}/issue"), &[("csrf", &csrf)])
        .await;
    after_post(&clerk, &app.base, r).await;
    let page = clerk.get(&documents).await.text().await.unwrap();
    assert!(
        page.contains("Đã phát hành (văn thư: Nguyễn Thị Thư)"),
        "{page}"
    );

    let issued = clerk
        .get(&format!("{documents}/current.pdf"))
        .await
        .bytes()
        .await
        .unwrap();
    assert!(issued.starts_with(&std::fs::read(&original).unwrap()));
    let path = dir.path().join("issued.pdf");
    std::fs::write(&path, &issued).unwrap();
    all_valid(&path, &[&root, &boss_root], 2);
    let kinds: Vec<String> = signed_events(&s)
        .await
        .iter()
        .map(|e| {
            let d: Value = serde_json::from_str(e.detail.as_deref().unwrap()).unwrap();
            format!(
                "{} {}",
                e.subject.as_deref().unwrap(),
                d["kind"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(kinds.len(), 2);
    assert!(kinds.contains(&"giamdoc@binhphuoc.gov.vn personal".to_owned()));
    assert!(kinds.contains(&"vanthu@binhphuoc.gov.vn organization".to_owned()));
}

#[tokio::test]
async fn through_a_token_each_person_signs_with_their_own_key_and_the_clerk_with_the_office_seal() {
    use crate::harness::softhsm::{CA_NAME, SoftHsm};
    let hsm = SoftHsm::new();
    let seal = hsm.dir().join("seal.png");
    crate::signing_visible::seal_png(&seal);
    let mut env = hsm.env();
    env.push((
        "IDP_SIGNING__OFFICE_SEAL".into(),
        seal.display().to_string(),
    ));
    env.push((
        "IDP_SIGNING__OFFICE_NAME".into(),
        "Văn phòng UBND tỉnh".into(),
    ));
    let s = setup_on(Backends {
        env,
        ..Backends::default()
    });
    let secret = s
        .idp
        .add_client("vanban-ky", REDIRECT, &["--scope", "sign"]);
    // Tâm has a key on the token (tamtt@…); the clerk signs with the office's.
    s.idp
        .cli_ok(&["user", "role", "tamtt", "--grant", "auditor"], None);
    person(&s, "vanthu", "Nguyễn Thị Thư", NOI_VU, false, Some("clerk"));
    person(&s, "giamdoc", "Lê Văn Đức", NOI_VU, false, Some("auditor"));
    let document = std::fs::read(sample("ke-hoach-nhieu-trang.pdf")).unwrap();

    // Someone with no key on the token is told so, and nothing is signed.
    let (nokey, _) = console_sign_in(&s, "giamdoc").await;
    let t = token(&s, &nokey, "vanban-ky", &secret, "openid sign", true).await;
    let form = Form::new().part("file", pdf_part(document.clone()));
    let (st, _, body) = call(&s, "/pdf", Some(&t), form).await;
    assert_eq!(
        st,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(refusal(&body).0, "key_unavailable");

    // Tâm signs with her key, at her default place (the last page's bottom right).
    let (tam, _) = console_sign_in(&s, "tamtt").await;
    let t = token(&s, &tam, "vanban-ky", &secret, "openid sign", true).await;
    let form = Form::new().part("file", pdf_part(document.clone()));
    let (st, _, signed) = call(&s, "/pdf", Some(&t), form).await;
    assert_eq!(st, StatusCode::OK, "{}", String::from_utf8_lossy(&signed));
    // The clerk issues it: the office's key, its seal over Tâm's signature.
    let (clerk, _) = console_sign_in(&s, "vanthu").await;
    let t = token(&s, &clerk, "vanban-ky", &secret, "openid sign", true).await;
    let form = Form::new()
        .part("file", pdf_part(signed.clone()))
        .text("kind", "organization");
    let (st, _, issued) = call(&s, "/pdf", Some(&t), form).await;
    assert_eq!(st, StatusCode::OK, "{}", String::from_utf8_lossy(&issued));
    let path = hsm.dir().join("issued.pdf");
    std::fs::write(&path, &issued).unwrap();
    all_valid(&path, &[&hsm.ca_pem], 2);
    let report = pyhanko_validate(&path, &[&hsm.ca_pem]);
    assert!(report.iter().all(|r| r["trusted"] == true), "{report:?}");
    let signers: Vec<&str> = report
        .iter()
        .map(|r| r["signer"].as_str().unwrap())
        .collect();
    // Her certificate (the token's key labelled with her e-mail), then the office's.
    assert!(signers[0].contains("Tâm"), "{signers:?}");
    assert!(
        signers[1].contains("Văn phòng"),
        "the office's own certificate: {signers:?}"
    );
    assert!(!signers.iter().any(|s| s.contains(CA_NAME)));
    // Both are seen on the last page: her name, then the office's name and time.
    let text = crate::signing_visible::page_text(&path, 9);
    assert!(text.contains("Trương Thanh Tâm"), "{text}");
    assert!(text.contains("Văn phòng UBND tỉnh"), "{text}");
    // The audit log has where each went: the seal over her signature's rectangle.
    let events = signed_events(&s).await;
    let position = |kind: &str| {
        events
            .iter()
            .map(|e| serde_json::from_str::<Value>(e.detail.as_deref().unwrap()).unwrap())
            .find(|d| d["kind"] == kind)
            .unwrap()["position"]
            .clone()
    };
    let (personal, office) = (position("personal"), position("organization"));
    assert!(personal["rect"].is_array(), "{personal}");
    // The seal goes over the official's signature: the same page and box,
    // with a band above it for the office's name and time.
    assert_eq!(personal["page"], office["page"]);
    let (p, o) = (&personal["rect"], &office["rect"]);
    for i in 0..3 {
        assert_eq!(p[i], o[i], "{personal} {office}");
    }
    assert!(o[3].as_f64().unwrap() > p[3].as_f64().unwrap(), "{office}");
    // For people to look at: the last page, and its signature close up.
    crate::signing_visible::render(&path, 9, "signing-api-issued");
    let r: Vec<f64> = office["rect"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    crate::signing_visible::close_up(
        &path,
        9,
        [r[0], r[1], r[2], r[3]],
        792.0,
        "signing-api-issued-close-up",
    );
}

#[tokio::test]
async fn a_token_that_cannot_be_opened_leaves_sign_on_working_and_signing_says_so() {
    use crate::harness::softhsm::SoftHsm;
    let hsm = SoftHsm::new();
    let wrong = hsm.dir().join("wrong-pin");
    std::fs::write(&wrong, "sai-PIN-7391").unwrap();
    let mut env = hsm.env();
    env.retain(|(k, _)| k != "IDP_SIGNING__PIN_FILE");
    env.push(("IDP_SIGNING__PIN_FILE".into(), wrong.display().to_string()));
    // The IdP starts and signs people in; the signing API answers that the
    // keys are not available, and the log says why.
    let s = setup_on(Backends {
        env,
        ..Backends::default()
    });
    let secret = s
        .idp
        .add_client("vanban-ky", REDIRECT, &["--scope", "sign"]);
    s.idp
        .cli_ok(&["user", "role", "tamtt", "--grant", "auditor"], None);
    let (tam, _) = console_sign_in(&s, "tamtt").await;
    let t = token(&s, &tam, "vanban-ky", &secret, "openid sign", true).await;
    let form = Form::new().part(
        "file",
        pdf_part(std::fs::read(sample("ke-hoach-1-trang.pdf")).unwrap()),
    );
    let (st, _, body) = call(&s, "/pdf", Some(&t), form).await;
    assert_eq!(
        st,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let (code, message) = refusal(&body);
    assert_eq!(code, "key_unavailable");
    assert!(message.contains("quản trị viên"), "{message}");
    assert!(!String::from_utf8_lossy(&body).contains("sai-PIN-7391"));
    let log = s.idp.log();
    assert!(
        log.contains("document-signing keys are not available"),
        "{log}"
    );
    assert!(!log.contains("sai-PIN-7391"), "the PIN is never logged");
    assert!(signed_events(&s).await.is_empty());
    // A refused PIN is not tried again: more requests do not lock the token.
    for _ in 0..4 {
        let form = Form::new().part(
            "file",
            pdf_part(std::fs::read(sample("ke-hoach-1-trang.pdf")).unwrap()),
        );
        let (st, _, _) = call(&s, "/pdf", Some(&t), form).await;
        assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE);
    }
    let out = hsm.pkcs11_tool().arg("--list-objects").output().unwrap();
    assert!(
        out.status.success(),
        "the right PIN still logs in: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
