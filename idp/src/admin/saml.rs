//! SAML service providers: registering one from its metadata, listing and
//! removing them (`idp saml sp …`). The metadata is read once here; what
//! it says (endpoints, certificates, flags) is stored beside it.

use super::{Actor, audit, check_redirect_uri};
use crate::audit::Kind;
use crate::cas::Attribute;
use crate::saml::metadata::{self, SpMetadata};
use crate::saml::{NAMEID_EMAIL, NAMEID_PERSISTENT};
use crate::store::{SamlSp, Store, StoreError};

/// An SP as an administrator registers it.
#[derive(Debug, Default)]
pub struct NewSp {
    /// The SP's metadata (SAML 2.0, one EntityDescriptor).
    pub metadata: String,
    /// Shown on the sign-in form and the sign-out page; the entity ID when empty.
    pub name: Option<String>,
    /// `email` (the default) or `persistent`.
    pub name_id: Option<String>,
    /// Attribute names; empty: `email` and `name`.
    pub attributes: Vec<String>,
    pub app: Option<String>,
    /// Plain http endpoints outside loopback (an intranet app without a certificate yet).
    pub insecure_http: bool,
    /// Replace the SP of the same entity ID (new metadata, new certificate).
    pub replace: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SamlAdminError {
    #[error("{0}")]
    Metadata(String),
    #[error("unknown attribute {0}; one of email, name, unit, title, phone, legacy_username")]
    BadAttribute(String),
    #[error("--name-id is email or persistent")]
    BadNameId,
    #[error("legacy_username needs --app APP (the app whose linked accounts are released)")]
    LegacyNeedsApp,
    #[error("no app {0}; add it first with `idp app add {0}`")]
    NoApp(String),
    #[error("SP {0} is already registered; give --replace to load its new metadata")]
    Exists(String),
    #[error("no SAML SP {0}")]
    NotFound(String),
    #[error("the name is too long (at most 200 characters)")]
    NameTooLong,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for SamlAdminError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(id) => SamlAdminError::Exists(id),
            other => SamlAdminError::Store(other),
        }
    }
}

/// Registers an SP from its metadata.
pub async fn add(
    store: &Store,
    n: NewSp,
    actor: &Actor,
    now: i64,
) -> Result<SamlSp, SamlAdminError> {
    let insecure = n.insecure_http;
    let m: SpMetadata = metadata::parse_sp(&n.metadata, |u| check_redirect_uri(u, insecure))
        .map_err(|e| SamlAdminError::Metadata(e.to_string()))?;
    let name_id = match n.name_id.as_deref() {
        None | Some("email") => "email",
        Some("persistent") => "persistent",
        Some(_) => return Err(SamlAdminError::BadNameId),
    };
    let attributes = Attribute::release_list(&n.attributes, n.app.is_some())
        .map_err(SamlAdminError::BadAttribute)?
        .ok_or(SamlAdminError::LegacyNeedsApp)?;
    if let Some(app) = &n.app
        && store.app(app).await?.is_none()
    {
        return Err(SamlAdminError::NoApp(app.clone()));
    }
    let name = n.name.clone().unwrap_or_else(|| m.entity_id.clone());
    if name.trim().is_empty() || name.chars().count() > 200 {
        return Err(SamlAdminError::NameTooLong);
    }
    let sp = SamlSp {
        entity_id: m.entity_id.clone(),
        name,
        endpoints: serde_json::to_string(&m).unwrap_or_default(),
        metadata: n.metadata,
        name_id: name_id.into(),
        attributes,
        app_id: n.app,
        created_at: now,
    };
    store.put_saml_sp(&sp, n.replace).await?;
    let asks = |f: &str| m.name_id_formats.iter().any(|x| x == f);
    if name_id == "email" && asks(NAMEID_PERSISTENT) && !asks(NAMEID_EMAIL) {
        tracing::warn!(sp = %sp.entity_id, "the SP lists only persistent NameIDs; consider --name-id persistent");
    }
    audit(
        store,
        actor,
        Kind::AdminSamlSpAdded,
        &sp.entity_id,
        Some(format!(
            "ACS {}; SLO {}; name id {}; attributes {}; signed requests {}; {}",
            m.acs
                .iter()
                .map(|e| e.location.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            m.slo
                .iter()
                .map(|e| e.location.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            sp.name_id,
            sp.attributes.join(","),
            m.authn_requests_signed,
            if n.replace { "replaced" } else { "new" }
        )),
        now,
    )
    .await?;
    Ok(sp)
}

/// Removes an SP; its messages are refused from now on.
pub async fn remove(
    store: &Store,
    entity_id: &str,
    actor: &Actor,
    now: i64,
) -> Result<(), SamlAdminError> {
    if !store.delete_saml_sp(entity_id).await? {
        return Err(SamlAdminError::NotFound(entity_id.to_owned()));
    }
    audit(store, actor, Kind::AdminSamlSpRemoved, entity_id, None, now).await?;
    Ok(())
}
