//! The app-picker: the tiles a person may use, most recently used first,
//! searchable without diacritics, and the launch that starts an app's login.

use unicode_normalization::UnicodeNormalization;

use crate::Idp;
use crate::ids::ClientId;
use crate::oidc::authorize::with_params;
use crate::store::{StoreError, User};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tile {
    pub id: String,
    pub name: String,
    pub description: String,
    pub has_icon: bool,
}

/// Lower case without diacritics, so "van ban" finds "Văn bản" and "Đơn" finds "don".
pub fn fold(s: &str) -> String {
    s.nfd()
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .map(|c| if c == 'đ' || c == 'Đ' { 'd' } else { c })
        .collect::<String>()
        .to_lowercase()
}

/// The tiles `user` may see, filtered by `query`, most recently used first.
pub async fn tiles(idp: &Idp, user: &User, query: Option<&str>) -> Result<Vec<Tile>, StoreError> {
    let words: Vec<String> = query
        .map(fold)
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let usage = idp.store.app_usage(&user.id).await?;
    let groups = idp.store.groups_of(&user.id).await?;
    let last_used = |id: &str| usage.iter().find(|(a, _)| a == id).map_or(0, |(_, t)| *t);
    let mut apps: Vec<_> = idp
        .store
        .list_apps()
        .await?
        .into_iter()
        .filter(|a| a.visible_to(user.unit.as_deref(), &groups))
        .filter(|a| {
            let text = fold(&format!("{} {}", a.name, a.description));
            words.iter().all(|w| text.contains(w.as_str()))
        })
        .collect();
    // Most recently used first; never used ones by name (list_apps sorts by name, and the sort is stable).
    apps.sort_by_key(|a| std::cmp::Reverse(last_used(&a.id)));
    Ok(apps
        .into_iter()
        .map(|a| Tile {
            has_icon: a.icon.is_some(),
            id: a.id,
            name: a.name,
            description: a.description,
        })
        .collect())
}

/// Where a tile sends `user`: the IdP-initiated SAML sign-in when a SAML SP
/// is the app's, else the app's `initiate_login_uri` with `iss` and
/// `target_link_uri` (OIDC Core §4) when it has one, else its launch URL.
/// `None` when the app is unknown or not for this person.
pub async fn launch(
    idp: &Idp,
    user: &User,
    app_id: &str,
    now: i64,
) -> Result<Option<String>, StoreError> {
    let groups = idp.store.groups_of(&user.id).await?;
    let Some(app) = idp
        .store
        .app(app_id)
        .await?
        .filter(|a| a.visible_to(user.unit.as_deref(), &groups))
    else {
        return Ok(None);
    };
    idp.store.record_app_use(&user.id, &app.id, now).await?;
    // An app that speaks SAML gets an IdP-initiated sign-in.
    if idp.saml.is_some() && idp.store.saml_sp_of_app(&app.id).await?.is_some() {
        let app_id: String = url::form_urlencoded::byte_serialize(app.id.as_bytes()).collect();
        return Ok(Some(format!("/saml/init?app={app_id}")));
    }
    let client = match &app.client_id {
        Some(id) => idp.store.client(&ClientId::from(id.as_str())).await?,
        None => None,
    };
    Ok(Some(match client.and_then(|c| c.initiate_login_uri) {
        Some(init) => with_params(
            &init,
            &[
                ("iss", Some(idp.config.issuer())),
                ("target_link_uri", Some(&app.launch_url)),
            ],
        ),
        None => app.launch_url,
    }))
}

/// An app's icon and its content type (checked as PNG or JPEG when the app
/// was added); `None` when it has none.
pub async fn icon(idp: &Idp, app_id: &str) -> Result<Option<(Vec<u8>, String)>, StoreError> {
    Ok(match idp.store.app(app_id).await? {
        Some(crate::store::App {
            icon: Some(bytes),
            icon_type: Some(kind),
            ..
        }) => Some((bytes, kind)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_drops_vietnamese_diacritics() {
        assert_eq!(fold("Quản lý Văn bản"), "quan ly van ban");
        assert_eq!(fold("Đăng nhập"), "dang nhap");
        assert_eq!(fold("PHÒNG HỌP không giấy"), "phong hop khong giay");
    }
}
