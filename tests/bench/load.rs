//! Load for the flows wrk cannot script: refresh-token chains (each refresh
//! spends the token it presents), whole authorize→token rounds with an
//! existing SSO session, and CAS login→p3/serviceValidate rounds with one.
//! `tests/bench/run.sh` runs it as
//! `cargo bench -p tests --bench load -- MODE SECONDS WORKERS` with BASE,
//! CLIENT_ID, CLIENT_SECRET, REDIRECT, ACCOUNT, PASSWORD and (for `cas`)
//! SERVICE in the environment.

use std::time::{Duration, Instant};

use serde_json::Value;
use tests::browser::{Browser, authorize_url, param, pkce};

struct Env {
    base: String,
    client: String,
    secret: String,
    redirect: String,
    account: String,
    password: String,
    service: Option<String>,
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"))
}

async fn token(b: &Browser, e: &Env, form: &[(&str, &str)]) -> Value {
    let r = b
        .http
        .post(format!("{}/token", e.base))
        .basic_auth(&e.client, Some(&e.secret))
        .form(form)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "token: {}", r.status());
    r.json().await.unwrap()
}

/// A code from a signed-in browser, with its verifier.
async fn code(b: &Browser, e: &Env) -> (String, String) {
    let (verifier, challenge) = pkce();
    let url = authorize_url(
        &e.base,
        &e.client,
        &e.redirect,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let back = b.sign_in_via(&e.base, &url, &e.account, &e.password).await;
    (param(&back, "code").unwrap(), verifier)
}

async fn round(b: &Browser, e: &Env) -> Value {
    let (c, v) = code(b, e).await;
    token(
        b,
        e,
        &[
            ("grant_type", "authorization_code"),
            ("code", &c),
            ("redirect_uri", &e.redirect),
            ("code_verifier", &v),
        ],
    )
    .await
}

/// A CAS round: a service ticket from the live session, validated (CAS 3.0).
async fn cas_round(b: &Browser, e: &Env) {
    let service = e.service.as_deref().unwrap();
    let mut login = url::Url::parse(&format!("{}/cas/login", e.base)).unwrap();
    login.query_pairs_mut().append_pair("service", service);
    let back = b
        .sign_in_via(&e.base, login.as_str(), &e.account, &e.password)
        .await;
    let ticket = param(&back, "ticket").unwrap();
    let r = b
        .http
        .get(format!("{}/cas/p3/serviceValidate", e.base))
        .query(&[("service", service), ("ticket", &ticket)])
        .send()
        .await
        .unwrap();
    let body = r.text().await.unwrap();
    assert!(body.contains("authenticationSuccess"), "{body}");
}

async fn worker(mode: String, e: std::sync::Arc<Env>, until: Instant) -> Vec<Duration> {
    let b = Browser::new();
    let mut refresh = round(&b, &e).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut lat = Vec::new();
    while Instant::now() < until {
        let t = Instant::now();
        if mode == "refresh" {
            let v = token(
                &b,
                &e,
                &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
            )
            .await;
            refresh = v["refresh_token"].as_str().unwrap().to_owned();
        } else if mode == "cas" {
            cas_round(&b, &e).await;
        } else {
            round(&b, &e).await;
        }
        lat.push(t.elapsed());
    }
    lat
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let mode = args.first().cloned().unwrap_or_else(|| "refresh".into());
    assert!(
        ["refresh", "authorize", "cas"].contains(&mode.as_str()),
        "MODE is refresh, authorize or cas"
    );
    let secs: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let workers: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(16);
    let e = std::sync::Arc::new(Env {
        base: var("BASE"),
        client: var("CLIENT_ID"),
        secret: var("CLIENT_SECRET"),
        redirect: var("REDIRECT"),
        account: var("ACCOUNT"),
        password: var("PASSWORD"),
        service: std::env::var("SERVICE").ok(),
    });
    let start = Instant::now();
    let until = start + Duration::from_secs(secs);
    let handles: Vec<_> = (0..workers)
        .map(|_| tokio::spawn(worker(mode.clone(), e.clone(), until)))
        .collect();
    let mut lat = Vec::new();
    for h in handles {
        lat.extend(h.await.unwrap());
    }
    let elapsed = start.elapsed().as_secs_f64();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    };
    println!(
        "{mode}: {:.0} per second ({} in {elapsed:.1} s, {workers} workers), p50 {:.2} ms, p99 {:.2} ms",
        lat.len() as f64 / elapsed,
        lat.len(),
        pct(0.5),
        pct(0.99)
    );
}
