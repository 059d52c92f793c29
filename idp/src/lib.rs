//! dangnhap: a centralised sign-on identity provider for a province's
//! e-government. See the README's Architecture section for the map.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod cache;
pub mod cas;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod files;
pub mod http;
pub mod ids;
pub mod images;
pub mod jobs;
pub mod jose;
pub mod kinds;
pub mod mail;
pub mod metrics;
pub mod oidc;
pub mod outbox;
pub mod portal;
pub mod refusal;
pub mod reseal;
pub mod saml;
pub mod signing;
pub mod store;
#[cfg(test)]
pub mod testing;

use std::sync::Arc;

use bytes::Bytes;
use secrecy::ExposeSecret;

use crate::auth::directory::Directories;
use crate::auth::local::LocalDirectory;
use crate::auth::password::Hasher;
use crate::cache::Cache;
use crate::config::Config;
use crate::crypto::MasterKey;
use crate::metrics::Metrics;
use crate::oidc::keys::KeyManager;
use crate::store::Store;

/// Seconds since the Unix epoch. Domain functions take `now` as an argument;
/// only the edges call this.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("database: {0}")]
    Store(#[from] store::StoreError),
    #[error("cache: {0} (is Redis running at IDP_REDIS_URL?)")]
    Cache(#[from] cache::CacheError),
    #[error(transparent)]
    Crypto(#[from] crypto::CryptoError),
    #[error("signing keys: {0}")]
    Keys(#[from] oidc::keys::KeyError),
    #[error("password hashing: {0}")]
    Password(#[from] auth::password::PasswordError),
    #[error("branding.logo_path: {0}")]
    Branding(String),
    #[error("HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error("document signing: {0}")]
    Signing(#[from] signing::SigningError),
    #[error("SAML: {0}")]
    Saml(#[from] saml::SamlError),
}

/// Everything a request needs, built once at start.
pub struct Idp {
    pub config: Config,
    pub store: Store,
    pub cache: Cache,
    pub keys: KeyManager,
    pub hasher: Hasher,
    pub directory: Directories,
    pub master: Arc<MasterKey>,
    pub metrics: Metrics,
    /// The discovery document, serialised once.
    pub discovery: Bytes,
    /// For calls to apps (back-channel logout): no redirects, short timeouts,
    /// the system's trusted certificates.
    pub http: reqwest::Client,
    /// Outgoing mail; `None` without `[smtp]`.
    pub mailer: Option<mail::Mailer>,
    /// Wakes the outbox worker when a message is queued.
    pub outbox_wake: tokio::sync::Notify,
    /// `/static/brand.css`: the configured colour, if any.
    pub brand_css: String,
    /// `/static/logo`: the configured logo and its type.
    pub logo: Option<(Bytes, &'static str)>,
    /// The signing service of `/api/v1/signing`.
    pub signing: signing::Service,
    /// The SAML IdP's key and addresses; `None` unless `[saml] enabled`.
    pub saml: Option<saml::Saml>,
}

/// Opens the database (migrating it) and the master key: what the CLI needs.
pub async fn open_store(config: &Config) -> Result<(Store, Arc<MasterKey>), StartError> {
    let store = Store::connect(config.database_url.expose_secret()).await?;
    store.migrate().await?;
    let master = Arc::new(MasterKey::load_or_create(&config.master_key_path())?);
    Ok((store, master))
}

impl Idp {
    pub async fn open(config: Config) -> Result<Idp, StartError> {
        let (store, master) = open_store(&config).await?;
        reseal::legacy_values(&store, &master).await?;
        let cache = Cache::open_with(
            config.redis_url.as_ref().map(|s| s.expose_secret()),
            config.memory_cache.limits(),
        )
        .await?;
        let retain = oidc::keys::retention_secs(&config.tokens);
        let signing = signing::Service::open(&config, &store, &cache, &master, now()).await?;
        let keys = KeyManager::open(store.clone(), Arc::clone(&master), retain, now()).await?;
        let hasher = Hasher::new(&config.password)?;
        let saml = if config.saml.enabled {
            Some(saml::Saml::open(&config, &store, &master).await?)
        } else {
            None
        };

        let ldap = match &config.directory {
            Some(d) => Some(d.open(config.email_domain.as_deref())?),
            None => None,
        };
        let mailer = config.smtp.as_ref().map(mail::Mailer::new).transpose()?;
        let discovery = Bytes::from(oidc::discovery::document(config.issuer()).to_string());
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(std::time::Duration::from_secs(3))
            .timeout(std::time::Duration::from_secs(5))
            .user_agent(concat!("dangnhap/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let logo = match &config.branding.logo_path {
            Some(path) => Some(
                images::read(path)
                    .map(|(b, kind)| (Bytes::from(b), kind))
                    .map_err(StartError::Branding)?,
            ),
            None => None,
        };
        let brand_css = config
            .branding
            .primary_color
            .as_ref()
            .map(|c| format!(":root {{ --brand: {c}; }}\n"))
            .unwrap_or_default();
        portal_ui::set_brand(portal_ui::Brand {
            name: config.branding.name.clone(),
            has_logo: logo.is_some(),
        });
        let mut metrics = Metrics::default();
        metrics.register_work(
            hasher.checks(),
            ldap.as_ref().map(connectors::LdapDirectory::work).as_ref(),
        );
        Ok(Idp {
            directory: Directories {
                local: LocalDirectory {
                    store: store.clone(),
                    hasher: hasher.clone(),
                },
                ldap,
                store: store.clone(),
            },
            config,
            store,
            cache,
            keys,
            hasher,
            master,
            metrics,
            discovery,
            http,
            mailer,
            outbox_wake: tokio::sync::Notify::new(),
            brand_css,
            logo,
            signing,
            saml,
        })
    }
}
