//! Typed configuration: defaults, then the TOML file named by `IDP_CONFIG`
//! (or `--config`), then `IDP_*` environment variables (`__` nests:
//! `IDP_TOKENS__ACCESS_TTL_SECS=300`; a `_FILE` suffix reads the value from a
//! file: `IDP_REDIS_URL_FILE=/run/secrets/redis`). Validated once at start.
//!
//! This module owns the root (`Config`), the layering, the top-level fields
//! and the checks that span sections; each section is a file beside it with
//! its struct, defaults and validation. Values of a fixed few are enums, so a
//! typo is refused by the parser with the field named. Secrets are
//! `SecretString`s: `Debug` and the log never show them.

mod branding;
mod cas;
mod directory;
mod http;
mod link;
mod log;
mod memory_cache;
mod mfa;
mod password;
mod saml;
mod signing;
mod smtp;
mod tokens;

pub use branding::BrandingConfig;
pub use cas::{CasConfig, CompatConfig};
pub use directory::{DirectoryConfig, DirectoryKind};
pub use http::{ClientIpHeader, HttpConfig};
pub use link::LinkConfig;
pub use log::{LogConfig, LogFormat};
pub use memory_cache::MemoryCacheConfig;
pub use mfa::MfaConfig;
pub use password::{BruteForceConfig, PasswordConfig};
pub use saml::SamlConfig;
pub use signing::{SigningBackend, SigningConfig};
pub use smtp::{SmtpConfig, SmtpSecurity};
pub use tokens::{SessionConfig, TokenConfig};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {field}: {message}")]
    Invalid { field: String, message: String },
    #[error("configuration: cannot read {path}: {message}")]
    File { path: String, message: String },
}

/// Settings whose variables are taken as text whatever they look like.
const STRING_SETTINGS: &[&str] = &["signing.pin"];

fn invalid(field: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field: field.to_owned(),
        message: message.into(),
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address and port to listen on (`IDP_LISTEN`).
    pub listen: SocketAddr,
    /// The public URL apps know this IdP by (`IDP_ISSUER`); `https` except on loopback.
    pub issuer: String,
    /// `sqlite://path` or `postgres://…` (`IDP_DATABASE_URL`); secret: it may hold a password.
    pub database_url: SecretString,
    /// Redis for shared ephemeral state; unset means in memory (`IDP_REDIS_URL`);
    /// secret: it may hold a password.
    pub redis_url: Option<SecretString>,
    /// Domain completing short account names: `tamtt` → `tamtt@DOMAIN` (`IDP_EMAIL_DOMAIN`).
    pub email_domain: Option<String>,
    /// Where the embedded default keeps its SQLite file and generated master key.
    pub data_dir: PathBuf,
    /// File holding the 32-byte master key that encrypts signing keys at rest
    /// (hex). Generated on first start when missing. Default: `DATA_DIR/master.key`.
    pub master_key_path: Option<PathBuf>,
    /// `[session]`: lifetimes of the SSO session and of a started sign-in.
    pub session: SessionConfig,
    /// `[tokens]`: lifetimes of codes and tokens, the signing-key reload.
    pub tokens: TokenConfig,
    /// `[password]`: argon2id's cost and how many hashes run at once.
    pub password: PasswordConfig,
    /// `[brute_force]`: waits and locks after wrong passwords.
    pub brute_force: BruteForceConfig,
    /// Bounds of the in-memory cache (without `redis_url`).
    pub memory_cache: MemoryCacheConfig,
    /// `[log]`: format and filter.
    pub log: LogConfig,
    /// `[branding]`: the name, logo and colour of the pages.
    pub branding: BrandingConfig,
    /// The official-mail directory; unset: local accounts only.
    pub directory: Option<DirectoryConfig>,
    /// Outgoing mail; unset: no mail is sent (no e-mail codes, no reset links).
    pub smtp: Option<SmtpConfig>,
    /// `[mfa]`: who needs a second factor.
    pub mfa: MfaConfig,
    /// `[link]`: how generic sources of legacy accounts are read, per app.
    pub link: LinkConfig,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// `[http]`: timeouts, connection limit, per-address rate limits, trusted
    /// reverse proxies and access to `/metrics`.
    pub http: HttpConfig,
    /// `[signing]`: the document-signing keys (software key or PKCS#11 token), the
    /// time-stamping authority, the trust anchors and the office's seal.
    pub signing: SigningConfig,
    /// `[cas]`: the CAS 3.0 endpoints under `/cas` and their tickets.
    pub cas: CasConfig,
    /// `[saml]`: the SAML 2.0 IdP under `/saml`.
    pub saml: SamlConfig,
    /// `[compat]`: the OIDC endpoints also at WSO2 Identity Server's paths.
    pub compat: CompatConfig,
    /// `IDP_*` variables that name no setting (Kubernetes sets `IDP_PORT`,
    /// `IDP_SERVICE_HOST`, … in every pod beside a Service called `idp`):
    /// ignored, and named in one warning at start.
    #[serde(skip)]
    pub ignored_env: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            issuer: "http://127.0.0.1:8080".into(),
            database_url: SecretString::from("sqlite://data/idp.db"),
            redis_url: None,
            email_domain: None,
            data_dir: PathBuf::from("data"),
            master_key_path: None,
            session: SessionConfig::default(),
            tokens: TokenConfig::default(),
            password: PasswordConfig::default(),
            brute_force: BruteForceConfig::default(),
            memory_cache: MemoryCacheConfig::default(),
            log: LogConfig::default(),
            branding: BrandingConfig::default(),
            directory: None,
            smtp: None,
            mfa: MfaConfig::default(),
            link: LinkConfig::default(),
            max_body_bytes: 64 * 1024,
            http: HttpConfig::default(),
            signing: SigningConfig::default(),
            cas: CasConfig::default(),
            saml: SamlConfig::default(),
            compat: CompatConfig::default(),
            ignored_env: Vec::new(),
        }
    }
}

impl Config {
    /// Loads defaults → `file` (or `IDP_CONFIG`) → `IDP_*` environment, then validates.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::load_from(file, &env)
    }

    /// As [`Config::load`], with the environment given (tests pass their own).
    pub fn load_from(file: Option<&Path>, env: &[(String, String)]) -> Result<Config, ConfigError> {
        let lookup = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| lookup("IDP_CONFIG").map(PathBuf::from));
        let mut base = Figment::new();
        if let Some(path) = &file {
            if !path.exists() {
                return Err(ConfigError::File {
                    path: path.display().to_string(),
                    message: "no such file (check IDP_CONFIG or --config)".into(),
                });
            }
            base = base.merge(Toml::file(path));
        }
        // (variable, setting path, value)
        let mut vars: Vec<(String, String, figment::value::Value)> = Vec::new();
        for (name, value) in env {
            let Some(rest) = name.strip_prefix("IDP_") else {
                continue;
            };
            if rest == "CONFIG" || rest.is_empty() {
                continue;
            }
            let (key, value) = match rest.strip_suffix("_FILE") {
                Some(key) => {
                    let text = std::fs::read_to_string(value).map_err(|e| ConfigError::File {
                        path: value.clone(),
                        message: format!("{e} (named by {name})"),
                    })?;
                    (key, text.trim_end().to_owned())
                }
                None => (rest, value.clone()),
            };
            let path = key.to_ascii_lowercase().replace("__", ".");
            // Typed like figment's own `Env` provider: "200" is a number, "true" a bool.
            // Secrets that are digits stay strings: PIN 0123 is not the number 123.
            let value: figment::value::Value = if STRING_SETTINGS.contains(&path.as_str()) {
                value.into()
            } else {
                value.parse().unwrap_or_else(|never| match never {})
            };
            vars.push((name.clone(), path, value));
        }
        let mut ignored_env = Vec::new();
        let extracted = loop {
            let fig = vars.iter().fold(base.clone(), |fig, (_, path, value)| {
                fig.merge(Serialized::default(path, value.clone()))
            });
            match fig.extract::<Config>() {
                Ok(config) => break Ok(config),
                // A variable that names no setting is dropped (and named once
                // logging is up); an unknown key in the file stays an error.
                Err(e) => {
                    let unknown = match &e.kind {
                        // figment's path ends with the unknown field.
                        figment::error::Kind::UnknownField(..) => {
                            let at = e.path.join(".");
                            vars.iter().position(|(_, path, _)| *path == at)
                        }
                        _ => None,
                    };
                    match unknown {
                        Some(i) => ignored_env.push(vars.remove(i).0),
                        None => break Err(e),
                    }
                }
            }
        };
        let mut config: Config = extracted.map_err(|e| {
            let field = e.path.join(".");
            invalid(
                if field.is_empty() { "(file)" } else { &field },
                format!(
                    "{}; set it in the TOML file or as IDP_{}",
                    e.kind,
                    field.to_ascii_uppercase().replace('.', "__")
                ),
            )
        })?;
        config.validate()?;
        config.ignored_env = ignored_env;
        Ok(config)
    }

    /// Checks every value, naming the field and the fix on the first bad one.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let issuer = Url::parse(&self.issuer).map_err(|e| {
            invalid(
                "issuer",
                format!("{e}; set IDP_ISSUER=https://dangnhap.example.gov.vn"),
            )
        })?;
        let loopback = matches!(issuer.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        match issuer.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => {
                return Err(invalid(
                    "issuer",
                    "must be an https URL outside loopback; set IDP_ISSUER=https://dangnhap.example.gov.vn",
                ));
            }
        }
        if issuer.query().is_some() || issuer.fragment().is_some() {
            return Err(invalid(
                "issuer",
                "must not have a query or fragment (OIDC Discovery §3)",
            ));
        }
        let db = self.database_url.expose_secret();
        if !(db.starts_with("sqlite:")
            || db.starts_with("postgres://")
            || db.starts_with("postgresql://"))
        {
            return Err(invalid(
                "database_url",
                "must start with sqlite: or postgres://; e.g. IDP_DATABASE_URL=sqlite://data/idp.db",
            ));
        }
        if let Some(redis) = &self.redis_url {
            let r = redis.expose_secret();
            if !(r.starts_with("redis://")
                || r.starts_with("rediss://")
                || r.starts_with("redis+unix://"))
            {
                return Err(invalid(
                    "redis_url",
                    "must start with redis:// or rediss://; e.g. IDP_REDIS_URL=redis://127.0.0.1:6379",
                ));
            }
        }
        if let Some(domain) = &self.email_domain {
            let ok = !domain.is_empty()
                && domain.contains('.')
                && domain
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
            if !ok {
                return Err(invalid(
                    "email_domain",
                    "must be a domain name; e.g. IDP_EMAIL_DOMAIN=binhphuoc.gov.vn",
                ));
            }
        }
        if let Some(d) = &self.directory {
            d.validate()?;
        }
        if let Some(m) = &self.smtp {
            m.validate()?;
        }
        self.mfa.validate()?;
        self.signing.validate()?;
        self.link.validate()?;
        self.brute_force.validate()?;
        self.memory_cache.validate()?;
        tokens::validate(&self.tokens, &self.session)?;
        self.password.validate()?;
        self.branding.validate()?;
        if self.max_body_bytes < 1024 {
            return Err(invalid("max_body_bytes", "must be at least 1024"));
        }
        self.http.validate()?;
        self.cas.validate()?;
        self.saml.validate()?;
        Ok(())
    }

    /// The issuer without a trailing slash, as it appears in `iss`.
    pub fn issuer(&self) -> &str {
        self.issuer.trim_end_matches('/')
    }

    pub fn issuer_is_https(&self) -> bool {
        self.issuer.starts_with("https://")
    }

    pub fn master_key_path(&self) -> PathBuf {
        self.master_key_path
            .clone()
            .unwrap_or_else(|| self.data_dir.join("master.key"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    /// Sets `[section] key = value` in a TOML file, then `IDP_SECTION__KEY`,
    /// and checks that both are refused as an unknown variant naming
    /// `section.key`; returns the message (which lists the values accepted).
    pub(super) fn typo(section: &str, key: &str, value: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("idp.toml");
        std::fs::write(&file, format!("[{section}]\n{key} = \"{value}\"\n")).unwrap();
        let from_file = Config::load_from(Some(&file), &[]).unwrap_err().to_string();
        let var = format!(
            "IDP_{}__{}",
            section.to_ascii_uppercase(),
            key.to_ascii_uppercase()
        );
        let from_env = Config::load_from(None, &env(&[(&var, value)]))
            .unwrap_err()
            .to_string();
        let field = format!("{section}.{key}");
        for e in [&from_file, &from_env] {
            assert!(e.contains(&field), "{e}");
            assert!(e.contains("unknown variant") && e.contains(value), "{e}");
        }
        from_env
    }

    #[test]
    fn defaults_are_the_embedded_default() {
        let c = Config::load_from(None, &[]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.issuer(), "http://127.0.0.1:8080");
        assert!(c.database_url.expose_secret().starts_with("sqlite:"));
        assert!(c.redis_url.is_none());
    }

    #[test]
    fn environment_overrides_file_and_nests_with_double_underscore() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("idp.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9000\"\nemail_domain = \"a.gov.vn\"\n[tokens]\naccess_ttl_secs = 100\n").unwrap();
        let c = Config::load_from(
            Some(&file),
            &env(&[
                ("IDP_LISTEN", "127.0.0.1:9001"),
                ("IDP_TOKENS__ACCESS_TTL_SECS", "200"),
                ("PATH", "/bin"),
            ]),
        )
        .unwrap();
        assert_eq!(c.listen.port(), 9001);
        assert_eq!(c.email_domain.as_deref(), Some("a.gov.vn"));
        assert_eq!(c.tokens.access_ttl_secs, 200);
    }

    #[test]
    fn unknown_variables_are_ignored_but_unknown_file_keys_are_not() {
        // What Kubernetes sets beside a Service called `idp`, and a typo in a section.
        let c = Config::load_from(
            None,
            &env(&[
                ("IDP_PORT", "tcp://10.96.0.12:80"),
                ("IDP_PORT_80_TCP_ADDR", "10.96.0.12"),
                ("IDP_SERVICE_HOST", "10.96.0.12"),
                ("IDP_SESSION__IDLE_TIMEOUT", "60"),
                ("IDP_LISTEN", "127.0.0.1:9001"),
            ]),
        )
        .unwrap();
        assert_eq!(c.listen.port(), 9001);
        let mut ignored = c.ignored_env.clone();
        ignored.sort();
        assert_eq!(
            ignored,
            [
                "IDP_PORT",
                "IDP_PORT_80_TCP_ADDR",
                "IDP_SERVICE_HOST",
                "IDP_SESSION__IDLE_TIMEOUT"
            ]
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("idp.toml");
        std::fs::write(&file, "port = 80\n").unwrap();
        let e = Config::load_from(Some(&file), &[])
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("port"), "{e}");
    }

    #[test]
    fn file_suffix_reads_secret_from_file() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("redis");
        std::fs::write(&secret, "redis://127.0.0.1:6390\n").unwrap();
        let c = Config::load_from(
            None,
            &env(&[("IDP_REDIS_URL_FILE", secret.to_str().unwrap())]),
        )
        .unwrap();
        assert_eq!(
            c.redis_url.unwrap().expose_secret(),
            "redis://127.0.0.1:6390"
        );
    }

    #[test]
    fn bad_values_name_the_field_and_the_fix() {
        let err = Config::load_from(None, &env(&[("IDP_ISSUER", "http://idp.example.gov.vn")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("issuer") && err.contains("IDP_ISSUER=https://"),
            "{err}"
        );
        let err = Config::load_from(None, &env(&[("IDP_DATABASE_URL", "mysql://x")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("database_url"), "{err}");
        let err = Config::load_from(None, &env(&[("IDP_LISTEN", "nonsense")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("listen"), "{err}");
        let err = Config::load_from(None, &env(&[("IDP_BRANDING__PRIMARY_COLOR", "red")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("branding.primary_color"), "{err}");
        let err = Config::load_from(None, &env(&[("IDP_EMAIL_DOMAIN", "không hợp lệ")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("email_domain"), "{err}");
        for (k, field) in [
            ("IDP_MEMORY_CACHE__MAX_ENTRIES", "memory_cache.max_entries"),
            ("IDP_MEMORY_CACHE__MAX_BYTES", "memory_cache.max_bytes"),
        ] {
            let err = Config::load_from(None, &env(&[(k, "10")]))
                .unwrap_err()
                .to_string();
            assert!(err.contains(field), "{err}");
        }
    }

    #[test]
    fn the_example_file_is_complete_and_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/idp.example.toml");
        let c = Config::load_from(Some(&path), &[]).unwrap();
        assert_eq!(c.issuer(), "https://dangnhap.binhphuoc.gov.vn");
        assert_eq!(c.email_domain.as_deref(), Some("binhphuoc.gov.vn"));
        let d = Config::default();
        assert_eq!(c.tokens.refresh_ttl_secs, d.tokens.refresh_ttl_secs);
        assert_eq!(c.password.memory_kib, d.password.memory_kib);
        assert_eq!(c.session.idle_timeout_secs, d.session.idle_timeout_secs);
        assert_eq!(c.cas.ticket_ttl_secs, d.cas.ticket_ttl_secs);
        assert!(c.cas.enabled && !c.cas.allow_http_proxy_callback_on_loopback);
        assert!(!c.compat.wso2_paths);
    }

    #[test]
    fn no_secret_shows_in_debug() {
        // Each secret a recognisable value; `Debug` of the whole configuration
        // (what a `?config` in a log line prints) shows none of them.
        let secrets = [
            "db-pw-3f9a1c",
            "redis-pw-7b2e4d",
            "ldap-pw-5c8d0e",
            "smtp-pw-1a6f9b",
            "metrics-token-4e7c2a91",
        ];
        let c = Config::load_from(
            None,
            &env(&[
                (
                    "IDP_DATABASE_URL",
                    "postgres://idp:db-pw-3f9a1c@127.0.0.1/idp",
                ),
                ("IDP_REDIS_URL", "redis://:redis-pw-7b2e4d@127.0.0.1:6379"),
                ("IDP_DIRECTORY__TYPE", "ldap"),
                ("IDP_DIRECTORY__URL", "ldap://127.0.0.1:3389"),
                ("IDP_DIRECTORY__BIND_DN", "cn=admin"),
                ("IDP_DIRECTORY__BIND_PASSWORD", "ldap-pw-5c8d0e"),
                ("IDP_DIRECTORY__BASE_DN", "ou=people"),
                ("IDP_SMTP__HOST", "127.0.0.1"),
                ("IDP_SMTP__FROM", "idp@binhphuoc.gov.vn"),
                ("IDP_SMTP__USERNAME", "idp"),
                ("IDP_SMTP__PASSWORD", "smtp-pw-1a6f9b"),
                ("IDP_HTTP__METRICS_TOKEN", "metrics-token-4e7c2a91"),
            ]),
        )
        .unwrap();
        let settings = c.directory.as_ref().unwrap().settings().unwrap();
        let smtp_password = c.smtp.as_ref().unwrap().password().unwrap();
        let master = crate::crypto::MasterKey::from_bytes(&[0x5a; 32]).unwrap();
        let shown = format!("{c:?} {c:#?} {settings:?} {smtp_password:?} {master:?}");
        for s in secrets {
            assert!(!shown.contains(s), "{s} in {shown}");
        }
        assert!(
            !shown.contains("5a5a") && !shown.contains("90, 90"),
            "{shown}"
        );
    }
}
