//! `idp cas service …`: the CAS services that may get tickets.

use clap::Subcommand;

use super::CliError;
use crate::admin::Actor;
use crate::admin::cas::{self, NewService};
use crate::config::Config;
use crate::now;

#[derive(Debug, Subcommand)]
pub enum CasCommand {
    /// CAS services (apps that validate tickets at /cas).
    #[command(subcommand)]
    Service(ServiceCommand),
}

#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Register a service.
    Add {
        id: String,
        /// The service URL, or a prefix of the app's URLs (absolute http(s) with a host).
        #[arg(long)]
        pattern: String,
        /// The service URL must equal the pattern (not only start with it).
        #[arg(long)]
        exact: bool,
        /// Shown on the sign-in form and the sign-out page (default: ID).
        #[arg(long)]
        name: Option<String>,
        /// An attribute released at p3/serviceValidate (repeatable): email,
        /// name, unit, title, phone, legacy_username. Default: email and name.
        #[arg(long = "attribute")]
        attributes: Vec<String>,
        /// The portal app whose linked accounts give legacy_username.
        #[arg(long)]
        app: Option<String>,
        /// Where the single-logout request (SAML logoutRequest) is POSTed.
        #[arg(long)]
        logout_url: Option<String>,
        /// The service may receive proxy-granting tickets (its pgtUrl matches the pattern).
        #[arg(long)]
        allow_proxy: bool,
        /// Other services allowed to proxy may get proxy tickets for this
        /// service (it is a valid targetService); off by default.
        #[arg(long)]
        accept_proxy: bool,
        /// Sign-in for this service needs a second factor (acr 2), as an OIDC
        /// client registered with --require-mfa; a session without one steps up.
        #[arg(long)]
        require_mfa: bool,
        /// Allow a plain http pattern and logout URL outside loopback (an
        /// intranet app with no certificate yet); tickets then travel unencrypted.
        #[arg(long)]
        insecure_http: bool,
    },
    /// List services.
    List,
    /// Remove a service.
    Remove { id: String },
}

pub(super) async fn run(config: &Config, cmd: CasCommand) -> Result<(), CliError> {
    let (store, _) = crate::open_store(config).await?;
    let CasCommand::Service(cmd) = cmd;
    match cmd {
        ServiceCommand::Add {
            id,
            pattern,
            exact,
            name,
            attributes,
            app,
            logout_url,
            allow_proxy,
            accept_proxy,
            require_mfa,
            insecure_http,
        } => {
            let n = NewService {
                id,
                name,
                pattern,
                exact,
                attributes,
                app,
                logout_url,
                allow_proxy,
                accept_proxy,
                require_mfa,
                insecure_http,
            };
            let s = cas::add(&store, n, &Actor::cli(), now()).await?;
            println!(
                "added CAS service {} ({}) for {}{}, attributes {}",
                s.id,
                s.name,
                s.pattern,
                if s.exact { " (exact)" } else { " and below" },
                s.attributes.join(",")
            );
        }
        ServiceCommand::List => {
            for s in store.cas_services().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    s.id,
                    s.name,
                    s.pattern,
                    if s.exact { "exact" } else { "prefix" },
                    s.attributes.join(","),
                    if s.allow_proxy { "proxy" } else { "-" },
                    if s.accept_proxy { "proxied-to" } else { "-" },
                    if s.require_mfa { "mfa" } else { "-" },
                    s.logout_url.unwrap_or_else(|| "-".into())
                );
            }
        }
        ServiceCommand::Remove { id } => {
            cas::remove(&store, &id, &Actor::cli(), now()).await?;
            println!("removed CAS service {id}");
        }
    }
    Ok(())
}
