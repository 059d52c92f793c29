//! Single sign-on and single logout with the demo apps of `examples/`: two
//! real relying parties opened from the portal's tiles with one sign-in,
//! and signed out together from the portal or from either app.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::browser::{Browser, hidden, location};
use crate::harness::{Backends, Idp, PASSWORD, free_port};

pub struct DemoApp {
    pub base: String,
    child: Child,
}

impl Drop for DemoApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How a demo app hears of a sign-out.
#[derive(Clone, Copy)]
pub enum Channel {
    Back,
    Front,
}

/// Registers `id` with the IdP (client and tile) and starts a demo app for it.
pub fn demo_app(idp: &Idp, id: &str, name: &str, channel: Channel) -> DemoApp {
    demo_app_with(idp, id, name, channel, &[])
}

/// [`demo_app`], with more `idp app add` flags for its tile.
pub fn demo_app_with(
    idp: &Idp,
    id: &str,
    name: &str,
    channel: Channel,
    app_flags: &[&str],
) -> DemoApp {
    start(idp, id, name, channel, app_flags, None)
}

/// A demo document app (`examples/src/documents.rs`) whose outgoing
/// document is `pdf`, registered for the signing API (`--scope sign`).
pub fn demo_document_app(idp: &Idp, id: &str, name: &str, pdf: &std::path::Path) -> DemoApp {
    start(idp, id, name, Channel::Back, &[], Some(pdf))
}

fn start(
    idp: &Idp,
    id: &str,
    name: &str,
    channel: Channel,
    app_flags: &[&str],
    document: Option<&std::path::Path>,
) -> DemoApp {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let sign: &[&str] = if document.is_some() {
        &["--scope", "sign"]
    } else {
        &[]
    };
    let secret = idp.add_client(
        id,
        &format!("{base}/oidc/callback"),
        &[
            sign,
            &[
                "--post-logout-redirect-uri",
                &format!("{base}/"),
                match channel {
                    Channel::Back => "--backchannel-logout-uri",
                    Channel::Front => "--frontchannel-logout-uri",
                },
                &match channel {
                    Channel::Back => format!("{base}/oidc/backchannel-logout"),
                    Channel::Front => format!("{base}/oidc/frontchannel-logout"),
                },
                "--initiate-login-uri",
                &format!("{base}/oidc/initiate"),
            ],
        ]
        .concat(),
    );
    let url = format!("{base}/");
    let mut args = vec![
        "app", "add", id, "--name", name, "--url", &url, "--client", id,
    ];
    args.extend_from_slice(app_flags);
    idp.cli_ok(&args, None);
    let bin = crate::harness::idp_bin().with_file_name("demo-rp");
    let mut cmd = Command::new(&bin);
    if let Some(pdf) = document {
        cmd.env("DEMO_DOCUMENT", pdf);
    }
    let child = cmd
        .env("DEMO_NAME", name)
        .env("DEMO_LISTEN", format!("127.0.0.1:{port}"))
        .env("DEMO_ISSUER", &idp.base)
        .env("DEMO_CLIENT_ID", id)
        .env("DEMO_CLIENT_SECRET", secret)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e} (cargo build -p demo-apps)", bin.display()));
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "demo app did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    DemoApp { base, child }
}

/// Follows redirects like a browser; returns the final URL and every URL on the way.
pub async fn follow(browser: &Browser, start: &str) -> (String, Vec<String>) {
    let mut url = url::Url::parse(start).unwrap();
    let mut seen = vec![url.to_string()];
    for _ in 0..10 {
        let r = browser.get(url.as_str()).await;
        if r.status() != StatusCode::SEE_OTHER {
            assert_eq!(r.status(), StatusCode::OK, "{url}");
            return (url.to_string(), seen);
        }
        url = url.join(r.headers()["location"].to_str().unwrap()).unwrap();
        seen.push(url.to_string());
    }
    panic!("too many redirects: {seen:?}");
}

pub async fn whoami(browser: &Browser, app: &DemoApp) -> Value {
    browser
        .get(&format!("{}/whoami", app.base))
        .await
        .json()
        .await
        .unwrap()
}

async fn until_signed_out(browser: &Browser, app: &DemoApp) {
    let start = Instant::now();
    while whoami(browser, app).await["signed_in"] == true {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{} still signed in",
            app.base
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn one_sign_in_opens_both_apps_and_one_sign_out_closes_both() {
    let idp = Idp::spawn(&Backends::default());
    idp.add_person();
    let docs = demo_app(&idp, "vanban", "Quản lý văn bản", Channel::Back);
    let meet = demo_app(&idp, "phonghop", "Phòng họp không giấy", Channel::Back);
    let browser = Browser::new();

    for round in ["sign out at the portal", "sign out in an app"] {
        // Sign in once, at the portal.
        let r = browser
            .submit_login(&idp.base, &idp.url("/"), "tamtt", PASSWORD)
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{round}");
        // Both tiles open their app without a second sign-in.
        for app in [&docs, &meet] {
            let (end, path) = follow(
                &browser,
                &idp.url(&format!(
                    "/launch/{}",
                    if app.base == docs.base {
                        "vanban"
                    } else {
                        "phonghop"
                    }
                )),
            )
            .await;
            assert_eq!(end, format!("{}/", app.base), "{round}: {path:?}");
            assert!(
                path.iter().all(|u| !u.contains("/login?")),
                "no second sign-in: {path:?}"
            );
            let me = whoami(&browser, app).await;
            assert_eq!(me["signed_in"], true);
            assert_eq!(me["name"], "Trương Thanh Tâm");
            assert_eq!(me["email"], "tamtt@binhphuoc.gov.vn");
        }

        if round == "sign out at the portal" {
            let portal = browser.get(&idp.url("/")).await.text().await.unwrap();
            let csrf = hidden(&portal, "csrf").unwrap();
            let r = browser
                .http
                .post(idp.url("/logout"))
                .form(&[("csrf", csrf)])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::SEE_OTHER);
            let progress = browser.get(&idp.url(&location(&r))).await;
            assert_eq!(progress.status(), StatusCode::OK);
            let page = progress.text().await.unwrap();
            assert!(page.contains("Quản lý văn bản") && page.contains("Phòng họp không giấy"));
        } else {
            // The document app's own sign-out goes through the IdP and comes back home.
            let (end, _) = follow(&browser, &format!("{}/logout", docs.base)).await;
            assert_eq!(end.split('?').next().unwrap(), format!("{}/", docs.base));
        }
        // Both apps are told over the back channel; the portal shows the form again.
        until_signed_out(&browser, &docs).await;
        until_signed_out(&browser, &meet).await;
        let portal = browser.get(&idp.url("/")).await.text().await.unwrap();
        assert!(
            portal.contains(r#"name="password""#),
            "{round}: signed out at the IdP too"
        );
    }
}
