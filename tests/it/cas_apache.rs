//! An older app behind Apache's `mod_auth_cas` (Debian's
//! libapache2-mod-auth-cas), unchanged, signing in through the IdP: it
//! sends the browser to `/cas/login`, validates the ticket at
//! `/cas/serviceValidate` over HTTPS (the harness's TLS front with a
//! loopback CA), and shows the page to the person the IdP names. A ticket
//! used twice or made up opens nothing.

use reqwest::StatusCode;

use crate::browser::{Browser, location};
use crate::harness::apache::Apache;
use crate::harness::{Backends, Idp, PASSWORD, audit_events};

#[tokio::test]
async fn apache_mod_auth_cas_shows_its_page_to_the_person_signed_in_and_to_no_one_else() {
    let idp = Idp::spawn(&Backends::default());
    idp.add_person();
    let base = idp.base.clone();
    let apache = tokio::task::spawn_blocking(move || Apache::with_cas(&base))
        .await
        .unwrap();
    idp.cli_ok(
        &[
            "cas",
            "service",
            "add",
            "onewin",
            "--pattern",
            &apache.service_prefix,
            "--name",
            "Một cửa (Apache)",
        ],
        None,
    );

    // Not signed in at the app: Apache sends the browser to the IdP.
    let browser = Browser::new();
    let r = browser.get(&apache.page_url).await;
    assert_eq!(r.status(), StatusCode::FOUND, "{}", apache.log());
    let login = location(&r);
    assert!(
        login.starts_with(&idp.url("/cas/login?service=")),
        "{login}"
    );
    let back = browser
        .sign_in_via(&idp.base, &login, "tamtt", PASSWORD)
        .await;
    assert!(
        back.starts_with(&apache.page_url) && back.contains("ticket=ST-"),
        "{back}"
    );

    // Apache validates the ticket at the IdP over TLS, keeps its own
    // session and sends the browser back without the ticket.
    let r = browser.get(&back).await;
    assert_eq!(r.status(), StatusCode::FOUND, "{}", apache.log());
    let clean = location(&r);
    assert!(!clean.contains("ticket="), "{clean}");
    let r = browser.get(&apache.page_url).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", apache.log());
    let page = r.text().await.unwrap();
    assert!(page.contains("Onewin: tamtt@binhphuoc.gov.vn"), "{page}");

    // The same ticket in another browser, and a made-up one: Apache gets a
    // refusal from the IdP and shows nothing.
    for ticket_url in [
        back.clone(),
        format!("{}?ticket=ST-{}", apache.page_url, "A".repeat(43)),
    ] {
        let stranger = Browser::new();
        let r = stranger.get(&ticket_url).await;
        let status = r.status();
        let body = r.text().await.unwrap();
        assert!(
            !body.contains("Onewin:"),
            "{ticket_url}: {status} {body}\n{}",
            apache.log()
        );
        let r = stranger.get(&apache.page_url).await;
        assert_eq!(r.status(), StatusCode::FOUND, "still not signed in");
    }
    let kinds: Vec<String> = audit_events(&idp)
        .await
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(
        kinds.iter().any(|k| k == "cas.ticket_validated"),
        "{kinds:?}"
    );
    assert!(
        kinds
            .iter()
            .filter(|k| *k == "cas.validation_failed")
            .count()
            >= 2,
        "{kinds:?}"
    );
}
