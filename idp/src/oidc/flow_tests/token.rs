//! `exchange`: a code is redeemed once (a replay revokes what it gave), by
//! its own client, with its PKCE verifier, before it expires (by the clock,
//! no sleep); refresh tokens rotate, and a reused one revokes the family.

use super::{code, redeem, refresh, signed_in};
use crate::kinds::ClientAuthMethod;
use crate::oidc::OidcError;

#[tokio::test]
async fn a_code_is_redeemed_once_and_a_replay_revokes_its_tokens() {
    let (t, sess, secret, _) = signed_in("vanban").await;
    let (code, verifier) = code(&t, "vanban", &sess).await;
    let first = redeem(&t, "vanban", &secret, &code, &verifier)
        .await
        .unwrap();
    assert!(first.id_token.is_some());
    let rt = first.refresh_token.clone().expect("a refresh token");

    let again = redeem(&t, "vanban", &secret, &code, &verifier).await;
    assert!(
        matches!(again, Err(OidcError::InvalidGrant(_))),
        "{again:?}"
    );
    let after = refresh(&t, "vanban", &secret, &rt).await;
    assert!(
        matches!(after, Err(OidcError::InvalidGrant(_))),
        "the replay revoked the first redemption's grant: {after:?}"
    );
}

#[tokio::test]
async fn a_code_expires_with_the_clock() {
    let (t, sess, secret, _) = signed_in("vanban").await;
    let ttl = t.idp.config.tokens.code_ttl_secs;
    let (code1, verifier1) = code(&t, "vanban", &sess).await;
    let (code2, verifier2) = code(&t, "vanban", &sess).await;
    t.advance(ttl - 1);
    assert!(
        redeem(&t, "vanban", &secret, &code1, &verifier1)
            .await
            .is_ok(),
        "live one second before its end"
    );
    t.advance(1);
    let late = redeem(&t, "vanban", &secret, &code2, &verifier2).await;
    assert!(matches!(late, Err(OidcError::InvalidGrant(_))), "{late:?}");
}

#[tokio::test]
async fn a_code_needs_its_verifier_and_its_own_client() {
    let (t, sess, secret, _) = signed_in("vanban").await;
    let other = t
        .add_client("lichcongtac", ClientAuthMethod::ClientSecretBasic, |_| {})
        .await;
    let (code1, verifier) = code(&t, "vanban", &sess).await;
    let wrong = redeem(&t, "vanban", &secret, &code1, &"x".repeat(64)).await;
    assert!(
        matches!(wrong, Err(OidcError::InvalidGrant(_))),
        "{wrong:?}"
    );
    let (code2, verifier2) = code(&t, "vanban", &sess).await;
    let stolen = redeem(&t, "lichcongtac", &other, &code2, &verifier2).await;
    assert!(
        matches!(stolen, Err(OidcError::InvalidGrant(_))),
        "{stolen:?}"
    );
    // A failed redemption spent the code: the right verifier is too late.
    let spent = redeem(&t, "vanban", &secret, &code1, &verifier).await;
    assert!(
        matches!(spent, Err(OidcError::InvalidGrant(_))),
        "{spent:?}"
    );
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let (t, sess, secret, _) = signed_in("vanban").await;
    let (code, verifier) = code(&t, "vanban", &sess).await;
    let rt1 = redeem(&t, "vanban", &secret, &code, &verifier)
        .await
        .unwrap()
        .refresh_token
        .unwrap();
    t.advance(30);
    let rt2 = refresh(&t, "vanban", &secret, &rt1)
        .await
        .unwrap()
        .refresh_token
        .unwrap();
    assert_ne!(rt1, rt2, "rotated");
    let reused = refresh(&t, "vanban", &secret, &rt1).await;
    assert!(
        matches!(reused, Err(OidcError::InvalidGrant(_))),
        "{reused:?}"
    );
    let heir = refresh(&t, "vanban", &secret, &rt2).await;
    assert!(
        matches!(heir, Err(OidcError::InvalidGrant(_))),
        "reuse revoked the whole family: {heir:?}"
    );
}

#[tokio::test]
async fn a_refresh_family_ends_with_its_lifetime() {
    let (t, sess, secret, _) = signed_in("vanban").await;
    let (code, verifier) = code(&t, "vanban", &sess).await;
    let rt = redeem(&t, "vanban", &secret, &code, &verifier)
        .await
        .unwrap()
        .refresh_token
        .unwrap();
    t.advance(t.idp.config.tokens.refresh_ttl_secs);
    let late = refresh(&t, "vanban", &secret, &rt).await;
    assert!(matches!(late, Err(OidcError::InvalidGrant(_))), "{late:?}");
}
