//! Findings 10 and 19: introspection for confidential clients only,
//! revocation kept to a client's own tokens, and `client_credentials` held to
//! the scopes and resources registered.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{auth, claims, post, tokens};
use crate::browser::{Browser, param};
use crate::harness::{Backends, Idp, PASSWORD};
use crate::oidc_flow::{REDIRECT, rp_http};

// --- Finding 10: introspection needs a confidential client ------------------

#[tokio::test]
async fn introspection_refuses_public_clients_and_revocation_keeps_them_to_their_own() {
    let idp = Idp::spawn(&Backends::default());
    idp.add_person();
    let rs = idp.add_client("vanban", REDIRECT, &[]);
    idp.cli_ok(
        &[
            "client",
            "add",
            "mobile",
            "--public",
            "--redirect-uri",
            REDIRECT,
        ],
        None,
    );

    // Tokens of the confidential app and of the public one.
    let t = tokens(&idp, ("vanban", &rs)).await;
    let access = t["access_token"].as_str().unwrap();
    let (v, url) = auth(&idp, "mobile", &[]);
    let back = Browser::new()
        .sign_in_via(&idp.base, &url, "tamtt", PASSWORD)
        .await;
    let code = param(&back, "code").unwrap();
    let (status, mt) = post(
        &idp,
        "/token",
        None,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "mobile"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &v),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{mt}");
    let m_access = mt["access_token"].as_str().unwrap();
    let m_refresh = mt["refresh_token"].as_str().unwrap();

    // A public client (anyone who knows its id) learns nothing, in parallel too,
    // about anyone's tokens, its own included.
    let mut tries = tokio::task::JoinSet::new();
    for tok in [access, m_access, m_refresh] {
        let (to, tok) = (idp.url("/introspect"), tok.to_owned());
        tries.spawn(async move {
            let r = rp_http()
                .post(to)
                .form(&[("token", tok.as_str()), ("client_id", "mobile")])
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        });
    }
    for (status, e) in tries.join_all().await {
        assert_eq!(
            (status, e["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_client")),
            "{e}"
        );
        assert!(e.get("active").is_none());
    }
    // Nor with an empty Basic secret.
    let (status, _) = post(
        &idp,
        "/introspect",
        Some(("mobile", "")),
        &[("token", access)],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A confidential client still may.
    let (status, info) = post(
        &idp,
        "/introspect",
        Some(("vanban", &rs)),
        &[("token", m_access)],
    )
    .await;
    assert_eq!((status, &info["active"]), (StatusCode::OK, &json!(true)));
    let meta = idp.get_json("/.well-known/openid-configuration").await;
    assert!(
        !meta["introspection_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("none"))
    );
    assert!(
        meta["revocation_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("none"))
    );

    // Revocation: a public client cannot revoke another client's token (200, nothing done)…
    let (status, _) = post(
        &idp,
        "/revoke",
        None,
        &[("token", access), ("client_id", "mobile")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, info) = post(
        &idp,
        "/introspect",
        Some(("vanban", &rs)),
        &[("token", access)],
    )
    .await;
    assert_eq!(info["active"], true, "another client's token is untouched");
    // …but revokes its own (RFC 7009 §2.1), the whole grant with its refresh token.
    let (status, _) = post(
        &idp,
        "/revoke",
        None,
        &[("token", m_refresh), ("client_id", "mobile")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, info) = post(
        &idp,
        "/introspect",
        Some(("vanban", &rs)),
        &[("token", m_access)],
    )
    .await;
    assert_eq!(info, json!({"active": false}));
}

// --- Finding 19: client_credentials scopes and resources -------------------

#[tokio::test]
async fn client_credentials_grants_only_registered_scopes_and_resources() {
    let idp = Idp::spawn(&Backends::default());
    const API: &str = "https://api.vanban.binhphuoc.gov.vn/";
    let svc = idp.add_client(
        "dongbo",
        REDIRECT,
        &[
            "--grant",
            "client_credentials",
            "--scope",
            "docs:read",
            "--scope",
            "docs:write",
            "--resource",
            API,
        ],
    );
    let bare = idp.add_client("trongtrang", REDIRECT, &["--grant", "client_credentials"]);
    let cc = |client: (&'static str, String), extra: Vec<(&'static str, String)>| {
        let idp = &idp;
        async move {
            let mut form = vec![("grant_type", "client_credentials".to_owned())];
            form.extend(extra);
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post(idp, "/token", Some((client.0, &client.1)), &form).await
        }
    };
    let dongbo = ("dongbo", svc.clone());

    // Nothing asked: everything registered.
    let (status, t) = cc(dongbo.clone(), vec![]).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["scope"], "docs:read docs:write");
    let c = claims(t["access_token"].as_str().unwrap());
    assert_eq!(
        (&c["scope"], &c["aud"]),
        (&json!("docs:read docs:write"), &json!("dongbo"))
    );
    // A part of it.
    let (_, t) = cc(dongbo.clone(), vec![("scope", "docs:read".into())]).await;
    assert_eq!(t["scope"], "docs:read");
    // Anything else, alone or beside allowed ones, is invalid_scope; openid too.
    for asked in [
        "admin",
        "docs:read admin",
        "openid",
        "docs:read docs:delete",
    ] {
        let (status, e) = cc(dongbo.clone(), vec![("scope", asked.into())]).await;
        assert_eq!(
            (status, e["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_scope")),
            "{asked}"
        );
    }
    // A client registered with no scope gets none, and may ask for none.
    let (status, t) = cc(("trongtrang", bare.clone()), vec![]).await;
    assert_eq!((status, &t["scope"]), (StatusCode::OK, &json!("")));
    let (_, e) = cc(
        ("trongtrang", bare.clone()),
        vec![("scope", "docs:read".into())],
    )
    .await;
    assert_eq!(e["error"], "invalid_scope");

    // A registered resource becomes the audience (RFC 8707).
    let (status, t) = cc(dongbo.clone(), vec![("resource", API.into())]).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    let c = claims(t["access_token"].as_str().unwrap());
    assert_eq!(c["aud"], API);
    let (_, info) = post(
        &idp,
        "/introspect",
        Some(("dongbo", &svc)),
        &[("token", t["access_token"].as_str().unwrap())],
    )
    .await;
    assert_eq!(info["aud"], API);
    // Others, a fragment, a relative URI, or one the other client did not register: invalid_target.
    for (client, resource) in [
        (dongbo.clone(), "https://api.other.binhphuoc.gov.vn/"),
        (dongbo.clone(), "https://api.vanban.binhphuoc.gov.vn/#x"),
        (dongbo.clone(), "/docs"),
        (("trongtrang", bare.clone()), API),
    ] {
        let (status, e) = cc(client, vec![("resource", resource.into())]).await;
        assert_eq!(
            (status, e["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_target")),
            "{resource}"
        );
    }
    // Two resources at once are refused too (one aud per token).
    let r = rp_http()
        .post(idp.url("/token"))
        .basic_auth("dongbo", Some(&svc))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&resource={API}&resource=https%3A%2F%2Fx.gov.vn%2F"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // The command line refuses what would never work.
    for extra in [
        vec!["--scope", "docs:read"],
        vec!["--grant", "client_credentials", "--scope", "openid"],
        vec!["--grant", "client_credentials", "--scope", "a\"b"],
        vec![
            "--grant",
            "client_credentials",
            "--resource",
            "https://api.gov.vn/#f",
        ],
        vec!["--grant", "client_credentials", "--resource", "api.gov.vn"],
    ] {
        let mut args = vec!["client", "add", "sai", "--redirect-uri", REDIRECT];
        args.extend(extra.iter().copied());
        let out = idp.cli(&args, None);
        assert!(!out.status.success(), "{extra:?}");
    }
    let help = idp.cli_ok(&["client", "add", "--help"], None);
    assert!(help.contains("--scope") && help.contains("--resource") && help.contains("--pkce"));
}
