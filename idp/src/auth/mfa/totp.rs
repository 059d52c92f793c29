//! Authenticator apps (TOTP, RFC 6238 with SHA-1, six digits, 30-second
//! steps): the key is sealed under its own key derived from the master key,
//! bound to the person; each time step is accepted once.

use std::time::Duration;

use totp_rs::{Builder, Totp};

use super::{MfaError, Scope};
use crate::Idp;
use crate::cache::{CacheBackend, keys};
use crate::crypto::{self, CryptoError, Seal};
use crate::ids::UserId;
use crate::kinds::FactorKind;
use crate::store::{Factor, User};

pub(super) fn totp(secret: Vec<u8>, account: &str, issuer: &str) -> Result<Totp, MfaError> {
    Builder::new()
        .with_secret(secret)
        .with_account_name(account)
        .with_issuer(Some(issuer))
        .build()
        .map_err(|e| MfaError::Totp(e.to_string()))
}

/// A new authenticator key, sealed for the cache or the database.
pub fn new_totp_secret(idp: &Idp, user_id: &UserId) -> Result<String, MfaError> {
    seal(idp, user_id, &crypto::random_bytes(20)?)
}

pub(super) fn seal(idp: &Idp, user_id: &UserId, secret: &[u8]) -> Result<String, MfaError> {
    let aad = format!("totp:{user_id}");
    Ok(crypto::b64(&idp.master.seal(
        Seal::TotpSecret,
        aad.as_bytes(),
        secret,
    )?))
}

pub(super) fn open(idp: &Idp, user_id: &UserId, sealed: &str) -> Result<Vec<u8>, MfaError> {
    let aad = format!("totp:{user_id}");
    let bytes = crypto::b64_decode(sealed).ok_or(CryptoError::Decrypt)?;
    Ok(idp.master.open(Seal::TotpSecret, aad.as_bytes(), &bytes)?)
}

/// The key being enrolled in `scope`, made on first use and kept while the
/// person scans it (15 minutes).
pub async fn pending_totp(idp: &Idp, user: &User, scope: Scope<'_>) -> Result<String, MfaError> {
    let key = keys::totp_enrol(&user.id, scope);
    if let Some(s) = idp.cache.get_json::<String>(&key).await? {
        return Ok(s);
    }
    let sealed = new_totp_secret(idp, &user.id)?;
    idp.cache
        .set_json(&key, &sealed, Duration::from_secs(15 * 60))
        .await?;
    Ok(sealed)
}

/// Forgets the key being enrolled in `scope` (it was saved).
pub async fn drop_pending_totp(idp: &Idp, user: &User, scope: Scope<'_>) -> Result<(), MfaError> {
    idp.cache.delete(&keys::totp_enrol(&user.id, scope)).await?;
    Ok(())
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
            kind: FactorKind::Totp,
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
pub(super) fn digits(code: &str) -> String {
    code.chars().filter(char::is_ascii_digit).take(10).collect()
}
