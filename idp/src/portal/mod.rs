//! The portal's pages as domain steps: sign-in, the app-picker, the account
//! page and the sign-out progress.

pub mod account;
pub mod apps;
pub mod login;
pub mod signout;

use crate::Idp;
use crate::auth::session::{self, SsoSession};
use crate::store::User;

#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    #[error(transparent)]
    Session(#[from] session::SessionError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// The live session behind `cookie` and its person, or `None` (session over,
/// person gone or disabled).
pub async fn signed_in(
    idp: &Idp,
    cookie: &str,
    now: i64,
) -> Result<Option<(SsoSession, User)>, PortalError> {
    let Some(sess) = session::load(&idp.cache, &idp.config.session, cookie, now).await? else {
        return Ok(None);
    };
    let user = idp.store.user_by_id(&sess.user_id).await?;
    Ok(user.filter(|u| !u.is_disabled()).map(|u| (sess, u)))
}
