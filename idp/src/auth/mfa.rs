//! Second factors: an authenticator app (TOTP, RFC 6238), one-time codes by
//! e-mail, and recovery codes for when the phone is lost. Who needs one: the
//! people the policy names (administrators, configured groups), everyone who
//! has enrolled a factor, and everyone signing in to an app that requires it
//! or asks for it with `acr_values=2`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use totp_rs::{Builder, Totp};

use crate::Idp;
use crate::cache::{CacheBackend, CacheError};
use crate::crypto::{self, CryptoError, Seal};
use crate::mail;
use crate::store::{Factor, StoreError, User};

/// `acr` of a session signed in with a password only.
pub const ACR_PASSWORD: &str = "1";
/// `acr` of a session that also used a second factor.
pub const ACR_MFA: &str = "2";
pub const TOTP: &str = "totp";
pub const EMAIL: &str = "email";

/// How long an e-mailed code lives.
pub const EMAIL_CODE_MINUTES: u64 = 10;
/// Wrong codes (any factor) before a person's second factors pause.
const MAX_FAILURES: i64 = 10;
const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Wrong guesses at one e-mailed code before it is void.
const EMAIL_CODE_TRIES: u32 = 5;
/// A new e-mailed code at most this often.
const EMAIL_RESEND_SECS: i64 = 30;
const RECOVERY_CODES: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("authenticator key: {0}")]
    Totp(String),
}

/// What proved the second factor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Totp,
    Email,
    Recovery,
}

impl Method {
    /// The `amr` values (RFC 8176) of a password plus this factor.
    pub fn amr(self) -> Vec<String> {
        let second = match self {
            Method::Totp => "otp",
            Method::Email => "mail",
            Method::Recovery => "rc",
        };
        vec!["pwd".into(), second.into(), "mfa".into()]
    }
}

/// `true` when the person must use a second factor whatever the app:
/// administrators always (the admin console and signing are theirs to
/// protect), members of the configured groups, and whoever enrolled one.
pub async fn required_for(idp: &Idp, user: &User, factors: &[Factor]) -> Result<bool, StoreError> {
    let policy = &idp.config.mfa;
    if !factors.is_empty() || user.is_admin() {
        return Ok(true);
    }
    if policy.groups.is_empty() {
        return Ok(false);
    }
    let groups = idp.store.groups_of(&user.id).await?;
    Ok(groups.iter().any(|g| policy.groups.contains(g)))
}

/// `true` when `acr_values` asks for a second factor.
pub fn asks_for_mfa(acr_values: Option<&str>) -> bool {
    acr_values.is_some_and(|v| v.split(' ').any(|a| a == ACR_MFA))
}

// --- TOTP -------------------------------------------------------------------

fn totp(secret: Vec<u8>, account: &str, issuer: &str) -> Result<Totp, MfaError> {
    Builder::new()
        .with_secret(secret)
        .with_account_name(account)
        .with_issuer(Some(issuer))
        .build()
        .map_err(|e| MfaError::Totp(e.to_string()))
}

/// A new authenticator key, sealed for the cache or the database.
pub fn new_totp_secret(idp: &Idp, user_id: &str) -> Result<String, MfaError> {
    seal(idp, user_id, &crypto::random_bytes(20)?)
}

fn seal(idp: &Idp, user_id: &str, secret: &[u8]) -> Result<String, MfaError> {
    let aad = format!("totp:{user_id}");
    Ok(crypto::b64(&idp.master.seal(
        Seal::TotpSecret,
        aad.as_bytes(),
        secret,
    )?))
}

fn open(idp: &Idp, user_id: &str, sealed: &str) -> Result<Vec<u8>, MfaError> {
    let aad = format!("totp:{user_id}");
    let bytes = crypto::b64_decode(sealed).ok_or(CryptoError::Decrypt)?;
    Ok(idp.master.open(Seal::TotpSecret, aad.as_bytes(), &bytes)?)
}

/// What the enrolment page shows: the QR code (SVG), and the key typed by hand.
pub struct Enrolment {
    pub qr_svg: String,
    pub key: String,
}

pub fn enrolment(idp: &Idp, user: &User, sealed: &str) -> Result<Enrolment, MfaError> {
    let t = totp(
        open(idp, &user.id, sealed)?,
        &user.email,
        &idp.config.mfa.issuer_label,
    )?;
    let uri = t.to_url().map_err(|e| MfaError::Totp(e.to_string()))?;
    let qr = qrcode::QrCode::with_error_correction_level(uri.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| MfaError::Totp(e.to_string()))?;
    let qr_svg = qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    let key = t.secret().to_base32();
    let key = key
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Enrolment { qr_svg, key })
}

/// Checks a code against a key not yet saved; the step it matched.
pub fn check_new_totp(
    idp: &Idp,
    user: &User,
    sealed: &str,
    code: &str,
    now: i64,
) -> Result<Option<u64>, MfaError> {
    let t = totp(
        open(idp, &user.id, sealed)?,
        &user.email,
        &idp.config.mfa.issuer_label,
    )?;
    Ok(t.check(&digits(code), u64::try_from(now).unwrap_or(0)))
}

/// Saves an authenticator whose first code was right.
pub async fn save_totp(
    idp: &Idp,
    user: &User,
    sealed: &str,
    step: u64,
    now: i64,
) -> Result<(), MfaError> {
    idp.store
        .put_factor(&Factor {
            user_id: user.id.clone(),
            kind: TOTP.into(),
            secret: Some(sealed.to_owned()),
            address: None,
            last_step: i64::try_from(step).unwrap_or(i64::MAX),
            created_at: now,
        })
        .await?;
    Ok(())
}

/// Checks a code from the person's authenticator; each time step works once.
pub async fn check_totp(
    idp: &Idp,
    user: &User,
    factor: &Factor,
    code: &str,
    now: i64,
) -> Result<bool, MfaError> {
    let Some(sealed) = &factor.secret else {
        return Ok(false);
    };
    let t = totp(
        open(idp, &user.id, sealed)?,
        &user.email,
        &idp.config.mfa.issuer_label,
    )?;
    match t.check(&digits(code), u64::try_from(now).unwrap_or(0)) {
        Some(step) => Ok(idp
            .store
            .use_totp_step(&user.id, i64::try_from(step).unwrap_or(i64::MAX))
            .await?),
        None => Ok(false),
    }
}

/// The digits of a typed code ("123 456" and "123-456" are "123456").
fn digits(code: &str) -> String {
    code.chars().filter(char::is_ascii_digit).take(10).collect()
}

// --- Recovery codes ---------------------------------------------------------

/// Letters and digits that cannot be mistaken for one another.
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// New recovery codes (shown once); their hashes replace the old ones.
pub async fn new_recovery_codes(
    idp: &Idp,
    user_id: &str,
    now: i64,
) -> Result<Vec<String>, MfaError> {
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let raw = crypto::random_bytes(10)?;
        let chars: String = raw
            .iter()
            .map(|b| char::from(RECOVERY_ALPHABET[usize::from(*b) % RECOVERY_ALPHABET.len()]))
            .collect();
        codes.push(format!("{}-{}", &chars[..5], &chars[5..]));
    }
    let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(c)).collect();
    idp.store
        .replace_recovery_codes(user_id, &hashes, now)
        .await?;
    Ok(codes)
}

fn recovery_hash(code: &str) -> String {
    let norm: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    crypto::sha256_b64(norm.as_bytes())
}

/// Spends a recovery code.
pub async fn use_recovery_code(
    idp: &Idp,
    user_id: &str,
    code: &str,
    now: i64,
) -> Result<bool, MfaError> {
    Ok(idp
        .store
        .use_recovery_code(user_id, &recovery_hash(code), now)
        .await?)
}

// --- E-mailed codes ---------------------------------------------------------

#[derive(Serialize, Deserialize)]
struct EmailCode {
    hash: String,
    address: String,
    tries: u32,
    sent_at: i64,
}

fn email_key(user_id: &str, purpose: &str) -> String {
    format!("emailotp:{purpose}:{user_id}")
}

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
    user_id: &str,
    purpose: &str,
    address: &str,
    now: i64,
) -> Result<Sent, MfaError> {
    if idp.mailer.is_none() {
        return Ok(Sent::NoMail);
    }
    let key = email_key(user_id, purpose);
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
    user_id: &str,
    purpose: &str,
    code: &str,
    now: i64,
) -> Result<CodeCheck, MfaError> {
    let key = email_key(user_id, purpose);
    let Some(mut entry) = idp.cache.get_json::<EmailCode>(&key).await? else {
        return Ok(CodeCheck::Missing);
    };
    if crypto::ct_eq(
        crypto::sha256_b64(digits(code).as_bytes()).as_bytes(),
        entry.hash.as_bytes(),
    ) {
        // Taken, so two nodes cannot both accept it.
        return Ok(match idp.cache.take_json::<EmailCode>(&key).await? {
            Some(e) => CodeCheck::Right(e.address),
            None => CodeCheck::Missing,
        });
    }
    entry.tries += 1;
    let left = i64::try_from(EMAIL_CODE_MINUTES * 60).unwrap_or(600) - (now - entry.sent_at);
    if entry.tries >= EMAIL_CODE_TRIES || left <= 0 {
        idp.cache.delete(&key).await?;
    } else {
        let ttl = Duration::from_secs(u64::try_from(left).unwrap_or(1));
        idp.cache.set_json(&key, &entry, ttl).await?;
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

// --- Wrong codes ------------------------------------------------------------

fn failures_key(user_id: &str) -> String {
    format!("mfafail:{user_id}")
}

/// `true` while the person's second factors pause after too many wrong codes.
pub async fn paused(idp: &Idp, user_id: &str) -> Result<bool, MfaError> {
    let n: Option<i64> = idp.cache.get_json(&failures_key(user_id)).await?;
    Ok(n.unwrap_or(0) >= MAX_FAILURES)
}

/// Counts a wrong code; `true` when that made the factors pause.
pub async fn failed(idp: &Idp, user_id: &str) -> Result<bool, MfaError> {
    let n = idp
        .cache
        .incr(&failures_key(user_id), FAILURE_WINDOW)
        .await?;
    Ok(n == MAX_FAILURES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amr_names_each_factor() {
        assert_eq!(Method::Totp.amr(), ["pwd", "otp", "mfa"]);
        assert_eq!(Method::Email.amr(), ["pwd", "mail", "mfa"]);
        assert_eq!(Method::Recovery.amr(), ["pwd", "rc", "mfa"]);
    }

    #[test]
    fn acr_values_and_codes_are_read_leniently() {
        assert!(asks_for_mfa(Some("1 2")));
        assert!(!asks_for_mfa(Some("1")));
        assert!(!asks_for_mfa(None));
        assert_eq!(digits(" 123 456 "), "123456");
        assert_eq!(recovery_hash("ABCDE-fghij"), recovery_hash("abcdefghij"));
        assert_eq!(mask("nguyenvana@gmail.com"), "n***@gmail.com");
    }

    #[test]
    fn rfc6238_vector() {
        // RFC 6238 Appendix B, SHA-1, T = 59 s: 94287082 (8 digits); 6 digits: 287082.
        let t = Builder::new()
            .with_secret(b"12345678901234567890".to_vec())
            .build()
            .unwrap();
        assert_eq!(t.check("287082", 59), Some(1));
        assert_eq!(t.check("287081", 59), None);
    }
}
