use super::*;
use crate::ids::Email;
use crate::store::NewUser;
use crate::testing::TestIdp;

async fn add(t: &TestIdp, id: &str, name: &str, unit: Option<&str>, admin: bool) -> User {
    t.idp
        .store
        .create_user(
            &NewUser {
                id: id.into(),
                email: Email::parse(&format!("{id}@binhphuoc.gov.vn")).unwrap(),
                name: name.into(),
                phone: None,
                unit: unit.map(str::to_owned),
                title: None,
                employee_code: None,
                password_hash: None,
                is_admin: admin,
            },
            t.now(),
        )
        .await
        .unwrap()
}

fn text(t: &str) -> Search {
    Search {
        text: Some(t.into()),
        page: 1,
        ..Search::default()
    }
}

#[tokio::test]
async fn search_ignores_diacritics_escapes_wildcards_and_keeps_a_unit_admin_to_their_unit() {
    let t = TestIdp::new().await;
    let root = add(&t, "root", "Quản trị", None, true).await;
    add(&t, "hungnv", "Nguyễn Văn Hùng", Some("Sở Nội vụ"), false).await;
    add(
        &t,
        "hungnv2",
        "Nguyễn Văn Hùng",
        Some("Sở Tài chính"),
        false,
    )
    .await;
    add(&t, "lan_tt", "Trần Thị Lan", Some("Sở Nội vụ"), false).await;
    let ua = add(&t, "ua", "Lê Đức", Some("Sở Nội vụ"), false).await;
    t.idp
        .store
        .grant_role(&ua.id, Role::UnitAdmin, "cli", 1)
        .await
        .unwrap();
    let by_root = Powers::load(&t.idp.store, &root).await.unwrap();
    let by_ua = Powers::load(&t.idp.store, &ua).await.unwrap();

    let f = search(&t.idp, &by_root, &text("nguyen van hung"))
        .await
        .unwrap();
    assert_eq!(f.total, 2);
    let f = search(&t.idp, &by_root, &text("NGUYỄN")).await.unwrap();
    assert_eq!(f.total, 2);
    let f = search(&t.idp, &by_ua, &text("hung")).await.unwrap();
    assert_eq!(f.total, 1, "only their unit");
    assert_eq!(f.people[0].id, "hungnv");
    // `_` and `%` match themselves, not any character.
    assert_eq!(search(&t.idp, &by_root, &text("%")).await.unwrap().total, 0);
    let f = search(&t.idp, &by_root, &text("lan_")).await.unwrap();
    assert_eq!(f.total, 1);
    assert_eq!(
        search(&t.idp, &by_root, &text("n_v")).await.unwrap().total,
        0
    );
    // By e-mail, and a renamed person is found by the new name.
    assert_eq!(
        search(&t.idp, &by_root, &text("hungnv2@"))
            .await
            .unwrap()
            .total,
        1
    );
    let change = crate::store::ProfileChange {
        name: Some("Phạm Minh".into()),
        ..Default::default()
    };
    t.idp
        .store
        .update_profile(&"lan_tt".into(), &change, t.now())
        .await
        .unwrap();
    assert_eq!(
        search(&t.idp, &by_root, &text("pham minh"))
            .await
            .unwrap()
            .total,
        1
    );
    assert_eq!(
        search(&t.idp, &by_root, &text("tran thi"))
            .await
            .unwrap()
            .total,
        0
    );
    // A unit administrator does not find, see or change another unit's person.
    let far = UserId::from("hungnv2");
    assert!(matches!(
        detail(&t.idp, &by_ua, &far, t.now()).await,
        Err(PeopleError::NotFound)
    ));
    assert!(matches!(
        disable(&t.idp, &by_ua, &far, None, t.now()).await,
        Err(PeopleError::NotFound)
    ));
}

#[tokio::test]
async fn disabling_is_audited_keeps_a_super_admin_and_an_auditor_changes_nothing() {
    let t = TestIdp::new().await;
    let root = add(&t, "root", "Quản trị", None, true).await;
    let aud = add(&t, "aud", "Kiểm toán", None, false).await;
    t.idp
        .store
        .grant_role(&aud.id, Role::Auditor, "cli", 1)
        .await
        .unwrap();
    add(&t, "tam", "Trương Thanh Tâm", Some("Sở Nội vụ"), false).await;
    let by_root = Powers::load(&t.idp.store, &root).await.unwrap();
    let by_aud = Powers::load(&t.idp.store, &aud).await.unwrap();
    let tam = UserId::from("tam");

    assert!(matches!(
        disable(&t.idp, &by_aud, &tam, None, t.now()).await,
        Err(PeopleError::Forbidden)
    ));
    assert!(matches!(
        unlock(&t.idp, &by_aud, &tam, t.now()).await,
        Err(PeopleError::Forbidden)
    ));
    assert!(matches!(
        reset_factors(&t.idp, &by_aud, &tam, t.now()).await,
        Err(PeopleError::Forbidden)
    ));
    assert!(matches!(
        set_role(&t.idp, &by_aud, &tam, Role::Clerk, true, t.now()).await,
        Err(PeopleError::Forbidden)
    ));
    assert!(
        detail(&t.idp, &by_aud, &tam, t.now()).await.is_ok(),
        "an auditor reads"
    );

    assert!(
        disable(&t.idp, &by_root, &tam, None, t.now())
            .await
            .unwrap()
    );
    assert!(
        !disable(&t.idp, &by_root, &tam, None, t.now())
            .await
            .unwrap()
    );
    assert!(enable(&t.idp, &by_root, &tam, t.now()).await.unwrap());
    let kinds: Vec<String> = t
        .idp
        .store
        .recent_audit(5)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(
        kinds.contains(&"admin.user_disabled".to_owned()),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&"admin.user_enabled".to_owned()),
        "{kinds:?}"
    );
    // The only super administrator cannot disable themselves.
    let e = disable(&t.idp, &by_root, &root.id, None, t.now()).await;
    assert!(matches!(e, Err(PeopleError::LastSuperAdmin)));
}
