//! `authenticate`: each client uses the method it registered; a secret is
//! checked; a `private_key_jwt` assertion is for our issuer alone, short-lived
//! by the clock, and used once.

use serde_json::json;

use crate::jose::{Alg, SigningKey};
use crate::kinds::ClientAuthMethod;
use crate::oidc::OidcError;
use crate::oidc::client_auth::{JWT_BEARER, Presented, authenticate};
use crate::testing::TestIdp;

fn refused(r: &Result<crate::store::Client, OidcError>) -> bool {
    matches!(r, Err(OidcError::InvalidClient { .. }))
}

#[tokio::test]
async fn secrets_by_the_registered_method_only() {
    let t = TestIdp::new().await;
    let basic = t
        .add_client("vanban", ClientAuthMethod::ClientSecretBasic, |_| {})
        .await;
    let post = t
        .add_client("lich", ClientAuthMethod::ClientSecretPost, |_| {})
        .await;
    let now = t.now();
    let by_basic = |id: &str, s: &str| Presented {
        basic: Some((id.into(), s.into())),
        ..Presented::default()
    };
    let by_post = |id: &str, s: &str| Presented {
        client_id: Some(id.into()),
        client_secret: Some(s.into()),
        ..Presented::default()
    };
    let idp = &t.idp;
    assert!(
        authenticate(idp, &by_basic("vanban", &basic), now)
            .await
            .is_ok()
    );
    assert!(
        authenticate(idp, &by_post("lich", &post), now)
            .await
            .is_ok()
    );
    assert!(refused(
        &authenticate(idp, &by_basic("vanban", &post), now).await
    ));
    assert!(refused(
        &authenticate(idp, &by_basic("vanban", ""), now).await
    ));
    assert!(
        refused(&authenticate(idp, &by_post("vanban", &basic), now).await),
        "not its method"
    );
    assert!(
        refused(&authenticate(idp, &by_basic("lich", &post), now).await),
        "not its method"
    );
    assert!(refused(
        &authenticate(idp, &by_basic("nobody", &basic), now).await
    ));
    let mismatch = Presented {
        client_id: Some("lich".into()),
        ..by_basic("vanban", &basic)
    };
    assert!(refused(&authenticate(idp, &mismatch, now).await));
}

#[tokio::test]
async fn a_private_key_jwt_assertion_is_for_us_short_lived_and_used_once() {
    let t = TestIdp::new().await;
    let (key, _) = SigningKey::generate("app-key".into(), Alg::ES256).unwrap();
    let jwks = json!({ "keys": [key.public_jwk()] }).to_string();
    t.add_client("vanban", ClientAuthMethod::PrivateKeyJwt, |c| {
        c.secret_hash = None;
        c.jwks = Some(jwks);
    })
    .await;
    let issuer = t.idp.config.issuer().to_owned();
    let assertion = |aud: serde_json::Value, exp: i64, jti: &str| Presented {
        assertion_type: Some(JWT_BEARER.into()),
        assertion: Some(
            key.sign(
                "JWT",
                &json!({ "iss": "vanban", "sub": "vanban", "aud": aud, "exp": exp, "jti": jti }),
            )
            .unwrap(),
        ),
        ..Presented::default()
    };
    let now = t.now();
    let idp = &t.idp;
    let ok = assertion(json!(issuer), now + 60, "j1");
    assert!(authenticate(idp, &ok, now).await.is_ok());
    assert!(
        refused(&authenticate(idp, &ok, now).await),
        "a jti is used once"
    );

    let token_url = format!("{issuer}/token");
    for (aud, why) in [
        (json!(token_url), "an endpoint URL"),
        (json!([issuer]), "a list"),
        (json!("https://other.example"), "another server"),
    ] {
        let a = assertion(aud, now + 60, why);
        assert!(refused(&authenticate(idp, &a, now).await), "aud as {why}");
    }
    let long = assertion(json!(issuer), now + 601, "j-long");
    assert!(
        refused(&authenticate(idp, &long, now).await),
        "too long-lived"
    );

    // Expiry by the clock: valid now, refused once its exp has passed.
    let soon = assertion(json!(issuer), now + 30, "j-soon");
    t.advance(30);
    assert!(refused(&authenticate(idp, &soon, t.now()).await), "expired");
}
