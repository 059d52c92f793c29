//! Token revocation (RFC 7009). Revoking a refresh token revokes its whole
//! grant, access tokens included (§2.1). The answer is 200 whether or not
//! the token was known (§2.2), so it reveals nothing. A public client may
//! revoke its own tokens (§2.1: holding the token is what it proves); no
//! client can revoke another client's.

use super::introspection::{TokenForm, looks_like_jwt};
use super::tokens::{self, verify_access};
use super::{OidcError, client_auth};
use crate::Idp;
use crate::crypto;

pub async fn revoke(
    idp: &Idp,
    form: TokenForm,
    basic: Option<(String, String)>,
    now: i64,
) -> Result<(), OidcError> {
    form.check_lengths()?;
    let client = client_auth::authenticate(idp, &form.presented(basic), now).await?;
    let token = form
        .token
        .ok_or_else(|| OidcError::InvalidRequest("token is required".into()))?;
    if looks_like_jwt(&token) {
        match verify_access(idp, &token, now).await {
            Ok(c) if c.client_id == client.id => tokens::revoke_access(idp, &c, now).await?,
            Ok(_) | Err(OidcError::InvalidToken(_)) => {}
            Err(e) => return Err(e),
        }
        return Ok(());
    }
    if let Some((grant, _)) = idp
        .store
        .refresh_token(&crypto::sha256_b64(token.as_bytes()))
        .await?
        && grant.client_id == client.id
    {
        tokens::revoke_grant(idp, &grant.id, "revoked by the client", now).await?;
    }
    Ok(())
}
