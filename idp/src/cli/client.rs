//! `idp client …`: OIDC clients (how apps sign people in).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use secrecy::ExposeSecret;

use super::{CliError, fail, read_secret};
use crate::admin::Actor;
use crate::admin::clients::{self, Registration};
use crate::config::Config;
use crate::kinds::{ClientAuthMethod, GrantType};
use crate::now;

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client; prints a generated secret once.
    // Boxed: the flags are many and the other variant has none.
    Add(Box<AddClient>),
    /// List clients.
    List,
}

#[derive(Debug, Args)]
pub struct AddClient {
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
    grants: Vec<GrantType>,
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
    auth_method: Option<ClientAuthMethod>,
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
    /// for another is invalid_scope, a request for none gets all of them. For a
    /// web app: `admin` (the admin API) or `sign` (the signing API), which its
    /// users' sign-ins then grant when asked for.
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
}

pub(super) async fn run(config: &Config, cmd: ClientCommand) -> Result<(), CliError> {
    let (store, _) = crate::open_store(config).await?;
    match cmd {
        ClientCommand::Add(add) => {
            let a = *add;
            let jwks = match &a.jwks_file {
                None => None,
                Some(path) => {
                    let at = |e: &dyn std::fmt::Display| fail(format!("{}: {e}", path.display()));
                    let text = std::fs::read_to_string(path).map_err(|e| at(&e))?;
                    Some(serde_json::from_str(&text).map_err(|e| at(&e))?)
                }
            };
            let secret = if a.secret_stdin {
                Some(read_secret("the secret")?)
            } else {
                None
            };
            let registration = Registration {
                client_id: a.client_id,
                name: a.name,
                redirect_uris: a.redirect_uris,
                public: a.public,
                secret,
                grants: a.grants,
                post_logout_redirect_uris: a.post_logout_redirect_uris,
                backchannel_logout_uri: a.backchannel_logout_uri,
                frontchannel_logout_uri: a.frontchannel_logout_uri,
                initiate_login_uri: a.initiate_login_uri,
                auth_method: a.auth_method,
                jwks,
                id_token_alg: a.id_token_alg,
                insecure_http: a.insecure_http,
                require_mfa: a.require_mfa,
                scopes: a.scopes,
                resources: a.resources,
                pkce_required: a.pkce == "required",
            };
            let r = clients::register(&store, registration, &Actor::cli(), now())
                .await
                .map_err(|e| match (&e, &a.jwks_file) {
                    (clients::ClientError::NoUsableKey, Some(path)) => {
                        fail(format!("{}: {e}", path.display()))
                    }
                    _ => fail(e.to_string()),
                })?;
            println!("added client {} ({})", r.id, r.auth_method);
            if let Some(s) = r.generated_secret {
                println!("client_secret: {}", s.expose_secret());
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
                    c.grant_types
                        .iter()
                        .map(|g| g.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                    c.redirect_uris.join(" ")
                );
            }
        }
    }
    Ok(())
}
