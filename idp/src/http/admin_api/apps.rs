//! Apps (portal tiles) and OIDC clients over JSON: the console's steps
//! (`admin::apps`, `admin::clients`, `admin::links::set_claim`) with the
//! caller's powers: super administrators change, auditors read, anyone else
//! is 403. A generated or rotated secret is in that response's body only.

use axum::Json;
use axum::body::Bytes;
use axum::extract::Path;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiCaller, ApiError};
use crate::admin::Actor;
use crate::admin::apps::{self, AppChange, AppError, NewApp};
use crate::admin::clients::{self, ClientError, Registration, UriChange};
use crate::admin::links::{self, LinkError};
use crate::ids::ClientId;
use crate::kinds::{ClientAuthMethod, GrantType};
use crate::store::{App, Client};

fn app_json(a: &App) -> Value {
    json!({
        "id": a.id,
        "name": a.name,
        "description": a.description,
        "url": a.launch_url,
        "client_id": a.client_id,
        "icon": a.icon.as_ref().map(|_| format!("/apps/{}/icon", a.id)),
        "units": a.units,
        "groups": a.groups,
        "legacy_claim": a.legacy_claim,
        "created_at": a.created_at,
    })
}

fn client_json(c: &Client) -> Value {
    json!({
        "client_id": c.id.as_str(),
        "name": c.name,
        "auth_method": c.auth_method.to_string(),
        "redirect_uris": c.redirect_uris,
        "post_logout_redirect_uris": c.post_logout_redirect_uris,
        "backchannel_logout_uri": c.backchannel_logout_uri,
        "frontchannel_logout_uri": c.frontchannel_logout_uri,
        "initiate_login_uri": c.initiate_login_uri,
        "grant_types": c.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "pkce_required": c.pkce_required,
        "require_mfa": c.require_mfa,
        "id_token_alg": c.id_token_alg,
        "allowed_scopes": c.allowed_scopes,
        "created_at": c.created_at,
    })
}

fn may_read(a: &ApiCaller) -> Result<(), ApiError> {
    super::allow(a.powers.may_see_apps())
}

fn may_change(a: &ApiCaller) -> Result<(), ApiError> {
    super::allow(a.powers.may_manage_apps())
}

fn no_app() -> Response {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such app").into_response()
}

fn no_client() -> Response {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such client").into_response()
}

fn app_refused(a: &ApiCaller, e: AppError) -> Response {
    match e {
        AppError::NotFound(_) => no_app(),
        AppError::Exists(_) => {
            ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string()).into_response()
        }
        AppError::Store(e) => a.internal(&e).into_response(),
        e => ApiError::bad_request(e.to_string()).into_response(),
    }
}

fn client_refused(a: &ApiCaller, e: ClientError) -> Response {
    match e {
        ClientError::NotFound(_) => no_client(),
        ClientError::Exists(_) => {
            ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string()).into_response()
        }
        ClientError::Store(e) => a.internal(&e).into_response(),
        ClientError::Crypto(e) => a.internal(&e).into_response(),
        e => ApiError::bad_request(e.to_string()).into_response(),
    }
}

pub async fn list_apps(a: ApiCaller) -> Response {
    if let Err(r) = may_read(&a) {
        return r.into_response();
    }
    match a.idp().store.list_apps().await {
        Ok(all) => super::json(json!({ "apps": all.iter().map(app_json).collect::<Vec<_>>() })),
        Err(e) => a.internal(&e).into_response(),
    }
}

pub async fn get_app(a: ApiCaller, Path(id): Path<String>) -> Response {
    if let Err(r) = may_read(&a) {
        return r.into_response();
    }
    match a.idp().store.app(&id).await {
        Ok(Some(app)) => super::json(app_json(&app)),
        Ok(None) => no_app(),
        Err(e) => a.internal(&e).into_response(),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAppBody {
    pub app_id: String,
    pub name: String,
    pub url: String,
    pub client_id: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub units: Vec<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub insecure_http: bool,
    pub legacy_claim: Option<String>,
}

pub async fn create_app(a: ApiCaller, b: Result<Json<NewAppBody>, JsonRejection>) -> Response {
    let b = match may_change(&a).and_then(|()| super::body(b)) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let new = NewApp {
        app_id: b.app_id,
        name: b.name,
        url: b.url,
        client: b.client_id,
        description: b.description,
        units: b.units,
        groups: b.groups,
        insecure_http: b.insecure_http,
        legacy_claim: b.legacy_claim,
        icon: None,
    };
    let actor = Actor::person(&a.powers.user_id);
    match apps::add(&a.idp().store, new, &actor, crate::now()).await {
        Ok(app) => (StatusCode::CREATED, super::json(app_json(&app))).into_response(),
        Err(e) => app_refused(&a, e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub url: Option<String>,
    /// A client id, or `null` to detach the client; absent: unchanged.
    #[serde(default, deserialize_with = "present")]
    pub client_id: Option<Option<String>>,
    pub units: Option<Vec<String>>,
    pub groups: Option<Vec<String>>,
    #[serde(default)]
    pub insecure_http: bool,
}

/// A field that is present (even as `null`) is `Some`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

pub async fn update_app(
    a: ApiCaller,
    Path(id): Path<String>,
    b: Result<Json<AppPatch>, JsonRejection>,
) -> Response {
    let b = match may_change(&a).and_then(|()| super::body(b)) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let ch = AppChange {
        name: b.name,
        description: b.description,
        url: b.url,
        client: b.client_id,
        units: b.units,
        groups: b.groups,
        insecure_http: b.insecure_http,
    };
    let actor = Actor::person(&a.powers.user_id);
    match apps::update(&a.idp().store, &id, ch, &actor, crate::now()).await {
        Ok(app) => super::json(app_json(&app)),
        Err(e) => app_refused(&a, e),
    }
}

/// The body an icon upload may have.
pub const ICON_BODY_LIMIT: usize = apps::ICON_MAX_BYTES + 1;

/// `PUT /apps/{id}/icon` with the PNG or JPEG bytes as the body.
pub async fn put_icon(
    a: ApiCaller,
    Path(id): Path<String>,
    b: Result<Bytes, BytesRejection>,
) -> Response {
    if let Err(r) = may_change(&a) {
        return r.into_response();
    }
    let bytes = match b {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return app_refused(&a, AppError::IconTooLarge);
        }
        Err(e) => return ApiError::bad_request(e.body_text()).into_response(),
    };
    let actor = Actor::person(&a.powers.user_id);
    match apps::set_icon(&a.idp().store, &id, &bytes, &actor, crate::now()).await {
        Ok(()) => super::json(json!({ "icon": format!("/apps/{id}/icon") })),
        Err(e) => app_refused(&a, e),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimBody {
    /// `null` clears it.
    pub claim: Option<String>,
}

pub async fn put_claim(
    a: ApiCaller,
    Path(id): Path<String>,
    b: Result<Json<ClaimBody>, JsonRejection>,
) -> Response {
    let b = match may_change(&a).and_then(|()| super::body(b)) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let actor = Actor::person(&a.powers.user_id);
    let r = links::set_claim(
        &a.idp().store,
        &actor,
        &id,
        b.claim.as_deref(),
        crate::now(),
    )
    .await;
    match r {
        Ok(()) => super::json(json!({ "app_id": id, "legacy_claim": b.claim })),
        Err(LinkError::NoApp(_)) => no_app(),
        Err(LinkError::BadInput(why)) => ApiError::bad_request(why).into_response(),
        Err(e) => a.internal(&e).into_response(),
    }
}

pub async fn list_clients(a: ApiCaller) -> Response {
    if let Err(r) = may_read(&a) {
        return r.into_response();
    }
    match a.idp().store.list_clients().await {
        Ok(all) => {
            super::json(json!({ "clients": all.iter().map(client_json).collect::<Vec<_>>() }))
        }
        Err(e) => a.internal(&e).into_response(),
    }
}

pub async fn get_client(a: ApiCaller, Path(id): Path<String>) -> Response {
    if let Err(r) = may_read(&a) {
        return r.into_response();
    }
    match a.idp().store.client(&ClientId::from(id.as_str())).await {
        Ok(Some(c)) => super::json(client_json(&c)),
        Ok(None) => no_client(),
        Err(e) => a.internal(&e).into_response(),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    pub client_id: String,
    pub name: Option<String>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    pub frontchannel_logout_uri: Option<String>,
    pub initiate_login_uri: Option<String>,
    #[serde(default)]
    pub public: bool,
    /// `client_secret_basic` (default) or `client_secret_post`.
    pub auth_method: Option<String>,
    /// Empty: `authorization_code` and `refresh_token`.
    #[serde(default)]
    pub grant_types: Vec<String>,
    pub id_token_alg: Option<String>,
    #[serde(default)]
    pub require_mfa: bool,
    /// `false`: a confidential app that predates PKCE (it must send a nonce).
    pub pkce_required: Option<bool>,
    #[serde(default)]
    pub insecure_http: bool,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub resources: Vec<String>,
}

pub async fn create_client(a: ApiCaller, b: Result<Json<RegisterBody>, JsonRejection>) -> Response {
    let b = match may_change(&a).and_then(|()| super::body(b)) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let auth_method = match b.auth_method.as_deref().map(str::parse::<ClientAuthMethod>) {
        None => None,
        Some(Ok(m)) => Some(m),
        Some(Err(_)) => {
            return ApiError::bad_request("auth_method: client_secret_basic or client_secret_post")
                .into_response();
        }
    };
    let mut grants = Vec::new();
    for g in &b.grant_types {
        match g.parse::<GrantType>() {
            Ok(g) => grants.push(g),
            Err(_) => {
                return ApiError::bad_request(format!("grant_types: unknown {g}")).into_response();
            }
        }
    }
    let r = Registration {
        client_id: b.client_id,
        name: b.name,
        redirect_uris: b.redirect_uris,
        public: b.public,
        secret: None,
        grants,
        post_logout_redirect_uris: b.post_logout_redirect_uris,
        backchannel_logout_uri: b.backchannel_logout_uri,
        frontchannel_logout_uri: b.frontchannel_logout_uri,
        initiate_login_uri: b.initiate_login_uri,
        auth_method,
        jwks: None,
        id_token_alg: b.id_token_alg.unwrap_or_else(|| "RS256".into()),
        insecure_http: b.insecure_http,
        require_mfa: b.require_mfa,
        scopes: b.scopes,
        resources: b.resources,
        pkce_required: b.pkce_required.unwrap_or(true),
    };
    let actor = Actor::person(&a.powers.user_id);
    match clients::register(&a.idp().store, r, &actor, crate::now()).await {
        Ok(reg) => {
            let body = json!({
                "client_id": reg.id,
                "auth_method": reg.auth_method.to_string(),
                "client_secret": reg.generated_secret.as_ref().map(|s| s.expose_secret()),
            });
            (StatusCode::CREATED, super::json(body)).into_response()
        }
        Err(e) => client_refused(&a, e),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrisBody {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    pub frontchannel_logout_uri: Option<String>,
    pub initiate_login_uri: Option<String>,
    #[serde(default)]
    pub insecure_http: bool,
}

/// `PUT /clients/{id}`: the name and every address, replaced as given.
pub async fn update_client(
    a: ApiCaller,
    Path(id): Path<String>,
    b: Result<Json<UrisBody>, JsonRejection>,
) -> Response {
    let b = match may_change(&a).and_then(|()| super::body(b)) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let ch = UriChange {
        name: b.name,
        redirect_uris: b.redirect_uris,
        post_logout_redirect_uris: b.post_logout_redirect_uris,
        backchannel_logout_uri: b.backchannel_logout_uri,
        frontchannel_logout_uri: b.frontchannel_logout_uri,
        initiate_login_uri: b.initiate_login_uri,
        insecure_http: b.insecure_http,
    };
    let actor = Actor::person(&a.powers.user_id);
    match clients::update_uris(&a.idp().store, &id, ch, &actor, crate::now()).await {
        Ok(c) => super::json(client_json(&c)),
        Err(e) => client_refused(&a, e),
    }
}

/// `POST /clients/{id}/secret`: a new secret, in this body only; the old
/// one is refused from now on.
pub async fn rotate_secret(a: ApiCaller, Path(id): Path<String>) -> Response {
    if let Err(r) = may_change(&a) {
        return r.into_response();
    }
    let actor = Actor::person(&a.powers.user_id);
    match clients::rotate_secret(&a.idp().store, &id, &actor, crate::now()).await {
        Ok(secret) => super::json(json!({
            "client_id": id,
            "client_secret": secret.expose_secret(),
        })),
        Err(e) => client_refused(&a, e),
    }
}
