use super::*;
use crate::ids::Email;
use crate::kinds::{SignaturePage, SignaturePlace, UserSource};
use crate::store::NewUser;

fn person(id: &str, unit: Option<&str>, admin: bool) -> User {
    User {
        id: id.into(),
        email: Email::parse(&format!("{id}@binhphuoc.gov.vn")).unwrap(),
        name: id.into(),
        phone: None,
        unit: unit.map(str::to_owned),
        title: None,
        employee_code: None,
        password_hash: None,
        is_admin: i64::from(admin),
        disabled_at: None,
        created_at: 0,
        updated_at: 0,
        personal_email: None,
        source: UserSource::Local,
        signature_page: SignaturePage::Last,
        signature_place: SignaturePlace::BottomRight,
    }
}

const NOI_VU: Option<&str> = Some("Sở Nội vụ");
const TAI_CHINH: Option<&str> = Some("Sở Tài chính");

#[test]
fn powers_answer_every_question_as_a_table() {
    let root = Powers::of(&person("root", None, true), &[]);
    let ua = Powers::of(&person("ua", NOI_VU, false), &[Role::UnitAdmin]);
    let auditor = Powers::of(&person("aud", TAI_CHINH, false), &[Role::Auditor]);
    let clerk = Powers::of(&person("clerk", NOI_VU, false), &[Role::Clerk]);
    let nobody = Powers::of(&person("x", NOI_VU, false), &[]);

    let same_unit = person("tam", NOI_VU, false);
    let other_unit = person("lan", TAI_CHINH, false);
    let admin_same_unit = person("boss", NOI_VU, true);
    let ua_self = person("ua", NOI_VU, false);

    // (who, may see same, may see other, may change same, may change other)
    let rows: [(&Powers, bool, bool, bool, bool); 5] = [
        (&root, true, true, true, true),
        (&ua, true, false, true, false),
        (&auditor, true, true, false, false),
        (&clerk, false, false, false, false),
        (&nobody, false, false, false, false),
    ];
    for (p, see_same, see_other, change_same, change_other) in rows {
        let who = format!("{:?}", p.roles);
        assert_eq!(p.may_see(&same_unit), see_same, "{who} sees same unit");
        assert_eq!(p.may_see(&other_unit), see_other, "{who} sees other unit");
        assert_eq!(
            p.may_change(&same_unit),
            change_same,
            "{who} changes same unit"
        );
        assert_eq!(
            p.may_change(&other_unit),
            change_other,
            "{who} changes other unit"
        );
    }
    assert!(root.any() && ua.any() && auditor.any() && clerk.any() && !nobody.any());
    // The console's read-only views: everyone but the clerk (signing only) and nobody.
    for (p, list, audit, apps) in [
        (&root, true, true, true),
        (&ua, true, true, false),
        (&auditor, true, true, true),
        (&clerk, false, false, false),
        (&nobody, false, false, false),
    ] {
        assert_eq!(p.may_list_people(), list, "{:?}", p.roles);
        assert_eq!(p.may_read_audit(), audit, "{:?}", p.roles);
        assert_eq!(p.may_see_apps(), apps, "{:?}", p.roles);
    }
    assert_eq!(ua.people_scope(), NOI_VU);
    assert_eq!(ua.audit_scope(), NOI_VU);
    assert_eq!(root.people_scope(), None);
    assert_eq!(auditor.people_scope(), None);
    // Only a super administrator registers apps.
    assert!(root.may_manage_apps() && !ua.may_manage_apps() && !auditor.may_manage_apps());
    // Links: a unit administrator manages their unit's only; an auditor none.
    assert!(ua.may_manage_links(NOI_VU) && !ua.may_manage_links(TAI_CHINH));
    assert!(!ua.may_manage_links(None));
    assert!(root.may_manage_links(TAI_CHINH) && !auditor.may_manage_links(TAI_CHINH));

    // A unit administrator changes neither a super administrator of their
    // unit nor themselves, and grants only clerk and auditor in their unit.
    assert!(ua.may_see(&admin_same_unit) && !ua.may_change(&admin_same_unit));
    assert!(!ua.may_change(&ua_self));
    for role in Role::ALL {
        let low = *role == Role::Clerk;
        assert_eq!(ua.may_grant(*role, &same_unit), low, "{role}");
        assert!(!ua.may_grant(*role, &other_unit), "{role}");
        assert!(
            !ua.may_grant(*role, &ua_self),
            "nobody raises themselves: {role}"
        );
        assert!(!auditor.may_grant(*role, &same_unit), "{role}");
        assert!(root.may_grant(*role, &same_unit), "{role}");
    }
    // A unit administrator without a unit manages nobody.
    let lost = Powers::of(&person("lost", None, false), &[Role::UnitAdmin]);
    assert!(!lost.may_list_people() && !lost.may_see(&same_unit));
}

async fn stored(store: &Store, id: &str, unit: Option<&str>, admin: bool) -> User {
    store
        .create_user(
            &NewUser {
                id: id.into(),
                email: Email::parse(&format!("{id}@binhphuoc.gov.vn")).unwrap(),
                name: id.into(),
                phone: None,
                unit: unit.map(str::to_owned),
                title: None,
                employee_code: None,
                password_hash: None,
                is_admin: admin,
            },
            1,
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn grants_and_revokes_are_audited_with_before_and_after() {
    let (store, _dir) = crate::testing::test_store().await;
    let root = stored(&store, "root", None, true).await;
    let tam = stored(&store, "tam", NOI_VU, false).await;
    let by = Powers::load(&store, &root).await.unwrap();
    let actor = Actor::person(&root.id);
    assert!(
        set(&store, Some(&by), &tam, Role::UnitAdmin, true, &actor, 5)
            .await
            .unwrap()
    );
    assert!(
        !set(&store, Some(&by), &tam, Role::UnitAdmin, true, &actor, 6)
            .await
            .unwrap()
    );
    assert!(
        set(&store, Some(&by), &tam, Role::Clerk, true, &actor, 7)
            .await
            .unwrap()
    );
    assert!(has(&store, &tam, Role::Clerk).await.unwrap());
    assert!(any(&store, &tam).await.unwrap());
    assert!(
        set(&store, Some(&by), &tam, Role::Clerk, false, &actor, 8)
            .await
            .unwrap()
    );
    assert!(!has(&store, &tam, Role::Clerk).await.unwrap());
    let events = store.recent_audit(10).await.unwrap();
    assert_eq!(events.len(), 3, "no event when nothing changed");
    assert_eq!(events[0].kind, "admin.role_revoked");
    assert_eq!(
        events[0].detail.as_deref(),
        Some("role clerk; before clerk,unit_admin; after unit_admin")
    );
    assert_eq!(events[0].actor.as_deref(), Some("root"));
    assert_eq!(events[2].kind, "admin.role_granted");
    assert_eq!(
        events[2].detail.as_deref(),
        Some("role unit_admin; before -; after unit_admin")
    );

    // A unit administrator cannot make anyone a super or unit administrator.
    let ua = Powers::load(&store, &tam).await.unwrap();
    let lan = stored(&store, "lan", NOI_VU, false).await;
    let e = set(
        &store,
        Some(&ua),
        &lan,
        Role::SuperAdmin,
        true,
        &Actor::person(&tam.id),
        9,
    )
    .await;
    assert!(matches!(e, Err(RoleError::Forbidden(_))));
    let far = stored(&store, "far", TAI_CHINH, false).await;
    let e = set(
        &store,
        Some(&ua),
        &far,
        Role::Clerk,
        true,
        &Actor::person(&tam.id),
        9,
    )
    .await;
    assert!(
        matches!(e, Err(RoleError::NotFound)),
        "another unit is not found"
    );
    // A unit administrator needs a unit.
    let e = set(&store, None, &root, Role::UnitAdmin, true, &Actor::cli(), 9).await;
    assert!(matches!(e, Err(RoleError::NoUnit)));
}

#[tokio::test]
async fn nobody_removes_the_last_super_administrator() {
    let (store, _dir) = crate::testing::test_store().await;
    let a = stored(&store, "a", None, true).await;
    let b = stored(&store, "b", None, true).await;
    let cli = Actor::cli();
    assert!(
        set(&store, None, &b, Role::SuperAdmin, false, &cli, 5)
            .await
            .unwrap()
    );
    let e = set(&store, None, &a, Role::SuperAdmin, false, &cli, 6).await;
    assert!(matches!(e, Err(RoleError::LastSuperAdmin)));
    assert!(!store.disable_user_keeping_an_admin(&a.id, 7).await.unwrap());
    // With a second one back, either may go (but not both).
    assert!(
        set(&store, None, &b, Role::SuperAdmin, true, &cli, 8)
            .await
            .unwrap()
    );
    let a_now = store.user_by_id(&a.id).await.unwrap().unwrap();
    assert!(
        set(&store, None, &a_now, Role::SuperAdmin, false, &cli, 9)
            .await
            .unwrap()
    );
    assert!(
        !store
            .disable_user_keeping_an_admin(&b.id, 10)
            .await
            .unwrap()
    );
    assert_eq!(store.count_admins().await.unwrap(), 1);
}
