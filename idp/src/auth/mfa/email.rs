//! Codes by e-mail: six digits, ten minutes, five tries, one new code per
//! 30 seconds; kept in the cache only as a hash, bound to what they are for
//! and (for enrolment, bootstrap and re-checks) to the browser that asked.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::totp::digits;
use super::{EMAIL_CODE_MINUTES, EMAIL_CODE_TRIES, EMAIL_RESEND_SECS, MfaError};
use crate::Idp;
use crate::cache::{CacheBackend, keys};
use crate::crypto::{self, CryptoError};
use crate::ids::UserId;
use crate::mail;

#[derive(Serialize, Deserialize)]
pub(super) struct EmailCode {
    pub(super) hash: String,
    pub(super) address: String,
    pub(super) tries: u32,
    pub(super) sent_at: i64,
}

/// What an e-mailed code is for. Codes for enrolment, the bootstrap and a
/// re-check are bound to the scope (the browser) that asked.
pub type Purpose<'a> = keys::CodePurpose<'a>;

#[derive(Debug, PartialEq, Eq)]
pub enum Sent {
    Sent,
    /// A code went out less than this many seconds ago.
    TooSoon(u64),
    /// No mail server is configured.
    NoMail,
}

/// Mails a six-digit code to `address`. `purpose` keeps a sign-in code
/// apart from one confirming a new address.
pub async fn send_email_code(
    idp: &Idp,
    user_id: &UserId,
    purpose: &Purpose<'_>,
    address: &str,
    now: i64,
) -> Result<Sent, MfaError> {
    if idp.mailer.is_none() {
        return Ok(Sent::NoMail);
    }
    let key = keys::email_code(user_id, *purpose);
    if let Some(prev) = idp.cache.get_json::<EmailCode>(&key).await?
        && now - prev.sent_at < EMAIL_RESEND_SECS
    {
        return Ok(Sent::TooSoon(
            u64::try_from(EMAIL_RESEND_SECS - (now - prev.sent_at)).unwrap_or(1),
        ));
    }
    let r = crypto::random_bytes(8)?;
    let n = u64::from_le_bytes(r.try_into().map_err(|_| CryptoError::Random)?) % 1_000_000;
    let code = format!("{n:06}");
    let entry = EmailCode {
        hash: crypto::sha256_b64(code.as_bytes()),
        address: address.to_owned(),
        tries: 0,
        sent_at: now,
    };
    idp.cache
        .set_json(&key, &entry, Duration::from_secs(EMAIL_CODE_MINUTES * 60))
        .await?;
    // A new code, new tries.
    idp.cache
        .delete(&keys::email_code_tries(user_id, *purpose))
        .await?;
    mail::queue(idp, address, &mail::code(&code, EMAIL_CODE_MINUTES)).await?;
    Ok(Sent::Sent)
}

#[derive(Debug, PartialEq, Eq)]
pub enum CodeCheck {
    /// Right; the address it was sent to.
    Right(String),
    Wrong,
    /// No code is waiting (never sent, expired, used, or too many wrong tries).
    Missing,
}

pub async fn check_email_code(
    idp: &Idp,
    user_id: &UserId,
    purpose: &Purpose<'_>,
    code: &str,
    now: i64,
) -> Result<CodeCheck, MfaError> {
    let key = keys::email_code(user_id, *purpose);
    let Some(entry) = idp.cache.get_json::<EmailCode>(&key).await? else {
        return Ok(CodeCheck::Missing);
    };
    let left = i64::try_from(EMAIL_CODE_MINUTES * 60).unwrap_or(600) - (now - entry.sent_at);
    // The try is reserved before the comparison: of parallel guesses only the
    // first five are compared, and the code is void after them.
    let ttl = Duration::from_secs(u64::try_from(left).unwrap_or(1).max(1));
    let tries = idp
        .cache
        .incr(&keys::email_code_tries(user_id, *purpose), ttl)
        .await?;
    if tries > i64::from(EMAIL_CODE_TRIES) || left <= 0 {
        idp.cache.delete(&key).await?;
        return Ok(CodeCheck::Missing);
    }
    if crypto::ct_eq(
        crypto::sha256_b64(digits(code).as_bytes()).as_bytes(),
        entry.hash.as_bytes(),
    ) {
        // Taken, so two nodes cannot both accept it.
        return Ok(match idp.cache.take_json::<EmailCode>(&key).await? {
            Some(e) if e.hash == entry.hash => CodeCheck::Right(e.address),
            _ => CodeCheck::Missing,
        });
    }
    if tries >= i64::from(EMAIL_CODE_TRIES) {
        idp.cache.delete(&key).await?;
    }
    Ok(CodeCheck::Wrong)
}

/// Hides most of an address: `n***@gmail.com`.
pub fn mask(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}
