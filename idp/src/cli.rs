//! The admin command line: the same binary and config as the server.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::auth::account;
use crate::auth::password::Hasher;
use crate::config::Config;
use crate::store::{AuditEvent, NewClient, NewUser, Store};
use crate::{Idp, crypto, now, oidc};

#[derive(Debug, Parser)]
#[command(
    name = "idp",
    version,
    about = "dangnhap: centralised sign-on identity provider"
)]
pub struct Cli {
    /// TOML configuration file (or set IDP_CONFIG).
    #[arg(long, short, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Create or upgrade the database schema.
    Migrate,
    /// People.
    #[command(subcommand)]
    User(UserCommand),
    /// OIDC clients (how apps sign people in).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Apps shown as tiles at the portal.
    #[command(subcommand)]
    App(AppCommand),
    /// Signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The official-mail directory.
    #[command(subcommand)]
    Directory(DirectoryCommand),
}

#[derive(Debug, Subcommand)]
pub enum DirectoryCommand {
    /// Import people and units from the directory: add, update, disable
    /// leavers. Reads only who changed since the last sync, unless --full.
    Sync {
        /// Read everyone, not only who changed.
        #[arg(long)]
        full: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a person by official e-mail (a short name is completed with IDP_EMAIL_DOMAIN).
    Add {
        email: String,
        #[arg(long)]
        name: String,
        /// Read a local password from standard input.
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        admin: bool,
        #[arg(long)]
        phone: Option<String>,
        /// Unit (đơn vị), which decides the apps the person sees.
        #[arg(long)]
        unit: Option<String>,
        /// Title (chức vụ).
        #[arg(long)]
        title: Option<String>,
        /// Employee code (mã nhân viên).
        #[arg(long)]
        employee_code: Option<String>,
        /// A group the person belongs to (repeatable); groups decide the apps they see.
        #[arg(long = "group")]
        groups: Vec<String>,
    },
    /// List people.
    List,
    /// Lift a sign-in lock after too many wrong passwords (needs the shared cache, Redis).
    Unlock { email: String },
    /// Remove a person's second factors and recovery codes (a lost phone);
    /// they set up new ones at their next sign-in. The owner is told by mail.
    ResetFactors { email: String },
    /// Issue a one-time enrolment code so a person with no second factor can
    /// set up the first one (shown once, valid 24 hours, spent on use).
    EnrolmentCode { email: String },
}

#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Add an app tile to the portal.
    Add {
        app_id: String,
        #[arg(long)]
        name: String,
        /// Where the tile leads (the app's home page).
        #[arg(long)]
        url: String,
        /// The OIDC client behind the app; its initiate_login_uri, if any, starts the login.
        #[arg(long)]
        client: Option<String>,
        /// A PNG or JPEG icon, at most 256 KiB.
        #[arg(long)]
        icon: Option<PathBuf>,
        #[arg(long, default_value = "")]
        description: String,
        /// People of this unit see the app (repeatable).
        #[arg(long = "unit")]
        units: Vec<String>,
        /// Members of this group see the app (repeatable). No unit and no group: everyone.
        #[arg(long = "group")]
        groups: Vec<String>,
        /// Allow a plain http URL outside loopback (not recommended).
        #[arg(long)]
        insecure_http: bool,
    },
    /// List apps.
    List,
}

// Parsed once per process, so the size of the `Add` variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client; prints a generated secret once.
    Add {
        client_id: String,
        /// Name shown to people on the sign-in page.
        #[arg(long)]
        name: Option<String>,
        /// Exact redirect URI (repeatable).
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// A public client (no secret; PKCE only), e.g. a native or browser app.
        #[arg(long)]
        public: bool,
        /// Read the secret from standard input instead of generating one (32 characters at least).
        #[arg(long)]
        secret_stdin: bool,
        /// Allowed grant (repeatable): authorization_code, refresh_token, client_credentials.
        /// Default: authorization_code and refresh_token.
        #[arg(long = "grant")]
        grants: Vec<String>,
        /// Registered post-logout redirect URI (repeatable).
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// OIDC Back-Channel Logout URI.
        #[arg(long)]
        backchannel_logout_uri: Option<String>,
        /// OIDC Front-Channel Logout URI, for an app without a back channel.
        #[arg(long)]
        frontchannel_logout_uri: Option<String>,
        /// Where a portal tile starts the app's login (OIDC third-party initiated login).
        #[arg(long)]
        initiate_login_uri: Option<String>,
        /// client_secret_basic (default) or client_secret_post.
        #[arg(long)]
        auth_method: Option<String>,
        /// A JWK Set file: the client authenticates with private_key_jwt.
        #[arg(long)]
        jwks_file: Option<PathBuf>,
        /// ID token algorithm: RS256 (default) or ES256.
        #[arg(long, default_value = "RS256")]
        id_token_alg: String,
        /// Allow plain http redirect URIs outside loopback (not recommended).
        #[arg(long)]
        insecure_http: bool,
        /// Every sign-in to this app uses a second factor.
        #[arg(long)]
        require_mfa: bool,
        /// A scope the client may ask for with client_credentials (repeatable); a request
        /// for another is invalid_scope, a request for none gets all of them.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// A resource (RFC 8707: absolute URI, no fragment) the client may name with
        /// client_credentials (repeatable); the access token's aud is then that URI.
        #[arg(long = "resource")]
        resources: Vec<String>,
        /// PKCE: required (default) or optional. An optional client must be confidential
        /// and send a nonce when it omits PKCE (RFC 9700 §2.1.1), for apps that predate PKCE.
        #[arg(long, default_value = "required", value_parser = ["required", "optional"])]
        pkce: String,
    },
    /// List clients.
    List,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// next → current, current → previous, and a new next key, for each algorithm.
    Rotate,
    /// List published keys.
    List,
}

/// A CLI failure: the message tells the operator what to do.
#[derive(Debug)]
pub struct CliError(pub String);

impl<E: std::fmt::Display> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError(e.to_string())
    }
}

fn fail(msg: impl Into<String>) -> CliError {
    CliError(msg.into())
}

pub async fn run(cli: Cli) -> ExitCode {
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => migrate(&config).await,
        Command::User(c) => user(&config, c).await,
        Command::Client(c) => client(&config, c).await,
        Command::Keys(c) => keys(&config, c).await,
        Command::App(c) => app(&config, c).await,
        Command::Directory(DirectoryCommand::Sync { full }) => directory_sync(&config, full).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log.level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.log.format == crate::config::LogFormat::Json {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
}

async fn serve(config: Config) -> Result<(), CliError> {
    init_logging(&config);
    if !config.ignored_env.is_empty() {
        tracing::warn!(variables = ?config.ignored_env, "environment variables that name no setting are ignored");
    }
    let idp = Idp::open(config).await?;
    if idp.store.count_admins().await? == 0 {
        let domain = idp
            .config
            .email_domain
            .clone()
            .unwrap_or_else(|| "example.gov.vn".into());
        // The binary as it was started (`cargo run` puts it under target/),
        // so the lines below work as printed from the same folder.
        let bin = std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "idp".into());
        tracing::warn!("no administrator yet");
        eprintln!(
            "No administrator yet. From this folder, with the same settings, create one (the password is read from standard input)\n\
             and give them the one-time code that binds their second factor at the first sign-in:\n  \
             printf '%s' 'a-long-password' | {bin} user add admin@{domain} --name \"Quản trị hệ thống\" --admin --password-stdin\n  \
             {bin} user enrolment-code admin@{domain}"
        );
    }
    crate::http::serve(Arc::new(idp)).await?;
    Ok(())
}

async fn migrate(config: &Config) -> Result<(), CliError> {
    let (store, _) = crate::open_store(config).await?;
    println!("database is up to date ({:?})", store.backend());
    Ok(())
}

fn read_stdin(what: &str) -> Result<String, CliError> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(|e| fail(format!("reading {what} from standard input: {e}")))?;
    Ok(s.trim_end_matches(['\r', '\n']).to_owned())
}

async fn audit(
    store: &Store,
    kind: &str,
    subject: &str,
    detail: Option<String>,
) -> Result<(), CliError> {
    let mut e = AuditEvent::new(kind, now());
    e.actor = Some("cli".into());
    e.subject = Some(subject.to_owned());
    e.detail = detail;
    store.record(&e).await?;
    Ok(())
}

async fn user(config: &Config, cmd: UserCommand) -> Result<(), CliError> {
    let (store, _) = crate::open_store(config).await?;
    match cmd {
        UserCommand::Add {
            email,
            name,
            password_stdin,
            admin,
            phone,
            unit,
            title,
            employee_code,
            groups,
        } => {
            let email = account::normalize(&email, config.email_domain.as_deref())
                .map_err(|e| fail(format!("{e}: {email:?}")))?;
            let name = name.trim().to_owned();
            if name.is_empty() {
                return Err(fail("--name must not be empty"));
            }
            let password_hash = if password_stdin {
                let pw = read_stdin("the password")?;
                if pw.chars().count() < 8 {
                    return Err(fail("the password must have at least 8 characters"));
                }
                Some(Hasher::new(&config.password)?.hash(pw).await?)
            } else {
                None
            };
            let has_password = password_hash.is_some();
            let user = store
                .create_user(
                    &NewUser {
                        id: crypto::random_id()?,
                        email,
                        name,
                        phone,
                        unit,
                        title,
                        employee_code,
                        password_hash,
                        is_admin: admin,
                    },
                    now(),
                )
                .await
                .map_err(|e| match e {
                    crate::store::StoreError::Conflict(email) => {
                        fail(format!("a person with e-mail {email} already exists"))
                    }
                    other => fail(other.to_string()),
                })?;
            for g in &groups {
                store.add_to_group(g, &user.id).await?;
            }
            audit(
                &store,
                "admin.user_added",
                &user.email,
                admin.then(|| "administrator".into()),
            )
            .await?;
            println!("added {} ({}) sub={}", user.email, user.name, user.id);
            if !has_password {
                println!("no local password: sign-in needs --password-stdin or the directory");
            }
        }
        UserCommand::Unlock { email } => {
            let email = account::normalize(&email, config.email_domain.as_deref())
                .map_err(|e| fail(format!("{e}: {email:?}")))?;
            let Some(url) = &config.redis_url else {
                return Err(fail(
                    "the counters are in the server's memory (no redis_url): restarting the server clears them",
                ));
            };
            let cache = crate::cache::Cache::open(Some(secrecy::ExposeSecret::expose_secret(url)))
                .await
                .map_err(|e| fail(e.to_string()))?;
            crate::auth::guard::unlock(&cache, &email)
                .await
                .map_err(|e| fail(e.to_string()))?;
            audit(&store, "admin.unlocked", &email, None).await?;
            println!("unlocked {email}");
        }
        UserCommand::ResetFactors { email } => {
            let email = account::normalize(&email, config.email_domain.as_deref())
                .map_err(|e| fail(format!("{e}: {email:?}")))?;
            let Some(user) = store.user_by_email(&email).await? else {
                return Err(fail(format!("no such person: {email}")));
            };
            let n = store.reset_factors(&user.id).await?;
            audit(
                &store,
                "admin.factors_reset",
                &email,
                Some(format!("{n} factors removed")),
            )
            .await?;
            if config.smtp.is_some() {
                let now = now();
                let mail = crate::mail::factors_changed(
                    "Quản trị viên đã xóa các cách xác thực hai lớp của bạn; hãy thiết lập lại khi đăng nhập",
                    "An administrator removed your two-step verification methods; set them up again when you next sign in",
                    &crate::portal::account::vn_time(now),
                );
                crate::mail::enqueue(&store, &user.email, &mail, now).await?;
            }
            println!("{n} second factors removed for {email}");
        }
        UserCommand::EnrolmentCode { email } => {
            let email = account::normalize(&email, config.email_domain.as_deref())
                .map_err(|e| fail(format!("{e}: {email:?}")))?;
            let Some(user) = store.user_by_email(&email).await? else {
                return Err(fail(format!("no such person: {email}")));
            };
            let (code, expires_at) = crate::auth::mfa::issue_enrolment_code(&store, &user, now())
                .await
                .map_err(|e| fail(e.to_string()))?;
            // The code itself is never logged or audited: only that one was issued.
            audit(
                &store,
                "admin.enrolment_code",
                &email,
                Some(format!("valid until {expires_at}")),
            )
            .await?;
            println!(
                "enrolment code for {email} (shown once, valid {} hours, works once): {code}",
                crate::auth::mfa::ENROLMENT_CODE_HOURS
            );
        }
        UserCommand::List => {
            let mut offset = 0;
            loop {
                let page = store.list_users(500, offset).await?;
                for u in &page {
                    let flags = [
                        u.is_admin().then_some("admin"),
                        u.is_disabled().then_some("disabled"),
                        u.password_hash.is_some().then_some("password"),
                    ]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(",");
                    println!("{}\t{}\t{}\t{}", u.email, u.name, u.id, flags);
                }
                if page.len() < 500 {
                    break;
                }
                offset += 500;
            }
        }
    }
    Ok(())
}

/// A redirect URI we accept: absolute, no fragment, https (or http on loopback).
pub fn check_redirect_uri(uri: &str, insecure_http: bool) -> Result<(), String> {
    let u = url::Url::parse(uri).map_err(|e| format!("{uri}: {e}"))?;
    if u.fragment().is_some() {
        return Err(format!("{uri}: must not have a fragment (RFC 6749 §3.1.2)"));
    }
    let loopback = matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match u.scheme() {
        "https" => Ok(()),
        "http" if loopback || insecure_http => Ok(()),
        "http" => Err(format!(
            "{uri}: use https (or pass --insecure-http for an intranet app)"
        )),
        s => Err(format!("{uri}: scheme {s} is not allowed")),
    }
}

async fn client(config: &Config, cmd: ClientCommand) -> Result<(), CliError> {
    let (store, _) = crate::open_store(config).await?;
    match cmd {
        ClientCommand::Add {
            client_id,
            name,
            redirect_uris,
            public,
            secret_stdin,
            grants,
            post_logout_redirect_uris,
            backchannel_logout_uri,
            frontchannel_logout_uri,
            initiate_login_uri,
            auth_method,
            jwks_file,
            id_token_alg,
            insecure_http,
            require_mfa,
            scopes,
            resources,
            pkce,
        } => {
            let id_ok = !client_id.is_empty()
                && client_id.len() <= 64
                && client_id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
            if !id_ok {
                return Err(fail(
                    "CLIENT_ID must be 1-64 characters of A-Z a-z 0-9 . _ -",
                ));
            }
            let grants = if grants.is_empty() {
                vec!["authorization_code".to_owned(), "refresh_token".to_owned()]
            } else {
                grants
            };
            for g in &grants {
                if !matches!(
                    g.as_str(),
                    "authorization_code" | "refresh_token" | "client_credentials"
                ) {
                    return Err(fail(format!(
                        "unknown grant {g}; use authorization_code, refresh_token or client_credentials"
                    )));
                }
            }
            for uri in redirect_uris
                .iter()
                .chain(&post_logout_redirect_uris)
                .chain(&backchannel_logout_uri)
                .chain(&frontchannel_logout_uri)
                .chain(&initiate_login_uri)
            {
                check_redirect_uri(uri, insecure_http).map_err(fail)?;
            }
            if grants.iter().any(|g| g == "authorization_code") && redirect_uris.is_empty() {
                return Err(fail(
                    "the authorization_code grant needs at least one --redirect-uri",
                ));
            }
            if crate::jose::Alg::parse(&id_token_alg).is_none() {
                return Err(fail("--id-token-alg must be RS256 or ES256"));
            }
            let jwks = match &jwks_file {
                None => None,
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .map_err(|e| fail(format!("{}: {e}", path.display())))?;
                    let doc: serde_json::Value = serde_json::from_str(&text)
                        .map_err(|e| fail(format!("{}: {e}", path.display())))?;
                    if crate::jose::parse_jwks(&doc).is_empty() {
                        return Err(fail(format!(
                            "{}: no usable RSA or P-256 signing key",
                            path.display()
                        )));
                    }
                    Some(doc.to_string())
                }
            };
            let method = match (public, &jwks, auth_method.as_deref()) {
                (true, None, None) => "none",
                (false, Some(_), None) => "private_key_jwt",
                (false, None, None | Some("client_secret_basic")) => "client_secret_basic",
                (false, None, Some("client_secret_post")) => "client_secret_post",
                _ => {
                    return Err(fail(
                        "choose one of --public, --jwks-file, --auth-method client_secret_basic|client_secret_post",
                    ));
                }
            };
            if method == "none" && grants.iter().any(|g| g == "client_credentials") {
                return Err(fail("a public client cannot use client_credentials"));
            }
            if method == "none" && pkce != "required" {
                // No secret: PKCE is the only thing binding the code to the app.
                return Err(fail("a public client must use PKCE: drop --pkce optional"));
            }
            if (!scopes.is_empty() || !resources.is_empty())
                && !grants.iter().any(|g| g == "client_credentials")
            {
                return Err(fail(
                    "--scope and --resource are for the client_credentials grant: add --grant client_credentials",
                ));
            }
            for s in &scopes {
                if !oidc::token::scope_token_ok(s) || s.len() > 128 || s == "openid" {
                    return Err(fail(format!(
                        "--scope {s}: one scope token (at most 128 printable characters, no space, quote or backslash), not openid"
                    )));
                }
            }
            for r in &resources {
                if !oidc::token::resource_ok(r) || r.len() > oidc::params::cap("resource") {
                    return Err(fail(format!(
                        "--resource {r}: an absolute URI without a fragment (RFC 8707), e.g. https://api.vanban.binhphuoc.gov.vn/"
                    )));
                }
            }
            let secret = match method {
                "client_secret_basic" | "client_secret_post" => Some(if secret_stdin {
                    let s = read_stdin("the secret")?;
                    if s.len() < 32 || s.len() > oidc::params::cap("client_secret") {
                        return Err(fail("the secret must have 32 to 512 characters"));
                    }
                    (s, false)
                } else {
                    (crypto::random_token()?, true)
                }),
                _ => None,
            };
            let c = NewClient {
                id: client_id.clone(),
                name: name.unwrap_or_else(|| client_id.clone()),
                secret_hash: secret
                    .as_ref()
                    .map(|(s, _)| crypto::sha256_b64(s.as_bytes())),
                auth_method: method.to_owned(),
                redirect_uris,
                post_logout_redirect_uris,
                grant_types: grants,
                backchannel_logout_uri,
                frontchannel_logout_uri,
                initiate_login_uri,
                jwks,
                id_token_alg,
                created_at: now(),
                require_mfa,
                allowed_scopes: scopes,
                allowed_resources: resources,
                pkce_required: pkce == "required",
            };
            store.create_client(&c).await.map_err(|e| match e {
                crate::store::StoreError::Conflict(id) => {
                    fail(format!("client {id} already exists"))
                }
                other => fail(other.to_string()),
            })?;
            audit(&store, "admin.client_added", &c.id, Some(method.to_owned())).await?;
            println!("added client {} ({method})", c.id);
            if let Some((s, true)) = secret {
                println!("client_secret: {s}");
                println!("(shown once; store it in the app's configuration now)");
            }
        }
        ClientCommand::List => {
            for c in store.list_clients().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    c.id,
                    c.name,
                    c.auth_method,
                    c.grant_types.join(","),
                    c.redirect_uris.join(" ")
                );
            }
        }
    }
    Ok(())
}

async fn app(config: &Config, cmd: AppCommand) -> Result<(), CliError> {
    let (store, _) = crate::open_store(config).await?;
    match cmd {
        AppCommand::Add {
            app_id,
            name,
            url,
            client,
            icon,
            description,
            units,
            groups,
            insecure_http,
        } => {
            let id_ok = !app_id.is_empty()
                && app_id.len() <= 64
                && app_id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
            if !id_ok {
                return Err(fail("APP_ID must be 1-64 characters of A-Z a-z 0-9 . _ -"));
            }
            check_redirect_uri(&url, insecure_http).map_err(fail)?;
            if let Some(c) = &client
                && store.client(c).await?.is_none()
            {
                return Err(fail(format!(
                    "no client {c}; register it first with `idp client add {c}`"
                )));
            }
            let (icon, icon_type) = match &icon {
                None => (None, None),
                Some(path) => {
                    let (bytes, kind) =
                        crate::images::read(path).map_err(|e| fail(format!("the icon {e}")))?;
                    (Some(bytes), Some(kind.to_owned()))
                }
            };
            let a = crate::store::App {
                id: app_id,
                name,
                description,
                launch_url: url,
                client_id: client,
                icon,
                icon_type,
                units,
                groups,
                created_at: now(),
            };
            store.create_app(&a).await.map_err(|e| match e {
                crate::store::StoreError::Conflict(id) => fail(format!("app {id} already exists")),
                other => fail(other.to_string()),
            })?;
            audit(&store, "admin.app_added", &a.id, None).await?;
            println!("added app {} ({})", a.id, a.name);
        }
        AppCommand::List => {
            for a in store.list_apps().await? {
                let who = if a.units.is_empty() && a.groups.is_empty() {
                    "everyone".to_owned()
                } else {
                    let groups = a.groups.iter().map(|g| format!("group:{g}"));
                    a.units
                        .iter()
                        .cloned()
                        .chain(groups)
                        .collect::<Vec<_>>()
                        .join(",")
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    a.id,
                    a.name,
                    a.launch_url,
                    a.client_id.unwrap_or_default(),
                    who
                );
            }
        }
    }
    Ok(())
}

async fn directory_sync(config: &Config, full: bool) -> Result<(), CliError> {
    let Some(d) = &config.directory else {
        return Err(fail(
            "no [directory] is configured; see deploy/idp.example.toml",
        ));
    };
    let (store, _) = crate::open_store(config).await?;
    let ldap = connectors::LdapDirectory::new(d.settings()?)
        .with_mail_domain(config.email_domain.as_deref());
    let (r, secs) = crate::auth::sync::run(&store, &ldap, full, now(), |n| {
        eprintln!("… {n} people read");
    })
    .await
    .map_err(|e| fail(e.to_string()))?;
    let detail = format!(
        "{} read {}, added {}, updated {}, disabled {}, unchanged {}; {} people in {} units",
        if r.full { "full:" } else { "changes only:" },
        r.read,
        r.added,
        r.updated,
        r.disabled,
        r.unchanged,
        r.listed,
        r.units
    );
    audit(
        &store,
        "admin.directory_synced",
        &d.url,
        Some(detail.clone()),
    )
    .await?;
    println!("{detail} ({secs:.1} s)");
    Ok(())
}

async fn keys(config: &Config, cmd: KeysCommand) -> Result<(), CliError> {
    let (store, master) = crate::open_store(config).await?;
    match cmd {
        KeysCommand::Rotate => {
            let retain = oidc::keys::retention_secs(&config.tokens);
            for made in oidc::keys::rotate(&store, &master, retain, now()).await? {
                println!("new next key: {made}");
            }
            audit(&store, "admin.keys_rotated", "signing_keys", None).await?;
            println!(
                "servers pick the rotation up within {} s",
                config.tokens.key_reload_secs
            );
        }
        KeysCommand::List => {
            oidc::keys::ensure_keys(&store, &master, now()).await?;
            let retain = oidc::keys::retention_secs(&config.tokens);
            let now = now();
            for k in store
                .live_keys()
                .await?
                .into_iter()
                .filter(|k| oidc::keys::published(k, retain, now))
            {
                println!("{}\t{}\t{}", k.alg, k.state, k.kid);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_must_be_https_outside_loopback() {
        assert!(check_redirect_uri("https://app.gov.vn/cb", false).is_ok());
        assert!(check_redirect_uri("http://127.0.0.1:9000/cb", false).is_ok());
        assert!(check_redirect_uri("http://app.gov.vn/cb", false).is_err());
        assert!(check_redirect_uri("http://app.gov.vn/cb", true).is_ok());
        assert!(check_redirect_uri("https://app.gov.vn/cb#x", false).is_err());
        assert!(check_redirect_uri("javascript:alert(1)", true).is_err());
        assert!(check_redirect_uri("/relative", false).is_err());
    }
}
