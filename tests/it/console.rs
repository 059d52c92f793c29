//! The admin console against the real binary: who may enter (a role, a
//! sign-in with a second factor, else the step-up and back), CSRF on every
//! POST, a unit administrator kept to their unit (404 for anyone else), an
//! auditor who changes nothing, the people search, disabling (which ends
//! the person's sessions), unlocking, resetting factors, roles granted and
//! revoked in the audit log, the audit log's filters and its CSV.

use reqwest::StatusCode;

use crate::browser::{Browser, hidden, location};
use crate::harness::{Backends, PASSWORD, audit_events};
use crate::mfa::{
    SECOND, Setup, authenticator, page, password_then_second, post, recovery_codes, setup_on,
};

pub(crate) const NOI_VU: &str = "Sở Nội vụ";
pub(crate) const TAI_CHINH: &str = "Sở Tài chính";

/// Adds a person with a local password (and a unit, the admin flag, a role).
pub(crate) fn person(
    s: &Setup,
    account: &str,
    name: &str,
    unit: &str,
    admin: bool,
    role: Option<&str>,
) {
    let mut args = vec![
        "user",
        "add",
        account,
        "--name",
        name,
        "--unit",
        unit,
        "--password-stdin",
    ];
    if admin {
        args.push("--admin");
    }
    s.idp.cli_ok(&args, Some(PASSWORD));
    if let Some(r) = role {
        let out = s.idp.cli_ok(&["user", "role", account, "--grant", r], None);
        assert!(out.contains(&format!("{r} granted")), "{out}");
    }
}

/// Signs a person with a role in: password, an enrolment code, an
/// authenticator (that sign-in carries acr 1), then the console's step-up
/// with a recovery code, back to `/admin`. Returns the browser and the
/// recovery codes left.
pub(crate) async fn console_sign_in(s: &Setup, account: &str) -> (Browser, Vec<String>) {
    let b = Browser::new();
    let html = password_then_second(&b, s, account).await;
    let out = s.idp.cli_ok(&["user", "enrolment-code", account], None);
    let code = out.rsplit(' ').next().unwrap().trim().to_owned();
    let (_, _, html) = post(
        &b,
        s,
        SECOND,
        &html,
        &[("op", "bootstrap"), ("code", &code)],
    )
    .await;
    let totp = authenticator(&html);
    let now = idp::now() as u64;
    let (_, _, html) = post(
        &b,
        s,
        SECOND,
        &html,
        &[
            ("op", "enrol_totp"),
            ("code", &totp.generate(now).to_string()),
        ],
    )
    .await;
    let mut codes = recovery_codes(&html);
    let (_, to, _) = post(&b, s, SECOND, &html, &[("op", "done")]).await;
    assert_eq!(to.as_deref(), Some("/"));
    // Enrolling gives acr 1: the console asks for the factor, then returns.
    let r = b.get(&s.idp.url("/admin/people?q=t")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), SECOND, "step-up");
    let html = page(&b, s, SECOND).await;
    let rc = codes.pop().unwrap();
    let (st, to, _) = post(&b, s, SECOND, &html, &[("op", "recovery"), ("code", &rc)]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(
        to.as_deref(),
        Some("/admin/people?q=t"),
        "back to the page asked for"
    );
    (b, codes)
}

pub(crate) async fn get(b: &Browser, s: &Setup, path: &str) -> (StatusCode, String) {
    let r = b.get(&s.idp.url(path)).await;
    (r.status(), r.text().await.unwrap())
}

/// Posts a console form with the token of `html` (or none); returns status and Location.
pub(crate) async fn submit(
    b: &Browser,
    s: &Setup,
    path: &str,
    html: Option<&str>,
    fields: &[(&str, &str)],
) -> (StatusCode, Option<String>) {
    let mut form: Vec<(&str, String)> = fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    if let Some(h) = html {
        form.push(("csrf", hidden(h, "csrf").expect("csrf field")));
    }
    let r = b
        .http
        .post(s.idp.url(path))
        .form(&form)
        .send()
        .await
        .unwrap();
    let to = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    (r.status(), to)
}

/// The user id (`sub`) of an account, from `idp user list`.
pub(crate) fn id_of(s: &Setup, email: &str) -> String {
    let out = s.idp.cli_ok(&["user", "list"], None);
    out.lines()
        .find(|l| l.starts_with(&format!("{email}\t")))
        .and_then(|l| l.split('\t').nth(2))
        .unwrap_or_else(|| panic!("{email} not in {out}"))
        .to_owned()
}

#[tokio::test]
async fn the_console_needs_a_role_a_second_factor_and_a_csrf_token() {
    let s = setup_on(Backends::default());
    person(&s, "quantri", "Quản trị hệ thống", NOI_VU, true, None);
    // Nobody signed in: to the portal's sign-in.
    let anon = Browser::new();
    let r = anon.get(&s.idp.url("/admin")).await;
    assert_eq!(
        (r.status(), location(&r).as_str()),
        (StatusCode::SEE_OTHER, "/")
    );
    // Signed in without a role: a Vietnamese 403 page.
    let tam = Browser::new();
    let r = tam
        .submit_login(&s.idp.base, &s.idp.url("/login"), "tamtt", PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (st, html) = get(&tam, &s, "/admin").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(
        html.contains("Bạn không có quyền vào trang quản trị"),
        "{html}"
    );
    let (st, _) = get(&tam, &s, "/admin/audit.csv").await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // The administrator: sent through the step-up and back.
    let (admin, _) = console_sign_in(&s, "quantri").await;
    let r = admin.get(&s.idp.url("/admin")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    let html = r.text().await.unwrap();
    for nav in ["Tổng quan", "Người dùng", "Đơn vị", "Nhật ký"] {
        assert!(html.contains(&format!(">{nav}</a>")), "{nav}: {html}");
    }
    assert!(html.contains("Quản trị hệ thống"));

    // The people search ignores diacritics.
    let (st, html) = get(&admin, &s, "/admin/people?q=truong+thanh").await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("tamtt@binhphuoc.gov.vn") && html.contains("Tìm thấy 1 người."),
        "{html}"
    );
    let (_, html) = get(&admin, &s, "/admin/people?q=%25").await;
    assert!(
        html.contains("Tìm thấy 0 người."),
        "a typed % is no wildcard"
    );

    // A POST without the CSRF token (or with a forged one) changes nothing.
    let tam_id = id_of(&s, "tamtt@binhphuoc.gov.vn");
    let path = format!("/admin/people/{tam_id}/disable");
    let (st, _) = submit(&admin, &s, &path, None, &[]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = submit(&admin, &s, &path, None, &[("csrf", "Zm9yZ2Vk")]).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, html) = get(&admin, &s, &format!("/admin/people/{tam_id}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(!html.contains("Đã vô hiệu hóa</span>"), "{html}");
    // Tâm is still signed in.
    let (st, _) = get(&tam, &s, "/account").await;
    assert_eq!(st, StatusCode::OK);

    // With the token: disabled, and every session of Tâm ends.
    let (st, to) = submit(&admin, &s, &path, Some(&html), &[]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(to.unwrap(), format!("/admin/people/{tam_id}?done=disabled"));
    let r = tam.get(&s.idp.url("/account")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "Tâm's session ended");
    let events = audit_events(&s.idp).await;
    let admin_id = id_of(&s, "quantri@binhphuoc.gov.vn");
    let e = events
        .iter()
        .find(|e| e.kind == "admin.user_disabled")
        .unwrap();
    assert_eq!(e.actor.as_deref(), Some(admin_id.as_str()));
    assert_eq!(e.subject.as_deref(), Some("tamtt@binhphuoc.gov.vn"));
}

#[tokio::test]
async fn a_unit_admin_sees_only_their_unit_and_an_auditor_changes_nothing() {
    let s = setup_on(Backends::default());
    person(
        &s,
        "truongphong",
        "Lê Văn Đức",
        NOI_VU,
        false,
        Some("unit_admin"),
    );
    person(
        &s,
        "kiemtra",
        "Phạm Thu Hà",
        TAI_CHINH,
        false,
        Some("auditor"),
    );
    person(&s, "hungnv", "Nguyễn Văn Hùng", NOI_VU, false, None);
    person(&s, "lantt", "Trần Thị Lan", TAI_CHINH, false, None);
    let hung = id_of(&s, "hungnv@binhphuoc.gov.vn");
    let lan = id_of(&s, "lantt@binhphuoc.gov.vn");

    let (ua, _) = console_sign_in(&s, "truongphong").await;
    let (_, html) = get(&ua, &s, "/admin/people").await;
    assert!(
        html.contains("Nguyễn Văn Hùng") && !html.contains("Trần Thị Lan"),
        "{html}"
    );
    assert!(html.contains("Bạn chỉ xem được người dùng của đơn vị Sở Nội vụ."));
    let (_, html) = get(&ua, &s, "/admin/people?unit=S%E1%BB%9F+T%C3%A0i+ch%C3%ADnh").await;
    assert!(
        !html.contains("Trần Thị Lan"),
        "the unit asked for is ignored"
    );
    // Another unit's person is "not found", exactly like nobody.
    let (st, other) = get(&ua, &s, &format!("/admin/people/{lan}")).await;
    let (st2, nobody) = get(&ua, &s, "/admin/people/no-such-id").await;
    assert_eq!((st, st2), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND));
    let strip = |h: &str| h.split("<code>").next().unwrap().to_owned();
    assert_eq!(strip(&other), strip(&nobody));
    let (_, html) = get(&ua, &s, &format!("/admin/people/{hung}")).await;
    let (st, _) = submit(
        &ua,
        &s,
        &format!("/admin/people/{lan}/disable"),
        Some(&html),
        &[],
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // Roles: clerk yes; unit or super administrator never.
    let roles = format!("/admin/people/{hung}/roles");
    assert!(html.contains(r#"value="clerk""#) && !html.contains(r#"value="super_admin""#));
    let (st, _) = submit(
        &ua,
        &s,
        &roles,
        Some(&html),
        &[("role", "super_admin"), ("op", "grant")],
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, to) = submit(
        &ua,
        &s,
        &roles,
        Some(&html),
        &[("role", "clerk"), ("op", "grant")],
    )
    .await;
    assert_eq!(
        (st, to.unwrap()),
        (
            StatusCode::SEE_OTHER,
            format!("/admin/people/{hung}?done=granted")
        )
    );
    let (_, html) = get(&ua, &s, &format!("/admin/people/{hung}?done=granted")).await;
    assert!(
        html.contains("Đã cấp vai trò.") && html.contains("Văn thư"),
        "{html}"
    );
    // Unlock and reset factors are the unit administrator's too; both audited with them as actor.
    let (st, _) = submit(
        &ua,
        &s,
        &format!("/admin/people/{hung}/unlock"),
        Some(&html),
        &[],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (st, _) = submit(
        &ua,
        &s,
        &format!("/admin/people/{hung}/reset-factors"),
        Some(&html),
        &[],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let ua_id = id_of(&s, "truongphong@binhphuoc.gov.vn");
    let events = audit_events(&s.idp).await;
    for kind in [
        "admin.role_granted",
        "admin.unlocked",
        "admin.factors_reset",
    ] {
        let e = events
            .iter()
            .find(|e| e.kind == kind)
            .unwrap_or_else(|| panic!("{kind}"));
        assert_eq!(e.actor.as_deref(), Some(ua_id.as_str()), "{kind}");
        assert_eq!(
            e.subject.as_deref(),
            Some("hungnv@binhphuoc.gov.vn"),
            "{kind}"
        );
    }
    // The unit administrator's audit log is about their unit's people.
    let (_, html) = get(&ua, &s, "/admin/audit").await;
    assert!(
        html.contains("hungnv@binhphuoc.gov.vn") && !html.contains("lantt@binhphuoc.gov.vn"),
        "{html}"
    );

    // The auditor reads everything and changes nothing.
    let (aud, _) = console_sign_in(&s, "kiemtra").await;
    let (st, html) = get(&aud, &s, &format!("/admin/people/{hung}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        !html.contains("/disable\"") && !html.contains("name=\"role\""),
        "no buttons: {html}"
    );
    // The token of any of their pages (the console shows them no form).
    let (_, html) = get(&aud, &s, "/account").await;
    for action in ["disable", "enable", "unlock", "reset-factors"] {
        let (st, _) = submit(
            &aud,
            &s,
            &format!("/admin/people/{hung}/{action}"),
            Some(&html),
            &[],
        )
        .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{action}");
    }
    let (st, _) = submit(
        &aud,
        &s,
        &roles,
        Some(&html),
        &[("role", "auditor"), ("op", "grant")],
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // Filters: kind and subject; the CSV is the same selection.
    let (_, html) = get(
        &aud,
        &s,
        "/admin/audit?kind=admin.role_granted&subject=hungnv%40binhphuoc.gov.vn",
    )
    .await;
    assert!(html.contains("role clerk; before -; after clerk"), "{html}");
    assert!(!html.contains("admin.unlocked</code>"), "{html}");
    let r = aud
        .get(&s.idp.url("/admin/audit.csv?kind=admin.unlocked"))
        .await;
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = r.text().await.unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.contains("admin.unlocked") && !csv.contains("admin.role_granted"));
    let (_, html) = get(&aud, &s, "/admin/units").await;
    assert!(html.contains("Sở Nội vụ") && html.contains("Sở Tài chính"));
}
