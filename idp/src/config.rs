//! Typed configuration: defaults, then the TOML file named by `IDP_CONFIG`
//! (or `--config`), then `IDP_*` environment variables (`__` nests:
//! `IDP_TOKENS__ACCESS_TTL_SECS=300`; a `_FILE` suffix reads the value from a
//! file: `IDP_REDIS_URL_FILE=/run/secrets/redis`). Validated once at start.

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
    /// `sqlite://path` or `postgres://…` (`IDP_DATABASE_URL`).
    pub database_url: SecretString,
    /// Redis for shared ephemeral state; unset means in memory (`IDP_REDIS_URL`).
    pub redis_url: Option<SecretString>,
    /// Domain completing short account names: `tamtt` → `tamtt@DOMAIN` (`IDP_EMAIL_DOMAIN`).
    pub email_domain: Option<String>,
    /// Where the embedded default keeps its SQLite file and generated master key.
    pub data_dir: PathBuf,
    /// File holding the 32-byte master key that encrypts signing keys at rest
    /// (hex). Generated on first start when missing. Default: `DATA_DIR/master.key`.
    pub master_key_path: Option<PathBuf>,
    pub session: SessionConfig,
    pub tokens: TokenConfig,
    pub password: PasswordConfig,
    pub brute_force: BruteForceConfig,
    /// Bounds of the in-memory cache (without `redis_url`).
    pub memory_cache: MemoryCacheConfig,
    pub log: LogConfig,
    pub branding: BrandingConfig,
    /// The official-mail directory; unset: local accounts only.
    pub directory: Option<DirectoryConfig>,
    /// Outgoing mail; unset: no mail is sent (no e-mail codes, no reset links).
    pub smtp: Option<SmtpConfig>,
    pub mfa: MfaConfig,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// `[http]`: timeouts, connection limit, per-address rate limits, trusted
    /// reverse proxies and access to `/metrics`.
    pub http: HttpConfig,
    /// `IDP_*` variables that name no setting (Kubernetes sets `IDP_PORT`,
    /// `IDP_SERVICE_HOST`, … in every pod beside a Service called `idp`):
    /// ignored, and named in one warning at start.
    #[serde(skip)]
    pub ignored_env: Vec<String>,
}

/// `[http]`: the edge. Everything from outside waits with a timeout and is counted.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// A connection must send a request's whole header within this (also the
    /// idle limit of a kept-alive connection); slow-loris connections are closed.
    pub header_read_timeout_secs: u64,
    /// A request body that sends nothing for this long is cut (the request fails).
    pub body_read_timeout_secs: u64,
    /// A request (body included) must be answered within this; else 503.
    pub handler_timeout_secs: u64,
    /// Connections open at once; more wait in the kernel's queue until one closes.
    pub max_connections: usize,
    /// Requests from one address (IPv6: one /64) to the unauthenticated pages
    /// that store or compute something (`/authorize`, `/login`, `/password/…`,
    /// `/logout`) within `rate_limit_window_secs`; above it: 429.
    pub rate_limit_requests: u32,
    /// Failed requests (400, 401) from one address to `/token`, `/introspect`
    /// and `/revoke` within the window; above it: 429. Working apps are not counted.
    pub rate_limit_failures: u32,
    pub rate_limit_window_secs: u64,
    /// Reverse proxies (addresses or CIDR ranges) whose forwarding header names
    /// the client; empty: the peer is the client and the headers are ignored.
    pub trusted_proxies: Vec<String>,
    /// Which header those proxies set: `x-forwarded-for` or `forwarded` (RFC 7239).
    /// One only: a header the proxy passes through untouched would be the client's word.
    pub client_ip_header: String,
    /// `/metrics` answers only with `Authorization: Bearer` this token
    /// (`IDP_HTTP__METRICS_TOKEN_FILE` reads it from a file); unset: `/metrics` is off
    /// on the main address.
    pub metrics_token: Option<SecretString>,
    /// A second address serving only `/metrics` (a private interface for
    /// Prometheus); unset: none.
    pub metrics_listen: Option<SocketAddr>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 30,
            handler_timeout_secs: 60,
            max_connections: 1024,
            rate_limit_requests: 600,
            rate_limit_failures: 60,
            rate_limit_window_secs: 60,
            trusted_proxies: Vec::new(),
            client_ip_header: "x-forwarded-for".into(),
            metrics_token: None,
            metrics_listen: None,
        }
    }
}

impl HttpConfig {
    /// The trusted proxies as networks; an address alone is a /32 or /128.
    pub fn proxies(&self) -> Result<Vec<ipnet::IpNet>, ConfigError> {
        self.trusted_proxies
            .iter()
            .map(|p| {
                let p = p.trim();
                p.parse::<ipnet::IpNet>()
                    .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        invalid(
                            "http.trusted_proxies",
                            format!("{p:?} is not an address or CIDR range; e.g. [\"10.0.0.5\", \"10.1.0.0/24\"]"),
                        )
                    })
            })
            .collect()
    }

    fn validate(&self) -> Result<(), ConfigError> {
        for (name, v, max) in [
            (
                "http.header_read_timeout_secs",
                self.header_read_timeout_secs,
                300,
            ),
            (
                "http.body_read_timeout_secs",
                self.body_read_timeout_secs,
                3600,
            ),
            ("http.handler_timeout_secs", self.handler_timeout_secs, 3600),
            (
                "http.rate_limit_window_secs",
                self.rate_limit_window_secs,
                86_400,
            ),
        ] {
            if !(1..=max).contains(&v) {
                return Err(invalid(name, format!("must be 1 to {max} seconds")));
            }
        }
        if !(1..=100_000).contains(&self.max_connections) {
            return Err(invalid("http.max_connections", "must be 1 to 100000"));
        }
        if self.rate_limit_requests == 0 || self.rate_limit_failures == 0 {
            return Err(invalid(
                "http.rate_limit_requests",
                "rate_limit_requests and rate_limit_failures must be at least 1",
            ));
        }
        if !matches!(
            self.client_ip_header.as_str(),
            "x-forwarded-for" | "forwarded"
        ) {
            return Err(invalid(
                "http.client_ip_header",
                "must be x-forwarded-for or forwarded",
            ));
        }
        if let Some(t) = &self.metrics_token
            && t.expose_secret().len() < 16
        {
            return Err(invalid(
                "http.metrics_token",
                "must be at least 16 characters; e.g. the output of `openssl rand -hex 32`",
            ));
        }
        self.proxies().map(|_| ())
    }
}

/// `[directory]`: where staff passwords are checked (their mailbox's directory).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryConfig {
    /// `ldap` (the only kind so far).
    #[serde(rename = "type")]
    pub kind: String,
    /// `ldap://host:389` (with `starttls = true` to encrypt) or `ldaps://host:636`.
    pub url: String,
    /// The service account that searches for people.
    pub bind_dn: String,
    pub bind_password: Option<SecretString>,
    /// A file holding the service account's password (instead of `bind_password`).
    pub bind_password_file: Option<PathBuf>,
    /// Where people are, searched as a subtree.
    pub base_dn: String,
    /// `{email}` is the address typed, `{local}` the part before `@`.
    #[serde(default = "default_user_filter")]
    pub user_filter: String,
    /// Who is a person, for `idp directory sync`.
    #[serde(default = "default_people_filter")]
    pub people_filter: String,
    /// Sync every this many seconds in the server; 0: only by `idp directory sync`.
    #[serde(default)]
    pub sync_interval_secs: u64,
    #[serde(default)]
    pub starttls: bool,
    /// For connecting and for each LDAP operation.
    #[serde(default = "default_ldap_timeout")]
    pub timeout_secs: u64,
    /// Search connections kept open.
    #[serde(default = "default_ldap_pool")]
    pub pool_size: usize,
    #[serde(default)]
    pub attributes: connectors::AttributeMap,
}

fn default_user_filter() -> String {
    "(|(mail={email})(uid={local}))".into()
}

fn default_people_filter() -> String {
    "(objectClass=inetOrgPerson)".into()
}

fn default_ldap_timeout() -> u64 {
    5
}

fn default_ldap_pool() -> usize {
    4
}

impl DirectoryConfig {
    /// The connector's settings, with the password read from its file if need be.
    pub fn settings(&self) -> Result<connectors::LdapSettings, ConfigError> {
        let password = match (&self.bind_password, &self.bind_password_file) {
            (Some(p), None) => p.expose_secret().to_owned(),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map_err(|e| ConfigError::File {
                    path: path.display().to_string(),
                    message: format!("{e} (directory.bind_password_file)"),
                })?
                .trim_end()
                .to_owned(),
            _ => {
                return Err(invalid(
                    "directory.bind_password",
                    "set exactly one of bind_password and bind_password_file",
                ));
            }
        };
        Ok(connectors::LdapSettings {
            url: self.url.clone(),
            bind_dn: self.bind_dn.clone(),
            bind_password: password,
            base_dn: self.base_dn.clone(),
            user_filter: self.user_filter.clone(),
            people_filter: self.people_filter.clone(),
            starttls: self.starttls,
            timeout: std::time::Duration::from_secs(self.timeout_secs),
            pool_size: self.pool_size,
            attributes: self.attributes.clone(),
        })
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.kind != "ldap" {
            return Err(invalid("directory.type", "must be \"ldap\""));
        }
        if !(self.url.starts_with("ldap://") || self.url.starts_with("ldaps://")) {
            return Err(invalid(
                "directory.url",
                "must start with ldap:// or ldaps://; e.g. ldaps://mail.binhphuoc.gov.vn:636",
            ));
        }
        if self.starttls && self.url.starts_with("ldaps://") {
            return Err(invalid(
                "directory.starttls",
                "is for ldap:// URLs; ldaps:// is already TLS",
            ));
        }
        if self.base_dn.trim().is_empty() || self.bind_dn.trim().is_empty() {
            return Err(invalid(
                "directory.base_dn",
                "base_dn and bind_dn must be set",
            ));
        }
        if !(self.user_filter.contains("{email}") || self.user_filter.contains("{local}")) {
            return Err(invalid(
                "directory.user_filter",
                "must use {email} or {local}; e.g. (|(mail={email})(uid={local}))",
            ));
        }
        if !(1..=60).contains(&self.timeout_secs) || !(1..=64).contains(&self.pool_size) {
            return Err(invalid(
                "directory.timeout_secs",
                "timeout_secs must be 1 to 60 and pool_size 1 to 64",
            ));
        }
        self.settings().map(|_| ())
    }
}

/// The SSO session at the portal.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    /// Signed out after this long without activity.
    pub idle_timeout_secs: u64,
    /// Signed out this long after signing in, whatever the activity.
    pub absolute_timeout_secs: u64,
    /// How long a started sign-in (the login form) stays valid.
    pub login_request_ttl_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenConfig {
    /// Lifetime of an authorization code (RFC 6749 §4.1.2 recommends at most 10 minutes).
    pub code_ttl_secs: u64,
    pub access_ttl_secs: u64,
    pub id_ttl_secs: u64,
    /// Lifetime of a refresh-token family from its first issue.
    pub refresh_ttl_secs: u64,
    /// How often each node reloads signing keys from the database (picks up `idp keys rotate`).
    pub key_reload_secs: u64,
}

/// argon2id parameters; defaults are OWASP's (19 MiB, 2 passes, 1 lane).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordConfig {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    /// At most this many hashes at once, so password checks cannot exhaust the CPU.
    pub max_concurrent_hashes: usize,
}

/// Brute-force protection of the sign-in form. Counters live in the cache
/// (Redis when configured), so every node sees the same.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BruteForceConfig {
    /// Wrong passwords for one account before any delay.
    pub free_failures: u32,
    /// Then the wait before the next try doubles from 1 s up to this.
    pub max_delay_secs: u64,
    /// Wrong passwords for one account that lock it for `lock_secs`.
    pub lock_after: u32,
    pub lock_secs: u64,
    /// Wrong passwords from one address (all accounts) within `window_secs`
    /// after which only accounts that signed in from it before may try.
    /// High, because a whole office shares one address behind NAT.
    pub ip_failures: u32,
    pub window_secs: u64,
}

impl Default for BruteForceConfig {
    fn default() -> Self {
        BruteForceConfig {
            free_failures: 3,
            max_delay_secs: 30,
            lock_after: 10,
            lock_secs: 15 * 60,
            ip_failures: 50,
            window_secs: 15 * 60,
        }
    }
}

/// `[memory_cache]`: how much the in-memory cache may hold (Redis has its
/// own `maxmemory`). When full, expired entries are dropped first; if it is
/// still full a new entry is refused (the request fails) rather than a live
/// one evicted: live entries are lock counters, replay markers and sessions.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MemoryCacheConfig {
    /// At most this many entries (sessions, codes, pending sign-ins, counters).
    pub max_entries: usize,
    /// At most this many bytes of keys and values (with a per-entry overhead).
    pub max_bytes: usize,
}

impl Default for MemoryCacheConfig {
    fn default() -> Self {
        let d = crate::cache::Limits::default();
        MemoryCacheConfig {
            max_entries: d.max_entries,
            max_bytes: d.max_bytes,
        }
    }
}

impl MemoryCacheConfig {
    pub fn limits(&self) -> crate::cache::Limits {
        crate::cache::Limits {
            max_entries: self.max_entries,
            max_bytes: self.max_bytes,
        }
    }
}

/// `[smtp]`: the mail server that carries codes, reset links and notices.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    /// Default: 587 with `starttls`, 465 with `tls`, 25 with `none`.
    pub port: Option<u16>,
    /// `starttls` (default), `tls` (implicit, "SMTPS") or `none` (only for a
    /// relay on this machine or a trusted segment).
    #[serde(default = "default_smtp_security")]
    pub security: String,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    /// A file holding the password (instead of `password`).
    pub password_file: Option<PathBuf>,
    /// The sender, e.g. `Đăng nhập một lần <khong-tra-loi@binhphuoc.gov.vn>`.
    pub from: String,
    /// For connecting and for each SMTP command.
    #[serde(default = "default_smtp_timeout")]
    pub timeout_secs: u64,
}

fn default_smtp_security() -> String {
    "starttls".into()
}

fn default_smtp_timeout() -> u64 {
    10
}

impl SmtpConfig {
    /// The password, read from its file if need be.
    pub fn password(&self) -> Result<Option<String>, ConfigError> {
        match (&self.password, &self.password_file) {
            (Some(p), None) => Ok(Some(p.expose_secret().to_owned())),
            (None, Some(path)) => Ok(Some(
                std::fs::read_to_string(path)
                    .map_err(|e| ConfigError::File {
                        path: path.display().to_string(),
                        message: format!("{e} (smtp.password_file)"),
                    })?
                    .trim_end()
                    .to_owned(),
            )),
            (None, None) => Ok(None),
            (Some(_), Some(_)) => Err(invalid(
                "smtp.password",
                "set at most one of password and password_file",
            )),
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.host.trim().is_empty() {
            return Err(invalid(
                "smtp.host",
                "is empty; e.g. IDP_SMTP__HOST=mail.binhphuoc.gov.vn",
            ));
        }
        if !matches!(self.security.as_str(), "starttls" | "tls" | "none") {
            return Err(invalid("smtp.security", "must be starttls, tls or none"));
        }
        if self.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(invalid(
                "smtp.from",
                "must be an address, e.g. \"Đăng nhập <khong-tra-loi@binhphuoc.gov.vn>\"",
            ));
        }
        if self.username.is_none() && (self.password.is_some() || self.password_file.is_some()) {
            return Err(invalid("smtp.username", "a password needs a username"));
        }
        self.password().map(|_| ())
    }
}

/// `[mfa]`: who needs a second factor beyond administrators (always: the
/// admin console is theirs), people who enrolled one and the apps that ask.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MfaConfig {
    /// Members of these groups always use a second factor.
    pub groups: Vec<String>,
    /// Name shown in authenticator apps beside the account.
    pub issuer_label: String,
}

impl Default for MfaConfig {
    fn default() -> Self {
        MfaConfig {
            groups: Vec::new(),
            issuer_label: "Đăng nhập".into(),
        }
    }
}

/// How the pages present the deployment; the default is neutral.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BrandingConfig {
    /// Shown in every page's header instead of "Hệ thống thông tin chính quyền số".
    pub name: Option<String>,
    /// A PNG or JPEG logo beside the name, at most 256 KiB.
    pub logo_path: Option<PathBuf>,
    /// The main colour, `#rrggbb`.
    pub primary_color: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `json` (default) or `text`.
    pub format: String,
    /// A `tracing` filter, e.g. `info` or `idp=debug,info`.
    pub level: String,
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
            max_body_bytes: 64 * 1024,
            http: HttpConfig::default(),
            ignored_env: Vec::new(),
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            idle_timeout_secs: 8 * 3600,
            absolute_timeout_secs: 12 * 3600,
            login_request_ttl_secs: 30 * 60,
        }
    }
}

impl Default for TokenConfig {
    fn default() -> Self {
        TokenConfig {
            code_ttl_secs: 60,
            access_ttl_secs: 600,
            id_ttl_secs: 600,
            refresh_ttl_secs: 12 * 3600,
            key_reload_secs: 60,
        }
    }
}

impl Default for PasswordConfig {
    fn default() -> Self {
        PasswordConfig {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
            max_concurrent_hashes: 4,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: "json".into(),
            level: "info".into(),
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
            let value: figment::value::Value = value.parse().unwrap_or_else(|never| match never {});
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
        if self.mfa.issuer_label.contains(':') || self.mfa.issuer_label.trim().is_empty() {
            return Err(invalid("mfa.issuer_label", "must be a name without ':'"));
        }
        let b = &self.brute_force;
        if b.lock_after <= b.free_failures
            || b.lock_secs == 0
            || b.window_secs == 0
            || b.ip_failures == 0
        {
            return Err(invalid(
                "brute_force.lock_after",
                "lock_after must exceed free_failures, and lock_secs, window_secs and ip_failures be above 0",
            ));
        }
        if self.memory_cache.max_entries < 1000 {
            return Err(invalid(
                "memory_cache.max_entries",
                "must be at least 1000; e.g. IDP_MEMORY_CACHE__MAX_ENTRIES=100000",
            ));
        }
        if self.memory_cache.max_bytes < 1024 * 1024 {
            return Err(invalid(
                "memory_cache.max_bytes",
                "must be at least 1048576 (1 MiB); e.g. IDP_MEMORY_CACHE__MAX_BYTES=67108864",
            ));
        }
        let t = &self.tokens;
        if !(1..=600).contains(&t.code_ttl_secs) {
            return Err(invalid(
                "tokens.code_ttl_secs",
                "must be 1 to 600 seconds (RFC 6749 §4.1.2)",
            ));
        }
        for (name, v) in [
            ("tokens.access_ttl_secs", t.access_ttl_secs),
            ("tokens.id_ttl_secs", t.id_ttl_secs),
            ("tokens.refresh_ttl_secs", t.refresh_ttl_secs),
            ("tokens.key_reload_secs", t.key_reload_secs),
            ("session.idle_timeout_secs", self.session.idle_timeout_secs),
            (
                "session.absolute_timeout_secs",
                self.session.absolute_timeout_secs,
            ),
            (
                "session.login_request_ttl_secs",
                self.session.login_request_ttl_secs,
            ),
        ] {
            if v == 0 {
                return Err(invalid(name, "must be greater than 0"));
            }
        }
        let p = &self.password;
        if p.memory_kib < 8 * 1024 || p.iterations == 0 || p.parallelism == 0 {
            return Err(invalid(
                "password",
                "argon2id needs memory_kib ≥ 8192, iterations ≥ 1, parallelism ≥ 1",
            ));
        }
        if p.max_concurrent_hashes == 0 {
            return Err(invalid(
                "password.max_concurrent_hashes",
                "must be at least 1",
            ));
        }
        if !matches!(self.log.format.as_str(), "json" | "text") {
            return Err(invalid("log.format", "must be json or text"));
        }
        if let Some(c) = &self.branding.primary_color {
            let ok =
                c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|d| d.is_ascii_hexdigit());
            if !ok {
                return Err(invalid(
                    "branding.primary_color",
                    "must be #rrggbb, e.g. IDP_BRANDING__PRIMARY_COLOR=#0b5394",
                ));
            }
        }
        if self.max_body_bytes < 1024 {
            return Err(invalid("max_body_bytes", "must be at least 1024"));
        }
        self.http.validate()?;
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

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
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
        let smtp = |extra: &[(&str, &str)]| {
            let mut all = vec![
                ("IDP_SMTP__HOST", "mail.binhphuoc.gov.vn"),
                (
                    "IDP_SMTP__FROM",
                    "Đăng nhập <khong-tra-loi@binhphuoc.gov.vn>",
                ),
            ];
            all.extend_from_slice(extra);
            Config::load_from(None, &env(&all))
        };
        let c = smtp(&[]).unwrap();
        assert_eq!(c.smtp.unwrap().security, "starttls", "encrypted by default");
        for (k, v, field) in [
            ("IDP_SMTP__FROM", "không phải địa chỉ", "smtp.from"),
            ("IDP_SMTP__SECURITY", "ssl3", "smtp.security"),
            ("IDP_SMTP__PASSWORD", "x", "smtp.username"),
        ] {
            let err = smtp(&[(k, v)]).unwrap_err().to_string();
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
    }

    #[test]
    fn the_directory_is_configured_in_toml_or_environment() {
        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("ldap-password");
        std::fs::write(&pw, "s3cret\n").unwrap();
        let toml = dir.path().join("idp.toml");
        std::fs::write(
            &toml,
            format!(
                "[directory]\ntype = \"ldap\"\nurl = \"ldap://127.0.0.1:3389\"\nstarttls = true\n\
                 bind_dn = \"cn=admin,dc=binhphuoc,dc=gov,dc=vn\"\nbind_password_file = \"{}\"\n\
                 base_dn = \"ou=people,dc=binhphuoc,dc=gov,dc=vn\"\n[directory.attributes]\nunit = \"o\"\n",
                pw.display()
            ),
        )
        .unwrap();
        let c =
            Config::load_from(Some(&toml), &env(&[("IDP_DIRECTORY__TIMEOUT_SECS", "3")])).unwrap();
        let s = c.directory.as_ref().unwrap().settings().unwrap();
        assert_eq!(s.bind_password, "s3cret");
        assert_eq!(s.user_filter, "(|(mail={email})(uid={local}))");
        assert_eq!(s.timeout, std::time::Duration::from_secs(3));
        assert!(s.starttls);
        assert_eq!(s.attributes.unit, "o");
        assert_eq!(
            s.attributes.mail, "mail",
            "unset attributes keep their default"
        );
        assert!(!format!("{c:?}").contains("s3cret"));

        let bad = |pairs: &[(&str, &str)]| {
            let mut all = vec![
                ("IDP_DIRECTORY__TYPE", "ldap"),
                ("IDP_DIRECTORY__URL", "ldap://127.0.0.1:3389"),
                ("IDP_DIRECTORY__BIND_DN", "cn=admin"),
                ("IDP_DIRECTORY__BIND_PASSWORD", "x"),
                ("IDP_DIRECTORY__BASE_DN", "ou=people"),
            ];
            all.extend_from_slice(pairs);
            Config::load_from(None, &env(&all)).unwrap_err().to_string()
        };
        assert!(bad(&[("IDP_DIRECTORY__URL", "http://x")]).contains("directory.url"));
        assert!(
            bad(&[("IDP_DIRECTORY__USER_FILTER", "(uid=x)")]).contains("directory.user_filter")
        );
        assert!(
            bad(&[("IDP_DIRECTORY__BIND_PASSWORD_FILE", "/nonexistent")]).contains("/nonexistent")
        );
        assert!(bad(&[("IDP_DIRECTORY__TYPE", "ad")]).contains("directory.type"));
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let c = Config::load_from(
            None,
            &env(&[("IDP_DATABASE_URL", "postgres://u:hunter2@h/db")]),
        )
        .unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
