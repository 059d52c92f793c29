//! Second factors: an authenticator app (TOTP, RFC 6238), one-time codes by
//! e-mail, and recovery codes for when the phone is lost. Who needs one: the
//! people the policy names (administrators, configured groups), everyone who
//! has enrolled a factor, and everyone signing in to an app that requires it
//! or asks for it with `acr_values=2` (read in `oidc::authorize`).
//!
//! The first factor is bootstrapped out of band: a one-time enrolment code
//! from an administrator or a code sent to the person's official mailbox,
//! never the password alone. A factor enrolled during a sign-in gives that
//! sign-in `acr` 1. Changing factors needs a recent proof ([`is_fresh`]).
//! Every code check reserves an attempt in the cache before it runs
//! ([`reserve`]), so parallel guesses cannot pass the limits.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use totp_rs::{Builder, Totp};

use crate::Idp;
use crate::cache::{CacheBackend, CacheError};
use crate::crypto::{self, CryptoError, Seal};
use crate::mail;
use crate::store::{Factor, Store, StoreError, User};

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
/// How long an administrator's enrolment code lives.
pub const ENROLMENT_CODE_HOURS: i64 = 24;
/// How long a second factor proven in a session (or a bootstrap) allows
/// changes to the factors without asking again.
pub const FRESH_MINUTES: i64 = 10;

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
    #[error("{0} already has second factors; reset them first (idp user reset-factors)")]
    HasFactors(String),
}

/// What a piece of enrolment state belongs to: the sign-in that asked (the
/// second-factor cookie) or the session. Another browser of the same person
/// has another scope, so it can neither read nor confirm it.
#[derive(Clone, Copy, Debug)]
pub enum Scope<'a> {
    /// A sign-in half-way, by its cookie.
    Half(&'a str),
    /// A session, by its `sid`.
    Session(&'a str),
}

impl Scope<'_> {
    fn key(self) -> String {
        match self {
            Scope::Half(token) => format!("h:{}", crypto::sha256_b64(token.as_bytes())),
            Scope::Session(sid) => format!("s:{sid}"),
        }
    }

    fn fresh_secs(self) -> i64 {
        match self {
            // The whole sign-in: its cookie lives no longer.
            Scope::Half(_) => {
                i64::try_from(crate::oidc::authorize::HALF_TTL_SECS).unwrap_or(FRESH_MINUTES * 60)
            }
            Scope::Session(_) => FRESH_MINUTES * 60,
        }
    }
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

/// The `amr` of a sign-in during which the first factor was enrolled: the
/// password only (so `acr` 1). Enrolling proves the bootstrap, not a factor
/// the person already held.
pub fn amr_enrolled() -> Vec<String> {
    vec!["pwd".into()]
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

fn totp_enrol_key(user_id: &str, scope: Scope<'_>) -> String {
    format!("totpenrol:{user_id}:{}", scope.key())
}

/// The key being enrolled in `scope`, made on first use and kept while the
/// person scans it (15 minutes).
pub async fn pending_totp(idp: &Idp, user: &User, scope: Scope<'_>) -> Result<String, MfaError> {
    let key = totp_enrol_key(&user.id, scope);
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
    idp.cache.delete(&totp_enrol_key(&user.id, scope)).await?;
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

/// The tries at the code under `key`, counted apart so that each try is
/// reserved atomically before the code is compared.
fn tries_key(key: &str) -> String {
    format!("{key}:tries")
}

/// What an e-mailed code is for. Codes for enrolment, the bootstrap and a
/// re-check are bound to the scope (the browser) that asked.
pub enum Purpose<'a> {
    /// The second step of signing in, at the person's enrolled address.
    Login,
    /// Confirming a new address for codes.
    Enrol(Scope<'a>),
    /// The first factor's bootstrap, at the official mailbox.
    Bootstrap(Scope<'a>),
    /// Confirming a current factor before a change.
    Recheck(Scope<'a>),
}

impl Purpose<'_> {
    fn key(&self) -> String {
        match self {
            Purpose::Login => "login".into(),
            Purpose::Enrol(s) => format!("enrol:{}", s.key()),
            Purpose::Bootstrap(s) => format!("bootstrap:{}", s.key()),
            Purpose::Recheck(s) => format!("recheck:{}", s.key()),
        }
    }
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
    purpose: &Purpose<'_>,
    address: &str,
    now: i64,
) -> Result<Sent, MfaError> {
    if idp.mailer.is_none() {
        return Ok(Sent::NoMail);
    }
    let key = email_key(user_id, &purpose.key());
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
    idp.cache.delete(&tries_key(&key)).await?;
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
    purpose: &Purpose<'_>,
    code: &str,
    now: i64,
) -> Result<CodeCheck, MfaError> {
    let key = email_key(user_id, &purpose.key());
    let Some(entry) = idp.cache.get_json::<EmailCode>(&key).await? else {
        return Ok(CodeCheck::Missing);
    };
    let left = i64::try_from(EMAIL_CODE_MINUTES * 60).unwrap_or(600) - (now - entry.sent_at);
    // The try is reserved before the comparison: of parallel guesses only the
    // first five are compared, and the code is void after them.
    let ttl = Duration::from_secs(u64::try_from(left).unwrap_or(1).max(1));
    let tries = idp.cache.incr(&tries_key(&key), ttl).await?;
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

// --- Wrong codes ------------------------------------------------------------

fn failures_key(user_id: &str) -> String {
    format!("mfafail:{user_id}")
}

/// `true` while the person's second factors pause (for pages; a code check
/// goes through [`reserve`]).
pub async fn paused(idp: &Idp, user_id: &str) -> Result<bool, MfaError> {
    let n: Option<i64> = idp.cache.get_json(&failures_key(user_id)).await?;
    Ok(n.unwrap_or(0) >= MAX_FAILURES)
}

/// A code check that may go ahead, holding its place in the count.
#[derive(Debug, PartialEq, Eq)]
pub struct Reserved(i64);

/// Reserves one code check before it runs: the count goes up atomically
/// (cache `INCR`), and a check beyond the limit is refused without looking at
/// the code. `None` while the factors pause.
pub async fn reserve(idp: &Idp, user_id: &str) -> Result<Option<Reserved>, MfaError> {
    let n = idp
        .cache
        .incr(&failures_key(user_id), FAILURE_WINDOW)
        .await?;
    Ok((n <= MAX_FAILURES).then_some(Reserved(n)))
}

/// Settles a reserved check. A right code clears the count (as a right
/// password does); a wrong one stays counted. `true` when this wrong code
/// made the factors pause.
pub async fn settle(idp: &Idp, user_id: &str, r: Reserved, right: bool) -> Result<bool, MfaError> {
    if right {
        idp.cache.delete(&failures_key(user_id)).await?;
        return Ok(false);
    }
    Ok(r.0 == MAX_FAILURES)
}

// --- Out-of-band bootstrap and recent proof -------------------------------

fn enrolment_hash(code: &str) -> String {
    recovery_hash(code)
}

/// Issues an administrator's one-time enrolment code for a person with no
/// second factor: shown once, stored as a hash, live
/// [`ENROLMENT_CODE_HOURS`], a new one replaces the old.
pub async fn issue_enrolment_code(
    store: &Store,
    user: &User,
    now: i64,
) -> Result<(String, i64), MfaError> {
    if !store.factors(&user.id).await?.is_empty() {
        return Err(MfaError::HasFactors(user.email.clone()));
    }
    // Sixteen letters and digits (about 79 bits) in groups of four.
    let raw = crypto::random_bytes(16)?;
    let chars: Vec<char> = raw
        .iter()
        .map(|b| char::from(RECOVERY_ALPHABET[usize::from(*b) % RECOVERY_ALPHABET.len()]))
        .collect();
    let code = chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-");
    let expires_at = now + ENROLMENT_CODE_HOURS * 3600;
    store
        .put_enrolment_code(&user.id, &enrolment_hash(&code), now, expires_at)
        .await?;
    Ok((code, expires_at))
}

/// How a first factor's bootstrap was proven.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bootstrap {
    /// The administrator's enrolment code.
    AdminCode,
    /// A code sent to the official mailbox.
    OfficialMail,
}

/// Checks a bootstrap code: a six-digit code is the one mailed to the
/// official mailbox in this scope, anything longer the administrator's
/// enrolment code (spent on use). On success the scope may enrol.
pub async fn check_bootstrap(
    idp: &Idp,
    user: &User,
    scope: Scope<'_>,
    code: &str,
    now: i64,
) -> Result<Option<Bootstrap>, MfaError> {
    let norm: String = code.chars().filter(char::is_ascii_alphanumeric).collect();
    let proven = if norm.len() == 6 && norm.chars().all(|c| c.is_ascii_digit()) {
        match check_email_code(idp, &user.id, &Purpose::Bootstrap(scope), &norm, now).await? {
            CodeCheck::Right(_) => Some(Bootstrap::OfficialMail),
            CodeCheck::Wrong | CodeCheck::Missing => None,
        }
    } else if norm.len() > 64 {
        None
    } else if idp
        .store
        .take_enrolment_code(&user.id, &enrolment_hash(&norm), now)
        .await?
    {
        Some(Bootstrap::AdminCode)
    } else {
        None
    };
    if proven.is_some() {
        mark_fresh(idp, scope, now).await?;
    }
    Ok(proven)
}

fn fresh_key(scope: Scope<'_>) -> String {
    format!("mfafresh:{}", scope.key())
}

/// Notes that `scope` has just proven a current factor (or the bootstrap).
pub async fn mark_fresh(idp: &Idp, scope: Scope<'_>, now: i64) -> Result<(), MfaError> {
    let secs = scope.fresh_secs();
    idp.cache
        .set_json(
            &fresh_key(scope),
            &now,
            Duration::from_secs(u64::try_from(secs).unwrap_or(600)),
        )
        .await?;
    Ok(())
}

/// `true` when `scope` proved a current factor (or the bootstrap) recently
/// enough to change the factors.
pub async fn is_fresh(idp: &Idp, scope: Scope<'_>, now: i64) -> Result<bool, MfaError> {
    let at: Option<i64> = idp.cache.get_json(&fresh_key(scope)).await?;
    Ok(at.is_some_and(|t| now >= t && now - t <= scope.fresh_secs()))
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
    fn codes_are_read_leniently() {
        assert_eq!(digits(" 123 456 "), "123456");
        assert_eq!(recovery_hash("ABCDE-fghij"), recovery_hash("abcdefghij"));
        assert_eq!(mask("nguyenvana@gmail.com"), "n***@gmail.com");
    }

    /// A real IdP on SQLite in a temp dir, the cache in memory, a mail
    /// server configured (messages only go to the outbox here).
    async fn idp(dir: &tempfile::TempDir) -> Idp {
        let d = dir.path().display().to_string();
        let env: Vec<(String, String)> = [
            ("IDP_DATA_DIR", d.clone()),
            ("IDP_DATABASE_URL", format!("sqlite://{d}/idp.db")),
            ("IDP_SMTP__HOST", "127.0.0.1".into()),
            ("IDP_SMTP__PORT", "9".into()),
            ("IDP_SMTP__SECURITY", "none".into()),
            ("IDP_SMTP__FROM", "khong-tra-loi@binhphuoc.gov.vn".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let config = crate::config::Config::load_from(None, &env).unwrap();
        Idp::open(config).await.unwrap()
    }

    #[tokio::test]
    async fn parallel_code_checks_are_reserved_before_they_run() {
        let dir = tempfile::tempdir().unwrap();
        let idp = std::sync::Arc::new(idp(&dir).await);
        let mut tasks = Vec::new();
        for _ in 0..30 {
            let idp = std::sync::Arc::clone(&idp);
            tasks.push(tokio::spawn(
                async move { reserve(&idp, "u1").await.unwrap() },
            ));
        }
        let mut go = Vec::new();
        for t in tasks {
            if let Some(r) = t.await.unwrap() {
                go.push(r);
            }
        }
        assert_eq!(go.len(), 10, "ten checks, however many come at once");
        assert!(paused(&idp, "u1").await.unwrap());
        assert!(reserve(&idp, "u2").await.unwrap().is_some(), "per person");
        // Settled as wrong, exactly one of them (the tenth) is the one that paused.
        let mut paused_by = 0;
        for r in go {
            if settle(&idp, "u1", r, false).await.unwrap() {
                paused_by += 1;
            }
        }
        assert_eq!(paused_by, 1);
        // A right code settles by clearing the count.
        let r = reserve(&idp, "u3").await.unwrap().unwrap();
        settle(&idp, "u3", r, true).await.unwrap();
        for _ in 0..10 {
            assert!(reserve(&idp, "u3").await.unwrap().is_some());
        }
        assert!(reserve(&idp, "u3").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn an_emailed_code_allows_five_tries_even_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let idp = std::sync::Arc::new(idp(&dir).await);
        let now = 1_000_000;
        let key = email_key("u1", &Purpose::Login.key());
        let entry = EmailCode {
            hash: crypto::sha256_b64(b"123456"),
            address: "tam@gmail.com".into(),
            tries: 0,
            sent_at: now,
        };
        idp.cache
            .set_json(&key, &entry, Duration::from_secs(600))
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let idp = std::sync::Arc::clone(&idp);
            tasks.push(tokio::spawn(async move {
                check_email_code(&idp, "u1", &Purpose::Login, "654321", now + 5)
                    .await
                    .unwrap()
            }));
        }
        let mut wrong = 0;
        for t in tasks {
            match t.await.unwrap() {
                CodeCheck::Wrong => wrong += 1,
                CodeCheck::Missing => {}
                CodeCheck::Right(_) => panic!("a wrong code"),
            }
        }
        assert!(wrong <= 5, "{wrong} tries compared");
        assert_eq!(
            check_email_code(&idp, "u1", &Purpose::Login, "123456", now + 6)
                .await
                .unwrap(),
            CodeCheck::Missing,
            "void after five tries"
        );
    }

    #[tokio::test]
    async fn codes_and_keys_belong_to_the_browser_that_asked() {
        let dir = tempfile::tempdir().unwrap();
        let idp = idp(&dir).await;
        let now = 1_000_000;
        let (a, b) = (Scope::Half("cookie-a"), Scope::Half("cookie-b"));
        assert_eq!(
            send_email_code(&idp, "u1", &Purpose::Enrol(a), "x@gmail.com", now)
                .await
                .unwrap(),
            Sent::Sent
        );
        // Browser B has no code waiting, so A's cannot be confirmed there.
        let key_b = email_key("u1", &Purpose::Enrol(b).key());
        assert!(
            idp.cache
                .get_json::<EmailCode>(&key_b)
                .await
                .unwrap()
                .is_none()
        );
        // Recent proof is per scope, and ends.
        mark_fresh(&idp, Scope::Session("sid-1"), now)
            .await
            .unwrap();
        assert!(
            is_fresh(&idp, Scope::Session("sid-1"), now + 599)
                .await
                .unwrap()
        );
        assert!(
            !is_fresh(&idp, Scope::Session("sid-1"), now + 601)
                .await
                .unwrap()
        );
        assert!(!is_fresh(&idp, Scope::Session("sid-2"), now).await.unwrap());
        assert!(!is_fresh(&idp, a, now).await.unwrap());
    }

    #[tokio::test]
    async fn an_enrolment_code_works_once_and_not_for_long() {
        let dir = tempfile::tempdir().unwrap();
        let idp = idp(&dir).await;
        let now = crate::now();
        let user = User {
            id: "u1".into(),
            email: "tamtt@binhphuoc.gov.vn".into(),
            name: "Trương Thanh Tâm".into(),
            phone: None,
            unit: None,
            title: None,
            employee_code: None,
            password_hash: None,
            is_admin: 0,
            disabled_at: None,
            created_at: now,
            updated_at: now,
            personal_email: None,
            source: "local".into(),
            signature_page: "last".into(),
            signature_place: String::new(),
        };
        let (code, until) = issue_enrolment_code(&idp.store, &user, now).await.unwrap();
        assert_eq!(until, now + 24 * 3600);
        let scope = Scope::Half("cookie");
        assert_eq!(
            check_bootstrap(&idp, &user, scope, "wrong-code-here", now)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            check_bootstrap(&idp, &user, scope, &code.to_uppercase(), now)
                .await
                .unwrap(),
            Some(Bootstrap::AdminCode)
        );
        assert!(is_fresh(&idp, scope, now).await.unwrap());
        assert_eq!(
            check_bootstrap(&idp, &user, Scope::Half("other"), &code, now)
                .await
                .unwrap(),
            None,
            "once"
        );
        let (code, until) = issue_enrolment_code(&idp.store, &user, now).await.unwrap();
        assert_eq!(
            check_bootstrap(&idp, &user, scope, &code, until)
                .await
                .unwrap(),
            None,
            "expired"
        );
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
