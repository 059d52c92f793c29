//! CAS login and validation on the in-process IdP with a clock the test
//! moves: tickets bound to their service and session, their lifetime,
//! `renew`, a session that ended, a service removed, and single logout
//! queued at sign-out.

use super::login::{self, LoginRequest, Step};
use super::response::Code;
use super::validate::{self, Endpoint, ValidateRequest};
use crate::ids::UserId;
use crate::store::CasService;
use crate::testing::{TestIdp, param};

const SERVICE: &str = "https://vanban.binhphuoc.gov.vn/cas/app";

async fn setup() -> (TestIdp, UserId) {
    let t = TestIdp::new().await;
    let uid = UserId::from(t.add_person("tamtt").await);
    t.idp
        .store
        .create_cas_service(&CasService {
            id: "vanban".into(),
            name: "Văn bản".into(),
            pattern: "https://vanban.binhphuoc.gov.vn/cas".into(),
            exact: false,
            attributes: vec!["email".into(), "name".into(), "unit".into()],
            logout_url: Some("https://vanban.binhphuoc.gov.vn/cas/slo".into()),
            allow_proxy: false,
            accept_proxy: false,
            require_mfa: false,
            app_id: None,
            created_at: t.now(),
        })
        .await
        .unwrap();
    (t, uid)
}

fn req(service: &str) -> LoginRequest {
    LoginRequest {
        service: Some(service.into()),
        ..LoginRequest::default()
    }
}

fn check(service: &str, ticket: &str) -> ValidateRequest {
    ValidateRequest {
        service: Some(service.into()),
        ticket: Some(ticket.into()),
        ..ValidateRequest::default()
    }
}

async fn ticket(t: &TestIdp, sess: &crate::auth::session::SsoSession) -> String {
    match login::start(&t.idp, req(SERVICE), Some(sess), t.now())
        .await
        .unwrap()
    {
        Step::Redirect(to) => param(&to, "ticket").unwrap(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_ticket_lives_a_minute_and_names_its_session() {
    let (t, uid) = setup().await;
    let (cookie, sess) = t.sign_in(&uid).await;
    let st = ticket(&t, &sess).await;
    let ok = validate::validate(
        &t.idp,
        &check(SERVICE, &st),
        Endpoint::Service,
        true,
        None,
        t.now(),
    )
    .await
    .unwrap();
    assert_eq!(ok.user, "tamtt@binhphuoc.gov.vn");
    assert_eq!(
        ok.attributes[0],
        ("email".into(), "tamtt@binhphuoc.gov.vn".into())
    );
    assert_eq!(ok.attributes[1].0, "name");
    assert!(
        ok.attributes.iter().all(|(k, _)| k != "unit"),
        "no unit: none to release"
    );

    // A minute and a second later: expired.
    let late = ticket(&t, &sess).await;
    t.advance(61);
    let f = validate::validate(
        &t.idp,
        &check(SERVICE, &late),
        Endpoint::Service,
        false,
        None,
        t.now(),
    )
    .await
    .unwrap_err();
    assert_eq!(f.code, Code::InvalidTicket);

    // The session ends between issue and validation: refused, and the
    // service that validated a ticket in it is told.
    let st = ticket(&t, &sess).await;
    let out = crate::oidc::logout::sign_out(&t.idp, &cookie, None, None, t.now())
        .await
        .unwrap()
        .unwrap();
    let f = validate::validate(
        &t.idp,
        &check(SERVICE, &st),
        Endpoint::Service,
        false,
        None,
        t.now(),
    )
    .await
    .unwrap_err();
    assert_eq!(f.code, Code::InvalidTicket);
    assert_eq!(out.apps.len(), 1, "{:?}", out.apps);
    assert_eq!(out.apps[0].client_id.as_str(), "cas:vanban");
    assert_eq!(out.apps[0].name, "Văn bản");
    let due = t.idp.store.due(t.now(), 10).await.unwrap();
    assert!(
        due.iter()
            .any(|i| i.kind == "cas_logout" && i.target.ends_with("/cas/slo"))
    );
}

#[tokio::test]
async fn renew_and_gateway_and_unregistered_services() {
    let (t, uid) = setup().await;
    let mut r = req(SERVICE);
    r.gateway = Some("true".into());
    assert_eq!(
        login::start(&t.idp, r, None, t.now()).await.unwrap(),
        Step::Redirect(SERVICE.into())
    );
    let r = req("https://evil.example/cas/app");
    assert_eq!(
        login::start(&t.idp, r, None, t.now()).await.unwrap(),
        Step::Refuse(crate::refusal::Refusal::UnknownService)
    );
    let (_, sess) = t.sign_in(&uid).await;
    let mut r = req(SERVICE);
    r.renew = Some("true".into());
    assert!(matches!(
        login::start(&t.idp, r, Some(&sess), t.now()).await.unwrap(),
        Step::Login { .. }
    ));
    // A single sign-on ticket is not one from primary credentials.
    let st = ticket(&t, &sess).await;
    let mut v = check(SERVICE, &st);
    v.renew = Some("true".into());
    let f = validate::validate(&t.idp, &v, Endpoint::Service, false, None, t.now())
        .await
        .unwrap_err();
    assert_eq!(f.code, Code::InvalidTicket);
    // A service removed after the ticket was issued.
    let st = ticket(&t, &sess).await;
    t.idp.store.delete_cas_service("vanban").await.unwrap();
    let f = validate::validate(
        &t.idp,
        &check(SERVICE, &st),
        Endpoint::Service,
        false,
        None,
        t.now(),
    )
    .await
    .unwrap_err();
    assert_eq!(f.code, Code::InvalidService);
}

fn account(username: &str, active: bool) -> connectors::LegacyAccount {
    connectors::LegacyAccount {
        username: username.into(),
        display_name: format!("Name {username}"),
        email: None,
        phone: None,
        unit: None,
        active,
    }
}

/// `legacy_username` follows the OIDC claim's rule: the linked account is
/// released while the app's last export lists it as active, and left out
/// once the app has retired it (it may give the name to someone else).
#[tokio::test]
async fn a_retired_legacy_account_is_not_released() {
    use crate::admin::Actor;
    use crate::admin::apps::{self, NewApp};
    use crate::admin::links;

    let (t, uid) = setup().await;
    let cli = Actor::cli();
    let app = NewApp {
        app_id: "vanban-app".into(),
        name: "Văn bản".into(),
        url: "https://vanban.binhphuoc.gov.vn/".into(),
        ..NewApp::default()
    };
    apps::add(&t.idp.store, app, &cli, t.now()).await.unwrap();
    t.idp.store.delete_cas_service("vanban").await.unwrap();
    t.idp
        .store
        .create_cas_service(&CasService {
            id: "vanban".into(),
            name: "Văn bản".into(),
            pattern: "https://vanban.binhphuoc.gov.vn/cas".into(),
            exact: false,
            attributes: vec!["email".into(), "legacy_username".into()],
            logout_url: None,
            allow_proxy: false,
            accept_proxy: false,
            require_mfa: false,
            app_id: Some("vanban-app".into()),
            created_at: t.now(),
        })
        .await
        .unwrap();
    let accounts = [account("tam", true), account("old", false)];
    links::import_accounts(&t.idp.store, &cli, "vanban-app", &accounts, t.now())
        .await
        .unwrap();
    let email = crate::ids::Email::parse("tamtt@binhphuoc.gov.vn").unwrap();
    links::add(
        &t.idp.store,
        &cli,
        &email,
        "vanban-app",
        "tam",
        None,
        t.now(),
    )
    .await
    .unwrap();
    let (_, sess) = t.sign_in(&uid).await;
    let legacy = |ok: &super::response::Success| {
        ok.attributes
            .iter()
            .find(|(k, _)| k == "legacy_username")
            .map(|(_, v)| v.clone())
    };

    let st = ticket(&t, &sess).await;
    let ok = validate::validate(
        &t.idp,
        &check(SERVICE, &st),
        Endpoint::Service,
        true,
        None,
        t.now(),
    )
    .await
    .unwrap();
    assert_eq!(legacy(&ok).as_deref(), Some("tam"), "an active account");

    // The next export lists "tam" as inactive: the link stays, the name is not asserted.
    t.advance(1);
    let retired = [account("tam", false), account("old", false)];
    links::import_accounts(&t.idp.store, &cli, "vanban-app", &retired, t.now())
        .await
        .unwrap();
    assert!(
        t.idp
            .store
            .link_of_person("vanban-app", &uid)
            .await
            .unwrap()
            .is_some()
    );
    let st = ticket(&t, &sess).await;
    let ok = validate::validate(
        &t.idp,
        &check(SERVICE, &st),
        Endpoint::Service,
        true,
        None,
        t.now(),
    )
    .await
    .unwrap();
    assert_eq!(legacy(&ok), None, "{:?}", ok.attributes);
    assert_eq!(ok.attributes[0].0, "email");
}

/// A proxy-granting ticket goes only to a service that may proxy itself, at
/// a callback among its own URLs: a ticket of a service without
/// `allow_proxy` gets no PGT by naming a proxy-allowed service's callback,
/// and a proxy-allowed service cannot name another service's callback.
#[tokio::test]
async fn only_the_tickets_own_service_may_receive_a_pgt() {
    let (t, uid) = setup().await;
    t.idp
        .store
        .create_cas_service(&CasService {
            id: "proxy".into(),
            name: "Cổng".into(),
            pattern: "https://cong.binhphuoc.gov.vn/".into(),
            exact: false,
            attributes: vec![],
            logout_url: None,
            allow_proxy: true,
            accept_proxy: false,
            require_mfa: false,
            app_id: None,
            created_at: t.now(),
        })
        .await
        .unwrap();
    let (_, sess) = t.sign_in(&uid).await;
    let with_pgt = |st: &str, service: &str, pgt_url: &str| ValidateRequest {
        pgt_url: Some(pgt_url.into()),
        ..check(service, st)
    };
    // "vanban" may not proxy; the callback is the proxy-allowed service's.
    let st = ticket(&t, &sess).await;
    let f = validate::validate(
        &t.idp,
        &with_pgt(&st, SERVICE, "https://cong.binhphuoc.gov.vn/pgt"),
        Endpoint::Service,
        false,
        None,
        t.now(),
    )
    .await
    .unwrap_err();
    assert_eq!(f.code, Code::UnauthorizedServiceProxy);

    // "cong" may proxy, but not through a callback of "vanban".
    let proxy_service = "https://cong.binhphuoc.gov.vn/app";
    let st = match login::start(&t.idp, req(proxy_service), Some(&sess), t.now())
        .await
        .unwrap()
    {
        Step::Redirect(to) => param(&to, "ticket").unwrap(),
        other => panic!("{other:?}"),
    };
    let f = validate::validate(
        &t.idp,
        &with_pgt(
            &st,
            proxy_service,
            "https://vanban.binhphuoc.gov.vn/cas/pgt",
        ),
        Endpoint::Service,
        false,
        None,
        t.now(),
    )
    .await
    .unwrap_err();
    assert_eq!(f.code, Code::InvalidProxyCallback);
}
