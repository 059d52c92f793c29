//! OIDC clients (relying parties): how they authenticate and where they may
//! send people back to.

use super::{Store, StoreError, conflict, json_list, to_json};
use crate::ids::ClientId;
use crate::kinds::{ClientAuthMethod, GrantType};

#[derive(Clone, Debug)]
pub struct Client {
    pub id: ClientId,
    pub name: String,
    pub secret_hash: Option<String>,
    pub auth_method: ClientAuthMethod,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantType>,
    pub backchannel_logout_uri: Option<String>,
    /// OIDC Front-Channel Logout URI, framed by the sign-out page (with `iss` and `sid`).
    pub frontchannel_logout_uri: Option<String>,
    /// Where a portal tile starts the app's login (OIDC Core §4).
    pub initiate_login_uri: Option<String>,
    pub jwks: Option<String>,
    pub id_token_alg: String,
    pub created_at: i64,
    /// Every sign-in to this app uses a second factor.
    pub require_mfa: bool,
    /// Scopes the client may ask for with `client_credentials` (all of them when it asks for none).
    pub allowed_scopes: Vec<String>,
    /// Resources (RFC 8707) the client may name with `client_credentials`; the token's `aud`.
    pub allowed_resources: Vec<String>,
    /// `false` for a confidential client registered with `--pkce optional`:
    /// it may omit PKCE when it sends a `nonce` (RFC 9700 §2.1.1).
    pub pkce_required: bool,
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.auth_method == ClientAuthMethod::None
    }

    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: ClientId,
    name: String,
    secret_hash: Option<String>,
    auth_method: ClientAuthMethod,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    grant_types: String,
    backchannel_logout_uri: Option<String>,
    frontchannel_logout_uri: Option<String>,
    initiate_login_uri: Option<String>,
    jwks: Option<String>,
    id_token_alg: String,
    created_at: i64,
    require_mfa: i64,
    allowed_scopes: String,
    allowed_resources: String,
    pkce_required: i64,
}

impl TryFrom<Row> for Client {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Client, StoreError> {
        Ok(Client {
            redirect_uris: json_list(&r.redirect_uris, "clients.redirect_uris")?,
            post_logout_redirect_uris: json_list(
                &r.post_logout_redirect_uris,
                "clients.post_logout_redirect_uris",
            )?,
            grant_types: json_list(&r.grant_types, "clients.grant_types")?,
            allowed_scopes: json_list(&r.allowed_scopes, "clients.allowed_scopes")?,
            allowed_resources: json_list(&r.allowed_resources, "clients.allowed_resources")?,
            id: r.id,
            name: r.name,
            secret_hash: r.secret_hash,
            auth_method: r.auth_method,
            backchannel_logout_uri: r.backchannel_logout_uri,
            frontchannel_logout_uri: r.frontchannel_logout_uri,
            initiate_login_uri: r.initiate_login_uri,
            jwks: r.jwks,
            id_token_alg: r.id_token_alg,
            created_at: r.created_at,
            require_mfa: r.require_mfa != 0,
            pkce_required: r.pkce_required != 0,
        })
    }
}

/// A client as the CLI (and later the admin console) registers it.
pub type NewClient = Client;

macro_rules! columns {
    () => {
        "id, name, secret_hash, auth_method, redirect_uris, post_logout_redirect_uris, grant_types, backchannel_logout_uri, jwks, id_token_alg, created_at, initiate_login_uri, frontchannel_logout_uri, require_mfa, allowed_scopes, allowed_resources, pkce_required"
    };
}

impl Store {
    pub async fn create_client(&self, c: &NewClient) -> Result<(), StoreError> {
        sqlx::query(concat!(
            "INSERT INTO clients (",
            columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
        ))
        .bind(&c.id)
        .bind(&c.name)
        .bind(&c.secret_hash)
        .bind(c.auth_method)
        .bind(to_json(&c.redirect_uris))
        .bind(to_json(&c.post_logout_redirect_uris))
        .bind(to_json(&c.grant_types))
        .bind(&c.backchannel_logout_uri)
        .bind(&c.jwks)
        .bind(&c.id_token_alg)
        .bind(c.created_at)
        .bind(&c.initiate_login_uri)
        .bind(&c.frontchannel_logout_uri)
        .bind(i64::from(c.require_mfa))
        .bind(to_json(&c.allowed_scopes))
        .bind(to_json(&c.allowed_resources))
        .bind(i64::from(c.pkce_required))
        .execute(&self.pool)
        .await
        .map_err(|e| conflict(e, &c.id))?;
        Ok(())
    }

    /// Rewrites a client's name and the addresses it may be sent to;
    /// `false` when there is no such client.
    pub async fn update_client_uris(&self, c: &Client) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE clients SET name = $2, redirect_uris = $3, post_logout_redirect_uris = $4, \
             backchannel_logout_uri = $5, frontchannel_logout_uri = $6, initiate_login_uri = $7 \
             WHERE id = $1",
        )
        .bind(&c.id)
        .bind(&c.name)
        .bind(to_json(&c.redirect_uris))
        .bind(to_json(&c.post_logout_redirect_uris))
        .bind(&c.backchannel_logout_uri)
        .bind(&c.frontchannel_logout_uri)
        .bind(&c.initiate_login_uri)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Replaces the hash of a client's secret: the old secret stops working
    /// with this write. `false` when there is no such client.
    pub async fn set_client_secret_hash(
        &self,
        id: &ClientId,
        secret_hash: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE clients SET secret_hash = $2 WHERE id = $1")
            .bind(id)
            .bind(secret_hash)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn client(&self, id: &ClientId) -> Result<Option<Client>, StoreError> {
        let row: Option<Row> = sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM clients WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(Client::try_from).transpose()
    }

    pub async fn list_clients(&self) -> Result<Vec<Client>, StoreError> {
        let rows: Vec<Row> =
            sqlx::query_as(concat!("SELECT ", columns!(), " FROM clients ORDER BY id"))
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(Client::try_from).collect()
    }
}
