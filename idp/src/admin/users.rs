//! People, as an administrator manages them: add a person (with a local
//! password that passes `auth::policy`), lift a sign-in lock, remove second
//! factors (a lost phone), issue the one-time enrolment code that binds a
//! first factor.

use secrecy::{ExposeSecret, SecretString};

use super::{Actor, audit};
use crate::audit::Kind;
use crate::auth::account::{self, AccountError};
use crate::auth::mfa::MfaError;
use crate::auth::password::{Hasher, PasswordError};
use crate::auth::policy::{self, Weak};
use crate::cache::{Cache, CacheError};
use crate::crypto::{self, CryptoError};
use crate::ids::Email;
use crate::store::{NewUser, Store, StoreError, User};

/// A person as an administrator adds them.
#[derive(Debug, Default)]
pub struct NewPerson {
    /// The official e-mail, or a short name completed with the e-mail domain.
    pub email: String,
    pub name: String,
    /// A local password; `None` for people who sign in with the directory.
    pub password: Option<SecretString>,
    pub admin: bool,
    pub phone: Option<String>,
    pub unit: Option<String>,
    pub title: Option<String>,
    pub employee_code: Option<String>,
    pub groups: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("{0}: {1:?}")]
    Account(AccountError, String),
    #[error("--name must not be empty")]
    EmptyName,
    #[error(transparent)]
    Weak(#[from] Weak),
    #[error("a person with e-mail {0} already exists")]
    Exists(String),
    #[error("no such person: {0}")]
    NoSuchPerson(String),
    #[error("{0} comes from the directory: their unit is changed there")]
    DirectoryOwned(String),
    #[error("a unit is 1 to 200 characters, no control characters")]
    BadUnit,
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Mfa(#[from] MfaError),
}

impl From<StoreError> for UserError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(email) => UserError::Exists(email),
            other => UserError::Store(other),
        }
    }
}

/// The e-mail we store for what the administrator typed.
pub fn account(typed: &str, domain: Option<&str>) -> Result<Email, UserError> {
    account::normalize(typed, domain).map_err(|e| UserError::Account(e, typed.to_owned()))
}

async fn person(store: &Store, email: &Email) -> Result<User, UserError> {
    store
        .user_by_email(email)
        .await?
        .ok_or_else(|| UserError::NoSuchPerson(email.to_string()))
}

/// Adds a person; a password is checked by the one policy before it is hashed.
pub async fn add(
    store: &Store,
    hasher: &Hasher,
    domain: Option<&str>,
    p: NewPerson,
    actor: &Actor,
    now: i64,
) -> Result<User, UserError> {
    let email = account(&p.email, domain)?;
    let name = p.name.trim().to_owned();
    if name.is_empty() {
        return Err(UserError::EmptyName);
    }
    let password_hash = match &p.password {
        Some(pw) => Some(
            hasher
                .hash(policy::check(pw.expose_secret(), &email)?)
                .await?,
        ),
        None => None,
    };
    let user = store
        .create_user(
            &NewUser {
                id: crypto::random_id()?.into(),
                email,
                name,
                phone: p.phone,
                unit: p.unit,
                title: p.title,
                employee_code: p.employee_code,
                password_hash,
                is_admin: p.admin,
            },
            now,
        )
        .await?;
    for g in &p.groups {
        store.add_to_group(g, &user.id).await?;
    }
    let detail = p.admin.then(|| "administrator".into());
    audit(store, actor, Kind::AdminUserAdded, &user.email, detail, now).await?;
    Ok(user)
}

/// Lifts a sign-in lock (the counters live in `cache`); returns the e-mail.
pub async fn unlock(
    store: &Store,
    cache: &Cache,
    domain: Option<&str>,
    typed: &str,
    actor: &Actor,
    now: i64,
) -> Result<Email, UserError> {
    let email = account(typed, domain)?;
    crate::auth::guard::unlock(cache, &email).await?;
    audit(store, actor, Kind::AdminUnlocked, &email, None, now).await?;
    Ok(email)
}

/// Moves a local person to `unit` (trimmed, at most 200 characters),
/// audited before and after. A directory person's unit is the directory's.
pub async fn set_unit(
    store: &Store,
    domain: Option<&str>,
    typed: &str,
    unit: &str,
    actor: &Actor,
    now: i64,
) -> Result<Email, UserError> {
    let email = account(typed, domain)?;
    let user = person(store, &email).await?;
    if user.source != crate::kinds::UserSource::Local {
        return Err(UserError::DirectoryOwned(email.to_string()));
    }
    let unit = unit.trim();
    if unit.is_empty() || unit.chars().count() > 200 || unit.chars().any(char::is_control) {
        return Err(UserError::BadUnit);
    }
    store.set_user_unit(&user.id, unit, now).await?;
    let detail = format!(
        "before: {}; after: {unit}",
        user.unit.as_deref().unwrap_or("-")
    );
    audit(
        store,
        actor,
        Kind::AdminUnitChanged,
        &email,
        Some(detail),
        now,
    )
    .await?;
    Ok(email)
}

/// Removes a person's second factors and recovery codes; when `mail` is on,
/// the owner is told. Returns the e-mail and how many factors went.
pub async fn reset_factors(
    store: &Store,
    domain: Option<&str>,
    typed: &str,
    mail: bool,
    actor: &Actor,
    now: i64,
) -> Result<(Email, u64), UserError> {
    let email = account(typed, domain)?;
    let user = person(store, &email).await?;
    let n = store.reset_factors(&user.id).await?;
    let detail = Some(format!("{n} factors removed"));
    audit(store, actor, Kind::AdminFactorsReset, &email, detail, now).await?;
    if mail {
        let mail = crate::mail::factors_changed(
            |t| t.notices.admin_factors_reset.into(),
            &crate::portal::account::vn_time(now),
        );
        let to = user.email.as_str();
        crate::outbox::enqueue(store, crate::outbox::Item::Mail { to, mail: &mail }, now).await?;
    }
    Ok((email, n))
}

/// An issued enrolment code: shown once, then only its hash exists.
#[derive(Debug)]
pub struct EnrolmentCode {
    pub email: Email,
    pub code: SecretString,
    pub expires_at: i64,
}

/// Issues the one-time code that lets a person with no second factor bind
/// their first one.
pub async fn enrolment_code(
    store: &Store,
    domain: Option<&str>,
    typed: &str,
    actor: &Actor,
    now: i64,
) -> Result<EnrolmentCode, UserError> {
    let email = account(typed, domain)?;
    let user = person(store, &email).await?;
    let (code, expires_at) = crate::auth::mfa::issue_enrolment_code(store, &user, now).await?;
    // The code itself is never logged or audited: only that one was issued.
    let detail = Some(format!("valid until {expires_at}"));
    audit(store, actor, Kind::AdminEnrolmentCode, &email, detail, now).await?;
    Ok(EnrolmentCode {
        email,
        code: SecretString::from(code),
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PasswordConfig;

    fn hasher() -> Hasher {
        Hasher::new(&PasswordConfig {
            memory_kib: 8192,
            iterations: 1,
            ..PasswordConfig::default()
        })
        .unwrap()
    }

    fn tam(password: &str) -> NewPerson {
        NewPerson {
            email: "tamtt".into(),
            name: " Trương Thanh Tâm ".into(),
            password: Some(SecretString::from(password)),
            groups: vec!["lanh-dao".into()],
            ..NewPerson::default()
        }
    }

    #[tokio::test]
    async fn a_person_is_added_with_a_password_that_passes_the_policy() {
        let (store, _dir) = super::super::test_store().await;
        let domain = Some("binhphuoc.gov.vn");
        let u = add(
            &store,
            &hasher(),
            domain,
            tam("Mật-khẩu-2024!"),
            &Actor::cli(),
            5,
        )
        .await
        .unwrap();
        assert_eq!(u.email, "tamtt@binhphuoc.gov.vn");
        assert_eq!(u.name, "Trương Thanh Tâm");
        assert!(u.password_hash.is_some());
        assert_eq!(store.groups_of(&u.id).await.unwrap(), ["lanh-dao"]);
        let audited = store.recent_audit(1).await.unwrap();
        assert_eq!(audited[0].kind, "admin.user_added");
        assert_eq!(audited[0].actor.as_deref(), Some("cli"));
        let again = add(
            &store,
            &hasher(),
            domain,
            tam("Mật-khẩu-2024!"),
            &Actor::cli(),
            6,
        )
        .await;
        assert!(matches!(again, Err(UserError::Exists(_))));
    }

    #[tokio::test]
    async fn a_weak_password_adds_nobody() {
        let (store, _dir) = super::super::test_store().await;
        let domain = Some("binhphuoc.gov.vn");
        for (pw, why) in [
            ("ngắn-quá", Weak::TooShort { min: 10 }),
            ("matkhau123", Weak::Common),
            ("tamtt-2024-x", Weak::LikeAccount),
        ] {
            let e = add(&store, &hasher(), domain, tam(pw), &Actor::cli(), 5).await;
            assert!(matches!(e, Err(UserError::Weak(w)) if w == why), "{pw}");
        }
        assert!(
            store
                .user_by_email(&Email::parse("tamtt@binhphuoc.gov.vn").unwrap())
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn enrolment_codes_and_factor_resets_are_audited_without_the_code() {
        let (store, _dir) = super::super::test_store().await;
        let domain = Some("binhphuoc.gov.vn");
        add(
            &store,
            &hasher(),
            domain,
            tam("Mật-khẩu-2024!"),
            &Actor::cli(),
            5,
        )
        .await
        .unwrap();
        let issued = enrolment_code(&store, domain, "tamtt", &Actor::cli(), 6)
            .await
            .unwrap();
        assert_eq!(issued.email, "tamtt@binhphuoc.gov.vn");
        let (email, n) = reset_factors(&store, domain, "tamtt", false, &Actor::cli(), 7)
            .await
            .unwrap();
        assert_eq!((email.as_str(), n), ("tamtt@binhphuoc.gov.vn", 0));
        let audited = store.recent_audit(3).await.unwrap();
        let kinds: Vec<_> = audited.iter().map(|e| e.kind.as_str()).collect();
        assert!(kinds.contains(&"admin.enrolment_code"), "{kinds:?}");
        assert!(kinds.contains(&"admin.factors_reset"), "{kinds:?}");
        let code = issued.code.expose_secret();
        assert!(audited.iter().all(|e| !format!("{e:?}").contains(code)));
    }

    #[tokio::test]
    async fn unlock_clears_the_counters_and_is_audited() {
        let (store, _dir) = super::super::test_store().await;
        let cache = Cache::open(None).await.unwrap();
        let email = unlock(
            &store,
            &cache,
            None,
            "TamTT@binhphuoc.gov.vn",
            &Actor::cli(),
            9,
        )
        .await
        .unwrap();
        assert_eq!(email, "tamtt@binhphuoc.gov.vn");
        assert_eq!(
            store.recent_audit(1).await.unwrap()[0].kind,
            "admin.unlocked"
        );
    }

    #[tokio::test]
    async fn names_and_accounts_are_checked() {
        let (store, _dir) = super::super::test_store().await;
        let mut p = tam("Mật-khẩu-2024!");
        p.name = "  ".into();
        let e = add(
            &store,
            &hasher(),
            Some("binhphuoc.gov.vn"),
            p,
            &Actor::cli(),
            5,
        )
        .await;
        assert!(matches!(e, Err(UserError::EmptyName)));
        let e = add(
            &store,
            &hasher(),
            None,
            tam("Mật-khẩu-2024!"),
            &Actor::cli(),
            5,
        )
        .await;
        assert!(matches!(
            e,
            Err(UserError::Account(AccountError::NoDomain, _))
        ));
        let e = enrolment_code(&store, None, "ai@x.vn", &Actor::cli(), 5).await;
        assert!(matches!(e, Err(UserError::NoSuchPerson(_))));
    }
}
