//! Security review, sessions (issue 11, findings 4, 9 and 14): sign-outs that
//! reach every session of a person however many there are and whether or
//! not the cache still holds them, with their refresh tokens; no session or
//! grant brought back by a request in flight; `id_token_hint` that must be an
//! ID token; password-reset links, one live per person, doing the same work
//! for every account.

use idp::ids::Email;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::cookie::{CookieStore, Jar};
use serde_json::Value;

use crate::browser::{Browser, authorize_url, hidden, location, param, pkce};
use crate::harness::{Backends, Idp, PASSWORD, Postgres, Redis, Smtp};
use crate::oidc_flow::rp_http;

const APP: &str = "vanban";
const REDIRECT: &str = "http://127.0.0.1:9/vanban";
const TAM: &str = "tamtt@binhphuoc.gov.vn";

/// A browser whose cookies the test can read.
fn browser() -> (Browser, Arc<Jar>) {
    let jar = Arc::new(Jar::default());
    let http = reqwest::Client::builder()
        .cookie_provider(Arc::clone(&jar))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    (Browser { http }, jar)
}

async fn sign_in(idp: &Idp, password: &str) -> (Browser, Arc<Jar>) {
    let (b, jar) = browser();
    let r = b
        .submit_login(&idp.base, &idp.url("/login"), "tamtt", password)
        .await;
    assert_eq!(location(&r), "/", "signed in");
    (b, jar)
}

async fn signed_out(idp: &Idp, b: &Browser) -> bool {
    let home = b.get(&idp.url("/")).await.text().await.unwrap();
    home.contains(r#"name="password""#)
}

/// An authorization code issued in the browser's session, and its verifier.
async fn code(idp: &Idp, b: &Browser) -> (String, String) {
    let (verifier, challenge) = pkce();
    let url = authorize_url(
        &idp.base,
        APP,
        REDIRECT,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let back = b.sign_in_via(&idp.base, &url, "tamtt", PASSWORD).await;
    (param(&back, "code").unwrap(), verifier)
}

async fn exchange(idp: &Idp, secret: &str, code: &str, verifier: &str) -> (StatusCode, Value) {
    let r = rp_http()
        .post(idp.url("/token"))
        .basic_auth(APP, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

/// Tokens (access, refresh, ID) for the app from the browser's session.
async fn tokens(idp: &Idp, secret: &str, b: &Browser) -> Value {
    let (c, v) = code(idp, b).await;
    let (status, t) = exchange(idp, secret, &c, &v).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    t
}

async fn refresh(idp: &Idp, secret: &str, t: &Value) -> (StatusCode, Value) {
    let r = rp_http()
        .post(idp.url("/token"))
        .basic_auth(APP, Some(secret))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

async fn userinfo(idp: &Idp, t: &Value) -> StatusCode {
    rp_http()
        .get(idp.url("/userinfo"))
        .bearer_auth(t["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .status()
}

/// The app's tokens no longer work: refresh refused, access token refused.
async fn dead(idp: &Idp, secret: &str, t: &Value) {
    let (status, body) = refresh(idp, secret, t).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(userinfo(idp, t).await, StatusCode::UNAUTHORIZED);
}

async fn sign_out_others(idp: &Idp, b: &Browser) {
    let html = b.get(&idp.url("/account")).await.text().await.unwrap();
    let r = b
        .http
        .post(idp.url("/account/sessions/others"))
        .form(&[("csrf", hidden(&html, "csrf").unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/account?done=others");
}

/// The session cookie's value, as the cache names it.
fn session_key(idp: &Idp, jar: &Jar) -> String {
    let cookies = jar.cookies(&idp.base.parse().unwrap()).unwrap();
    let value = cookies
        .to_str()
        .unwrap()
        .split("; ")
        .find_map(|c| c.strip_prefix("dn_session="))
        .unwrap()
        .to_owned();
    format!("sess:{}", idp::auth::session::key_hash(&value))
}

async fn redis_cache(redis: &Redis) -> idp::cache::Cache {
    idp::cache::Cache::open(Some(&redis.url)).await.unwrap()
}

#[tokio::test]
async fn signing_out_of_other_sessions_ends_every_one_and_revokes_their_tokens() {
    let redis = Redis::start();
    let idp = Idp::spawn(&Backends {
        redis_url: Some(redis.url.clone()),
        ..Backends::default()
    });
    idp.add_person();
    let secret = idp.add_client(APP, REDIRECT, &[]);
    let cache = redis_cache(&redis).await;

    // The oldest session holds tokens, and leaves the cache (idle) before the sign-out.
    let (oldest, oldest_jar) = sign_in(&idp, PASSWORD).await;
    let oldest_tokens = tokens(&idp, &secret, &oldest).await;
    idp::cache::CacheBackend::delete(&cache, &session_key(&idp, &oldest_jar))
        .await
        .unwrap();
    assert!(signed_out(&idp, &oldest).await);
    // Its app still refreshes (the refresh token is only spent, so the newest is the live one).
    let (status, oldest_tokens) = refresh(&idp, &secret, &oldest_tokens).await;
    assert_eq!(status, StatusCode::OK, "{oldest_tokens}");

    // Sixty more sessions, far past the 50 the account page lists; some with tokens.
    let mut others = Vec::new();
    for i in 0..60 {
        let (b, _) = sign_in(&idp, PASSWORD).await;
        let t = if i % 20 == 0 {
            Some(tokens(&idp, &secret, &b).await)
        } else {
            None
        };
        others.push((b, t));
    }
    let (here, _) = sign_in(&idp, PASSWORD).await;
    let here_tokens = tokens(&idp, &secret, &here).await;

    // A code issued in another session just before the sign-out.
    let (late, late_verifier) = code(&idp, &others[0].0).await;

    sign_out_others(&idp, &here).await;

    for (b, t) in &others {
        assert!(signed_out(&idp, b).await, "every other session ended");
        if let Some(t) = t {
            dead(&idp, &secret, t).await;
        }
    }
    dead(&idp, &secret, &oldest_tokens).await;
    let (status, body) = exchange(&idp, &secret, &late, &late_verifier).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_grant");
    // This session and its app go on.
    assert!(!signed_out(&idp, &here).await);
    assert_eq!(refresh(&idp, &secret, &here_tokens).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_session_used_while_it_is_signed_out_stays_signed_out() {
    let redis = Redis::start();
    let idp = Idp::spawn(&Backends {
        redis_url: Some(redis.url.clone()),
        ..Backends::default()
    });
    idp.add_person();
    let secret = idp.add_client(APP, REDIRECT, &[]);
    let cache = redis_cache(&redis).await;

    for round in 0..3 {
        let (victim, jar) = sign_in(&idp, PASSWORD).await;
        let t = tokens(&idp, &secret, &victim).await;
        // Idle for two minutes: the next request writes the session back
        // with a new idle time (the write a sign-out must not be undone by).
        let key = session_key(&idp, &jar);
        let mut s: Value = idp::cache::Cache::get_json(&cache, &key)
            .await
            .unwrap()
            .unwrap();
        s["last_seen"] = (s["last_seen"].as_i64().unwrap() - 120).into();
        idp::cache::Cache::set_json(&cache, &key, &s, Duration::from_secs(600))
            .await
            .unwrap();
        let (here, _) = sign_in(&idp, PASSWORD).await;

        // The victim's browser and app keep using the session while it is
        // signed out: pages, authorizations, refreshes, all at once.
        let victim = Arc::new(victim);
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..12 {
            let victim = Arc::clone(&victim);
            let url = idp.url(if i % 2 == 0 { "/account" } else { "/" });
            tasks.spawn(async move {
                victim.get(&url).await.status();
            });
        }
        let (c, v) = code(&idp, &victim).await;
        let refreshed = refresh(&idp, &secret, &t);
        let signed = sign_out_others(&idp, &here);
        let ((_, r), ()) = tokio::join!(refreshed, signed);
        while tasks.join_next().await.is_some() {}

        assert!(signed_out(&idp, &victim).await, "round {round}");
        let (status, _) = exchange(&idp, &secret, &c, &v).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "round {round}");
        if r.get("refresh_token").is_some() {
            dead(&idp, &secret, &r).await;
        }
        assert_eq!(userinfo(&idp, &t).await, StatusCode::UNAUTHORIZED);
        assert!(!signed_out(&idp, &here).await);
    }
}

#[tokio::test]
async fn an_access_token_is_no_id_token_hint() {
    let idp = Idp::spawn(&Backends::default());
    idp.add_person();
    let secret = idp.add_client(
        APP,
        REDIRECT,
        &["--post-logout-redirect-uri", "http://127.0.0.1:9/bye"],
    );
    let (b, _) = sign_in(&idp, PASSWORD).await;
    let t = tokens(&idp, &secret, &b).await;
    let access = t["access_token"].as_str().unwrap();
    let id_token = t["id_token"].as_str().unwrap();

    // An access token carries our signature, this person's sub and sid, and
    // the app as its audience: still the person is asked, not signed out.
    for query in [
        format!("id_token_hint={access}"),
        format!(
            "id_token_hint={access}&client_id={APP}&post_logout_redirect_uri=http://127.0.0.1:9/bye&state=s"
        ),
    ] {
        let r = b.get(&format!("{}?{query}", idp.url("/logout"))).await;
        assert_eq!(r.status(), StatusCode::OK, "{query}");
        assert!(r.text().await.unwrap().contains("Bạn có muốn đăng xuất"));
        assert!(!signed_out(&idp, &b).await, "still signed in");
        assert_eq!(userinfo(&idp, &t).await, StatusCode::OK);
    }

    // The app's ID token signs the person out at once.
    let r = b
        .get(&format!("{}?id_token_hint={id_token}", idp.url("/logout")))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(signed_out(&idp, &b).await);
}

// ---- Password reset (finding 14) ----

async fn forgot(idp: &Idp, account: &str) -> (StatusCode, String) {
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
    // The answer without its CSRF token (which differs per browser).
    let body = html
        .lines()
        .filter(|l| !l.contains("csrf"))
        .collect::<Vec<_>>()
        .join("\n");
    (status, body)
}

/// The reset links mailed to Tâm so far, oldest first.
fn links(smtp: &Smtp) -> Vec<String> {
    smtp.received()
        .iter()
        .filter(|m| m.to.contains(TAM) && m.body.contains("/password/reset?token="))
        .map(|m| {
            let start = m.body.find("http://").unwrap();
            m.body[start..]
                .split_whitespace()
                .next()
                .unwrap()
                .to_owned()
        })
        .collect()
}

fn wait_links(smtp: &Smtp, n: usize) -> Vec<String> {
    let start = Instant::now();
    loop {
        let l = links(smtp);
        if l.len() >= n {
            return l;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{n} links");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Opens a link and sets `pw`; the status of the answer.
async fn use_link(idp: &Idp, link: &str, pw: &str) -> StatusCode {
    let b = Browser::new();
    let r = b.get(link).await;
    if r.status() != StatusCode::OK {
        return r.status();
    }
    let html = r.text().await.unwrap();
    let r = b
        .http
        .post(idp.url("/password/reset"))
        .form(&[
            ("csrf", hidden(&html, "csrf").unwrap().as_str()),
            ("token", hidden(&html, "token").unwrap().as_str()),
            ("password", pw),
            ("repeat", pw),
        ])
        .send()
        .await
        .unwrap();
    r.status()
}

#[tokio::test]
async fn a_password_reset_ends_every_session_and_grant() {
    let smtp = Smtp::start();
    let idp = Idp::spawn(&Backends {
        env: smtp.env(),
        ..Backends::default()
    });
    idp.add_person();
    let secret = idp.add_client(APP, REDIRECT, &[]);
    // 55 sessions, the oldest (past the 50 newest) with tokens of the app.
    let mut sessions = Vec::new();
    for i in 0..55 {
        let (b, _) = sign_in(&idp, PASSWORD).await;
        let t = if i % 18 == 0 {
            Some(tokens(&idp, &secret, &b).await)
        } else {
            None
        };
        sessions.push((b, t));
    }
    forgot(&idp, "tamtt").await;
    let link = wait_links(&smtp, 1).remove(0);
    assert_eq!(
        use_link(&idp, &link, "Mật-khẩu-mới-2025").await,
        StatusCode::OK
    );

    for (b, t) in &sessions {
        assert!(signed_out(&idp, b).await);
        if let Some(t) = t {
            dead(&idp, &secret, t).await;
        }
    }
}

#[tokio::test]
async fn one_live_reset_link_per_person() {
    let smtp = Smtp::start();
    let idp = Idp::spawn(&Backends {
        env: smtp.env(),
        ..Backends::default()
    });
    idp.add_person();

    // A newer link kills the older one.
    forgot(&idp, "tamtt").await;
    let first = wait_links(&smtp, 1).remove(0);
    forgot(&idp, "tamtt").await;
    let second = wait_links(&smtp, 2).remove(1);
    assert_eq!(
        Browser::new().get(&first).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(Browser::new().get(&second).await.status(), StatusCode::OK);
    // The live one, used twice at once: one wins.
    let (a, b) = tokio::join!(
        use_link(&idp, &second, "Mật-khẩu-mới-2025"),
        use_link(&idp, &second, "Mật-khẩu-khác-2025")
    );
    let mut statuses = [a, b];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::NOT_FOUND]);
    assert_eq!(
        use_link(&idp, &first, "Mật-khẩu-thứ-ba-2025").await,
        StatusCode::NOT_FOUND
    );

    // A link dies when the password changes by another path.
    forgot(&idp, "tamtt").await;
    let third = wait_links(&smtp, 3).remove(2);
    let store = idp::store::Store::connect(&idp.var("IDP_DATABASE_URL").unwrap())
        .await
        .unwrap();
    let user = store
        .user_by_email(&Email::parse(TAM).unwrap())
        .await
        .unwrap()
        .unwrap();
    // (An administrator's tool, a future password page: any path that writes a new hash.)
    let hash = idp::auth::password::Hasher::new(&Default::default())
        .unwrap()
        .hash("Một-mật-khẩu-khác-2026".into())
        .await
        .unwrap();
    store.set_password_hash(&user.id, &hash, 1).await.unwrap();
    assert_eq!(
        Browser::new().get(&third).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_disabled_account_gets_no_reset_link_and_cannot_use_one() {
    let smtp = Smtp::start();
    let idp = Idp::spawn(&Backends {
        env: smtp.env(),
        ..Backends::default()
    });
    idp.add_person();
    forgot(&idp, "tamtt").await;
    let link = wait_links(&smtp, 1).remove(0);
    let store = idp::store::Store::connect(&idp.var("IDP_DATABASE_URL").unwrap())
        .await
        .unwrap();
    let user = store
        .user_by_email(&Email::parse(TAM).unwrap())
        .await
        .unwrap()
        .unwrap();
    store.set_user_disabled(&user.id, Some(2), 2).await.unwrap();
    assert_eq!(
        use_link(&idp, &link, "Mật-khẩu-mới-2025").await,
        StatusCode::NOT_FOUND
    );
    forgot(&idp, "tamtt").await;
    // Give the background a moment: still one mail.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(links(&smtp).len(), 1);
}

/// Holds `LOCK TABLE … IN ACCESS EXCLUSIVE MODE` on `tables` until dropped.
struct TableLock(std::process::Child);

impl TableLock {
    fn take(pg_url: &str, tables: &[&str]) -> TableLock {
        let mut child = Command::new("psql")
            .args([pg_url, "-q", "-v", "ON_ERROR_STOP=1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("psql");
        let stdin = child.stdin.as_mut().unwrap();
        writeln!(stdin, "BEGIN;").unwrap();
        for t in tables {
            writeln!(stdin, "LOCK TABLE {t} IN ACCESS EXCLUSIVE MODE;").unwrap();
        }
        stdin.flush().unwrap();
        // Wait until the server says the locks are held.
        let held = format!(
            "SELECT count(*) FROM pg_locks WHERE granted AND mode = 'AccessExclusiveLock' \
             AND relation IN ({})",
            tables
                .iter()
                .map(|t| format!("'{t}'::regclass"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let start = Instant::now();
        loop {
            let out = Command::new("psql")
                .args([pg_url, "-tAc", &held])
                .output()
                .expect("psql");
            if String::from_utf8_lossy(&out.stdout).trim() == tables.len().to_string() {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "tables not locked"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        TableLock(child)
    }
}

impl Drop for TableLock {
    fn drop(&mut self) {
        if let Some(stdin) = self.0.stdin.as_mut() {
            let _ = writeln!(stdin, "COMMIT;");
        }
        drop(self.0.stdin.take());
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn forgot_password_does_the_same_work_for_every_account() {
    let pg = Postgres::start();
    let smtp = Smtp::start();
    let idp = Idp::spawn(&Backends {
        database_url: Some(pg.url.clone()),
        env: smtp.env(),
        ..Backends::default()
    });
    idp.add_person();
    // The accounts, the outbox and the audit log are locked: a request that
    // looked an account up, queued its mail or audited it would wait here.
    // Every answer comes all the same, and they are the same answer.
    let lock = TableLock::take(&pg.url, &["users", "outbox", "audit_events"]);
    let answers = tokio::time::timeout(Duration::from_secs(20), async {
        let mut answers = Vec::new();
        for account in ["tamtt", "khongco", "tamtt@binhphuoc.gov.vn", "x@other.vn"] {
            answers.push(forgot(&idp, account).await);
        }
        answers
    })
    .await
    .expect("answered without touching the accounts, the outbox or the audit log");
    assert_eq!(answers[0].0, StatusCode::OK);
    assert!(answers[0].1.contains("Nếu tài khoản tồn tại"));
    assert!(answers.iter().all(|a| *a == answers[0]));
    assert!(links(&smtp).is_empty());
    // The work happens behind the answer: the link comes once the tables are free.
    drop(lock);
    assert_eq!(wait_links(&smtp, 2).len(), 2);
}
