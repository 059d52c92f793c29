//! Client authentication and the other grants: `client_secret_post`,
//! `private_key_jwt` (RFC 7523) with replay detection, public clients with
//! PKCE only, `client_credentials`, introspection (RFC 7662), revocation
//! (RFC 7009) and ES256 ID tokens on request.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::browser::{Browser, authorize_url, param, pkce};
use crate::harness::{Backends, Idp, PASSWORD};
use crate::oidc_flow::{REDIRECT, rp_http};

async fn post(
    idp: &Idp,
    path: &str,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut req = rp_http().post(idp.url(path)).form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn client_credentials_introspection_and_revocation() {
    let idp = Idp::spawn(&Backends::default());
    let svc = idp.add_client(
        "dongbo",
        REDIRECT,
        &[
            "--grant",
            "client_credentials",
            "--auth-method",
            "client_secret_post",
            "--scope",
            "docs:read",
        ],
    );
    let rs = idp.add_client("vanban", REDIRECT, &[]);

    let (status, t) = post(
        &idp,
        "/token",
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "dongbo"),
            ("client_secret", &svc),
            ("scope", "docs:read"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["scope"], "docs:read");
    assert!(t.get("id_token").is_none() && t.get("refresh_token").is_none());
    let at = t["access_token"].as_str().unwrap();
    let header: Value =
        serde_json::from_slice(&idp::crypto::b64_decode(at.split('.').next().unwrap()).unwrap())
            .unwrap();
    assert_eq!(header["typ"], "at+jwt", "RFC 9068 access token");
    assert_eq!(header["alg"], "ES256");

    // A resource server (any registered client) introspects it.
    let (status, info) = post(&idp, "/introspect", Some(("vanban", &rs)), &[("token", at)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["active"], true);
    assert_eq!(info["client_id"], "dongbo");
    assert_eq!(info["scope"], "docs:read");
    // Not for people: no userinfo with a client's own token.
    let r = rp_http()
        .get(idp.url("/userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // The owner revokes it; introspection then says inactive.
    let (status, _) = post(
        &idp,
        "/revoke",
        None,
        &[
            ("token", at),
            ("client_id", "dongbo"),
            ("client_secret", &svc),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, info) = post(&idp, "/introspect", Some(("vanban", &rs)), &[("token", at)]).await;
    assert_eq!(info, json!({"active": false}));
    // Unknown tokens: 200 on revocation (RFC 7009 §2.2), inactive on introspection.
    let (status, _) = post(
        &idp,
        "/revoke",
        None,
        &[
            ("token", "nonsense"),
            ("client_id", "dongbo"),
            ("client_secret", &svc),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // The grant must be allowed, the registered method used, and introspection needs a client.
    let (status, e) = post(
        &idp,
        "/token",
        Some(("vanban", &rs)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(
        (status, e["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unauthorized_client"))
    );
    let (status, e) = post(
        &idp,
        "/token",
        Some(("dongbo", &svc)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(
        (status, e["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client")),
        "registered for client_secret_post"
    );
    let (status, _) = post(&idp, "/introspect", None, &[("token", at)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, e) = post(
        &idp,
        "/token",
        Some(("dongbo", &svc)),
        &[
            ("grant_type", "password"),
            ("username", "a"),
            ("password", "b"),
        ],
    )
    .await;
    assert!(status.is_client_error(), "{e}");
    let (_, e) = post(
        &idp,
        "/token",
        None,
        &[
            ("grant_type", "password"),
            ("client_id", "dongbo"),
            ("client_secret", &svc),
        ],
    )
    .await;
    assert_eq!(e["error"], "unsupported_grant_type", "no password grant");
}

#[tokio::test]
async fn private_key_jwt_authenticates_once_per_assertion() {
    let idp = Idp::spawn(&Backends::default());
    let (key, _) = idp::jose::SigningKey::generate("k1".into(), idp::jose::Alg::ES256).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, json!({"keys": [key.public_jwk()]}).to_string()).unwrap();
    idp.cli_ok(
        &[
            "client",
            "add",
            "kyso",
            "--grant",
            "client_credentials",
            "--jwks-file",
            jwks.to_str().unwrap(),
        ],
        None,
    );

    let assertion = |aud: Value, jti: &str, signer: &idp::jose::SigningKey| {
        signer
            .sign("JWT", &json!({"iss": "kyso", "sub": "kyso", "aud": aud, "jti": jti, "iat": now(), "exp": now() + 60}))
            .unwrap()
    };
    let form = |a: &str| {
        vec![
            ("grant_type".to_owned(), "client_credentials".to_owned()),
            (
                "client_assertion_type".to_owned(),
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
            ),
            ("client_assertion".to_owned(), a.to_owned()),
        ]
    };
    let token_url = idp.url("/token");
    let send = |a: String| {
        let idp = &idp;
        let form = form(&a);
        async move {
            let form: Vec<(&str, &str)> =
                form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            post(idp, "/token", None, &form).await
        }
    };
    // The audience is the issuer identifier, a single string (RFC 7523bis).
    let issuer = json!(idp.base);
    let good = assertion(issuer.clone(), "one", &key);
    let (status, t) = send(good.clone()).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    let (status, e) = send(good).await;
    assert_eq!(
        (status, e["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client")),
        "a replayed assertion"
    );
    // Sent many times at once, an assertion is accepted once.
    let racing = assertion(issuer.clone(), "race", &key);
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (to, f) = (idp.url("/token"), form(&racing));
        set.spawn(async move {
            crate::oidc_flow::rp_http()
                .post(to)
                .form(&f)
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    let ok = set
        .join_all()
        .await
        .into_iter()
        .filter(|s| *s == StatusCode::OK)
        .count();
    assert_eq!(ok, 1, "one of the parallel uses wins");
    for (aud, why) in [
        (json!("https://elsewhere.example/token"), "wrong audience"),
        (json!(token_url), "the token endpoint is not the issuer"),
        (json!(idp.url("/introspect")), "nor another endpoint"),
        (json!([idp.base]), "an array, even of the issuer alone"),
        (json!([idp.base, token_url]), "an array with the issuer"),
        (
            json!(format!("{}/", idp.base)),
            "the issuer with a slash added",
        ),
    ] {
        let (status, e) = send(assertion(aud, why, &key)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{why}: {e}");
    }
    let (stranger, _) =
        idp::jose::SigningKey::generate("k1".into(), idp::jose::Alg::ES256).unwrap();
    let (status, _) = send(assertion(issuer.clone(), "three", &stranger)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "someone else's key");
    let (status, t) = send(assertion(issuer, "four", &key)).await;
    assert_eq!(status, StatusCode::OK, "{t}");
}

#[tokio::test]
async fn public_client_uses_pkce_and_no_secret_and_es256_id_tokens_on_request() {
    let idp = Idp::spawn(&Backends::default());
    idp.add_person();
    idp.cli_ok(
        &[
            "client",
            "add",
            "mobile",
            "--public",
            "--redirect-uri",
            REDIRECT,
            "--id-token-alg",
            "ES256",
        ],
        None,
    );
    let browser = Browser::new();
    let (verifier, challenge) = pkce();
    let url = authorize_url(
        &idp.base,
        "mobile",
        REDIRECT,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("login_hint", "tamtt"),
        ],
    );
    // The login hint fills the account field.
    let first = browser.get(&url).await;
    let login = browser
        .get(&idp.url(&crate::browser::location(&first)))
        .await
        .text()
        .await
        .unwrap();
    assert!(login.contains(r#"value="tamtt""#));
    let back = browser
        .sign_in_via(&idp.base, &url, "tamtt", PASSWORD)
        .await;
    let code = param(&back, "code").unwrap();
    let (status, e) = post(
        &idp,
        "/token",
        None,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "mobile"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(
        (status, e["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "no verifier, no tokens"
    );

    let back = browser
        .sign_in_via(&idp.base, &url, "tamtt", PASSWORD)
        .await;
    let code = param(&back, "code").unwrap();
    let (status, t) = post(
        &idp,
        "/token",
        None,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "mobile"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{t}");
    let id_token = t["id_token"].as_str().unwrap();
    let keys = idp.signing_keys().await;
    let v = idp::jose::verify(id_token, &keys).unwrap();
    assert_eq!(v.header.alg, "ES256");
    assert_eq!(v.claims["aud"], "mobile");
    assert_eq!(v.claims["nonce"], "n-1");
    assert_eq!(v.claims["amr"], json!(["pwd"]));
    assert!(v.claims["sid"].is_string());

    // A public client cannot pretend to have a secret.
    let (status, _) = post(
        &idp,
        "/token",
        Some(("mobile", "guess")),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
