//! Operating the server: health and readiness (with Redis going down and
//! coming back), security headers and cookies, graceful shutdown, start-up
//! errors that name the fix, and the admin CLI's answers.

use reqwest::StatusCode;
use serde_json::Value;

use crate::browser::Browser;
use crate::harness::{Backends, Idp, PASSWORD, Redis};
use crate::oidc_flow::rp_http;

#[tokio::test]
async fn readyz_follows_redis_down_and_back() {
    let mut redis = Redis::start();
    let idp = Idp::spawn(&Backends {
        redis_url: Some(redis.url.clone()),
        ..Backends::default()
    });
    let ready = |idp: &Idp| {
        let url = idp.url("/readyz");
        async move { rp_http().get(url).send().await.unwrap() }
    };
    assert_eq!(ready(&idp).await.status(), StatusCode::OK);
    assert_eq!(
        rp_http()
            .get(idp.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    redis.stop();
    // The last result is reused for two seconds: a flood of probes is one check.
    let mut r = ready(&idp).await;
    for _ in 0..40 {
        if r.status() == StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        r = ready(&idp).await;
    }
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["cache"], "unreachable");
    assert_eq!(body["database"], "ok");
    // A sign-in attempt while the cache is down gets a clear page, not a crash.
    idp.add_person();
    let page = rp_http().get(idp.url("/login")).send().await.unwrap();
    assert_eq!(
        page.status(),
        StatusCode::OK,
        "the form itself needs no cache"
    );

    redis.restart();
    let mut ok = false;
    for _ in 0..40 {
        if ready(&idp).await.status() == StatusCode::OK {
            ok = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(ok, "readiness recovers by itself when Redis is back");
}

#[tokio::test]
async fn pages_carry_security_headers_and_safe_cookies() {
    let idp = Idp::spawn(&Backends::default());
    idp.add_person();
    let browser = Browser::new();
    let r = browser.get(&idp.url("/login")).await;
    let h = r.headers();
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert!(
        !h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("unsafe-inline")
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["cache-control"], "no-store");
    assert!(!h["x-request-id"].is_empty());
    let csrf_cookie = h["set-cookie"].to_str().unwrap();
    assert!(
        csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Lax"),
        "{csrf_cookie}"
    );
    let r = browser
        .submit_login(&idp.base, &idp.url("/login"), "tamtt", PASSWORD)
        .await;
    let session = r.headers()["set-cookie"].to_str().unwrap();
    assert!(
        session.starts_with("dn_session=")
            && session.contains("HttpOnly")
            && session.contains("SameSite=Lax")
    );
    // Signed in, the portal greets the person by name.
    let home = browser.get(&idp.url("/")).await.text().await.unwrap();
    assert!(home.contains("Trương Thanh Tâm"));
    // English on a switch that is remembered.
    let r = browser.get(&idp.url("/lang/en?next=/login")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login");
    let r = browser.get(&idp.url("/logout")).await.text().await.unwrap();
    assert!(r.contains("Do you want to sign out"), "{r}");
    // Discovery and JWKS may be cached; the stylesheet is served.
    let d = rp_http()
        .get(idp.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert!(
        d.headers()["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("public")
    );
    let css = rp_http()
        .get(idp.url("/static/app.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    // Unknown pages say so, in Vietnamese by default.
    let r = rp_http().get(idp.url("/khong-co")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("Không tìm thấy trang."));
}

#[tokio::test]
async fn sigterm_stops_the_server_cleanly() {
    let mut idp = Idp::spawn(&Backends::default());
    assert_eq!(
        rp_http()
            .get(idp.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let status = idp.terminate();
    assert!(status.success(), "exit status {status:?}");
    assert!(idp.log().contains("shutting down"));
}

#[test]
fn bad_configuration_stops_start_up_with_the_fix() {
    let out = std::process::Command::new(crate::harness::idp_bin())
        .arg("serve")
        .env_clear()
        .env("IDP_ISSUER", "http://dangnhap.example.gov.vn")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("issuer") && err.contains("IDP_ISSUER=https://"),
        "{err}"
    );
}

#[tokio::test]
async fn cli_refuses_bad_input_and_names_the_problem() {
    let idp = Idp::spawn(&Backends::default());
    idp.add_person();
    let dup = idp.cli(
        &["user", "add", "TAMTT@binhphuoc.gov.vn", "--name", "X"],
        None,
    );
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already exists"));
    let bad = idp.cli(
        &[
            "client",
            "add",
            "x",
            "--redirect-uri",
            "http://app.example.gov.vn/cb",
        ],
        None,
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("use https"));
    let short = idp.cli(
        &["user", "add", "a", "--name", "A", "--password-stdin"],
        Some("short"),
    );
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 10"));
    let listed = idp.cli_ok(&["user", "list"], None);
    assert!(listed.contains("tamtt@binhphuoc.gov.vn\tTrương Thanh Tâm"));
    assert!(
        !listed.contains("a@binhphuoc.gov.vn"),
        "nothing half-created"
    );
}

/// The start message's commands for a first administrator work as printed
/// (from the folder the server runs in, with the same settings).
#[test]
fn the_first_administrator_is_created_with_the_printed_commands() {
    let idp = Idp::spawn(&Backends::default());
    let log = idp.log();
    let lines: Vec<&str> = log
        .lines()
        .skip_while(|l| !l.starts_with("No administrator yet"))
        .skip(2)
        .take_while(|l| l.starts_with("  "))
        .collect();
    assert_eq!(lines.len(), 2, "{log}");
    let mut printed = Vec::new();
    for line in lines {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(line.trim())
            .env_clear()
            .envs(idp.env().iter().cloned())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{line}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        printed.push(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    assert!(printed[1].contains("enrolment code"), "{}", printed[1]);
    let list = idp.cli_ok(&["user", "list"], None);
    assert!(
        list.lines()
            .any(|l| l.starts_with("admin@") && l.ends_with("admin,password")),
        "{list}"
    );
}
