//! When a live session is not enough: `prompt=login` and `max_age` ask for
//! the password again (OIDC Core §3.1.2.1), `ui_locales` picks the page's
//! language, and a password hash made with old argon2 parameters is
//! upgraded at the next sign-in.

use idp::ids::Email;
use reqwest::StatusCode;

use crate::browser::{Browser, authorize_url, location, param, pkce};
use crate::harness::{Backends, Idp, PASSWORD};
use crate::oidc_flow::REDIRECT;

#[tokio::test]
async fn prompt_login_and_max_age_ask_for_the_password_again() {
    let idp = Idp::spawn(&Backends::default());
    idp.add_person();
    idp.add_client("vanban", REDIRECT, &[]);
    let browser = Browser::new();
    let (_, challenge) = pkce();
    let url = |extra: &[(&str, &str)]| {
        let mut all = vec![
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        all.extend_from_slice(extra);
        authorize_url(&idp.base, "vanban", REDIRECT, &all)
    };
    let back = browser
        .sign_in_via(&idp.base, &url(&[]), "tamtt", PASSWORD)
        .await;
    assert!(param(&back, "code").is_some());

    // A recent enough sign-in is reused; prompt=login is not.
    let r = browser.get(&url(&[("max_age", "3600")])).await;
    assert!(
        param(&location(&r), "code").is_some(),
        "signed in less than an hour ago"
    );
    let r = browser.get(&url(&[("prompt", "login")])).await;
    assert!(
        location(&r).starts_with("/login?req="),
        "prompt=login shows the form"
    );

    // Asked again, the form speaks the language the app asked for. (When
    // max_age runs out is a rule on the clock: `oidc::flow_tests::authorize`.)
    let r = browser
        .get(&url(&[("prompt", "login"), ("ui_locales", "en-US vi")]))
        .await;
    let to = location(&r);
    assert!(to.starts_with("/login?req="), "prompt=login: {to}");
    let page = browser.get(&idp.url(&to)).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(r#"<html lang="en">"#) && html.contains("Sign in to continue to"),
        "{html}"
    );
    // Signing in again completes that request.
    let r = browser
        .submit_login(&idp.base, &idp.url(&to), "tamtt", PASSWORD)
        .await;
    assert!(param(&location(&r), "code").is_some());
}

#[tokio::test]
async fn old_password_hashes_are_upgraded_at_sign_in() {
    let idp = Idp::spawn(&Backends::default());
    idp.add_person(); // hashed with the harness's t=1
    let stronger = idp.sibling(&Backends {
        env: vec![("IDP_PASSWORD__ITERATIONS".into(), "2".into())],
        ..Backends::default()
    });
    let store = idp::store::Store::connect(&idp.var("IDP_DATABASE_URL").unwrap())
        .await
        .unwrap();
    let hash = || async {
        store
            .user_by_email(&Email::parse("tamtt@binhphuoc.gov.vn").unwrap())
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .unwrap()
    };
    assert!(hash().await.contains("t=1"));
    let r = Browser::new()
        .submit_login(&stronger.base, &stronger.url("/login"), "tamtt", PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let upgraded = hash().await;
    assert!(
        upgraded.starts_with("$argon2id$v=19$") && upgraded.contains("t=2"),
        "{upgraded}"
    );
    // The upgraded hash still accepts the same password and nothing else.
    let r = Browser::new()
        .submit_login(&stronger.base, &stronger.url("/login"), "tamtt", "wrong")
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = Browser::new()
        .submit_login(&stronger.base, &stronger.url("/login"), "tamtt", PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}
