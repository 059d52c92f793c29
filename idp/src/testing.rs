//! The in-process harness for domain unit tests: a real [`Idp`] on SQLite in
//! a temp dir, the memory cache, and a clock the test sets. Domain functions
//! take `now`; [`TestIdp::now`] gives it and [`TestIdp::advance`] moves it,
//! together with the cache's expiry, so a test passes a TTL without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use crate::Idp;
use crate::auth::session::{self, SsoSession};
use crate::cache::{Cache, Clock, Limits, MemoryCache};
use crate::config::Config;
use crate::crypto;
use crate::ids::{Email, UserId};
use crate::kinds::{ClientAuthMethod, GrantType};
use crate::store::{NewClient, NewUser, SessionRow};

/// Where every test clock starts (2026-11-01 00:00 UTC): fixed, so nothing
/// depends on the day the test runs.
pub const START: i64 = 1_793_491_200;

/// A store alone: SQLite in a temporary directory, migrated.
pub async fn test_store() -> (crate::store::Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/test.db", dir.path().display());
    let store = crate::store::Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    (store, dir)
}

pub struct TestIdp {
    pub idp: Idp,
    now: AtomicI64,
    clock: Clock,
    _dir: tempfile::TempDir,
}

/// The configuration of a test IdP in `dir`, with `extra` `IDP_*` settings.
pub fn config(dir: &tempfile::TempDir, extra: &[(&str, &str)]) -> Config {
    let d = dir.path().display().to_string();
    let mut env: Vec<(String, String)> = vec![
        ("IDP_DATA_DIR".into(), d.clone()),
        ("IDP_DATABASE_URL".into(), format!("sqlite://{d}/idp.db")),
        ("IDP_EMAIL_DOMAIN".into(), "binhphuoc.gov.vn".into()),
        // Cheap hashes keep the tests fast; production keeps the OWASP defaults.
        ("IDP_PASSWORD__MEMORY_KIB".into(), "8192".into()),
        ("IDP_PASSWORD__ITERATIONS".into(), "1".into()),
    ];
    env.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    Config::load_from(None, &env).unwrap()
}

impl TestIdp {
    pub async fn new() -> TestIdp {
        TestIdp::with(&[]).await
    }

    /// A test IdP with `extra` `IDP_*` settings.
    pub async fn with(extra: &[(&str, &str)]) -> TestIdp {
        let dir = tempfile::tempdir().unwrap();
        let mut idp = Idp::open(config(&dir, extra)).await.unwrap();
        let clock = Clock::manual();
        idp.cache = Cache::Memory(MemoryCache::with_clock(Limits::default(), clock.clone()));
        TestIdp {
            idp,
            now: AtomicI64::new(START),
            clock,
            _dir: dir,
        }
    }

    /// Seconds since the epoch, as the test set them.
    pub fn now(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }

    /// Moves the clock (and the cache's expiry) forward.
    pub fn advance(&self, secs: u64) {
        self.now
            .fetch_add(i64::try_from(secs).unwrap(), Ordering::SeqCst);
        self.clock.advance(Duration::from_secs(secs));
    }

    /// Adds a person with no password; returns their user id.
    pub async fn add_person(&self, local: &str) -> String {
        let id = crypto::random_id().unwrap();
        self.idp
            .store
            .create_user(
                &NewUser {
                    id: UserId::from(id.clone()),
                    email: Email::parse(&format!("{local}@binhphuoc.gov.vn")).unwrap(),
                    name: "Trương Thanh Tâm".into(),
                    phone: None,
                    unit: None,
                    title: None,
                    employee_code: None,
                    password_hash: None,
                    is_admin: false,
                },
                self.now(),
            )
            .await
            .unwrap();
        id
    }

    /// Registers a client like `idp client add` does with the given
    /// method, grants and redirect URI; returns its secret (when it has one).
    pub async fn add_client(
        &self,
        id: &str,
        auth_method: ClientAuthMethod,
        f: impl FnOnce(&mut NewClient),
    ) -> String {
        let secret = crypto::random_token().unwrap();
        let mut c = NewClient {
            id: id.into(),
            name: "Quản lý văn bản".into(),
            secret_hash: Some(crypto::sha256_b64(secret.as_bytes())),
            auth_method,
            redirect_uris: vec![format!("https://{id}.binhphuoc.gov.vn/cb")],
            post_logout_redirect_uris: vec![format!("https://{id}.binhphuoc.gov.vn/")],
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            backchannel_logout_uri: None,
            frontchannel_logout_uri: None,
            initiate_login_uri: None,
            jwks: None,
            id_token_alg: "RS256".into(),
            created_at: self.now(),
            require_mfa: false,
            allowed_scopes: vec![],
            allowed_resources: vec![],
            pkce_required: true,
        };
        f(&mut c);
        self.idp.store.create_client(&c).await.unwrap();
        secret
    }

    /// Signs `user_id` in with a password, as the login form does (the
    /// session in the cache and its row); returns the cookie and session.
    pub async fn sign_in(&self, user_id: &UserId) -> (String, SsoSession) {
        let cfg = &self.idp.config.session;
        let now = self.now();
        let (cookie, sess) =
            session::create(&self.idp.cache, cfg, user_id, vec!["pwd".into()], "1", now)
                .await
                .unwrap();
        self.idp
            .store
            .record_session(&SessionRow {
                sid: sess.sid.clone(),
                user_id: user_id.to_owned(),
                key_hash: session::key_hash(&cookie),
                created_at: now,
                ip: None,
                user_agent: None,
                ended_at: None,
            })
            .await
            .unwrap();
        (cookie, sess)
    }
}

/// A PKCE pair: (verifier, S256 challenge).
pub fn pkce() -> (String, String) {
    let verifier = crypto::random_token().unwrap() + &crypto::random_token().unwrap();
    let challenge = crypto::sha256_b64(verifier.as_bytes());
    (verifier, challenge)
}

/// The value of `name` in a URL's query.
pub fn param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
