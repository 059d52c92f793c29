//! Durable state in SQL through sqlx's `Any` driver: SQLite for the embedded
//! default, PostgreSQL in production, picked by the URL. One SQL text serves
//! both (`$n` placeholders, BIGINT Unix times, `ON CONFLICT`), and each
//! aggregate has its own file: users, clients, apps, keys, grants, audit, outbox,
//! sessions, cas (services and their sessions), saml (the IdP key, SPs and their sessions), links (and link_queue, what the linking pages read), roles and
//! people (the console's people search, units and audit filters).

mod apps;
mod audit;
mod cas;
mod clients;
mod document_keys;
mod factors;
mod grants;
mod keys;
mod link_queue;
mod links;
mod outbox;
mod people;
mod roles;
mod saml;
mod sealed;
mod sessions;
mod users;

pub use apps::App;
pub use audit::AuditEvent;
pub use cas::{CasService, CasSessionRow};
pub use clients::{Client, NewClient};
pub use document_keys::DocumentKeyRow;
pub use factors::Factor;
pub use grants::{Grant, RefreshUse};
pub use keys::KeyRow;
pub use link_queue::{CoverageCounts, LinkRequest, PersonRow, QueueFilter, QueueKey, QueueRow};
pub use links::{AccountWrite, Flag, LegacyRow, Link, NewSuggestion, SuggestionRow};
pub use outbox::OutboxItem;
pub use people::{AuditQuery, AuditRow, PeopleQuery, UnitCount};
pub use roles::RoleRow;
pub use saml::{SamlKeyRow, SamlSessionRow, SamlSp};
pub use sessions::{EndedSessions, SessionRow};
pub use users::{DirectoryChanges, NewUser, ProfileChange, Signature, User};

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("already exists: {0}")]
    Conflict(String),
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("cannot create the database directory {0}: {1}")]
    Dir(String, std::io::Error),
}

impl From<sqlx::Error> for StoreError {
    /// A stored value outside its vocabulary (`kinds`) is a corrupt row, named.
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::ColumnDecode { index, source } = &e
            && let Some(unknown) = source.downcast_ref::<crate::kinds::UnknownValue>()
        {
            return StoreError::Corrupt(format!("column {index}: {unknown}"));
        }
        StoreError::Db(e)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

impl Store {
    /// Connects to `url`; a SQLite file (and its directory) is created when missing.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        install_default_drivers();
        let (backend, url) = if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.trim_start_matches("//");
            let file = path.split('?').next().unwrap_or_default();
            if let Some(dir) = std::path::Path::new(file)
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                crate::files::create_private_dir(dir)
                    .map_err(|e| StoreError::Dir(dir.display().to_string(), e))?;
            }
            // Created 0600 before SQLite opens it (SQLite would use the umask:
            // 0644); its -wal and -shm files copy the database's mode.
            if !file.is_empty() && file != ":memory:" && !path.contains("mode=memory") {
                crate::files::create_private_file(std::path::Path::new(file))
                    .map_err(|e| StoreError::Dir(file.to_owned(), e))?;
            }
            let url = if path.contains("mode=") {
                format!("sqlite://{path}")
            } else if path.contains('?') {
                format!("sqlite://{path}&mode=rwc")
            } else {
                format!("sqlite://{path}?mode=rwc")
            };
            (Backend::Sqlite, url)
        } else {
            (Backend::Postgres, url.to_owned())
        };
        let options = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(5));
        let options = if backend == Backend::Sqlite {
            options.after_connect(|conn, _| {
                Box::pin(async move {
                    // WAL lets readers run beside the one writer; wait rather than fail on a busy lock.
                    conn.execute("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")
                        .await?;
                    Ok(())
                })
            })
        } else {
            options
        };
        let pool = options.connect(&url).await?;
        Ok(Store { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A transaction that writes. On SQLite it takes the write lock at its
    /// start (`BEGIN IMMEDIATE`, waiting out `busy_timeout`): a deferred
    /// transaction that reads first cannot become the writer once another
    /// connection has written since its read (`SQLITE_BUSY_SNAPSHOT`, which
    /// fails at once, without waiting), so under concurrent writes its work
    /// was lost. PostgreSQL locks rows as they are written.
    async fn write_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// Applies the migrations of this backend (idempotent).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    /// For `/readyz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Maps a unique-constraint violation to `Conflict`, anything else to `Db`.
fn conflict(e: sqlx::Error, what: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(what.to_owned())
        }
        _ => StoreError::Db(e),
    }
}

fn json_list<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<Vec<T>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

fn to_json<T: serde::Serialize>(list: &[T]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{ClientId, Email, UserId};
    use crate::kinds::{ClientAuthMethod, FactorKind, GrantType, UserSource};

    #[tokio::test]
    async fn a_stored_value_outside_its_vocabulary_is_a_corrupt_row_named() {
        let (s, _dir) = crate::testing::test_store().await;
        let user = NewUser {
            id: "u1".into(),
            email: Email::parse("tamtt@binhphuoc.gov.vn").unwrap(),
            name: "Trương Thanh Tâm".into(),
            phone: None,
            unit: None,
            title: None,
            employee_code: None,
            password_hash: None,
            is_admin: false,
        };
        assert_eq!(
            s.create_user(&user, 1).await.unwrap().source,
            UserSource::Local
        );
        let factor = Factor {
            user_id: "u1".into(),
            kind: FactorKind::Totp,
            secret: Some("sealed".into()),
            address: None,
            last_step: 0,
            created_at: 1,
        };
        s.put_factor(&factor).await.unwrap();
        s.create_client(&NewClient {
            id: "vanban".into(),
            name: "Quản lý văn bản".into(),
            secret_hash: None,
            auth_method: ClientAuthMethod::ClientSecretPost,
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            grant_types: vec![GrantType::ClientCredentials],
            backchannel_logout_uri: None,
            frontchannel_logout_uri: None,
            initiate_login_uri: None,
            jwks: None,
            id_token_alg: "RS256".into(),
            created_at: 1,
            require_mfa: false,
            allowed_scopes: vec![],
            allowed_resources: vec![],
            pkce_required: true,
        })
        .await
        .unwrap();
        let c = s.client(&ClientId::from("vanban")).await.unwrap().unwrap();
        assert_eq!(c.auth_method, ClientAuthMethod::ClientSecretPost);
        assert_eq!(c.grant_types, [GrantType::ClientCredentials]);
        assert_eq!(s.factors(&UserId::from("u1")).await.unwrap(), [factor]);

        let corrupt = |r: Result<_, StoreError>, value: &str| match r {
            Err(StoreError::Corrupt(m)) => assert!(m.contains(value), "{m}"),
            Err(e) => panic!("{value}: {e}"),
            Ok(_) => panic!("{value} was read"),
        };
        let set = |sql: &'static str| sqlx::query(sql).execute(&s.pool);
        set("UPDATE clients SET auth_method = 'client_secret_jwt'")
            .await
            .unwrap();
        corrupt(
            s.client(&ClientId::from("vanban")).await.map(|_| ()),
            "client_secret_jwt",
        );
        set("UPDATE clients SET auth_method = 'none', grant_types = '[\"password\"]'")
            .await
            .unwrap();
        corrupt(
            s.client(&ClientId::from("vanban")).await.map(|_| ()),
            "password",
        );
        set("UPDATE factors SET kind = 'sms'").await.unwrap();
        corrupt(s.factors(&UserId::from("u1")).await.map(|_| ()), "sms");
        set("UPDATE users SET signature_place = 'middle'")
            .await
            .unwrap();
        corrupt(
            s.user_by_id(&UserId::from("u1")).await.map(|_| ()),
            "middle",
        );
        set("UPDATE users SET signature_place = 'top-left', source = 'ad'")
            .await
            .unwrap();
        corrupt(s.user_by_id(&UserId::from("u1")).await.map(|_| ()), "ad");
    }

    /// Transactions that read and then write, run at once on many
    /// connections: each must see the others' committed writes and none may
    /// fail. With a deferred `BEGIN` on SQLite, a writer whose read was
    /// overtaken by another commit failed at once (`SQLITE_BUSY_SNAPSHOT`).
    #[tokio::test]
    async fn read_then_write_transactions_on_many_connections_all_commit_in_order() {
        let (s, _dir) = crate::testing::test_store().await;
        sqlx::query("CREATE TABLE counter (n BIGINT NOT NULL UNIQUE)")
            .execute(&s.pool)
            .await
            .unwrap();
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let s = s.clone();
                tokio::spawn(async move {
                    for _ in 0..8 {
                        let mut tx = s.write_tx().await?;
                        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM counter")
                            .fetch_one(&mut *tx)
                            .await?;
                        sqlx::query("INSERT INTO counter (n) VALUES ($1)")
                            .bind(n)
                            .execute(&mut *tx)
                            .await?;
                        tx.commit().await?;
                    }
                    Ok::<_, StoreError>(())
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let (count, max): (i64, i64) = sqlx::query_as("SELECT COUNT(*), MAX(n) FROM counter")
            .fetch_one(&s.pool)
            .await
            .unwrap();
        // Every count was read by the only writer: 0..127, each once.
        assert_eq!((count, max), (128, 127));
    }
}
