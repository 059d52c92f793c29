//! Brute-force protection across two nodes sharing Redis: free failures, then
//! a wait, then a lock, identical for a real and an unknown account; an
//! administrator's unlock; and an office address that keeps its regular
//! people when someone there sprays passwords.

use std::time::Duration;

use reqwest::StatusCode;

use crate::browser::Browser;
use crate::harness::{Backends, Idp, PASSWORD, Redis, Smtp};

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Signs in on `node`; returns the status and what the form says.
async fn attempt(node: &Idp, account: &str, password: &str) -> (StatusCode, String) {
    let r = Browser::new()
        .submit_login(&node.base, &node.url("/login"), account, password)
        .await;
    let status = r.status();
    let html = r.text().await.unwrap();
    let said = [
        ("Tài khoản hoặc mật khẩu không đúng.", "wrong"),
        ("Vui lòng chờ 1 giây", "wait"),
        (
            "tạm thời không thể đăng nhập. Vui lòng thử lại sau 10 phút",
            "locked",
        ),
        ("từ mạng này", "address"),
    ]
    .iter()
    .find(|(text, _)| html.contains(text))
    .map_or("", |(_, what)| what);
    (status, said.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_slow_down_then_lock_on_every_node_alike_for_unknown_accounts() {
    let redis = Redis::start();
    // The mail server is down when the lock happens.
    let mut smtp = Smtp::down();
    let mut vars = env(&[
        ("IDP_EMAIL_DOMAIN", "binhphuoc.gov.vn"),
        ("IDP_BRUTE_FORCE__FREE_FAILURES", "2"),
        ("IDP_BRUTE_FORCE__MAX_DELAY_SECS", "1"),
        ("IDP_BRUTE_FORCE__LOCK_AFTER", "4"),
        ("IDP_BRUTE_FORCE__LOCK_SECS", "600"),
    ]);
    vars.extend(smtp.env());
    let b = Backends {
        redis_url: Some(redis.url.clone()),
        env: vars,
        ..Backends::default()
    };
    let a = Idp::spawn(&b);
    let other = a.sibling(&b);
    a.add_person();

    let mut seen = Vec::new();
    for account in ["tamtt", "khongco"] {
        let right = if account == "tamtt" {
            PASSWORD
        } else {
            "whatever-1"
        };
        let mut steps = Vec::new();
        steps.push(attempt(&a, account, "wrong-1").await);
        steps.push(attempt(&other, account, "wrong-2").await);
        steps.push(attempt(&a, account, "wrong-3").await);
        // Right away, even the right password waits (and costs no hash).
        steps.push(attempt(&other, account, right).await);
        tokio::time::sleep(Duration::from_millis(2100)).await;
        steps.push(attempt(&a, account, "wrong-4").await);
        steps.push(attempt(&other, account, right).await);
        seen.push(steps);
    }
    let ok = StatusCode::OK;
    let slow = StatusCode::TOO_MANY_REQUESTS;
    assert_eq!(
        seen[0],
        vec![
            (ok, "wrong".to_owned()),
            (ok, "wrong".to_owned()),
            (ok, "wrong".to_owned()),
            (slow, "wait".to_owned()),
            (ok, "wrong".to_owned()),
            (slow, "locked".to_owned()),
        ]
    );
    assert_eq!(seen[0], seen[1], "an unknown account is treated the same");

    // The owner is told by mail, once the mail server is back.
    smtp.up();
    let m = smtp.wait_for("tamtt@binhphuoc.gov.vn", "Tài khoản tạm thời bị khóa", 1);
    assert!(m.body.contains("khóa tạm thời 10 phút"), "{}", m.body);
    assert!(m.body.contains("127.0.0.1"), "{}", m.body);
    assert!(m.body.contains("locked for 10 minutes"), "{}", m.body);
    assert_eq!(smtp.received().len(), 1, "nobody else gets mail");

    // An administrator lifts the lock.
    let out = a.cli_ok(&["user", "unlock", "tamtt"], None);
    assert!(out.contains("unlocked tamtt@binhphuoc.gov.vn"), "{out}");
    let r = Browser::new()
        .submit_login(&other.base, &other.url("/login"), "tamtt", PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_office_address_keeps_its_regular_people() {
    let redis = Redis::start();
    let idp = Idp::spawn(&Backends {
        redis_url: Some(redis.url.clone()),
        env: env(&[
            ("IDP_EMAIL_DOMAIN", "binhphuoc.gov.vn"),
            ("IDP_BRUTE_FORCE__IP_FAILURES", "3"),
        ]),
        ..Backends::default()
    });
    idp.add_person();
    // Tâm signs in from the office as every day.
    assert_eq!(
        Browser::new()
            .submit_login(&idp.base, &idp.url("/login"), "tamtt", PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    // Someone at the same address tries other people's accounts.
    for who in ["a", "b", "c"] {
        assert_eq!(attempt(&idp, who, "guess").await.1, "wrong");
    }
    assert_eq!(
        attempt(&idp, "d", "guess").await,
        (StatusCode::TOO_MANY_REQUESTS, "address".to_owned())
    );
    // Tâm still gets in.
    assert_eq!(
        Browser::new()
            .submit_login(&idp.base, &idp.url("/login"), "tamtt", PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}
