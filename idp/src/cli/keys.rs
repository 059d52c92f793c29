//! `idp keys …`: signing keys.

use clap::Subcommand;

use super::CliError;
use crate::admin::Actor;
use crate::config::Config;
use crate::{now, oidc};

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// next → current, current → previous, and a new next key, for each algorithm.
    Rotate,
    /// List published keys.
    List,
}

pub(super) async fn run(config: &Config, cmd: KeysCommand) -> Result<(), CliError> {
    let (store, master) = crate::open_store(config).await?;
    let retain = oidc::keys::retention_secs(&config.tokens);
    match cmd {
        KeysCommand::Rotate => {
            let made =
                crate::admin::keys::rotate(&store, &master, retain, &Actor::cli(), now()).await?;
            for made in made {
                println!("new next key: {made}");
            }
            println!(
                "servers pick the rotation up within {} s",
                config.tokens.key_reload_secs
            );
        }
        KeysCommand::List => {
            oidc::keys::ensure_keys(&store, &master, now()).await?;
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
