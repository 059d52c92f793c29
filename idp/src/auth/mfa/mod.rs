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

use crate::Idp;
use crate::audit::Kind;
use crate::cache::{CacheBackend, CacheError, keys};
use crate::crypto::CryptoError;
use crate::ids::UserId;
use crate::store::{Factor, StoreError, User};

mod email;
mod enrol;
mod manage;
mod recovery;
pub mod step;
pub use step::{HALF_TTL_SECS, Half};
mod totp;

pub use email::{CodeCheck, Purpose, Sent, check_email_code, mask, send_email_code};
pub use enrol::{Bootstrap, check_bootstrap, is_fresh, issue_enrolment_code, mark_fresh};
pub use enrol::{Confirm, EnrolView};
pub use manage::{FactorsView, manage, view as factors_view};
pub use recovery::{new_recovery_codes, use_recovery_code};
pub use totp::{
    Enrolment, check_new_totp, check_totp, drop_pending_totp, enrolment, new_totp_secret,
    pending_totp, save_totp,
};

/// `acr` of a session signed in with a password only.
pub const ACR_PASSWORD: &str = "1";
/// `acr` of a session that also used a second factor.
pub const ACR_MFA: &str = "2";

/// How long an e-mailed code lives.
pub const EMAIL_CODE_MINUTES: u64 = 10;
/// Wrong codes (any factor) before a person's second factors pause.
const MAX_FAILURES: i64 = 10;
/// How long those wrong codes count, and so how long the pause lasts; the page says it.
pub const PAUSE_MINUTES: u64 = 15;
const FAILURE_WINDOW: Duration = Duration::from_secs(PAUSE_MINUTES * 60);
/// Wrong guesses at one e-mailed code before it is void.
pub(crate) const EMAIL_CODE_TRIES: u32 = 5;
/// A new e-mailed code at most this often.
pub(crate) const EMAIL_RESEND_SECS: i64 = 30;
pub(crate) const RECOVERY_CODES: usize = 10;
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

pub use crate::audit::Who;

async fn audit(idp: &Idp, who: &Who, kind: Kind, user: &User, detail: Option<String>, now: i64) {
    who.audit(idp, kind, user, detail, now).await;
}

/// What a person asks of their factors (the form's `op`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Signing in: a code from the authenticator, by e-mail, a recovery code.
    Totp,
    EmailSend,
    Email,
    Recovery,
    /// Signing in: on to the app after the new recovery codes were shown.
    Done,
    /// A first factor's bootstrap: a code to the official mailbox, then the code.
    BootstrapSend,
    Bootstrap,
    /// Adding a factor.
    StartTotp,
    EnrolTotp,
    EnrolEmailSend,
    EnrolEmail,
    /// Proving a current factor again before a change.
    RecheckSend,
    Recheck,
    RemoveTotp,
    RemoveEmail,
    NewCodes,
    Unknown,
}

impl Op {
    pub fn parse(op: Option<&str>) -> Op {
        match op.unwrap_or_default() {
            "totp" => Op::Totp,
            "email_send" => Op::EmailSend,
            "email" => Op::Email,
            "recovery" => Op::Recovery,
            "done" => Op::Done,
            "bootstrap_send" => Op::BootstrapSend,
            "bootstrap" => Op::Bootstrap,
            "start_totp" => Op::StartTotp,
            "enrol_totp" => Op::EnrolTotp,
            "enrol_email_send" => Op::EnrolEmailSend,
            "enrol_email" => Op::EnrolEmail,
            "recheck_send" => Op::RecheckSend,
            "recheck" => Op::Recheck,
            "remove_totp" => Op::RemoveTotp,
            "remove_email" => Op::RemoveEmail,
            "new_codes" => Op::NewCodes,
            _ => Op::Unknown,
        }
    }

    /// The ops that check a code, each reserved before it runs.
    fn checks_code(self) -> bool {
        matches!(
            self,
            Op::Totp
                | Op::Email
                | Op::Recovery
                | Op::Bootstrap
                | Op::Recheck
                | Op::EnrolTotp
                | Op::EnrolEmail
        )
    }

    /// The op's name in the audit log.
    fn name(self) -> &'static str {
        match self {
            Op::Totp => "totp",
            Op::Email => "email",
            Op::Recovery => "recovery",
            _ => "?",
        }
    }
}

/// An op with what was typed.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    pub op: Op,
    pub code: &'a str,
    pub address: &'a str,
}

/// What a factor page says after an op; the handler picks the words.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Said {
    #[default]
    Nothing,
    /// Too many wrong codes: the factors pause (429).
    Paused,
    WrongCode,
    /// A code went to this address (as shown, masked or not).
    CodeSent(String),
    /// A code went out less than this many seconds ago (429).
    TooSoon(u64),
    /// No mail server is configured (503).
    NoMail,
    /// Not an address codes can go to (400).
    BadAddress,
    /// A current factor or the bootstrap was proven.
    Confirmed,
    /// A change needs a recent proof first (403).
    ConfirmFirst,
    FactorSaved,
    FactorRemoved,
    /// The last factor of a person who must have one stays (409).
    StillRequired,
    BadRequest,
}

/// The outcome of an op on a factor page.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Answer {
    pub said: Said,
    /// Show the authenticator's QR code (a pending key exists).
    pub totp: bool,
    /// An address a code was just sent to (enrolment by e-mail).
    pub email_sent: Option<String>,
    /// New recovery codes, shown once.
    pub recovery_codes: Vec<String>,
}

impl From<Said> for Answer {
    fn from(said: Said) -> Answer {
        Answer {
            said,
            ..Answer::default()
        }
    }
}

/// What a piece of enrolment state belongs to: the sign-in that asked (the
/// second-factor cookie) or the session. Another browser of the same person
/// has another scope, so it can neither read nor confirm it.
pub type Scope<'a> = keys::MfaScope<'a>;

impl Scope<'_> {
    /// How long a proof in this scope stays fresh.
    pub(crate) fn fresh_secs(self) -> i64 {
        match self {
            // The whole sign-in: its cookie lives no longer.
            Scope::Half(_) => i64::try_from(HALF_TTL_SECS).unwrap_or(FRESH_MINUTES * 60),
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
/// administrators and everyone with a console role always (the admin
/// console and signing are theirs to protect), members of the configured
/// groups, and whoever enrolled one.
pub async fn required_for(idp: &Idp, user: &User, factors: &[Factor]) -> Result<bool, StoreError> {
    let policy = &idp.config.mfa;
    if !factors.is_empty() || crate::admin::roles::any(&idp.store, user).await? {
        return Ok(true);
    }
    if policy.groups.is_empty() {
        return Ok(false);
    }
    let groups = idp.store.groups_of(&user.id).await?;
    Ok(groups.iter().any(|g| policy.groups.contains(g)))
}

// --- Wrong codes ------------------------------------------------------------

/// `true` while the person's second factors pause (for pages; a code check
/// goes through [`reserve`]).
pub async fn paused(idp: &Idp, user_id: &UserId) -> Result<bool, MfaError> {
    let n: Option<i64> = idp.cache.get_json(&keys::mfa_failures(user_id)).await?;
    Ok(n.unwrap_or(0) >= MAX_FAILURES)
}

/// A code check that may go ahead, holding its place in the count.
#[derive(Debug, PartialEq, Eq)]
pub struct Reserved(i64);

/// Reserves one code check before it runs: the count goes up atomically
/// (cache `INCR`), and a check beyond the limit is refused without looking at
/// the code. `None` while the factors pause.
pub async fn reserve(idp: &Idp, user_id: &UserId) -> Result<Option<Reserved>, MfaError> {
    let n = idp
        .cache
        .incr(&keys::mfa_failures(user_id), FAILURE_WINDOW)
        .await?;
    Ok((n <= MAX_FAILURES).then_some(Reserved(n)))
}

/// One code check, reserved in the count before the code is looked at
/// ([`reserve`]) and settled once the answer is known.
struct Attempt(Option<Reserved>);

impl Attempt {
    /// Reserves a check for the ops that check a code; `Err(Paused)` while the
    /// person's factors pause (the code is not looked at).
    async fn begin(
        idp: &Idp,
        user: &User,
        op: Op,
    ) -> Result<Result<Option<Attempt>, Said>, MfaError> {
        if op.checks_code() {
            return Ok(match reserve(idp, &user.id).await? {
                Some(r) => Ok(Some(Attempt(Some(r)))),
                None => Err(Said::Paused),
            });
        }
        if paused(idp, &user.id).await? {
            return Ok(Err(Said::Paused));
        }
        Ok(Ok(None))
    }

    /// Gives back a reservation no code was compared against (an op that did
    /// not apply, or a failure before the check): only a code looked at counts.
    async fn unused(self, idp: &Idp, user: &User) -> Result<(), MfaError> {
        if self.0.is_some() {
            idp.cache.decr(&keys::mfa_failures(&user.id)).await?;
        }
        Ok(())
    }

    async fn right(&mut self, idp: &Idp, user: &User) -> Result<(), MfaError> {
        if let Some(r) = self.0.take() {
            settle(idp, &user.id, r, true).await?;
        }
        Ok(())
    }

    /// Counts a wrong code, audited.
    async fn wrong(&mut self, idp: &Idp, who: &Who, user: &User, what: &str, now: i64) -> Answer {
        audit(
            idp,
            who,
            Kind::SecondFactorFailed,
            user,
            Some(what.into()),
            now,
        )
        .await;
        if let Some(r) = self.0.take()
            && let Ok(true) = settle(idp, &user.id, r, false).await
        {
            audit(idp, who, Kind::SecondFactorPaused, user, None, now).await;
        }
        Said::WrongCode.into()
    }
}

/// Settles a reserved check. A right code clears the count (as a right
/// password does); a wrong one stays counted. `true` when this wrong code
/// made the factors pause.
pub async fn settle(
    idp: &Idp,
    user_id: &UserId,
    r: Reserved,
    right: bool,
) -> Result<bool, MfaError> {
    if right {
        idp.cache.delete(&keys::mfa_failures(user_id)).await?;
        return Ok(false);
    }
    Ok(r.0 == MAX_FAILURES)
}

#[cfg(test)]
mod ops_tests;
#[cfg(test)]
mod tests;
