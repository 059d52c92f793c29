//! Unit tests of the OIDC domain on the in-process harness
//! ([`crate::testing`]): authorize, token, logout and client authentication,
//! with the clock set by the test instead of slept through.

mod authorize;
mod client_auth;
mod logout;
mod token;

use super::OidcError;
use super::authorize::{AuthorizeRequest, Step, start};
use super::token::{TokenRequest, TokenResponse, exchange};
use crate::auth::session::SsoSession;
use crate::ids::UserId;
use crate::kinds::ClientAuthMethod;
use crate::testing::{TestIdp, param, pkce};

/// A code-flow request for `client` with an S256 challenge.
fn request(client: &str, challenge: &str) -> AuthorizeRequest {
    AuthorizeRequest {
        response_type: Some("code".into()),
        client_id: Some(client.into()),
        redirect_uri: Some(format!("https://{client}.binhphuoc.gov.vn/cb")),
        scope: Some("openid profile".into()),
        state: Some("st-1".into()),
        nonce: Some("n-1".into()),
        code_challenge: Some(challenge.into()),
        code_challenge_method: Some("S256".into()),
        ..AuthorizeRequest::default()
    }
}

/// Authorizes `client` in `sess`; returns the code and its verifier.
async fn code(t: &TestIdp, client: &str, sess: &SsoSession) -> (String, String) {
    let (verifier, challenge) = pkce();
    let step = start(&t.idp, request(client, &challenge), Some(sess), t.now())
        .await
        .unwrap();
    let Step::Redirect(to) = step else {
        panic!("a code, not {step:?}");
    };
    (param(&to, "code").expect("a code"), verifier)
}

/// Redeems `code` for `client` with Basic authentication.
async fn redeem(
    t: &TestIdp,
    client: &str,
    secret: &str,
    code: &str,
    verifier: &str,
) -> Result<TokenResponse, OidcError> {
    let req = TokenRequest {
        grant_type: Some("authorization_code".into()),
        code: Some(code.into()),
        redirect_uri: Some(format!("https://{client}.binhphuoc.gov.vn/cb")),
        code_verifier: Some(verifier.into()),
        ..TokenRequest::default()
    };
    exchange(&t.idp, req, Some((client.into(), secret.into())), t.now()).await
}

/// Spends a refresh token for `client` with Basic authentication.
async fn refresh(
    t: &TestIdp,
    client: &str,
    secret: &str,
    token: &str,
) -> Result<TokenResponse, OidcError> {
    let req = TokenRequest {
        grant_type: Some("refresh_token".into()),
        refresh_token: Some(token.into()),
        ..TokenRequest::default()
    };
    exchange(&t.idp, req, Some((client.into(), secret.into())), t.now()).await
}

/// A person signed in, a confidential client (`client_secret_basic`) and
/// its secret.
async fn signed_in(client: &str) -> (TestIdp, SsoSession, String, String) {
    let t = TestIdp::new().await;
    let user = t.add_person("tamtt").await;
    let secret = t
        .add_client(client, ClientAuthMethod::ClientSecretBasic, |_| {})
        .await;
    let (cookie, sess) = t.sign_in(&UserId::from(user.as_str())).await;
    (t, sess, secret, cookie)
}
