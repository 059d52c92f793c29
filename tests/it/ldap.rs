//! Staff sign in with their official mailbox's password, checked against a
//! real OpenLDAP `slapd` loaded with the sample directory (400 people):
//! short names and full addresses, wrong passwords and unknown accounts alike,
//! local accounts beside the directory, and the directory down and back.

use reqwest::StatusCode;

use crate::browser::{Browser, location};
use crate::harness::{Backends, Idp, PASSWORD, Slapd, Smtp};

async fn sign_in(idp: &Idp, account: &str, password: &str) -> (Browser, reqwest::Response) {
    let b = Browser::new();
    let r = b
        .submit_login(&idp.base, &idp.url("/login"), account, password)
        .await;
    (b, r)
}

#[tokio::test]
async fn staff_sign_in_with_their_mailbox_password() {
    let slapd = Slapd::start();
    let smtp = Smtp::start();
    let mut env = slapd.env();
    env.extend(smtp.env());
    // This mail system marks accounts it has switched off with employeeType.
    env.push((
        "IDP_DIRECTORY__USER_FILTER".into(),
        "(&(|(mail={email})(uid={local}))(!(employeeType=disabled)))".into(),
    ));
    let idp = Idp::spawn(&Backends {
        env,
        ..Backends::default()
    });
    // An administrator outside the directory keeps a local password.
    idp.cli_ok(
        &[
            "user",
            "add",
            "quantri",
            "--name",
            "Quản trị hệ thống",
            "--admin",
            "--password-stdin",
        ],
        Some(PASSWORD),
    );

    // The short name, then the full address: the directory's password, the directory's profile.
    let (b, r) = sign_in(&idp, "huonglh", "Pw-huonglh-8297").await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let home = b.get(&idp.url("/")).await.text().await.unwrap();
    assert!(home.contains("Lê Hồng Hương"), "name from the directory");
    let account = b.get(&idp.url("/account")).await.text().await.unwrap();
    assert!(
        account.contains("UBND thành phố Đồng Xoài"),
        "unit from the directory"
    );
    assert!(
        account.contains("Lấy từ danh bạ"),
        "name and unit are read-only"
    );
    assert!(account.contains(r#"value="0963170669""#));
    let (_, r) = sign_in(&idp, "HuongVM@BinhPhuoc.gov.vn", "Pw-huongvm-9123").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        idp.cli_ok(&["user", "list"], None)
            .contains("huongvm@binhphuoc.gov.vn")
    );

    // Wrong password, unknown account, empty password, a filter injection: one answer.
    for (who, pw) in [
        ("huonglh", "Pw-huonglh-0000"),
        ("khongco", "Pw-khongco-1234"),
        ("huonglh", ""),
        ("*", "Pw-huonglh-8297"),
        ("huonglh)(uid=*", "x"),
    ] {
        let (_, r) = sign_in(&idp, who, pw).await;
        assert_eq!(r.status(), StatusCode::OK, "{who}");
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("Tài khoản hoặc mật khẩu không đúng."),
            "{who}"
        );
    }

    // Switched off in the mail system: the right password no longer opens anything.
    let (_, r) = sign_in(&idp, "thinhdm", "Pw-thinhdm-4110").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "before");
    slapd.admin(
        "ldapmodify",
        &[],
        "dn: uid=thinhdm,ou=people,dc=binhphuoc,dc=gov,dc=vn\nchangetype: modify\nadd: employeeType\nemployeeType: disabled\n",
    );
    let (_, r) = sign_in(&idp, "thinhdm", "Pw-thinhdm-4110").await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Tài khoản hoặc mật khẩu không đúng."),
        "disabled in the directory"
    );

    // A forgotten mailbox password is changed in the mail system: the mail says so.
    let (status, _) = crate::reset::forgot(&idp, "huonglh").await;
    assert_eq!(status, StatusCode::OK);
    let m = smtp.wait_for("huonglh@binhphuoc.gov.vn", "Đặt lại mật khẩu", 1);
    assert!(
        m.body.contains("hệ thống thư điện tử công vụ"),
        "{}",
        m.body
    );
    assert!(!m.body.contains("/password/reset"), "no reset link");

    // The local administrator is not in the directory and still signs in.
    let (_, r) = sign_in(&idp, "quantri", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(idp.get_json("/readyz").await["directory"], "ok");
}

#[tokio::test]
async fn directory_down_is_said_and_recovers_by_itself() {
    let mut slapd = Slapd::start();
    let idp = Idp::spawn(&Backends {
        env: slapd.env(),
        ..Backends::default()
    });
    let (_, r) = sign_in(&idp, "huonglh", "Pw-huonglh-8297").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    slapd.stop();
    let (_, r) = sign_in(&idp, "huonglh", "Pw-huonglh-8297").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Không kết nối được tới danh bạ hộp thư công vụ"),
        "{page}"
    );
    assert!(
        !page.contains("mật khẩu không đúng"),
        "not blamed on the password"
    );
    assert!(
        page.contains(r#"value="huonglh""#),
        "the account typed is kept"
    );
    let ready = reqwest::get(idp.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        ready.json::<serde_json::Value>().await.unwrap()["directory"],
        "unreachable"
    );
    assert!(idp.log().contains("the directory cannot be reached"));

    slapd.resume();
    let (b, r) = sign_in(&idp, "huonglh", "Pw-huonglh-8297").await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "recovered without a restart"
    );
    assert_eq!(location(&r), "/");
    assert!(
        b.get(&idp.url("/"))
            .await
            .text()
            .await
            .unwrap()
            .contains("Lê Hồng Hương")
    );
    assert_eq!(idp.get_json("/readyz").await["directory"], "ok");

    // A restart between two sign-ins: the pooled connection is stale, the
    // sign-in still works at the first try.
    slapd.resume();
    let (_, r) = sign_in(&idp, "huongvm", "Pw-huongvm-9123").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn sync_imports_people_and_disables_leavers() {
    let mut slapd = Slapd::start();
    let idp = Idp::spawn(&Backends {
        env: slapd.env(),
        ..Backends::default()
    });
    idp.cli_ok(
        &[
            "user",
            "add",
            "quantri",
            "--name",
            "Quản trị",
            "--admin",
            "--password-stdin",
        ],
        Some(PASSWORD),
    );
    let out = idp.cli_ok(&["directory", "sync"], None);
    assert!(
        out.contains(
            "full: read 400, added 400, updated 0, disabled 0, unchanged 0; 400 people in"
        ),
        "{out}"
    );
    let units: usize = out
        .split("people in ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(units > 1, "{out}");
    let out = idp.cli_ok(&["directory", "sync"], None);
    assert!(
        out.contains("added 0, updated 0, disabled 0, unchanged 400"),
        "a second run changes nothing: {out}"
    );

    // One promotion, one leaver.
    slapd.admin(
        "ldapmodify",
        &[],
        "dn: uid=huonglh,ou=people,dc=binhphuoc,dc=gov,dc=vn\nchangetype: modify\nreplace: title\ntitle: Phó Trưởng phòng\n",
    );
    slapd.admin(
        "ldapdelete",
        &["uid=huongvm,ou=people,dc=binhphuoc,dc=gov,dc=vn"],
        "",
    );
    let out = idp.cli_ok(&["directory", "sync"], None);
    assert!(
        out.contains(
            "changes only: read 399, added 0, updated 1, disabled 1, unchanged 398; 399 people"
        ),
        "{out}"
    );
    // Now the mark is today: the next sync reads only what changed since.
    slapd.admin(
        "ldapmodify",
        &[],
        "dn: uid=thinhdm,ou=people,dc=binhphuoc,dc=gov,dc=vn\nchangetype: modify\nreplace: title\ntitle: Chánh Văn phòng\n",
    );
    let out = idp.cli_ok(&["directory", "sync"], None);
    assert!(
        out.contains(
            "changes only: read 2, added 0, updated 1, disabled 0, unchanged 398; 399 people"
        ),
        "only the two entries changed within the margin are read: {out}"
    );
    let out = idp.cli_ok(&["directory", "sync", "--full"], None);
    assert!(
        out.contains("full: read 399, added 0, updated 0, disabled 0, unchanged 399"),
        "{out}"
    );
    let people = idp.cli_ok(&["user", "list"], None);
    let line = |email: &str| {
        people
            .lines()
            .find(|l| l.starts_with(email))
            .unwrap_or_else(|| panic!("{email} in {people}"))
            .to_owned()
    };
    assert!(
        line("huongvm@").ends_with("disabled"),
        "the leaver is disabled, not deleted"
    );
    assert!(!line("huonglh@").contains("disabled"));
    assert!(
        line("quantri@").contains("admin,password"),
        "local accounts are left alone"
    );

    // The directory down: the sync fails and changes nothing.
    slapd.stop();
    let failed = idp.cli(&["directory", "sync"], None);
    assert!(!failed.status.success());
    assert!(String::from_utf8_lossy(&failed.stderr).contains("unreachable"));
    assert_eq!(idp.cli_ok(&["user", "list"], None), people);
}
