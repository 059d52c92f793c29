//! The whole code + PKCE flow, driven by the `openidconnect` crate as the
//! relying party, on every backend combination: discovery, HTML-form sign-in
//! with a short name, code exchange, ID-token validation, userinfo, refresh,
//! revocation, single sign-on and logout.

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use reqwest::StatusCode;
use reqwest::redirect::Policy;

use crate::browser::{Browser, location, param};
use crate::harness::{Backends, Idp, PASSWORD, Postgres, Redis};

pub const REDIRECT: &str = "http://127.0.0.1:9/cb";
pub const BYE: &str = "http://127.0.0.1:9/bye";

pub fn rp_http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

async fn code_flow(idp: &Idp) {
    idp.add_person();
    let secret = idp.add_client("vanban", REDIRECT, &["--post-logout-redirect-uri", BYE]);
    let http = rp_http();
    let meta =
        CoreProviderMetadata::discover_async(IssuerUrl::new(idp.base.clone()).unwrap(), &http)
            .await
            .unwrap();
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new("vanban".into()),
        Some(ClientSecret::new(secret.clone())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());

    // Sign in with the short name, in capitals: it becomes tamtt@binhphuoc.gov.vn.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("phone".into()))
        .set_pkce_challenge(challenge)
        .url();
    let browser = Browser::new();
    let first = browser.get(url.as_str()).await;
    assert!(
        location(&first).starts_with("/login?req="),
        "a new browser sees the sign-in form"
    );
    let back = browser
        .sign_in_via(&idp.base, url.as_str(), " TamTT ", PASSWORD)
        .await;
    assert!(back.starts_with(REDIRECT), "{back}");
    assert_eq!(
        param(&back, "state").as_deref(),
        Some(state.secret().as_str())
    );
    assert_eq!(
        param(&back, "iss").as_deref(),
        Some(idp.base.as_str()),
        "RFC 9207 iss"
    );
    let code = param(&back, "code").unwrap();

    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = tokens.id_token().expect("an ID token");
    let claims = id_token
        .claims(&client.id_token_verifier(), &nonce)
        .unwrap();
    assert_eq!(claims.email().unwrap().as_str(), "tamtt@binhphuoc.gov.vn");
    assert_eq!(claims.email_verified(), Some(true));
    assert_eq!(
        claims.name().unwrap().get(None).unwrap().as_str(),
        "Trương Thanh Tâm"
    );
    assert_eq!(claims.phone_number().unwrap().as_str(), "0888778078");
    assert!(claims.auth_time().is_some());
    let sub = claims.subject().clone();

    let info: CoreUserInfoClaims = client
        .user_info(tokens.access_token().clone(), Some(sub.clone()))
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(info.email().unwrap().as_str(), "tamtt@binhphuoc.gov.vn");

    // Refresh rotates the refresh token; the new ID token keeps the subject.
    let first_refresh = tokens.refresh_token().expect("a refresh token").clone();
    let refreshed = client
        .exchange_refresh_token(&first_refresh)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    let second_refresh = refreshed.refresh_token().unwrap().clone();
    assert_ne!(second_refresh.secret(), first_refresh.secret());
    let again = refreshed
        .id_token()
        .unwrap()
        .claims(&client.id_token_verifier(), |_: Option<&Nonce>| Ok(()))
        .unwrap();
    assert_eq!(again.subject(), &sub);

    // Revoking the refresh token revokes the grant: no more refresh, and its access token is dead.
    // (openidconnect refuses revocation over plain http, so the RFC 7009 request is sent by hand.)
    let revoked = http
        .post(idp.url("/revoke"))
        .basic_auth("vanban", Some(&secret))
        .form(&[
            ("token", second_refresh.secret().as_str()),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    assert!(
        client
            .exchange_refresh_token(&second_refresh)
            .unwrap()
            .request_async(&http)
            .await
            .is_err()
    );
    let dead = http
        .get(idp.url("/userinfo"))
        .bearer_auth(refreshed.access_token().secret())
        .send()
        .await
        .unwrap();
    assert_eq!(dead.status(), StatusCode::UNAUTHORIZED);
    assert!(
        dead.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );

    // Single sign-on: the same browser gets a code without seeing the form.
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let (url, _, _) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .url();
    let resp = browser.get(url.as_str()).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(
        param(&location(&resp), "code").is_some(),
        "signed-in browser gets a code directly"
    );

    // RP-initiated logout with id_token_hint, back to the registered address with state.
    let logout = format!(
        "{}?id_token_hint={}&post_logout_redirect_uri={}&state=xyz",
        idp.url("/logout"),
        id_token,
        BYE
    );
    let resp = browser.get(&logout).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), format!("{BYE}?state=xyz"));

    // Signed out: prompt=none now reports login_required, and the first grant is revoked too.
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let (url, _, _) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .add_extra_param("prompt", "none")
        .url();
    let resp = browser.get(url.as_str()).await;
    assert_eq!(
        param(&location(&resp), "error").as_deref(),
        Some("login_required")
    );
    let after = http
        .get(idp.url("/userinfo"))
        .bearer_auth(tokens.access_token().secret())
        .send()
        .await
        .unwrap();
    assert_eq!(
        after.status(),
        StatusCode::UNAUTHORIZED,
        "sign-out revokes the session's tokens"
    );
}

#[tokio::test]
async fn code_flow_on_sqlite_with_memory_cache() {
    let idp = Idp::spawn(&Backends::default());
    code_flow(&idp).await;
}

#[tokio::test]
async fn code_flow_on_sqlite_with_redis() {
    let redis = Redis::start();
    let idp = Idp::spawn(&Backends {
        redis_url: Some(redis.url.clone()),
        ..Backends::default()
    });
    code_flow(&idp).await;
}

#[tokio::test]
async fn code_flow_on_postgres_with_memory_cache() {
    let pg = Postgres::start();
    let idp = Idp::spawn(&Backends {
        database_url: Some(pg.url.clone()),
        ..Backends::default()
    });
    code_flow(&idp).await;
}

#[tokio::test]
async fn code_flow_on_postgres_with_redis() {
    let pg = Postgres::start();
    let redis = Redis::start();
    let idp = Idp::spawn(&Backends {
        database_url: Some(pg.url.clone()),
        redis_url: Some(redis.url.clone()),
        ..Backends::default()
    });
    code_flow(&idp).await;
}
