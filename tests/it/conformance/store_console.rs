//! The store suite of the admin console's SQL (roles, the last super
//! administrator, the people search and its folded names, units, the audit
//! filters): SQLite and PostgreSQL answer the same.

use idp::ids::{Email, UserId};
use idp::kinds::Role;
use idp::store::{AuditEvent, AuditQuery, NewUser, PeopleQuery, ProfileChange, Store};

use crate::harness::Postgres;

fn fold(s: &str) -> String {
    idp::portal::apps::fold(s)
}

async fn add(s: &Store, id: &str, name: &str, unit: Option<&str>, admin: bool) {
    s.create_user(
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
        1,
    )
    .await
    .unwrap();
}

fn query(text: &str) -> PeopleQuery {
    PeopleQuery {
        text: Some(text.into()),
        limit: 50,
        ..PeopleQuery::default()
    }
}

async fn console_suite(s: &Store) {
    s.migrate().await.unwrap();
    add(s, "root", "Quản trị", None, true).await;
    add(s, "hung_1", "Nguyễn Văn Hùng", Some("Sở Nội vụ"), false).await;
    add(s, "hung2", "Nguyễn Văn Hùng", Some("Sở Tài chính"), false).await;
    add(s, "lan", "Trần Thị Lan 100%", Some("Sở Nội vụ"), false).await;
    let root = UserId::from("root");
    let hung = UserId::from("hung_1");

    // Roles: granted once, listed by name, revoked once.
    assert!(
        s.grant_role(&hung, Role::UnitAdmin, "root", 5)
            .await
            .unwrap()
    );
    assert!(
        !s.grant_role(&hung, Role::UnitAdmin, "root", 6)
            .await
            .unwrap()
    );
    assert!(s.grant_role(&hung, Role::Clerk, "cli", 7).await.unwrap());
    let roles = s.roles_of(&hung).await.unwrap();
    assert_eq!(
        roles.iter().map(|r| r.role).collect::<Vec<_>>(),
        [Role::Clerk, Role::UnitAdmin]
    );
    assert_eq!(
        (roles[1].granted_by.as_str(), roles[1].granted_at),
        ("root", 5)
    );
    assert!(s.revoke_role(&hung, Role::Clerk).await.unwrap());
    assert!(!s.revoke_role(&hung, Role::Clerk).await.unwrap());

    // The last super administrator keeps the flag and stays enabled.
    assert!(!s.set_super_admin(&root, false, 8).await.unwrap());
    assert!(!s.disable_user_keeping_an_admin(&root, 8).await.unwrap());
    assert!(s.set_super_admin(&hung, true, 9).await.unwrap());
    assert!(s.set_super_admin(&root, false, 10).await.unwrap());
    assert!(!s.disable_user_keeping_an_admin(&hung, 11).await.unwrap());
    assert!(s.set_super_admin(&root, true, 12).await.unwrap());
    assert!(s.disable_user_keeping_an_admin(&hung, 13).await.unwrap());
    assert!(
        !s.disable_user_keeping_an_admin(&hung, 14).await.unwrap(),
        "already"
    );
    assert!(s.enable_user(&hung, 15).await.unwrap());
    assert!(!s.enable_user(&hung, 16).await.unwrap());

    // The search: folded names, e-mails, wildcards typed as text, units, state.
    assert_eq!(s.fold_names(fold).await.unwrap(), 4);
    assert_eq!(s.fold_names(fold).await.unwrap(), 0);
    let (found, n) = s.search_people(&query("nguyen van hung")).await.unwrap();
    assert_eq!((n, found.len()), (2, 2));
    assert_eq!(s.search_people(&query("100%")).await.unwrap().1, 1);
    assert_eq!(s.search_people(&query("0%")).await.unwrap().1, 1);
    assert_eq!(s.search_people(&query("%")).await.unwrap().1, 1);
    assert_eq!(s.search_people(&query("hung_")).await.unwrap().1, 1);
    assert_eq!(s.search_people(&query("hung_1@")).await.unwrap().1, 1);
    assert_eq!(s.search_people(&query("n_v")).await.unwrap().1, 0);
    let mut q = query("");
    q.text = None;
    q.unit = Some("Sở Nội vụ".into());
    assert_eq!(s.search_people(&q).await.unwrap().1, 2);
    q.limit = 1;
    q.offset = 1;
    let (page, n) = s.search_people(&q).await.unwrap();
    assert_eq!((page.len(), n), (1, 2), "a page of one, the count of all");
    s.disable_user_keeping_an_admin(&UserId::from("lan"), 17)
        .await
        .unwrap();
    q.limit = 50;
    q.offset = 0;
    q.disabled = Some(true);
    let (page, _) = s.search_people(&q).await.unwrap();
    assert_eq!(
        page.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(),
        ["lan"]
    );
    // A new name is folded again (the column is emptied by the database).
    let change = ProfileChange {
        name: Some("Phạm Minh".into()),
        ..ProfileChange::default()
    };
    s.update_profile(&UserId::from("lan"), &change, 18)
        .await
        .unwrap();
    assert_eq!(s.fold_names(fold).await.unwrap(), 1);
    assert_eq!(s.search_people(&query("pham minh")).await.unwrap().1, 1);
    assert_eq!(s.search_people(&query("tran thi")).await.unwrap().1, 0);

    // Units and counts.
    let units = s.unit_counts().await.unwrap();
    assert_eq!(units.len(), 2);
    assert_eq!(
        (units[0].unit.as_str(), units[0].people, units[0].disabled),
        ("Sở Nội vụ", 2, 1)
    );
    assert_eq!(s.count_people().await.unwrap(), (4, 3));
    assert_eq!(s.count_open_sessions().await.unwrap(), 0);

    // The audit filters, keyset paging and the unit scope.
    for (at, kind, actor, subject) in [
        (100, "admin.role_granted", "root", "hung_1@binhphuoc.gov.vn"),
        (200, "auth.login", "hung2", "hung2@binhphuoc.gov.vn"),
        (300, "admin.unlocked", "root", "hung_1@binhphuoc.gov.vn"),
        (400, "auth.login", "lan", "lan"),
    ] {
        s.record(&AuditEvent {
            at,
            kind: kind.into(),
            actor: Some(actor.into()),
            subject: Some(subject.into()),
            ..AuditEvent::default()
        })
        .await
        .unwrap();
    }
    let all = AuditQuery {
        limit: 10,
        ..AuditQuery::default()
    };
    let rows = s.audit_events(&all).await.unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0].event.at, 400, "newest first");
    let q = AuditQuery {
        actor: Some("root".into()),
        ..all.clone()
    };
    assert_eq!(s.audit_events(&q).await.unwrap().len(), 2);
    let q = AuditQuery {
        kind: Some("auth.login".into()),
        from: Some(150),
        until: Some(400),
        ..all.clone()
    };
    let rows = s.audit_events(&q).await.unwrap();
    assert_eq!(rows.iter().map(|r| r.event.at).collect::<Vec<_>>(), [200]);
    let q = AuditQuery {
        before: Some(rows[0].id),
        ..all.clone()
    };
    assert_eq!(
        s.audit_events(&q).await.unwrap().len(),
        1,
        "older than the auth.login at 200"
    );
    // Events about the people of a unit, by e-mail or by id.
    let q = AuditQuery {
        unit: Some("Sở Nội vụ".into()),
        ..all.clone()
    };
    let ats: Vec<i64> = s
        .audit_events(&q)
        .await
        .unwrap()
        .iter()
        .map(|r| r.event.at)
        .collect();
    assert_eq!(ats, [400, 300, 100]);
}

/// Two super administrators demoting (or disabling) each other at the same
/// moment, many times over: never both.
async fn last_admin_race(s: &Store) {
    s.migrate().await.unwrap();
    add(s, "x", "X", None, true).await;
    add(s, "y", "Y", None, true).await;
    let (x, y) = (UserId::from("x"), UserId::from("y"));
    for round in 0..25 {
        let (a, b) = if round % 2 == 0 {
            tokio::join!(
                s.set_super_admin(&x, false, 2),
                s.set_super_admin(&y, false, 2)
            )
        } else {
            tokio::join!(
                s.set_super_admin(&x, false, 2),
                s.disable_user_keeping_an_admin(&y, 2)
            )
        };
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(!(a && b), "round {round}: both lost the flag");
        assert!(a || b, "round {round}: one of them may go");
        s.enable_user(&y, 3).await.unwrap();
        s.set_super_admin(&x, true, 3).await.unwrap();
        s.set_super_admin(&y, true, 3).await.unwrap();
    }
}

#[tokio::test]
async fn sqlite_last_super_administrator_under_concurrency() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}/idp.db", dir.path().display()))
        .await
        .unwrap();
    last_admin_race(&store).await;
}

#[tokio::test]
async fn postgres_last_super_administrator_under_concurrency() {
    let pg = Postgres::start();
    let store = Store::connect(&pg.url).await.unwrap();
    last_admin_race(&store).await;
    store.close().await;
}

#[tokio::test]
async fn sqlite_console_store_conformance() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}/idp.db", dir.path().display()))
        .await
        .unwrap();
    console_suite(&store).await;
}

#[tokio::test]
async fn postgres_console_store_conformance() {
    let pg = Postgres::start();
    let store = Store::connect(&pg.url).await.unwrap();
    console_suite(&store).await;
    store.close().await;
}
