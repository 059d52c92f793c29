//! CAS policy end to end on the real binary: `/cas/logout` signs out at once
//! only from the IdP's own origin and otherwise asks (one click for an app's
//! link); tickets from browsers never block an app server, while the app's
//! own malformed calls are limited with a CAS answer; service URLs that
//! could climb out of a prefix get no ticket, and a pattern registered twice
//! is refused; a service registered `--require-mfa` steps a password-only
//! session up to a second factor.

use reqwest::StatusCode;
use serde_json::Value;

use crate::browser::{Browser, hidden, location};
use crate::cas::{failure_code, login_url, raw, spawn_idp, ticket_for};
use crate::harness::{Backends, Idp};
use crate::oidc_flow::rp_http;

const SERVICE: &str = "https://vanban.binhphuoc.gov.vn/cas/app";

fn add_vanban(idp: &Idp, extra: &[&str]) {
    let mut args = vec![
        "cas",
        "service",
        "add",
        "vanban",
        "--pattern",
        "https://vanban.binhphuoc.gov.vn/cas",
    ];
    args.extend_from_slice(extra);
    idp.cli_ok(&args, None);
}

/// `true` when `/cas/login` gives the browser a ticket without a form.
async fn signed_in(idp: &Idp, browser: &Browser) -> bool {
    let r = browser.get(&login_url(idp, SERVICE, &[])).await;
    location(&r).starts_with(SERVICE)
}

fn logout_url(idp: &Idp, service: &str) -> String {
    let mut u = url::Url::parse(&idp.url("/cas/logout")).unwrap();
    u.query_pairs_mut().append_pair("service", service);
    u.to_string()
}

async fn logout_with(
    idp: &Idp,
    browser: &Browser,
    service: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut r = browser.http.get(logout_url(idp, service));
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.send().await.unwrap()
}

#[tokio::test]
async fn cas_logout_signs_out_at_once_only_from_the_idps_own_origin() {
    let idp = spawn_idp();
    add_vanban(&idp, &[]);
    let browser = Browser::new();
    ticket_for(&idp, &browser, SERVICE, &[]).await;
    let app_page = "https://vanban.binhphuoc.gov.vn/cas/app/home";

    // A link, an image or a form on another site, or no sign at all: asked.
    for headers in [
        &[("sec-fetch-site", "cross-site"), ("referer", app_page)][..],
        &[("sec-fetch-site", "same-site")][..],
        &[("origin", "https://evil.example")][..],
        &[("referer", "https://evil.example/")][..],
        &[][..],
    ] {
        let r = logout_with(&idp, &browser, SERVICE, headers).await;
        assert_eq!(r.status(), StatusCode::OK, "{headers:?}");
        let page = r.text().await.unwrap();
        assert!(page.contains(r#"action="/cas/logout""#), "{page}");
        assert_eq!(hidden(&page, "service").as_deref(), Some(SERVICE));
        assert!(
            signed_in(&idp, &browser).await,
            "{headers:?}: still signed in"
        );
    }
    // An unregistered service is not carried through the form.
    let r = logout_with(&idp, &browser, "https://evil.example/", &[]).await;
    let page = r.text().await.unwrap();
    assert!(hidden(&page, "service").is_none(), "{page}");
    // The form without its CSRF token: refused, still signed in.
    let r = browser
        .post(&idp.url("/cas/logout"), &[("service", SERVICE)])
        .await;
    assert_ne!(r.status(), StatusCode::SEE_OTHER);
    assert!(signed_in(&idp, &browser).await);

    // The app's own link (a top-level navigation from another site): one click.
    let r = logout_with(&idp, &browser, SERVICE, &[("sec-fetch-site", "cross-site")]).await;
    let page = r.text().await.unwrap();
    let csrf = hidden(&page, "csrf").unwrap();
    let r = browser
        .post(
            &idp.url("/cas/logout"),
            &[("csrf", csrf.as_str()), ("service", SERVICE)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), SERVICE);
    assert!(!signed_in(&idp, &browser).await, "signed out");

    // From the IdP's own pages, or typed: at once.
    for headers in [
        &[("sec-fetch-site", "same-origin")][..],
        &[("sec-fetch-site", "none")][..],
    ] {
        ticket_for(&idp, &browser, SERVICE, &[]).await;
        let r = logout_with(&idp, &browser, SERVICE, headers).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{headers:?}");
        assert_eq!(location(&r), SERVICE);
        assert!(!signed_in(&idp, &browser).await, "{headers:?}");
    }
    // An older browser: a Referer of the IdP's own origin.
    ticket_for(&idp, &browser, SERVICE, &[]).await;
    let r = logout_with(&idp, &browser, SERVICE, &[("referer", &idp.url("/"))]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(!signed_in(&idp, &browser).await);
}

/// Sends `q` to `path` until the answer is a 429 (at most twice the limit
/// and one: a fixed window may turn over once); returns it.
async fn until_429(idp: &Idp, path: &str, q: &[(&str, &str)], limit: usize) -> reqwest::Response {
    for _ in 0..=2 * limit {
        let r = rp_http().get(idp.url(path)).query(q).send().await.unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            return r;
        }
        assert_eq!(r.status(), StatusCode::OK);
    }
    panic!("{path}: never limited");
}

/// One person bringing bad tickets to an app cannot get the app's server
/// refused: only the app's own malformed calls count, and past the limit the
/// answer is CAS, in the caller's format.
#[tokio::test]
async fn bad_tickets_do_not_block_an_app_server() {
    const LIMIT: usize = 3;
    let idp = Idp::spawn(&Backends {
        env: vec![("IDP_HTTP__RATE_LIMIT_FAILURES".into(), LIMIT.to_string())],
        ..Backends::default()
    });
    idp.add_person();
    add_vanban(&idp, &[]);
    let made_up = format!("ST-{}", "A".repeat(43));
    let long = format!("ST-{}", "A".repeat(300));
    for _ in 0..4 {
        for (ticket, code) in [
            (made_up.as_str(), "INVALID_TICKET"),
            ("ST-1", "INVALID_TICKET"),
            ("TGT-1", "INVALID_TICKET_SPEC"),
            (long.as_str(), "INVALID_REQUEST"),
        ] {
            let xml = raw(
                &idp,
                "/cas/serviceValidate",
                &[("service", SERVICE), ("ticket", ticket)],
            )
            .await;
            assert_eq!(failure_code(&xml), code, "{ticket}");
        }
        // A ticket named with another service (the person changed the URL).
        let browser = Browser::new();
        let st = ticket_for(&idp, &browser, SERVICE, &[]).await;
        let xml = raw(
            &idp,
            "/cas/serviceValidate",
            &[
                ("service", "https://vanban.binhphuoc.gov.vn/cas/x"),
                ("ticket", &st),
            ],
        )
        .await;
        assert_eq!(failure_code(&xml), "INVALID_SERVICE");
    }
    let browser = Browser::new();
    let st = ticket_for(&idp, &browser, SERVICE, &[]).await;
    let xml = raw(
        &idp,
        "/cas/serviceValidate",
        &[("service", SERVICE), ("ticket", &st)],
    )
    .await;
    assert!(xml.contains("authenticationSuccess"), "still served: {xml}");

    // The app's own malformed calls (no service) are limited, in CAS XML.
    let r = until_429(&idp, "/cas/serviceValidate", &[("ticket", "ST-1")], LIMIT).await;
    assert!(r.headers().get("retry-after").is_some());
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/xml")
    );
    let xml = r.text().await.unwrap();
    assert!(xml.contains("<cas:authenticationFailure"), "{xml}");
    assert_eq!(failure_code(&xml), "INVALID_REQUEST");
    // JSON when asked.
    let r = until_429(
        &idp,
        "/cas/p3/serviceValidate",
        &[("ticket", "ST-1"), ("format", "JSON")],
        LIMIT,
    )
    .await;
    let j: Value = r.json().await.unwrap();
    assert_eq!(
        j["serviceResponse"]["authenticationFailure"]["code"], "INVALID_REQUEST",
        "{j}"
    );
    // CAS 1.0 text, and the proxy endpoint's own failure.
    let r = until_429(&idp, "/cas/validate", &[("ticket", "ST-1")], LIMIT).await;
    assert_eq!(r.text().await.unwrap(), "no\n\n");
    let r = until_429(&idp, "/cas/proxy", &[("format", "yaml")], LIMIT).await;
    assert!(r.text().await.unwrap().contains("<cas:proxyFailure"));
}

#[tokio::test]
async fn service_urls_that_climb_out_of_a_prefix_get_no_ticket() {
    let idp = spawn_idp();
    idp.cli_ok(
        &[
            "cas",
            "service",
            "add",
            "app",
            "--pattern",
            "HTTPS://A.binhphuoc.gov.vn:443/%61pp",
        ],
        None,
    );
    let listed = idp.cli_ok(&["cas", "service", "list"], None);
    assert!(
        listed.contains("https://a.binhphuoc.gov.vn/app\t"),
        "{listed}"
    );
    // The same pattern, however spelt: refused.
    let out = idp.cli(
        &[
            "cas",
            "service",
            "add",
            "app2",
            "--pattern",
            "https://a.binhphuoc.gov.vn/app",
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already has this pattern"),
        "{out:?}"
    );
    let browser = Browser::new();
    for bad in [
        "https://a.binhphuoc.gov.vn/app/..;/admin",
        "https://a.binhphuoc.gov.vn/app%2F..%2Fadmin",
        "https://a.binhphuoc.gov.vn/app/%2e%2e/admin",
        "https://a.binhphuoc.gov.vn/app/../admin",
        "https://a.binhphuoc.gov.vn/app/;jsessionid=x",
        "https://a.binhphuoc.gov.vn/app\\..\\admin",
    ] {
        let r = browser.get(&login_url(&idp, bad, &[])).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert!(r.headers().get("location").is_none(), "{bad}");
    }
    // The same URL in another spelling is the service's, bound in normal form.
    let st = ticket_for(&idp, &browser, "https://a.binhphuoc.gov.vn/app/x", &[]).await;
    let xml = raw(
        &idp,
        "/cas/serviceValidate",
        &[
            ("service", "https://A.binhphuoc.gov.vn:443/%61pp/x"),
            ("ticket", &st),
        ],
    )
    .await;
    assert!(xml.contains("authenticationSuccess"), "{xml}");
}

#[tokio::test]
async fn a_service_that_requires_a_second_factor_steps_a_session_up() {
    let idp = spawn_idp();
    add_vanban(&idp, &[]);
    idp.cli_ok(
        &[
            "cas",
            "service",
            "add",
            "hoso",
            "--pattern",
            "https://hoso.binhphuoc.gov.vn/",
            "--require-mfa",
        ],
        None,
    );
    let listed = idp.cli_ok(&["cas", "service", "list"], None);
    assert!(listed.contains("\tmfa\t"), "{listed}");
    let browser = Browser::new();
    // A password-only sign-in: acr 1 at p3.
    let st = ticket_for(&idp, &browser, SERVICE, &[]).await;
    let xml = raw(
        &idp,
        "/cas/p3/serviceValidate",
        &[("service", SERVICE), ("ticket", &st)],
    )
    .await;
    assert!(xml.contains("<cas:acr>1</cas:acr>"), "{xml}");
    assert!(xml.contains("<cas:amr>pwd</cas:amr>"), "{xml}");
    // The service that needs a second factor: the second step, not a ticket.
    let r = browser
        .get(&login_url(&idp, "https://hoso.binhphuoc.gov.vn/app", &[]))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/login/second-factor");
}
