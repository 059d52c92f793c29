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
    #[error("no app {0}")]
    NotFound(String),
    #[error("{0} is too long (at most {1} characters)")]
    TooLong(&'static str, usize),
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

/// The longest name, description, unit or group name a tile carries, and
/// the most units or groups it names.
const MAX_NAME: usize = 200;
const MAX_DESCRIPTION: usize = 1000;
const MAX_AUDIENCE: usize = 100;

fn check_text(
    name: &str,
    description: &str,
    units: &[String],
    groups: &[String],
) -> Result<(), AppError> {
    if name.trim().is_empty() || name.chars().count() > MAX_NAME {
        return Err(AppError::TooLong("name", MAX_NAME));
    }
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(AppError::TooLong("description", MAX_DESCRIPTION));
    }
    let audience = units.iter().chain(groups);
    if units.len() > MAX_AUDIENCE
        || groups.len() > MAX_AUDIENCE
        || audience.into_iter().any(|x| x.chars().count() > MAX_NAME)
    {
        return Err(AppError::TooLong("units and groups", MAX_NAME));
    }
    Ok(())
}

/// An icon's content type, read from its bytes (never from a file name):
/// PNG or JPEG of at most [`ICON_MAX_BYTES`].
pub fn check_icon(bytes: &[u8]) -> Result<String, AppError> {
    if bytes.len() > ICON_MAX_BYTES {
        return Err(AppError::IconTooLarge);
    }
    crate::images::sniff(bytes)
        .map(str::to_owned)
        .ok_or(AppError::IconNotImage)
}

/// A change to a tile: each field given replaces the stored one, the
/// others stay (the console sends them all, the API what it names).
#[derive(Debug, Default)]
pub struct AppChange {
    pub name: Option<String>,
    pub description: Option<String>,
    pub url: Option<String>,
    /// `Some(None)` detaches the client.
    pub client: Option<Option<String>>,
    pub units: Option<Vec<String>>,
    pub groups: Option<Vec<String>>,
    /// Allow a plain http URL outside loopback.
    pub insecure_http: bool,
}

/// Changes a tile's text, launch URL, client or visibility by the rules of
/// [`add`]; audited with what it was and what it became.
pub async fn update(
    store: &Store,
    id: &str,
    ch: AppChange,
    actor: &Actor,
    now: i64,
) -> Result<App, AppError> {
    let before = store
        .app(id)
        .await?
        .ok_or_else(|| AppError::NotFound(id.to_owned()))?;
    let mut after = before.clone();
    if let Some(n) = ch.name {
        after.name = n.trim().to_owned();
    }
    if let Some(d) = ch.description {
        after.description = d.trim().to_owned();
    }
    if let Some(u) = ch.url {
        check_redirect_uri(&u, ch.insecure_http).map_err(AppError::BadUrl)?;
        after.launch_url = u;
    }
    if let Some(c) = ch.client {
        after.client_id = c;
    }
    if let Some(u) = ch.units {
        after.units = u;
    }
    if let Some(g) = ch.groups {
        after.groups = g;
    }
    check_text(&after.name, &after.description, &after.units, &after.groups)?;
    if after.client_id != before.client_id {
        if let Some(c) = &after.client_id
            && store.client(&ClientId::from(c.as_str())).await?.is_none()
        {
            return Err(AppError::NoClient(c.clone()));
        }
        if after.client_id.is_none() && before.legacy_claim.is_some() {
            return Err(AppError::BadClaim(
                "clear the legacy claim before detaching the client that receives it".into(),
            ));
        }
        // A client receives one app's legacy usernames, whichever way it
        // came to the app.
        if let (Some(c), Some(_)) = (&after.client_id, &before.legacy_claim) {
            super::links::claim_free(store, c, id)
                .await
                .map_err(AppError::BadClaim)?;
        }
    }
    if after == before {
        return Ok(after);
    }
    if !store.update_app(&after).await? {
        return Err(AppError::NotFound(id.to_owned()));
    }
    let detail = format!("before: {}; after: {}", summary(&before), summary(&after));
    audit(store, actor, Kind::AdminAppUpdated, id, Some(detail), now).await?;
    Ok(after)
}

/// A tile's changeable fields in one line, for the audit log.
fn summary(a: &App) -> String {
    format!(
        "name={} url={} client={} units=[{}] groups=[{}] description={}",
        a.name,
        a.launch_url,
        a.client_id.as_deref().unwrap_or("-"),
        a.units.join(", "),
        a.groups.join(", "),
        a.description,
    )
}

/// Replaces a tile's icon after [`check_icon`]; audited with its type and size.
pub async fn set_icon(
    store: &Store,
    id: &str,
    bytes: &[u8],
    actor: &Actor,
    now: i64,
) -> Result<(), AppError> {
    let kind = check_icon(bytes)?;
    if !store.set_app_icon(id, bytes, &kind).await? {
        return Err(AppError::NotFound(id.to_owned()));
    }
    let detail = format!("{kind}, {} bytes", bytes.len());
    audit(store, actor, Kind::AdminAppIconSet, id, Some(detail), now).await?;
    Ok(())
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
    check_text(&a.name, &a.description, &a.units, &a.groups)?;
    let icon_type = a.icon.as_deref().map(check_icon).transpose()?;
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

    #[tokio::test]
    async fn a_tile_changes_by_the_rules_of_adding_one_and_is_audited() {
        let (store, _dir) = super::super::test_store().await;
        add(&store, tile("vanban"), &Actor::cli(), 1).await.unwrap();
        let who = Actor("u-admin".into());
        let bad = AppChange {
            url: Some("http://vanban.gov.vn/".into()),
            ..AppChange::default()
        };
        let e = update(&store, "vanban", bad, &who, 2).await.unwrap_err();
        assert!(matches!(e, AppError::BadUrl(_)));
        let bad = AppChange {
            client: Some(Some("nobody".into())),
            ..AppChange::default()
        };
        let e = update(&store, "vanban", bad, &who, 2).await.unwrap_err();
        assert!(matches!(e, AppError::NoClient(_)));
        let bad = AppChange {
            name: Some("x".repeat(MAX_NAME + 1)),
            ..AppChange::default()
        };
        let e = update(&store, "vanban", bad, &who, 2).await.unwrap_err();
        assert!(matches!(e, AppError::TooLong("name", _)));
        let e = update(&store, "nobody", AppChange::default(), &who, 2)
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::NotFound(_)));
        let ok = AppChange {
            name: Some(" Văn bản điện tử ".into()),
            units: Some(vec!["Sở Nội vụ".into()]),
            ..AppChange::default()
        };
        let app = update(&store, "vanban", ok, &who, 3).await.unwrap();
        assert_eq!(app.name, "Văn bản điện tử");
        assert_eq!(app.launch_url, "https://vanban.gov.vn/", "kept");
        assert_eq!(store.app("vanban").await.unwrap().unwrap(), app);
        let e = &store.recent_audit(1).await.unwrap()[0];
        assert_eq!(e.kind, "admin.app_updated");
        let detail = e.detail.as_deref().unwrap();
        assert!(
            detail.contains("before: name=Quản lý văn bản")
                && detail.contains("; after: name=Văn bản điện tử")
                && detail.contains("units=[Sở Nội vụ]"),
            "{detail}"
        );
        // Nothing changed: nothing audited.
        update(&store, "vanban", AppChange::default(), &who, 4)
            .await
            .unwrap();
        assert_eq!(store.recent_audit(1).await.unwrap()[0].at, 3);
    }

    #[tokio::test]
    async fn an_icon_is_replaced_only_by_a_png_or_jpeg_within_the_cap() {
        let (store, _dir) = super::super::test_store().await;
        add(&store, tile("vanban"), &Actor::cli(), 1).await.unwrap();
        let who = Actor::cli();
        let e = set_icon(&store, "vanban", b"<svg onload=x>", &who, 2).await;
        assert!(matches!(e, Err(AppError::IconNotImage)));
        let big = [b"\xff\xd8\xff".as_slice(), &[0; ICON_MAX_BYTES]].concat();
        let e = set_icon(&store, "vanban", &big, &who, 2).await;
        assert!(matches!(e, Err(AppError::IconTooLarge)));
        let e = set_icon(&store, "nobody", b"\xff\xd8\xffx", &who, 2).await;
        assert!(matches!(e, Err(AppError::NotFound(_))));
        assert!(store.app("vanban").await.unwrap().unwrap().icon.is_none());
        set_icon(&store, "vanban", b"\xff\xd8\xffx", &who, 3)
            .await
            .unwrap();
        let app = store.app("vanban").await.unwrap().unwrap();
        assert_eq!(app.icon_type.as_deref(), Some("image/jpeg"));
        let e = &store.recent_audit(1).await.unwrap()[0];
        assert_eq!(
            (e.kind.as_str(), e.detail.as_deref()),
            ("admin.app_icon_set", Some("image/jpeg, 4 bytes"))
        );
    }
}
