//! Load for the flows wrk cannot script: refresh-token chains (each refresh
//! spends the token it presents), whole authorize→token rounds with an
//! existing SSO session, CAS login→p3/serviceValidate rounds with one, and
//! SAML rounds with one (an SP-initiated AuthnRequest by the Redirect
//! binding, SAML bindings §3.4, answered with a signed Response by the POST
//! form). `tests/bench/run.sh` runs it as
//! `cargo bench -p tests --bench load -- MODE SECONDS WORKERS` with BASE,
//! CLIENT_ID, CLIENT_SECRET, REDIRECT, ACCOUNT, PASSWORD, (for `cas`)
//! SERVICE and (for `saml`) SP_ENTITY_ID and ACS in the environment.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;
use tests::browser::{Browser, authorize_url, hidden, location, param, pkce};

struct Env {
    base: String,
    client: String,
    secret: String,
    redirect: String,
    account: String,
    password: String,
    service: Option<String>,
    /// The SAML SP's entity ID and its ACS URL, as its metadata gives them.
    sp_entity_id: Option<String>,
    acs: Option<String>,
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

/// A SAML round as an SP starts it: a fresh AuthnRequest, deflated and in
/// base64 on the query (bindings §3.4.4.1), answered from the live session
/// with the POST form of a signed Response. The check is cheap on purpose
/// (status, `InResponseTo`, two signature values: the response's and the
/// assertion's); `tests/it/saml.rs` verifies them with xmlsec1 and pysaml2.
async fn saml_round(b: &Browser, e: &Env) {
    let (issuer, acs) = (
        e.sp_entity_id.as_deref().unwrap(),
        e.acs.as_deref().unwrap(),
    );
    // An xs:ID is an NCName: it may not start with a digit.
    let id = format!("_{}", idp::crypto::random_token().unwrap());
    let now = idp::signing::tsp::rfc3339(idp::now());
    let xml = format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{now}" Destination="{}/saml/sso" AssertionConsumerServiceURL="{acs}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"><saml:Issuer>{issuer}</saml:Issuer><samlp:NameIDPolicy AllowCreate="true"/></samlp:AuthnRequest>"#,
        e.base
    );
    let mut d = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    d.write_all(xml.as_bytes()).unwrap();
    let mut sso = url::Url::parse(&format!("{}/saml/sso", e.base)).unwrap();
    sso.query_pairs_mut()
        .append_pair("SAMLRequest", &B64.encode(d.finish().unwrap()))
        .append_pair("RelayState", "bench");
    let r = b.get(sso.as_str()).await;
    assert_eq!(r.status(), 303, "/saml/sso: {}", r.text().await.unwrap());
    let to = location(&r);
    assert!(to.starts_with("/saml/post/"), "not the POST form: {to}");
    let r = b.get(&format!("{}{to}", e.base)).await;
    assert!(r.status().is_success(), "{to}: {}", r.status());
    let html = r.text().await.unwrap();
    let value = hidden(&html, "SAMLResponse").expect("SAMLResponse in the form");
    let resp = String::from_utf8(B64.decode(value).unwrap()).unwrap();
    assert!(resp.starts_with("<samlp:Response "), "{resp}");
    assert!(resp.contains(&format!(r#"InResponseTo="{id}""#)), "{resp}");
    assert!(
        resp.contains(r#"<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success""#),
        "{resp}"
    );
    assert_eq!(resp.matches("<ds:SignatureValue>").count(), 2, "{resp}");
}

/// What one round is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Refresh,
    Authorize,
    Cas,
    Saml,
}

impl Mode {
    fn parse(s: &str) -> Option<Mode> {
        Some(match s {
            "refresh" => Mode::Refresh,
            "authorize" => Mode::Authorize,
            "cas" => Mode::Cas,
            "saml" => Mode::Saml,
            _ => return None,
        })
    }

    /// The flow's row label in the README's table.
    fn label(self) -> &'static str {
        match self {
            Mode::Refresh => "OIDC refresh (rotation, new ES256 access token and RS256 ID token)",
            Mode::Authorize => "OIDC authorize → token with an existing session",
            Mode::Cas => "CAS login → p3/serviceValidate with an existing session",
            Mode::Saml => {
                "SAML AuthnRequest (Redirect) → signed Response (POST form) with an existing session"
            }
        }
    }
}

/// A browser with a live session (one sign-in, before the clock starts),
/// and the refresh token of its first code.
async fn signed_in(e: Arc<Env>) -> (Browser, String) {
    let b = Browser::new();
    let refresh = round(&b, &e).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    (b, refresh)
}

async fn worker(
    mode: Mode,
    e: Arc<Env>,
    (b, mut refresh): (Browser, String),
    until: Instant,
) -> Vec<Duration> {
    let mut lat = Vec::new();
    while Instant::now() < until {
        let t = Instant::now();
        match mode {
            Mode::Refresh => {
                let v = token(
                    &b,
                    &e,
                    &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
                )
                .await;
                refresh = v["refresh_token"].as_str().unwrap().to_owned();
            }
            Mode::Authorize => {
                round(&b, &e).await;
            }
            Mode::Cas => cas_round(&b, &e).await,
            Mode::Saml => saml_round(&b, &e).await,
        }
        lat.push(t.elapsed());
    }
    lat
}

/// 1234.5 as "1,235".
fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Prints one row of the Markdown table `tests/bench/run.sh` heads
/// (flow, per second, p50, p99); the counts go to stderr.
#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let mode = Mode::parse(args.first().map_or("refresh", String::as_str))
        .expect("MODE is refresh, authorize, cas or saml");
    let secs: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let workers: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(16);
    let e = Arc::new(Env {
        base: var("BASE"),
        client: var("CLIENT_ID"),
        secret: var("CLIENT_SECRET"),
        redirect: var("REDIRECT"),
        account: var("ACCOUNT"),
        password: var("PASSWORD"),
        service: std::env::var("SERVICE").ok(),
        sp_entity_id: std::env::var("SP_ENTITY_ID").ok(),
        acs: std::env::var("ACS").ok(),
    });
    // One sign-in after another, before the clock starts: the server checks
    // one password of an account at a time (a second try at once is told to
    // wait), and the argon2id checks are not the flow measured.
    let mut browsers = Vec::new();
    for _ in 0..workers {
        browsers.push(signed_in(e.clone()).await);
    }
    let start = Instant::now();
    let until = start + Duration::from_secs(secs);
    let handles: Vec<_> = browsers
        .into_iter()
        .map(|b| tokio::spawn(worker(mode, e.clone(), b, until)))
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
    eprintln!(
        "{}: {} rounds in {elapsed:.1} s, {workers} workers",
        args.first().map_or("refresh", String::as_str),
        lat.len()
    );
    println!(
        "| {} | {} | {:.1} ms | {:.1} ms |",
        mode.label(),
        thousands(lat.len() as f64 / elapsed),
        pct(0.5),
        pct(0.99)
    );
}
