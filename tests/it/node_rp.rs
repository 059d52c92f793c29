//! The flow again, driven by Node's `openid-client` (an OpenID Certified
//! relying-party library), so we are checked by code we did not write.

use std::process::Command;

use serde_json::Value;

use crate::harness::{Backends, DOMAIN, Idp, PASSWORD};
use crate::oidc_flow::{BYE, REDIRECT};

#[test]
fn node_openid_client_completes_the_flow() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("node");
    assert!(
        dir.join("node_modules/openid-client").exists(),
        "openid-client is not installed: run tests/run.sh (it runs npm ci in tests/node)"
    );
    let idp = Idp::spawn(&Backends::default());
    idp.add_person();
    let secret = idp.add_client("node-rp", REDIRECT, &["--post-logout-redirect-uri", BYE]);
    let out = Command::new("node")
        .arg(dir.join("rp.mjs"))
        .env("ISSUER", &idp.base)
        .env("CLIENT_ID", "node-rp")
        .env("CLIENT_SECRET", &secret)
        .env("REDIRECT", REDIRECT)
        .env("BYE", BYE)
        .env("ACCOUNT", "tamtt")
        .env("PASSWORD", PASSWORD)
        .output()
        .expect("node");
    assert!(
        out.status.success(),
        "rp.mjs failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["email"], format!("tamtt@{DOMAIN}"));
    assert_eq!(r["name"], "Trương Thanh Tâm");
    assert_eq!(r["userinfo_email"], r["email"]);
    assert_eq!(r["refreshed_id_token_sub"], r["sub"]);
    assert_eq!(r["rotated"], true);
    assert_eq!(r["revoked"], true);
    assert_eq!(r["logout_status"], 303);
    assert_eq!(r["logout_location"], format!("{BYE}?state=bye-1"));
}
