//! The store suite for account links: SQLite and PostgreSQL keep the same
//! links, refuse the same conflicts and page the review queue alike.

use idp::ids::{Email, UserId};
use idp::kinds::{Decision, LinkMethod};
use idp::store::{
    AccountWrite, App, Link, NewSuggestion, NewUser, PeopleQuery, QueueFilter, Store, StoreError,
};

use crate::harness::Postgres;

fn person(id: &str, local: &str, name: &str, unit: &str) -> NewUser {
    NewUser {
        id: id.into(),
        email: Email::parse(&format!("{local}@binhphuoc.gov.vn")).unwrap(),
        name: name.into(),
        phone: None,
        unit: Some(unit.into()),
        title: None,
        employee_code: None,
        password_hash: None,
        is_admin: false,
    }
}

fn account<'a>(username: &'a str, active: bool) -> AccountWrite<'a> {
    AccountWrite {
        username,
        display_name: "Tên",
        email: None,
        phone: Some("0888 778 078"),
        unit: None,
        active,
    }
}

fn link(username: &str, user: &str) -> Link {
    Link {
        app_id: "onewin".into(),
        username: username.into(),
        user_id: user.into(),
        method: LinkMethod::Manual,
        linked_by: "cli".into(),
        linked_at: 10,
    }
}

fn suggestion(username: &str, user: &str, reason: LinkMethod, exact: bool) -> NewSuggestion {
    NewSuggestion {
        username: username.into(),
        user_id: user.into(),
        reason,
        confidence: 80,
        ambiguous: !exact,
        exact,
    }
}

async fn links_suite(s: &Store) {
    s.migrate().await.unwrap();
    for (id, local, name, unit) in [
        ("u1", "tamtt", "Trương Thanh Tâm", "Sở Nội vụ"),
        ("u2", "namvv", "Vũ 100% Nam_", "Sở Tài chính"),
        ("u3", "huonglt", "Lý Thu Hương", "Sở Nội vụ"),
    ] {
        s.create_user(&person(id, local, name, unit), 1)
            .await
            .unwrap();
    }
    let app = App {
        id: "onewin".into(),
        name: "Một cửa".into(),
        description: String::new(),
        launch_url: "https://onewin.gov.vn/".into(),
        client_id: Some("onewin-client".into()),
        icon: None,
        icon_type: None,
        units: vec![],
        groups: vec![],
        created_at: 1,
        legacy_claim: None,
    };
    s.create_app(&app).await.unwrap();
    assert_eq!(
        s.legacy_claim_of_client("onewin-client").await.unwrap(),
        None
    );
    assert!(
        s.set_app_legacy_claim("onewin", Some("preferred_username"))
            .await
            .unwrap()
    );
    assert_eq!(
        s.legacy_claim_of_client("onewin-client").await.unwrap(),
        Some(("onewin".into(), "preferred_username".into()))
    );
    assert_eq!(
        s.app("onewin")
            .await
            .unwrap()
            .unwrap()
            .legacy_claim
            .as_deref(),
        Some("preferred_username")
    );

    // An import upserts and marks accounts inactive, never deletes.
    let many: Vec<String> = (0..1000).map(|i| format!("acc{i:04}")).collect();
    let mut write: Vec<AccountWrite> = many.iter().map(|u| account(u, true)).collect();
    write.push(account("tam", true));
    write.push(account("nam_x", true));
    write.push(account("old", false));
    s.write_import("onewin", &write, &[], 5).await.unwrap();
    s.write_import("onewin", &[account("tam", true)], &["acc0000".into()], 6)
        .await
        .unwrap();
    let rows = s.legacy_accounts("onewin").await.unwrap();
    assert_eq!(rows.len(), 1003);
    let acc0 = s
        .legacy_account("onewin", "acc0000")
        .await
        .unwrap()
        .unwrap();
    assert!(!acc0.active.0);
    assert_eq!(acc0.imported_at, 6);
    assert_eq!(acc0.phone.as_deref(), Some("0888 778 078"));

    // One owner per account, one account per person and app: all or none.
    s.insert_links("onewin", &[link("tam", "u1")])
        .await
        .unwrap();
    for bad in [
        vec![link("acc0001", "u3"), link("tam", "u2")],
        vec![link("acc0002", "u3"), link("acc0003", "u1")],
    ] {
        assert!(matches!(
            s.insert_links("onewin", &bad).await,
            Err(StoreError::Conflict(_))
        ));
    }
    assert_eq!(s.links_of_app("onewin").await.unwrap().len(), 1);
    assert_eq!(
        s.link_of_person("onewin", &UserId::from("u1"))
            .await
            .unwrap()
            .unwrap()
            .username,
        "tam"
    );

    // Suggestions: linking accepts the pair and drops the account's others;
    // a rejected pair keeps its decision through the next run.
    let list = [
        suggestion("acc0001", "u2", LinkMethod::Email, true),
        suggestion("acc0001", "u3", LinkMethod::Name, false),
        suggestion("nam_x", "u2", LinkMethod::Phone, true),
        suggestion("acc0004", "u3", LinkMethod::Phone, true),
    ];
    s.replace_suggestions("onewin", &list, 7).await.unwrap();
    assert!(
        s.reject_suggestion("onewin", "nam_x", &"u2".into(), "cli", 8)
            .await
            .unwrap()
    );
    assert!(
        !s.reject_suggestion("onewin", "nam_x", &"u2".into(), "cli", 8)
            .await
            .unwrap()
    );
    s.insert_links("onewin", &[link("acc0001", "u2")])
        .await
        .unwrap();
    s.replace_suggestions("onewin", &list, 9).await.unwrap();
    let all = s.suggestions("onewin", None).await.unwrap();
    let status = |u: &str, p: &str| {
        all.iter()
            .find(|x| x.username == u && x.user_id.as_str() == p)
            .map(|x| x.status)
    };
    assert_eq!(status("acc0001", "u2"), Some(Decision::Accepted));
    assert_eq!(status("nam_x", "u2"), Some(Decision::Rejected));
    assert_eq!(status("acc0004", "u3"), Some(Decision::Pending));
    let removed = s.delete_link("onewin", "acc0001", "cli", 10).await.unwrap();
    assert_eq!(removed.unwrap().user_id, UserId::from("u2"));
    assert!(
        s.delete_link("onewin", "acc0001", "cli", 10)
            .await
            .unwrap()
            .is_none()
    );
    let again = s
        .suggestion("onewin", "acc0001", &"u2".into())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.status, Decision::Rejected);

    // The queue: keyset pages over many pending rows, with filters.
    let bulk: Vec<NewSuggestion> = many[10..]
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let who = if i % 2 == 0 { "u1" } else { "u3" };
            suggestion(u, who, LinkMethod::Name, false)
        })
        .collect();
    s.replace_suggestions("onewin", &bulk, 11).await.unwrap();
    let f = QueueFilter::default();
    let mut after = None;
    let mut seen = Vec::new();
    loop {
        let page = s.queue_page(&f, after.as_ref(), 300).await.unwrap();
        if page.is_empty() {
            break;
        }
        after = Some(page.last().unwrap().key());
        seen.extend(page.into_iter().map(|r| r.username));
    }
    assert_eq!(seen, many[10..].to_vec());
    let unit = QueueFilter {
        unit: Some("Sở Nội vụ".into()),
        reason: Some(LinkMethod::Name),
        app: Some("onewin".into()),
        exact_only: false,
    };
    let page = s.queue_page(&unit, None, 5).await.unwrap();
    assert_eq!(page.len(), 5);
    assert_eq!(page[0].person_unit.as_deref(), Some("Sở Nội vụ"));
    let exact = QueueFilter {
        exact_only: true,
        ..QueueFilter::default()
    };
    assert!(s.queue_page(&exact, None, 5).await.unwrap().is_empty());
    let c = &s.coverage_counts().await.unwrap()[0];
    assert_eq!((c.accounts, c.active, c.linked), (1003, 1001, 1));
    assert_eq!((c.unlinked_active, c.pending), (1000, 990));
    // The conflicts counted in SQL are those the rows show.
    let linked_people = s.suggestions_for_linked_people("onewin").await.unwrap();
    let strong = s.strong_pending("onewin").await.unwrap();
    let twice = |key: &dyn Fn(&(String, UserId)) -> String| {
        let mut n = std::collections::HashMap::<String, usize>::new();
        for r in &strong {
            *n.entry(key(r)).or_default() += 1;
        }
        n.values().filter(|v| **v > 1).count()
    };
    let expected = linked_people.len() + twice(&|r| r.1.to_string()) + twice(&|r| r.0.clone());
    assert_eq!(
        s.conflict_count("onewin").await.unwrap(),
        i64::try_from(expected).unwrap()
    );

    // Search takes % and _ literally (on names folded first, as the console does).
    s.fold_names(idp::portal::apps::fold).await.unwrap();
    let search = |text: &str, unit: Option<&str>| PeopleQuery {
        text: Some(text.to_owned()),
        unit: unit.map(str::to_owned),
        limit: 10,
        ..PeopleQuery::default()
    };
    let (found, _) = s.search_people(&search("100% nam_", None)).await.unwrap();
    assert_eq!(found.len(), 1);
    // Only the name with a real % in it.
    let (percent, _) = s.search_people(&search("%", None)).await.unwrap();
    assert_eq!(percent.len(), 1);
    assert_eq!(percent[0].id, UserId::from("u2"));
    let (none, total) = s.search_people(&search("t%m", None)).await.unwrap();
    assert!(none.is_empty() && total == 0);
    let (in_unit, _) = s
        .search_people(&search("binhphuoc", Some("Sở Nội vụ")))
        .await
        .unwrap();
    assert_eq!(in_unit.len(), 2);
    assert_eq!(
        s.search_accounts("onewin", "nam_", 10).await.unwrap().len(),
        1
    );
    assert!(
        s.search_accounts("onewin", "_", 10)
            .await
            .unwrap()
            .iter()
            .all(|a| a.username.contains('_'))
    );

    // Requests: one pending per person and app; decided once.
    let u3 = UserId::from("u3");
    let id = s
        .create_link_request(&u3, "onewin", "tên cũ", 12)
        .await
        .unwrap();
    assert!(matches!(
        s.create_link_request(&u3, "onewin", "", 12).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        s.pending_link_request(&u3, "onewin")
            .await
            .unwrap()
            .unwrap()
            .id,
        id
    );
    // The link would give u1 a second account: nothing is stored.
    let mut taken = link("acc0005", "u1");
    taken.method = LinkMethod::Request;
    assert!(matches!(
        s.accept_link_request(id, &taken, 13).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        s.link_request(id).await.unwrap().unwrap().status,
        Decision::Pending
    );
    assert!(
        s.accept_link_request(id, &link("acc0005", "u3"), 13)
            .await
            .unwrap()
    );
    assert!(
        !s.accept_link_request(id, &link("acc0006", "u3"), 13)
            .await
            .unwrap()
    );
    assert!(
        !s.decide_link_request(id, Decision::Rejected, "cli", "x", 14)
            .await
            .unwrap()
    );
    let r = s.link_request(id).await.unwrap().unwrap();
    assert_eq!(
        (r.status, r.decision.as_deref()),
        (Decision::Accepted, Some("acc0005"))
    );
    let id2 = s.create_link_request(&u3, "onewin", "", 15).await.unwrap();
    assert!(
        s.decide_link_request(id2, Decision::Rejected, "cli", "không có", 16)
            .await
            .unwrap()
    );
    let pending = s
        .link_requests(Some(Decision::Pending), None, 0, 10)
        .await
        .unwrap();
    assert!(pending.is_empty());
    assert_eq!(s.link_requests(None, None, id, 10).await.unwrap().len(), 1);
    // A unit's requests are chosen before the limit, not after it.
    let all = s.link_requests(None, None, 0, 10).await.unwrap();
    let noi_vu = s
        .link_requests(None, Some("Sở Nội vụ"), 0, 1)
        .await
        .unwrap();
    assert_eq!(noi_vu.len(), 1);
    assert_eq!(noi_vu[0].id, all[0].id);
    assert!(
        s.link_requests(None, Some("Sở Tài chính"), 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn sqlite_links_conformance() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}/idp.db", dir.path().display()))
        .await
        .unwrap();
    links_suite(&store).await;
}

#[tokio::test]
async fn postgres_links_conformance() {
    let pg = Postgres::start();
    let store = Store::connect(&pg.url).await.unwrap();
    links_suite(&store).await;
    store.close().await;
}
