//! Registering an OIDC client: the rules an app's registration must pass
//! (OIDC Dynamic Client Registration 1.0 §2 names the metadata; RFC 9700
//! the security choices), the secret generated or given, and its hash.

use secrecy::{ExposeSecret, SecretString};

use super::{Actor, audit, check_redirect_uri, id_ok};
use crate::audit::Kind;
use crate::crypto::{self, CryptoError};
use crate::ids::ClientId;
use crate::kinds::{ClientAuthMethod, GrantType};
use crate::oidc;
use crate::store::{Client, NewClient, Store, StoreError};

/// A registration as an administrator asks for it.
#[derive(Debug, Default)]
pub struct Registration {
    pub client_id: String,
    /// Shown to people on the sign-in page; the id when none.
    pub name: Option<String>,
    pub redirect_uris: Vec<String>,
    /// No secret (native or browser app): PKCE only.
    pub public: bool,
    /// The secret to keep; `None` generates one (returned once).
    pub secret: Option<SecretString>,
    /// Empty: authorization_code and refresh_token.
    pub grants: Vec<GrantType>,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    pub frontchannel_logout_uri: Option<String>,
    pub initiate_login_uri: Option<String>,
    /// `client_secret_basic` (default) or `client_secret_post`.
    pub auth_method: Option<ClientAuthMethod>,
    /// A JWK Set: the client authenticates with `private_key_jwt`.
    pub jwks: Option<serde_json::Value>,
    /// `RS256` or `ES256`.
    pub id_token_alg: String,
    pub insecure_http: bool,
    pub require_mfa: bool,
    pub scopes: Vec<String>,
    pub resources: Vec<String>,
    pub pkce_required: bool,
}

/// A registered client.
#[derive(Debug)]
pub struct Registered {
    pub id: String,
    pub auth_method: ClientAuthMethod,
    /// The secret we generated, to show once; `None` when given or not needed.
    pub generated_secret: Option<SecretString>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("CLIENT_ID must be 1-64 characters of A-Z a-z 0-9 . _ -")]
    BadId,
    #[error("{0}")]
    BadUri(String),
    #[error("the authorization_code grant needs at least one --redirect-uri")]
    NoRedirectUri,
    #[error("--id-token-alg must be RS256 or ES256")]
    BadAlg,
    #[error("no usable RSA or P-256 signing key")]
    NoUsableKey,
    #[error(
        "choose one of --public, --jwks-file, --auth-method client_secret_basic|client_secret_post"
    )]
    AuthMethod,
    #[error("a public client cannot use client_credentials")]
    PublicClientCredentials,
    #[error("a public client must use PKCE: drop --pkce optional")]
    PublicWithoutPkce,
    #[error(
        "--scope and --resource are for the client_credentials grant: add --grant client_credentials"
    )]
    ScopesWithoutClientCredentials,
    #[error(
        "--scope {0}: one scope token (at most 128 printable characters, no space, quote or backslash), not openid"
    )]
    BadScope(String),
    #[error(
        "--resource {0}: an absolute URI without a fragment (RFC 8707), e.g. https://api.vanban.binhphuoc.gov.vn/"
    )]
    BadResource(String),
    #[error("the secret must have 32 to 512 characters")]
    BadSecret,
    #[error("client {0} already exists")]
    Exists(String),
    #[error("no client {0}")]
    NotFound(String),
    #[error("client {0} authenticates without a secret ({1}); there is none to rotate")]
    NoSecret(String, ClientAuthMethod),
    #[error("at most {MAX_URIS} addresses of at most {MAX_URI_LEN} characters each")]
    TooManyUris,
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

impl From<StoreError> for ClientError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(id) => ClientError::Exists(id),
            other => ClientError::Store(other),
        }
    }
}

/// The most addresses of one kind a client registers, and the longest.
pub const MAX_URIS: usize = 20;
pub const MAX_URI_LEN: usize = 2000;

/// The addresses a client may be sent to, as an administrator changes them
/// (the console's form, the API's PATCH): each list replaces the old one, so
/// removing a URI is sending the list without it.
#[derive(Debug, Default)]
pub struct UriChange {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    pub frontchannel_logout_uri: Option<String>,
    pub initiate_login_uri: Option<String>,
    /// Allow plain http outside loopback (an intranet app).
    pub insecure_http: bool,
}

/// Every address a registration or a change names, checked once: exact
/// URIs, https (or loopback, or `insecure_http`), bounded in count and length.
fn check_uris<'a>(
    lists: [&'a [String]; 2],
    singles: [&'a Option<String>; 3],
    insecure_http: bool,
) -> Result<(), ClientError> {
    if lists.iter().any(|l| l.len() > MAX_URIS) {
        return Err(ClientError::TooManyUris);
    }
    let all = lists
        .into_iter()
        .flatten()
        .chain(singles.into_iter().flatten());
    for uri in all {
        if uri.len() > MAX_URI_LEN {
            return Err(ClientError::TooManyUris);
        }
        check_redirect_uri(uri, insecure_http).map_err(ClientError::BadUri)?;
    }
    Ok(())
}

/// Replaces a client's name and addresses after the registration's checks;
/// audited with the addresses before and after. Returns the client as stored.
pub async fn update_uris(
    store: &Store,
    id: &str,
    ch: UriChange,
    actor: &Actor,
    now: i64,
) -> Result<Client, ClientError> {
    let cid = ClientId::from(id);
    let before = store
        .client(&cid)
        .await?
        .ok_or_else(|| ClientError::NotFound(id.to_owned()))?;
    check_uris(
        [&ch.redirect_uris, &ch.post_logout_redirect_uris],
        [
            &ch.backchannel_logout_uri,
            &ch.frontchannel_logout_uri,
            &ch.initiate_login_uri,
        ],
        ch.insecure_http,
    )?;
    if before.allows_grant(GrantType::AuthorizationCode) && ch.redirect_uris.is_empty() {
        return Err(ClientError::NoRedirectUri);
    }
    let name = ch.name.trim();
    let after = Client {
        name: if name.is_empty() {
            before.id.to_string()
        } else {
            name.chars().take(200).collect()
        },
        redirect_uris: ch.redirect_uris,
        post_logout_redirect_uris: ch.post_logout_redirect_uris,
        backchannel_logout_uri: ch.backchannel_logout_uri,
        frontchannel_logout_uri: ch.frontchannel_logout_uri,
        initiate_login_uri: ch.initiate_login_uri,
        ..before.clone()
    };
    if !store.update_client_uris(&after).await? {
        return Err(ClientError::NotFound(id.to_owned()));
    }
    let detail = format!("before: {}; after: {}", uris_of(&before), uris_of(&after));
    audit(
        store,
        actor,
        Kind::AdminClientUpdated,
        id,
        Some(detail),
        now,
    )
    .await?;
    Ok(after)
}

/// A client's name and addresses in one line, for the audit log.
fn uris_of(c: &Client) -> String {
    let one = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
    format!(
        "name={} redirect=[{}] post_logout=[{}] backchannel={} frontchannel={} initiate_login={}",
        c.name,
        c.redirect_uris.join(" "),
        c.post_logout_redirect_uris.join(" "),
        one(&c.backchannel_logout_uri),
        one(&c.frontchannel_logout_uri),
        one(&c.initiate_login_uri),
    )
}

/// Generates a new secret for a confidential client and stores its hash:
/// the old secret is refused from this moment (no overlap, so a leaked
/// secret is dead at once; the app's operator installs the new one first).
/// The secret is returned to be shown once and is never logged or audited.
pub async fn rotate_secret(
    store: &Store,
    id: &str,
    actor: &Actor,
    now: i64,
) -> Result<SecretString, ClientError> {
    let cid = ClientId::from(id);
    let c = store
        .client(&cid)
        .await?
        .ok_or_else(|| ClientError::NotFound(id.to_owned()))?;
    if !c.auth_method.uses_secret() {
        return Err(ClientError::NoSecret(id.to_owned(), c.auth_method));
    }
    let secret = SecretString::from(crypto::random_token()?);
    let hash = crypto::sha256_b64(secret.expose_secret().as_bytes());
    if !store.set_client_secret_hash(&cid, &hash).await? {
        return Err(ClientError::NotFound(id.to_owned()));
    }
    audit(store, actor, Kind::AdminClientSecretRotated, id, None, now).await?;
    Ok(secret)
}

/// Checks a registration and stores the client; audited.
pub async fn register(
    store: &Store,
    r: Registration,
    actor: &Actor,
    now: i64,
) -> Result<Registered, ClientError> {
    if !id_ok(&r.client_id) {
        return Err(ClientError::BadId);
    }
    let grants = if r.grants.is_empty() {
        vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
    } else {
        r.grants
    };
    let has = |grant: GrantType| grants.contains(&grant);
    check_uris(
        [&r.redirect_uris, &r.post_logout_redirect_uris],
        [
            &r.backchannel_logout_uri,
            &r.frontchannel_logout_uri,
            &r.initiate_login_uri,
        ],
        r.insecure_http,
    )?;
    if has(GrantType::AuthorizationCode) && r.redirect_uris.is_empty() {
        return Err(ClientError::NoRedirectUri);
    }
    if crate::jose::Alg::parse(&r.id_token_alg).is_none() {
        return Err(ClientError::BadAlg);
    }
    if let Some(doc) = &r.jwks
        && crate::jose::parse_jwks(doc).is_empty()
    {
        return Err(ClientError::NoUsableKey);
    }
    let method = match (r.public, &r.jwks, r.auth_method) {
        (true, None, None) => ClientAuthMethod::None,
        (false, Some(_), None) => ClientAuthMethod::PrivateKeyJwt,
        (false, None, None | Some(ClientAuthMethod::ClientSecretBasic)) => {
            ClientAuthMethod::ClientSecretBasic
        }
        (false, None, Some(ClientAuthMethod::ClientSecretPost)) => {
            ClientAuthMethod::ClientSecretPost
        }
        _ => return Err(ClientError::AuthMethod),
    };
    if method == ClientAuthMethod::None && has(GrantType::ClientCredentials) {
        return Err(ClientError::PublicClientCredentials);
    }
    if method == ClientAuthMethod::None && !r.pkce_required {
        // No secret: PKCE is the only thing binding the code to the app.
        return Err(ClientError::PublicWithoutPkce);
    }
    // `admin` and `sign` are the scopes an authorization-code client registers
    // (the JSON admin API, the signing API).
    let other_scopes = r
        .scopes
        .iter()
        .any(|s| !oidc::REGISTERED_SCOPES.contains(&s.as_str()));
    if (other_scopes || !r.resources.is_empty()) && !has(GrantType::ClientCredentials) {
        return Err(ClientError::ScopesWithoutClientCredentials);
    }
    if let Some(s) = r
        .scopes
        .iter()
        .find(|s| !oidc::token::scope_token_ok(s) || s.len() > 128 || *s == "openid")
    {
        return Err(ClientError::BadScope(s.clone()));
    }
    if let Some(res) = r
        .resources
        .iter()
        .find(|res| !oidc::token::resource_ok(res) || res.len() > oidc::params::cap("resource"))
    {
        return Err(ClientError::BadResource(res.clone()));
    }
    // A secret only for the methods that use one; kept secret until hashed or shown.
    let (secret, generated) = match (method.uses_secret(), r.secret) {
        (true, Some(given)) => {
            let n = given.expose_secret().len();
            if !(32..=oidc::params::cap("client_secret")).contains(&n) {
                return Err(ClientError::BadSecret);
            }
            (Some(given), false)
        }
        (true, None) => (Some(SecretString::from(crypto::random_token()?)), true),
        _ => (None, false),
    };
    let c = NewClient {
        id: ClientId::from(r.client_id.as_str()),
        name: r.name.unwrap_or_else(|| r.client_id.clone()),
        secret_hash: secret
            .as_ref()
            .map(|s| crypto::sha256_b64(s.expose_secret().as_bytes())),
        auth_method: method,
        redirect_uris: r.redirect_uris,
        post_logout_redirect_uris: r.post_logout_redirect_uris,
        grant_types: grants,
        backchannel_logout_uri: r.backchannel_logout_uri,
        frontchannel_logout_uri: r.frontchannel_logout_uri,
        initiate_login_uri: r.initiate_login_uri,
        jwks: r.jwks.map(|doc| doc.to_string()),
        id_token_alg: r.id_token_alg,
        created_at: now,
        require_mfa: r.require_mfa,
        allowed_scopes: r.scopes,
        allowed_resources: r.resources,
        pkce_required: r.pkce_required,
    };
    store.create_client(&c).await?;
    audit(
        store,
        actor,
        Kind::AdminClientAdded,
        &c.id,
        Some(method.to_string()),
        now,
    )
    .await?;
    Ok(Registered {
        id: c.id.into_string(),
        auth_method: method,
        generated_secret: secret.filter(|_| generated),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web_app(id: &str) -> Registration {
        Registration {
            client_id: id.into(),
            redirect_uris: vec!["https://vanban.gov.vn/cb".into()],
            id_token_alg: "RS256".into(),
            pkce_required: true,
            ..Registration::default()
        }
    }

    #[tokio::test]
    async fn a_confidential_client_gets_a_generated_secret_stored_as_a_hash() {
        let (store, _dir) = super::super::test_store().await;
        let r = register(&store, web_app("vanban"), &Actor::cli(), 100)
            .await
            .unwrap();
        assert_eq!(r.auth_method, ClientAuthMethod::ClientSecretBasic);
        let secret = r.generated_secret.unwrap();
        let c = store
            .client(&ClientId::from("vanban"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            c.secret_hash.as_deref(),
            Some(crypto::sha256_b64(secret.expose_secret().as_bytes()).as_str())
        );
        assert_eq!(
            c.grant_types,
            [GrantType::AuthorizationCode, GrantType::RefreshToken]
        );
        let audited = store.recent_audit(10).await.unwrap();
        assert_eq!(audited[0].kind, "admin.client_added");
        assert_eq!(audited[0].subject.as_deref(), Some("vanban"));
        let again = register(&store, web_app("vanban"), &Actor::cli(), 101).await;
        assert!(matches!(again, Err(ClientError::Exists(id)) if id == "vanban"));
    }

    #[tokio::test]
    async fn a_given_secret_is_kept_and_not_returned() {
        let (store, _dir) = super::super::test_store().await;
        let mut r = web_app("a");
        r.secret = Some(SecretString::from("s".repeat(31)));
        let short = register(&store, r, &Actor::cli(), 1).await;
        assert!(matches!(short, Err(ClientError::BadSecret)));
        let mut r = web_app("a");
        r.secret = Some(SecretString::from("s".repeat(32)));
        let ok = register(&store, r, &Actor::cli(), 1).await.unwrap();
        assert!(ok.generated_secret.is_none());
    }

    #[tokio::test]
    async fn public_clients_have_no_secret_and_must_use_pkce() {
        let (store, _dir) = super::super::test_store().await;
        let mut r = web_app("spa");
        r.public = true;
        r.pkce_required = false;
        let e = register(&store, r, &Actor::cli(), 1).await;
        assert!(matches!(e, Err(ClientError::PublicWithoutPkce)));
        let mut r = web_app("spa");
        r.public = true;
        r.grants = vec![GrantType::ClientCredentials];
        let e = register(&store, r, &Actor::cli(), 1).await;
        assert!(matches!(e, Err(ClientError::PublicClientCredentials)));
        let mut r = web_app("spa");
        r.public = true;
        let ok = register(&store, r, &Actor::cli(), 1).await.unwrap();
        assert_eq!(ok.auth_method, ClientAuthMethod::None);
        assert!(ok.generated_secret.is_none());
        let c = store.client(&ClientId::from("spa")).await.unwrap().unwrap();
        assert!(c.secret_hash.is_none());
    }

    #[tokio::test]
    async fn bad_registrations_are_refused_before_anything_is_stored() {
        let (store, _dir) = super::super::test_store().await;
        // How to spoil a good registration, and the error that must come of it.
        type Case = (fn(&mut Registration), fn(&ClientError) -> bool);
        let cases: [Case; 7] = [
            (
                |r| r.client_id = "văn bản".into(),
                |e| matches!(e, ClientError::BadId),
            ),
            (
                |r| r.redirect_uris = vec!["http://vanban.gov.vn/cb".into()],
                |e| matches!(e, ClientError::BadUri(_)),
            ),
            (
                |r| r.redirect_uris.clear(),
                |e| matches!(e, ClientError::NoRedirectUri),
            ),
            (
                |r| r.id_token_alg = "HS256".into(),
                |e| matches!(e, ClientError::BadAlg),
            ),
            (
                |r| r.jwks = Some(serde_json::json!({"keys": []})),
                |e| matches!(e, ClientError::NoUsableKey),
            ),
            (
                |r| r.scopes = vec!["docs:read".into()],
                |e| matches!(e, ClientError::ScopesWithoutClientCredentials),
            ),
            (
                |r| {
                    r.grants = vec![GrantType::ClientCredentials];
                    r.scopes = vec!["openid".into()];
                },
                |e| matches!(e, ClientError::BadScope(_)),
            ),
        ];
        for (i, (spoil, expected)) in cases.into_iter().enumerate() {
            let mut r = web_app("x");
            spoil(&mut r);
            let e = register(&store, r, &Actor::cli(), 1).await.unwrap_err();
            assert!(expected(&e), "case {i}: {e}");
        }
        assert!(store.list_clients().await.unwrap().is_empty());
        // `admin` (the JSON admin API) and `sign` (the signing API) are the
        // scopes a web app registers.
        let mut r = web_app("console-cli");
        r.scopes = vec!["admin".into()];
        register(&store, r, &Actor::cli(), 1).await.unwrap();
        let mut r = web_app("onewin");
        r.scopes = vec!["sign".into()];
        register(&store, r, &Actor::cli(), 1).await.unwrap();
        let mut r = web_app("y");
        r.scopes = vec!["admin".into(), "docs:read".into()];
        let e = register(&store, r, &Actor::cli(), 1).await.unwrap_err();
        assert!(matches!(e, ClientError::ScopesWithoutClientCredentials));
    }

    #[tokio::test]
    async fn addresses_change_by_the_registration_rules_and_are_audited() {
        let (store, _dir) = super::super::test_store().await;
        register(&store, web_app("vanban"), &Actor::cli(), 1)
            .await
            .unwrap();
        let change = |uris: &[&str]| UriChange {
            name: "Văn bản".into(),
            redirect_uris: uris.iter().map(|u| (*u).to_owned()).collect(),
            ..UriChange::default()
        };
        let who = Actor("u-admin".into());
        let e = update_uris(
            &store,
            "vanban",
            change(&["http://vanban.gov.vn/cb"]),
            &who,
            2,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&e, ClientError::BadUri(m) if m.contains("use https")),
            "{e}"
        );
        let e = update_uris(&store, "vanban", change(&[]), &who, 2)
            .await
            .unwrap_err();
        assert!(matches!(e, ClientError::NoRedirectUri));
        let many: Vec<String> = (0..=MAX_URIS)
            .map(|i| format!("https://a.gov.vn/{i}"))
            .collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let e = update_uris(&store, "vanban", change(&many), &who, 2)
            .await
            .unwrap_err();
        assert!(matches!(e, ClientError::TooManyUris));
        let e = update_uris(&store, "nobody", change(&["https://a.gov.vn/"]), &who, 2)
            .await
            .unwrap_err();
        assert!(matches!(e, ClientError::NotFound(_)));
        let mut ch = change(&["http://vanban.gov.vn/cb"]);
        ch.insecure_http = true;
        ch.post_logout_redirect_uris = vec!["https://vanban.gov.vn/".into()];
        let c = update_uris(&store, "vanban", ch, &who, 3).await.unwrap();
        assert_eq!(c.redirect_uris, vec!["http://vanban.gov.vn/cb"]);
        let stored = store
            .client(&ClientId::from("vanban"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.name, "Văn bản");
        assert_eq!(
            stored.post_logout_redirect_uris,
            vec!["https://vanban.gov.vn/"]
        );
        let e = &store.recent_audit(1).await.unwrap()[0];
        assert_eq!(e.kind, "admin.client_updated");
        assert_eq!(e.actor.as_deref(), Some("u-admin"));
        let detail = e.detail.as_deref().unwrap();
        assert!(
            detail.contains("before: name=vanban redirect=[https://vanban.gov.vn/cb]")
                && detail.contains("after: name=Văn bản redirect=[http://vanban.gov.vn/cb]"),
            "{detail}"
        );
    }

    #[tokio::test]
    async fn a_rotated_secret_replaces_the_old_one_and_is_never_audited() {
        let (store, _dir) = super::super::test_store().await;
        let old = register(&store, web_app("vanban"), &Actor::cli(), 1)
            .await
            .unwrap()
            .generated_secret
            .unwrap();
        let new = rotate_secret(&store, "vanban", &Actor::cli(), 2)
            .await
            .unwrap();
        assert_ne!(old.expose_secret(), new.expose_secret());
        let c = store
            .client(&ClientId::from("vanban"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            c.secret_hash.as_deref(),
            Some(crypto::sha256_b64(new.expose_secret().as_bytes()).as_str())
        );
        let e = &store.recent_audit(1).await.unwrap()[0];
        assert_eq!(e.kind, "admin.client_secret_rotated");
        assert!(e.detail.is_none());
        let mut spa = web_app("spa");
        spa.public = true;
        register(&store, spa, &Actor::cli(), 1).await.unwrap();
        let e = rotate_secret(&store, "spa", &Actor::cli(), 2)
            .await
            .unwrap_err();
        assert!(matches!(e, ClientError::NoSecret(..)));
        let e = rotate_secret(&store, "nobody", &Actor::cli(), 2)
            .await
            .unwrap_err();
        assert!(matches!(e, ClientError::NotFound(_)));
    }
}
