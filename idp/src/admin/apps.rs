//! Portal tiles: an app people open from the app-picker, who sees it (units,
//! groups, or everyone) and the OIDC client whose login it starts.

use super::{Actor, audit, check_redirect_uri, id_ok};
use crate::audit::Kind;
use crate::ids::ClientId;
use crate::store::{App, Store, StoreError};

/// The largest icon, in bytes.
pub const ICON_MAX_BYTES: usize = 256 * 1024;

/// A tile as an administrator adds it.
#[derive(Debug, Default)]
pub struct NewApp {
    pub app_id: String,
    pub name: String,
    /// Where the tile leads (the app's home page).
    pub url: String,
    /// The OIDC client behind the app; it must be registered.
    pub client: Option<String>,
    /// PNG or JPEG bytes.
    pub icon: Option<Vec<u8>>,
    pub description: String,
    pub units: Vec<String>,
    pub groups: Vec<String>,
    /// Allow a plain http URL outside loopback.
    pub insecure_http: bool,
    /// The claim that carries the linked legacy username to the client
    /// (`admin::links::check_claim_name`); needs `client`.
    pub legacy_claim: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("APP_ID must be 1-64 characters of A-Z a-z 0-9 . _ -")]
    BadId,
    #[error("{0}")]
    BadUrl(String),
    #[error("no client {0}; register it first with `idp client add {0}`")]
    NoClient(String),
    #[error("the icon is larger than 256 KiB")]
    IconTooLarge,
    #[error("the icon must be a PNG or JPEG image")]
    IconNotImage,
    #[error("{0}")]
    BadClaim(String),
    #[error("app {0} already exists")]
    Exists(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(id) => AppError::Exists(id),
            other => AppError::Store(other),
        }
    }
}

/// Checks a tile and stores it; audited.
pub async fn add(store: &Store, a: NewApp, actor: &Actor, now: i64) -> Result<App, AppError> {
    if !id_ok(&a.app_id) {
        return Err(AppError::BadId);
    }
    check_redirect_uri(&a.url, a.insecure_http).map_err(AppError::BadUrl)?;
    if let Some(c) = &a.client
        && store.client(&ClientId::from(c.as_str())).await?.is_none()
    {
        return Err(AppError::NoClient(c.clone()));
    }
    if let Some(claim) = &a.legacy_claim {
        super::links::check_claim_name(claim).map_err(AppError::BadClaim)?;
        let Some(client) = &a.client else {
            return Err(AppError::BadClaim(
                "--legacy-claim needs --client: the claim is released to that client".into(),
            ));
        };
        super::links::claim_free(store, client, &a.app_id)
            .await
            .map_err(AppError::BadClaim)?;
    }
    // The type is read from the bytes, never from a file name.
    let icon_type = match &a.icon {
        None => None,
        Some(bytes) if bytes.len() > ICON_MAX_BYTES => return Err(AppError::IconTooLarge),
        Some(bytes) => Some(
            crate::images::sniff(bytes)
                .ok_or(AppError::IconNotImage)?
                .to_owned(),
        ),
    };
    let app = App {
        id: a.app_id,
        name: a.name,
        description: a.description,
        launch_url: a.url,
        client_id: a.client,
        icon: a.icon,
        icon_type,
        units: a.units,
        groups: a.groups,
        created_at: now,
        legacy_claim: a.legacy_claim,
    };
    store.create_app(&app).await?;
    let detail = app
        .legacy_claim
        .as_ref()
        .map(|c| format!("legacy claim {c}"));
    audit(store, actor, Kind::AdminAppAdded, &app.id, detail, now).await?;
    Ok(app)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tile(id: &str) -> NewApp {
        NewApp {
            app_id: id.into(),
            name: "Quản lý văn bản".into(),
            url: "https://vanban.gov.vn/".into(),
            ..NewApp::default()
        }
    }

    #[tokio::test]
    async fn a_tile_is_added_with_its_icon_type_read_from_the_bytes() {
        let (store, _dir) = super::super::test_store().await;
        let mut a = tile("vanban");
        a.icon = Some(b"\x89PNG\r\n\x1a\nrest".to_vec());
        let app = add(&store, a, &Actor::cli(), 7).await.unwrap();
        assert_eq!(app.icon_type.as_deref(), Some("image/png"));
        assert_eq!(store.list_apps().await.unwrap().len(), 1);
        assert_eq!(
            store.recent_audit(1).await.unwrap()[0].kind,
            "admin.app_added"
        );
        let again = add(&store, tile("vanban"), &Actor::cli(), 8).await;
        assert!(matches!(again, Err(AppError::Exists(_))));
    }

    #[tokio::test]
    async fn bad_tiles_are_refused() {
        let (store, _dir) = super::super::test_store().await;
        let mut a = tile("x");
        a.url = "http://vanban.gov.vn/".into();
        assert!(matches!(
            add(&store, a, &Actor::cli(), 1).await,
            Err(AppError::BadUrl(_))
        ));
        let mut a = tile("x");
        a.client = Some("vanban".into());
        assert!(matches!(
            add(&store, a, &Actor::cli(), 1).await,
            Err(AppError::NoClient(_))
        ));
        let mut a = tile("x");
        a.icon = Some(b"GIF89a".to_vec());
        assert!(matches!(
            add(&store, a, &Actor::cli(), 1).await,
            Err(AppError::IconNotImage)
        ));
        let mut a = tile("x");
        a.icon = Some([b"\x89PNG\r\n\x1a\n".as_slice(), &[0; ICON_MAX_BYTES]].concat());
        assert!(matches!(
            add(&store, a, &Actor::cli(), 1).await,
            Err(AppError::IconTooLarge)
        ));
        assert!(matches!(
            add(&store, tile("a b"), &Actor::cli(), 1).await,
            Err(AppError::BadId)
        ));
        let mut a = tile("x");
        a.legacy_claim = Some("preferred_username".into());
        assert!(matches!(
            add(&store, a, &Actor::cli(), 1).await,
            Err(AppError::BadClaim(m)) if m.contains("--client")
        ));
        assert!(store.list_apps().await.unwrap().is_empty());
    }
}
