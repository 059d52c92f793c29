//! Signing out: the session ends (in the cache and its row) and so do the
//! grants made in it; RP-initiated logout goes back only to a registered
//! address, with the app's `state`.

use super::{code, redeem, refresh, signed_in};
use crate::auth::session;
use crate::oidc::OidcError;
use crate::oidc::logout::{EndSessionRequest, LogoutStep, end_session, sign_out};

#[tokio::test]
async fn signing_out_ends_the_session_and_its_grants() {
    let (t, sess, secret, cookie) = signed_in("vanban").await;
    let (code, verifier) = code(&t, "vanban", &sess).await;
    let rt = redeem(&t, "vanban", &secret, &code, &verifier)
        .await
        .unwrap()
        .refresh_token
        .unwrap();
    let out = sign_out(&t.idp, &cookie, Some("tamtt"), None, t.now())
        .await
        .unwrap()
        .expect("a session ended");
    assert_eq!(out.sess.sid, sess.sid);
    let cfg = &t.idp.config.session;
    assert!(
        session::load(&t.idp.cache, cfg, &cookie, t.now())
            .await
            .unwrap()
            .is_none()
    );
    let after = refresh(&t, "vanban", &secret, &rt).await;
    assert!(
        matches!(after, Err(OidcError::InvalidGrant(_))),
        "{after:?}"
    );
    // Twice is fine: nothing left to end.
    assert!(
        sign_out(&t.idp, &cookie, None, None, t.now())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn rp_initiated_logout_returns_only_to_a_registered_address() {
    let (t, sess, secret, cookie) = signed_in("vanban").await;
    let (code, verifier) = code(&t, "vanban", &sess).await;
    let id_token = redeem(&t, "vanban", &secret, &code, &verifier)
        .await
        .unwrap()
        .id_token
        .unwrap();
    let req = |to: &str| EndSessionRequest {
        id_token_hint: Some(id_token.clone()),
        post_logout_redirect_uri: Some(to.into()),
        state: Some("bye-1".into()),
        ..EndSessionRequest::default()
    };
    let bad = end_session(
        &t.idp,
        &req("https://evil.example/"),
        Some(&cookie),
        true,
        None,
        t.now(),
    )
    .await
    .unwrap();
    assert!(matches!(bad, LogoutStep::Refuse(_)), "{bad:?}");

    let done = end_session(
        &t.idp,
        &req("https://vanban.binhphuoc.gov.vn/"),
        Some(&cookie),
        true,
        None,
        t.now(),
    )
    .await
    .unwrap();
    let LogoutStep::Done {
        redirect: Some(to),
        signed_out: Some(out),
    } = done
    else {
        panic!("{done:?}")
    };
    assert_eq!(to, "https://vanban.binhphuoc.gov.vn/?state=bye-1");
    assert_eq!(out.sess.sid, sess.sid);
}
