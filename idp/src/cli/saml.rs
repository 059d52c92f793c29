//! `idp saml …`: the SAML service providers, and the IdP's own metadata.

use clap::Subcommand;

use super::{CliError, fail};
use crate::admin::Actor;
use crate::admin::saml::{self, NewSp};
use crate::config::Config;
use crate::now;
use crate::saml::xml::Limits;

#[derive(Debug, Subcommand)]
pub enum SamlCommand {
    /// SAML service providers (apps that sign in by SAML 2.0).
    #[command(subcommand)]
    Sp(SpCommand),
    /// Print the IdP's signed metadata (what SPs load to trust this IdP).
    Metadata,
}

#[derive(Debug, Subcommand)]
pub enum SpCommand {
    /// Register an SP from its metadata.
    Add {
        /// The SP's metadata: a file, or an https URL to fetch it from.
        #[arg(long)]
        metadata: String,
        /// Shown on the sign-in form and the sign-out page (default: the entity ID).
        #[arg(long)]
        name: Option<String>,
        /// The NameID: email (the official e-mail, default) or persistent
        /// (an opaque identifier for this SP only).
        #[arg(long = "name-id")]
        name_id: Option<String>,
        /// An attribute released (repeatable): email, name, unit, title,
        /// phone, legacy_username. Default: email and name.
        #[arg(long = "attribute")]
        attributes: Vec<String>,
        /// The portal app whose tile signs in to this SP (IdP-initiated)
        /// and whose linked accounts give legacy_username.
        #[arg(long)]
        app: Option<String>,
        /// Allow plain http endpoints outside loopback (an intranet app with
        /// no certificate yet); assertions then travel unencrypted.
        #[arg(long)]
        insecure_http: bool,
        /// Replace the SP of the same entity ID (new metadata or certificate).
        #[arg(long)]
        replace: bool,
    },
    /// List SPs.
    List,
    /// Remove an SP.
    Remove { entity_id: String },
}

/// The metadata at `source`: a file, or an http(s) URL (https, or http on
/// loopback), read with a time limit and a size cap.
async fn read_metadata(source: &str) -> Result<String, CliError> {
    let cap = Limits::METADATA.bytes;
    if source.starts_with("https://") || source.starts_with("http://") {
        crate::admin::check_redirect_uri(source, false).map_err(fail)?;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()?;
        let mut resp = client.get(source).send().await?.error_for_status()?;
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await? {
            body.extend_from_slice(&chunk);
            if body.len() > cap {
                return Err(fail(format!(
                    "{source}: the metadata is larger than {cap} bytes"
                )));
            }
        }
        return String::from_utf8(body).map_err(|_| fail(format!("{source}: not UTF-8")));
    }
    let meta = std::fs::metadata(source).map_err(|e| fail(format!("{source}: {e}")))?;
    if meta.len() > u64::try_from(cap).unwrap_or(u64::MAX) {
        return Err(fail(format!(
            "{source}: the metadata is larger than {cap} bytes"
        )));
    }
    std::fs::read_to_string(source).map_err(|e| fail(format!("{source}: {e}")))
}

pub(super) async fn run(config: &Config, cmd: SamlCommand) -> Result<(), CliError> {
    let (store, master) = crate::open_store(config).await?;
    match cmd {
        SamlCommand::Metadata => {
            println!(
                "{}",
                crate::saml::Saml::open(config, &store, &master)
                    .await?
                    .metadata
            );
        }
        SamlCommand::Sp(SpCommand::Add {
            metadata,
            name,
            name_id,
            attributes,
            app,
            insecure_http,
            replace,
        }) => {
            let n = NewSp {
                metadata: read_metadata(&metadata).await?,
                name,
                name_id,
                attributes,
                app,
                insecure_http,
                replace,
            };
            let sp = saml::add(&store, n, &Actor::cli(), now()).await?;
            println!(
                "added SAML SP {} ({}), NameID {}, attributes {}",
                sp.entity_id,
                sp.name,
                sp.name_id,
                sp.attributes.join(",")
            );
        }
        SamlCommand::Sp(SpCommand::List) => {
            for sp in store.saml_sps().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    sp.entity_id,
                    sp.name,
                    sp.name_id,
                    sp.attributes.join(","),
                    sp.app_id.unwrap_or_else(|| "-".into())
                );
            }
        }
        SamlCommand::Sp(SpCommand::Remove { entity_id }) => {
            saml::remove(&store, &entity_id, &Actor::cli(), now()).await?;
            println!("removed SAML SP {entity_id}");
        }
    }
    Ok(())
}
