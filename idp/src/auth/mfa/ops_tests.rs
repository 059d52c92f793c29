//! Unit tests of the ops of both factor pages (`manage`, `step`): which op is
//! allowed when, what it answers, and what the audit log says.

use super::step::{self, StepOutcome};
use super::tests::idp;
use super::totp::{open, totp};
use super::*;
use crate::auth::mfa::Half;
use crate::crypto;
use crate::portal::login::{Context, LoginResult};
use crate::store::NewUser;

async fn person(idp: &Idp, email: &str, admin: bool) -> User {
    let u = NewUser {
        id: UserId::from(crypto::random_token().unwrap()),
        email: crate::ids::Email::parse(email).unwrap(),
        name: "Trương Thanh Tâm".into(),
        phone: None,
        unit: None,
        title: None,
        employee_code: None,
        password_hash: None,
        is_admin: admin,
    };
    idp.store.create_user(&u, crate::now()).await.unwrap()
}

fn who() -> Who {
    Who {
        ip: Some("192.0.2.7".into()),
        request_id: "req-1".into(),
    }
}

fn input(op: Op, code: &str) -> Input<'_> {
    Input {
        op,
        code,
        address: "",
    }
}

/// The code the authenticator with key `sealed` shows at `now`.
fn code_of(idp: &Idp, user: &User, sealed: &str, now: i64) -> String {
    let t = totp(open(idp, &user.id, sealed).unwrap(), &user.email, "x").unwrap();
    t.generate(u64::try_from(now).unwrap()).to_string()
}

async fn kinds(idp: &Idp) -> Vec<String> {
    let events = idp.store.recent_audit(50).await.unwrap();
    events.into_iter().map(|e| e.kind).collect()
}

#[tokio::test]
async fn a_first_factor_waits_for_the_bootstrap_then_is_saved_audited_and_given_codes() {
    let dir = tempfile::tempdir().unwrap();
    let idp = idp(&dir).await;
    let user = person(&idp, "tamtt@binhphuoc.gov.vn", false).await;
    let now = crate::now();
    let w = who();
    let ask = |op| manage(&idp, &w, &user, "sid-1", input(op, ""), now);
    assert_eq!(ask(Op::StartTotp).await.unwrap().said, Said::ConfirmFirst);
    assert_eq!(
        ask(Op::BootstrapSend).await.unwrap().said,
        Said::CodeSent("t***@binhphuoc.gov.vn".into()),
        "only to the official mailbox"
    );
    let (code, _) = issue_enrolment_code(&idp.store, &user, now).await.unwrap();
    let a = manage(&idp, &w, &user, "sid-1", input(Op::Bootstrap, &code), now);
    assert_eq!(a.await.unwrap().said, Said::Confirmed);
    assert!(kinds(&idp).await.contains(&"mfa.bootstrapped".into()));
    let a = ask(Op::StartTotp).await.unwrap();
    assert!(a.totp);
    let v = factors_view(&idp, &user, "sid-1", a, now).await.unwrap();
    assert!(v.enrol.totp.is_some() && v.enrol.confirm.is_none());
    // Another session of the same person has proven nothing.
    let other = manage(&idp, &w, &user, "sid-2", input(Op::StartTotp, ""), now);
    assert_eq!(other.await.unwrap().said, Said::ConfirmFirst);

    let sealed = pending_totp(&idp, &user, Scope::Session("sid-1"))
        .await
        .unwrap();
    let right = code_of(&idp, &user, &sealed, now);
    let a = manage(&idp, &w, &user, "sid-1", input(Op::EnrolTotp, &right), now);
    let a = a.await.unwrap();
    assert_eq!(a.said, Said::FactorSaved);
    assert_eq!(a.recovery_codes.len(), 10, "codes with the first factor");
    assert_eq!(idp.store.factors(&user.id).await.unwrap().len(), 1);
    assert!(kinds(&idp).await.contains(&"mfa.totp_added".into()));
    // Not required of this person: the factor may go again.
    assert_eq!(ask(Op::RemoveTotp).await.unwrap().said, Said::FactorRemoved);
    assert!(idp.store.factors(&user.id).await.unwrap().is_empty());
    assert!(kinds(&idp).await.contains(&"mfa.totp_removed".into()));
}

#[tokio::test]
async fn an_administrators_last_factor_stays() {
    let dir = tempfile::tempdir().unwrap();
    let idp = idp(&dir).await;
    let admin = person(&idp, "admin@binhphuoc.gov.vn", true).await;
    let now = crate::now();
    let w = who();
    let sealed = new_totp_secret(&idp, &admin.id).unwrap();
    save_totp(&idp, &admin, &sealed, 1, now).await.unwrap();
    mark_fresh(&idp, Scope::Session("sid-1"), now)
        .await
        .unwrap();
    let a = manage(&idp, &w, &admin, "sid-1", input(Op::RemoveTotp, ""), now);
    assert_eq!(a.await.unwrap().said, Said::StillRequired);
    assert_eq!(idp.store.factors(&admin.id).await.unwrap().len(), 1);
    let a = manage(&idp, &w, &admin, "sid-1", input(Op::Unknown, ""), now);
    assert_eq!(a.await.unwrap().said, Said::BadRequest);
}

fn context() -> Context<'static> {
    Context {
        session_cookie: None,
        device: None,
        ip: Some("192.0.2.7".into()),
        user_agent: None,
        request_id: "req-1".into(),
    }
}

/// A person with an authenticator, half-way through signing in: the person,
/// the sealed key, the state and its cookie.
async fn half_with_totp(idp: &Idp, now: i64) -> (User, String, Half, String) {
    let user = person(idp, "tamtt@binhphuoc.gov.vn", false).await;
    let sealed = new_totp_secret(idp, &user.id).unwrap();
    save_totp(idp, &user, &sealed, 1, now).await.unwrap();
    let half = Half {
        user_id: user.id.clone(),
        req: None,
        step_up: None,
        then: None,
        passed: None,
        created_at: now,
    };
    let token = half.save(idp).await.unwrap();
    (user, sealed, half, token)
}

#[tokio::test]
async fn the_second_step_counts_wrong_codes_pauses_and_finishes_once() {
    let dir = tempfile::tempdir().unwrap();
    let idp = idp(&dir).await;
    let now = crate::now();
    let (user, sealed, mut half, token) = half_with_totp(&idp, now).await;
    assert!(step::half(&idp, &token).await.unwrap().is_some());
    let right = code_of(&idp, &user, &sealed, now);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };

    let out = step::submit(
        &idp,
        &token,
        &mut half,
        &user,
        input(Op::Totp, wrong),
        context(),
        now,
    );
    assert!(matches!(out.await.unwrap(), StepOutcome::Page(a) if a.said == Said::WrongCode));
    assert!(
        kinds(&idp)
            .await
            .contains(&"auth.second_factor_failed".into())
    );
    // Nothing to finish with yet, and enrolment is not for people with a factor.
    for op in [Op::Done, Op::EnrolTotp] {
        let out = step::submit(
            &idp,
            &token,
            &mut half,
            &user,
            input(op, ""),
            context(),
            now,
        );
        assert!(matches!(out.await.unwrap(), StepOutcome::Again), "{op:?}");
    }
    // Paused: even the right code is not looked at.
    while reserve(&idp, &user.id).await.unwrap().is_some() {}
    let out = step::submit(
        &idp,
        &token,
        &mut half,
        &user,
        input(Op::Totp, &right),
        context(),
        now,
    );
    assert!(matches!(out.await.unwrap(), StepOutcome::Page(a) if a.said == Said::Paused));
    idp.cache
        .delete(&crate::cache::keys::mfa_failures(&user.id))
        .await
        .unwrap();

    let out = step::submit(
        &idp,
        &token,
        &mut half,
        &user,
        input(Op::Totp, &right),
        context(),
        now,
    );
    assert!(matches!(
        out.await.unwrap(),
        StepOutcome::Finished(LoginResult::SignedIn { .. })
    ));
    assert!(step::half(&idp, &token).await.unwrap().is_none(), "spent");
    half.passed = Some(Method::Totp.amr());
    let out = step::submit(
        &idp,
        &token,
        &mut half,
        &user,
        input(Op::Done, ""),
        context(),
        now,
    );
    assert!(matches!(out.await.unwrap(), StepOutcome::Expired), "once");
}

/// An op that checks a code but does not apply (enrolment for a person who
/// has a factor, a change before the confirmation) gives its reservation
/// back: posting it again and again does not pause the person's factors.
#[tokio::test]
async fn ops_that_do_not_apply_count_no_wrong_code() {
    let dir = tempfile::tempdir().unwrap();
    let idp = idp(&dir).await;
    let now = crate::now();
    let (user, sealed, mut half, token) = half_with_totp(&idp, now).await;
    let w = who();
    for _ in 0..2 * MAX_FAILURES {
        for op in [Op::EnrolTotp, Op::EnrolEmail, Op::Bootstrap] {
            let out = step::submit(
                &idp,
                &token,
                &mut half,
                &user,
                input(op, "123456"),
                context(),
                now,
            );
            assert!(matches!(out.await.unwrap(), StepOutcome::Again), "{op:?}");
            // Not confirmed in this session: the change is refused before any code.
            let a = manage(&idp, &w, &user, "sid-2", input(op, "123456"), now);
            assert_ne!(a.await.unwrap().said, Said::Paused, "{op:?}");
        }
    }
    assert!(!paused(&idp, &user.id).await.unwrap());
    let right = code_of(&idp, &user, &sealed, now);
    let out = step::submit(
        &idp,
        &token,
        &mut half,
        &user,
        input(Op::Totp, &right),
        context(),
        now,
    );
    assert!(matches!(out.await.unwrap(), StepOutcome::Finished(_)));
}
