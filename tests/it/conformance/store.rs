//! The store suite: SQLite and PostgreSQL keep and answer the same.

use idp::audit::{Event, Kind};
use idp::ids::{ClientId, Email, UserId};
use idp::store::{
    App, AuditEvent, DirectoryChanges, Factor, Grant, KeyRow, NewClient, NewUser, ProfileChange,
    RefreshUse, SessionRow, Signature, Store, StoreError,
};

use idp::kinds::{
    ClientAuthMethod, FactorKind, GrantType, SignaturePage, SignaturePlace, UserSource,
};

use crate::harness::Postgres;

fn user(id: &str, email: &str) -> NewUser {
    NewUser {
        id: id.into(),
        email: Email::parse(email).unwrap(),
        name: "Trương Thanh Tâm".into(),
        phone: Some("0888778078".into()),
        unit: Some("Sở Nội vụ".into()),
        title: None,
        employee_code: Some("2019005118".into()),
        password_hash: None,
        is_admin: false,
    }
}

fn key(kid: &str, alg: &str, state: &str) -> KeyRow {
    KeyRow {
        kid: kid.into(),
        alg: alg.into(),
        state: state.into(),
        sealed_der: vec![1, 2, 3, 0, 255],
        public_jwk: "{}".into(),
        created_at: 1,
        updated_at: 1,
    }
}

fn grant(id: &str, sid: &str) -> Grant {
    Grant {
        id: id.into(),
        client_id: "vanban".into(),
        user_id: "u1".into(),
        sid: Some(sid.into()),
        scope: "openid email".into(),
        auth_time: 100,
        amr: vec!["pwd".into()],
        acr: "1".into(),
        created_at: 100,
        expires_at: 10_000,
        revoked_at: None,
    }
}

async fn store_suite(s: &Store) {
    let u1 = UserId::from("u1");
    let u2 = UserId::from("u2");
    let u3 = UserId::from("u3");
    let vanban = ClientId::from("vanban");
    let tamtt = Email::parse("tamtt@binhphuoc.gov.vn").unwrap();
    s.migrate().await.unwrap();
    s.migrate().await.unwrap(); // idempotent
    s.ping().await.unwrap();

    // People.
    let u = s
        .create_user(&user("u1", "tamtt@binhphuoc.gov.vn"), 100)
        .await
        .unwrap();
    assert_eq!(
        u.name, "Trương Thanh Tâm",
        "Vietnamese text survives the round trip"
    );
    assert!(!u.is_admin() && !u.is_disabled());
    assert!(matches!(
        s.create_user(&user("u2", "tamtt@binhphuoc.gov.vn"), 100)
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.user_by_email(&tamtt).await.unwrap().unwrap().id, "u1");
    assert!(
        s.user_by_email(&Email::parse("nobody@binhphuoc.gov.vn").unwrap())
            .await
            .unwrap()
            .is_none()
    );
    s.set_password_hash(&u1, "$argon2id$x", 200).await.unwrap();
    assert_eq!(
        s.user_by_id(&u1)
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .as_deref(),
        Some("$argon2id$x")
    );
    assert!(s.set_user_disabled(&u1, Some(300), 300).await.unwrap());
    assert!(s.user_by_id(&u1).await.unwrap().unwrap().is_disabled());
    assert!(s.set_user_disabled(&u1, None, 301).await.unwrap());
    let mut admin = user("u3", "admin@binhphuoc.gov.vn");
    admin.is_admin = true;
    s.create_user(&admin, 100).await.unwrap();
    assert_eq!(s.count_admins().await.unwrap(), 1);
    let page = s.list_users(1, 1).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].email, "tamtt@binhphuoc.gov.vn", "ordered by e-mail");

    // Clients.
    let c = NewClient {
        id: "vanban".into(),
        name: "Quản lý văn bản".into(),
        secret_hash: Some("h".into()),
        auth_method: ClientAuthMethod::ClientSecretBasic,
        redirect_uris: vec![
            "https://vanban.gov.vn/cb".into(),
            "https://vanban.gov.vn/cb2".into(),
        ],
        post_logout_redirect_uris: vec![],
        grant_types: vec![GrantType::AuthorizationCode],
        backchannel_logout_uri: None,
        frontchannel_logout_uri: Some("https://vanban.gov.vn/fcl".into()),
        initiate_login_uri: Some("https://vanban.gov.vn/login".into()),
        jwks: None,
        id_token_alg: "RS256".into(),
        created_at: 1,
        require_mfa: true,
        allowed_scopes: vec!["docs:read".into()],
        allowed_resources: vec!["https://api.vanban.gov.vn/".into()],
        pkce_required: false,
    };
    s.create_client(&c).await.unwrap();
    assert!(matches!(
        s.create_client(&c).await,
        Err(StoreError::Conflict(_))
    ));
    let got = s.client(&vanban).await.unwrap().unwrap();
    assert_eq!(got.redirect_uris, c.redirect_uris);
    assert!(
        got.allows_grant(GrantType::AuthorizationCode)
            && !got.allows_grant(GrantType::RefreshToken)
    );
    assert!(s.client(&ClientId::from("nobody")).await.unwrap().is_none());
    assert_eq!(
        got.initiate_login_uri.as_deref(),
        Some("https://vanban.gov.vn/login")
    );
    assert_eq!(
        got.frontchannel_logout_uri.as_deref(),
        Some("https://vanban.gov.vn/fcl")
    );
    assert!(got.require_mfa);
    assert_eq!(got.allowed_scopes, vec!["docs:read"]);
    assert_eq!(got.allowed_resources, vec!["https://api.vanban.gov.vn/"]);
    assert!(!got.pkce_required);
    assert_eq!(
        s.user_by_id(&u1).await.unwrap().unwrap().unit.as_deref(),
        Some("Sở Nội vụ")
    );

    // Apps and when each person last opened them.
    let app = App {
        id: "vanban".into(),
        name: "Quản lý văn bản".into(),
        description: String::new(),
        launch_url: "https://vanban.gov.vn/".into(),
        client_id: Some("vanban".into()),
        icon: Some(vec![0x89, b'P', 0, 255]),
        icon_type: Some("image/png".into()),
        units: vec!["Sở Nội vụ".into()],
        groups: vec!["lanh-dao".into()],
        created_at: 1,
        legacy_claim: None,
    };
    s.create_app(&app).await.unwrap();
    assert!(matches!(
        s.create_app(&app).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.app("vanban").await.unwrap().unwrap(), app);
    let leaders = ["lanh-dao".to_owned()];
    assert!(
        app.visible_to(Some("Sở Nội vụ"), &[])
            && !app.visible_to(Some("Sở Tài chính"), &[])
            && !app.visible_to(None, &[])
            && app.visible_to(Some("Sở Tài chính"), &leaders)
    );
    assert_eq!(s.list_apps().await.unwrap().len(), 1);
    s.record_app_use(&u1, "vanban", 10).await.unwrap();
    s.record_app_use(&u1, "vanban", 20).await.unwrap();
    assert_eq!(
        s.app_usage(&u1).await.unwrap(),
        vec![("vanban".to_owned(), 20)]
    );
    assert!(s.app_usage(&u3).await.unwrap().is_empty());
    s.add_to_group("lanh-dao", &u1).await.unwrap();
    s.add_to_group("lanh-dao", &u1).await.unwrap();
    s.add_to_group("van-thu", &u1).await.unwrap();
    assert_eq!(
        s.groups_of(&u1).await.unwrap(),
        vec!["lanh-dao".to_owned(), "van-thu".to_owned()]
    );
    assert!(s.groups_of(&u3).await.unwrap().is_empty());
    assert_eq!(s.list_clients().await.unwrap().len(), 1);

    // Keys: one live key of each state per algorithm, rotation in order.
    s.insert_key(&key("c1", "RS256", "current")).await.unwrap();
    s.insert_key(&key("n1", "RS256", "next")).await.unwrap();
    assert!(matches!(
        s.insert_key(&key("c2", "RS256", "current")).await,
        Err(StoreError::Conflict(_))
    ));
    s.insert_key(&key("e1", "ES256", "current")).await.unwrap();
    s.rotate_keys("RS256", &key("n2", "RS256", "next"), 500)
        .await
        .unwrap();
    s.rotate_keys("RS256", &key("n3", "RS256", "next"), 600)
        .await
        .unwrap();
    let live = s.live_keys().await.unwrap();
    let state = |kid: &str| live.iter().find(|k| k.kid == kid).map(|k| k.state.clone());
    assert_eq!(
        state("c1").as_deref(),
        Some("previous"),
        "still published after two rotations"
    );
    assert_eq!(state("n1").as_deref(), Some("previous"));
    assert_eq!(state("n2").as_deref(), Some("current"));
    assert_eq!(state("n3").as_deref(), Some("next"));
    assert_eq!(
        state("e1").as_deref(),
        Some("current"),
        "other algorithms untouched"
    );
    assert_eq!(
        live.iter().find(|k| k.kid == "n2").unwrap().sealed_der,
        vec![1, 2, 3, 0, 255]
    );
    // Retired once every token they signed has expired: c1 stopped signing at 500, n1 at 600.
    assert_eq!(s.retire_keys(550).await.unwrap(), 1);
    let live = s.live_keys().await.unwrap();
    let state = |kid: &str| live.iter().find(|k| k.kid == kid).map(|k| k.state.clone());
    assert_eq!(state("c1"), None, "retired");
    assert_eq!(state("n1").as_deref(), Some("previous"));

    // Grants and refresh-token rotation; a grant is born only in a session that has not ended.
    let sess = |sid: &str| SessionRow {
        sid: sid.into(),
        user_id: "u1".into(),
        key_hash: format!("hash-{sid}"),
        created_at: 100,
        ip: None,
        user_agent: None,
        ended_at: None,
    };
    for sid in ["sid1", "sid2"] {
        s.record_session(&sess(sid)).await.unwrap();
    }
    assert!(
        !s.create_grant(&grant("g0", "nosuchsession"), Some("r0"))
            .await
            .unwrap()
    );
    assert!(
        s.create_grant(&grant("g1", "sid1"), Some("r1"))
            .await
            .unwrap()
    );
    assert!(
        matches!(s.use_refresh_token("r1", 200).await.unwrap(), RefreshUse::Fresh(g) if g.id == "g1" && g.amr == vec!["pwd"])
    );
    assert!(
        matches!(s.use_refresh_token("r1", 201).await.unwrap(), RefreshUse::Reused(g) if g.id == "g1")
    );
    assert!(matches!(
        s.use_refresh_token("nope", 201).await.unwrap(),
        RefreshUse::Unknown
    ));
    s.add_refresh_token("g1", "r2", 202).await.unwrap();
    let (g, used) = s.refresh_token("r2").await.unwrap().unwrap();
    assert_eq!((g.id.as_str(), used), ("g1", None));
    assert!(s.revoke_grant("g1", "test", 300).await.unwrap());
    assert!(
        !s.revoke_grant("g1", "again", 301).await.unwrap(),
        "revoked once"
    );
    assert_eq!(s.grant("g1").await.unwrap().unwrap().revoked_at, Some(300));
    s.create_grant(&grant("g2", "sid2"), None).await.unwrap();
    s.create_grant(&grant("g3", "sid2"), Some("r3"))
        .await
        .unwrap();
    assert_eq!(
        s.clients_of_session("sid2").await.unwrap(),
        vec!["vanban"],
        "one app, however many grants"
    );
    assert!(s.clients_of_session("nobody").await.unwrap().is_empty());
    let mut ids = s.end_session("sid2", "signed out", 400).await.unwrap();
    ids.sort();
    assert_eq!(ids, vec!["g2", "g3"]);
    assert!(
        !s.create_grant(&grant("g4", "sid2"), None).await.unwrap(),
        "the session has ended"
    );
    assert!(s.grant("g4").await.unwrap().is_none());

    // Every session and grant of a person, set-based, keeping one session.
    for sid in ["p1", "p2", "p3"] {
        s.record_session(&sess(sid)).await.unwrap();
    }
    for (g, sid) in [("h1", "p1"), ("h2", "p2"), ("h3", "p3"), ("h4", "sid1")] {
        assert!(s.create_grant(&grant(g, sid), None).await.unwrap());
    }
    s.end_session_row("p3", 450).await.unwrap(); // gone from the cache, grant still live
    let ended = s
        .end_sessions_of_person(&u1, Some("p2"), "signed out", 500)
        .await
        .unwrap();
    let mut sids: Vec<&str> = ended.sessions.iter().map(|(s, _)| s.as_str()).collect();
    sids.sort_unstable();
    assert_eq!(sids, vec!["p1", "sid1"]);
    let mut gids: Vec<&str> = ended.grants.iter().map(|(g, _)| g.as_str()).collect();
    gids.sort_unstable();
    assert_eq!(gids, vec!["h1", "h3", "h4"], "g1 was revoked before");
    assert_eq!(
        ended.apps,
        vec![
            ("p1".to_owned(), "vanban".to_owned()),
            ("p3".to_owned(), "vanban".to_owned()),
            ("sid1".to_owned(), "vanban".to_owned()),
        ]
    );
    assert_eq!(s.grant("h2").await.unwrap().unwrap().revoked_at, None);
    let all = s
        .end_sessions_of_person(&u1, None, "password reset", 600)
        .await
        .unwrap();
    assert_eq!(all.sessions.len(), 1);
    assert_eq!(all.grants, vec![("h2".to_owned(), Some("p2".to_owned()))]);
    assert_eq!(s.purge_expired_grants(20_000).await.unwrap(), 7);
    assert!(
        s.refresh_token("r3").await.unwrap().is_none(),
        "tokens go with their grant"
    );

    // Audit: append and read back newest first.
    let mut e = AuditEvent::from(Event::new(Kind::Login, 10));
    e.subject = Some("tamtt@binhphuoc.gov.vn".into());
    s.record(&e).await.unwrap();
    s.record(&AuditEvent::from(Event::new(Kind::Logout, 11)))
        .await
        .unwrap();
    let recent = s.recent_audit(10).await.unwrap();
    assert_eq!(recent.len(), 2);
    assert_eq!(recent[0].kind, "auth.logout");
    assert_eq!(recent[1], e);
    let mut other = AuditEvent::from(Event::new(Kind::Login, 12));
    other.subject = Some("someone@binhphuoc.gov.vn".into());
    s.record(&other).await.unwrap();
    let mut changed = AuditEvent::from(Event::new(Kind::ProfileChanged, 13));
    changed.subject = Some("tamtt@binhphuoc.gov.vn".into());
    s.record(&changed).await.unwrap();
    let mine = s.sign_in_activity(&tamtt, &"u1".into(), 10).await.unwrap();
    assert_eq!(mine, vec![e], "only the person's own sign-ins");

    // The account page: profile, signature, sessions.
    let change = ProfileChange {
        name: None,
        phone: Some("0912345678".into()),
        personal_email: Some("tam@gmail.com".into()),
        signature_page: SignaturePage::First,
        signature_place: SignaturePlace::TopLeft,
    };
    s.update_profile(&u1, &change, 500).await.unwrap();
    let u = s.user_by_id(&u1).await.unwrap().unwrap();
    assert_eq!(u.name, "Trương Thanh Tâm", "no name given: unchanged");
    assert_eq!(u.phone.as_deref(), Some("0912345678"));
    assert_eq!(u.personal_email.as_deref(), Some("tam@gmail.com"));
    assert_eq!(
        (u.signature_page.as_str(), u.signature_place.as_str()),
        ("first", "top-left")
    );
    assert_eq!(u.source, UserSource::Local);
    let sig = Signature {
        image: vec![0x89, b'P', b'N', b'G', 0, 255],
        width: 600,
        height: 240,
        updated_at: 500,
    };
    s.set_signature(&u1, &sig).await.unwrap();
    let newer = Signature {
        width: 300,
        updated_at: 600,
        ..sig.clone()
    };
    s.set_signature(&u1, &newer).await.unwrap();
    assert_eq!(
        s.signature(&u1).await.unwrap(),
        Some(newer),
        "replaced, not added"
    );
    assert!(s.delete_signature(&u1).await.unwrap());
    assert!(!s.delete_signature(&u1).await.unwrap());
    assert_eq!(s.signature(&u1).await.unwrap(), None);

    let row = |sid: &str, at: i64| SessionRow {
        sid: sid.into(),
        user_id: "u1".into(),
        key_hash: format!("hash-{sid}"),
        created_at: at,
        ip: Some("10.0.0.5".into()),
        user_agent: Some("Chrome".into()),
        ended_at: None,
    };
    s.record_session(&row("s1", 1000)).await.unwrap();
    s.record_session(&row("s2", 2000)).await.unwrap();
    s.record_session(&row("s0", 10)).await.unwrap();
    let open = s.open_sessions(&u1, 500).await.unwrap();
    assert_eq!(
        open.iter().map(|r| r.sid.as_str()).collect::<Vec<_>>(),
        vec!["s2", "s1"],
        "newest first, none past the lifetime"
    );
    s.end_session_row("s2", 2100).await.unwrap();
    assert_eq!(
        s.open_sessions(&u1, 500).await.unwrap(),
        vec![row("s1", 1000)]
    );
    assert_eq!(s.purge_sessions(1500).await.unwrap(), 7);

    // Second factors, recovery codes, devices.
    let totp = Factor {
        user_id: "u1".into(),
        kind: FactorKind::Totp,
        secret: Some("sealed".into()),
        address: None,
        last_step: 10,
        created_at: 1,
    };
    s.put_factor(&totp).await.unwrap();
    let email = Factor {
        kind: FactorKind::Email,
        secret: None,
        address: Some("tam@gmail.com".into()),
        last_step: 0,
        ..totp.clone()
    };
    s.put_factor(&email).await.unwrap();
    s.put_factor(&Factor {
        secret: Some("sealed2".into()),
        ..totp.clone()
    })
    .await
    .unwrap();
    let f = s.factors(&u1).await.unwrap();
    assert_eq!(f.len(), 2, "one of each kind");
    assert_eq!(f[0].secret.as_deref(), Some("sealed2"), "replaced");
    assert!(!s.use_totp_step(&u1, 10).await.unwrap(), "a step once");
    assert!(s.use_totp_step(&u1, 11).await.unwrap());
    assert!(!s.use_totp_step(&u1, 11).await.unwrap());
    s.replace_recovery_codes(&u1, &["h1".into(), "h2".into()], 5)
        .await
        .unwrap();
    assert!(s.use_recovery_code(&u1, "h1", 6).await.unwrap());
    assert!(!s.use_recovery_code(&u1, "h1", 7).await.unwrap());
    assert!(
        !s.use_recovery_code(&u2, "h2", 7).await.unwrap(),
        "someone else's"
    );
    assert_eq!(s.recovery_codes_left(&u1).await.unwrap(), 1);
    assert!(
        s.delete_factor(&u1, FactorKind::Email, false)
            .await
            .unwrap()
    );
    assert_eq!(
        s.recovery_codes_left(&u1).await.unwrap(),
        1,
        "a factor is left"
    );
    assert!(s.delete_factor(&u1, FactorKind::Totp, false).await.unwrap());
    assert_eq!(
        s.recovery_codes_left(&u1).await.unwrap(),
        0,
        "gone with the last"
    );
    // A person who must keep a factor: a removal only while another kind
    // remains, also when two removals run at once.
    s.put_factor(&totp).await.unwrap();
    s.put_factor(&email).await.unwrap();
    let (a, b) = tokio::join!(
        s.delete_factor(&u1, FactorKind::Totp, true),
        s.delete_factor(&u1, FactorKind::Email, true)
    );
    assert_eq!(
        u8::from(a.unwrap()) + u8::from(b.unwrap()),
        1,
        "one of two parallel removals"
    );
    let left = s.factors(&u1).await.unwrap();
    assert_eq!(left.len(), 1);
    assert!(
        !s.delete_factor(&u1, left[0].kind, true).await.unwrap(),
        "the last one stays"
    );
    s.reset_factors(&u1).await.unwrap();
    s.put_factor(&totp).await.unwrap();
    assert_eq!(s.reset_factors(&u1).await.unwrap(), 1);
    assert!(s.factors(&u1).await.unwrap().is_empty());
    assert_eq!(
        s.touch_device(&u1, "d1", 1).await.unwrap(),
        Some(true),
        "first ever"
    );
    assert_eq!(s.touch_device(&u1, "d1", 2).await.unwrap(), None, "known");
    assert_eq!(
        s.touch_device(&u1, "d2", 3).await.unwrap(),
        Some(false),
        "new"
    );

    // The directory sync's units and mark.
    assert_eq!(
        s.directory_state(UserSource::Directory).await.unwrap(),
        None
    );
    let mut c = DirectoryChanges {
        units: vec![
            ("Sở Nội vụ".into(), 3),
            ("UBND thành phố Đồng Xoài".into(), 2),
        ],
        mark: Some("20261122083000Z".into()),
        full: true,
        ..DirectoryChanges::default()
    };
    s.apply_directory_changes(&c, UserSource::Directory, 100)
        .await
        .unwrap();
    assert_eq!(
        s.directory_state(UserSource::Directory).await.unwrap(),
        Some((Some("20261122083000Z".into()), 100))
    );
    c.units.truncate(1);
    c.mark = Some("20261122090000Z".into());
    c.full = false;
    s.apply_directory_changes(&c, UserSource::Directory, 200)
        .await
        .unwrap();
    assert_eq!(
        s.directory_state(UserSource::Directory).await.unwrap(),
        Some((Some("20261122090000Z".into()), 100)),
        "the last full read stays"
    );
    assert_eq!(s.units().await.unwrap(), vec![("Sở Nội vụ".to_owned(), 3)]);
    super::store_apps::client_and_app_changes(s).await;
    super::store_signing::document_keys(s).await;
    super::store_cas::cas_services(s).await;
    super::store_saml::saml(s).await;
}

#[tokio::test]
async fn sqlite_store_conformance() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}/nested/idp.db", dir.path().display()))
        .await
        .unwrap();
    store_suite(&store).await;
}

#[tokio::test]
async fn postgres_store_conformance() {
    let pg = Postgres::start();
    let store = Store::connect(&pg.url).await.unwrap();
    store_suite(&store).await;
    store.close().await;
}
