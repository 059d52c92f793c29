//! `start`: the redirect URI matches exactly before anything is sent to it,
//! PKCE is S256 and required, and a live session gets a code at once.

use super::{request, signed_in};
use crate::oidc::authorize::{Step, start};
use crate::refusal::Refusal;
use crate::testing::{param, pkce};

#[tokio::test]
async fn only_the_exact_registered_redirect_uri_gets_an_answer() {
    let (t, sess, _, _) = signed_in("vanban").await;
    let (_, challenge) = pkce();
    for near in [
        "https://vanban.binhphuoc.gov.vn/cb/",
        "https://vanban.binhphuoc.gov.vn/cb?x=1",
        "https://VANBAN.binhphuoc.gov.vn/cb",
        "http://vanban.binhphuoc.gov.vn/cb",
        "https://vanban.binhphuoc.gov.vn/c",
    ] {
        let mut req = request("vanban", &challenge);
        req.redirect_uri = Some(near.into());
        let step = start(&t.idp, req, Some(&sess), t.now()).await.unwrap();
        // No redirect on error: the redirect URI is not the registered one.
        assert!(
            matches!(step, Step::Refuse(Refusal::BadRedirectUri)),
            "{near}: {step:?}"
        );
    }
    let step = start(&t.idp, request("vanban", &challenge), Some(&sess), t.now())
        .await
        .unwrap();
    let Step::Redirect(to) = step else {
        panic!("{step:?}")
    };
    assert!(to.starts_with("https://vanban.binhphuoc.gov.vn/cb?"));
    assert!(param(&to, "code").is_some());
    assert_eq!(param(&to, "state").as_deref(), Some("st-1"));
    assert_eq!(param(&to, "iss").as_deref(), Some(t.idp.config.issuer()));
}

#[tokio::test]
async fn pkce_is_required_and_only_s256() {
    let (t, sess, _, _) = signed_in("vanban").await;
    let (_, challenge) = pkce();
    let cases: [(Option<&str>, Option<&str>); 4] = [
        (None, None),
        (Some(challenge.as_str()), Some("plain")),
        (Some(challenge.as_str()), None),
        (Some("short"), Some("S256")),
    ];
    for (c, m) in cases {
        let mut req = request("vanban", &challenge);
        req.code_challenge = c.map(str::to_owned);
        req.code_challenge_method = m.map(str::to_owned);
        let step = start(&t.idp, req, Some(&sess), t.now()).await.unwrap();
        let Step::Redirect(to) = step else {
            panic!("{c:?} {m:?}: {step:?}")
        };
        assert_eq!(
            param(&to, "error").as_deref(),
            Some("invalid_request"),
            "{c:?} {m:?}"
        );
        assert!(param(&to, "code").is_none());
    }
}

#[tokio::test]
async fn without_a_session_the_person_signs_in_first() {
    let (t, _, _, _) = signed_in("vanban").await;
    let (_, challenge) = pkce();
    let step = start(&t.idp, request("vanban", &challenge), None, t.now())
        .await
        .unwrap();
    assert!(matches!(step, Step::Login { .. }), "{step:?}");
}

#[tokio::test]
async fn max_age_asks_again_once_the_sign_in_is_older() {
    let (t, sess, _, _) = signed_in("vanban").await;
    let (_, challenge) = pkce();
    let with_max_age = |m: &str| {
        let mut req = request("vanban", &challenge);
        req.max_age = Some(m.into());
        req
    };
    t.advance(30);
    let step = start(&t.idp, with_max_age("30"), Some(&sess), t.now())
        .await
        .unwrap();
    assert!(matches!(step, Step::Redirect(_)), "30 s old: {step:?}");
    t.advance(1);
    let step = start(&t.idp, with_max_age("30"), Some(&sess), t.now())
        .await
        .unwrap();
    assert!(matches!(step, Step::Login { .. }), "31 s old: {step:?}");
    let step = start(&t.idp, with_max_age("0"), Some(&sess), t.now())
        .await
        .unwrap();
    assert!(matches!(step, Step::Login { .. }), "max_age=0: {step:?}");
}
