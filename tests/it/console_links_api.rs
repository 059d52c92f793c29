//! Account links through the admin API and the limits of a unit
//! administrator and an auditor, against the real binary over the Onewin
//! sample export: a unit administrator neither sees nor accepts a
//! suggestion for another unit's person (page and API), an auditor's
//! changes are refused, and the API's queue, accept, reject, accept all
//! exact, search, list, add, remove, CSV export and import behave as the
//! console's.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::browser::Browser;
use crate::console::{NOI_VU, console_sign_in, get, person, submit};
use crate::console_links::{all_rows, onewin_world, pair};
use crate::harness::Slapd;
use crate::mfa::Setup;
use crate::oidc_flow::{REDIRECT, rp_http};

const API: &str = "/api/admin/v1";

/// An access token with the admin scope for the browser's session (acr 2).
async fn token(s: &Setup, b: &Browser, secret: &str) -> String {
    crate::console_api::token(s, b, "links-cli", secret, "openid admin", true).await
}

async fn call(
    s: &Setup,
    t: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = rp_http()
        .request(method, s.idp.url(&format!("{API}{path}")))
        .bearer_auth(t);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let st = r.status();
    let text = r.text().await.unwrap();
    (
        st,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn a_unit_admin_and_an_auditor_are_kept_to_their_powers_on_pages_and_the_api() {
    let slapd = Slapd::start();
    let s = onewin_world(&slapd);
    let secret = s
        .idp
        .add_client("links-cli", REDIRECT, &["--scope", "admin"]);
    person(&s, "quantri", "Quản trị hệ thống", NOI_VU, true, None);
    person(
        &s,
        "truongphong",
        "Lê Văn Đức",
        NOI_VU,
        false,
        Some("unit_admin"),
    );
    person(&s, "kiemtra", "Lê Thị Kiểm", NOI_VU, false, Some("auditor"));
    let (admin, _) = console_sign_in(&s, "quantri").await;
    let (unit_admin, _) = console_sign_in(&s, "truongphong").await;
    let (auditor, _) = console_sign_in(&s, "kiemtra").await;
    let q = "/admin/links/queue?app=onewin";

    // Pages: the unit administrator's queue holds only their unit's people.
    let all = all_rows(&admin, &s, q).await;
    let mine = all_rows(&unit_admin, &s, q).await;
    assert!(!mine.is_empty() && mine.len() < all.len());
    assert!(mine.iter().all(|r| r.unit == NOI_VU), "{mine:?}");
    let other = all.iter().find(|r| r.unit != NOI_VU).unwrap().clone();
    let (_, html) = get(&unit_admin, &s, q).await;
    let (st, _) = submit(
        &unit_admin,
        &s,
        "/admin/links/queue/accept",
        Some(&html),
        &pair(&other, q),
    )
    .await;
    assert_eq!(
        st,
        StatusCode::NOT_FOUND,
        "another unit's person is not found"
    );
    assert!(
        all_rows(&admin, &s, q).await.contains(&other),
        "still pending"
    );
    // An auditor sees the queue without buttons and cannot POST.
    let (st, html) = get(&auditor, &s, q).await;
    assert_eq!(st, StatusCode::OK);
    assert!(!html.contains("/admin/links/queue/accept\""), "{html}");
    // A valid token from a page with a form (their account page).
    let (_, account) = get(&auditor, &s, "/account").await;
    let (st, _) = submit(
        &auditor,
        &s,
        "/admin/links/queue/accept",
        Some(&account),
        &pair(&other, q),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = get(&auditor, &s, "/admin/links/queue/accept-exact?app=onewin").await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // The API: the same limits.
    let ut = token(&s, &unit_admin, &secret).await;
    let (st, v) = call(
        &s,
        &ut,
        Method::GET,
        "/links/queue?app=onewin&limit=200",
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let list = v["suggestions"].as_array().unwrap();
    assert!(!list.is_empty());
    assert!(list.iter().all(|r| r["person"]["unit"] == NOI_VU), "{v}");
    let body = json!({"app": "onewin", "username": other.username(), "user_id": other.user});
    let (st, v) = call(
        &s,
        &ut,
        Method::POST,
        "/links/queue/accept",
        Some(body.clone()),
    )
    .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let at = token(&s, &auditor, &secret).await;
    let (st, _) = call(&s, &at, Method::GET, "/links/coverage", None).await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = call(
        &s,
        &at,
        Method::POST,
        "/links/queue/accept",
        Some(body.clone()),
    )
    .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );

    // The super administrator: paging, accept, reject, accept all exact.
    let t = token(&s, &admin, &secret).await;
    let (_, v) = call(&s, &t, Method::GET, "/links/coverage", None).await;
    let cov = v["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["app_id"] == "onewin")
        .unwrap()
        .clone();
    assert_eq!(cov["pending"].as_u64().unwrap() as usize, all.len());
    let (_, p1) = call(&s, &t, Method::GET, "/links/queue?app=onewin&limit=5", None).await;
    let n = &p1["next"];
    let path = format!(
        "/links/queue?app=onewin&limit=5&after_app={}&after_username={}&after_user={}",
        n["after_app"].as_str().unwrap(),
        n["after_username"].as_str().unwrap(),
        n["after_user"].as_str().unwrap()
    );
    let (_, p2) = call(&s, &t, Method::GET, &path, None).await;
    assert_eq!(
        p2["suggestions"][0]["username"],
        all[5].username(),
        "keyset page two"
    );
    let (st, v) = call(&s, &t, Method::POST, "/links/queue/accept", Some(body)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["linked"]["username"], other.username());
    let r2 = all
        .iter()
        .find(|r| r.account != other.account && r.user != other.user)
        .unwrap();
    let b2 = json!({"app": "onewin", "username": r2.username(), "user_id": r2.user});
    let (st, _) = call(
        &s,
        &t,
        Method::POST,
        "/links/queue/reject",
        Some(b2.clone()),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = call(&s, &t, Method::POST, "/links/queue/reject", Some(b2)).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::CONFLICT, Some("conflict"))
    );
    let (st, v) = call(
        &s,
        &t,
        Method::POST,
        "/links/queue/accept-exact",
        Some(json!({"app": "onewin"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(v["linked"].as_u64().unwrap() > 100, "{v}");
    let (st, v) = call(&s, &t, Method::GET, "/links/conflicts?app=onewin", None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(v["conflicts"].is_array());

    // Links: list, a conflict refused, remove, search without diacritics.
    let (_, v) = call(&s, &t, Method::GET, "/links/apps/onewin", None).await;
    let links = v["links"].as_array().unwrap();
    let (a, b) = (&links[0], &links[1]);
    let add = json!({"email": b["email"], "username": a["username"]});
    let (st, v) = call(&s, &t, Method::POST, "/links/apps/onewin", Some(add)).await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains(a["email"].as_str().unwrap()),
        "{v}"
    );
    let path = format!("/links/apps/onewin/{}", a["username"].as_str().unwrap());
    let (st, _) = call(&s, &t, Method::DELETE, &path, None).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = call(&s, &t, Method::DELETE, &path, None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "not linked any more");
    let (_, v) = call(
        &s,
        &t,
        Method::GET,
        "/links/search?q=nguyen&app=onewin",
        None,
    )
    .await;
    assert!(!v["people"].as_array().unwrap().is_empty(), "{v}");
    let (_, v) = call(&s, &t, Method::GET, "/links/search?q=%25", None).await;
    assert!(
        v["people"].as_array().unwrap().is_empty(),
        "a typed % is no wildcard"
    );

    // CSV: the export with a BOM; a malformed import changes nothing.
    let r = rp_http()
        .get(s.idp.url(&format!("{API}/links/apps/onewin/export.csv")))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = r.bytes().await.unwrap().to_vec();
    assert!(csv.starts_with(b"\xef\xbb\xbf"));
    let import = |body: Vec<u8>| {
        rp_http()
            .post(s.idp.url(&format!("{API}/links/apps/onewin/import.csv")))
            .bearer_auth(&t)
            .header("content-type", "text/csv")
            .body(body)
            .send()
    };
    let r = import(b"username,official_email\r\nkhongco,\"unterminated\r\n".to_vec())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = import(csv.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["linked"], 0, "{v}");
    // A body above the cap is refused before it is read whole.
    let r = import(vec![b'a'; 9 * 1024 * 1024]).await.unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let (st, v) = call(&s, &t, Method::GET, "/links/requests", None).await;
    assert_eq!(
        (st, v["requests"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(0))
    );
}
