//! The JSON admin API against the real binary: a token asked for with
//! `scope=openid admin` and `acr_values=2` by a client registered with
//! `--scope admin`; refusals without a token, with a forged one, without the
//! scope, from a sign-in without a second factor, and a unit administrator
//! who gets 404 for another unit's person; the audit CSV with a planted
//! formula neutralised; the OpenAPI document.

use reqwest::StatusCode;
use serde_json::Value;

use crate::browser::{Browser, authorize_url, location, param, pkce};
use crate::console::{NOI_VU, TAI_CHINH, console_sign_in, id_of, person};
use crate::harness::{Backends, PASSWORD};
use crate::mfa::{Setup, setup_on};
use crate::oidc_flow::{REDIRECT, rp_http};

const API: &str = "/api/admin/v1";

/// An access token of `client` (registered with `--scope admin` and
/// [`REDIRECT`]) for the browser's session, asking for `scope` (and a second
/// factor when `acr2`).
pub(crate) async fn token(
    s: &Setup,
    b: &Browser,
    client: &str,
    secret: &str,
    scope: &str,
    acr2: bool,
) -> String {
    let (verifier, challenge) = pkce();
    let mut extra = vec![
        ("scope", scope),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    if acr2 {
        extra.push(("acr_values", "2"));
    }
    let r = b
        .get(&authorize_url(&s.idp.base, client, REDIRECT, &extra))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let back = location(&r);
    let code = param(&back, "code").unwrap_or_else(|| panic!("no code in {back}"));
    let r = rp_http()
        .post(s.idp.url("/token"))
        .basic_auth(client, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let t: Value = r.json().await.unwrap();
    t["access_token"].as_str().unwrap().to_owned()
}

async fn call(
    s: &Setup,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
) -> (StatusCode, Option<String>, String) {
    let mut req = rp_http().request(method, s.idp.url(&format!("{API}{path}")));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    let challenge = r
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    (r.status(), challenge, r.text().await.unwrap())
}

fn error_of(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"));
    assert!(v["error_description"].is_string(), "{body}");
    v["error"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_admin_api_wants_the_admin_scope_a_second_factor_and_keeps_a_unit_admin_to_their_unit()
{
    use reqwest::Method;
    let s = setup_on(Backends::default());
    let secret = s
        .idp
        .add_client("console-cli", REDIRECT, &["--scope", "admin"]);
    person(&s, "quantri", "Quản trị hệ thống", NOI_VU, true, None);
    person(
        &s,
        "truongphong",
        "Lê Văn Đức",
        NOI_VU,
        false,
        Some("unit_admin"),
    );
    person(&s, "hungnv", "Nguyễn Văn Hùng", NOI_VU, false, None);
    person(&s, "lantt", "Trần Thị Lan", TAI_CHINH, false, None);
    let lan = id_of(&s, "lantt@binhphuoc.gov.vn");
    let hung = id_of(&s, "hungnv@binhphuoc.gov.vn");

    // The document is public and parses.
    let (st, _, body) = call(&s, Method::GET, "/openapi.json", None).await;
    assert_eq!(st, StatusCode::OK);
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/people/{id}/roles/{role}"]["delete"].is_object());

    // No token, a forged one.
    let (st, ch, body) = call(&s, Method::GET, "/people", None).await;
    assert_eq!(
        (st, error_of(&body).as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );
    assert!(ch.unwrap().contains(r#"error="invalid_token""#));
    let (admin, _) = console_sign_in(&s, "quantri").await;
    let good = token(&s, &admin, "console-cli", &secret, "openid admin", true).await;
    let mut parts: Vec<&str> = good.split('.').collect();
    let forged_payload = idp::crypto::b64(br#"{"sub":"x","scope":"openid admin"}"#);
    parts[1] = &forged_payload;
    let forged = parts.join(".");
    let (st, _, body) = call(&s, Method::GET, "/people", Some(&forged)).await;
    assert_eq!(
        (st, error_of(&body).as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );

    // Without asking for admin: 403 insufficient_scope.
    let plain = token(&s, &admin, "console-cli", &secret, "openid", true).await;
    let (st, ch, body) = call(&s, Method::GET, "/people", Some(&plain)).await;
    assert_eq!(
        (st, error_of(&body).as_str()),
        (StatusCode::FORBIDDEN, "insufficient_scope")
    );
    assert!(ch.unwrap().contains("insufficient_scope"));

    // The administrator's token works: search, a person, a role granted (audited).
    let (st, _, body) = call(&s, Method::GET, "/people?q=nguyen%20van", Some(&good)).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["total"], 1);
    assert_eq!(v["people"][0]["email"], "hungnv@binhphuoc.gov.vn");
    let (st, _, body) = call(
        &s,
        Method::POST,
        &format!("/people/{hung}/roles/clerk"),
        Some(&good),
    )
    .await;
    assert_eq!((st, body.as_str()), (StatusCode::OK, r#"{"changed":true}"#));
    let (_, _, body) = call(&s, Method::GET, &format!("/people/{hung}"), Some(&good)).await;
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["roles"], serde_json::json!(["clerk"]));
    let (_, _, body) = call(
        &s,
        Method::GET,
        "/audit?kind=admin.role_granted",
        Some(&good),
    )
    .await;
    let v: Value = serde_json::from_str(&body).unwrap();
    let e = &v["events"][0];
    assert_eq!(e["subject"], "hungnv@binhphuoc.gov.vn");
    assert_eq!(e["detail"], "role clerk; before -; after clerk");
    let (st, _, body) = call(
        &s,
        Method::DELETE,
        &format!("/people/{hung}/roles/clerk"),
        Some(&good),
    )
    .await;
    assert_eq!((st, body.as_str()), (StatusCode::OK, r#"{"changed":true}"#));

    // A unit administrator: another unit's person is not found (like nobody), and stays enabled.
    let (ua, _) = console_sign_in(&s, "truongphong").await;
    let ua_token = token(&s, &ua, "console-cli", &secret, "openid admin", true).await;
    let (st, _, body) = call(&s, Method::GET, &format!("/people/{lan}"), Some(&ua_token)).await;
    assert_eq!(
        (st, error_of(&body).as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let (st, _, nobody) = call(&s, Method::GET, "/people/no-such-id", Some(&ua_token)).await;
    assert_eq!((st, nobody), (StatusCode::NOT_FOUND, body));
    let (st, _, _) = call(
        &s,
        Method::POST,
        &format!("/people/{lan}/disable"),
        Some(&ua_token),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, _, body) = call(&s, Method::GET, &format!("/people/{lan}"), Some(&good)).await;
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["disabled"],
        false
    );
    let (_, _, body) = call(&s, Method::GET, "/people", Some(&ua_token)).await;
    let v: Value = serde_json::from_str(&body).unwrap();
    let emails: Vec<&str> = v["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["email"].as_str().unwrap())
        .collect();
    assert!(
        emails.contains(&"hungnv@binhphuoc.gov.vn") && !emails.contains(&"lantt@binhphuoc.gov.vn"),
        "{emails:?}"
    );
    // … nor raise anyone to unit or super administrator.
    let (st, _, body) = call(
        &s,
        Method::POST,
        &format!("/people/{hung}/roles/super_admin"),
        Some(&ua_token),
    )
    .await;
    assert_eq!(
        (st, error_of(&body).as_str()),
        (StatusCode::FORBIDDEN, "forbidden")
    );

    // A spreadsheet formula typed as an account reaches the CSV neutralised.
    let b = Browser::new();
    let r = b
        .submit_login(
            &s.idp.base,
            &s.idp.url("/login"),
            "=HYPERLINK(\"http://x\";\"y\")",
            PASSWORD,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let (st, _, csv) = call(
        &s,
        Method::GET,
        "/audit.csv?kind=auth.login_failed",
        Some(&good),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        csv.contains(r#""'=HYPERLINK(""http://x"";""y"")""#),
        "{csv}"
    );
    assert!(!csv.contains(",=HYPERLINK"), "{csv}");
}

#[tokio::test]
async fn an_admin_token_from_a_sign_in_without_a_second_factor_is_refused() {
    use reqwest::Method;
    let s = setup_on(Backends::default());
    let secret = s
        .idp
        .add_client("console-cli", REDIRECT, &["--scope", "admin"]);
    // Tâm signs in with a password only (acr 1) and is then made an auditor.
    let b = Browser::new();
    let r = b
        .submit_login(&s.idp.base, &s.idp.url("/login"), "tamtt", PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    s.idp
        .cli_ok(&["user", "role", "tamtt", "--grant", "auditor"], None);
    let weak = token(&s, &b, "console-cli", &secret, "openid admin", false).await;
    let (st, ch, body) = call(&s, Method::GET, "/audit", Some(&weak)).await;
    assert_eq!(
        (st, error_of(&body).as_str()),
        (StatusCode::UNAUTHORIZED, "insufficient_user_authentication")
    );
    assert!(ch.is_some());
    // In the console the same session is sent to the step-up.
    let r = b.get(&s.idp.url("/admin/audit")).await;
    assert_eq!(
        (r.status(), location(&r).as_str()),
        (StatusCode::SEE_OTHER, "/login/second-factor")
    );
}
