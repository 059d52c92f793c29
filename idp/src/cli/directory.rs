//! `idp directory …`: the official-mail directory.

use clap::Subcommand;

use super::{CliError, fail};
use crate::admin::Actor;
use crate::config::Config;
use crate::now;

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

pub(super) async fn run(config: &Config, cmd: DirectoryCommand) -> Result<(), CliError> {
    let DirectoryCommand::Sync { full } = cmd;
    let Some(d) = &config.directory else {
        return Err(fail(
            "no [directory] is configured; see deploy/idp.example.toml",
        ));
    };
    let (store, _) = crate::open_store(config).await?;
    let ldap = connectors::LdapDirectory::new(d.settings()?)
        .with_mail_domain(config.email_domain.as_deref());
    let progress = |n| eprintln!("… {n} people read");
    let (report, secs) =
        crate::admin::directory::sync(&store, &ldap, &d.url, full, progress, &Actor::cli(), now())
            .await?;
    println!("{report} ({secs:.1} s)");
    Ok(())
}
