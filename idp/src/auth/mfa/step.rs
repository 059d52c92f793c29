//! The step between the password and the second factor (also the step-up an
//! app asks for with `acr_values=2`): the half-signed-in state (a
//! [`Half`] in the cache under the hash of a short-lived cookie), checking a
//! code (reserved in the per-person count before it is looked at, wrong ones
//! audited), pausing, the first factor's bootstrap and enrolment for a person
//! who has none, and finishing into a session.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::email::{CodeCheck, Purpose, check_email_code, mask};
use super::enrol::{EnrolView, bootstrap_op, confirm, enrol_op, enrol_view, send_code};
use super::recovery::{recovery_used, use_recovery_code};
use super::totp::check_totp;
use super::{
    Answer, Attempt, Input, Method, MfaError, Op, Said, Scope, Who, amr_enrolled, is_fresh,
};
use crate::Idp;
use crate::cache::{CacheError, keys};
use crate::crypto;
use crate::ids::UserId;
use crate::kinds::FactorKind;
use crate::oidc::OidcError;
use crate::portal::login::{self, Context, LoginError, LoginResult};
use crate::store::{StoreError, User};

/// A person between their password and their second factor (or signed in
/// and asked for a second factor by an app: `step_up` names the session).
/// Kept in the cache under the hash of a short-lived cookie.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Half {
    pub user_id: UserId,
    /// The pending authorization, if an app asked.
    pub req: Option<String>,
    /// The `sid` of the session to raise, for a step-up.
    pub step_up: Option<String>,
    /// Where a step-up the IdP itself asked for returns (a local path
    /// already checked by `http::return_to`, e.g. an admin console page).
    #[serde(default)]
    pub then: Option<String>,
    /// Set once a factor was just enrolled (and proven): the `amr` to finish
    /// with after the recovery codes have been shown.
    pub passed: Option<Vec<String>>,
    pub created_at: i64,
}

/// How long a person has for their second factor.
pub const HALF_TTL_SECS: u64 = 15 * 60;

impl Half {
    /// Stores a new one; returns the cookie value.
    pub async fn save(&self, idp: &Idp) -> Result<String, MfaError> {
        let token = crypto::random_token()?;
        self.update(idp, &token).await?;
        Ok(token)
    }

    pub async fn update(&self, idp: &Idp, token: &str) -> Result<(), MfaError> {
        idp.cache
            .set_json(&keys::half(token), self, Duration::from_secs(HALF_TTL_SECS))
            .await?;
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Mfa(#[from] MfaError),
    #[error(transparent)]
    Login(#[from] LoginError),
    #[error(transparent)]
    Oidc(#[from] OidcError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cache(#[from] CacheError),
}

/// The person half-way through, by the second-factor cookie; `None` when the
/// sign-in is over (finished, expired) or the person is gone or disabled.
pub async fn half(idp: &Idp, token: &str) -> Result<Option<(Half, User)>, StepError> {
    let Some(half) = idp.cache.get_json::<Half>(&keys::half(token)).await? else {
        return Ok(None);
    };
    let user = idp
        .store
        .user_by_id(&half.user_id)
        .await?
        .filter(|u| !u.is_disabled());
    Ok(user.map(|u| (half, u)))
}

/// What the second step's page shows.
pub struct StepView {
    /// The app that asked, if one did.
    pub client_name: Option<String>,
    pub totp: bool,
    /// The address codes go to, masked.
    pub email: Option<String>,
    /// No factor yet: the bootstrap and enrolment are offered.
    pub enrolling: bool,
    pub enrol: EnrolView,
}

pub async fn view(
    idp: &Idp,
    token: &str,
    half: &Half,
    user: &User,
    mut answer: Answer,
    now: i64,
) -> Result<StepView, StepError> {
    let client_name = match &half.req {
        Some(r) => login::pending(idp, r)
            .await
            .ok()
            .flatten()
            .map(|p| p.client_name),
        None => None,
    };
    let factors = idp.store.factors(&user.id).await?;
    let enrolling = factors.is_empty() && half.passed.is_none();
    answer.totp = enrolling;
    let scope = Scope::Half(token);
    let confirm = if enrolling {
        confirm(idp, user, &factors, scope, now).await?
    } else {
        None
    };
    let enrol = enrol_view(idp, user, scope, confirm, &mut answer).await?;
    Ok(StepView {
        client_name,
        totp: factors.iter().any(|f| f.kind == FactorKind::Totp),
        email: factors
            .iter()
            .find(|f| f.kind == FactorKind::Email)
            .and_then(|f| f.address.as_deref())
            .map(mask),
        enrolling,
        enrol,
    })
}

/// Where an op of the second step leads.
#[derive(Debug)]
pub enum StepOutcome {
    /// The page again, saying this.
    Page(Answer),
    /// The page again, afresh (the op does not apply).
    Again,
    /// The step is over: the sign-in's result; the second-factor cookie goes.
    Finished(LoginResult),
    /// The half-signed-in state is gone (finished elsewhere, expired).
    Expired,
}

/// One op of the second step for the sign-in `token` (its CSRF token checked).
pub async fn submit(
    idp: &Idp,
    token: &str,
    half: &mut Half,
    user: &User,
    input: Input<'_>,
    c: Context<'_>,
    now: i64,
) -> Result<StepOutcome, StepError> {
    // A code check holds its place in the count before the code is looked
    // at, so parallel guesses cannot all be checked.
    let mut attempt = match Attempt::begin(idp, user, input.op).await? {
        Ok(a) => a,
        Err(said) => return Ok(StepOutcome::Page(said.into())),
    };
    let outcome: Result<StepOutcome, StepError> = async {
        let attempt = &mut attempt;
        let who = Who {
            ip: c.ip.clone(),
            request_id: c.request_id.clone(),
        };
        let scope = Scope::Half(token);
        let factors = idp.store.factors(&user.id).await?;
        let code = input.code;
        let factor = |kind: FactorKind| factors.iter().find(|x| x.kind == kind);
        let proven = match (input.op, attempt.as_mut()) {
            (Op::Totp, Some(_)) => match factor(FactorKind::Totp) {
                Some(fa) if check_totp(idp, user, fa, code, now).await? => Some(Method::Totp.amr()),
                _ => None,
            },
            (Op::EmailSend, _) => {
                let Some(address) = factor(FactorKind::Email).and_then(|x| x.address.clone())
                else {
                    return Ok(StepOutcome::Again);
                };
                let answer =
                    send_code(idp, user, &Purpose::Login, &address, &mask(&address), now).await?;
                return Ok(StepOutcome::Page(answer));
            }
            (Op::Email, Some(_)) => {
                match check_email_code(idp, &user.id, &Purpose::Login, code, now).await? {
                    CodeCheck::Right(_) => Some(Method::Email.amr()),
                    CodeCheck::Wrong | CodeCheck::Missing => None,
                }
            }
            (Op::Recovery, Some(_)) => {
                if use_recovery_code(idp, &user.id, code, now).await? {
                    recovery_used(idp, &who, user, now).await?;
                    Some(Method::Recovery.amr())
                } else {
                    None
                }
            }
            (Op::Done, _) => half.passed.clone(),
            // Enrolment is for people without any factor yet.
            _ if !factors.is_empty() => return Ok(StepOutcome::Again),
            _ => {
                if let Some(answer) =
                    bootstrap_op(idp, &who, user, scope, input, attempt, now).await?
                {
                    return Ok(StepOutcome::Page(answer));
                }
                // The first factor only after the out-of-band bootstrap: the
                // password alone binds nothing.
                if !is_fresh(idp, scope, now).await? {
                    return Ok(StepOutcome::Page(Said::ConfirmFirst.into()));
                }
                return Ok(
                    match enrol_op(idp, &who, user, scope, input, attempt, now).await? {
                        Some((answer, Some(_))) => {
                            // Enrolled in this sign-in: it proves the bootstrap, not a
                            // factor the person already held, so acr stays 1.
                            let amr = amr_enrolled();
                            if answer.recovery_codes.is_empty() {
                                // No new codes to show: on to the app.
                                return finish(idp, token, half, amr, c, now).await;
                            }
                            // The codes first; "continue" finishes.
                            half.passed = Some(amr);
                            half.update(idp, token).await?;
                            StepOutcome::Page(answer)
                        }
                        Some((answer, None)) => StepOutcome::Page(answer),
                        None => StepOutcome::Again,
                    },
                );
            }
        };
        match (proven, attempt.as_mut()) {
            (Some(amr), Some(a)) => {
                a.right(idp, user).await?;
                finish(idp, token, half, amr, c, now).await
            }
            (Some(amr), None) => finish(idp, token, half, amr, c, now).await,
            (None, Some(a)) => Ok(StepOutcome::Page(
                a.wrong(idp, &who, user, input.op.name(), now).await,
            )),
            (None, None) => Ok(StepOutcome::Again),
        }
    }
    .await;
    if let Some(a) = attempt {
        a.unused(idp, user).await?;
    }
    outcome
}

/// The second factor is proven: sign in, or raise the session.
async fn finish(
    idp: &Idp,
    token: &str,
    half: &Half,
    amr: Vec<String>,
    c: Context<'_>,
    now: i64,
) -> Result<StepOutcome, StepError> {
    // Taken, so the same half cannot finish twice.
    if idp
        .cache
        .take_json::<Half>(&keys::half(token))
        .await?
        .is_none()
    {
        return Ok(StepOutcome::Expired);
    }
    Ok(StepOutcome::Finished(
        login::complete(idp, half, amr, c, now).await?,
    ))
}
