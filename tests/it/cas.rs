//! CAS 3.0 end to end, with python-cas (PyPI, in `target/cas-venv`) as the
//! app: CAS 1.0, 2.0 and 3.0 validation with attributes, JSON answers,
//! proxy tickets through a proxy callback, replay and wrong-service
//! refusals, `renew` and `gateway`, the page for an unknown service, one
//! sign-in opening an OIDC app and a CAS app and one sign-out ending both
//! (CAS single logout reaching the app); and the WSO2-compatible paths.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Form, Query, State};
use axum::routing::{get, post};
use reqwest::StatusCode;
use serde_json::Value;

use crate::browser::{Browser, hidden, location, param};
use crate::harness::{Backends, Idp, PASSWORD};
use crate::oidc_flow::rp_http;

/// What the app's loopback endpoints received: PGTs at its proxy callback,
/// logout requests at its single-logout URL, logout tokens at its OIDC back channel.
#[derive(Clone, Default)]
struct App {
    pgts: Arc<Mutex<Vec<(String, String)>>>,
    slo: Arc<Mutex<Vec<String>>>,
    bcl: Arc<Mutex<Vec<String>>>,
}

async fn pgt_callback(
    State(app): State<App>,
    Query(q): Query<HashMap<String, String>>,
) -> &'static str {
    // CAS 3.0 §2.5.4: the callback is first called without parameters by some servers.
    if let (Some(id), Some(iou)) = (q.get("pgtId"), q.get("pgtIou")) {
        app.pgts.lock().unwrap().push((id.clone(), iou.clone()));
    }
    "ok"
}

async fn slo(State(app): State<App>, Form(f): Form<HashMap<String, String>>) -> &'static str {
    app.slo
        .lock()
        .unwrap()
        .push(f.get("logoutRequest").cloned().unwrap_or_default());
    "ok"
}

async fn bcl(State(app): State<App>, Form(f): Form<HashMap<String, String>>) -> &'static str {
    app.bcl
        .lock()
        .unwrap()
        .push(f.get("logout_token").cloned().unwrap_or_default());
    "ok"
}

/// Starts the app on a loopback port; returns its base URL.
async fn start_app() -> (String, App) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = App::default();
    let router = axum::Router::new()
        .route("/docs/pgt", get(pgt_callback))
        .route("/docs/slo", post(slo))
        .route("/bcl", post(bcl))
        .with_state(app.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (base, app)
}

/// The Python of `target/cas-venv` (or `CAS_PYTHON`).
fn cas_python() -> PathBuf {
    crate::harness::util::venv_python("cas-venv", "CAS_PYTHON", "python-cas")
}

/// Runs `tests/cas/client.py ARGS` (blocking: python-cas is synchronous) and reads its JSON.
async fn client(args: &[&str]) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("cas/client.py");
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(cas_python())
            .arg(script)
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "client.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

pub(crate) fn spawn_idp() -> Idp {
    let idp = Idp::spawn(&Backends {
        env: vec![(
            "IDP_CAS__ALLOW_HTTP_PROXY_CALLBACK_ON_LOOPBACK".into(),
            "true".into(),
        )],
        ..Backends::default()
    });
    idp.add_person();
    idp
}

pub(crate) fn login_url(idp: &Idp, service: &str, extra: &[(&str, &str)]) -> String {
    let mut u = url::Url::parse(&idp.url("/cas/login")).unwrap();
    u.query_pairs_mut().append_pair("service", service);
    for (k, v) in extra {
        u.query_pairs_mut().append_pair(k, v);
    }
    u.to_string()
}

/// Opens `/cas/login` for `service`, through the sign-in form when the
/// browser has no session; returns the ticket the service is sent back with.
pub(crate) async fn ticket_for(
    idp: &Idp,
    browser: &Browser,
    service: &str,
    extra: &[(&str, &str)],
) -> String {
    let back = browser
        .sign_in_via(
            &idp.base,
            &login_url(idp, service, extra),
            "tamtt",
            PASSWORD,
        )
        .await;
    assert!(back.starts_with(service), "{back}");
    let t = param(&back, "ticket").unwrap_or_else(|| panic!("no ticket in {back}"));
    assert!(t.starts_with("ST-"), "{t}");
    t
}

/// A raw validation call; returns the body.
pub(crate) async fn raw(idp: &Idp, path: &str, q: &[(&str, &str)]) -> String {
    let r = rp_http().get(idp.url(path)).query(q).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.unwrap()
}

pub(crate) fn failure_code(xml: &str) -> String {
    let start = xml
        .find("code=\"")
        .unwrap_or_else(|| panic!("no failure: {xml}"))
        + 6;
    xml[start..start + xml[start..].find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn cas_validation_with_attributes_proxy_tickets_and_refusals() {
    let idp = spawn_idp();
    let (base, app) = start_app().await;
    let docs = format!("{base}/docs/");
    let calendar = "https://lich.binhphuoc.gov.vn/";
    idp.cli_ok(
        &[
            "cas",
            "service",
            "add",
            "docs",
            "--pattern",
            &docs,
            "--name",
            "Văn bản (CAS)",
            "--attribute",
            "email",
            "--attribute",
            "name",
            "--attribute",
            "phone",
            "--allow-proxy",
        ],
        None,
    );
    idp.cli_ok(
        &[
            "cas",
            "service",
            "add",
            "lich",
            "--pattern",
            calendar,
            "--accept-proxy",
        ],
        None,
    );
    let listed = idp.cli_ok(&["cas", "service", "list"], None);
    assert!(
        listed.contains("docs\tVăn bản (CAS)")
            && listed.contains("lich\tlich")
            && listed.contains("proxied-to"),
        "{listed}"
    );
    // A match-all, a relative pattern and an unknown attribute are refused.
    for bad in [
        &["cas", "service", "add", "all", "--pattern", "*"][..],
        &["cas", "service", "add", "rel", "--pattern", "/docs"][..],
        &[
            "cas",
            "service",
            "add",
            "pw",
            "--pattern",
            "https://a.gov.vn/",
            "--attribute",
            "password",
        ][..],
        // Plain http outside loopback needs --insecure-http.
        &[
            "cas",
            "service",
            "add",
            "intra",
            "--pattern",
            "http://a.gov.vn/",
        ][..],
    ] {
        assert!(!idp.cli(bad, None).status.success(), "{bad:?}");
    }
    let out = idp.cli(
        &[
            "cas",
            "service",
            "add",
            "intra",
            "--pattern",
            "http://a.gov.vn/",
        ],
        None,
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--insecure-http"),
        "{out:?}"
    );
    idp.cli_ok(
        &[
            "cas",
            "service",
            "add",
            "intra",
            "--pattern",
            "http://a.gov.vn/",
            "--insecure-http",
        ],
        None,
    );

    let server = idp.url("/cas/");
    let service = format!("{docs}home?lang=vi");
    let browser = Browser::new();

    // CAS 3.0 with attributes and a proxy callback, by python-cas.
    let st = ticket_for(&idp, &browser, &service, &[]).await;
    let pgt_url = format!("{base}/docs/pgt");
    let v = client(&["validate", &server, &service, &st, "3", &pgt_url]).await;
    assert_eq!(v["user"], "tamtt@binhphuoc.gov.vn");
    let a = &v["attributes"];
    assert_eq!(a["email"], "tamtt@binhphuoc.gov.vn");
    assert_eq!(a["name"], "Trương Thanh Tâm");
    assert_eq!(a["phone"], "0888778078");
    assert_eq!(a["isFromNewLogin"], "true");
    assert!(a.get("unit").is_none(), "only what the service is given");
    let iou = v["pgtiou"].as_str().unwrap().to_owned();
    assert!(iou.starts_with("PGTIOU-"), "{iou}");
    let (pgt, got_iou) = app.pgts.lock().unwrap().first().cloned().unwrap();
    assert_eq!(got_iou, iou, "the callback got the PGT behind the IOU");
    assert!(pgt.starts_with("PGT-"));

    // The same ticket again: refused, whoever asks.
    let again = raw(
        &idp,
        "/cas/serviceValidate",
        &[("service", &service), ("ticket", &st)],
    )
    .await;
    assert_eq!(failure_code(&again), "INVALID_TICKET");

    // A proxy ticket for the calendar, validated there with the chain of proxies.
    let pt = client(&["proxy", &server, calendar, &pgt]).await;
    let pt = pt["ticket"]
        .as_str()
        .unwrap_or_else(|| panic!("{pt}"))
        .to_owned();
    assert!(pt.starts_with("PT-"), "{pt}");
    let v = client(&["proxy-validate", &server, calendar, &pt]).await;
    assert_eq!(v["user"], "tamtt@binhphuoc.gov.vn");
    assert_eq!(v["attributes"]["email"], "tamtt@binhphuoc.gov.vn");
    let pt2 = client(&["proxy", &server, calendar, &pgt]).await["ticket"]
        .as_str()
        .unwrap()
        .to_owned();
    let xml = raw(
        &idp,
        "/cas/proxyValidate",
        &[("service", calendar), ("ticket", &pt2)],
    )
    .await;
    assert!(
        xml.contains(&format!(
            "<cas:proxies><cas:proxy>{pgt_url}</cas:proxy></cas:proxies>"
        )),
        "{xml}"
    );
    // A proxy ticket is not a service ticket.
    let pt3 = client(&["proxy", &server, calendar, &pgt]).await["ticket"]
        .as_str()
        .unwrap()
        .to_owned();
    let xml = raw(
        &idp,
        "/cas/serviceValidate",
        &[("service", calendar), ("ticket", &pt3)],
    )
    .await;
    assert_eq!(failure_code(&xml), "INVALID_TICKET_SPEC");
    // Not for an unregistered target, nor with a made-up PGT.
    let xml = raw(
        &idp,
        "/cas/proxy",
        &[("pgt", &pgt), ("targetService", "https://evil.example/")],
    )
    .await;
    assert_eq!(failure_code(&xml), "UNAUTHORIZED_SERVICE");
    let xml = raw(
        &idp,
        "/cas/proxy",
        &[("pgt", "PGT-made-up"), ("targetService", calendar)],
    )
    .await;
    assert_eq!(failure_code(&xml), "INVALID_TICKET");
    // The calendar may not proxy: its pgtUrl is refused.
    let st = ticket_for(&idp, &browser, calendar, &[]).await;
    let xml = raw(
        &idp,
        "/cas/serviceValidate",
        &[
            ("service", calendar),
            ("ticket", &st),
            ("pgtUrl", "https://lich.binhphuoc.gov.vn/pgt"),
        ],
    )
    .await;
    assert_eq!(failure_code(&xml), "UNAUTHORIZED_SERVICE_PROXY");
    // Nor by naming the callback of the service that may: the permission is
    // the ticket's own service's, and no PGT is sent.
    let pgts = app.pgts.lock().unwrap().len();
    let st = ticket_for(&idp, &browser, calendar, &[]).await;
    let xml = raw(
        &idp,
        "/cas/serviceValidate",
        &[("service", calendar), ("ticket", &st), ("pgtUrl", &pgt_url)],
    )
    .await;
    assert_eq!(failure_code(&xml), "UNAUTHORIZED_SERVICE_PROXY");
    assert_eq!(app.pgts.lock().unwrap().len(), pgts, "no PGT delivered");

    // CAS 2.0 (single sign-on: no form this time), no attributes.
    let st = ticket_for(&idp, &browser, &service, &[]).await;
    let v = client(&["validate", &server, &service, &st, "2"]).await;
    assert_eq!(v["user"], "tamtt@binhphuoc.gov.vn");
    assert!(v["attributes"].is_null(), "{v}");
    // CAS 1.0 (python-cas's 1.0 client compares bytes with text on
    // Python 3 and never succeeds: asked directly).
    let st = ticket_for(&idp, &browser, &service, &[]).await;
    let q = [("service", service.as_str()), ("ticket", st.as_str())];
    assert_eq!(
        raw(&idp, "/cas/validate", &q).await,
        "yes\ntamtt@binhphuoc.gov.vn\n"
    );
    assert_eq!(raw(&idp, "/cas/validate", &q).await, "no\n\n");
    // JSON.
    let st = ticket_for(&idp, &browser, &service, &[]).await;
    let j: Value = serde_json::from_str(
        &raw(
            &idp,
            "/cas/p3/serviceValidate",
            &[("service", &service), ("ticket", &st), ("format", "JSON")],
        )
        .await,
    )
    .unwrap();
    let ok = &j["serviceResponse"]["authenticationSuccess"];
    assert_eq!(ok["user"], "tamtt@binhphuoc.gov.vn");
    assert_eq!(ok["attributes"]["name"][0], "Trương Thanh Tâm");
    assert_eq!(ok["attributes"]["isFromNewLogin"][0], "false");

    // A ticket named with another service: refused and spent.
    let st = ticket_for(&idp, &browser, &service, &[]).await;
    let xml = raw(
        &idp,
        "/cas/serviceValidate",
        &[("service", calendar), ("ticket", &st)],
    )
    .await;
    assert_eq!(failure_code(&xml), "INVALID_SERVICE");
    let xml = raw(
        &idp,
        "/cas/serviceValidate",
        &[("service", &service), ("ticket", &st)],
    )
    .await;
    assert_eq!(failure_code(&xml), "INVALID_TICKET");
    // Missing parameters, and a ticket of no kind.
    let xml = raw(&idp, "/cas/serviceValidate", &[("service", &service)]).await;
    assert_eq!(failure_code(&xml), "INVALID_REQUEST");
    let xml = raw(
        &idp,
        "/cas/serviceValidate",
        &[("service", &service), ("ticket", "TGT-1")],
    )
    .await;
    assert_eq!(failure_code(&xml), "INVALID_TICKET_SPEC");

    // Two validations of one ticket at once: one wins.
    let st = ticket_for(&idp, &browser, &service, &[]).await;
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let (url, service, st) = (idp.url("/cas/serviceValidate"), service.clone(), st.clone());
            tokio::spawn(async move {
                rp_http()
                    .get(url)
                    .query(&[("service", &service), ("ticket", &st)])
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut won = 0;
    for c in calls {
        won += usize::from(c.await.unwrap().contains("authenticationSuccess"));
    }
    assert_eq!(won, 1);

    let kinds: Vec<String> = crate::harness::audit_events(&idp)
        .await
        .into_iter()
        .map(|e| e.kind)
        .collect();
    for k in [
        "cas.ticket_issued",
        "cas.ticket_validated",
        "cas.validation_failed",
        "cas.proxy_granted",
        "cas.proxy_ticket_issued",
    ] {
        assert!(kinds.iter().any(|x| x == k), "{k} in {kinds:?}");
    }
}

#[tokio::test]
async fn renew_gateway_and_an_unknown_service() {
    let idp = spawn_idp();
    let service = "https://vanban.binhphuoc.gov.vn/cas/app";
    idp.cli_ok(
        &[
            "cas",
            "service",
            "add",
            "vanban",
            "--pattern",
            "https://vanban.binhphuoc.gov.vn/cas",
        ],
        None,
    );
    let browser = Browser::new();

    // Gateway without a session: back to the app, no ticket, no form.
    let r = browser
        .get(&login_url(&idp, service, &[("gateway", "true")]))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), service);

    // An unregistered service: a page in Vietnamese, never a redirect.
    for s in [
        "https://evil.example/cas",
        "https://vanban.binhphuoc.gov.vn.evil.example/cas/app",
        "javascript:alert(1)",
    ] {
        let r = browser.get(&login_url(&idp, s, &[])).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{s}");
        assert!(r.headers().get("location").is_none());
        let page = r.text().await.unwrap();
        assert!(
            page.contains("chưa được đăng ký với hệ thống đăng nhập"),
            "{page}"
        );
    }

    // Signed in once: a second login is single sign-on, and its ticket is
    // refused where the app asks for renew.
    let first = ticket_for(&idp, &browser, service, &[]).await;
    let sso = ticket_for(&idp, &browser, service, &[]).await;
    let xml = raw(
        &idp,
        "/cas/serviceValidate",
        &[("service", service), ("ticket", &sso), ("renew", "true")],
    )
    .await;
    assert_eq!(failure_code(&xml), "INVALID_TICKET");
    let xml = raw(
        &idp,
        "/cas/serviceValidate",
        &[("service", service), ("ticket", &first), ("renew", "true")],
    )
    .await;
    assert!(
        xml.contains("<cas:user>tamtt@binhphuoc.gov.vn</cas:user>"),
        "a fresh sign-in: {xml}"
    );

    // renew: the password again, even with a session.
    let r = browser
        .get(&login_url(&idp, service, &[("renew", "true")]))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    assert!(to.starts_with("/login?req="), "{to}");
    let r = browser
        .submit_login(&idp.base, &idp.url(&to), "tamtt", PASSWORD)
        .await;
    let back = location(&r);
    let renewed = param(&back, "ticket").unwrap();
    let xml = raw(
        &idp,
        "/cas/p3/serviceValidate",
        &[
            ("service", service),
            ("ticket", &renewed),
            ("renew", "true"),
        ],
    )
    .await;
    assert!(
        xml.contains("<cas:isFromNewLogin>true</cas:isFromNewLogin>"),
        "{xml}"
    );

    // Gateway with a session: a ticket.
    let r = browser
        .get(&login_url(&idp, service, &[("gateway", "true")]))
        .await;
    assert!(param(&location(&r), "ticket").is_some());
}

/// Opens the portal's sign-out and confirms it; returns the progress page's URL.
async fn portal_sign_out(idp: &Idp, browser: &Browser) -> String {
    let page = browser.get(&idp.url("/logout")).await.text().await.unwrap();
    let csrf = hidden(&page, "csrf").expect("the sign-out form");
    let r = browser.post(&idp.url("/logout"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    assert!(to.starts_with("/logout/done/"), "{to}");
    idp.url(&to)
}

#[tokio::test]
async fn one_sign_in_opens_an_oidc_app_and_a_cas_app_and_one_sign_out_ends_both() {
    let idp = spawn_idp();
    let (base, app) = start_app().await;
    let oidc_secret = idp.add_client(
        "phonghop",
        "http://127.0.0.1:9/phonghop",
        &["--backchannel-logout-uri", &format!("{base}/bcl")],
    );
    let docs = format!("{base}/docs/");
    idp.cli_ok(
        &[
            "cas",
            "service",
            "add",
            "docs",
            "--pattern",
            &docs,
            "--name",
            "Văn bản (CAS)",
            "--logout-url",
            &format!("{base}/docs/slo"),
        ],
        None,
    );
    let browser = Browser::new();

    // The OIDC app first: the sign-in form.
    let (verifier, challenge) = crate::browser::pkce();
    let auth = crate::browser::authorize_url(
        &idp.base,
        "phonghop",
        "http://127.0.0.1:9/phonghop",
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let back = browser
        .sign_in_via(&idp.base, &auth, "tamtt", PASSWORD)
        .await;
    let code = param(&back, "code").unwrap();
    let t: Value = rp_http()
        .post(idp.url("/token"))
        .basic_auth("phonghop", Some(&oidc_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "http://127.0.0.1:9/phonghop"),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(t["id_token"].is_string(), "{t}");

    // Then the CAS app: no form, a ticket at once.
    let service = format!("{docs}home");
    let r = browser.get(&login_url(&idp, &service, &[])).await;
    let back = location(&r);
    assert!(back.starts_with(&service), "single sign-on: {back}");
    let st = param(&back, "ticket").unwrap();
    let v = client(&["validate", &idp.url("/cas/"), &service, &st, "3"]).await;
    assert_eq!(v["user"], "tamtt@binhphuoc.gov.vn");

    // One sign-out at the portal: the page lists both apps.
    let progress = portal_sign_out(&idp, &browser).await;
    let start = Instant::now();
    let logout_request = loop {
        if let Some(x) = app.slo.lock().unwrap().first().cloned() {
            break x;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no CAS logout request"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let v = client(&["slo", &logout_request, &st]).await;
    assert_eq!(v["valid"], true, "{logout_request}");
    assert!(logout_request.contains("<saml:NameID>@NOT_USED@</saml:NameID>"));
    let start = Instant::now();
    while app.bcl.lock().unwrap().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no OIDC logout token"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let page = browser.get(&progress).await.text().await.unwrap();
    assert!(page.contains("Văn bản (CAS)"), "{page}");
    assert!(page.contains(r#"data-app="phonghop""#), "{page}");
    assert!(page.contains(r#"data-app="cas:docs""#), "{page}");

    // Signed out everywhere: the CAS app gets the form again, and a PGT or
    // ticket of the old session is worthless.
    let r = browser.get(&login_url(&idp, &service, &[])).await;
    assert!(location(&r).starts_with("/login?req="));
}

#[tokio::test]
async fn wso2_paths_are_served_only_when_switched_on() {
    let off = Idp::spawn(&Backends::default());
    for path in [
        "/oauth2/jwks",
        "/oauth2/authorize",
        "/oauth2/userinfo",
        "/oidc/logout",
    ] {
        let r = rp_http().get(off.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    drop(off);

    let idp = Idp::spawn(&Backends {
        env: vec![("IDP_COMPAT__WSO2_PATHS".into(), "true".into())],
        ..Backends::default()
    });
    idp.add_person();
    let redirect = "http://127.0.0.1:9/wso2app";
    let secret = idp.add_client("wso2app", redirect, &[]);
    let jwks = rp_http().get(idp.url("/oauth2/jwks")).send().await.unwrap();
    assert_eq!(jwks.status(), StatusCode::OK);
    assert_eq!(
        jwks.json::<Value>().await.unwrap(),
        idp.get_json("/jwks").await
    );
    let discovery = idp.get_json("/.well-known/openid-configuration").await;
    assert_eq!(
        discovery["token_endpoint"],
        idp.url("/token"),
        "discovery stays canonical"
    );

    // An app built for WSO2: the same flow on its paths.
    let browser = Browser::new();
    let (verifier, challenge) = crate::browser::pkce();
    let auth = crate::browser::authorize_url(
        &idp.base,
        "wso2app",
        redirect,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .replace("/authorize?", "/oauth2/authorize?");
    let back = browser
        .sign_in_via(&idp.base, &auth, "tamtt", PASSWORD)
        .await;
    let code = param(&back, "code").unwrap();
    let t: Value = rp_http()
        .post(idp.url("/oauth2/token"))
        .basic_auth("wso2app", Some(&secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = t["access_token"].as_str().unwrap_or_else(|| panic!("{t}"));
    let me: Value = rp_http()
        .get(idp.url("/oauth2/userinfo?schema=openid"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "tamtt@binhphuoc.gov.vn");
    let r = browser.get(&idp.url("/oidc/logout")).await;
    assert_eq!(r.status(), StatusCode::OK, "the sign-out question");
}
