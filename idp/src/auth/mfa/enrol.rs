//! The first factor's out-of-band bootstrap (an administrator's enrolment
//! code or a code sent to the official mailbox) and the recent proof
//! ("freshness") that any change to the factors needs; adding a factor
//! (the steps both the sign-in and the account page offer).

use std::time::Duration;

use super::email::{CodeCheck, Purpose, Sent, check_email_code, mask, send_email_code};
use super::recovery::{RECOVERY_ALPHABET, new_recovery_codes, recovery_hash};
use super::totp::{
    Enrolment, check_new_totp, drop_pending_totp, enrolment, pending_totp, save_totp,
};
use super::{
    Answer, Attempt, ENROLMENT_CODE_HOURS, Input, Method, MfaError, Op, Said, Scope, Who, audit,
};
use crate::Idp;
use crate::audit::Kind;
use crate::cache::keys;
use crate::crypto;
use crate::kinds::FactorKind;
use crate::mail;
use crate::portal::account::vn_time;
use crate::store::{Factor, Store, User};

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
        return Err(MfaError::HasFactors(user.email.to_string()));
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

/// Notes that `scope` has just proven a current factor (or the bootstrap).
pub async fn mark_fresh(idp: &Idp, scope: Scope<'_>, now: i64) -> Result<(), MfaError> {
    let secs = scope.fresh_secs();
    idp.cache
        .set_json(
            &keys::mfa_fresh(scope),
            &now,
            Duration::from_secs(u64::try_from(secs).unwrap_or(600)),
        )
        .await?;
    Ok(())
}

/// `true` when `scope` proved a current factor (or the bootstrap) recently
/// enough to change the factors.
pub async fn is_fresh(idp: &Idp, scope: Scope<'_>, now: i64) -> Result<bool, MfaError> {
    let at: Option<i64> = idp.cache.get_json(&keys::mfa_fresh(scope)).await?;
    Ok(at.is_some_and(|t| now >= t && now - t <= scope.fresh_secs()))
}

// --- Enrolment steps shared by the sign-in and the account page -------------

/// The proof a scope still owes before its factors change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confirm {
    /// No factor yet: the out-of-band bootstrap is asked for.
    pub bootstrap: bool,
    /// Where a code can be mailed (masked), when mail is configured.
    pub mail_to: Option<String>,
}

/// `None` when `scope` proved a factor recently (or, in a sign-in,
/// bootstrapped the first factor).
pub(super) async fn confirm(
    idp: &Idp,
    user: &User,
    factors: &[Factor],
    scope: Scope<'_>,
    now: i64,
) -> Result<Option<Confirm>, MfaError> {
    if is_fresh(idp, scope, now).await? {
        return Ok(None);
    }
    let bootstrap = factors.is_empty();
    let mail_to = if idp.mailer.is_none() {
        None
    } else if bootstrap {
        Some(mask(&user.email))
    } else {
        factors
            .iter()
            .find(|f| f.kind == FactorKind::Email)
            .and_then(|f| f.address.as_deref())
            .map(mask)
    };
    Ok(Some(Confirm { bootstrap, mail_to }))
}

/// What the enrolment part of a page shows.
pub struct EnrolView {
    /// The authenticator being added (a pending key in this scope).
    pub totp: Option<Enrolment>,
    pub mail_possible: bool,
    /// The address in the "codes by e-mail" field.
    pub email: String,
    pub email_sent: bool,
    pub recovery_codes: Vec<String>,
    pub confirm: Option<Confirm>,
}

pub(super) async fn enrol_view(
    idp: &Idp,
    user: &User,
    scope: Scope<'_>,
    confirm: Option<Confirm>,
    answer: &mut Answer,
) -> Result<EnrolView, MfaError> {
    let totp = if answer.totp && confirm.is_none() {
        let sealed = pending_totp(idp, user, scope).await?;
        Some(enrolment(idp, user, &sealed)?)
    } else {
        None
    };
    Ok(EnrolView {
        totp,
        mail_possible: idp.mailer.is_some(),
        email: answer
            .email_sent
            .clone()
            .or_else(|| user.personal_email.clone())
            .unwrap_or_default(),
        email_sent: answer.email_sent.is_some(),
        recovery_codes: std::mem::take(&mut answer.recovery_codes),
        confirm,
    })
}

/// Sends a code and says what happened (`shown`: the address as the page shows it).
pub(super) async fn send_code(
    idp: &Idp,
    user: &User,
    purpose: &Purpose<'_>,
    address: &str,
    shown: &str,
    now: i64,
) -> Result<Answer, MfaError> {
    Ok(
        match send_email_code(idp, &user.id, purpose, address, now).await? {
            Sent::Sent => Said::CodeSent(shown.to_owned()),
            Sent::TooSoon(n) => Said::TooSoon(n),
            Sent::NoMail => Said::NoMail,
        }
        .into(),
    )
}

/// A plausible address for codes: one `@`, a dot in the domain, no spaces.
pub(super) fn plausible_address(a: &str) -> bool {
    a.len() <= 254
        && a.parse::<lettre::Address>()
            .is_ok_and(|x| x.domain().contains('.'))
}

/// The first factor's bootstrap (`BootstrapSend`, `Bootstrap`); `None` when
/// the op is neither. Only for people with no factor yet.
pub(super) async fn bootstrap_op(
    idp: &Idp,
    who: &Who,
    user: &User,
    scope: Scope<'_>,
    input: Input<'_>,
    attempt: &mut Option<Attempt>,
    now: i64,
) -> Result<Option<Answer>, MfaError> {
    match input.op {
        Op::BootstrapSend => {
            // Only the official mailbox, never an address typed here.
            let official = user.email.clone();
            let purpose = Purpose::Bootstrap(scope);
            let shown = mask(&official);
            Ok(Some(
                send_code(idp, user, &purpose, &official, &shown, now).await?,
            ))
        }
        Op::Bootstrap => {
            let Some(attempt) = attempt else {
                return Ok(Some(Said::Paused.into()));
            };
            match check_bootstrap(idp, user, scope, input.code, now).await? {
                Some(how) => {
                    attempt.right(idp, user).await?;
                    let how = match how {
                        Bootstrap::AdminCode => "administrator's enrolment code",
                        Bootstrap::OfficialMail => "code sent to the official mailbox",
                    };
                    audit(idp, who, Kind::Bootstrapped, user, Some(how.into()), now).await;
                    Ok(Some(Said::Confirmed.into()))
                }
                None => Ok(Some(attempt.wrong(idp, who, user, "bootstrap", now).await)),
            }
        }
        _ => Ok(None),
    }
}

/// Adding a factor, on both pages; `None` when the op is not one. The caller
/// has checked that `scope` may change the factors. On success the new
/// factor is saved, audited and mailed, and recovery codes are made if the
/// person had none; the method is the new factor's.
pub(super) async fn enrol_op(
    idp: &Idp,
    who: &Who,
    user: &User,
    scope: Scope<'_>,
    input: Input<'_>,
    attempt: &mut Option<Attempt>,
    now: i64,
) -> Result<Option<(Answer, Option<Method>)>, MfaError> {
    let code = input.code;
    let saved = match (input.op, attempt.as_mut()) {
        (Op::EnrolTotp, Some(attempt)) => {
            let sealed = pending_totp(idp, user, scope).await?;
            match check_new_totp(idp, user, &sealed, code, now)? {
                Some(step) => {
                    attempt.right(idp, user).await?;
                    save_totp(idp, user, &sealed, step, now).await?;
                    let _ = drop_pending_totp(idp, user, scope).await;
                    Method::Totp
                }
                None => {
                    let mut answer = attempt.wrong(idp, who, user, "enrol totp", now).await;
                    answer.totp = true;
                    return Ok(Some((answer, None)));
                }
            }
        }
        (Op::EnrolEmailSend, _) => {
            let address = input.address.trim().to_owned();
            if !plausible_address(&address) {
                return Ok(Some((Said::BadAddress.into(), None)));
            }
            let purpose = Purpose::Enrol(scope);
            let mut answer = send_code(idp, user, &purpose, &address, &address, now).await?;
            answer.email_sent = Some(address);
            return Ok(Some((answer, None)));
        }
        (Op::EnrolEmail, Some(attempt)) => {
            match check_email_code(idp, &user.id, &Purpose::Enrol(scope), code, now).await? {
                CodeCheck::Right(address) => {
                    attempt.right(idp, user).await?;
                    idp.store
                        .put_factor(&Factor {
                            user_id: user.id.clone(),
                            kind: FactorKind::Email,
                            secret: None,
                            address: Some(address),
                            last_step: 0,
                            created_at: now,
                        })
                        .await?;
                    Method::Email
                }
                CodeCheck::Wrong | CodeCheck::Missing => {
                    let answer = attempt.wrong(idp, who, user, "enrol email", now).await;
                    return Ok(Some((answer, None)));
                }
            }
        }
        _ => return Ok(None),
    };
    let (kind, what): (_, fn(&portal_ui::Texts) -> String) = match saved {
        Method::Email => (Kind::EmailAdded, |t| t.notices.email_added.into()),
        _ => (Kind::TotpAdded, |t| t.notices.totp_added.into()),
    };
    audit(idp, who, kind, user, None, now).await;
    mail::notify(
        idp,
        &user.email,
        &mail::factors_changed(what, &vn_time(now)),
    )
    .await;
    let mut answer = Answer::from(Said::FactorSaved);
    if idp.store.recovery_codes_left(&user.id).await? == 0 {
        answer.recovery_codes = new_recovery_codes(idp, &user.id, now).await?;
    }
    Ok(Some((answer, Some(saved))))
}
