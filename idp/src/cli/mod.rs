//! The admin command line: the same binary and config as the server.
//!
//! This module holds the command tree, `serve` and `migrate`; each command
//! group has its file (`user`, `client`, `app`, `cas`, `keys`, `directory`, `link`, `sign`) that
//! parses its flags, calls the rule in `crate::admin` and prints the result.

mod app;
mod cas;
mod client;
mod directory;
mod keys;
mod link;
mod saml;
mod sign;
mod user;

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use secrecy::SecretString;

pub use app::AppCommand;
pub use cas::CasCommand;
pub use client::{AddClient, ClientCommand};
pub use directory::DirectoryCommand;
pub use keys::KeysCommand;
pub use link::LinkCommand;
pub use saml::SamlCommand;
pub use sign::SignCommand;
pub use user::UserCommand;

use crate::Idp;
use crate::config::Config;

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
    /// CAS 3.0 services (apps that validate tickets at /cas).
    #[command(subcommand)]
    Cas(CasCommand),
    /// SAML 2.0 service providers, and the IdP's metadata.
    #[command(subcommand)]
    Saml(SamlCommand),
    /// Signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The official-mail directory.
    #[command(subcommand)]
    Directory(DirectoryCommand),
    /// Legacy app accounts and who owns them.
    #[command(subcommand)]
    Link(LinkCommand),
    /// PDF signatures.
    #[command(subcommand)]
    Sign(SignCommand),
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
        Command::User(c) => user::run(&config, c).await,
        Command::Client(c) => client::run(&config, c).await,
        Command::Keys(c) => keys::run(&config, c).await,
        Command::App(c) => app::run(&config, c).await,
        Command::Cas(c) => cas::run(&config, c).await,
        Command::Saml(c) => saml::run(&config, c).await,
        Command::Directory(c) => directory::run(&config, c).await,
        Command::Link(c) => link::run(&config, c).await,
        Command::Sign(c) => sign::run(&config, c).await,
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

/// Reads a secret (a password, a client secret) from standard input, without
/// the final line break; it stays a `SecretString` until hashed or printed.
fn read_secret(what: &str) -> Result<SecretString, CliError> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(|e| fail(format!("reading {what} from standard input: {e}")))?;
    // Trimmed in place rather than copied into a second String.
    let len = s.trim_end_matches(['\r', '\n']).len();
    s.truncate(len);
    Ok(SecretString::from(s))
}
