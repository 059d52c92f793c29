//! The UserInfo endpoint (OIDC Core §5.3): the person's claims for a valid
//! access token with the `openid` scope, released by scope (§5.4).

use serde_json::{Map, Value};

use super::OidcError;
use super::tokens::{profile_claims, verify_access};
use crate::Idp;

pub async fn userinfo(idp: &Idp, bearer: &str, now: i64) -> Result<Map<String, Value>, OidcError> {
    let claims = verify_access(idp, bearer, now).await?;
    if !claims.has_user() {
        return Err(OidcError::InvalidToken(
            "the token does not represent a person".into(),
        ));
    }
    if !claims.scopes().any(|s| s == "openid") {
        return Err(OidcError::InsufficientScope(
            "the openid scope is required".into(),
        ));
    }
    let user = idp
        .store
        .user_by_id(&claims.sub)
        .await?
        .filter(|u| !u.is_disabled())
        .ok_or_else(|| OidcError::InvalidToken("the account is disabled".into()))?;
    let scope: Vec<String> = claims.scopes().map(str::to_owned).collect();
    Ok(profile_claims(&user, &scope))
}
