//! Single logout over the back channel (OIDC Back-Channel Logout 1.0): one
//! sign-out reaches every app of the session, with a signed logout token,
//! and an app that is down at that moment still gets it when it is back.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Form, State};
use axum::routing::post;
use reqwest::StatusCode;
use serde_json::Value;

use crate::browser::{Browser, authorize_url, location, param, pkce};
use crate::harness::{Backends, Idp, PASSWORD};
use crate::oidc_flow::rp_http;

/// An app's back-channel endpoint that records logout tokens, refusing the
/// first `refuse` deliveries with 503 as an app would while restarting.
#[derive(Clone, Default)]
struct App {
    tokens: Arc<Mutex<Vec<String>>>,
    refuse: Arc<Mutex<u32>>,
}

async fn receive(
    State(app): State<App>,
    Form(f): Form<HashMap<String, String>>,
) -> axum::http::StatusCode {
    let mut refuse = app.refuse.lock().unwrap();
    if *refuse > 0 {
        *refuse -= 1;
        return axum::http::StatusCode::SERVICE_UNAVAILABLE;
    }
    app.tokens
        .lock()
        .unwrap()
        .push(f.get("logout_token").cloned().unwrap_or_default());
    axum::http::StatusCode::OK
}

async fn start_app(refuse: u32) -> (String, App) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/bcl", listener.local_addr().unwrap());
    let app = App {
        refuse: Arc::new(Mutex::new(refuse)),
        ..App::default()
    };
    let router = axum::Router::new()
        .route("/bcl", post(receive))
        .with_state(app.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, app)
}

async fn wait_for_token(app: &App, within: Duration) -> String {
    let start = Instant::now();
    loop {
        if let Some(t) = app.tokens.lock().unwrap().first().cloned() {
            return t;
        }
        assert!(
            start.elapsed() < within,
            "no logout token within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Signs the browser in to `client` and returns the ID token's claims.
async fn sign_in(
    idp: &Idp,
    browser: &Browser,
    client: &str,
    secret: &str,
    redirect: &str,
) -> (String, Value) {
    let (verifier, challenge) = pkce();
    let url = authorize_url(
        &idp.base,
        client,
        redirect,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let back = browser
        .sign_in_via(&idp.base, &url, "tamtt", PASSWORD)
        .await;
    let code = param(&back, "code").unwrap();
    let t: Value = rp_http()
        .post(idp.url("/token"))
        .basic_auth(client, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id_token = t["id_token"].as_str().unwrap().to_owned();
    let claims = serde_json::from_slice(
        &idp::crypto::b64_decode(id_token.split('.').nth(1).unwrap()).unwrap(),
    )
    .unwrap();
    (id_token, claims)
}

#[tokio::test]
async fn one_sign_out_reaches_every_app_even_one_that_was_down() {
    let idp = Idp::spawn(&Backends::default());
    idp.add_person();
    let (docs_url, docs) = start_app(0).await;
    let (meet_url, meet) = start_app(2).await; // restarting: refuses twice
    let docs_secret = idp.add_client(
        "vanban",
        "http://127.0.0.1:9/vanban",
        &["--backchannel-logout-uri", &docs_url],
    );
    let meet_secret = idp.add_client(
        "phonghop",
        "http://127.0.0.1:9/phonghop",
        &["--backchannel-logout-uri", &meet_url],
    );
    let quiet_secret = idp.add_client("lich", "http://127.0.0.1:9/lich", &[]);

    let browser = Browser::new();
    let (id_token, claims) = sign_in(
        &idp,
        &browser,
        "vanban",
        &docs_secret,
        "http://127.0.0.1:9/vanban",
    )
    .await;
    let (_, meet_claims) = sign_in(
        &idp,
        &browser,
        "phonghop",
        &meet_secret,
        "http://127.0.0.1:9/phonghop",
    )
    .await;
    sign_in(
        &idp,
        &browser,
        "lich",
        &quiet_secret,
        "http://127.0.0.1:9/lich",
    )
    .await;
    assert_eq!(
        claims["sid"], meet_claims["sid"],
        "one SSO session behind both apps"
    );

    // Sign out from the document app.
    let r = browser
        .get(&format!("{}?id_token_hint={id_token}", idp.url("/logout")))
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "signed out: to the progress page"
    );
    let progress = idp.url(&location(&r));
    assert!(progress.contains("/logout/done/"), "{progress}");

    let keys = idp.signing_keys().await;
    for (app, client, within) in [(&docs, "vanban", 5), (&meet, "phonghop", 20)] {
        let token = wait_for_token(app, Duration::from_secs(within)).await;
        let v = idp::jose::verify(&token, &keys).expect("signed by the IdP");
        assert_eq!(v.header.typ.as_deref(), Some("logout+jwt"));
        let c = v.claims;
        assert_eq!(c["iss"], idp.base.as_str());
        assert_eq!(c["aud"], client);
        assert_eq!(c["sub"], claims["sub"]);
        assert_eq!(c["sid"], claims["sid"]);
        assert!(c["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
        assert!(
            c.get("nonce").is_none(),
            "a logout token never carries a nonce"
        );
        assert!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap() <= 120);
    }

    // The sign-out page follows each app: both back channels end as done
    // (the meeting app after its retries), the app without one says so.
    let start = Instant::now();
    let states = loop {
        let status: Value = browser
            .get(&format!("{progress}/status"))
            .await
            .json()
            .await
            .unwrap();
        let states: HashMap<String, String> = status["apps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["client_id"].as_str().unwrap().to_owned(),
                    a["state"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        if states.get("phonghop").is_some_and(|s| s == "done")
            || start.elapsed() > Duration::from_secs(10)
        {
            break states;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(states["vanban"], "done");
    assert_eq!(states["phonghop"], "done");
    assert_eq!(states["lich"], "unreachable");
    let page = browser.get(&progress).await.text().await.unwrap();
    assert!(page.contains("Bạn đã đăng xuất."));
    assert!(
        page.contains(r#"<li class="done" data-app="vanban">"#),
        "{page}"
    );
    assert!(page.contains("Phiên của ứng dụng sẽ tự hết hạn"));
    assert_eq!(docs.tokens.lock().unwrap().len(), 1, "delivered once");
    assert_eq!(
        *meet.refuse.lock().unwrap(),
        0,
        "the restarting app was retried"
    );

    // The browser is signed out too: a new authorization shows the form.
    let (_, challenge) = pkce();
    let r = browser
        .get(&authorize_url(
            &idp.base,
            "vanban",
            "http://127.0.0.1:9/vanban",
            &[
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        ))
        .await;
    assert!(location(&r).starts_with("/login?req="));
}
