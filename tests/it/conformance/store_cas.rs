//! The store suite's CAS part: services and the sessions single logout reads.

use idp::store::{CasService, CasSessionRow, Store, StoreError};

/// Runs after the main suite created the app `vanban`.
pub(super) async fn cas_services(s: &Store) {
    let svc = CasService {
        id: "vanban-cas".into(),
        name: "Văn bản (CAS)".into(),
        pattern: "https://vanban.gov.vn/cas".into(),
        exact: false,
        attributes: vec!["email".into(), "legacy_username".into()],
        logout_url: Some("https://vanban.gov.vn/slo".into()),
        allow_proxy: true,
        accept_proxy: true,
        require_mfa: true,
        app_id: Some("vanban".into()),
        created_at: 100,
    };
    s.create_cas_service(&svc).await.unwrap();
    assert!(matches!(
        s.create_cas_service(&svc).await,
        Err(StoreError::Conflict(_))
    ));
    let other = CasService {
        id: "lich".into(),
        name: "Lịch công tác".into(),
        pattern: "https://lich.gov.vn/login?x=1".into(),
        exact: true,
        attributes: vec![],
        logout_url: None,
        allow_proxy: false,
        accept_proxy: false,
        require_mfa: false,
        app_id: None,
        created_at: 101,
    };
    s.create_cas_service(&other).await.unwrap();
    assert_eq!(
        s.cas_service("vanban-cas").await.unwrap(),
        Some(svc.clone())
    );
    assert_eq!(
        s.cas_services().await.unwrap(),
        vec![other.clone(), svc.clone()]
    );

    let row = |sid: &str, ticket: &str, service: &str, at: i64| CasSessionRow {
        sid: sid.into(),
        service_id: service.into(),
        ticket: ticket.into(),
        service_url: "https://vanban.gov.vn/cas/app".into(),
        created_at: at,
    };
    s.record_cas_session(&row("s1", "ST-1", "vanban-cas", 200))
        .await
        .unwrap();
    // The same ticket twice is one row.
    s.record_cas_session(&row("s1", "ST-1", "vanban-cas", 200))
        .await
        .unwrap();
    s.record_cas_session(&row("s1", "ST-2", "lich", 201))
        .await
        .unwrap();
    s.record_cas_session(&row("s2", "ST-3", "vanban-cas", 50))
        .await
        .unwrap();
    let taken = s.take_cas_sessions("s1").await.unwrap();
    assert_eq!(
        taken,
        vec![
            row("s1", "ST-1", "vanban-cas", 200),
            row("s1", "ST-2", "lich", 201)
        ]
    );
    assert!(s.take_cas_sessions("s1").await.unwrap().is_empty(), "once");
    assert_eq!(s.purge_cas_sessions(100).await.unwrap(), 1);
    assert!(s.take_cas_sessions("s2").await.unwrap().is_empty());

    // Removing a service removes its session rows.
    s.record_cas_session(&row("s3", "ST-4", "lich", 300))
        .await
        .unwrap();
    assert!(s.delete_cas_service("lich").await.unwrap());
    assert!(!s.delete_cas_service("lich").await.unwrap());
    assert!(s.take_cas_sessions("s3").await.unwrap().is_empty());
    assert_eq!(s.cas_services().await.unwrap(), vec![svc]);
}
