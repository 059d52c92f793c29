//! Times the console's review-queue pages over HTTP, as an administrator's
//! browser gets them: session, second factor, role check, the query and the
//! page rendered. `tests/bench/link_import.sh` runs it after filling a queue:
//! `cargo bench -p tests --bench console_queue` with BASE, ACCOUNT,
//! PASSWORD, ENROL_CODE (from `idp user enrolment-code`), APP and UNIT in
//! the environment. Prints a Markdown table.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tests::browser::{Browser, hidden, location};

const RUNS: usize = 50;
const SECOND: &str = "/login/second-factor";

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"))
}

/// Posts the second-factor form of `html` with `fields`; returns the status,
/// where it leads and the page.
async fn second(
    b: &Browser,
    base: &str,
    html: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let csrf = hidden(html, "csrf").expect("csrf field");
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    let r = b
        .http
        .post(format!("{base}{SECOND}"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let st = r.status();
    let to = if st.is_redirection() {
        location(&r)
    } else {
        String::new()
    };
    (st, to, r.text().await.unwrap())
}

async fn page(b: &Browser, url: &str) -> String {
    let r = b.get(url).await;
    assert_eq!(r.status(), StatusCode::OK, "{url}");
    r.text().await.unwrap()
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let s = html.find(start).expect(start) + start.len();
    &html[s..s + html[s..].find(end).unwrap()]
}

/// Password, enrolment code, an authenticator, then the console's step-up
/// with a recovery code: what an administrator does once a day.
async fn sign_in(b: &Browser, base: &str) {
    let r = b
        .submit_login(
            base,
            &format!("{base}/login"),
            &var("ACCOUNT"),
            &var("PASSWORD"),
        )
        .await;
    assert_eq!(location(&r), SECOND, "a second factor");
    let html = page(b, &format!("{base}{SECOND}")).await;
    let code = var("ENROL_CODE");
    let (_, _, html) = second(b, base, &html, &[("op", "bootstrap"), ("code", &code)]).await;
    let key: String = between(&html, r#"<code class="key">"#, "</code>")
        .split_whitespace()
        .collect();
    let totp = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(&key).unwrap())
        .build()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let otp = totp.generate(now).to_string();
    let (_, _, html) = second(b, base, &html, &[("op", "enrol_totp"), ("code", &otp)]).await;
    let recovery = between(&html, "<li><code>", "</code>").to_owned();
    second(b, base, &html, &[("op", "done")]).await;
    let r = b.get(&format!("{base}/admin/links")).await;
    assert_eq!(location(&r), SECOND, "the console's step-up");
    let html = page(b, &format!("{base}{SECOND}")).await;
    let (st, _, _) = second(b, base, &html, &[("op", "recovery"), ("code", &recovery)]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
}

/// Median and slowest of RUNS loads of `path`, and the rows on the page.
async fn time(b: &Browser, base: &str, path: &str) -> (Duration, Duration, usize) {
    let url = format!("{base}{path}");
    let mut all = Vec::with_capacity(RUNS);
    let mut rows = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        let html = page(b, &url).await;
        all.push(start.elapsed());
        rows = html.matches(r#"<tr class="suggestion""#).count();
    }
    all.sort();
    (all[RUNS / 2], all[RUNS - 1], rows)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let base = var("BASE");
    let (app, unit) = (var("APP"), var("UNIT"));
    let b = Browser::new();
    sign_in(&b, &base).await;

    // The keyset of a page deep in the queue: follow "next" 20 times.
    let mut deep = format!("/admin/links/queue?app={app}");
    for _ in 0..20 {
        let html = page(&b, &format!("{base}{deep}")).await;
        let next = html.find(r#"" id="more""#).expect("a next page");
        let href = html[..next].rfind(r#"<a href=""#).unwrap() + 9;
        deep = html[href..next].replace("&#38;", "&");
    }
    let unit_q: String = url::form_urlencoded::byte_serialize(unit.as_bytes()).collect();
    let pages = [
        ("first page, no filter", "/admin/links/queue".to_owned()),
        (
            "first page of the app",
            format!("/admin/links/queue?app={app}"),
        ),
        (
            "exact matches only",
            format!("/admin/links/queue?app={app}&exact=1"),
        ),
        (
            "by reason (name)",
            format!("/admin/links/queue?app={app}&reason=name"),
        ),
        ("page 21 (keyset)", deep),
        ("coverage", "/admin/links".to_owned()),
        ("people of a unit", format!("/admin/people?unit={unit_q}")),
    ];
    println!("| console page (HTTP, signed in, {RUNS} loads) | median | slowest | rows |");
    println!("|---|---|---|---|");
    for (what, path) in pages {
        let (median, slowest, rows) = time(&b, &base, &path).await;
        println!(
            "| {what} | {:.1} ms | {:.1} ms | {rows} |",
            median.as_secs_f64() * 1e3,
            slowest.as_secs_f64() * 1e3
        );
    }
}
