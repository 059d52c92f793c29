//! No secret reaches the log (issue 9, trap 4): the real server runs with
//! every secret set to a recognisable value (the directory's bind password
//! against a real slapd, an SMTP password against a mail server that demands
//! AUTH, a database URL with a password, a Redis URL with a password, the
//! master key file, the metrics token, a client secret) and a debug log
//! level; after a sign-in, a token, a refused directory bind, a mail and a
//! metrics scrape, none of the values appears in what it wrote.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::browser::{Browser, authorize_url, param, pkce};
use crate::harness::slapd::ADMIN_PASSWORD;
use crate::harness::{Backends, Idp, PASSWORD, Postgres, Slapd, free_port, wait_until};

const DB_PASSWORD: &str = "db-pw-3f9a1c5e";
const REDIS_PASSWORD: &str = "redis-pw-7b2e4d60";
const SMTP_PASSWORD: &str = "smtp-pw-1a6f9b3c";
const METRICS_TOKEN: &str = "metrics-token-4e7c2a9108";
const WRONG_LDAP_PASSWORD: &str = "wrong-ldap-pw-55e1";
const WRONG_CLIENT_SECRET: &str = "wrong-client-secret-0c4f9a2e7b6d1358a9e0f2c4b6d8e0a1";
const REDIRECT: &str = "https://vanban.binhphuoc.gov.vn/cb";

/// A mail server (aiosmtpd) that accepts mail only after `AUTH` with this
/// user and password, storing it in a maildir.
const SMTP_AUTH_SERVER: &str = r#"
import sys, time
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult
port, maildir, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode(), sys.argv[4].encode()
def auth(server, session, envelope, mechanism, data):
    return AuthResult(success=(data.login == user and data.password == pw))
Controller(Mailbox(maildir), hostname="127.0.0.1", port=port, authenticator=auth,
           auth_require_tls=False, auth_required=True).start()
while True:
    time.sleep(3600)
"#;

/// A child process killed on drop.
struct Peer(Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_peer(cmd: &mut Command, port: u16) -> Peer {
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let peer = Peer(child);
    wait_until("peer", Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    peer
}

fn messages(maildir: &std::path::Path) -> usize {
    std::fs::read_dir(maildir.join("new"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[tokio::test]
async fn no_secret_appears_in_the_log() {
    let slapd = Slapd::start();
    let pg = Postgres::start();
    let db = pg
        .database("secrets")
        .replacen("postgres@", &format!("postgres:{DB_PASSWORD}@"), 1);
    let dir = tempfile::tempdir().unwrap();
    let redis_port = free_port();
    let _redis = spawn_peer(
        Command::new("redis-server")
            .args(["--port", &redis_port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .args(["--requirepass", REDIS_PASSWORD])
            .arg("--dir")
            .arg(dir.path()),
        redis_port,
    );
    let smtp_port = free_port();
    let maildir = dir.path().join("mail");
    let _smtp = spawn_peer(
        Command::new("/usr/bin/python3")
            .args(["-c", SMTP_AUTH_SERVER, &smtp_port.to_string()])
            .arg(&maildir)
            .args(["dangnhap", SMTP_PASSWORD]),
        smtp_port,
    );

    let mut env = slapd.env();
    env.extend(
        [
            ("IDP_LOG__LEVEL", "debug".to_owned()),
            ("RUST_LOG", "debug".to_owned()),
            ("IDP_HTTP__METRICS_TOKEN", METRICS_TOKEN.to_owned()),
            ("IDP_SMTP__HOST", "127.0.0.1".to_owned()),
            ("IDP_SMTP__PORT", smtp_port.to_string()),
            ("IDP_SMTP__SECURITY", "none".to_owned()),
            ("IDP_SMTP__USERNAME", "dangnhap".to_owned()),
            ("IDP_SMTP__PASSWORD", SMTP_PASSWORD.to_owned()),
            (
                "IDP_SMTP__FROM",
                "Đăng nhập <khong-tra-loi@binhphuoc.gov.vn>".to_owned(),
            ),
            ("IDP_SMTP__TIMEOUT_SECS", "3".to_owned()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    );
    let mut idp = Idp::spawn(&Backends {
        database_url: Some(db),
        redis_url: Some(format!("redis://:{REDIS_PASSWORD}@127.0.0.1:{redis_port}")),
        env,
    });
    let master_key = std::fs::read_to_string(idp.var("IDP_MASTER_KEY_PATH").unwrap()).unwrap();
    let master_key = master_key.trim().to_owned();
    assert_eq!(master_key.len(), 64);
    idp.cli_ok(
        &[
            "user",
            "add",
            "quantri",
            "--name",
            "Quản trị",
            "--password-stdin",
        ],
        Some(PASSWORD),
    );
    let secret = idp.add_client("vanban", REDIRECT, &[]);
    assert!(secret.len() >= 32);

    // A directory sign-in through an app, and the token with the client's secret.
    let browser = Browser::new();
    let (verifier, challenge) = pkce();
    let back = browser
        .sign_in_via(
            &idp.base,
            &authorize_url(
                &idp.base,
                "vanban",
                REDIRECT,
                &[
                    ("code_challenge", &challenge),
                    ("code_challenge_method", "S256"),
                ],
            ),
            "huonglh",
            "Pw-huonglh-8297",
        )
        .await;
    let code = param(&back, "code").expect("a code");
    let http = reqwest::Client::new();
    let r = http
        .post(idp.url("/token"))
        .basic_auth("vanban", Some(&secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let tokens: Value = r.json().await.unwrap();
    // A wrong secret, in the form this time.
    let r = http
        .post(idp.url("/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "vanban"),
            ("client_secret", WRONG_CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // A refused directory bind.
    let r = Browser::new()
        .submit_login(
            &idp.base,
            &idp.url("/login"),
            "huonglh",
            WRONG_LDAP_PASSWORD,
        )
        .await;
    assert_ne!(
        r.status(),
        StatusCode::SEE_OTHER,
        "a wrong password signs nobody in"
    );

    // A mail, through the server that demands AUTH.
    let (status, _) = crate::reset::forgot(&idp, "quantri").await;
    assert!(status.is_success() || status.is_redirection());
    wait_until("the reset mail", Duration::from_secs(30), || {
        messages(&maildir) >= 1
    });

    // The metrics, with the token.
    let r = http
        .get(idp.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let status = idp.terminate();
    assert!(status.success());
    let log = idp.log();
    assert!(log.contains("DEBUG"), "the log is at debug level:\n{log}");
    let mut secrets = vec![
        ("the directory's bind password", ADMIN_PASSWORD.to_owned()),
        (
            "a person's directory password",
            "Pw-huonglh-8297".to_owned(),
        ),
        ("a wrong directory password", WRONG_LDAP_PASSWORD.to_owned()),
        ("the SMTP password", SMTP_PASSWORD.to_owned()),
        ("the database password", DB_PASSWORD.to_owned()),
        ("the Redis password", REDIS_PASSWORD.to_owned()),
        ("the master key", master_key),
        ("the metrics token", METRICS_TOKEN.to_owned()),
        ("the client secret", secret),
        ("a wrong client secret", WRONG_CLIENT_SECRET.to_owned()),
        ("a local password", PASSWORD.to_owned()),
    ];
    for name in ["access_token", "id_token", "refresh_token"] {
        if let Some(t) = tokens[name].as_str() {
            secrets.push(("a token", t.to_owned()));
        }
    }
    for (what, value) in secrets {
        assert!(!log.contains(&value), "{what} is in the log:\n{log}");
    }
}
