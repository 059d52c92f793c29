//! Findings 20, 22, 23 and 24: retired keys stay published, PKCE optional
//! only for old confidential apps that send a nonce, the access token in a
//! userinfo POST body, and `acr_values` as preferences in order.

use reqwest::StatusCode;
use serde_json::Value;

use super::{auth, authorize, claims, redeem, tokens};
use crate::browser::{Browser, authorize_url, location, param, pkce};
use crate::harness::{Backends, Idp, PASSWORD};
use crate::oidc_flow::{REDIRECT, rp_http};

// --- Finding 20: retired keys stay published -------------------------------

#[tokio::test]
async fn two_rotations_leave_live_tokens_verifiable() {
    let idp = Idp::spawn(&Backends {
        env: vec![("IDP_TOKENS__KEY_RELOAD_SECS".into(), "1".into())],
        ..Backends::default()
    });
    idp.add_person();
    let secret = idp.add_client("vanban", REDIRECT, &[]);
    let t = tokens(&idp, ("vanban", &secret)).await;
    let access = t["access_token"].as_str().unwrap();
    let id_token = t["id_token"].as_str().unwrap();

    idp.cli_ok(&["keys", "rotate"], None);
    idp.cli_ok(&["keys", "rotate"], None);
    let listed = idp.cli_ok(&["keys", "list"], None);
    assert_eq!(listed.matches("\tprevious\t").count(), 4, "{listed}");
    // Every node reloads within a second here: wait until this one has.
    let start = std::time::Instant::now();
    let mut keys = idp.signing_keys().await;
    while keys.len() != 8 && start.elapsed() < std::time::Duration::from_secs(5) {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        keys = idp.signing_keys().await;
    }
    assert_eq!(keys.len(), 8, "per algorithm: next, current, two previous");
    assert!(idp::jose::verify(access, &keys).is_ok(), "access token");
    assert!(idp::jose::verify(id_token, &keys).is_ok(), "ID token");
    // The IdP itself still accepts the access token.
    let r = rp_http()
        .get(idp.url("/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // New tokens are signed with the new current key.
    let t2 = tokens(&idp, ("vanban", &secret)).await;
    assert!(idp::jose::verify(t2["id_token"].as_str().unwrap(), &keys).is_ok());
}

// --- Finding 22: PKCE optional for old confidential apps --------------------

#[tokio::test]
async fn pkce_is_optional_only_for_registered_confidential_clients_that_send_a_nonce() {
    let idp = Idp::spawn(&Backends::default());
    idp.add_person();
    let legacy = idp.add_client("hoso", REDIRECT, &["--pkce", "optional"]);
    idp.add_client("vanban", REDIRECT, &[]);
    let b = Browser::new();

    // Without PKCE, with a nonce: the code works without a verifier.
    let url = authorize_url(&idp.base, "hoso", REDIRECT, &[]);
    let back = b.sign_in_via(&idp.base, &url, "tamtt", PASSWORD).await;
    let (status, t) = redeem(&idp, ("hoso", &legacy), &back, None).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(claims(t["id_token"].as_str().unwrap())["nonce"], "n-1");

    // A verifier for a request that had no challenge: a downgrade, refused.
    let back = b.sign_in_via(&idp.base, &url, "tamtt", PASSWORD).await;
    let (verifier, _) = pkce();
    let (status, e) = redeem(&idp, ("hoso", &legacy), &back, Some(&verifier)).await;
    assert_eq!(
        (status, e["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "{e}"
    );
    // With PKCE it is checked as for everyone.
    let (v, url_pkce) = auth(&idp, "hoso", &[]);
    let back = b.sign_in_via(&idp.base, &url_pkce, "tamtt", PASSWORD).await;
    let (status, _) = redeem(&idp, ("hoso", &legacy), &back, None).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a challenge needs its verifier"
    );
    let back = b.sign_in_via(&idp.base, &url_pkce, "tamtt", PASSWORD).await;
    let (status, _) = redeem(&idp, ("hoso", &legacy), &back, Some(&v)).await;
    assert_eq!(status, StatusCode::OK);

    // Without PKCE and without a nonce: refused before any sign-in.
    let no_nonce = url.replace("&nonce=n-1", "");
    assert!(!no_nonce.contains("nonce"));
    let (status, to) = authorize(&no_nonce).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let to = to.unwrap();
    assert!(to.starts_with(REDIRECT), "{to}");
    assert_eq!(param(&to, "error").as_deref(), Some("invalid_request"));
    // A method without a challenge is no way around it.
    let (status, to) = authorize(&authorize_url(
        &idp.base,
        "hoso",
        REDIRECT,
        &[("code_challenge_method", "S256")],
    ))
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        param(&to.unwrap(), "error").as_deref(),
        Some("invalid_request")
    );

    // The default client still needs PKCE, nonce or not (signed in already: no form).
    let (status, to) = authorize(&authorize_url(&idp.base, "vanban", REDIRECT, &[])).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let to = to.unwrap();
    assert_eq!(
        param(&to, "error").as_deref(),
        Some("invalid_request"),
        "{to}"
    );
    let r = b
        .get(&authorize_url(&idp.base, "vanban", REDIRECT, &[]))
        .await;
    assert_eq!(
        param(&location(&r), "error").as_deref(),
        Some("invalid_request")
    );

    // A public client cannot be registered without PKCE; an unknown value is refused.
    for extra in [
        vec!["--public", "--pkce", "optional"],
        vec!["--pkce", "sometimes"],
    ] {
        let mut args = vec!["client", "add", "app", "--redirect-uri", REDIRECT];
        args.extend(extra.iter().copied());
        assert!(!idp.cli(&args, None).status.success(), "{extra:?}");
    }
}

// --- Finding 23: the access token in a userinfo POST body ------------------

#[tokio::test]
async fn userinfo_takes_the_token_in_a_form_body_but_never_in_the_query() {
    let idp = Idp::spawn(&Backends::default());
    idp.add_person();
    let secret = idp.add_client("vanban", REDIRECT, &[]);
    let t = tokens(&idp, ("vanban", &secret)).await;
    let access = t["access_token"].as_str().unwrap();
    let http = rp_http();
    let url = idp.url("/userinfo");

    // OIDC Core §5.3.1 / RFC 6750 §2.2: a form-encoded POST body.
    let r = http
        .post(&url)
        .form(&[("access_token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let info: Value = r.json().await.unwrap();
    assert_eq!(info["email"], "tamtt@binhphuoc.gov.vn");
    // The header still works, by GET and POST.
    for r in [
        http.get(&url).bearer_auth(access).send().await.unwrap(),
        http.post(&url).bearer_auth(access).send().await.unwrap(),
    ] {
        assert_eq!(r.status(), StatusCode::OK);
    }

    // Never in the query string, by GET or POST, alone or beside the header.
    let query = format!("{url}?access_token={access}");
    for r in [
        http.get(&query).send().await.unwrap(),
        http.get(&query).bearer_auth(access).send().await.unwrap(),
        http.post(&query).send().await.unwrap(),
    ] {
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"], "invalid_request");
    }
    // Two ways at once, or twice in the body: invalid_request.
    for r in [
        http.post(&url)
            .bearer_auth(access)
            .form(&[("access_token", access)])
            .send()
            .await
            .unwrap(),
        http.post(&url)
            .form(&[("access_token", access), ("access_token", access)])
            .send()
            .await
            .unwrap(),
    ] {
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
    // A body that is not form-encoded carries no token.
    let r = http
        .post(&url)
        .header("content-type", "text/plain")
        .body(format!("access_token={access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // A bad token in the body is an invalid token like in the header.
    let r = http
        .post(&url)
        .form(&[("access_token", "nonsense")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().get("www-authenticate").is_some());
}

// --- Finding 24: acr_values in order ----------------------------------------

#[tokio::test]
async fn acr_values_are_preferences_in_order() {
    let idp = Idp::spawn(&Backends::default());
    idp.add_person();
    let secret = idp.add_client("vanban", REDIRECT, &[]);
    let b = Browser::new();

    // A fresh sign-in that prefers a password: no second factor.
    let (v, url) = auth(&idp, "vanban", &[("acr_values", "1 2")]);
    let back = b.sign_in_via(&idp.base, &url, "tamtt", PASSWORD).await;
    let (_, t) = redeem(&idp, ("vanban", &secret), &back, Some(&v)).await;
    assert_eq!(claims(t["id_token"].as_str().unwrap())["acr"], "1");

    // The password session satisfies `1 2` and unknown values before them, at once.
    for acr in ["1 2", "1", "urn:khac 1 2", "urn:khac"] {
        let (v, url) = auth(&idp, "vanban", &[("acr_values", acr)]);
        let r = b.get(&url).await;
        let to = location(&r);
        assert!(to.starts_with(REDIRECT), "{acr}: {to}");
        let (status, t) = redeem(&idp, ("vanban", &secret), &to, Some(&v)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(claims(t["id_token"].as_str().unwrap())["acr"], "1", "{acr}");
    }
    // `2` first (or alone) asks for the second factor.
    for acr in ["2", "2 1", "urn:khac 2 1"] {
        let (_, url) = auth(&idp, "vanban", &[("acr_values", acr)]);
        let r = b.get(&url).await;
        assert_eq!(location(&r), "/login/second-factor", "{acr}");
    }
    // prompt=none that would need the second factor says so.
    let (_, url) = auth(&idp, "vanban", &[("acr_values", "2 1"), ("prompt", "none")]);
    let to = location(&b.get(&url).await);
    assert_eq!(param(&to, "error").as_deref(), Some("interaction_required"));
    let (_, url) = auth(&idp, "vanban", &[("acr_values", "1 2"), ("prompt", "none")]);
    let to = location(&b.get(&url).await);
    assert!(param(&to, "code").is_some(), "{to}");
}
