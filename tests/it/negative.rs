//! What must be refused, and how: no redirect to an unchecked address, PKCE
//! S256 or nothing, single-use codes, refresh reuse, wrong secrets, forged
//! and tampered tokens, unregistered logout addresses, no user enumeration.

use reqwest::StatusCode;
use serde_json::Value;

use crate::browser::{Browser, authorize_url, location, param, pkce};
use crate::harness::{Backends, Idp, PASSWORD, Postgres, Redis};
use crate::oidc_flow::{BYE, REDIRECT, rp_http};

struct Setup {
    idp: Idp,
    secret: String,
}

fn setup(b: &Backends) -> Setup {
    let idp = Idp::spawn(b);
    idp.add_person();
    let secret = idp.add_client("vanban", REDIRECT, &["--post-logout-redirect-uri", BYE]);
    Setup { idp, secret }
}

/// Signs in and returns (code, verifier).
async fn code(s: &Setup, browser: &Browser) -> (String, String) {
    let (verifier, challenge) = pkce();
    let url = authorize_url(
        &s.idp.base,
        "vanban",
        REDIRECT,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let back = browser
        .sign_in_via(&s.idp.base, &url, "tamtt", PASSWORD)
        .await;
    (param(&back, "code").unwrap(), verifier)
}

async fn exchange(s: &Setup, code: &str, verifier: &str) -> (StatusCode, Value) {
    let r = rp_http()
        .post(s.idp.url("/token"))
        .basic_auth("vanban", Some(&s.secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

async fn refresh(s: &Setup, token: &str) -> (StatusCode, Value) {
    let r = rp_http()
        .post(s.idp.url("/token"))
        .basic_auth("vanban", Some(&s.secret))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", token)])
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

async fn userinfo_status(s: &Setup, access: &str) -> StatusCode {
    rp_http()
        .get(s.idp.url("/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .status()
}

async fn refused_without_redirect(b: &Backends) {
    let s = setup(b);
    let browser = Browser::new();
    let (_, challenge) = pkce();
    let pk = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    for url in [
        authorize_url(&s.idp.base, "vanban", "http://127.0.0.1:9/evil", &pk),
        authorize_url(&s.idp.base, "vanban", "http://127.0.0.1:9/cb/", &pk),
        authorize_url(&s.idp.base, "nobody", REDIRECT, &pk),
    ] {
        let r = browser.get(&url).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{url}");
        assert!(
            r.headers().get("location").is_none(),
            "never redirect to an unchecked address"
        );
        let html = r.text().await.unwrap();
        assert!(html.contains("Mã yêu cầu"), "the page shows a request id");
    }
    // Missing and plain PKCE go back to the (registered) app as errors.
    for extra in [
        vec![],
        vec![
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "plain"),
        ],
        vec![("code_challenge", challenge.as_str())],
    ] {
        let r = browser
            .get(&authorize_url(&s.idp.base, "vanban", REDIRECT, &extra))
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let to = location(&r);
        assert!(to.starts_with(REDIRECT));
        assert_eq!(
            param(&to, "error").as_deref(),
            Some("invalid_request"),
            "{to}"
        );
        assert_eq!(param(&to, "state").as_deref(), Some("st-1"));
    }
    // A repeated parameter makes the whole request untrustworthy: a page, no redirect.
    let r = browser
        .get(&format!(
            "{}&response_type=token",
            authorize_url(
                &s.idp.base,
                "vanban",
                REDIRECT,
                &[
                    ("code_challenge", &challenge),
                    ("code_challenge_method", "S256"),
                ],
            )
        ))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.headers().get("location").is_none());
}

async fn codes_and_refresh_tokens_are_single_use(b: &Backends) {
    let s = setup(b);
    let browser = Browser::new();
    let (c, v) = code(&s, &browser).await;
    let (status, first) = exchange(&s, &c, &v).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(userinfo_status(&s, access).await, StatusCode::OK);

    // Replayed code: refused, and what the first exchange issued is revoked.
    let (status, err) = exchange(&s, &c, &v).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"], "invalid_grant");
    assert_eq!(userinfo_status(&s, access).await, StatusCode::UNAUTHORIZED);
    let (status, _) = refresh(&s, first["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the replayed code's refresh token is revoked"
    );

    // Wrong verifier and wrong redirect_uri are refused.
    let (c, _) = code(&s, &browser).await;
    let (other_verifier, _) = pkce();
    let (status, err) = exchange(&s, &c, &other_verifier).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );

    // Refresh-token reuse revokes the whole family, including the newest token.
    let (c, v) = code(&s, &browser).await;
    let (_, t1) = exchange(&s, &c, &v).await;
    let r1 = t1["refresh_token"].as_str().unwrap();
    let (status, t2) = refresh(&s, r1).await;
    assert_eq!(status, StatusCode::OK, "{t2}");
    let r2 = t2["refresh_token"].as_str().unwrap();
    let (status, err) = refresh(&s, r1).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let (status, _) = refresh(&s, r2).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "reuse revokes the family");
    assert_eq!(
        userinfo_status(&s, t2["access_token"].as_str().unwrap()).await,
        StatusCode::UNAUTHORIZED
    );
    let log = s.idp.cli_ok(&["user", "list"], None);
    assert!(log.contains("tamtt@binhphuoc.gov.vn"));
}

#[tokio::test]
async fn unchecked_redirects_and_bad_pkce_are_refused_on_sqlite() {
    refused_without_redirect(&Backends::default()).await;
}

#[tokio::test]
async fn single_use_codes_and_refresh_reuse_on_sqlite() {
    codes_and_refresh_tokens_are_single_use(&Backends::default()).await;
}

#[tokio::test]
async fn single_use_codes_and_refresh_reuse_on_postgres_with_redis() {
    let pg = Postgres::start();
    let redis = Redis::start();
    let b = Backends {
        database_url: Some(pg.url.clone()),
        redis_url: Some(redis.url.clone()),
        ..Backends::default()
    };
    codes_and_refresh_tokens_are_single_use(&b).await;
    let b = Backends {
        database_url: Some(pg.database("second")),
        ..b
    };
    refused_without_redirect(&b).await;
}

#[tokio::test]
async fn wrong_client_secret_is_401_with_basic_challenge() {
    let s = setup(&Backends::default());
    let browser = Browser::new();
    let (c, v) = code(&s, &browser).await;
    let r = rp_http()
        .post(s.idp.url("/token"))
        .basic_auth("vanban", Some("not-the-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &c),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &v),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    // The code was not spent by the failed attempt's client... but it is single-use all the same:
    // a correct exchange now still works because authentication happens before redemption.
    let (status, _) = exchange(&s, &c, &v).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn forged_and_tampered_tokens_are_refused() {
    let s = setup(&Backends::default());
    let browser = Browser::new();
    let (c, v) = code(&s, &browser).await;
    let (_, t) = exchange(&s, &c, &v).await;
    let access = t["access_token"].as_str().unwrap();
    let id_token = t["id_token"].as_str().unwrap();

    // Tampered access token: a changed payload breaks the signature.
    let parts: Vec<&str> = access.split('.').collect();
    let mut claims: Value =
        serde_json::from_slice(&idp::crypto::b64_decode(parts[1]).unwrap()).unwrap();
    claims["sub"] = "someone-else".into();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        idp::crypto::b64(claims.to_string().as_bytes()),
        parts[2]
    );
    assert_eq!(userinfo_status(&s, &forged).await, StatusCode::UNAUTHORIZED);
    // An ID token is not an access token.
    assert_eq!(
        userinfo_status(&s, id_token).await,
        StatusCode::UNAUTHORIZED
    );
    // alg=none.
    let none = format!(
        "{}.{}.",
        idp::crypto::b64(br#"{"alg":"none","typ":"at+jwt"}"#),
        parts[1]
    );
    assert_eq!(userinfo_status(&s, &none).await, StatusCode::UNAUTHORIZED);

    // Forged id_token_hint at logout: refused with a page, no redirect, still signed in.
    let (forger, _) = idp::jose::SigningKey::generate("x".into(), idp::jose::Alg::RS256).unwrap();
    let mut hint: Value = serde_json::from_slice(
        &idp::crypto::b64_decode(id_token.split('.').nth(1).unwrap()).unwrap(),
    )
    .unwrap();
    hint["iss"] = s.idp.base.clone().into();
    let forged_hint = forger.sign("JWT", &hint).unwrap();
    let url = format!(
        "{}?id_token_hint={forged_hint}&post_logout_redirect_uri={BYE}&state=s",
        s.idp.url("/logout")
    );
    let r = browser.get(&url).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.headers().get("location").is_none());

    // Unregistered post-logout address: refused, even with a genuine hint.
    let url = format!(
        "{}?id_token_hint={id_token}&post_logout_redirect_uri=http://127.0.0.1:9/evil",
        s.idp.url("/logout")
    );
    let r = browser.get(&url).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.headers().get("location").is_none());
    assert_eq!(
        userinfo_status(&s, access).await,
        StatusCode::OK,
        "still signed in"
    );

    // Without a hint, logout asks first instead of signing out on a bare link.
    let r = browser.get(&s.idp.url("/logout")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("Bạn có muốn đăng xuất"));
    assert_eq!(
        userinfo_status(&s, access).await,
        StatusCode::OK,
        "a bare link does not sign out"
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_account_look_the_same() {
    // `/metrics` needs its bearer token (security review, finding 16).
    let token = "jeton-de-metriques-assez-long";
    let s = setup(&Backends {
        env: vec![("IDP_HTTP__METRICS_TOKEN".into(), token.into())],
        ..Backends::default()
    });
    let strip = |html: String| {
        let csrf = crate::browser::hidden(&html, "csrf").unwrap();
        html.replace(&csrf, "CSRF")
    };
    let b1 = Browser::new();
    let r1 = b1
        .submit_login(&s.idp.base, &s.idp.url("/login"), "tamtt", "wrong password")
        .await;
    let (st1, h1) = (r1.status(), strip(r1.text().await.unwrap()));
    let b2 = Browser::new();
    let r2 = b2
        .submit_login(
            &s.idp.base,
            &s.idp.url("/login"),
            "khongco",
            "wrong password",
        )
        .await;
    let (st2, h2) = (r2.status(), strip(r2.text().await.unwrap()));
    assert_eq!(st1, st2);
    assert!(h1.contains("Tài khoản hoặc mật khẩu không đúng."));
    assert_eq!(
        h1.replace(r#"value="tamtt""#, "ACCOUNT"),
        h2.replace(r#"value="khongco""#, "ACCOUNT"),
        "same page for both"
    );
    // A good password then signs in, and the failures are in the metrics.
    let ok = b1
        .submit_login(
            &s.idp.base,
            &s.idp.url("/login"),
            "tamtt@BINHPHUOC.gov.vn",
            PASSWORD,
        )
        .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let metrics = rp_http()
        .get(s.idp.url("/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"idp_logins_total{result="failed"} 2"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"idp_logins_total{result="ok"} 1"#));
}

#[tokio::test]
async fn login_form_needs_its_csrf_token() {
    let s = setup(&Backends::default());
    let browser = Browser::new();
    browser.get(&s.idp.url("/login")).await;
    let r = browser
        .http
        .post(s.idp.url("/login"))
        .form(&[
            ("csrf", "forged"),
            ("account", "tamtt"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()
            .get("set-cookie")
            .is_none_or(|c| !c.to_str().unwrap().contains("dn_session"))
    );
    assert!(r.text().await.unwrap().contains("Biểu mẫu đã hết hạn"));
}
