//! The one password policy at the command line: `idp user add --password-stdin`
//! refuses a short, a common and an account-like password with the reason and
//! adds nobody; a password set in one Unicode form signs in typed in the other.

use reqwest::StatusCode;

use crate::browser::Browser;
use crate::harness::{Backends, Idp};

#[tokio::test]
async fn cli_refuses_weak_passwords_with_the_reason() {
    let idp = Idp::spawn(&Backends::default());
    let add = |account: &str, password: &str| {
        idp.cli(
            &[
                "user",
                "add",
                account,
                "--name",
                "Nguyễn Thị Lan",
                "--password-stdin",
            ],
            Some(password),
        )
    };
    for (password, reason) in [
        // Eight characters passed before the policy.
        ("Lan@2024", "at least 10 characters"),
        ("ăâêôơưđá", "at least 10 characters"),
        ("123456789a", "most common passwords"),
        ("Matkhau@123", "most common passwords"),
        ("LanNT-2024-xyz", "account name"),
    ] {
        let out = add("lannt", password);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{password:?} was accepted");
        assert!(err.contains(reason), "{password:?}: {err}");
    }
    let listed = idp.cli_ok(&["user", "list"], None);
    assert!(!listed.contains("lannt"), "nothing half-created: {listed}");

    // Ten two-byte characters are ten characters; set decomposed, typed composed.
    idp.cli_ok(
        &[
            "user",
            "add",
            "lannt",
            "--name",
            "Nguyễn Thị Lan",
            "--password-stdin",
        ],
        Some("ma\u{323}\u{302}t-kha\u{302}\u{309}u-nhe\u{301}"),
    );
    let browser = Browser::new();
    let r = browser
        .submit_login(&idp.base, &idp.url("/login"), "lannt", "mật-khẩu-nhé")
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}
