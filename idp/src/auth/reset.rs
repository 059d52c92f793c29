//! Forgotten passwords: a local account gets a single-use link (30 minutes)
//! to its official mailbox; a person whose password belongs to the mail
//! directory is told to change it there.
//!
//! - The request does the same work whatever the account: it counts the
//!   request (per account as typed, in the cache) and hands the rest to a
//!   background task, so neither the answer nor its timing says whether the
//!   account exists, is disabled or is in the directory.
//! - One live link per person: the cache keeps, per person, the hash of the
//!   newest link; an older link dies when a newer one is issued or one is
//!   used. A link also holds a fingerprint of the password hash it was issued
//!   under, so any change of password (by any path) ends it. A disabled
//!   account gets none and cannot use one it got before.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::Idp;
use crate::audit::Kind;
use crate::auth::password::PasswordError;
use crate::auth::{account, policy};
use crate::cache::{CacheBackend, CacheError, keys};
use crate::crypto::{self, CryptoError};
use crate::ids::Email;
use crate::ids::UserId;
use crate::kinds::UserSource;
use crate::mail;
use crate::oidc::{OidcError, logout};
use crate::store::{StoreError, User};

/// How long a reset link works.
pub const LINK_MINUTES: u64 = 30;
/// Reset requests per account (as typed) per hour.
const REQUESTS_PER_HOUR: i64 = 3;

#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    SignOut(#[from] OidcError),
}

/// Who asked, for the audit log.
pub use crate::audit::Who as Asker;

/// What the cache keeps for a link, under the hash of its token.
#[derive(Debug, Serialize, Deserialize)]
struct Link {
    user_id: UserId,
    /// SHA-256 of the password hash when the link was issued.
    password: String,
}

fn fingerprint(user: &User) -> String {
    crypto::sha256_b64(user.password_hash.as_deref().unwrap_or_default().as_bytes())
}

/// What the "forgot your password" form answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forgot {
    /// "If the account exists, a link is on its way": the same for every account.
    Sent,
    /// No mail server is configured, so no link can go out.
    NoMail,
}

/// The "forgot your password" form: the same answer and the same work for
/// every account ([`request`]); a failure to queue is said as "sent" like
/// every other case, and the admin reads the log.
pub async fn forgot(idp: &Arc<Idp>, typed: &str, asker: Asker, now: i64) -> Forgot {
    if idp.mailer.is_none() {
        return Forgot::NoMail;
    }
    let request_id = asker.request_id.clone();
    if let Err(e) = request(idp, typed, asker, now).await {
        tracing::error!(request_id = %request_id, error = %e, "password reset not queued");
    }
    Forgot::Sent
}

/// "Forgot your password" for whatever was typed: counted, then handed to
/// the background. Returns once the request is queued; the caller answers
/// the same page in every case.
pub async fn request(
    idp: &Arc<Idp>,
    typed: &str,
    asker: Asker,
    now: i64,
) -> Result<(), ResetError> {
    let account = account::normalize(typed, idp.config.email_domain.as_deref())
        .map_or_else(|_| typed.trim().to_lowercase(), String::from);
    let account: String = account.chars().take(320).collect();
    let count = idp
        .cache
        .incr(&keys::reset_count(&account), Duration::from_secs(3600))
        .await?;
    if count > REQUESTS_PER_HOUR {
        return Ok(());
    }
    let idp = Arc::clone(idp);
    tokio::spawn(async move {
        if let Err(e) = send(&idp, &account, &asker, now).await {
            tracing::error!(request_id = %asker.request_id, error = %e, "password reset not sent");
        }
    });
    Ok(())
}

/// Mails the link (or the directory's advice) to an account that exists and
/// is not disabled; nothing otherwise.
async fn send(idp: &Idp, email: &str, asker: &Asker, now: i64) -> Result<(), ResetError> {
    // Not an address: nobody to mail (the same answer in every case).
    let Ok(email) = Email::parse(email) else {
        return Ok(());
    };
    let Some(user) = idp
        .store
        .user_by_email(&email)
        .await?
        .filter(|u| !u.is_disabled())
    else {
        return Ok(());
    };
    let mail = if resettable(&user) {
        let token = crypto::random_token()?;
        let hash = crypto::sha256_b64(token.as_bytes());
        let ttl = Duration::from_secs(LINK_MINUTES * 60);
        let link = Link {
            user_id: user.id.clone(),
            password: fingerprint(&user),
        };
        idp.cache
            .set_json(&keys::reset_link_by_hash(&hash), &link, ttl)
            .await?;
        // The newest link is the live one: any older link dies here.
        idp.cache
            .set(&keys::reset_live(&user.id), hash.as_bytes(), ttl)
            .await?;
        let url = format!("{}/password/reset?token={token}", idp.config.issuer());
        mail::reset_link(&url, LINK_MINUTES)
    } else {
        mail::reset_in_directory()
    };
    mail::queue(idp, &user.email, &mail).await?;
    audit(idp, asker, Kind::PasswordResetRequested, &user, None, now).await;
    Ok(())
}

/// A password kept here (not in the directory) may be reset here.
fn resettable(user: &User) -> bool {
    user.source == UserSource::Local && user.password_hash.is_some()
}

/// The person a link works for now, or `None`: unknown, used, expired,
/// superseded by a newer link, issued before the password last changed, or
/// the account is disabled or no longer local.
pub async fn link_owner(idp: &Idp, token: &str) -> Result<Option<User>, ResetError> {
    if token.is_empty() || token.len() > 128 {
        return Ok(None);
    }
    let hash = crypto::sha256_b64(token.as_bytes());
    let Some(link) = idp
        .cache
        .get_json::<Link>(&keys::reset_link_by_hash(&hash))
        .await?
    else {
        return Ok(None);
    };
    let live = idp.cache.get(&keys::reset_live(&link.user_id)).await?;
    if live.as_deref() != Some(hash.as_bytes()) {
        return Ok(None);
    }
    let user = idp.store.user_by_id(&link.user_id).await?;
    Ok(user.filter(|u| !u.is_disabled() && resettable(u) && fingerprint(u) == link.password))
}

/// Why a new password was not set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The link does not work (any more).
    Link,
    Differ,
    /// The one policy of `auth::policy` refused it; the page says which rule.
    Weak(policy::Weak),
}

/// Sets a new password through a link: the link is spent (it and every
/// other link of the person die), every session of the person ends and every
/// grant is revoked, the owner is told.
pub async fn reset(
    idp: &Idp,
    token: &str,
    password: String,
    repeat: String,
    asker: &Asker,
    now: i64,
) -> Result<Result<(), Refused>, ResetError> {
    let Some(user) = link_owner(idp, token).await? else {
        return Ok(Err(Refused::Link));
    };
    if password != repeat {
        return Ok(Err(Refused::Differ));
    }
    // NFC-normalised by the policy, so the hash matches however it is typed.
    let password = match policy::check(&password, &user.email) {
        Ok(p) => p,
        Err(weak) => return Ok(Err(Refused::Weak(weak))),
    };
    // Taken only now, so a typo above does not spend the link; taken, so it works once.
    let hash = crypto::sha256_b64(token.as_bytes());
    if idp
        .cache
        .take_json::<Link>(&keys::reset_link_by_hash(&hash))
        .await?
        .is_none()
    {
        return Ok(Err(Refused::Link));
    }
    idp.cache.delete(&keys::reset_live(&user.id)).await?;
    let new_hash = idp.hasher.hash(password).await?;
    idp.store
        .set_password_hash(&user.id, &new_hash, now)
        .await?;
    let ended = logout::sign_out_others(idp, &user.id, None, asker.ip.clone(), now).await?;
    audit(
        idp,
        asker,
        Kind::PasswordReset,
        &user,
        Some(format!("{ended} sessions ended")),
        now,
    )
    .await;
    let when = crate::portal::account::vn_time(now);
    mail::notify(idp, &user.email, &mail::password_changed(&when)).await;
    Ok(Ok(()))
}

async fn audit(
    idp: &Idp,
    asker: &Asker,
    kind: Kind,
    user: &User,
    detail: Option<String>,
    now: i64,
) {
    asker.audit(idp, kind, user, detail, now).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_passwords_are_long_and_not_the_account_name() {
        let ok = |p: &str| policy::check(p, "tamtt@binhphuoc.gov.vn").is_ok();
        assert!(ok("Mật-khẩu-2024!"));
        assert!(!ok("ngắn-quá"));
        assert!(!ok("TAMTT-2024-abc"));
        // The same list as the command line's.
        assert!(!ok("matkhau@123"));
    }
}
