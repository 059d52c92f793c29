//! Second factors end to end, with a real SMTP server: an authenticator app
//! enrolled on a step-up asked for with `acr_values=2`, its codes working
//! once, recovery codes, an app and a role that require a second factor, an
//! administrator's reset; codes by e-mail as the alternative; `acr`/`amr` in
//! the ID token; notices of factor changes and of a new device. A first
//! factor is set up only after an out-of-band bootstrap (a code sent to the
//! official mailbox, or an administrator's enrolment code).

use reqwest::StatusCode;
use serde_json::Value;

use crate::browser::{Browser, authorize_url, hidden, location, param, pkce};
use crate::harness::{Backends, Idp, PASSWORD, ReceivedMail, Smtp};
use crate::oidc_flow::{REDIRECT, rp_http};

pub(crate) const TAM: &str = "tamtt@binhphuoc.gov.vn";
pub(crate) const SECOND: &str = "/login/second-factor";

pub(crate) struct Setup {
    pub idp: Idp,
    pub smtp: Smtp,
    secret: String,
    strict_secret: String,
}

fn setup() -> Setup {
    setup_on(Backends::default())
}

/// The IdP with a real SMTP server, Tâm, the document app and the meeting
/// app that requires a second factor.
pub(crate) fn setup_on(backends: Backends) -> Setup {
    let smtp = Smtp::start();
    // The caller's variables (a directory's, say) beside the mail server's.
    let mut env = smtp.env();
    env.extend(backends.env.iter().cloned());
    let idp = Idp::spawn(&Backends { env, ..backends });
    idp.add_person();
    let secret = idp.add_client("vanban", REDIRECT, &[]);
    let strict_secret = idp.add_client("phonghop", REDIRECT, &["--require-mfa"]);
    Setup {
        idp,
        smtp,
        secret,
        strict_secret,
    }
}

/// An authorization request; returns the verifier and the URL.
pub(crate) fn auth(s: &Setup, client: &str, extra: &[(&str, &str)]) -> (String, String) {
    let (verifier, challenge) = pkce();
    let mut all = vec![
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    all.extend_from_slice(extra);
    (verifier, authorize_url(&s.idp.base, client, REDIRECT, &all))
}

/// Redeems a code; returns the ID token's claims.
pub(crate) async fn claims(s: &Setup, client: &str, back: &str, verifier: &str) -> Value {
    let secret = if client == "vanban" {
        &s.secret
    } else {
        &s.strict_secret
    };
    let code = param(back, "code").unwrap_or_else(|| panic!("no code in {back}"));
    let r = rp_http()
        .post(s.idp.url("/token"))
        .basic_auth(client, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let t: Value = r.json().await.unwrap();
    let payload = t["id_token"].as_str().unwrap().split('.').nth(1).unwrap();
    serde_json::from_slice(&idp::crypto::b64_decode(payload).unwrap()).unwrap()
}

/// Posts a second-factor form; returns status, Location (if any) and page.
pub(crate) async fn post(
    b: &Browser,
    s: &Setup,
    path: &str,
    html: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, Option<String>, String) {
    let csrf = hidden(html, "csrf").expect("csrf field");
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    let r = b
        .http
        .post(s.idp.url(path))
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let to = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, to, r.text().await.unwrap())
}

pub(crate) async fn page(b: &Browser, s: &Setup, path: &str) -> String {
    let r = b.get(&s.idp.url(path)).await;
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.text().await.unwrap()
}

/// The authenticator for the key shown on an enrolment page.
pub(crate) fn authenticator(html: &str) -> totp_rs::Totp {
    let start = html.find(r#"<code class="key">"#).expect("key on the page") + 18;
    let end = start + html[start..].find("</code>").unwrap();
    let key: String = html[start..end].split_whitespace().collect();
    let secret = totp_rs::Secret::try_from_base32(&key).unwrap();
    totp_rs::Builder::new().with_secret(secret).build().unwrap()
}

pub(crate) fn now() -> u64 {
    idp::now() as u64
}

/// The recovery codes a page shows.
pub(crate) fn recovery_codes(html: &str) -> Vec<String> {
    html.split("<li><code>")
        .skip(1)
        .map(|p| p[..p.find("</code>").unwrap()].to_owned())
        .collect()
}

/// Signs in with the password where a second factor is asked; returns the page.
pub(crate) async fn password_then_second(b: &Browser, s: &Setup, account: &str) -> String {
    let r = b
        .submit_login(&s.idp.base, &s.idp.url("/login"), account, PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), SECOND, "the second factor comes next");
    page(b, s, SECOND).await
}

#[tokio::test]
async fn authenticator_app_step_up_recovery_codes_policies_and_reset() {
    let s = setup();
    let b = Browser::new();

    // A password is enough for the document app: acr 1, amr pwd.
    let (v, url) = auth(&s, "vanban", &[]);
    let back = b.sign_in_via(&s.idp.base, &url, "tamtt", PASSWORD).await;
    let c = claims(&s, "vanban", &back, &v).await;
    assert_eq!(c["acr"], "1");
    assert_eq!(c["amr"], serde_json::json!(["pwd"]));

    // The app asks for more with acr_values=2: the same session steps up,
    // enrolling an authenticator since Tâm has none.
    let (v, url) = auth(&s, "vanban", &[("acr_values", "2")]);
    let r = b.get(&url).await;
    assert_eq!(location(&r), SECOND);
    let html = page(&b, &s, SECOND).await;
    // The password alone binds nothing: first a code from the official mailbox.
    assert!(
        !html.contains("<svg") && !html.contains(r#"class="key""#),
        "{html}"
    );
    let html = bootstrap_by_mail(&b, &s, SECOND, &html, TAM, 1).await;
    assert!(html.contains("Ứng dụng xác thực trên điện thoại") && html.contains("<svg"));
    let totp = authenticator(&html);
    let (st, _, html2) = post(
        &b,
        &s,
        SECOND,
        &html,
        &[("op", "enrol_totp"), ("code", "000000")],
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(html2.contains("Mã không đúng hoặc đã hết hạn."));
    let first_code = totp.generate(now()).to_string();
    let (_, _, html) = post(
        &b,
        &s,
        SECOND,
        &html2,
        &[("op", "enrol_totp"), ("code", &first_code)],
    )
    .await;
    let codes = recovery_codes(&html);
    assert_eq!(codes.len(), 10, "{html}");
    let (st, to, _) = post(&b, &s, SECOND, &html, &[("op", "done")]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    // Enrolled in this sign-in, not proven with a factor held before: acr 1.
    let c = claims(&s, "vanban", &to.unwrap(), &v).await;
    assert_eq!(c["acr"], "1");
    assert_eq!(c["amr"], serde_json::json!(["pwd"]));
    let m = s.smtp.wait_for(TAM, "Thay đổi xác thực hai lớp", 1);
    assert!(m.body.contains("Đã thêm ứng dụng xác thực"), "{}", m.body);

    // Enrolled: every sign-in asks. The code already used does not work twice.
    let b2 = Browser::new();
    let html = password_then_second(&b2, &s, "tamtt").await;
    assert!(html.contains("Nhập mã 6 chữ số"));
    let (_, _, html) = post(
        &b2,
        &s,
        SECOND,
        &html,
        &[("op", "totp"), ("code", &first_code)],
    )
    .await;
    assert!(
        html.contains("Mã không đúng hoặc đã hết hạn."),
        "replayed code"
    );
    // A recovery code works once.
    let (st, to, _) = post(
        &b2,
        &s,
        SECOND,
        &html,
        &[("op", "recovery"), ("code", &codes[0].to_uppercase())],
    )
    .await;
    assert_eq!((st, to.as_deref()), (StatusCode::SEE_OTHER, Some("/")));
    let m = s.smtp.wait_for(TAM, "Thay đổi xác thực hai lớp", 2);
    assert!(m.body.contains("còn 9 mã"), "{}", m.body);
    let b3 = Browser::new();
    let html = password_then_second(&b3, &s, "tamtt").await;
    let (_, _, html) = post(
        &b3,
        &s,
        SECOND,
        &html,
        &[("op", "recovery"), ("code", &codes[0])],
    )
    .await;
    assert!(
        html.contains("Mã không đúng hoặc đã hết hạn."),
        "a spent recovery code"
    );
    // The next time step's code (within the allowed skew) is new, so it works.
    let next = totp.generate(now() + 30).to_string();
    let (st, to, _) = post(&b3, &s, SECOND, &html, &[("op", "totp"), ("code", &next)]).await;
    assert_eq!((st, to.as_deref()), (StatusCode::SEE_OTHER, Some("/")));

    // Wrong codes pile up (three so far): after ten even the right code waits.
    let b4 = Browser::new();
    let mut html = password_then_second(&b4, &s, "tamtt").await;
    for _ in 0..10 {
        html = post(
            &b4,
            &s,
            SECOND,
            &html,
            &[("op", "totp"), ("code", "000000")],
        )
        .await
        .2;
    }
    let right = totp.generate(now() + 30).to_string();
    let (st, _, html) = post(&b4, &s, SECOND, &html, &[("op", "totp"), ("code", &right)]).await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS);
    assert!(html.contains("Nhập sai mã quá nhiều lần"), "{html}");

    // Another person without factors: the meeting app requires one, the document app does not.
    s.idp.cli_ok(
        &[
            "user",
            "add",
            "lannt",
            "--name",
            "Nguyễn Thị Lan",
            "--password-stdin",
        ],
        Some(PASSWORD),
    );
    let lan = Browser::new();
    let (v, url) = auth(&s, "vanban", &[]);
    let back = lan.sign_in_via(&s.idp.base, &url, "lannt", PASSWORD).await;
    assert_eq!(claims(&s, "vanban", &back, &v).await["acr"], "1");
    let (_, url) = auth(&s, "phonghop", &[]);
    assert_eq!(
        location(&lan.get(&url).await),
        SECOND,
        "the meeting app requires it"
    );
    let html = page(&lan, &s, SECOND).await;
    assert!(html.contains("yêu cầu xác thực hai lớp"));
    // prompt=none cannot step up.
    let (_, url) = auth(&s, "phonghop", &[("prompt", "none")]);
    let to = location(&lan.get(&url).await);
    assert_eq!(param(&to, "error").as_deref(), Some("interaction_required"));

    // Administrators always use a second factor.
    s.idp.cli_ok(
        &[
            "user",
            "add",
            "quantri",
            "--name",
            "Quản trị",
            "--admin",
            "--password-stdin",
        ],
        Some(PASSWORD),
    );
    let admin = Browser::new();
    let html = password_then_second(&admin, &s, "quantri").await;
    // Their first factor comes with an enrolment code another administrator issues.
    let out = s.idp.cli_ok(&["user", "enrolment-code", "quantri"], None);
    let enrolment = out.rsplit(' ').next().unwrap().trim().to_owned();
    let (_, _, html) = post(
        &admin,
        &s,
        SECOND,
        &html,
        &[("op", "bootstrap"), ("code", &enrolment)],
    )
    .await;
    let admin_totp = authenticator(&html);
    let code = admin_totp.generate(now()).to_string();
    let (_, _, html) = post(
        &admin,
        &s,
        SECOND,
        &html,
        &[("op", "enrol_totp"), ("code", &code)],
    )
    .await;
    let (_, to, _) = post(&admin, &s, SECOND, &html, &[("op", "done")]).await;
    assert_eq!(to.as_deref(), Some("/"));
    // … and cannot remove their only one.
    let html = page(&admin, &s, "/account/mfa").await;
    assert!(html.contains("Bắt buộc với tài khoản của bạn."));
    // (The enrolment sign-in is not a recent second factor: a re-check first.)
    let next = admin_totp.generate(now() + 30).to_string();
    let (_, _, html) = post(
        &admin,
        &s,
        "/account/mfa",
        &html,
        &[("op", "recheck"), ("code", &next)],
    )
    .await;
    assert!(html.contains("Đã xác nhận."), "{html}");
    let (st, _, html) = post(&admin, &s, "/account/mfa", &html, &[("op", "remove_totp")]).await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert!(html.contains("<td>Đang dùng"), "still there");

    // Tâm lost the phone: an administrator resets the factors; Tâm is told.
    let out = s.idp.cli_ok(&["user", "reset-factors", "tamtt"], None);
    assert!(out.contains("1 second factors removed"), "{out}");
    let m = s.smtp.wait_for(TAM, "Thay đổi xác thực hai lớp", 3);
    assert!(m.body.contains("Quản trị viên đã xóa"), "{}", m.body);
    let r = Browser::new()
        .submit_login(&s.idp.base, &s.idp.url("/login"), "tamtt", PASSWORD)
        .await;
    assert_eq!(location(&r), "/", "a password is enough again");
}

#[tokio::test]
async fn codes_by_email_as_the_alternative_and_a_new_device_is_told() {
    let s = setup();
    let b = Browser::new();
    let r = b
        .submit_login(&s.idp.base, &s.idp.url("/login"), "tamtt", PASSWORD)
        .await;
    assert_eq!(location(&r), "/");

    // On the account page Tâm adds a personal address for codes.
    let html = page(&b, &s, "/account/mfa").await;
    assert!(html.contains("Chưa thiết lập"));
    let html = bootstrap_by_mail(&b, &s, "/account/mfa", &html, TAM, 1).await;
    let (st, _, html) = post(
        &b,
        &s,
        "/account/mfa",
        &html,
        &[("op", "enrol_email_send"), ("address", "khong-phai-email")],
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let personal = "tam.canhan@gmail.com";
    let (st, _, html) = post(
        &b,
        &s,
        "/account/mfa",
        &html,
        &[("op", "enrol_email_send"), ("address", personal)],
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(html.contains("Đã gửi mã tới tam.canhan@gmail.com"));
    let code = code_in(&s.smtp.wait_for(personal, "Mã xác thực", 1));
    let (_, _, html) = post(
        &b,
        &s,
        "/account/mfa",
        &html,
        &[("op", "enrol_email"), ("code", &code)],
    )
    .await;
    assert!(html.contains("Đã thiết lập xác thực hai lớp."), "{html}");
    assert!(html.contains("Đang dùng: tam.canhan@gmail.com"));
    let first_codes = recovery_codes(&html);
    assert_eq!(first_codes.len(), 10);
    s.smtp.wait_for(TAM, "Thay đổi xác thực hai lớp", 1);

    // Signing in on another computer: the code goes to that address.
    let other = Browser::new();
    let (v, url) = auth(&s, "vanban", &[]);
    let r = other.get(&url).await;
    let login = s.idp.url(&location(&r));
    let r = other
        .submit_login(&s.idp.base, &login, "tamtt", PASSWORD)
        .await;
    assert_eq!(location(&r), SECOND);
    let html = page(&other, &s, SECOND).await;
    assert!(html.contains("t***@gmail.com"), "{html}");
    let (_, _, html) = post(&other, &s, SECOND, &html, &[("op", "email_send")]).await;
    assert!(html.contains("Đã gửi mã tới t***@gmail.com"));
    // Asking again at once is refused: one code per 30 seconds.
    let (st, _, html) = post(&other, &s, SECOND, &html, &[("op", "email_send")]).await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS);
    let code = code_in(&s.smtp.wait_for(personal, "Mã xác thực", 2));
    let wrong = if code == "111111" { "222222" } else { "111111" };
    let (_, _, html) = post(
        &other,
        &s,
        SECOND,
        &html,
        &[("op", "email"), ("code", wrong)],
    )
    .await;
    assert!(html.contains("Mã không đúng hoặc đã hết hạn."));
    let (st, to, _) = post(
        &other,
        &s,
        SECOND,
        &html,
        &[("op", "email"), ("code", &code)],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let c = claims(&s, "vanban", &to.unwrap(), &v).await;
    assert_eq!(c["acr"], "2");
    assert_eq!(c["amr"], serde_json::json!(["pwd", "mail", "mfa"]));

    // That computer was new to Tâm: the official mailbox hears of it.
    let m = s.smtp.wait_for(TAM, "Đăng nhập từ thiết bị mới", 1);
    assert!(m.body.contains("127.0.0.1"), "{}", m.body);

    // New recovery codes replace the old ones; removing the factor ends the second step.
    let html = page(&b, &s, "/account/mfa").await;
    assert!(html.contains("Còn 10 mã khôi phục chưa dùng."));
    let (_, _, html) = post(&b, &s, "/account/mfa", &html, &[("op", "new_codes")]).await;
    let renewed = recovery_codes(&html);
    assert_eq!(renewed.len(), 10);
    assert!(!renewed.iter().any(|c| first_codes.contains(c)), "all new");
    let m = s.smtp.wait_for(TAM, "Thay đổi xác thực hai lớp", 2);
    assert!(m.body.contains("mã khôi phục mới"), "{}", m.body);
    let (st, _, html) = post(&b, &s, "/account/mfa", &html, &[("op", "remove_email")]).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Đã gỡ bỏ.") && html.contains("Chưa thiết lập"));
    let m = s.smtp.wait_for(TAM, "Thay đổi xác thực hai lớp", 3);
    assert!(
        m.body.contains("Đã gỡ bỏ nhận mã xác thực qua e-mail"),
        "{}",
        m.body
    );
    let r = Browser::new()
        .submit_login(&s.idp.base, &s.idp.url("/login"), "tamtt", PASSWORD)
        .await;
    assert_eq!(location(&r), "/", "a password is enough again");
}

/// The six digits of a mailed code: in the body, never in the subject
/// (subjects show on lock screens).
pub(crate) fn code_in(m: &ReceivedMail) -> String {
    assert_eq!(m.subject, "Mã xác thực / Verification code");
    let start = m.body.find("Your verification code is: ").expect("a code") + 27;
    let code = m.body[start..start + 6].to_owned();
    assert!(code.chars().all(|c| c.is_ascii_digit()), "{}", m.body);
    assert!(m.body.contains(&format!("Mã xác thực của bạn là: {code}")));
    code
}

/// Bootstraps a first factor with a code sent to the official mailbox (the
/// `nth` code mailed there); returns the page with the enrolment forms.
pub(crate) async fn bootstrap_by_mail(
    b: &Browser,
    s: &Setup,
    path: &str,
    html: &str,
    official: &str,
    nth: usize,
) -> String {
    assert!(html.contains("mã thiết lập do quản trị viên cấp"), "{html}");
    let (st, _, html) = post(b, s, path, html, &[("op", "bootstrap_send")]).await;
    assert_eq!(st, StatusCode::OK, "{html}");
    let code = code_in(&s.smtp.wait_for(official, "Mã xác thực", nth));
    let (st, _, html) = post(b, s, path, &html, &[("op", "bootstrap"), ("code", &code)]).await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(html.contains("Đã xác nhận."), "{html}");
    html
}
