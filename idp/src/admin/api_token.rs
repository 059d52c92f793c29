//! Who calls the JSON admin API: an access token this IdP issued (the ES256
//! `at+jwt` of the token endpoint, verified like `/userinfo` does: signature,
//! `typ`, issuer, expiry, revocation) that carries the `admin` scope, for a
//! person (not a client acting for itself) whose grant is live and was
//! signed in with a second factor (`acr` 2), who is active and holds a role.
//! The caller then has the same [`Powers`] as in the console. The signing
//! API checks its callers the same way with the `sign` scope ([`person`]).

use super::roles::Powers;
use crate::Idp;
use crate::auth::mfa;
use crate::ids::UserId;
use crate::oidc::{ADMIN_SCOPE, OidcError, tokens};
use crate::store::{StoreError, User};

#[derive(Debug, thiserror::Error)]
pub enum ApiAuthError {
    /// Missing, forged, expired, revoked, or not a person's token (401).
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// The token lacks the scope the API wants (403).
    #[error("the {0} scope is required")]
    InsufficientScope(&'static str),
    /// The sign-in behind the token had no second factor (401, RFC 9470).
    #[error("a sign-in with a second factor (acr 2) is required")]
    NeedsSecondFactor,
    /// A person without a console role (403).
    #[error("the person has no console role")]
    NoRole,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("token check failed: {0}")]
    Check(String),
}

/// The person behind `bearer`, and their powers.
pub async fn caller(
    idp: &Idp,
    bearer: Option<&str>,
    now: i64,
) -> Result<(User, Powers), ApiAuthError> {
    let user = person(idp, bearer, ADMIN_SCOPE, now).await?.user;
    let powers = Powers::load(&idp.store, &user).await?;
    if !powers.any() {
        return Err(ApiAuthError::NoRole);
    }
    Ok((user, powers))
}

/// The person behind a token, the app that holds it, and when they last
/// proved who they are (the grant's `auth_time`).
#[derive(Debug)]
pub struct TokenPerson {
    pub user: User,
    pub client_id: String,
    pub auth_time: i64,
}

/// The active person behind `bearer`, a live access token of this IdP with
/// `scope` from a sign-in with a second factor.
pub async fn person(
    idp: &Idp,
    bearer: Option<&str>,
    scope: &'static str,
    now: i64,
) -> Result<TokenPerson, ApiAuthError> {
    let bearer = bearer
        .filter(|b| !b.is_empty())
        .ok_or_else(|| ApiAuthError::InvalidToken("a bearer token is required".into()))?;
    if bearer.len() > 4096 {
        return Err(ApiAuthError::InvalidToken("the token is too long".into()));
    }
    let claims = match tokens::verify_access(idp, bearer, now).await {
        Ok(c) => c,
        Err(OidcError::InvalidToken(why)) => return Err(ApiAuthError::InvalidToken(why)),
        Err(e) => return Err(ApiAuthError::Check(e.to_string())),
    };
    let Some(gid) = claims.gid.as_deref().filter(|_| claims.has_user()) else {
        return Err(ApiAuthError::InvalidToken(
            "the token does not represent a person".into(),
        ));
    };
    if !claims.scopes().any(|s| s == scope) {
        return Err(ApiAuthError::InsufficientScope(scope));
    }
    // The grant is the server's record of the sign-in: its acr, and whether it lives.
    let grant = idp
        .store
        .grant(gid)
        .await?
        .filter(|g| g.revoked_at.is_none() && g.user_id.as_str() == claims.sub)
        .ok_or_else(|| ApiAuthError::InvalidToken("the token was revoked".into()))?;
    if grant.acr != mfa::ACR_MFA {
        return Err(ApiAuthError::NeedsSecondFactor);
    }
    let user = idp
        .store
        .user_by_id(&UserId::from(claims.sub.as_str()))
        .await?
        .filter(|u| !u.is_disabled())
        .ok_or_else(|| ApiAuthError::InvalidToken("the account is disabled".into()))?;
    Ok(TokenPerson {
        user,
        client_id: claims.client_id,
        auth_time: grant.auth_time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::{ClientAuthMethod, Role};
    use crate::oidc::tokens::AccessGrant;
    use crate::store::Grant;
    use crate::testing::TestIdp;

    /// A grant of `acr` in a live session, and an access token of `scope` for it.
    async fn token(t: &TestIdp, user: &str, scope: &str, acr: &str) -> String {
        let uid = UserId::from(user);
        let (_, sess) = t.sign_in(&uid).await;
        let gid = crate::crypto::random_id().unwrap();
        let g = Grant {
            id: gid.clone(),
            client_id: "console-cli".into(),
            user_id: uid,
            sid: Some(sess.sid.clone()),
            scope: scope.into(),
            auth_time: t.now(),
            amr: vec!["pwd".into()],
            acr: acr.into(),
            created_at: t.now(),
            expires_at: t.now() + 3600,
            revoked_at: None,
        };
        assert!(t.idp.store.create_grant(&g, None).await.unwrap());
        let ring = t.idp.keys.ring();
        let (jwt, _) = tokens::mint_access(
            &t.idp,
            &ring,
            &AccessGrant {
                sub: user,
                client_id: "console-cli",
                audience: None,
                scope,
                auth_time: Some(t.now()),
                sid: Some(&sess.sid),
                gid: Some(&gid),
            },
            t.now(),
        )
        .unwrap();
        jwt
    }

    #[tokio::test]
    async fn only_a_live_admin_token_of_a_person_with_a_role_and_a_second_factor_passes() {
        let t = TestIdp::new().await;
        t.add_client("console-cli", ClientAuthMethod::ClientSecretBasic, |_| {})
            .await;
        let boss = t.add_person("boss").await;
        let tam = t.add_person("tam").await;
        t.idp
            .store
            .grant_role(&UserId::from(boss.as_str()), Role::Auditor, "cli", 1)
            .await
            .unwrap();
        let now = t.now();
        let good = token(&t, &boss, "openid admin", "2").await;
        let (user, powers) = caller(&t.idp, Some(&good), now).await.unwrap();
        assert_eq!(user.id.as_str(), boss);
        assert!(powers.has(Role::Auditor));

        let refused = |r: Result<(User, Powers), ApiAuthError>| r.err().map(|e| e.to_string());
        assert!(matches!(
            caller(&t.idp, None, now).await,
            Err(ApiAuthError::InvalidToken(_))
        ));
        // Forged: the signature no longer matches.
        let mut forged = good.clone();
        forged.pop();
        forged.push(if good.ends_with('A') { 'B' } else { 'A' });
        assert!(matches!(
            caller(&t.idp, Some(&forged), now).await,
            Err(ApiAuthError::InvalidToken(_))
        ));
        // No admin scope; a sign-in without a second factor; no role.
        let plain = token(&t, &boss, "openid", "2").await;
        assert!(matches!(
            caller(&t.idp, Some(&plain), now).await,
            Err(ApiAuthError::InsufficientScope("admin"))
        ));
        let weak = token(&t, &boss, "openid admin", "1").await;
        assert!(matches!(
            caller(&t.idp, Some(&weak), now).await,
            Err(ApiAuthError::NeedsSecondFactor)
        ));
        let nobody = token(&t, &tam, "openid admin", "2").await;
        assert!(matches!(
            caller(&t.idp, Some(&nobody), now).await,
            Err(ApiAuthError::NoRole)
        ));
        // Expired.
        t.advance(t.idp.config.tokens.access_ttl_secs + 1);
        let e = refused(caller(&t.idp, Some(&good), t.now()).await);
        assert_eq!(e.as_deref(), Some("invalid token: the token has expired"));
    }
}
