//! The OIDC endpoints after the security review (issue 11): length caps on
//! every outside parameter, introspection for confidential clients only,
//! per-client scopes and resources for `client_credentials`, retired keys
//! kept published while their tokens live, PKCE optional for old
//! confidential apps that send a nonce, the access token in a userinfo POST
//! body, and `acr_values` as preferences in order.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::browser::{Browser, authorize_url, location, param, pkce};
use crate::harness::{Backends, Idp, PASSWORD};
use crate::oidc_flow::{BYE, REDIRECT, rp_http};

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

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&idp::crypto::b64_decode(payload).unwrap()).unwrap()
}

/// An authorization URL with PKCE; returns (verifier, url).
fn auth(idp: &Idp, client: &str, extra: &[(&str, &str)]) -> (String, String) {
    let (verifier, challenge) = pkce();
    let mut all = vec![
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    all.extend_from_slice(extra);
    (verifier, authorize_url(&idp.base, client, REDIRECT, &all))
}

/// Redeems the code of `back` for `client` (Basic); returns status and body.
async fn redeem(
    idp: &Idp,
    client: (&str, &str),
    back: &str,
    verifier: Option<&str>,
) -> (StatusCode, Value) {
    let code = param(back, "code").unwrap_or_else(|| panic!("no code in {back}"));
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    post(idp, "/token", Some(client), &form).await
}

/// Signs in through `client` and returns its tokens.
async fn tokens(idp: &Idp, client: (&str, &str)) -> Value {
    let (v, url) = auth(idp, client.0, &[]);
    let back = Browser::new()
        .sign_in_via(&idp.base, &url, "tamtt", PASSWORD)
        .await;
    let (status, t) = redeem(idp, client, &back, Some(&v)).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    t
}

// --- Finding 5: parameter lengths ------------------------------------------

/// GETs `url` without a cookie; returns status and Location.
async fn authorize(url: &str) -> (StatusCode, Option<String>) {
    let r = rp_http().get(url).send().await.unwrap();
    let to = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    (r.status(), to)
}

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
    // Every node reloads within a second here.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let keys = idp.signing_keys().await;
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
