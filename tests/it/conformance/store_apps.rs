//! The store suite's changes to registered clients and portal tiles (the
//! console's edits): both stores rewrite only what they are asked to.

use idp::ids::ClientId;
use idp::store::Store;

/// Runs after the main suite created the client and app `vanban`.
pub(super) async fn client_and_app_changes(s: &Store) {
    let vanban = ClientId::from("vanban");
    let mut c = s.client(&vanban).await.unwrap().unwrap();
    c.name = "Văn bản điện tử".into();
    c.redirect_uris = vec!["https://vanban.gov.vn/cb3".into()];
    c.post_logout_redirect_uris = vec!["https://vanban.gov.vn/".into()];
    c.backchannel_logout_uri = Some("https://vanban.gov.vn/bcl".into());
    c.frontchannel_logout_uri = None;
    c.require_mfa = false; // not an address: left as it was
    assert!(s.update_client_uris(&c).await.unwrap());
    let got = s.client(&vanban).await.unwrap().unwrap();
    assert_eq!(got.name, "Văn bản điện tử");
    assert_eq!(got.redirect_uris, vec!["https://vanban.gov.vn/cb3"]);
    assert_eq!(
        got.post_logout_redirect_uris,
        vec!["https://vanban.gov.vn/"]
    );
    assert_eq!(
        got.backchannel_logout_uri.as_deref(),
        Some("https://vanban.gov.vn/bcl")
    );
    assert!(got.frontchannel_logout_uri.is_none());
    assert!(got.require_mfa, "only the name and addresses change");
    assert_eq!(got.secret_hash.as_deref(), Some("h"));
    assert!(s.set_client_secret_hash(&vanban, "h2").await.unwrap());
    let got = s.client(&vanban).await.unwrap().unwrap();
    assert_eq!(got.secret_hash.as_deref(), Some("h2"));
    assert_eq!(got.redirect_uris, vec!["https://vanban.gov.vn/cb3"]);
    let nobody = ClientId::from("nobody");
    assert!(!s.set_client_secret_hash(&nobody, "h3").await.unwrap());
    c.id = nobody;
    assert!(!s.update_client_uris(&c).await.unwrap());

    let mut a = s.app("vanban").await.unwrap().unwrap();
    let icon = a.icon.clone();
    a.name = "Văn bản".into();
    a.description = "Gửi, nhận văn bản".into();
    a.launch_url = "https://vanban.gov.vn/home".into();
    a.units = vec![];
    a.groups = vec!["van-thu".into()];
    a.client_id = None;
    a.icon = None; // not changed by update_app
    assert!(s.update_app(&a).await.unwrap());
    let got = s.app("vanban").await.unwrap().unwrap();
    assert_eq!(
        (got.name.as_str(), got.description.as_str()),
        ("Văn bản", "Gửi, nhận văn bản")
    );
    assert_eq!(got.launch_url, "https://vanban.gov.vn/home");
    assert!(got.units.is_empty() && got.client_id.is_none());
    assert_eq!(got.groups, vec!["van-thu"]);
    assert_eq!(got.icon, icon);
    assert!(
        s.set_app_icon("vanban", b"\xff\xd8\xffjpeg", "image/jpeg")
            .await
            .unwrap()
    );
    let got = s.app("vanban").await.unwrap().unwrap();
    assert_eq!(got.icon.as_deref(), Some(b"\xff\xd8\xffjpeg".as_slice()));
    assert_eq!(got.icon_type.as_deref(), Some("image/jpeg"));
    assert!(!s.set_app_icon("nobody", b"x", "image/png").await.unwrap());
    a.id = "nobody".into();
    assert!(!s.update_app(&a).await.unwrap());
}
