//! Sign-in under attack (issue 11): a directory entry that claims someone
//! else's address, parallel guesses against the brute-force guard on one
//! node and on two nodes sharing Redis, one address spraying many accounts,
//! and the same work (one hash, one directory search, one bind) for every
//! kind of account so the time taken tells nothing.

use std::time::Duration;

use reqwest::StatusCode;

use crate::browser::{Browser, hidden};
use crate::harness::Slapd;
use crate::harness::{Backends, Idp, PASSWORD, Redis, audit_events};

const INVALID: &str = "Tài khoản hoặc mật khẩu không đúng.";

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A browser on the sign-in form of `node`, ready to post.
struct Ready {
    browser: Browser,
    csrf: String,
    base: String,
}

async fn ready(node: &Idp) -> Ready {
    let browser = Browser::new();
    let html = browser.get(&node.url("/login")).await.text().await.unwrap();
    Ready {
        csrf: hidden(&html, "csrf").unwrap(),
        browser,
        base: node.base.clone(),
    }
}

/// Posts the form; the status and what the page says.
async fn post(r: Ready, account: String, password: String) -> (StatusCode, String) {
    let resp = r
        .browser
        .http
        .post(format!("{}/login", r.base))
        .form(&[
            ("csrf", r.csrf.as_str()),
            ("account", account.as_str()),
            ("password", password.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let html = resp.text().await.unwrap();
    let said = if html.contains(INVALID) {
        "wrong"
    } else if html.contains("Vui lòng chờ") {
        "wait"
    } else if html.contains("tạm thời không thể đăng nhập") {
        "locked"
    } else if html.contains("từ mạng này") {
        "address"
    } else {
        ""
    };
    (status, said.to_owned())
}

async fn attempt(node: &Idp, account: &str, password: &str) -> (StatusCode, String) {
    post(ready(node).await, account.into(), password.into()).await
}

/// Every try of `tries` at once (the forms are fetched first, then all
/// posted together), spread over `nodes`.
async fn burst(nodes: &[&Idp], tries: Vec<(String, String)>) -> Vec<(StatusCode, String)> {
    let mut forms = Vec::new();
    for (i, t) in tries.into_iter().enumerate() {
        forms.push((ready(nodes[i % nodes.len()]).await, t));
    }
    let tasks: Vec<_> = forms
        .into_iter()
        .map(|(r, (a, p))| tokio::spawn(post(r, a, p)))
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// Wrong passwords checked for `subject`, as the audit log has them.
async fn failures(node: &Idp, subject: &str) -> usize {
    audit_events(node)
        .await
        .iter()
        .filter(|e| e.kind == "auth.login_failed" && e.subject.as_deref() == Some(subject))
        .count()
}

/// 150 wrong passwords at once for one account (and for an unknown one),
/// then wrong ones one by one until the lock: exactly `lock_after` (3)
/// passwords are ever checked, and the right password is refused.
async fn parallel_guesses_stop_at_the_policy(nodes: &[&Idp]) {
    for (account, right) in [("tamtt", PASSWORD), ("khongco", "whatever-1")] {
        let subject = format!("{account}@binhphuoc.gov.vn");
        let tries = (0..150)
            .map(|i| (account.to_owned(), format!("wrong-{i}")))
            .collect();
        let answers = burst(nodes, tries).await;
        let checked = answers.iter().filter(|(_, s)| s == "wrong").count();
        assert!(
            (1..=3).contains(&checked),
            "{checked} of 150 parallel guesses were checked: {answers:?}"
        );
        assert!(
            answers
                .iter()
                .all(|(st, s)| (st.as_u16(), s.as_str()) == (200, "wrong")
                    || (st.as_u16() == 429 && (s == "wait" || s == "locked"))),
            "{answers:?}"
        );
        assert_eq!(failures(nodes[0], &subject).await, checked);
        // One by one until the lock.
        let mut locked = false;
        for i in 0..10 {
            let (_, said) = attempt(nodes[i % nodes.len()], account, "wrong-again").await;
            if said == "locked" {
                locked = true;
                break;
            }
            if said == "wait" {
                tokio::time::sleep(Duration::from_millis(1100)).await;
            }
        }
        assert!(locked, "{account} is locked");
        assert_eq!(
            failures(nodes[0], &subject).await,
            3,
            "exactly lock_after wrong passwords of {account} were ever checked"
        );
        // Then the right password, on every node, alone and amid a burst.
        for node in nodes {
            assert_eq!(
                attempt(node, account, right).await,
                (StatusCode::TOO_MANY_REQUESTS, "locked".to_owned())
            );
        }
        let mut tries: Vec<(String, String)> = (0..20)
            .map(|i| (account.to_owned(), format!("wrong-{i}")))
            .collect();
        tries.push((account.to_owned(), right.to_owned()));
        for (st, said) in burst(nodes, tries).await {
            assert_eq!(st, StatusCode::TOO_MANY_REQUESTS, "{said}");
        }
        assert_eq!(failures(nodes[0], &subject).await, 3);
    }
}

fn guard_env() -> Vec<(String, String)> {
    vars(&[
        ("IDP_BRUTE_FORCE__FREE_FAILURES", "2"),
        ("IDP_BRUTE_FORCE__MAX_DELAY_SECS", "1"),
        ("IDP_BRUTE_FORCE__LOCK_AFTER", "3"),
        ("IDP_BRUTE_FORCE__LOCK_SECS", "600"),
        // Not the address rules here: every try comes from 127.0.0.1.
        ("IDP_BRUTE_FORCE__IP_FAILURES", "10000"),
        ("IDP_HTTP__RATE_LIMIT_REQUESTS", "100000"),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_guesses_on_one_node_are_checked_no_more_than_the_policy_allows() {
    let idp = Idp::spawn(&Backends {
        env: guard_env(),
        ..Backends::default()
    });
    idp.add_person();
    parallel_guesses_stop_at_the_policy(&[&idp]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_guesses_on_two_nodes_sharing_redis_are_checked_no_more_than_the_policy_allows() {
    let redis = Redis::start();
    let b = Backends {
        redis_url: Some(redis.url.clone()),
        env: guard_env(),
        ..Backends::default()
    };
    let a = Idp::spawn(&b);
    let other = a.sibling(&b);
    a.add_person();
    parallel_guesses_stop_at_the_policy(&[&a, &other]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_spraying_many_accounts_at_once_stops_at_its_limit() {
    let redis = Redis::start();
    let b = Backends {
        redis_url: Some(redis.url.clone()),
        env: vars(&[("IDP_BRUTE_FORCE__IP_FAILURES", "5")]),
        ..Backends::default()
    };
    let a = Idp::spawn(&b);
    let other = a.sibling(&b);
    a.add_person();
    // Tâm signs in from here as every day.
    assert_eq!(
        attempt(&a, "tamtt", PASSWORD).await.0,
        StatusCode::SEE_OTHER
    );
    let tries = (0..100)
        .map(|i| (format!("nguoi{i}"), "guess".to_owned()))
        .collect();
    let answers = burst(&[&a, &other], tries).await;
    let checked = answers.iter().filter(|(_, s)| s == "wrong").count();
    assert_eq!(checked, 5, "{answers:?}");
    assert_eq!(
        answers.iter().filter(|(_, s)| s == "address").count(),
        95,
        "{answers:?}"
    );
    let failed = audit_events(&a)
        .await
        .iter()
        .filter(|e| e.kind == "auth.login_failed")
        .count();
    assert_eq!(failed, 5);
    // Tâm still gets in, amid another burst.
    let mut tries: Vec<(String, String)> = (0..20)
        .map(|i| (format!("khac{i}"), "guess".to_owned()))
        .collect();
    tries.push(("tamtt".into(), PASSWORD.into()));
    let answers = burst(&[&a, &other], tries).await;
    assert_eq!(answers.last().unwrap().0, StatusCode::SEE_OTHER);
    assert!(answers[..20].iter().all(|(_, s)| s == "address"));
}

/// An entry added to the directory at test time.
fn entry(uid: &str, mails: &[&str], password: &str) -> String {
    let mut e = format!(
        "dn: uid={uid},{base}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: Kẻ giả danh {uid}\nsn: {uid}\nou: Phòng thử nghiệm\nuserPassword: {password}\n",
        base = crate::harness::slapd::BASE_DN
    );
    for m in mails {
        e.push_str(&format!("mail: {m}\n"));
    }
    e
}

fn line_of(list: &str, email: &str) -> String {
    list.lines()
        .find(|l| l.starts_with(email))
        .unwrap_or_else(|| panic!("{email} in {list}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_entry_never_takes_over_another_account() {
    let slapd = Slapd::start();
    let idp = Idp::spawn(&Backends {
        env: slapd.env(),
        ..Backends::default()
    });
    let d = "binhphuoc.gov.vn";
    // Local accounts: an administrator, a contractor, and one without a password.
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
    idp.cli_ok(
        &[
            "user",
            "add",
            "nhathau",
            "--name",
            "Nhà thầu",
            "--password-stdin",
        ],
        Some(PASSWORD),
    );
    idp.cli_ok(
        &["user", "add", "khongmk", "--name", "Chưa có mật khẩu"],
        None,
    );
    // A directory person who has signed in before.
    assert_eq!(
        attempt(&idp, "huongvm", "Pw-huongvm-9123").await.0,
        StatusCode::SEE_OTHER
    );
    let before = idp.cli_ok(&["user", "list"], None);

    // People who can edit their own entry's mail.
    let quantri = format!("quantri@{d}");
    let nhathau = format!("nhathau@{d}");
    let huongvm = format!("huongvm@{d}");
    let ldif = [
        entry("evil1", &[&quantri], "Pw-evil-1"),
        entry("evil2", &[&nhathau], "Pw-evil-2"),
        entry("evil3", &[&quantri, &format!("evil3@{d}")], "Pw-evil-3"),
        entry("evil4", &["evil4@gmail.com"], "Pw-evil-4"),
        entry("evil5", &[&huongvm], "Pw-evil-5"),
        entry("khongmk", &[&format!("khongmk@{d}")], "Pw-khongmk-1"),
    ]
    .join("\n");
    slapd.admin("ldapadd", &[], &ldif);

    // Each attack, all at once (the concurrent case), and again one by one.
    let attacks: Vec<(String, String)> = [
        ("evil1", "Pw-evil-1"),
        ("evil2", "Pw-evil-2"),
        ("evil3", "Pw-evil-3"),
        ("evil3@binhphuoc.gov.vn", "Pw-evil-3"),
        ("evil4@gmail.com", "Pw-evil-4"),
        ("evil5", "Pw-evil-5"),
        ("huongvm", "Pw-evil-5"),
        ("quantri", "Pw-evil-1"),
        ("nhathau", "Pw-evil-2"),
        ("khongmk", "Pw-khongmk-1"),
    ]
    .iter()
    .map(|(a, p)| (a.to_string(), p.to_string()))
    .collect();
    // (evil3 typed twice would share one account's turn: once at a time.)
    let at_once: Vec<(String, String)> = attacks
        .iter()
        .filter(|(a, _)| a != "evil3@binhphuoc.gov.vn")
        .cloned()
        .collect();
    let answers = burst(&[&idp], at_once.clone()).await;
    for (i, (st, said)) in answers.into_iter().enumerate() {
        assert_eq!(
            (st, said.as_str()),
            (StatusCode::OK, "wrong"),
            "{:?}",
            at_once[i]
        );
    }
    for (a, p) in &attacks {
        assert_eq!(
            attempt(&idp, a, p).await,
            (StatusCode::OK, "wrong".to_owned()),
            "{a}"
        );
    }

    // Nothing changed hands: the owners' passwords still work, the rows are theirs.
    assert_eq!(idp.cli_ok(&["user", "list"], None), before);
    assert!(line_of(&before, &quantri).contains("admin,password"));
    assert_eq!(
        attempt(&idp, "nhathau", PASSWORD).await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        attempt(&idp, "quantri", PASSWORD).await.0,
        StatusCode::SEE_OTHER,
        "to the administrator's second factor"
    );
    // While two entries claim her address the directory is ambiguous: refused, not taken over.
    assert_eq!(
        attempt(&idp, "huongvm", "Pw-huongvm-9123").await,
        (StatusCode::OK, "wrong".to_owned())
    );
    let refused: Vec<String> = audit_events(&idp)
        .await
        .into_iter()
        .filter(|e| e.kind == "auth.directory_refused")
        .map(|e| format!("{} {}", e.subject.unwrap(), e.detail.unwrap()))
        .collect();
    for who in [
        "evil1@",
        "evil2@",
        "evil3@",
        "evil4@gmail.com",
        "evil5@",
        "khongmk@",
    ] {
        assert!(
            refused.iter().any(|r| r.starts_with(who)),
            "{who} audited: {refused:?}"
        );
    }

    // The sync: the same entries change nothing, and are audited.
    let out = idp.cli_ok(&["directory", "sync"], None);
    let after = idp.cli_ok(&["user", "list"], None);
    for local in [&quantri, &nhathau, &format!("khongmk@{d}")] {
        assert_eq!(line_of(&after, local), line_of(&before, local), "{out}");
    }
    assert_eq!(
        line_of(&after, &huongvm),
        line_of(&before, &huongvm),
        "two entries claim huongvm: neither is imported over the row"
    );
    for absent in ["evil1@", "evil2@", "evil3@", "evil4@", "evil5@"] {
        assert!(!after.contains(absent), "{absent} imported: {after}");
    }
    let synced: Vec<String> = audit_events(&idp)
        .await
        .into_iter()
        .filter(|e| e.kind == "directory.refused")
        .map(|e| format!("{} {}", e.subject.unwrap(), e.detail.unwrap()))
        .collect();
    for what in [
        "huongvm@binhphuoc.gov.vn 2 directory entries claim",
        "quantri@binhphuoc.gov.vn a directory entry claims this local account",
        "khongmk@binhphuoc.gov.vn a directory entry claims this local account",
        "uid=evil3,",
        "uid=evil4,",
    ] {
        assert!(
            synced.iter().any(|s| s.starts_with(what)),
            "{what} in {synced:?}"
        );
    }

    // The false claim removed, the owner signs in again, as herself.
    slapd.admin(
        "ldapdelete",
        &[&format!("uid=evil5,{}", crate::harness::slapd::BASE_DN)],
        "",
    );
    let (b, r) = {
        let b = Browser::new();
        let r = b
            .submit_login(&idp.base, &idp.url("/login"), "huongvm", "Pw-huongvm-9123")
            .await;
        (b, r)
    };
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let home = b.get(&idp.url("/")).await.text().await.unwrap();
    assert!(!home.contains("Kẻ giả danh"), "{home}");
}

const METRICS_TOKEN: &str = "metrics-token-of-the-test";

/// The counters of password hashes, directory searches and binds.
async fn work(idp: &Idp) -> [u64; 3] {
    let text = reqwest::Client::new()
        .get(idp.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let value = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} in {text}"))
            .trim()
            .parse()
            .unwrap()
    };
    [
        value("idp_password_checks_total"),
        value("idp_directory_searches_total"),
        value("idp_directory_binds_total"),
    ]
}

#[tokio::test]
async fn every_account_costs_one_hash_one_search_and_one_bind() {
    let slapd = Slapd::start();
    let mut env = slapd.env();
    env.extend(vars(&[("IDP_HTTP__METRICS_TOKEN", METRICS_TOKEN)]));
    let idp = Idp::spawn(&Backends {
        env,
        ..Backends::default()
    });
    idp.cli_ok(
        &[
            "user",
            "add",
            "nhathau",
            "--name",
            "Nhà thầu",
            "--password-stdin",
        ],
        Some(PASSWORD),
    );
    idp.cli_ok(
        &["user", "add", "khongmk", "--name", "Chưa có mật khẩu"],
        None,
    );
    for (account, password, expect) in [
        ("khongco", "Pw-khongco-1234", StatusCode::OK),
        ("khongco@gmail.com", "x", StatusCode::OK),
        ("huonglh", "Pw-huonglh-0000", StatusCode::OK),
        ("huonglh", "", StatusCode::OK),
        ("huonglh", "Pw-huonglh-8297", StatusCode::SEE_OTHER),
        ("nhathau", "wrong-1", StatusCode::OK),
        ("nhathau", PASSWORD, StatusCode::SEE_OTHER),
        ("khongmk", "wrong-1", StatusCode::OK),
    ] {
        let before = work(&idp).await;
        let (status, _) = attempt(&idp, account, password).await;
        assert_eq!(status, expect, "{account}");
        let after = work(&idp).await;
        let spent: Vec<u64> = after.iter().zip(before).map(|(a, b)| a - b).collect();
        assert_eq!(spent, vec![1, 1, 1], "{account}: hashes, searches, binds");
    }
}

/// A browser that goes away while its password is being checked leaves no
/// reservation behind: the owner signs in right after, not a minute later.
#[tokio::test]
async fn a_try_abandoned_mid_check_does_not_hold_the_account() {
    let idp = Idp::spawn(&Backends {
        // A hash slow enough to leave in the middle of.
        env: vars(&[
            ("IDP_PASSWORD__MEMORY_KIB", "65536"),
            ("IDP_PASSWORD__ITERATIONS", "12"),
        ]),
        ..Backends::default()
    });
    idp.add_person();
    {
        let r = ready(&idp).await;
        let left = r
            .browser
            .http
            .post(format!("{}/login", r.base))
            .form(&[
                ("csrf", r.csrf.as_str()),
                ("account", "tamtt"),
                ("password", "a wrong guess"),
            ])
            .timeout(Duration::from_millis(100))
            .send()
            .await;
        assert!(
            left.as_ref().is_err_and(reqwest::Error::is_timeout),
            "the browser left before the answer: {left:?}"
        );
    }
    // Once the abandoned check has finished (a few seconds; longer on a
    // loaded machine), the owner is let in: well before the reservation's
    // minute would have run out.
    let start = std::time::Instant::now();
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (status, said) = post(ready(&idp).await, "tamtt".into(), PASSWORD.into()).await;
        if status == StatusCode::SEE_OTHER {
            break;
        }
        assert_eq!(said, "wait", "{status}");
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "still held after 40 s"
        );
    }
}

/// An address in another domain finds the entry by its `uid`, but no
/// password is tried on that entry: the right and a wrong password get the
/// same answer and the same audit record (the directory's own counters and
/// the person's mailbox are never reached through another spelling).
#[tokio::test]
async fn another_spelling_of_an_address_tries_no_password_on_the_entry() {
    let slapd = Slapd::start();
    let idp = Idp::spawn(&Backends {
        env: slapd.env(),
        ..Backends::default()
    });
    let refused = |events: &[idp::store::AuditEvent], who: &str| {
        events
            .iter()
            .filter(|e| e.kind == "auth.directory_refused" && e.subject.as_deref() == Some(who))
            .count()
    };
    for (who, password) in [
        ("huongvm@khac.example", "Pw-huongvm-9123"),
        ("huongvm@hcm.gov.vn", "a wrong guess"),
    ] {
        let (status, said) = attempt(&idp, who, password).await;
        assert_eq!(status, StatusCode::OK, "{said}");
        assert_eq!(said, "wrong", "{who}");
        assert_eq!(refused(&audit_events(&idp).await, who), 1, "{who}");
    }
    // The owner, as the directory names them, still signs in.
    assert_eq!(
        attempt(&idp, "huongvm", "Pw-huongvm-9123").await.0,
        StatusCode::SEE_OTHER
    );
}
