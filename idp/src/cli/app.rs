//! `idp app …`: apps shown as tiles at the portal.

use std::path::PathBuf;

use clap::Subcommand;

use super::{CliError, fail};
use crate::admin::Actor;
use crate::admin::apps::{self, NewApp};
use crate::config::Config;
use crate::now;

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
        /// The claim that carries the person's linked username of this app to
        /// its client: preferred_username, or a name of your own ([a-z][a-z0-9_]*).
        #[arg(long)]
        legacy_claim: Option<String>,
    },
    /// Set (or with --clear, stop) the claim that carries the person's
    /// linked username of this app to its client.
    LegacyClaim {
        app_id: String,
        /// preferred_username, or a name of your own ([a-z][a-z0-9_]*).
        #[arg(required_unless_present = "clear")]
        claim: Option<String>,
        /// Release no legacy username any more.
        #[arg(long, conflicts_with = "claim")]
        clear: bool,
    },
    /// List apps.
    List,
}

pub(super) async fn run(config: &Config, cmd: AppCommand) -> Result<(), CliError> {
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
            legacy_claim,
        } => {
            let icon = match &icon {
                None => None,
                Some(path) => Some(
                    std::fs::read(path)
                        .map_err(|e| fail(format!("the icon {}: {e}", path.display())))?,
                ),
            };
            let a = NewApp {
                app_id,
                name,
                url,
                client,
                icon,
                description,
                units,
                groups,
                insecure_http,
                legacy_claim,
            };
            let a = apps::add(&store, a, &Actor::cli(), now()).await?;
            match &a.legacy_claim {
                Some(c) => println!(
                    "added app {} ({}), legacy username in claim {c}",
                    a.id, a.name
                ),
                None => println!("added app {} ({})", a.id, a.name),
            }
        }
        AppCommand::LegacyClaim { app_id, claim, .. } => {
            crate::admin::links::set_claim(&store, &Actor::cli(), &app_id, claim.as_deref(), now())
                .await?;
            match claim {
                Some(c) => println!("app {app_id}: the linked username goes in claim {c}"),
                None => println!("app {app_id}: no legacy username is released"),
            }
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
