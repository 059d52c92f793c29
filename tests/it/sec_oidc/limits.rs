//! Finding 5: every outside parameter has a length cap, and nothing is kept
//! of a refused request.

use reqwest::StatusCode;

use super::{auth, authorize, post, tokens};
use crate::browser::{authorize_url, location, param, pkce};
use crate::harness::{Backends, Idp};
use crate::oidc_flow::{BYE, REDIRECT, rp_http};

// --- Finding 5: parameter lengths ------------------------------------------

#[tokio::test]
async fn over_long_parameters_are_refused_everywhere_and_nothing_is_kept() {
    let idp = Idp::spawn(&Backends::default());
    idp.add_person();
    let secret = idp.add_client("vanban", REDIRECT, &["--post-logout-redirect-uri", BYE]);
    let (_, challenge) = pkce();

    // At the cap: a sign-in starts (the request is kept for the login form).
    let (_, url) = auth(&idp, "vanban", &[("login_hint", &"a".repeat(256))]);
    let url = url.replace("state=st-1", &format!("state={}", "s".repeat(512)));
    let (status, to) = authorize(&url).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(to.unwrap().starts_with("/login?req="));

    // One byte over any cap, after the redirect URI is checked: invalid_request back to the app.
    for (name, cap) in [
        ("state", 512),
        ("nonce", 512),
        ("login_hint", 256),
        ("ui_locales", 128),
        ("acr_values", 128),
        ("prompt", 128),
        ("max_age", 64),
        ("scope", 1024),
    ] {
        let long = "a".repeat(cap + 1);
        let mut u = url::Url::parse(&idp.url("/authorize")).unwrap();
        {
            let mut q = u.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", "vanban")
                .append_pair("redirect_uri", REDIRECT)
                .append_pair("code_challenge", &challenge)
                .append_pair("code_challenge_method", "S256");
            for (k, v) in [("scope", "openid"), ("state", "st-1"), ("nonce", "n-1")] {
                if k != name {
                    q.append_pair(k, v);
                }
            }
            q.append_pair(name, &long);
        }
        let (status, to) = authorize(u.as_str()).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{name}");
        let to = to.unwrap();
        assert!(to.starts_with(REDIRECT), "{name}: {to}");
        assert_eq!(
            param(&to, "error").as_deref(),
            Some("invalid_request"),
            "{name}"
        );
        assert!(
            param(&to, "error_description").unwrap().contains(name),
            "{name}"
        );
        if name == "state" {
            assert_eq!(
                param(&to, "state"),
                None,
                "an over-long state is not echoed"
            );
        } else {
            assert_eq!(param(&to, "state").as_deref(), Some("st-1"));
        }
    }
    // A code_challenge over 128 characters.
    let long_challenge = "a".repeat(129);
    let url = authorize_url(
        &idp.base,
        "vanban",
        REDIRECT,
        &[
            ("code_challenge", &long_challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let (_, to) = authorize(&url).await;
    assert_eq!(
        param(&to.unwrap(), "error").as_deref(),
        Some("invalid_request")
    );

    // Over-long client_id or redirect_uri: a page, no redirect.
    let long_redirect = format!("{REDIRECT}?{}", "x".repeat(2048));
    for url in [
        authorize_url(&idp.base, &"v".repeat(129), REDIRECT, &[]),
        authorize_url(&idp.base, "vanban", &long_redirect, &[]),
    ] {
        let (status, to) = authorize(&url).await;
        assert_eq!((status, to), (StatusCode::BAD_REQUEST, None));
    }

    // The same by POST, and many at once (the reported attack): none is kept.
    let long_state = "s".repeat(60_000);
    let mut posts = tokio::task::JoinSet::new();
    for i in 0..40 {
        let (to, challenge, state) = (
            idp.url("/authorize"),
            challenge.clone(),
            format!("{i}{long_state}"),
        );
        posts.spawn(async move {
            let r = rp_http()
                .post(to)
                .form(&[
                    ("response_type", "code"),
                    ("client_id", "vanban"),
                    ("redirect_uri", REDIRECT),
                    ("scope", "openid"),
                    ("code_challenge", challenge.as_str()),
                    ("code_challenge_method", "S256"),
                    ("state", state.as_str()),
                ])
                .send()
                .await
                .unwrap();
            (r.status(), location(&r))
        });
    }
    for (status, to) in posts.join_all().await {
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(
            to.starts_with(REDIRECT) && to.contains("error=invalid_request"),
            "{to}"
        );
        assert!(param(&to, "state").is_none());
    }

    // Token, introspection, revocation: invalid_request before anything else.
    let long = "a".repeat(4097);
    for (path, form) in [
        (
            "/token",
            vec![
                ("grant_type", "authorization_code"),
                ("code", &long[..257]),
                ("redirect_uri", REDIRECT),
            ],
        ),
        (
            "/token",
            vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", &long[..257]),
            ],
        ),
        (
            "/token",
            vec![
                ("grant_type", "authorization_code"),
                ("code", "c"),
                ("redirect_uri", &long[..2049]),
            ],
        ),
        ("/introspect", vec![("token", long.as_str())]),
        ("/revoke", vec![("token", long.as_str())]),
    ] {
        let (status, e) = post(&idp, path, Some(("vanban", &secret)), &form).await;
        assert_eq!(
            (status, e["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_request")),
            "{path} {e}"
        );
    }
    // A client secret over its cap, in the header or the body.
    let (status, e) = post(
        &idp,
        "/token",
        Some(("vanban", &long[..513])),
        &[("grant_type", "refresh_token"), ("refresh_token", "r")],
    )
    .await;
    assert_eq!(
        (status, e["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );

    // Userinfo: an over-long bearer token.
    let r = rp_http()
        .get(idp.url("/userinfo"))
        .bearer_auth(&long)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Logout: an over-long state or hint is a page, nothing is looked up.
    for (k, v) in [("state", &long[..513]), ("id_token_hint", long.as_str())] {
        let mut u = url::Url::parse(&idp.url("/logout")).unwrap();
        u.query_pairs_mut()
            .append_pair("client_id", "vanban")
            .append_pair("post_logout_redirect_uri", BYE)
            .append_pair(k, v);
        let (status, to) = authorize(u.as_str()).await;
        assert_eq!((status, to), (StatusCode::BAD_REQUEST, None), "{k}");
    }

    // Still working for normal requests.
    let t = tokens(&idp, ("vanban", &secret)).await;
    assert!(t["access_token"].is_string());
}
