//! The store suite's SAML part: the IdP key, SPs and the sessions single logout reads.

use idp::store::{SamlKeyRow, SamlSessionRow, SamlSp, Store, StoreError};

/// Runs after the main suite created the app `vanban`.
pub(super) async fn saml(s: &Store) {
    // The key: the first insert wins, a second writer reads that one.
    let key = SamlKeyRow {
        name: "idp".into(),
        sealed_der: vec![1, 2, 3],
        cert_der: vec![4, 5],
        created_at: 100,
    };
    assert!(s.insert_saml_key(&key).await.unwrap());
    let other = SamlKeyRow {
        sealed_der: vec![9],
        ..key.clone()
    };
    assert!(!s.insert_saml_key(&other).await.unwrap());
    assert_eq!(
        s.saml_key("idp").await.unwrap().unwrap().sealed_der,
        vec![1, 2, 3]
    );

    let sp = SamlSp {
        entity_id: "https://motcua.gov.vn/sp".into(),
        name: "Một cửa".into(),
        endpoints: "{}".into(),
        metadata: "<md:EntityDescriptor/>".into(),
        name_id: "email".into(),
        attributes: vec!["email".into(), "legacy_username".into()],
        app_id: Some("vanban".into()),
        created_at: 100,
    };
    s.put_saml_sp(&sp, false).await.unwrap();
    assert!(matches!(
        s.put_saml_sp(&sp, false).await,
        Err(StoreError::Conflict(_))
    ));
    // Replaced: new metadata, the same entity.
    let replaced = SamlSp {
        name: "Một cửa điện tử".into(),
        name_id: "persistent".into(),
        ..sp.clone()
    };
    s.put_saml_sp(&replaced, true).await.unwrap();
    assert_eq!(
        s.saml_sp(&sp.entity_id).await.unwrap(),
        Some(replaced.clone())
    );
    assert_eq!(
        s.saml_sp_of_app("vanban").await.unwrap(),
        Some(replaced.clone())
    );
    assert_eq!(s.saml_sps().await.unwrap(), vec![replaced.clone()]);

    let row = |sid: &str, name_id: &str, at: i64| SamlSessionRow {
        sid: sid.into(),
        entity_id: sp.entity_id.clone(),
        name_id: name_id.into(),
        name_id_format: "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent".into(),
        session_index: format!("_{at}"),
        created_at: at,
    };
    s.record_saml_session(&row("s1", "a", 200)).await.unwrap();
    // One row per session and SP: a later sign-in replaces it.
    s.record_saml_session(&row("s1", "b", 201)).await.unwrap();
    s.record_saml_session(&row("s2", "c", 50)).await.unwrap();
    assert_eq!(
        s.saml_session("s1", &sp.entity_id).await.unwrap(),
        Some(row("s1", "b", 201))
    );
    assert_eq!(
        s.take_saml_sessions("s1").await.unwrap(),
        vec![row("s1", "b", 201)]
    );
    assert!(s.take_saml_sessions("s1").await.unwrap().is_empty());
    assert_eq!(s.purge_saml_sessions(100).await.unwrap(), 1);
    s.record_saml_session(&row("s3", "d", 300)).await.unwrap();
    s.delete_saml_session("s3", &sp.entity_id).await.unwrap();
    assert!(s.saml_session("s3", &sp.entity_id).await.unwrap().is_none());
    // Removing the SP removes its sessions.
    s.record_saml_session(&row("s4", "e", 400)).await.unwrap();
    assert!(s.delete_saml_sp(&sp.entity_id).await.unwrap());
    assert!(!s.delete_saml_sp(&sp.entity_id).await.unwrap());
    assert!(s.take_saml_sessions("s4").await.unwrap().is_empty());
}
