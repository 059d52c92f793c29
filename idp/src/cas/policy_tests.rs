//! The CAS policy on the in-process IdP: who proxy tickets may be issued
//! for, how long a PGT is worth anything, services that need a second
//! factor, and single logout when a session ends by a new sign-in or while
//! a ticket is being validated.

use std::sync::Arc;

use super::login::{self, LoginRequest, Step};
use super::proxy::{self, ProxyRequest};
use super::response::Code;
use super::tickets::{self, Granting, Kind, Ticket};
use super::validate::{self, Endpoint, ValidateRequest};
use crate::auth::session::{self, SsoSession};
use crate::ids::UserId;
use crate::store::{CasService, SessionRow};
use crate::testing::{TestIdp, param};

fn service(id: &str, pattern: &str) -> CasService {
    CasService {
        id: id.into(),
        name: id.into(),
        pattern: pattern.into(),
        exact: false,
        attributes: vec!["email".into()],
        logout_url: Some(format!("{pattern}/slo")),
        allow_proxy: false,
        accept_proxy: false,
        require_mfa: false,
        app_id: None,
        created_at: 1,
    }
}

async fn setup(services: &[CasService]) -> (TestIdp, UserId) {
    setup_with(&[], services).await
}

async fn setup_with(env: &[(&str, &str)], services: &[CasService]) -> (TestIdp, UserId) {
    let t = TestIdp::with(env).await;
    let uid = UserId::from(t.add_person("tamtt").await);
    for s in services {
        t.idp.store.create_cas_service(s).await.unwrap();
    }
    (t, uid)
}

/// A PGT delivered to `service_id` in `sess`.
async fn pgt(t: &TestIdp, sess: &SsoSession, service_id: &str, chain: usize) -> String {
    let g = Granting {
        service_id: service_id.into(),
        user_id: sess.user_id.clone(),
        sid: sess.sid.clone(),
        auth_time: sess.auth_time,
        acr: sess.acr.clone(),
        amr: sess.amr.clone(),
        proxies: (0..chain)
            .map(|i| format!("https://cong.binhphuoc.gov.vn/pgt{i}"))
            .collect(),
    };
    // Kept in the cache as long as a session may live, as `proxy::callback` does.
    let ttl = t.idp.config.session.absolute_timeout_secs;
    tickets::grant(&t.idp.cache, &g, ttl).await.unwrap()
}

async fn proxy_for(t: &TestIdp, pgt: &str, target: &str) -> Result<String, Code> {
    let req = ProxyRequest {
        pgt: Some(pgt.into()),
        target_service: Some(target.into()),
        format: None,
    };
    proxy::proxy(&t.idp, &req, t.now())
        .await
        .map_err(|f| f.code)
}

fn proxies() -> Vec<CasService> {
    vec![
        CasService {
            allow_proxy: true,
            ..service("cong", "https://cong.binhphuoc.gov.vn")
        },
        service("vanban", "https://vanban.binhphuoc.gov.vn"),
        CasService {
            accept_proxy: true,
            ..service("lich", "https://lich.binhphuoc.gov.vn")
        },
    ]
}

/// A service allowed to proxy gets proxy tickets only for services that
/// accept them, only while it may still proxy, each one audited; a PGT is
/// not delivered to a sixth proxy in a chain.
#[tokio::test]
async fn proxy_tickets_only_for_targets_that_accept_them() {
    let (t, uid) = setup(&proxies()).await;
    let (_, sess) = t.sign_in(&uid).await;
    let g = pgt(&t, &sess, "cong", 1).await;
    assert_eq!(
        proxy_for(&t, &g, "https://vanban.binhphuoc.gov.vn/app").await,
        Err(Code::UnauthorizedService),
        "a service that does not accept proxy tickets"
    );
    let pt = proxy_for(&t, &g, "https://lich.binhphuoc.gov.vn/app")
        .await
        .unwrap();
    assert!(pt.starts_with("PT-"));
    let audit = t.idp.store.recent_audit(20).await.unwrap();
    let issued: Vec<_> = audit
        .iter()
        .filter(|e| e.kind == "cas.proxy_ticket_issued")
        .collect();
    assert_eq!(issued.len(), 1, "{audit:?}");
    assert_eq!(issued[0].client_id.as_deref(), Some("cas:lich"));
    let detail = issued[0].detail.as_deref().unwrap();
    assert!(
        detail.contains("by cas:cong") && detail.contains("https://lich.binhphuoc.gov.vn/app"),
        "{detail}"
    );

    // The service holding the PGT loses its permission: nothing more.
    t.idp.store.delete_cas_service("cong").await.unwrap();
    t.idp
        .store
        .create_cas_service(&service("cong", "https://cong.binhphuoc.gov.vn"))
        .await
        .unwrap();
    assert_eq!(
        proxy_for(&t, &g, "https://lich.binhphuoc.gov.vn/app").await,
        Err(Code::UnauthorizedServiceProxy)
    );
    // A PGT of another service (an older one without its service): nothing.
    let g = pgt(&t, &sess, "", 1).await;
    assert_eq!(
        proxy_for(&t, &g, "https://lich.binhphuoc.gov.vn/app").await,
        Err(Code::UnauthorizedServiceProxy)
    );
}

#[tokio::test]
async fn a_proxy_chain_stops_at_five() {
    let (t, uid) = setup(&proxies()).await;
    let (_, sess) = t.sign_in(&uid).await;
    let cong = t.idp.store.cas_service("cong").await.unwrap().unwrap();
    let pt = |n: usize| Ticket {
        kind: Kind::Proxy,
        service: "https://cong.binhphuoc.gov.vn/app".into(),
        service_id: "cong".into(),
        user_id: uid.clone(),
        sid: sess.sid.clone(),
        auth_time: sess.auth_time,
        acr: "1".into(),
        amr: vec!["pwd".into()],
        fresh: false,
        proxies: (0..n).map(|i| format!("https://p{i}.gov.vn/pgt")).collect(),
        expires_at: t.now() + 60,
    };
    let f = proxy::callback(
        &t.idp,
        "https://cong.binhphuoc.gov.vn/pgt",
        &pt(super::MAX_PROXY_CHAIN),
        &cong,
        t.now(),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert_eq!(f.code, Code::UnauthorizedServiceProxy);
    assert!(f.description.contains('5'), "{}", f.description);
    // A PGT standing at the end of too long a chain (made before the cap) yields nothing.
    let g = pgt(&t, &sess, "cong", super::MAX_PROXY_CHAIN + 1).await;
    assert_eq!(
        proxy_for(&t, &g, "https://lich.binhphuoc.gov.vn/app").await,
        Err(Code::UnauthorizedServiceProxy)
    );
    let g = pgt(&t, &sess, "cong", super::MAX_PROXY_CHAIN).await;
    assert!(
        proxy_for(&t, &g, "https://lich.binhphuoc.gov.vn/app")
            .await
            .is_ok()
    );
}

/// A PGT is worth something only while its session lives: not once the
/// session is idle past its timeout, nor past its absolute lifetime, though
/// nobody signed out.
#[tokio::test]
async fn a_pgt_dies_with_its_sessions_idle_and_absolute_timeouts() {
    let (t, uid) = setup(&proxies()).await;
    let lich = "https://lich.binhphuoc.gov.vn/app";
    let cfg = t.idp.config.session.clone();

    let (_, idle) = t.sign_in(&uid).await;
    let g = pgt(&t, &idle, "cong", 1).await;
    assert!(proxy_for(&t, &g, lich).await.is_ok());
    t.advance(cfg.idle_timeout_secs + 1);
    assert_eq!(proxy_for(&t, &g, lich).await, Err(Code::InvalidTicket));

    // In use at the portal all along, but past the absolute lifetime.
    let (cookie, old) = t.sign_in(&uid).await;
    let g = pgt(&t, &old, "cong", 1).await;
    let step = cfg.idle_timeout_secs / 2;
    let mut lived = 0;
    while lived + step < cfg.absolute_timeout_secs {
        t.advance(step);
        lived += step;
        assert!(
            session::load(&t.idp.cache, &cfg, &cookie, t.now())
                .await
                .unwrap()
                .is_some()
        );
        assert!(proxy_for(&t, &g, lich).await.is_ok(), "alive at {lived}");
    }
    t.advance(cfg.absolute_timeout_secs - lived);
    assert_eq!(proxy_for(&t, &g, lich).await, Err(Code::InvalidTicket));
}

/// A session with acr `2`, as after a second factor.
async fn sign_in_with_factor(t: &TestIdp, uid: &UserId) -> (String, SsoSession) {
    let cfg = &t.idp.config.session;
    let amr = vec!["pwd".into(), "otp".into(), "mfa".into()];
    let (cookie, sess) = session::create(&t.idp.cache, cfg, uid, amr, "2", t.now())
        .await
        .unwrap();
    t.idp
        .store
        .record_session(&SessionRow {
            sid: sess.sid.clone(),
            user_id: uid.clone(),
            key_hash: session::key_hash(&cookie),
            created_at: t.now(),
            ip: None,
            user_agent: None,
            ended_at: None,
        })
        .await
        .unwrap();
    (cookie, sess)
}

fn login_req(service: &str) -> LoginRequest {
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

/// `--require-mfa`: a sign-in for the service asks for a second factor; a
/// session without one steps up (gateway goes back without asking); a
/// ticket of a password-only sign-in is refused at validation; p3 says how
/// the person signed in.
#[tokio::test]
async fn a_service_that_requires_a_second_factor_steps_the_session_up() {
    let app = "https://hs.binhphuoc.gov.vn/app";
    let (t, uid) = setup(&[CasService {
        require_mfa: true,
        ..service("hoso", "https://hs.binhphuoc.gov.vn")
    }])
    .await;

    // No session: the sign-in form, with the second factor required.
    let Step::Login { req_id } = login::start(&t.idp, login_req(app), None, t.now())
        .await
        .unwrap()
    else {
        panic!("the sign-in form")
    };
    let p = crate::portal::login::pending(&t.idp, &req_id)
        .await
        .unwrap()
        .unwrap();
    assert!(p.need_mfa);

    // A password-only session: a step-up of that session, then the ticket.
    let (_, pwd) = t.sign_in(&uid).await;
    let Step::SecondFactor { token } = login::start(&t.idp, login_req(app), Some(&pwd), t.now())
        .await
        .unwrap()
    else {
        panic!("a step-up")
    };
    let half: crate::auth::mfa::Half = t
        .idp
        .cache
        .get_json(&crate::cache::keys::half(&token))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(half.step_up.as_deref(), Some(pwd.sid.as_str()));
    let req = half.req.unwrap();
    let p = crate::portal::login::pending(&t.idp, &req)
        .await
        .unwrap()
        .unwrap();
    assert!(p.need_mfa && p.cas.is_some());
    // Had the second step not raised the session (a factor only enrolled), no ticket.
    let back = login::resume(&t.idp, p.cas.as_ref().unwrap(), &pwd, t.now())
        .await
        .unwrap();
    assert!(back.starts_with("/cas/login?service="), "{back}");
    let mut gw = login_req(app);
    gw.gateway = Some("true".into());
    assert_eq!(
        login::start(&t.idp, gw, Some(&pwd), t.now()).await.unwrap(),
        Step::Redirect(app.into())
    );
    // A ticket issued to a password-only session anyway (one made before the
    // flag was set): refused.
    let svc = t.idp.store.cas_service("hoso").await.unwrap().unwrap();
    let to = login::issue(&t.idp, &svc, app, &pwd, false, t.now())
        .await
        .unwrap();
    let st = param(&to, "ticket").unwrap();
    let f = validate::validate(
        &t.idp,
        &check(app, &st),
        Endpoint::Service,
        true,
        None,
        t.now(),
    )
    .await
    .unwrap_err();
    assert_eq!(f.code, Code::InvalidTicket);

    // With a second factor: a ticket at once, and p3 says so.
    let (_, mfa) = sign_in_with_factor(&t, &uid).await;
    let Step::Redirect(to) = login::start(&t.idp, login_req(app), Some(&mfa), t.now())
        .await
        .unwrap()
    else {
        panic!("a ticket")
    };
    let st = param(&to, "ticket").unwrap();
    let ok = validate::validate(
        &t.idp,
        &check(app, &st),
        Endpoint::Service,
        true,
        None,
        t.now(),
    )
    .await
    .unwrap();
    let attr = |k: &str| -> Vec<&str> {
        ok.attributes
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    assert_eq!(attr("acr"), ["2"]);
    assert_eq!(attr("amr"), ["pwd", "otp", "mfa"]);
}

/// A password-only sign-in says `acr` 1 and `amr` pwd at p3.
#[tokio::test]
async fn p3_says_how_the_person_signed_in() {
    let app = "https://vanban.binhphuoc.gov.vn/app";
    let (t, uid) = setup(&[service("vanban", "https://vanban.binhphuoc.gov.vn")]).await;
    let (_, sess) = t.sign_in(&uid).await;
    let Step::Redirect(to) = login::start(&t.idp, login_req(app), Some(&sess), t.now())
        .await
        .unwrap()
    else {
        panic!("a ticket")
    };
    let st = param(&to, "ticket").unwrap();
    let ok = validate::validate(
        &t.idp,
        &check(app, &st),
        Endpoint::Service,
        true,
        None,
        t.now(),
    )
    .await
    .unwrap();
    assert!(ok.attributes.contains(&("acr".into(), "1".into())));
    assert!(ok.attributes.contains(&("amr".into(), "pwd".into())));
}

/// A new sign-in in a browser that had a session ends the old one like a
/// sign-out: the CAS services that validated a ticket in it are sent their
/// single logout.
#[tokio::test]
async fn a_new_sign_in_over_a_session_sends_its_single_logout() {
    let app = "https://vanban.binhphuoc.gov.vn/app";
    let (t, uid) = setup(&[service("vanban", "https://vanban.binhphuoc.gov.vn")]).await;
    let (cookie, old) = t.sign_in(&uid).await;
    let Step::Redirect(to) = login::start(&t.idp, login_req(app), Some(&old), t.now())
        .await
        .unwrap()
    else {
        panic!("a ticket")
    };
    let st = param(&to, "ticket").unwrap();
    validate::validate(
        &t.idp,
        &check(app, &st),
        Endpoint::Service,
        false,
        None,
        t.now(),
    )
    .await
    .unwrap();
    let user = t.idp.store.user_by_id(&uid).await.unwrap().unwrap();
    let done = crate::portal::login::finish(
        &t.idp,
        crate::portal::login::Done {
            user: &user,
            req: None,
            amr: vec!["pwd".into()],
            old_cookie: Some(&cookie),
            device: None,
            ip: None,
            user_agent: None,
            request_id: "r1".into(),
        },
        t.now(),
    )
    .await
    .unwrap();
    assert!(matches!(
        done,
        crate::portal::login::LoginResult::SignedIn { .. }
    ));
    let due = t.idp.store.due(t.now(), 10).await.unwrap();
    assert!(
        due.iter()
            .any(|i| i.kind == "cas_logout" && i.target.ends_with("/slo")),
        "{due:?}"
    );
    assert!(session::has_ended(&t.idp.cache, &old.sid).await.unwrap());
    let row = t.idp.store.session_by_sid(&old.sid).await.unwrap().unwrap();
    assert!(row.ended_at.is_some());
}

/// The session ends while the ticket is being validated (here: during the
/// proxy callback, after the first liveness check): the validation is
/// refused and no CAS session stays recorded for a session the IdP ended.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_out_during_validation_leaves_no_service_signed_in() {
    use axum::extract::State;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (t, uid) = setup_with(
        &[("IDP_CAS__ALLOW_HTTP_PROXY_CALLBACK_ON_LOOPBACK", "true")],
        &[CasService {
            allow_proxy: true,
            ..service("docs", &base)
        }],
    )
    .await;
    let t = Arc::new(t);
    let (cookie, sess) = t.sign_in(&uid).await;

    // The app's proxy callback: the person signs out at the portal just then.
    async fn callback(State((t, cookie)): State<(Arc<TestIdp>, String)>) -> &'static str {
        crate::oidc::logout::sign_out(&t.idp, &cookie, None, None, t.now())
            .await
            .unwrap();
        "ok"
    }
    let router = axum::Router::new()
        .route("/pgt", axum::routing::get(callback))
        .with_state((Arc::clone(&t), cookie));
    tokio::spawn(async move { axum::serve(listener, router).await });

    let app = format!("{base}/app");
    let Step::Redirect(to) = login::start(&t.idp, login_req(&app), Some(&sess), t.now())
        .await
        .unwrap()
    else {
        panic!("a ticket")
    };
    let st = param(&to, "ticket").unwrap();
    let req = ValidateRequest {
        pgt_url: Some(format!("{base}/pgt")),
        ..check(&app, &st)
    };
    let r = validate::validate(&t.idp, &req, Endpoint::Service, false, None, t.now()).await;
    assert!(session::has_ended(&t.idp.cache, &sess.sid).await.unwrap());
    assert_eq!(r.unwrap_err().code, Code::InvalidTicket);
    assert!(
        t.idp
            .store
            .take_cas_sessions(&sess.sid)
            .await
            .unwrap()
            .is_empty(),
        "a service recorded in an ended session would never hear of its end"
    );
}
