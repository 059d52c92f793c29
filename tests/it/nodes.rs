//! Scale-out: two `idp` processes on one PostgreSQL and one Redis serve the
//! same people. Signed in on one, recognised on the other; a code from one
//! is redeemed on the other; signing out on one signs out on both.

use reqwest::StatusCode;
use serde_json::Value;

use crate::browser::{Browser, authorize_url, location, param, pkce};
use crate::harness::{Backends, Idp, PASSWORD, Postgres, Redis};
use crate::oidc_flow::{REDIRECT, rp_http};

#[tokio::test]
async fn two_nodes_share_sessions_codes_and_logout() {
    let pg = Postgres::start();
    let redis = Redis::start();
    let b = Backends {
        database_url: Some(pg.url.clone()),
        redis_url: Some(redis.url.clone()),
        env: vec![("IDP_TOKENS__KEY_RELOAD_SECS".into(), "1".into())],
    };
    let a = Idp::spawn(&b);
    let n2 = a.sibling(&b);
    a.add_person();
    let secret = a.add_client("vanban", REDIRECT, &[]);

    // Sign in on node A (cookies are per host, so the browser sends them to B too).
    let browser = Browser::new();
    let (verifier, challenge) = pkce();
    let pk = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let back = browser
        .sign_in_via(
            &a.base,
            &authorize_url(&a.base, "vanban", REDIRECT, &pk),
            "tamtt",
            PASSWORD,
        )
        .await;
    let code = param(&back, "code").unwrap();

    // ...and redeem the code on node B.
    let r = rp_http()
        .post(n2.url("/token"))
        .basic_auth("vanban", Some(&secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let t: Value = r.json().await.unwrap();
    let access = t["access_token"].as_str().unwrap();
    let info = rp_http()
        .get(n2.url("/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(
        info.status(),
        StatusCode::OK,
        "B trusts A's tokens: one issuer, shared keys"
    );

    // B recognises the session made on A: a code without the form.
    let (_, challenge) = pkce();
    let pk = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let r = browser
        .get(&authorize_url(&n2.base, "vanban", REDIRECT, &pk))
        .await;
    assert!(
        param(&location(&r), "code").is_some(),
        "signed in on A, recognised on B"
    );

    // Sign out on B; A no longer knows the session and the tokens are revoked everywhere.
    let home = browser.get(&n2.url("/")).await.text().await.unwrap();
    let csrf = crate::browser::hidden(&home, "csrf").unwrap();
    let r = browser
        .http
        .post(n2.url("/logout"))
        .form(&[("csrf", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The sign-out page is in the shared cache: either node shows it.
    let progress = browser.get(&a.url(&location(&r))).await;
    assert_eq!(progress.status(), StatusCode::OK);
    assert!(
        progress
            .text()
            .await
            .unwrap()
            .contains("data-app=\"vanban\"")
    );
    let r = browser
        .get(&authorize_url(
            &a.base,
            "vanban",
            REDIRECT,
            &[
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("prompt", "none"),
            ],
        ))
        .await;
    assert_eq!(
        param(&location(&r), "error").as_deref(),
        Some("login_required")
    );
    let info = rp_http()
        .get(a.url("/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), StatusCode::UNAUTHORIZED);

    // A key rotation made through one node's CLI reaches the other's JWKS.
    let before: Value = n2.get_json("/jwks").await;
    a.cli_ok(&["keys", "rotate"], None);
    let out = n2.cli_ok(&["keys", "list"], None);
    assert_eq!(
        out.lines().filter(|l| l.contains("\tprevious\t")).count(),
        2,
        "{out}"
    );
    assert_eq!(
        before["keys"].as_array().unwrap().len(),
        4,
        "current and next of RS256 and ES256"
    );
    // The running node picks the rotation up by itself (within its reload interval).
    let start = std::time::Instant::now();
    let mut after: Value = n2.get_json("/jwks").await;
    while after == before && start.elapsed() < std::time::Duration::from_secs(5) {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        after = n2.get_json("/jwks").await;
    }
    let kids = |v: &Value| -> Vec<String> {
        v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        after["keys"].as_array().unwrap().len(),
        6,
        "previous, current and next of each algorithm"
    );
    assert!(
        kids(&before).iter().all(|k| kids(&after).contains(k)),
        "keys already published stay published"
    );
}
