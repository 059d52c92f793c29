//! The OIDC endpoints after the security review (issue 11): length caps on
//! every outside parameter, introspection for confidential clients only,
//! per-client scopes and resources for `client_credentials`, retired keys
//! kept published while their tokens live, PKCE optional for old
//! confidential apps that send a nonce, the access token in a userinfo POST
//! body, and `acr_values` as preferences in order.

mod clients;
mod limits;
mod tokens;

use reqwest::StatusCode;
use serde_json::Value;

use crate::browser::{Browser, authorize_url, param, pkce};
use crate::harness::{Idp, PASSWORD};
use crate::oidc_flow::{REDIRECT, rp_http};

pub(super) async fn post(
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

pub(super) fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&idp::crypto::b64_decode(payload).unwrap()).unwrap()
}

/// An authorization URL with PKCE; returns (verifier, url).
pub(super) fn auth(idp: &Idp, client: &str, extra: &[(&str, &str)]) -> (String, String) {
    let (verifier, challenge) = pkce();
    let mut all = vec![
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    all.extend_from_slice(extra);
    (verifier, authorize_url(&idp.base, client, REDIRECT, &all))
}

/// Redeems the code of `back` for `client` (Basic); returns status and body.
pub(super) async fn redeem(
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
pub(super) async fn tokens(idp: &Idp, client: (&str, &str)) -> Value {
    let (v, url) = auth(idp, client.0, &[]);
    let back = Browser::new()
        .sign_in_via(&idp.base, &url, "tamtt", PASSWORD)
        .await;
    let (status, t) = redeem(idp, client, &back, Some(&v)).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    t
}

/// GETs `url` without a cookie; returns status and Location.
pub(super) async fn authorize(url: &str) -> (StatusCode, Option<String>) {
    let r = rp_http().get(url).send().await.unwrap();
    let to = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    (r.status(), to)
}
