//! Account linking against the real binary: `idp link …` over the four apps'
//! sample exports (people from the sample directory in a real `slapd`), the
//! linked username in a demo app's ID token and only there, and a person
//! without a link asking for one, an administrator deciding, the person told
//! by mail and let in with the claim.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use reqwest::StatusCode;

use crate::browser::{Browser, authorize_url, hidden, location, pkce};
use crate::demo_apps::{Channel, demo_app, demo_app_with, follow, whoami};
use crate::harness::{Backends, Idp, PASSWORD, Slapd, Smtp};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/legacy")
        .join(name)
}

fn add_app(idp: &Idp, app: &str) {
    let url = format!("https://{app}.binhphuoc.gov.vn/");
    idp.cli_ok(&["app", "add", app, "--name", app, "--url", &url], None);
}

/// The IdP with the 400 people of the sample directory.
fn idp_with_people(slapd: &Slapd) -> Idp {
    let idp = Idp::spawn(&Backends {
        env: slapd.env(),
        ..Backends::default()
    });
    let out = idp.cli_ok(&["directory", "sync"], None);
    assert!(out.contains("added 400"), "{out}");
    idp
}

/// `(username, e-mail, status)` of each row of `idp link export APP`.
fn export(idp: &Idp, app: &str) -> Vec<(String, String, String)> {
    let csv = idp.cli_ok(&["link", "export", app], None);
    let mut lines = csv.lines();
    // A byte-order mark first, as the console's download has, for spreadsheets.
    assert_eq!(
        lines.next(),
        Some("\u{feff}username,display_name,official_email,status,method,linked_by,linked_at")
    );
    lines
        .map(|l| {
            // The sample usernames and e-mails hold no comma or quote.
            let cells: Vec<&str> = l.split(',').collect();
            let n = cells.len();
            (
                cells[0].to_owned(),
                cells[n - 5].to_owned(),
                cells[n - 4].to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_four_exports_import_and_accept_exact_links_no_one_wrongly() {
    let slapd = Slapd::start();
    let idp = idp_with_people(&slapd);
    let truth = std::fs::read_to_string(fixture("links-truth.csv")).unwrap();
    let truth: HashMap<(String, String), (String, String)> = truth
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            ((c[0].into(), c[1].into()), (c[2].into(), c[3].into()))
        })
        .collect();
    let (mut exact, mut exact_linked) = (0, 0);
    for (app, file) in [
        ("onewin", "onewin-users.json"),
        ("ioffice", "ioffice-users.csv"),
        ("ecabinet", "ecabinet-users.json"),
        ("calendar", "calendar-users.csv"),
    ] {
        add_app(&idp, app);
        let path = fixture(file).display().to_string();
        let out = idp.cli_ok(&["link", "import", app, &path], None);
        assert!(
            out.contains(", new ") && out.contains("gone (now inactive) 0"),
            "{out}"
        );
        let again = idp.cli_ok(&["link", "import", app, &path], None);
        assert!(again.contains("new 0, changed 0"), "{again}");
        let out = idp.cli_ok(&["link", "suggest", app, "--accept-exact"], None);
        assert!(out.contains("email:") && out.contains("linked "), "{out}");
        for (username, email, status) in export(&idp, app) {
            let (want, kind) = &truth[&(app.to_owned(), username.clone())];
            if status == "linked" {
                assert_eq!(
                    &email, want,
                    "{app}/{username} ({kind}) linked to the wrong person"
                );
                assert_ne!(kind, "none", "{app}/{username}: former staff linked");
            }
            if kind == "email" || kind == "email-variant" {
                exact += 1;
                exact_linked += usize::from(status == "linked");
            }
        }
    }
    assert!(exact > 800, "{exact}");
    assert!(
        exact_linked * 100 >= exact * 99,
        "{exact_linked} of {exact} e-mail matches linked"
    );
    // A second run finds the same links and links nothing more.
    let out = idp.cli_ok(&["link", "suggest", "onewin", "--accept-exact"], None);
    assert!(out.contains("linked 0;"), "{out}");
}

#[tokio::test]
async fn manual_links_refuse_conflicts_and_the_export_neutralises_formulas() {
    let slapd = Slapd::start();
    let idp = idp_with_people(&slapd);
    add_app(&idp, "calendar");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("calendar.csv");
    std::fs::write(
        &file,
        "user;display_name;mail;phone;unit\n\
         huong.le;Lê Hồng Hương;;;UBND thành phố Đồng Xoài\n\
         =HYPERLINK(\"http://evil\");Kẻ xấu;;;\n\
         huong.vu;Vũ Minh Hương;;;UBND huyện Bù Đăng\n",
    )
    .unwrap();
    let path = file.display().to_string();
    let out = idp.cli_ok(&["link", "import", "calendar", &path], None);
    assert!(out.contains("new 3"), "{out}");
    idp.cli_ok(&["link", "add", "huonglh", "calendar", "huong.le"], None);
    // The account has an owner; the person has an account.
    let refused = idp.cli(&["link", "add", "huongvm", "calendar", "huong.le"], None);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        err.contains("already linked to huonglh@binhphuoc.gov.vn"),
        "{err}"
    );
    let refused = idp.cli(&["link", "add", "huonglh", "calendar", "huong.vu"], None);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("huonglh@binhphuoc.gov.vn already has account huong.le"),
        "{err}"
    );
    // Unknown app, person and account are named.
    for (args, says) in [
        (["link", "add", "huonglh", "nope", "x"], "no app nope"),
        (
            ["link", "add", "nobody", "calendar", "huong.vu"],
            "no person",
        ),
        (
            ["link", "add", "huongvm", "calendar", "ghost"],
            "no account ghost",
        ),
    ] {
        let out = idp.cli(&args, None);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains(says),
            "{args:?}: {err}"
        );
    }
    idp.cli_ok(
        &[
            "link",
            "add",
            "huongvm",
            "calendar",
            "=HYPERLINK(\"http://evil\")",
        ],
        None,
    );
    let csv = idp.cli_ok(&["link", "export", "calendar"], None);
    assert!(
        csv.contains("\"'=HYPERLINK(\"\"http://evil\"\")\",Kẻ xấu,huongvm@binhphuoc.gov.vn,linked,manual,cli,"),
        "{csv}"
    );
    assert!(
        csv.contains("huong.le,Lê Hồng Hương,huonglh@binhphuoc.gov.vn,linked,manual,cli,"),
        "{csv}"
    );
    // Removed, the account is free for its real owner.
    idp.cli_ok(&["link", "remove", "calendar", "huong.le"], None);
    idp.cli_ok(&["link", "add", "huonglh", "calendar", "huong.vu"], None);
    let out = idp.cli(&["link", "remove", "calendar", "huong.le"], None);
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not linked"));
    let audit = crate::harness::audit_events(&idp).await;
    let removed = audit.iter().find(|e| e.kind == "link.removed").unwrap();
    assert_eq!(removed.subject.as_deref(), Some("calendar/huong.le"));
    assert!(
        removed
            .detail
            .as_deref()
            .unwrap()
            .starts_with("before: huonglh@binhphuoc.gov.vn (manual by cli")
    );
}

/// Signs in at the portal, then opens `app`'s tile; returns where it ended.
async fn open_tile(idp: &Idp, browser: &Browser, app: &str) -> (String, Vec<String>) {
    follow(browser, &idp.url(&format!("/launch/{app}"))).await
}

#[tokio::test]
async fn an_app_gets_its_own_legacy_username_and_an_unlinked_person_asks_for_one() {
    let smtp = Smtp::start();
    let idp = Idp::spawn(&Backends {
        env: smtp.env(),
        ..Backends::default()
    });
    idp.add_person();
    let onewin = demo_app_with(
        &idp,
        "onewin",
        "Một cửa điện tử",
        Channel::Back,
        &["--legacy-claim", "preferred_username"],
    );
    let docs = demo_app(&idp, "vanban", "Quản lý văn bản", Channel::Back);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("onewin.json");
    std::fs::write(
        &file,
        r#"{"data": [{"tenDangNhap": "tam.truong", "hoTen": "Trương Thanh Tâm", "email": "", "soDienThoai": "", "donVi": "Sở Nội vụ", "trangThai": "hoat_dong"}]}"#,
    )
    .unwrap();
    idp.cli_ok(
        &["link", "import", "onewin", &file.display().to_string()],
        None,
    );

    let browser = Browser::new();
    let r = browser
        .submit_login(&idp.base, &idp.url("/"), "tamtt", PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // No link: the IdP's page, no code for the app.
    let (end, path) = open_tile(&idp, &browser, "onewin").await;
    assert_eq!(end, idp.url("/links/missing/onewin"), "{path:?}");
    assert!(path.iter().all(|u| !u.contains("code=")), "{path:?}");
    assert_eq!(whoami(&browser, &onewin).await["signed_in"], false);
    let page = browser.get(&end).await.text().await.unwrap();
    assert!(
        page.contains("Tài khoản của bạn chưa được liên kết với ứng dụng Một cửa điện tử"),
        "{page}"
    );
    // Asked not to show anything, the IdP tells the app instead.
    let (_, challenge) = pkce();
    let callback = format!("{}/oidc/callback", onewin.base);
    let silent = authorize_url(
        &idp.base,
        "onewin",
        &callback,
        &[
            ("prompt", "none"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let to = location(&browser.get(&silent).await);
    assert!(
        to.starts_with(&callback)
            && to.contains("error=interaction_required")
            && !to.contains("code="),
        "{to}"
    );
    // An app without a legacy claim is unaffected and gets no such claim.
    let (end, _) = open_tile(&idp, &browser, "vanban").await;
    assert_eq!(end, format!("{}/", docs.base));
    let me = whoami(&browser, &docs).await;
    assert_eq!(me["signed_in"], true);
    assert_eq!(me["preferred_username"], serde_json::Value::Null);

    // A forged request (no token) is refused; the button asks once.
    let post = |csrf: Option<String>| {
        let mut form = vec![("note", "tên cũ: tam.truong".to_owned())];
        form.extend(csrf.map(|c| ("csrf", c)));
        browser
            .http
            .post(idp.url("/links/missing/onewin"))
            .form(&form)
            .send()
    };
    let forged = post(None).await.unwrap().text().await.unwrap();
    assert!(!forged.contains("Đã gửi yêu cầu"), "{forged}");
    assert!(idp.cli_ok(&["link", "requests"], None).is_empty());
    let csrf = hidden(&page, "csrf").unwrap();
    let done = post(Some(csrf.clone()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(done.contains("Đã gửi yêu cầu liên kết"), "{done}");
    let again = post(Some(csrf)).await.unwrap().text().await.unwrap();
    assert!(again.contains("đang chờ quản trị viên"), "{again}");
    let list = idp.cli_ok(&["link", "requests"], None);
    assert_eq!(list.lines().count(), 1, "{list}");
    let id = list.split('\t').next().unwrap().to_owned();
    assert!(list.contains("onewin\ttamtt@binhphuoc.gov.vn") && list.contains("tên cũ: tam.truong"));

    // The administrator decides; the person is told by mail.
    let out = idp.cli_ok(&["link", "decide", &id, "--username", "tam.truong"], None);
    assert!(out.contains("linked tam.truong of onewin"), "{out}");
    let refused = idp.cli(&["link", "decide", &id, "--reject", "trễ"], None);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("already decided"));
    let mail = smtp.wait_for("tamtt@binhphuoc.gov.vn", "Tài khoản đã được liên kết", 1);
    assert!(
        mail.body.contains("tam.truong") && mail.body.contains("Một cửa điện tử"),
        "{}",
        mail.body
    );

    // The next sign-in to the app carries the claim; the other app's does not.
    let (end, path) = open_tile(&idp, &browser, "onewin").await;
    assert_eq!(end, format!("{}/", onewin.base), "{path:?}");
    let me = whoami(&browser, &onewin).await;
    assert_eq!(me["signed_in"], true);
    assert_eq!(me["preferred_username"], "tam.truong");
    let (_, _) = open_tile(&idp, &browser, "vanban").await;
    assert_eq!(
        whoami(&browser, &docs).await["preferred_username"],
        serde_json::Value::Null
    );
}
