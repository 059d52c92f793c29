//! The console's account-linking pages against the real binary, over the
//! sample directory (a real `slapd`) and the Onewin sample export imported
//! with the CLI: the queue's filters, accepting and rejecting (a rejection
//! survives `idp link suggest`), accepting all exact matches with the
//! counts, a manual link refused on a conflict, unlinking, the CSV export
//! (BOM, attachment, formulas neutralised) imported back, a malformed import
//! that changes nothing, an auditor who cannot POST, and a link request
//! decided in the console and mailed to the person.

use std::path::{Path, PathBuf};

use reqwest::StatusCode;

use crate::browser::{Browser, hidden};
use crate::console::{NOI_VU, console_sign_in, get, person, submit};
use crate::harness::{Backends, PASSWORD, Slapd};
use crate::mfa::{Setup, setup_on};

pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/legacy")
        .join(name)
}

/// The IdP with the sample directory's 400 people, the Onewin app and its
/// sample accounts imported and matched (nothing accepted yet).
pub(crate) fn onewin_world(slapd: &Slapd) -> Setup {
    let s = setup_on(Backends {
        env: slapd.env(),
        ..Backends::default()
    });
    let out = s.idp.cli_ok(&["directory", "sync"], None);
    assert!(out.contains("added 400"), "{out}");
    add_app(&s, "onewin");
    let path = fixture("onewin-users.json").display().to_string();
    s.idp.cli_ok(&["link", "import", "onewin", &path], None);
    s.idp.cli_ok(&["link", "suggest", "onewin"], None);
    s
}

pub(crate) fn add_app(s: &Setup, app: &str) {
    let url = format!("https://{app}.binhphuoc.gov.vn/");
    s.idp.cli_ok(
        &[
            "app",
            "add",
            app,
            "--name",
            "Một cửa điện tử",
            "--url",
            &url,
        ],
        None,
    );
}

/// A suggestion's row in the queue: `app/username`, the person's id and unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Row {
    pub account: String,
    pub user: String,
    pub unit: String,
}

impl Row {
    pub fn username(&self) -> &str {
        self.account.split_once('/').unwrap().1
    }
}

pub(crate) fn rows(html: &str) -> Vec<Row> {
    html.split("<tr class=\"suggestion\" ")
        .skip(1)
        .map(|chunk| {
            let attr = |name: &str| {
                let k = format!("{name}=\"");
                let i = chunk.find(&k).unwrap() + k.len();
                chunk[i..][..chunk[i..].find('"').unwrap()].to_owned()
            };
            Row {
                account: attr("data-account"),
                user: attr("data-user"),
                unit: attr("data-unit"),
            }
        })
        .collect()
}

/// Every row of the queue at `path`, following its "more" links.
pub(crate) async fn all_rows(b: &Browser, s: &Setup, path: &str) -> Vec<Row> {
    let mut out = Vec::new();
    let mut next = Some(path.to_owned());
    while let Some(p) = next {
        assert!(out.len() < 100_000, "the queue's pages never end at {p}");
        let (st, html) = get(b, s, &p).await;
        assert_eq!(st, StatusCode::OK, "{html}");
        out.extend(rows(&html));
        next = html.split("id=\"more\"").next().and_then(|before| {
            html.contains("id=\"more\"").then(|| {
                let i = before.rfind("href=\"").unwrap() + 6;
                before[i..][..before[i..].find('"').unwrap()].replace("&#38;", "&")
            })
        });
    }
    out
}

/// A decision on one row: the form's fields.
pub(crate) fn pair<'a>(r: &'a Row, back: &'a str) -> [(&'a str, &'a str); 4] {
    [
        ("app", "onewin"),
        ("username", r.username()),
        ("user", r.user.as_str()),
        ("back", back),
    ]
}

#[tokio::test]
async fn the_review_queue_filters_accepts_rejects_and_accepts_all_exact() {
    let slapd = Slapd::start();
    let s = onewin_world(&slapd);
    person(&s, "quantri", "Quản trị hệ thống", NOI_VU, true, None);
    let (admin, _) = console_sign_in(&s, "quantri").await;

    // Coverage: the app's counts and its bar.
    let (st, html) = get(&admin, &s, "/admin/links").await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("id=\"app-onewin\"") && html.contains("<meter"),
        "{html}"
    );
    assert!(
        html.contains(">Liên kết tài khoản</a>"),
        "the section is listed"
    );

    // Filters: by reason, exact only.
    let q = "/admin/links/queue?app=onewin";
    let all = all_rows(&admin, &s, q).await;
    let phone = all_rows(&admin, &s, &format!("{q}&reason=phone")).await;
    let name = all_rows(&admin, &s, &format!("{q}&reason=name")).await;
    let exact = all_rows(&admin, &s, &format!("{q}&exact=1")).await;
    assert!(!phone.is_empty() && !name.is_empty() && exact.len() > 100);
    assert!(phone.iter().chain(&name).all(|r| all.contains(r)));
    assert!(
        name.iter().all(|r| !exact.contains(r)),
        "a name match is never exact"
    );
    let (_, html) = get(&admin, &s, &format!("{q}&reason=name")).await;
    let table = html.split("<tbody>").nth(1).unwrap_or_default();
    assert!(
        table.contains("Trùng họ tên và đơn vị") && !table.contains("Trùng e-mail"),
        "{table}"
    );

    // Reject a name match: it stays rejected when matching runs again.
    let bad = name[0].clone();
    let (_, html) = get(&admin, &s, q).await;
    let (st, to) = submit(
        &admin,
        &s,
        "/admin/links/queue/reject",
        Some(&html),
        &pair(&bad, q),
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(to.as_deref(), Some(format!("{q}&done=rejected").as_str()));
    let (_, html) = get(&admin, &s, to.as_deref().unwrap()).await;
    assert!(html.contains("Đã từ chối đề xuất"), "{html}");
    s.idp.cli_ok(&["link", "suggest", "onewin"], None);
    let name_again = all_rows(&admin, &s, &format!("{q}&reason=name")).await;
    assert!(
        !name_again.contains(&bad),
        "a rejected suggestion does not come back"
    );
    assert_eq!(name_again.len(), name.len() - 1);

    // Accept one exact match; then accept all the others after confirming.
    let one = exact[0].clone();
    let (st, to) = submit(
        &admin,
        &s,
        "/admin/links/queue/accept",
        Some(&html),
        &pair(&one, q),
    )
    .await;
    assert_eq!(
        (st, to.unwrap().ends_with("done=accepted")),
        (StatusCode::SEE_OTHER, true)
    );
    let export = s.idp.cli_ok(&["link", "export", "onewin"], None);
    let line = export
        .lines()
        .find(|l| l.starts_with(&format!("{},", one.username())))
        .unwrap();
    assert!(
        line.contains(",linked,email") || line.contains(",linked,"),
        "{line}"
    );
    // Accepting it twice: no longer pending.
    let (st, _) = submit(
        &admin,
        &s,
        "/admin/links/queue/accept",
        Some(&html),
        &pair(&one, q),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);

    let (st, confirm) = get(&admin, &s, "/admin/links/queue/accept-exact?app=onewin").await;
    assert_eq!(st, StatusCode::OK);
    assert!(confirm.contains("Đồng ý, liên kết"), "{confirm}");
    let left = all_rows(&admin, &s, &format!("{q}&exact=1")).await;
    assert_eq!(left.len(), exact.len() - 1);
    let (st, to) = submit(
        &admin,
        &s,
        "/admin/links/queue/accept-exact",
        Some(&confirm),
        &[("app", "onewin")],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let to = to.unwrap();
    let count = |k: &str| -> usize {
        let i = to.find(&format!("{k}=")).unwrap() + k.len() + 1;
        to[i..].split('&').next().unwrap().parse().unwrap()
    };
    let (linked, conflicts) = (count("linked"), count("conflicts"));
    assert_eq!(linked + conflicts, left.len(), "{to}");
    assert!(linked > 100, "{to}");
    let (_, html) = get(&admin, &s, &to).await;
    assert!(
        html.contains(&format!(
            "Đã liên kết {linked} tài khoản; {conflicts} đề xuất xung đột"
        )),
        "{html}"
    );
    assert_eq!(
        all_rows(&admin, &s, &format!("{q}&exact=1")).await.len(),
        conflicts
    );

    // The coverage page counts them.
    let (_, html) = get(&admin, &s, "/admin/links").await;
    assert!(html.contains(&format!("<td>{}</td>", linked + 1)), "{html}");

    // Conflicts show with a way to settle each (or say there are none).
    let (st, html) = get(&admin, &s, "/admin/links/conflicts?app=onewin").await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("class=\"conflict\"") || html.contains("Không có xung đột."),
        "{html}"
    );
}

#[tokio::test]
async fn manual_links_csv_and_requests_in_the_console() {
    let slapd = Slapd::start();
    let s = onewin_world(&slapd);
    person(&s, "quantri", "Quản trị hệ thống", NOI_VU, true, None);
    person(&s, "kiemtra", "Lê Thị Kiểm", NOI_VU, false, Some("auditor"));
    let (admin, _) = console_sign_in(&s, "quantri").await;
    s.idp
        .cli_ok(&["link", "suggest", "onewin", "--accept-exact"], None);
    let export = s.idp.cli_ok(&["link", "export", "onewin"], None);
    let linked: Vec<(String, String)> = export
        .lines()
        .filter(|l| l.contains(",linked,"))
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[0].to_owned(), c[c.len() - 5].to_owned())
        })
        .collect();
    let (u1, owner1) = linked[0].clone();
    let (_, owner2) = linked[1].clone();

    // Search by name without diacritics finds people.
    let (st, html) = get(&admin, &s, "/admin/links/manual?app=onewin&q=nguyen").await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("class=\"people-found\"") && html.contains("Nguyễn"),
        "{html}"
    );

    // A manual link refused on a conflict, naming the owner.
    let add = [
        ("app", "onewin"),
        ("username", u1.as_str()),
        ("email", owner2.as_str()),
    ];
    let (st, _) = submit(&admin, &s, "/admin/links/manual/add", Some(&html), &add).await;
    assert_eq!(st, StatusCode::CONFLICT);
    let r = admin
        .http
        .post(s.idp.url("/admin/links/manual/add"))
        .form(&[
            ("app", "onewin"),
            ("username", u1.as_str()),
            ("email", owner2.as_str()),
            ("csrf", &hidden(&html, "csrf").unwrap()),
        ])
        .send()
        .await
        .unwrap();
    let page = r.text().await.unwrap();
    assert!(
        page.contains(&format!(
            "Xung đột: tài khoản {u1} đã được liên kết với {owner1}"
        )),
        "{page}"
    );

    // The auditor sees but cannot POST.
    let (auditor, _) = console_sign_in(&s, "kiemtra").await;
    let (st, ahtml) = get(&auditor, &s, "/admin/links/manual?app=onewin").await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        !ahtml.contains("/admin/links/manual/remove"),
        "no change forms"
    );
    let rm = [("app", "onewin"), ("username", u1.as_str())];
    // A valid token from a page with a form (their account page).
    let (_, account) = get(&auditor, &s, "/account").await;
    let (st, _) = submit(
        &auditor,
        &s,
        "/admin/links/manual/remove",
        Some(&account),
        &rm,
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = get(&auditor, &s, "/admin/links/export.csv?app=onewin").await;
    assert_eq!(st, StatusCode::OK, "an auditor may read the export");

    // Unlink, then link again by hand.
    let (st, to) = submit(&admin, &s, "/admin/links/manual/remove", Some(&html), &rm).await;
    assert_eq!(
        (st, to.unwrap().ends_with("done=unlinked")),
        (StatusCode::SEE_OTHER, true)
    );
    let after = s.idp.cli_ok(&["link", "export", "onewin"], None);
    assert!(
        !after
            .lines()
            .any(|l| l.starts_with(&format!("{u1},")) && l.contains(",linked,")),
        "{after}"
    );
    let add = [
        ("app", "onewin"),
        ("username", u1.as_str()),
        ("email", owner1.as_str()),
    ];
    let (st, _) = submit(&admin, &s, "/admin/links/manual/add", Some(&html), &add).await;
    assert_eq!(st, StatusCode::SEE_OTHER);

    // A display name planted as a formula is neutralised in the export.
    let dir = tempfile::tempdir().unwrap();
    let planted = dir.path().join("lich.csv");
    std::fs::write(
        &planted,
        "user;display_name;mail;phone;unit\r\nlich1;=HYPERLINK(\"http://x\");;;Sở Nội vụ\r\n",
    )
    .unwrap();
    add_app(&s, "lich");
    let p = planted.display().to_string();
    s.idp.cli_ok(
        &["link", "import", "lich", &p, "--format", "calendar"],
        None,
    );
    let r = admin
        .get(&s.idp.url("/admin/links/export.csv?app=lich"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    let body = r.bytes().await.unwrap();
    assert!(body.starts_with(b"\xef\xbb\xbf"), "a BOM for Excel");
    let text = String::from_utf8(body.to_vec()).unwrap();
    assert!(text.contains("'=HYPERLINK"), "{text}");

    // The Onewin export imported back: every row unchanged.
    let r = admin
        .get(&s.idp.url("/admin/links/export.csv?app=onewin"))
        .await;
    let csv = r.bytes().await.unwrap().to_vec();
    let n_linked = String::from_utf8_lossy(&csv).matches(",linked,").count();
    let (st, to, _) = upload(&admin, &s, &html, csv).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let to = to.unwrap();
    assert!(
        to.contains("linked=0&unchanged=") && to.contains(&format!("unchanged={n_linked}&")),
        "{to}"
    );
    let (_, page) = get(&admin, &s, &to).await;
    assert!(page.contains("Đã nhập tệp: 0 liên kết mới"), "{page}");

    // A malformed file (one good row, one unknown e-mail) changes nothing.
    let free = after_free_account(&s);
    let bad = format!(
        "username,official_email\r\n{free},tamtt@binhphuoc.gov.vn\r\nkhongco,khongco@binhphuoc.gov.vn\r\n"
    );
    let before = s.idp.cli_ok(&["link", "export", "onewin"], None);
    let (st, _, page) = upload(&admin, &s, &html, bad.into_bytes()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(page.contains("line 3"), "says which line: {page}");
    assert_eq!(s.idp.cli_ok(&["link", "export", "onewin"], None), before);
    // Without the token: refused before reading the rows.
    let r = admin
        .http
        .post(s.idp.url("/admin/links/import?app=onewin"))
        .multipart(
            reqwest::multipart::Form::new().part(
                "file",
                reqwest::multipart::Part::bytes(b"username,official_email\r\n".to_vec())
                    .file_name("x.csv"),
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Tâm asks to be linked; the administrator links an account; Tâm is mailed.
    let tam = Browser::new();
    let r = tam
        .submit_login(&s.idp.base, &s.idp.url("/login"), "tamtt", PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = tam
        .get(&s.idp.url("/links/missing/onewin"))
        .await
        .text()
        .await
        .unwrap();
    let r = tam
        .http
        .post(s.idp.url("/links/missing/onewin"))
        .form(&[
            ("note", "tên cũ: tam.truong"),
            ("csrf", &hidden(&page, "csrf").unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("Đã gửi yêu cầu liên kết"));
    let (_, list) = get(&admin, &s, "/admin/links/requests").await;
    assert!(
        list.contains("tamtt@binhphuoc.gov.vn") && list.contains("tên cũ: tam.truong"),
        "{list}"
    );
    let i = list.find("/admin/links/requests/").unwrap();
    let href = list[i..][..list[i..].find('"').unwrap()].to_owned();
    let (_, decide) = get(&admin, &s, &format!("{href}?q={free}")).await;
    assert!(
        decide.contains(&format!("<option value=\"{free}\">")),
        "{decide}"
    );
    let (st, to) = submit(
        &admin,
        &s,
        &format!("{href}/link"),
        Some(&decide),
        &[("username", &free)],
    )
    .await;
    assert_eq!(
        (st, to.as_deref()),
        (
            StatusCode::SEE_OTHER,
            Some("/admin/links/requests?done=decided")
        )
    );
    let mail = s
        .smtp
        .wait_for("tamtt@binhphuoc.gov.vn", "Tài khoản đã được liên kết", 1);
    assert!(mail.body.contains(&free), "{}", mail.body);
    // Decided once.
    let (st, _) = submit(
        &admin,
        &s,
        &format!("{href}/reject"),
        Some(&decide),
        &[("reason", "trễ")],
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);
}

/// An active Onewin account with no owner, from the export.
fn after_free_account(s: &Setup) -> String {
    let export = s.idp.cli_ok(&["link", "export", "onewin"], None);
    export
        .lines()
        .skip(1)
        .find(|l| l.contains(",unlinked,") || l.contains(",pending,"))
        .map(|l| l.split(',').next().unwrap().to_owned())
        .unwrap()
}

/// Uploads `csv` to the Onewin import with the token of `html`.
async fn upload(
    b: &Browser,
    s: &Setup,
    html: &str,
    csv: Vec<u8>,
) -> (StatusCode, Option<String>, String) {
    let form = reqwest::multipart::Form::new()
        .text("csrf", hidden(html, "csrf").unwrap())
        .part(
            "file",
            reqwest::multipart::Part::bytes(csv)
                .file_name("links.csv")
                .mime_str("text/csv")
                .unwrap(),
        );
    let r = b
        .http
        .post(s.idp.url("/admin/links/import?app=onewin"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let to = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    (r.status(), to, r.text().await.unwrap())
}
