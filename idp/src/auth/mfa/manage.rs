//! The person's own second factors, from a session: add or remove an
//! authenticator or an address for codes, new recovery codes. Every change
//! needs a recent proof in this session: a second factor at sign-in or
//! re-checked here within [`FRESH_MINUTES`](super::FRESH_MINUTES), or for a
//! first factor the out-of-band bootstrap. Every change is audited and mailed
//! to the owner.

use super::email::{CodeCheck, Purpose, check_email_code, mask};
use super::enrol::{Confirm, EnrolView, bootstrap_op, confirm, enrol_op, enrol_view, send_code};
use super::recovery::{new_recovery_codes, recovery_used, use_recovery_code};
use super::totp::check_totp;
use super::{
    Answer, Attempt, Input, MfaError, Op, Said, Scope, Who, audit, is_fresh, mark_fresh,
    required_for,
};
use crate::Idp;
use crate::audit::Kind;
use crate::kinds::FactorKind;
use crate::mail;
use crate::portal::account::vn_time;
use crate::store::{Factor, User};

/// What the factors page shows.
pub struct FactorsView {
    pub totp: bool,
    /// The address codes go to (the owner sees it whole).
    pub email: Option<String>,
    pub recovery_left: i64,
    /// The person must keep a factor.
    pub required: bool,
    pub enrol: EnrolView,
}

/// The page of the session `sid`, after `answer`.
pub async fn view(
    idp: &Idp,
    user: &User,
    sid: &str,
    mut answer: Answer,
    now: i64,
) -> Result<FactorsView, MfaError> {
    let factors = idp.store.factors(&user.id).await?;
    let required = required_for(idp, user, &[]).await?;
    let recovery_left = idp.store.recovery_codes_left(&user.id).await?;
    let scope = Scope::Session(sid);
    let confirm: Option<Confirm> = confirm(idp, user, &factors, scope, now).await?;
    let enrol = enrol_view(idp, user, scope, confirm, &mut answer).await?;
    Ok(FactorsView {
        totp: factors.iter().any(|f| f.kind == FactorKind::Totp),
        email: factors
            .iter()
            .find(|f| f.kind == FactorKind::Email)
            .and_then(|f| f.address.clone()),
        recovery_left,
        required,
        enrol,
    })
}

/// Re-checks a current factor on the spot (`Recheck`): a six-digit code from
/// the authenticator or sent by e-mail, else a recovery code.
async fn recheck(
    idp: &Idp,
    who: &Who,
    user: &User,
    scope: Scope<'_>,
    factors: &[Factor],
    code: &str,
    now: i64,
) -> Result<bool, MfaError> {
    let six: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if six.len() == 6 && six.chars().all(|c| c.is_ascii_digit()) {
        if let Some(fa) = factors.iter().find(|x| x.kind == FactorKind::Totp)
            && check_totp(idp, user, fa, &six, now).await?
        {
            return Ok(true);
        }
        if factors.iter().any(|x| x.kind == FactorKind::Email) {
            let c = check_email_code(idp, &user.id, &Purpose::Recheck(scope), &six, now).await?;
            return Ok(matches!(c, CodeCheck::Right(_)));
        }
        return Ok(false);
    }
    if use_recovery_code(idp, &user.id, code, now).await? {
        recovery_used(idp, who, user, now).await?;
        return Ok(true);
    }
    Ok(false)
}

/// One op on the factors of the session `sid` (its CSRF token checked).
pub async fn manage(
    idp: &Idp,
    who: &Who,
    user: &User,
    sid: &str,
    input: Input<'_>,
    now: i64,
) -> Result<Answer, MfaError> {
    let mut attempt = match Attempt::begin(idp, user, input.op).await? {
        Ok(a) => a,
        Err(said) => return Ok(said.into()),
    };
    let answer = run(idp, who, user, sid, input, &mut attempt, now).await;
    if let Some(a) = attempt {
        a.unused(idp, user).await?;
    }
    answer
}

async fn run(
    idp: &Idp,
    who: &Who,
    user: &User,
    sid: &str,
    input: Input<'_>,
    attempt: &mut Option<Attempt>,
    now: i64,
) -> Result<Answer, MfaError> {
    let scope = Scope::Session(sid);
    let factors = idp.store.factors(&user.id).await?;
    // The proof a change needs: a current factor re-checked here, or the
    // out-of-band bootstrap for a person with none yet.
    match (input.op, attempt.as_mut()) {
        (Op::RecheckSend, _) => {
            let Some(address) = factors
                .iter()
                .find(|x| x.kind == FactorKind::Email)
                .and_then(|x| x.address.clone())
            else {
                return Ok(Answer::default());
            };
            let purpose = Purpose::Recheck(scope);
            return send_code(idp, user, &purpose, &address, &mask(&address), now).await;
        }
        (Op::Recheck, Some(a)) => {
            let right = !factors.is_empty()
                && recheck(idp, who, user, scope, &factors, input.code, now).await?;
            return Ok(if right {
                a.right(idp, user).await?;
                mark_fresh(idp, scope, now).await?;
                audit(idp, who, Kind::Rechecked, user, None, now).await;
                Said::Confirmed.into()
            } else {
                a.wrong(idp, who, user, "recheck", now).await
            });
        }
        _ => {}
    }
    if factors.is_empty()
        && let Some(answer) = bootstrap_op(idp, who, user, scope, input, attempt, now).await?
    {
        return Ok(answer);
    }
    if !is_fresh(idp, scope, now).await? {
        return Ok(Said::ConfirmFirst.into());
    }
    if let Some((answer, _)) = enrol_op(idp, who, user, scope, input, attempt, now).await? {
        return Ok(answer);
    }
    Ok(match input.op {
        Op::StartTotp => Answer {
            totp: true,
            ..Answer::default()
        },
        Op::RemoveTotp | Op::RemoveEmail => {
            let kind = if input.op == Op::RemoveTotp {
                FactorKind::Totp
            } else {
                FactorKind::Email
            };
            let required = required_for(idp, user, &[]).await?;
            let last = factors.iter().all(|x| x.kind == kind);
            if last && required {
                Said::StillRequired.into()
            } else {
                // Checked again in the removal itself: a parallel removal of the
                // other factor may have come first.
                let removed = idp.store.delete_factor(&user.id, kind, required).await?;
                if !removed && required && factors.iter().any(|x| x.kind == kind) {
                    return Ok(Said::StillRequired.into());
                }
                if removed {
                    audit(idp, who, Kind::factor_removed(kind), user, None, now).await;
                    let what: fn(&portal_ui::Texts) -> String = if kind == FactorKind::Totp {
                        |t| t.notices.totp_removed.into()
                    } else {
                        |t| t.notices.email_removed.into()
                    };
                    mail::notify(
                        idp,
                        &user.email,
                        &mail::factors_changed(what, &vn_time(now)),
                    )
                    .await;
                }
                Said::FactorRemoved.into()
            }
        }
        Op::NewCodes => {
            if factors.is_empty() {
                Answer::default()
            } else {
                let codes = new_recovery_codes(idp, &user.id, now).await?;
                audit(idp, who, Kind::RecoveryCodesRenewed, user, None, now).await;
                let mail = mail::factors_changed(
                    |t| t.notices.recovery_codes_renewed.into(),
                    &vn_time(now),
                );
                mail::notify(idp, &user.email, &mail).await;
                Answer {
                    recovery_codes: codes,
                    ..Answer::default()
                }
            }
        }
        _ => Said::BadRequest.into(),
    })
}
