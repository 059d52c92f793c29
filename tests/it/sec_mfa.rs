//! Second factors under attack (security review, issue 11): whoever holds
//! the password cannot bind their own first factor; parallel wrong codes are
//! reserved before they are checked; changing factors needs a recent second
//! factor; a pending authenticator key belongs to the browser that asked;
//! mailed codes stand in the body, not the subject.

use reqwest::StatusCode;

use crate::browser::{Browser, location};
use crate::harness::{Backends, PASSWORD, Redis};
use crate::mfa::{
    SECOND, Setup, TAM, auth, authenticator, bootstrap_by_mail, claims, code_in, now, page,
    password_then_second, post, recovery_codes, setup_on,
};

const LAN: &str = "lannt@binhphuoc.gov.vn";

fn add_lan(s: &Setup) {
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
}

fn enrolment_code(s: &Setup, account: &str) -> String {
    let out = s.idp.cli_ok(&["user", "enrolment-code", account], None);
    out.rsplit(' ').next().unwrap().trim().to_owned()
}

/// Signs in to the meeting app (which requires a second factor) with the
/// password; returns the second step's page.
async fn at_strict_app(b: &Browser, s: &Setup, account: &str) -> String {
    let (_, url) = auth(s, "phonghop", &[]);
    let login = s.idp.url(&location(&b.get(&url).await));
    let r = b.submit_login(&s.idp.base, &login, account, PASSWORD).await;
    assert_eq!(location(&r), SECOND);
    page(b, s, SECOND).await
}

/// Posts the same form `n` times at once from one browser; the statuses.
async fn at_once(
    b: &Browser,
    s: &Setup,
    html: &str,
    n: usize,
    fields: impl Fn(usize) -> Vec<(&'static str, String)>,
) -> Vec<StatusCode> {
    let csrf = crate::browser::hidden(html, "csrf").unwrap();
    let mut tasks = Vec::new();
    for i in 0..n {
        let mut form = vec![("csrf", csrf.clone())];
        form.extend(fields(i));
        let req = b.http.post(s.idp.url(SECOND)).form(&form);
        tasks.push(tokio::spawn(
            async move { req.send().await.unwrap().status() },
        ));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// Tâm with an authenticator, set up with an administrator's enrolment code.
async fn tam_with_authenticator(s: &Setup) -> totp_rs::Totp {
    let b = Browser::new();
    let (_, url) = auth(s, "phonghop", &[]);
    let login = s.idp.url(&location(&b.get(&url).await));
    let r = b.submit_login(&s.idp.base, &login, "tamtt", PASSWORD).await;
    assert_eq!(location(&r), SECOND);
    let html = page(&b, s, SECOND).await;
    let code = enrolment_code(s, "tamtt");
    let (_, _, html) = post(
        &b,
        s,
        SECOND,
        &html,
        &[("op", "bootstrap"), ("code", &code)],
    )
    .await;
    let totp = authenticator(&html);
    let first = totp.generate(now()).to_string();
    let (_, _, html) = post(
        &b,
        s,
        SECOND,
        &html,
        &[("op", "enrol_totp"), ("code", &first)],
    )
    .await;
    assert_eq!(recovery_codes(&html).len(), 10, "{html}");
    totp
}

#[tokio::test]
async fn a_first_factor_needs_an_out_of_band_bootstrap_and_gives_acr_1() {
    let s = setup_on(Backends::default());
    add_lan(&s);

    // Someone with Tâm's password, at an app that requires a second factor.
    let thief = Browser::new();
    let (_, url) = auth(&s, "phonghop", &[]);
    let login = s.idp.url(&location(&thief.get(&url).await));
    let r = thief
        .submit_login(&s.idp.base, &login, "tamtt", PASSWORD)
        .await;
    assert_eq!(location(&r), SECOND);
    let html = page(&thief, &s, SECOND).await;
    assert!(!html.contains("<svg") && !html.contains(r#"class="key""#));
    // Neither an authenticator nor an address of their own can be bound.
    let (st, _, _) = post(
        &thief,
        &s,
        SECOND,
        &html,
        &[("op", "enrol_totp"), ("code", "123456")],
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _, _) = post(
        &thief,
        &s,
        SECOND,
        &html,
        &[("op", "enrol_email_send"), ("address", "ke.gian@gmail.com")],
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // The bootstrap code goes to the official mailbox whatever address is posted.
    let (st, _, html) = post(
        &thief,
        &s,
        SECOND,
        &html,
        &[("op", "bootstrap_send"), ("address", "ke.gian@gmail.com")],
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("t***@binhphuoc.gov.vn"), "{html}");
    let official = s.smtp.wait_for(TAM, "Mã xác thực", 1);
    let (_, _, html) = post(
        &thief,
        &s,
        SECOND,
        &html,
        &[("op", "bootstrap"), ("code", "000000")],
    )
    .await;
    assert!(html.contains("Mã không đúng hoặc đã hết hạn."));
    let (st, _, _) = post(
        &thief,
        &s,
        SECOND,
        &html,
        &[("op", "enrol_totp"), ("code", "123456")],
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "a wrong bootstrap opens nothing");

    // The owner, with an administrator's enrolment code (used by two sign-ins
    // at once: it works for exactly one).
    let code = enrolment_code(&s, "tamtt");
    assert_eq!(code.len(), 19, "{code}");
    let (tam, other) = (Browser::new(), Browser::new());
    let (v, url) = auth(&s, "phonghop", &[]);
    let login = s.idp.url(&location(&tam.get(&url).await));
    let r = tam
        .submit_login(&s.idp.base, &login, "tamtt", PASSWORD)
        .await;
    assert_eq!(location(&r), SECOND);
    let html = page(&tam, &s, SECOND).await;
    let other_html = at_strict_app(&other, &s, "tamtt").await;
    let upper = code.to_uppercase();
    let form_a = [("op", "bootstrap"), ("code", code.as_str())];
    let form_b = [("op", "bootstrap"), ("code", upper.as_str())];
    let (a, b) = tokio::join!(
        post(&tam, &s, SECOND, &html, &form_a),
        post(&other, &s, SECOND, &other_html, &form_b),
    );
    let won: Vec<&String> = [&a.2, &b.2]
        .into_iter()
        .filter(|h| h.contains("<svg"))
        .collect();
    assert_eq!(won.len(), 1, "an enrolment code works once");
    let html = if a.2.contains("<svg") {
        a.2.clone()
    } else {
        // The one that lost asks the owner's browser for another code.
        let again = enrolment_code(&s, "tamtt");
        post(
            &tam,
            &s,
            SECOND,
            &html,
            &[("op", "bootstrap"), ("code", &again)],
        )
        .await
        .2
    };
    let totp = authenticator(&html);
    let (_, _, html) = post(
        &tam,
        &s,
        SECOND,
        &html,
        &[
            ("op", "enrol_totp"),
            ("code", &totp.generate(now()).to_string()),
        ],
    )
    .await;
    let (st, to, _) = post(&tam, &s, SECOND, &html, &[("op", "done")]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    // The enrolment sign-in is a password sign-in, even for the app that requires more.
    let c = claims(&s, "phonghop", &to.unwrap(), &v).await;
    assert_eq!(c["acr"], "1");
    assert_eq!(c["amr"], serde_json::json!(["pwd"]));
    // The app asks again: now the factor Tâm holds is asked for, and gives acr 2.
    let (v, url) = auth(&s, "phonghop", &[]);
    assert_eq!(location(&tam.get(&url).await), SECOND);
    let html = page(&tam, &s, SECOND).await;
    let next = totp.generate(now() + 30).to_string();
    let (_, to, _) = post(&tam, &s, SECOND, &html, &[("op", "totp"), ("code", &next)]).await;
    let c = claims(&s, "phonghop", &to.unwrap(), &v).await;
    assert_eq!(c["acr"], "2");
    assert_eq!(c["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
    // The thief's code from the mailbox never reached them; it was only in the body.
    assert!(!official.subject.chars().any(|c| c.is_ascii_digit()));
    assert!(
        !s.smtp.received().iter().any(|m| m.to.contains("ke.gian")),
        "nothing went to the thief's address"
    );

    // acr_values=2 with a bootstrap by the official mailbox: also acr 1.
    let lan = Browser::new();
    let (v, url) = auth(&s, "vanban", &[("acr_values", "2")]);
    let login = s.idp.url(&location(&lan.get(&url).await));
    let r = lan
        .submit_login(&s.idp.base, &login, "lannt", PASSWORD)
        .await;
    assert_eq!(location(&r), SECOND);
    let html = page(&lan, &s, SECOND).await;
    let html = bootstrap_by_mail(&lan, &s, SECOND, &html, LAN, 1).await;
    let personal = "lan.canhan@gmail.com";
    let (_, _, html) = post(
        &lan,
        &s,
        SECOND,
        &html,
        &[("op", "enrol_email_send"), ("address", personal)],
    )
    .await;
    let code = code_in(&s.smtp.wait_for(personal, "Mã xác thực", 1));
    let (_, _, html) = post(
        &lan,
        &s,
        SECOND,
        &html,
        &[("op", "enrol_email"), ("code", &code)],
    )
    .await;
    let (_, to, _) = post(&lan, &s, SECOND, &html, &[("op", "done")]).await;
    let c = claims(&s, "vanban", &to.unwrap(), &v).await;
    assert_eq!(c["acr"], "1");
    assert_eq!(c["amr"], serde_json::json!(["pwd"]));
}

#[tokio::test]
async fn parallel_wrong_codes_are_reserved_before_they_are_checked() {
    let redis = Redis::start();
    let s = setup_on(Backends {
        redis_url: Some(redis.url.clone()),
        ..Backends::default()
    });
    let totp = tam_with_authenticator(&s).await;

    // 24 wrong codes at once (authenticator and recovery codes): at most ten are checked.
    let b = Browser::new();
    let html = password_then_second(&b, &s, "tamtt").await;
    let statuses = at_once(&b, &s, &html, 24, |i| {
        if i % 2 == 0 {
            vec![("op", "totp".into()), ("code", "000000".into())]
        } else {
            vec![("op", "recovery".into()), ("code", "aaaaa-bbbbb".into())]
        }
    })
    .await;
    let checked = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(checked + refused, 24, "{statuses:?}");
    assert!(
        checked <= 10,
        "{checked} wrong codes were checked: {statuses:?}"
    );
    // Paused: even the right code is refused.
    let right = totp.generate(now() + 30).to_string();
    let (st, to, html) = post(&b, &s, SECOND, &html, &[("op", "totp"), ("code", &right)]).await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS, "{to:?}");
    assert!(html.contains("Nhập sai mã quá nhiều lần"));

    // An e-mailed code allows five tries, however many come at once.
    add_lan(&s);
    let lan = Browser::new();
    let r = lan
        .submit_login(&s.idp.base, &s.idp.url("/login"), "lannt", PASSWORD)
        .await;
    assert_eq!(location(&r), "/");
    let html = page(&lan, &s, "/account/mfa").await;
    let html = bootstrap_by_mail(&lan, &s, "/account/mfa", &html, LAN, 1).await;
    let personal = "lan.canhan@gmail.com";
    let (_, _, html) = post(
        &lan,
        &s,
        "/account/mfa",
        &html,
        &[("op", "enrol_email_send"), ("address", personal)],
    )
    .await;
    let code = code_in(&s.smtp.wait_for(personal, "Mã xác thực", 1));
    post(
        &lan,
        &s,
        "/account/mfa",
        &html,
        &[("op", "enrol_email"), ("code", &code)],
    )
    .await;
    let other = Browser::new();
    let html = password_then_second(&other, &s, "lannt").await;
    let (_, _, html) = post(&other, &s, SECOND, &html, &[("op", "email_send")]).await;
    let code = code_in(&s.smtp.wait_for(personal, "Mã xác thực", 2));
    let wrong = if code == "111111" { "222222" } else { "111111" };
    let statuses = at_once(&other, &s, &html, 8, |_| {
        vec![("op", "email".into()), ("code", wrong.into())]
    })
    .await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    // The sixth and later tries found the code void: the right one is refused too.
    let (st, _, html) = post(
        &other,
        &s,
        SECOND,
        &html,
        &[("op", "email"), ("code", &code)],
    )
    .await;
    assert_eq!(st, StatusCode::OK, "not signed in: {html}");
    assert!(html.contains("Mã không đúng hoặc đã hết hạn."));
}

/// Forgets every session's recent second factor, as ten minutes would.
fn time_passes(redis: &Redis) {
    let out = std::process::Command::new("redis-cli")
        .args(["-u", &redis.url, "--scan", "--pattern", "dn:mfafresh:*"])
        .output()
        .unwrap();
    for key in String::from_utf8(out.stdout).unwrap().lines() {
        let ok = std::process::Command::new("redis-cli")
            .args(["-u", &redis.url, "DEL", key])
            .status()
            .unwrap();
        assert!(ok.success());
    }
}

#[tokio::test]
async fn changing_factors_needs_a_recent_second_factor() {
    let redis = Redis::start();
    let s = setup_on(Backends {
        redis_url: Some(redis.url.clone()),
        ..Backends::default()
    });
    // A session from the password alone cannot add a factor.
    let b = Browser::new();
    let r = b
        .submit_login(&s.idp.base, &s.idp.url("/login"), "tamtt", PASSWORD)
        .await;
    assert_eq!(location(&r), "/");
    let html = page(&b, &s, "/account/mfa").await;
    assert!(!html.contains("<svg"));
    for form in [
        vec![("op", "start_totp")],
        vec![("op", "enrol_email_send"), ("address", "ke.gian@gmail.com")],
        vec![("op", "enrol_totp"), ("code", "123456")],
    ] {
        let (st, _, page) = post(&b, &s, "/account/mfa", &html, &form).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{form:?}");
        assert!(page.contains("Hãy xác nhận lại trước khi thay đổi"));
        assert!(!page.contains("<svg"));
    }
    let html = bootstrap_by_mail(&b, &s, "/account/mfa", &html, TAM, 1).await;
    let (_, _, html) = post(&b, &s, "/account/mfa", &html, &[("op", "start_totp")]).await;
    let totp = authenticator(&html);
    let (_, _, html) = post(
        &b,
        &s,
        "/account/mfa",
        &html,
        &[
            ("op", "enrol_totp"),
            ("code", &totp.generate(now()).to_string()),
        ],
    )
    .await;
    assert_eq!(recovery_codes(&html).len(), 10);

    // Ten minutes later the same session must show the factor again.
    time_passes(&redis);
    let html = page(&b, &s, "/account/mfa").await;
    assert!(html.contains("hãy xác nhận lại bằng một cách xác thực hiện có"));
    for form in [
        vec![("op", "remove_totp")],
        vec![("op", "new_codes")],
        vec![("op", "enrol_email_send"), ("address", "ke.gian@gmail.com")],
    ] {
        let (st, _, _) = post(&b, &s, "/account/mfa", &html, &form).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{form:?}");
    }
    let html = page(&b, &s, "/account/mfa").await;
    assert!(html.contains("<td>Đang dùng"), "still there");
    let (_, _, html) = post(
        &b,
        &s,
        "/account/mfa",
        &html,
        &[("op", "recheck"), ("code", "000000")],
    )
    .await;
    assert!(html.contains("Mã không đúng hoặc đã hết hạn."));
    let next = totp.generate(now() + 30).to_string();
    let (_, _, html) = post(
        &b,
        &s,
        "/account/mfa",
        &html,
        &[("op", "recheck"), ("code", &next)],
    )
    .await;
    assert!(html.contains("Đã xác nhận."), "{html}");
    let (_, _, html) = post(&b, &s, "/account/mfa", &html, &[("op", "new_codes")]).await;
    assert_eq!(recovery_codes(&html).len(), 10);

    let codes = recovery_codes(&html);
    assert_eq!(codes.len(), 10);

    // A sign-in with a factor is recent enough by itself.
    time_passes(&redis);
    let fresh = Browser::new();
    let html = password_then_second(&fresh, &s, "tamtt").await;
    let (st, _, _) = post(
        &fresh,
        &s,
        SECOND,
        &html,
        &[("op", "recovery"), ("code", &codes[0])],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let html = page(&fresh, &s, "/account/mfa").await;
    let (st, _, html) = post(&fresh, &s, "/account/mfa", &html, &[("op", "remove_totp")]).await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert!(html.contains("Đã gỡ bỏ."));
}

#[tokio::test]
async fn a_pending_authenticator_key_belongs_to_the_browser_that_asked() {
    let s = setup_on(Backends::default());
    // Two browsers of Tâm's at the second step, each bootstrapped by the official mailbox.
    let (a, b) = (Browser::new(), Browser::new());
    let html_a = at_strict_app(&a, &s, "tamtt").await;
    let html_b = at_strict_app(&b, &s, "tamtt").await;
    let html_a = bootstrap_by_mail(&a, &s, SECOND, &html_a, TAM, 1).await;
    let html_b = bootstrap_by_mail(&b, &s, SECOND, &html_b, TAM, 2).await;
    let (key_a, key_b) = (authenticator(&html_a), authenticator(&html_b));
    assert_ne!(
        key_text(&html_a),
        key_text(&html_b),
        "each browser has its own key"
    );
    // B cannot confirm the key A is scanning.
    let (_, _, html_b) = post(
        &b,
        &s,
        SECOND,
        &html_b,
        &[
            ("op", "enrol_totp"),
            ("code", &key_a.generate(now()).to_string()),
        ],
    )
    .await;
    assert!(html_b.contains("Mã không đúng hoặc đã hết hạn."));
    // Nor the address A is confirming.
    let personal = "tam.canhan@gmail.com";
    let (_, _, html_a) = post(
        &a,
        &s,
        SECOND,
        &html_a,
        &[("op", "enrol_email_send"), ("address", personal)],
    )
    .await;
    let code = code_in(&s.smtp.wait_for(personal, "Mã xác thực", 1));
    let (_, _, html_b) = post(
        &b,
        &s,
        SECOND,
        &html_b,
        &[("op", "enrol_email"), ("code", &code)],
    )
    .await;
    assert!(html_b.contains("Mã không đúng hoặc đã hết hạn."));
    assert!(recovery_codes(&html_b).is_empty());
    // A finishes with its own key.
    let (_, _, html_a) = post(
        &a,
        &s,
        SECOND,
        &html_a,
        &[
            ("op", "enrol_totp"),
            ("code", &key_a.generate(now()).to_string()),
        ],
    )
    .await;
    assert_eq!(recovery_codes(&html_a).len(), 10, "{html_a}");
    let (st, _, _) = post(&a, &s, SECOND, &html_a, &[("op", "done")]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    // A's pending key is gone and B's was never saved: B's own key does not sign in.
    let c = Browser::new();
    let html = password_then_second(&c, &s, "tamtt").await;
    let (_, _, html) = post(
        &c,
        &s,
        SECOND,
        &html,
        &[("op", "totp"), ("code", &key_b.generate(now()).to_string())],
    )
    .await;
    assert!(html.contains("Mã không đúng hoặc đã hết hạn."));
}

/// The key an enrolment page shows.
fn key_text(html: &str) -> String {
    let start = html.find(r#"<code class="key">"#).expect("key on the page") + 18;
    let end = start + html[start..].find("</code>").unwrap();
    html[start..end].to_owned()
}
