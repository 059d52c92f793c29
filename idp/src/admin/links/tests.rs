//! Unit tests of the linking rules, on SQLite (the store suite runs the SQL
//! on PostgreSQL too).

use std::collections::HashSet;

use connectors::LegacyAccount;

use super::*;
use crate::admin::apps::{self, NewApp};
use crate::kinds::Decision;
use crate::store::{NewSuggestion, NewUser, QueueFilter};

const T: i64 = 1_793_491_200;

async fn world() -> (Store, tempfile::TempDir) {
    let (store, dir) = crate::testing::test_store().await;
    for app in ["onewin", "ioffice"] {
        store.create_client(&client(app)).await.unwrap();
        let a = NewApp {
            app_id: app.into(),
            name: format!("App {app}"),
            url: "https://app.gov.vn/".into(),
            client: Some(app.into()),
            ..NewApp::default()
        };
        apps::add(&store, a, &Actor::cli(), T).await.unwrap();
    }
    for (id, local, unit) in [
        ("u1", "tamtt", "Sở Nội vụ"),
        ("u2", "namvv", "Sở Tài chính"),
        ("u3", "huonglt", "Sở Nội vụ"),
    ] {
        let u = NewUser {
            id: id.into(),
            email: Email::parse(&format!("{local}@binhphuoc.gov.vn")).unwrap(),
            name: local.into(),
            phone: None,
            unit: Some(unit.into()),
            title: None,
            employee_code: None,
            password_hash: None,
            is_admin: false,
        };
        store.create_user(&u, T).await.unwrap();
    }
    let accounts: Vec<LegacyAccount> = ["tam", "nam", "huong", "=cmd|calc", "old"]
        .iter()
        .map(|u| LegacyAccount {
            username: (*u).into(),
            display_name: format!("Name {u}"),
            email: None,
            phone: None,
            unit: None,
            active: *u != "old",
        })
        .collect();
    for app in ["onewin", "ioffice"] {
        import_accounts(&store, &Actor::cli(), app, &accounts, T)
            .await
            .unwrap();
    }
    (store, dir)
}

fn client(id: &str) -> crate::store::NewClient {
    crate::store::NewClient {
        id: id.into(),
        name: id.into(),
        secret_hash: None,
        auth_method: crate::kinds::ClientAuthMethod::None,
        redirect_uris: vec!["http://127.0.0.1/cb".into()],
        post_logout_redirect_uris: vec![],
        grant_types: vec![crate::kinds::GrantType::AuthorizationCode],
        backchannel_logout_uri: None,
        frontchannel_logout_uri: None,
        initiate_login_uri: None,
        jwks: None,
        id_token_alg: "RS256".into(),
        created_at: T,
        require_mfa: false,
        allowed_scopes: vec![],
        allowed_resources: vec![],
        pkce_required: true,
    }
}

fn email(local: &str) -> Email {
    Email::parse(&format!("{local}@binhphuoc.gov.vn")).unwrap()
}

fn suggestion(username: &str, user: &str, reason: LinkMethod, exact: bool) -> NewSuggestion {
    NewSuggestion {
        username: username.into(),
        user_id: user.into(),
        reason,
        confidence: 90,
        ambiguous: !exact,
        exact,
    }
}

#[tokio::test]
async fn a_link_that_would_be_a_conflict_is_refused_naming_the_owner() {
    let (s, _d) = world().await;
    let cli = Actor::cli();
    add(&s, &cli, &email("tamtt"), "onewin", "tam", None, T)
        .await
        .unwrap();
    // The account has an owner.
    let e = add(&s, &cli, &email("namvv"), "onewin", "tam", None, T)
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("already linked to tamtt@binhphuoc.gov.vn"),
        "{e}"
    );
    // The person has an account in the app.
    let e = add(&s, &cli, &email("tamtt"), "onewin", "nam", None, T)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("already has account tam"), "{e}");
    // Another app is another matter.
    add(&s, &cli, &email("tamtt"), "ioffice", "nam", None, T)
        .await
        .unwrap();
    // Inactive and unknown accounts, unknown apps, people outside the unit.
    let e = add(&s, &cli, &email("namvv"), "onewin", "old", None, T)
        .await
        .unwrap_err();
    assert!(matches!(e, LinkError::AccountInactive { .. }), "{e}");
    let e = add(&s, &cli, &email("namvv"), "onewin", "nobody", None, T)
        .await
        .unwrap_err();
    assert!(matches!(e, LinkError::NoAccount { .. }), "{e}");
    let e = add(&s, &cli, &email("namvv"), "nope", "nam", None, T)
        .await
        .unwrap_err();
    assert!(matches!(e, LinkError::NoApp(_)), "{e}");
    let e = add(
        &s,
        &cli,
        &email("namvv"),
        "onewin",
        "nam",
        Some("Sở Nội vụ"),
        T,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, LinkError::OutsideUnit(_)), "{e}");
    // To a unit administrator nobody looks like another unit's person, and
    // the owner of a taken account in another unit is not named.
    let e = add(
        &s,
        &cli,
        &email("nobody"),
        "onewin",
        "nam",
        Some("Sở Nội vụ"),
        T,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, LinkError::OutsideUnit(_)), "{e}");
    add(&s, &cli, &email("namvv"), "ioffice", "huong", None, T)
        .await
        .unwrap();
    let e = add(
        &s,
        &cli,
        &email("huonglt"),
        "ioffice",
        "huong",
        Some("Sở Nội vụ"),
        T,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&e, LinkError::AccountTaken { owner: None, .. }),
        "{e}"
    );
    assert!(!e.to_string().contains("namvv"), "{e}");
    assert!(
        remove(&s, &cli, "onewin", "tam", Some("Sở Tài chính"), T)
            .await
            .is_err()
    );
    // Former staff are never linked.
    s.set_user_disabled(&"u2".into(), Some(T), T).await.unwrap();
    let e = add(&s, &cli, &email("namvv"), "onewin", "nam", None, T)
        .await
        .unwrap_err();
    assert!(matches!(e, LinkError::PersonDisabled(_)), "{e}");
    // The store refuses what the checks would have refused.
    let dup = Link {
        app_id: "onewin".into(),
        username: "huong".into(),
        user_id: "u1".into(),
        method: LinkMethod::Manual,
        linked_by: "cli".into(),
        linked_at: T,
    };
    assert!(matches!(
        s.insert_links("onewin", &[dup]).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.links_of_app("onewin").await.unwrap().len(), 1);
    let audit = s.recent_audit(50).await.unwrap();
    assert!(audit.iter().any(|e| {
        e.kind == "link.added"
            && e.detail
                .as_deref()
                .is_some_and(|d| d.contains("before: unlinked; after: tamtt@"))
    }));
}

#[tokio::test]
async fn exact_matches_are_linked_unless_that_would_be_a_conflict() {
    let (s, _d) = world().await;
    let cli = Actor::cli();
    add(&s, &cli, &email("huonglt"), "onewin", "huong", None, T)
        .await
        .unwrap();
    let list = [
        suggestion("tam", "u1", LinkMethod::Email, true),
        // Two accounts claim namvv: neither is linked.
        suggestion("nam", "u2", LinkMethod::Phone, true),
        suggestion("=cmd|calc", "u2", LinkMethod::EmailVariant, true),
        // A weak match is never linked by itself.
        suggestion("=cmd|calc", "u1", LinkMethod::Name, false),
    ];
    s.replace_suggestions("onewin", &list, T).await.unwrap();
    // A suggestion of an account the app no longer lists as active ("old",
    // for huonglt who owns one already) is not even considered.
    let mut more = list.to_vec();
    more.push(NewSuggestion {
        username: "old".into(),
        ..suggestion("old", "u3", LinkMethod::Email, true)
    });
    s.replace_suggestions("onewin", &more, T).await.unwrap();
    let r = accept_all_exact(&s, &cli, "onewin", None, T).await.unwrap();
    assert_eq!(r.linked_total(), 1);
    assert_eq!(r.linked.get(&LinkMethod::Email), Some(&1));
    assert_eq!(r.conflicts, 2);
    assert_eq!(
        s.link("onewin", "tam").await.unwrap().unwrap().user_id,
        "u1"
    );
    assert!(s.link("onewin", "nam").await.unwrap().is_none());
    let c = conflicts(&s, "onewin", None).await.unwrap();
    assert!(
        c.contains(&Conflict::PersonClaimedTwice {
            person: "u2".into(),
            usernames: vec!["=cmd|calc".into(), "nam".into()],
        }),
        "{c:?}"
    );
    assert!(c.iter().any(|c| matches!(c, Conflict::PersonAlreadyLinked { linked_username, .. } if linked_username == "huong")));
    let cov = coverage(&s).await.unwrap();
    let onewin = cov.iter().find(|c| c.app_id == "onewin").unwrap();
    assert_eq!((onewin.accounts, onewin.active, onewin.linked), (5, 4, 2));
    assert_eq!(onewin.unlinked_active, 2);
    // u2 claimed twice, u3 and u1 (who own huong and tam) suggested again:
    // the count the database makes is the list's length.
    assert_eq!(onewin.conflicts, 3);
    assert_eq!(onewin.conflicts, c.len() as i64);
    // A unit administrator accepts only their unit's matches.
    s.replace_suggestions(
        "ioffice",
        &[suggestion("nam", "u2", LinkMethod::Email, true)],
        T,
    )
    .await
    .unwrap();
    let r = accept_all_exact(&s, &cli, "ioffice", Some("Sở Nội vụ"), T)
        .await
        .unwrap();
    assert_eq!(r.linked_total(), 0);
}

#[tokio::test]
async fn a_rejected_or_unlinked_match_stays_rejected_when_matching_runs_again() {
    let (s, _d) = world().await;
    let cli = Actor::cli();
    let list = [
        suggestion("tam", "u1", LinkMethod::Email, true),
        suggestion("nam", "u2", LinkMethod::Email, true),
    ];
    s.replace_suggestions("onewin", &list, T).await.unwrap();
    reject(&s, &cli, "onewin", "tam", &"u1".into(), None, T)
        .await
        .unwrap();
    let l = accept(&s, &cli, "onewin", "nam", &"u2".into(), None, T)
        .await
        .unwrap();
    assert_eq!(l.method, LinkMethod::Email);
    remove(&s, &cli, "onewin", "nam", None, T).await.unwrap();
    s.replace_suggestions("onewin", &list, T + 1).await.unwrap();
    let pending = s
        .suggestions("onewin", Some(Decision::Pending))
        .await
        .unwrap();
    assert!(pending.is_empty(), "{pending:?}");
    assert_eq!(
        accept_all_exact(&s, &cli, "onewin", None, T)
            .await
            .unwrap()
            .linked_total(),
        0
    );
    assert!(
        reject(&s, &cli, "onewin", "tam", &"u1".into(), None, T)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_link_made_by_hand_and_removed_is_not_made_again_by_matching() {
    let (s, _d) = world().await;
    let cli = Actor::cli();
    // Linked by hand before matching ever ran, then unlinked.
    add(&s, &cli, &email("namvv"), "onewin", "nam", None, T)
        .await
        .unwrap();
    remove(&s, &cli, "onewin", "nam", None, T).await.unwrap();
    let list = [suggestion("nam", "u2", LinkMethod::Email, true)];
    s.replace_suggestions("onewin", &list, T + 1).await.unwrap();
    assert!(
        s.suggestions("onewin", Some(Decision::Pending))
            .await
            .unwrap()
            .is_empty()
    );
    let r = accept_all_exact(&s, &cli, "onewin", None, T + 1)
        .await
        .unwrap();
    assert_eq!(r.linked_total(), 0);
    assert!(s.link("onewin", "nam").await.unwrap().is_none());
}

#[tokio::test]
async fn an_import_marks_missing_accounts_inactive_and_keeps_their_links() {
    let (s, _d) = world().await;
    add(&s, &Actor::cli(), &email("tamtt"), "onewin", "tam", None, T)
        .await
        .unwrap();
    let again = vec![LegacyAccount {
        username: "nam".into(),
        display_name: "Vũ Văn Nam".into(),
        email: Some("namvv@binhphuoc.gov.vn".into()),
        phone: None,
        unit: None,
        active: true,
    }];
    let r = import_accounts(&s, &Actor::cli(), "onewin", &again, T + 1)
        .await
        .unwrap();
    assert_eq!((r.new, r.changed, r.unchanged), (0, 1, 0));
    // tam, huong, =cmd|calc were active; old was inactive already.
    assert_eq!(r.gone, 3);
    assert_eq!(
        r.gone_linked,
        vec![("tam".to_owned(), "tamtt@binhphuoc.gov.vn".to_owned())]
    );
    assert!(s.link("onewin", "tam").await.unwrap().is_some());
    let tam = s.legacy_account("onewin", "tam").await.unwrap().unwrap();
    assert!(!tam.active.0);
    let bad = vec![LegacyAccount {
        username: "x".repeat(MAX_FIELD_CHARS + 1),
        ..again[0].clone()
    }];
    assert!(
        import_accounts(&s, &Actor::cli(), "onewin", &bad, T)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn the_export_neutralises_formulas_and_an_import_applies_all_rows_or_none() {
    let (s, _d) = world().await;
    let cli = Actor::cli();
    add(&s, &cli, &email("tamtt"), "onewin", "=cmd|calc", None, T)
        .await
        .unwrap();
    let csv = export_csv(&s, "onewin", None).await.unwrap();
    assert!(csv.contains("'=cmd|calc,Name =cmd|calc,tamtt@binhphuoc.gov.vn,linked,manual,cli,2026-11-01T00:00:00Z"), "{csv}");
    assert!(csv.contains("\r\nold,Name old,,inactive,,,\r\n"), "{csv}");
    // One bad row (unknown person) and one conflict: nothing is written.
    let file = "username,official_email\nnam,namvv@binhphuoc.gov.vn\nhuong,nobody@binhphuoc.gov.vn\ntam,tamtt@binhphuoc.gov.vn\n";
    let e = import_links_csv(&s, &cli, "onewin", file.as_bytes(), None, T)
        .await
        .unwrap_err();
    let m = e.to_string();
    assert!(
        m.contains("line 3: no person") && m.contains("line 4: conflict"),
        "{m}"
    );
    assert!(s.link("onewin", "nam").await.unwrap().is_none());
    // Two rows for one account in the file are refused as well.
    let twice = "username,email\nnam,namvv@binhphuoc.gov.vn\nnam,huonglt@binhphuoc.gov.vn\n";
    assert!(
        import_links_csv(&s, &cli, "onewin", twice.as_bytes(), None, T)
            .await
            .is_err()
    );
    // The export itself imports back: linked rows unchanged, others skipped.
    let r = import_links_csv(&s, &cli, "onewin", csv.as_bytes(), None, T)
        .await
        .unwrap();
    assert_eq!((r.linked, r.unchanged, r.skipped), (0, 1, 4));
    let good = "\u{feff}username,official_email\nnam,namvv@binhphuoc.gov.vn\n";
    let r = import_links_csv(&s, &cli, "onewin", good.as_bytes(), None, T)
        .await
        .unwrap();
    assert_eq!(r.linked, 1);
    assert_eq!(
        s.link("onewin", "nam").await.unwrap().unwrap().method,
        LinkMethod::Import
    );
}

#[tokio::test]
async fn a_request_is_pending_once_and_decided_once_with_a_mail() {
    let (s, _d) = world().await;
    let u1 = UserId::from("u1");
    let first = request(&s, &u1, "onewin", "tên cũ: tam", T).await.unwrap();
    let RequestOutcome::Created(id) = first else {
        panic!("{first:?}")
    };
    assert_eq!(
        request(&s, &u1, "onewin", "", T).await.unwrap(),
        RequestOutcome::AlreadyPending(id)
    );
    let cli = Actor::cli();
    let e = decide_request(
        &s,
        &cli,
        id,
        RequestDecision::Link {
            username: "old".into(),
        },
        None,
        true,
        T,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, LinkError::AccountInactive { .. }));
    let outside = RequestDecision::Link {
        username: "tam".into(),
    };
    assert!(matches!(
        decide_request(&s, &cli, id, outside.clone(), Some("Sở Tài chính"), true, T).await,
        Err(LinkError::NoRequest(_))
    ));
    let d = decide_request(&s, &cli, id, outside.clone(), None, true, T)
        .await
        .unwrap();
    assert_eq!(d.request.status, Decision::Accepted);
    assert_eq!(d.link.unwrap().method, LinkMethod::Request);
    assert!(matches!(
        decide_request(&s, &cli, id, outside, None, true, T).await,
        Err(LinkError::AlreadyDecided(_))
    ));
    let due = s.due(T, 10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].target, "tamtt@binhphuoc.gov.vn");
    assert!(due[0].payload.contains("tam"), "{}", due[0].payload);
    assert_eq!(
        request(&s, &u1, "onewin", "", T).await.unwrap(),
        RequestOutcome::AlreadyLinked("tam".into())
    );
    let RequestOutcome::Created(id) = request(&s, &"u2".into(), "onewin", "", T).await.unwrap()
    else {
        panic!()
    };
    let no = RequestDecision::Reject { reason: " ".into() };
    assert!(
        decide_request(&s, &cli, id, no, None, false, T)
            .await
            .is_err()
    );
    let no = RequestDecision::Reject {
        reason: "Không có tài khoản".into(),
    };
    let d = decide_request(&s, &cli, id, no, None, false, T)
        .await
        .unwrap();
    assert_eq!(d.request.decision.as_deref(), Some("Không có tài khoản"));
    assert_eq!(s.due(T, 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_app_receives_only_its_own_link() {
    let (s, _d) = world().await;
    assert_eq!(
        release(&s, "vanban", &"u1".into()).await.unwrap(),
        Release::Nothing
    );
    let lich = NewApp {
        app_id: "lich".into(),
        name: "Lịch".into(),
        url: "https://app.gov.vn/".into(),
        ..NewApp::default()
    };
    apps::add(&s, lich, &Actor::cli(), T).await.unwrap();
    let e = set_claim(&s, &Actor::cli(), "lich", Some("preferred_username"), T).await;
    assert!(e.unwrap_err().to_string().contains("no OIDC client"));
    let e = set_claim(&s, &Actor::cli(), "onewin", Some("email"), T).await;
    assert!(e.unwrap_err().to_string().contains("registered claim"));
    set_claim(&s, &Actor::cli(), "onewin", Some("preferred_username"), T)
        .await
        .unwrap();
    set_claim(&s, &Actor::cli(), "ioffice", Some("ioffice_user"), T)
        .await
        .unwrap();
    // One client, one legacy username: a second app of the client may not release one.
    let twin = NewApp {
        app_id: "onewin-mobile".into(),
        name: "Một cửa (di động)".into(),
        url: "https://app.gov.vn/".into(),
        client: Some("onewin".into()),
        legacy_claim: Some("onewin_user".into()),
        ..NewApp::default()
    };
    let e = apps::add(&s, twin, &Actor::cli(), T).await.unwrap_err();
    assert!(e.to_string().contains("already releases"), "{e}");
    // Nor may an app with a claim move to a client that receives one.
    let moved = apps::AppChange {
        client: Some(Some("onewin".into())),
        ..apps::AppChange::default()
    };
    let e = apps::update(&s, "ioffice", moved, &Actor::cli(), T)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("already releases"), "{e}");
    add(
        &s,
        &Actor::cli(),
        &email("tamtt"),
        "ioffice",
        "huong",
        None,
        T,
    )
    .await
    .unwrap();
    assert_eq!(
        release(&s, "onewin", &"u1".into()).await.unwrap(),
        Release::NoLink {
            app_id: "onewin".into()
        }
    );
    add(&s, &Actor::cli(), &email("tamtt"), "onewin", "tam", None, T)
        .await
        .unwrap();
    assert_eq!(
        release(&s, "onewin", &"u1".into()).await.unwrap(),
        Release::Claim {
            claim: "preferred_username".into(),
            username: "tam".into()
        }
    );
    assert_eq!(
        release(&s, "ioffice", &"u1".into()).await.unwrap(),
        Release::Claim {
            claim: "ioffice_user".into(),
            username: "huong".into()
        }
    );
    // The next export no longer lists "tam": the username is not asserted.
    let rest: Vec<LegacyAccount> = ["nam", "huong"]
        .iter()
        .map(|u| LegacyAccount {
            username: (*u).into(),
            display_name: format!("Name {u}"),
            email: None,
            phone: None,
            unit: None,
            active: true,
        })
        .collect();
    import_accounts(&s, &Actor::cli(), "onewin", &rest, T + 1)
        .await
        .unwrap();
    assert_eq!(
        release(&s, "onewin", &"u1".into()).await.unwrap(),
        Release::NoLink {
            app_id: "onewin".into()
        }
    );
}

#[test]
fn claim_names_are_preferred_username_or_unregistered_lower_case() {
    assert!(check_claim_name("preferred_username").is_ok());
    assert!(check_claim_name("onewin_user").is_ok());
    assert!(check_claim_name(&format!("a{}", "b".repeat(63))).is_ok());
    for bad in ["sub", "email", "name", "iss", "aud", "unit"] {
        let e = check_claim_name(bad).unwrap_err();
        assert!(e.contains("registered claim"), "{bad}: {e}");
    }
    for bad in [
        "",
        "Onewin",
        "1user",
        "user-name",
        "tên",
        &format!("a{}", "b".repeat(64)),
    ] {
        let e = check_claim_name(bad).unwrap_err();
        assert!(e.contains("[a-z][a-z0-9_]"), "{bad}: {e}");
    }
}

#[tokio::test]
async fn the_queue_pages_by_key_and_filters() {
    let (s, _d) = world().await;
    let list = [
        suggestion("tam", "u1", LinkMethod::Email, true),
        suggestion("nam", "u2", LinkMethod::Name, false),
        suggestion("huong", "u3", LinkMethod::Phone, true),
        suggestion("huong", "u1", LinkMethod::Name, false),
    ];
    s.replace_suggestions("onewin", &list, T).await.unwrap();
    let all = QueueFilter::default();
    let p1 = queue(&s, &all, None, 2).await.unwrap();
    let names: Vec<_> = p1
        .iter()
        .map(|r| (r.username.as_str(), r.user_id.as_str()))
        .collect();
    assert_eq!(names, [("huong", "u1"), ("huong", "u3")]);
    let p2 = queue(&s, &all, Some(&p1[1].key()), 2).await.unwrap();
    let names: Vec<_> = p2.iter().map(|r| r.username.as_str()).collect();
    assert_eq!(names, ["nam", "tam"]);
    assert_eq!(p2[1].person_email, email("tamtt"));
    let exact = QueueFilter {
        exact_only: true,
        ..QueueFilter::default()
    };
    assert_eq!(queue(&s, &exact, None, 50).await.unwrap().len(), 2);
    let unit = QueueFilter {
        unit: Some("Sở Tài chính".into()),
        ..QueueFilter::default()
    };
    assert_eq!(queue(&s, &unit, None, 50).await.unwrap()[0].username, "nam");
    let reason = QueueFilter {
        reason: Some(LinkMethod::Phone),
        app: Some("onewin".into()),
        ..QueueFilter::default()
    };
    assert_eq!(queue(&s, &reason, None, 50).await.unwrap().len(), 1);
    // Wildcards in a search are taken literally.
    assert!(search(&s, "%", None, None).await.unwrap().people.is_empty());
    let found = search(&s, "=cmd", Some("onewin"), None).await.unwrap();
    assert_eq!(found.accounts.len(), 1);
    assert_eq!(
        search(&s, "tamtt", None, Some("Sở Tài chính"))
            .await
            .unwrap()
            .people
            .len(),
        0
    );
}

#[tokio::test]
async fn search_ignores_diacritics_and_requests_offer_only_unlinked_active_accounts() {
    let (s, _dir) = world().await;
    let u = crate::store::ProfileChange {
        name: Some("Nguyễn Văn Hùng".into()),
        ..Default::default()
    };
    s.update_profile(&UserId::from("u2"), &u, T).await.unwrap();
    let found = search(&s, "nguyen van", None, None).await.unwrap();
    assert_eq!(found.people.len(), 1, "\"nguyen\" finds \"Nguyễn\"");
    assert_eq!(found.people[0].email, email("namvv"));
    add(&s, &Actor::cli(), &email("tamtt"), "onewin", "tam", None, T)
        .await
        .unwrap();
    let free = unlinked_accounts(&s, "onewin", "").await.unwrap();
    let names: Vec<_> = free.iter().map(|a| a.username.as_str()).collect();
    assert_eq!(names, ["=cmd|calc", "huong", "nam"], "not tam, not old");
    let free = unlinked_accounts(&s, "onewin", "NAME H").await.unwrap();
    assert_eq!(free.len(), 1);
}

#[tokio::test]
async fn accepting_all_exact_skips_people_disabled_and_accounts_gone_since_matching() {
    let (s, _d) = world().await;
    let cli = Actor::cli();
    let list = [
        suggestion("tam", "u1", LinkMethod::Email, true),
        suggestion("nam", "u2", LinkMethod::Email, true),
        suggestion("old", "u3", LinkMethod::Phone, true),
    ];
    s.replace_suggestions("onewin", &list, T).await.unwrap();
    // Nam left after matching ran; "old" was inactive all along.
    s.set_user_disabled(&"u2".into(), Some(T), T).await.unwrap();
    let r = accept_all_exact(&s, &cli, "onewin", None, T).await.unwrap();
    assert_eq!(r.linked_total(), 1);
    assert!(s.link("onewin", "tam").await.unwrap().is_some());
    assert!(s.link("onewin", "nam").await.unwrap().is_none());
    assert!(s.link("onewin", "old").await.unwrap().is_none());
}

#[test]
fn an_exact_match_for_a_person_who_owns_an_account_already_is_a_conflict() {
    let owners: HashSet<UserId> = [UserId::from("u3")].into();
    let exact = [
        ("old".to_owned(), UserId::from("u3"), LinkMethod::Email),
        ("tam".to_owned(), UserId::from("u1"), LinkMethod::Email),
    ];
    let (plan, conflicts) = super::suggest::plan_exact(&exact, &owners);
    assert_eq!(conflicts, 1);
    assert_eq!(plan, vec![exact[1].clone()]);
}

#[tokio::test]
async fn nobody_links_an_account_to_themselves() {
    let (s, _d) = world().await;
    let me = Actor::person(&"u1".into());
    let e = add(&s, &me, &email("tamtt"), "onewin", "tam", None, T)
        .await
        .unwrap_err();
    assert!(matches!(e, LinkError::SelfLink), "{e}");
    let list = [suggestion("tam", "u1", LinkMethod::Email, true)];
    s.replace_suggestions("onewin", &list, T).await.unwrap();
    let e = accept(&s, &me, "onewin", "tam", &"u1".into(), None, T)
        .await
        .unwrap_err();
    assert!(matches!(e, LinkError::SelfLink), "{e}");
    // Another administrator may.
    accept(
        &s,
        &Actor::person(&"u3".into()),
        "onewin",
        "tam",
        &"u1".into(),
        None,
        T,
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn an_import_with_a_text_direction_override_is_refused() {
    let (s, _d) = world().await;
    let spoof = vec![LegacyAccount {
        username: "tam2".into(),
        display_name: "Trương \u{202e}mâT".into(),
        email: None,
        phone: None,
        unit: None,
        active: true,
    }];
    let e = import_accounts(&s, &Actor::cli(), "onewin", &spoof, T)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("text-direction"), "{e}");
    assert!(s.legacy_account("onewin", "tam2").await.unwrap().is_none());
}

#[tokio::test]
async fn a_unit_admin_cannot_give_their_person_an_account_that_carries_someone_elses_address() {
    let (s, _d) = world().await;
    let namvv_account = vec![LegacyAccount {
        username: "x".into(),
        display_name: "Vũ Văn Nam".into(),
        email: Some("NamVV@binhphuoc.gov.vn".into()),
        phone: None,
        unit: None,
        active: true,
    }];
    import_accounts(&s, &Actor::cli(), "ioffice", &namvv_account, T)
        .await
        .unwrap();
    let ua = Actor::person(&"u1".into());
    let e = add(
        &s,
        &ua,
        &email("huonglt"),
        "ioffice",
        "x",
        Some("Sở Nội vụ"),
        T,
    )
    .await
    .unwrap_err();
    assert!(
        e.to_string().contains("another person's official e-mail"),
        "{e}"
    );
    // A super administrator (no unit scope) may, deliberately.
    add(&s, &ua, &email("huonglt"), "ioffice", "x", None, T)
        .await
        .unwrap();
}
