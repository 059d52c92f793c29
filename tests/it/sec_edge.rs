//! The HTTP edge and the files on disk (security review, issue 11): rate
//! limits per address, header/body/handler timeouts and the connection
//! limit, "return to" paths, the client's address behind trusted proxies,
//! `/readyz` and `/metrics`, and the modes of the data directory, database
//! and master key.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::redirect::Policy;

use crate::browser::{Browser, authorize_url, pkce};
use crate::harness::{Backends, Idp, PASSWORD};
use crate::oidc_flow::{REDIRECT, rp_http};

fn env(pairs: &[(&str, &str)]) -> Backends {
    Backends {
        env: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Backends::default()
    }
}

fn port(idp: &Idp) -> u16 {
    idp.base.rsplit_once(':').unwrap().1.parse().unwrap()
}

/// A browser that says it comes through a proxy for `addr`.
fn forwarded_browser(addr: &str) -> Browser {
    let mut h = HeaderMap::new();
    h.insert("x-forwarded-for", HeaderValue::from_str(addr).unwrap());
    Browser {
        http: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .default_headers(h)
            .build()
            .unwrap(),
    }
}

fn public_client(idp: &Idp) -> String {
    idp.cli_ok(
        &[
            "client",
            "add",
            "mobile",
            "--public",
            "--redirect-uri",
            REDIRECT,
        ],
        None,
    );
    let (_, challenge) = pkce();
    authorize_url(
        &idp.base,
        "mobile",
        REDIRECT,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
}

// ---- finding 5: rate limits per address ------------------------------------

#[tokio::test]
async fn authorize_floods_from_one_address_are_refused_with_429() {
    let idp = Idp::spawn(&env(&[
        ("IDP_HTTP__RATE_LIMIT_REQUESTS", "5"),
        ("IDP_HTTP__RATE_LIMIT_WINDOW_SECS", "600"),
        ("IDP_HTTP__TRUSTED_PROXIES", "[\"127.0.0.1\"]"),
    ]));
    let url = public_client(&idp);
    // Twenty at once from one address: exactly five pass.
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let b = forwarded_browser("198.51.100.1");
            let url = url.clone();
            tokio::spawn(async move { b.get(&url).await })
        })
        .collect();
    let mut passed = 0;
    let mut refused = None;
    for t in tasks {
        let r = t.await.unwrap();
        match r.status() {
            StatusCode::SEE_OTHER => passed += 1,
            StatusCode::TOO_MANY_REQUESTS => refused = Some(r),
            s => panic!("unexpected {s}"),
        }
    }
    assert_eq!(passed, 5, "the limit is reserved before the request runs");
    let r = refused.expect("some were refused");
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=600).contains(&wait), "{wait}");
    let page = r.text().await.unwrap();
    assert!(page.contains("Có quá nhiều yêu cầu"), "{page}");
    // The page says the wait Retry-After says, not a fixed "one minute".
    assert!(page.contains(&format!("chờ {wait} giây")), "{page}");

    // The other pages that store something share the budget: password reset.
    let b = forwarded_browser("198.51.100.1");
    let r = b
        .http
        .post(idp.url("/password/forgot"))
        .form(&[("account", "tamtt")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another address is not affected, nor are the pages that store nothing.
    let other = forwarded_browser("198.51.100.2");
    assert_eq!(other.get(&url).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(b.get(&idp.url("/healthz")).await.status(), StatusCode::OK);
    // An IPv6 attacker cannot rotate through its /64.
    for i in 0..5 {
        let v6 = forwarded_browser(&format!("2001:db8:1:2::{i:x}"));
        assert_eq!(v6.get(&url).await.status(), StatusCode::SEE_OTHER);
    }
    let v6 = forwarded_browser("2001:db8:1:2:ffff::1");
    assert_eq!(v6.get(&url).await.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(idp.log().contains("rate limit: too many requests"));
}

#[tokio::test]
async fn failed_token_calls_are_limited_and_working_apps_are_not() {
    let idp = Idp::spawn(&env(&[
        ("IDP_HTTP__RATE_LIMIT_FAILURES", "3"),
        ("IDP_HTTP__RATE_LIMIT_WINDOW_SECS", "600"),
    ]));
    let secret = idp.add_client("dongbo", REDIRECT, &["--grant", "client_credentials"]);
    let http = rp_http();
    let token = |id: &'static str, secret: String| {
        let http = http.clone();
        let url = idp.url("/token");
        async move {
            http.post(url)
                .basic_auth(id, Some(secret))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .unwrap()
        }
    };
    // A working app calls as often as it needs.
    for _ in 0..10 {
        assert_eq!(
            token("dongbo", secret.clone()).await.status(),
            StatusCode::OK
        );
    }
    // Unknown clients and wrong secrets: three failures, then 429 before any lookup.
    assert_eq!(
        token("khongco", "x".into()).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        token("dongbo", "sai".into()).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        token("khongco", "y".into()).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let r = token("khongco", "z".into()).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    // The same for introspection from that address.
    let r = http
        .post(idp.url("/introspect"))
        .basic_auth("khongco", Some("x"))
        .form(&[("token", "abc")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}

// ---- finding 6: timeouts and the connection limit --------------------------

/// Reads until the server closes the connection; returns what it sent and when it closed.
fn read_until_closed(s: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let start = Instant::now();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
        assert!(
            start.elapsed() < limit,
            "the connection was still open after {limit:?}; got {:?}",
            String::from_utf8_lossy(&got)
        );
    }
    (String::from_utf8_lossy(&got).into_owned(), start.elapsed())
}

#[test]
fn slow_loris_connections_are_closed_after_the_header_timeout() {
    let idp = Idp::spawn(&env(&[("IDP_HTTP__HEADER_READ_TIMEOUT_SECS", "2")]));
    let port = port(&idp);
    // Ten at once: half a header then silence, nothing at all, and an idle keep-alive.
    let mut conns = Vec::new();
    for i in 0..10 {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        match i % 3 {
            0 => s
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: ")
                .unwrap(),
            1 => {}
            _ => s
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                .unwrap(),
        }
        conns.push((i, s));
    }
    let opened = Instant::now();
    // Meanwhile the server answers everyone else.
    let mut fresh = TcpStream::connect(("127.0.0.1", port)).unwrap();
    fresh
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let (answer, _) = read_until_closed(&mut fresh, Duration::from_secs(5));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    for (i, mut s) in conns {
        let (got, _) = read_until_closed(&mut s, Duration::from_secs(8));
        if i == 0 {
            assert!(
                opened.elapsed() >= Duration::from_millis(1500),
                "not before the timeout"
            );
        }
        if i % 3 == 2 {
            assert!(
                got.starts_with("HTTP/1.1 200"),
                "the complete request was answered: {got}"
            );
        } else {
            assert!(!got.contains("200 OK"), "{got}");
        }
        assert!(
            opened.elapsed() < Duration::from_secs(6),
            "closed after {:?}",
            opened.elapsed()
        );
    }
}

#[test]
fn a_body_that_never_completes_is_cut() {
    let idp = Idp::spawn(&env(&[
        ("IDP_HTTP__BODY_READ_TIMEOUT_SECS", "2"),
        ("IDP_HTTP__HANDLER_TIMEOUT_SECS", "4"),
    ]));
    let port = port(&idp);
    // Ten bytes of a thousand, then silence: the body timeout.
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(
        b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\naccount=ab",
    )
    .unwrap();
    let (got, took) = read_until_closed(&mut s, Duration::from_secs(8));
    assert!(took < Duration::from_secs(4), "cut after {took:?}: {got}");
    assert!(got.starts_with("HTTP/1.1 4"), "{got}");

    // A byte a second never trips the body timeout, but the whole request
    // must be over within the handler timeout.
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(
        b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n",
    )
    .unwrap();
    let start = Instant::now();
    let mut writer = s.try_clone().unwrap();
    std::thread::spawn(move || {
        while writer.write_all(b"a").is_ok() {
            std::thread::sleep(Duration::from_millis(700));
        }
    });
    let (got, _) = read_until_closed(&mut s, Duration::from_secs(10));
    assert!(got.starts_with("HTTP/1.1 503"), "{got}");
    assert!(start.elapsed() >= Duration::from_secs(3));
    assert!(idp.log().contains("http.handler_timeout_secs"));
}

#[test]
fn connections_over_the_limit_wait_their_turn() {
    let idp = Idp::spawn(&env(&[
        ("IDP_HTTP__MAX_CONNECTIONS", "2"),
        ("IDP_HTTP__HEADER_READ_TIMEOUT_SECS", "3"),
    ]));
    let port = port(&idp);
    // Two silent connections take both slots.
    let _a = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let _b = TcpStream::connect(("127.0.0.1", port)).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // A third is queued (the kernel accepts it; the server does not read it yet) ...
    let start = Instant::now();
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let (got, _) = read_until_closed(&mut c, Duration::from_secs(10));
    // ... and answered once the header timeout frees a slot: queued, not refused.
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(2000) && took < Duration::from_secs(8),
        "answered after {took:?}"
    );
    assert!(idp.log().contains("connection limit reached"));
}

#[tokio::test]
async fn sigterm_still_stops_the_server_with_a_connection_open() {
    let mut idp = Idp::spawn(&Backends::default());
    let _idle = TcpStream::connect(("127.0.0.1", port(&idp))).unwrap();
    let status = idp.terminate();
    assert!(status.success(), "exit status {status:?}");
    assert!(idp.log().contains("stopped"));
}

// ---- finding 7: "return to" parameters -------------------------------------

#[tokio::test]
async fn the_language_switch_only_returns_to_local_paths() {
    let idp = Idp::spawn(&Backends::default());
    let http = rp_http();
    for next in [
        "/%09/evil.example",
        "/%0A/evil.example",
        "%09//evil.example",
        "//evil.example",
        "/%5Cevil.example",
        "/%5C%5Cevil.example",
        "/%252F%252Fevil.example",
        "https:evil.example",
        "https://evil.example",
        "/%2F%2Fevil.example",
    ] {
        let r = http
            .get(idp.url(&format!("/lang/en?next={next}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(r.headers()["location"], "/", "{next}");
    }
    let r = http
        .get(idp.url("/lang/en?next=/login%3Freq%3Dabc"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/login?req=abc");
}

// ---- finding 8: the client behind trusted proxies --------------------------

async fn last_login_ip(idp: &Idp) -> Option<String> {
    let store = idp::store::Store::connect(&idp.var("IDP_DATABASE_URL").unwrap())
        .await
        .unwrap();
    let events = store.recent_audit(20).await.unwrap();
    store.close().await;
    events
        .into_iter()
        .find(|e| e.kind == "auth.login")
        .and_then(|e| e.ip)
}

#[tokio::test]
async fn sign_ins_through_a_trusted_proxy_are_audited_with_the_client() {
    let idp = Idp::spawn(&env(&[("IDP_HTTP__TRUSTED_PROXIES", "[\"127.0.0.0/8\"]")]));
    idp.add_person();
    // The left-most entry is the client's own word: ignored.
    let b = forwarded_browser("6.6.6.6, 203.0.113.9");
    let r = b
        .submit_login(&idp.base, &idp.url("/login"), "tamtt", PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(last_login_ip(&idp).await.as_deref(), Some("203.0.113.9"));
    assert!(
        idp.log().contains("203.0.113.9"),
        "the access log names the client"
    );
}

#[tokio::test]
async fn forwarded_headers_from_untrusted_peers_are_ignored() {
    let idp = Idp::spawn(&Backends::default());
    idp.add_person();
    let b = forwarded_browser("203.0.113.9");
    let r = b
        .submit_login(&idp.base, &idp.url("/login"), "tamtt", PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(last_login_ip(&idp).await.as_deref(), Some("127.0.0.1"));
}

// ---- finding 16: /readyz and /metrics --------------------------------------

#[tokio::test]
async fn a_flood_of_readiness_probes_checks_once() {
    let idp = Idp::spawn(&env(&[("IDP_LOG__LEVEL", "idp::http::ops=debug,info")]));
    let http = rp_http();
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let http = http.clone();
            let url = idp.url("/readyz");
            tokio::spawn(async move { http.get(url).send().await.unwrap().status() })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    let checks = idp.log().matches("readiness checked").count();
    assert!((1..=2).contains(&checks), "{checks} checks for 100 probes");
    // A few seconds later the next probe checks again.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        http.get(idp.url("/readyz")).send().await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(idp.log().matches("readiness checked").count(), checks + 1);
}

#[tokio::test]
async fn metrics_need_the_token_or_the_private_address() {
    let http = rp_http();
    // Without a token the main address has no /metrics.
    let idp = Idp::spawn(&Backends::default());
    let r = http.get(idp.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    drop(idp);

    // With a token (read from a file): 401 without it or with a wrong one.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("metrics-token");
    std::fs::write(&file, "mot-ma-rat-dai-cho-prometheus\n").unwrap();
    let metrics_port = crate::harness::free_port();
    let idp = Idp::spawn(&env(&[
        ("IDP_HTTP__METRICS_TOKEN_FILE", file.to_str().unwrap()),
        (
            "IDP_HTTP__METRICS_LISTEN",
            &format!("127.0.0.1:{metrics_port}"),
        ),
    ]));
    let r = http.get(idp.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let r = http
        .get(idp.url("/metrics"))
        .bearer_auth("mot-ma-rat-dai-cho-prometheus-sai")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = http
        .get(idp.url("/metrics"))
        .bearer_auth("mot-ma-rat-dai-cho-prometheus")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("idp_"));
    // The private address serves /metrics (with the token, since one is set) and nothing else.
    let private = format!("http://127.0.0.1:{metrics_port}");
    let r = http.get(format!("{private}/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = http
        .get(format!("{private}/metrics"))
        .bearer_auth("mot-ma-rat-dai-cho-prometheus")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = http.get(format!("{private}/login")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    drop(idp);

    // A private address without a token is open (the address is the protection).
    let metrics_port = crate::harness::free_port();
    let idp = Idp::spawn(&env(&[(
        "IDP_HTTP__METRICS_LISTEN",
        &format!("127.0.0.1:{metrics_port}"),
    )]));
    let r = http
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        http.get(idp.url("/metrics")).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

// ---- finding 17: files on disk ---------------------------------------------

#[cfg(unix)]
fn mode(p: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

#[cfg(unix)]
#[tokio::test]
async fn a_fresh_start_creates_private_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let idp = Idp::spawn(&Backends {
        database_url: Some(format!("sqlite://{}/idp.db", data.display())),
        env: vec![
            ("IDP_DATA_DIR".into(), data.display().to_string()),
            (
                "IDP_MASTER_KEY_PATH".into(),
                data.join("master.key").display().to_string(),
            ),
        ],
        ..Backends::default()
    });
    idp.add_person();
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("idp.db")), 0o600);
    assert_eq!(mode(&data.join("master.key")), 0o600);
    for f in ["idp.db-wal", "idp.db-shm"] {
        if data.join(f).exists() {
            assert_eq!(mode(&data.join(f)), 0o600, "{f}");
        }
    }
    assert!(!idp.log().contains("chmod"), "{}", idp.log());
}

#[cfg(unix)]
#[tokio::test]
async fn readable_secrets_are_named_in_the_log() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("master.key");
    std::fs::write(&key, "ab".repeat(32)).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let token = dir.path().join("metrics-token");
    std::fs::write(&token, "mot-ma-rat-dai-cho-prometheus").unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o640)).unwrap();
    let idp = Idp::spawn(&env(&[
        ("IDP_MASTER_KEY_PATH", key.to_str().unwrap()),
        ("IDP_HTTP__METRICS_TOKEN_FILE", token.to_str().unwrap()),
    ]));
    let log = idp.log();
    assert!(
        log.contains(&format!("chmod 600 {}", key.display())),
        "{log}"
    );
    assert!(
        log.contains(&format!("chmod 600 {}", token.display())),
        "{log}"
    );
    assert!(
        !log.contains("idp.db can be read"),
        "the database is private: {log}"
    );
}
