//! Unit tests of the second-factor rules: SQLite in a temp dir, the memory cache.

use std::time::Duration;

use totp_rs::Builder;

use super::email::EmailCode;
use super::recovery::recovery_hash;
use super::totp::digits;
use super::*;
use crate::crypto;
use crate::kinds::UserSource;
use crate::store::User;

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
pub(super) async fn idp(dir: &tempfile::TempDir) -> Idp {
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
        tasks.push(tokio::spawn(async move {
            reserve(&idp, &UserId::from("u1")).await.unwrap()
        }));
    }
    let mut go = Vec::new();
    for t in tasks {
        if let Some(r) = t.await.unwrap() {
            go.push(r);
        }
    }
    assert_eq!(go.len(), 10, "ten checks, however many come at once");
    assert!(paused(&idp, &UserId::from("u1")).await.unwrap());
    assert!(
        reserve(&idp, &UserId::from("u2")).await.unwrap().is_some(),
        "per person"
    );
    // Settled as wrong, exactly one of them (the tenth) is the one that paused.
    let mut paused_by = 0;
    for r in go {
        if settle(&idp, &UserId::from("u1"), r, false).await.unwrap() {
            paused_by += 1;
        }
    }
    assert_eq!(paused_by, 1);
    // A right code settles by clearing the count.
    let r = reserve(&idp, &UserId::from("u3")).await.unwrap().unwrap();
    settle(&idp, &UserId::from("u3"), r, true).await.unwrap();
    for _ in 0..10 {
        assert!(reserve(&idp, &UserId::from("u3")).await.unwrap().is_some());
    }
    assert!(reserve(&idp, &UserId::from("u3")).await.unwrap().is_none());
}

#[tokio::test]
async fn an_emailed_code_allows_five_tries_even_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let idp = std::sync::Arc::new(idp(&dir).await);
    let now = 1_000_000;
    let key = crate::cache::keys::email_code(&UserId::from("u1"), Purpose::Login);
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
            check_email_code(
                &idp,
                &UserId::from("u1"),
                &Purpose::Login,
                "654321",
                now + 5,
            )
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
        check_email_code(
            &idp,
            &UserId::from("u1"),
            &Purpose::Login,
            "123456",
            now + 6
        )
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
        send_email_code(
            &idp,
            &UserId::from("u1"),
            &Purpose::Enrol(a),
            "x@gmail.com",
            now
        )
        .await
        .unwrap(),
        Sent::Sent
    );
    // Browser B has no code waiting, so A's cannot be confirmed there.
    let key_b = crate::cache::keys::email_code(&UserId::from("u1"), Purpose::Enrol(b));
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
        email: crate::ids::Email::parse("tamtt@binhphuoc.gov.vn").unwrap(),
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
        source: UserSource::Local,
        signature_page: crate::kinds::SignaturePage::Last,
        signature_place: crate::kinds::SignaturePlace::BottomRight,
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

#[test]
fn addresses_for_codes() {
    use super::enrol::plausible_address;
    assert!(plausible_address("nguyenvana@gmail.com"));
    assert!(!plausible_address("nguyenvana"));
    assert!(!plausible_address("a@localhost"));
    assert!(!plausible_address("a b@gmail.com"));
}
