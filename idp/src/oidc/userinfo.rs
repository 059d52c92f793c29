//! The UserInfo endpoint (OIDC Core §5.3): the person's claims for a valid
//! access token with the `openid` scope, released by scope (§5.4).
//! The token comes in the `Authorization` header or, on POST, in a
//! form-encoded body (RFC 6750 §2.1, §2.2; OIDC Core §5.3.1); never in the
//! query string, where it would reach logs and `Referer` headers.

use serde_json::{Map, Value};

use super::tokens::{legacy_claim, profile_claims, verify_access};
use super::{OidcError, params};
use crate::Idp;
use crate::ids::UserId;

/// How the request carried its access token.
#[derive(Debug, Default)]
pub struct Presented<'a> {
    /// `Authorization: Bearer …`.
    pub header: Option<&'a str>,
    /// Each `access_token` of a form-encoded POST body.
    pub body: Vec<String>,
    /// `true` when the query string has an `access_token`.
    pub in_query: bool,
}

/// The one access token of the request (RFC 6750 §2: one method only).
pub fn presented_token(p: Presented<'_>) -> Result<String, OidcError> {
    if p.in_query {
        return Err(OidcError::InvalidRequest(
            "the access token is not accepted in the query string; use the Authorization header"
                .into(),
        ));
    }
    let mut all = p.header.map(str::to_owned).into_iter().chain(p.body);
    let token = all
        .next()
        .ok_or_else(|| OidcError::InvalidToken("a bearer token is required".into()))?;
    if all.next().is_some() {
        return Err(OidcError::InvalidRequest(
            "send the access token one way only".into(),
        ));
    }
    params::check(&[("access_token", Some(&token))])
        .map_err(|e| OidcError::InvalidRequest(e.describe()))?;
    Ok(token)
}

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
        .user_by_id(&UserId::from(claims.sub.as_str()))
        .await?
        .filter(|u| !u.is_disabled())
        .ok_or_else(|| OidcError::InvalidToken("the account is disabled".into()))?;
    let scope: Vec<String> = claims.scopes().map(str::to_owned).collect();
    let mut out = profile_claims(&user, &scope);
    // The app of the client the token was issued to, and only that app.
    if let Some((claim, username)) = legacy_claim(idp, &claims.client_id, &user.id).await? {
        out.insert(claim, serde_json::json!(username));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_token_one_way_never_in_the_query() {
        let header = |h| Presented {
            header: Some(h),
            ..Presented::default()
        };
        assert_eq!(presented_token(header("t")).unwrap(), "t");
        let body = Presented {
            body: vec!["b".into()],
            ..Presented::default()
        };
        assert_eq!(presented_token(body).unwrap(), "b");
        let both = Presented {
            header: Some("t"),
            body: vec!["b".into()],
            ..Presented::default()
        };
        assert!(matches!(
            presented_token(both),
            Err(OidcError::InvalidRequest(_))
        ));
        let twice = Presented {
            body: vec!["b".into(), "c".into()],
            ..Presented::default()
        };
        assert!(matches!(
            presented_token(twice),
            Err(OidcError::InvalidRequest(_))
        ));
        let query = Presented {
            in_query: true,
            ..header("t")
        };
        assert!(matches!(
            presented_token(query),
            Err(OidcError::InvalidRequest(_))
        ));
        assert!(matches!(
            presented_token(Presented::default()),
            Err(OidcError::InvalidToken(_))
        ));
        assert!(matches!(
            presented_token(header(&"a".repeat(4097))),
            Err(OidcError::InvalidRequest(_))
        ));
    }
}
