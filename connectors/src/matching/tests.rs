//! `suggest` on small hand-made cases: each rule, each ambiguity.

use super::*;

fn person(email: &str, name: &str, phone: Option<&str>, unit: &str) -> Person {
    Person {
        email: email.to_owned(),
        name: name.to_owned(),
        phone: phone.map(str::to_owned),
        unit: Some(unit.to_owned()),
    }
}

fn account(
    username: &str,
    name: &str,
    email: Option<&str>,
    phone: Option<&str>,
    unit: &str,
) -> LegacyAccount {
    LegacyAccount {
        username: username.to_owned(),
        display_name: name.to_owned(),
        email: email.map(str::to_owned),
        phone: phone.map(str::to_owned),
        unit: Some(unit.to_owned()),
        active: true,
    }
}

const NOI_VU: &str = "Sở Nội vụ";

fn people() -> Vec<Person> {
    vec![
        person(
            "tamtt@binhphuoc.gov.vn",
            "Trương Thanh Tâm",
            Some("0888778078"),
            NOI_VU,
        ),
        person(
            "hungnv@binhphuoc.gov.vn",
            "Nguyễn Văn Hùng",
            Some("0271 3879 123"),
            NOI_VU,
        ),
        person(
            "hungnv2@binhphuoc.gov.vn",
            "Nguyễn Văn Hùng",
            Some("02713879123"),
            NOI_VU,
        ),
        person(
            "lanpt@binhphuoc.gov.vn",
            "Phạm Thị Lan",
            Some("01688778079"),
            "Sở Tài chính",
        ),
    ]
}

fn one(s: &[Suggestion]) -> &Suggestion {
    assert_eq!(s.len(), 1, "{s:#?}");
    &s[0]
}

#[test]
fn the_same_email_is_an_exact_match() {
    let s = suggest(
        &people(),
        &[account(
            "x",
            "X",
            Some(" tamtt@binhphuoc.gov.vn "),
            None,
            "",
        )],
    );
    let s = one(&s);
    assert_eq!(
        (s.username.as_str(), s.email.as_str()),
        ("x", "tamtt@binhphuoc.gov.vn")
    );
    assert_eq!((s.reason, s.confidence), (Reason::Email, 100));
    assert!(s.is_exact());
}

#[test]
fn an_email_written_differently_is_a_variant_and_still_exact() {
    for written in [
        "TamTT@BinhPhuoc.gov.vn",
        "tamtt @binhphuoc.gov.vn",
        "tamtt@binhphuoc.gov.vn.x",
    ] {
        let s = suggest(&people(), &[account("x", "X", Some(written), None, "")]);
        if written.ends_with(".x") {
            assert!(s.is_empty(), "another address: {written:?}");
            continue;
        }
        let s = one(&s);
        assert_eq!(
            (s.reason, s.confidence),
            (Reason::EmailVariant, 95),
            "{written}"
        );
        assert!(s.is_exact());
    }
}

#[test]
fn a_phone_however_written_is_exact_when_one_person_and_one_account_hold_it() {
    for written in [
        "+84 888 778 078",
        "(+84) 888778078",
        "0888.778.078",
        "84888778078",
    ] {
        let s = suggest(
            &people(),
            &[account("x", "TRUONG THANH TAM", None, Some(written), "")],
        );
        let s = one(&s);
        assert_eq!(
            (s.email.as_str(), s.reason, s.confidence),
            ("tamtt@binhphuoc.gov.vn", Reason::Phone, 90)
        );
        assert!(s.is_exact(), "{written}");
    }
    // The person wrote the old 11-digit number, the account today's; the
    // unit agrees.
    let s = suggest(
        &people(),
        &[account("x", "X", None, Some("0388778079"), "SỞ TÀI CHÍNH")],
    );
    assert_eq!(one(&s).email, "lanpt@binhphuoc.gov.vn");
    assert!(one(&s).is_exact());
}

#[test]
fn a_phone_with_neither_name_nor_unit_alike_is_only_a_hint() {
    // Anyone can type someone else's number on their own profile: a phone
    // alone never links by itself.
    let s = suggest(
        &people(),
        &[account(
            "x",
            "Lê Văn Khác",
            None,
            Some("0888778078"),
            "Sở Y tế",
        )],
    );
    let s = one(&s);
    assert_eq!(
        (s.email.as_str(), s.reason, s.confidence),
        ("tamtt@binhphuoc.gov.vn", Reason::Phone, 70)
    );
    assert!(!s.is_exact());
}

#[test]
fn an_office_line_shared_by_two_people_is_ambiguous() {
    let s = suggest(
        &people(),
        &[account("x", "X", None, Some("0271.3879.123"), "")],
    );
    assert_eq!(s.len(), 2);
    assert!(
        s.iter()
            .all(|s| s.ambiguous && !s.is_exact() && s.confidence == 50)
    );
}

#[test]
fn a_phone_on_two_accounts_of_the_app_is_ambiguous() {
    let accounts = [
        account("a", "A", None, Some("0888778078"), ""),
        account("b", "B", None, Some("+84888778078"), ""),
    ];
    let s = suggest(&people(), &accounts);
    assert_eq!(s.len(), 2);
    assert!(s.iter().all(|s| s.ambiguous && !s.is_exact()));
}

#[test]
fn a_name_in_its_unit_is_suggested_never_exact() {
    let s = suggest(
        &people(),
        &[account("x", "TRUONG THANH TAM", None, None, "so noi vu")],
    );
    let s = one(&s);
    assert_eq!(
        (s.email.as_str(), s.reason, s.confidence),
        ("tamtt@binhphuoc.gov.vn", Reason::Name, 60)
    );
    assert!(!s.ambiguous && !s.is_exact());
    // Another unit: no match.
    assert!(
        suggest(
            &people(),
            &[account("x", "Trương Thanh Tâm", None, None, "Sở Tài chính")]
        )
        .is_empty()
    );
}

#[test]
fn namesakes_in_one_unit_are_all_offered_none_exact() {
    let s = suggest(
        &people(),
        &[account("x", "Nguyen Van Hung", None, None, NOI_VU)],
    );
    let emails: Vec<_> = s.iter().map(|s| s.email.as_str()).collect();
    assert_eq!(
        emails,
        ["hungnv2@binhphuoc.gov.vn", "hungnv@binhphuoc.gov.vn"]
    );
    assert!(
        s.iter()
            .all(|s| s.ambiguous && s.confidence == 40 && !s.is_exact())
    );
}

#[test]
fn a_namesake_does_not_spoil_an_email_match() {
    let s = suggest(
        &people(),
        &[account(
            "x",
            "Nguyễn Văn Hùng",
            Some("hungnv2@binhphuoc.gov.vn"),
            None,
            NOI_VU,
        )],
    );
    let s = one(&s);
    assert_eq!(s.email, "hungnv2@binhphuoc.gov.vn");
    assert!(s.is_exact());
}

#[test]
fn clues_pointing_at_two_people_make_both_ambiguous() {
    // The e-mail is Tâm's, the phone Lan's.
    let s = suggest(
        &people(),
        &[account(
            "x",
            "X",
            Some("tamtt@binhphuoc.gov.vn"),
            Some("0388778079"),
            "",
        )],
    );
    assert_eq!(s.len(), 2);
    assert!(
        s.iter()
            .all(|s| s.ambiguous && !s.is_exact() && s.confidence <= 50)
    );
    // The e-mail is Tâm's, the (unique) name and unit Lan's.
    let s = suggest(
        &people(),
        &[account(
            "x",
            "Phạm Thị Lan",
            Some("tamtt@binhphuoc.gov.vn"),
            None,
            "Sở Tài chính",
        )],
    );
    assert_eq!(s.len(), 2);
    assert!(s.iter().all(|s| !s.is_exact()));
}

#[test]
fn one_suggestion_per_person_with_the_best_reason() {
    let s = suggest(
        &people(),
        &[account(
            "x",
            "Trương Thanh Tâm",
            Some("TAMTT@binhphuoc.gov.vn"),
            Some("0888778078"),
            NOI_VU,
        )],
    );
    let s = one(&s);
    assert_eq!((s.reason, s.confidence), (Reason::EmailVariant, 95));
}

#[test]
fn inactive_accounts_get_nothing() {
    let mut a = account(
        "x",
        "Trương Thanh Tâm",
        Some("tamtt@binhphuoc.gov.vn"),
        Some("0888778078"),
        NOI_VU,
    );
    a.active = false;
    assert!(suggest(&people(), &[a]).is_empty());
}

#[test]
fn an_account_with_no_clue_gets_nothing() {
    let a = account(
        "x",
        "Lê Văn Phong",
        Some("phongle@yahoo.com"),
        Some("không có"),
        NOI_VU,
    );
    assert!(suggest(&people(), &[a]).is_empty());
}

#[test]
fn reasons_round_trip_their_stored_text() {
    for r in [
        Reason::Email,
        Reason::EmailVariant,
        Reason::Phone,
        Reason::Name,
    ] {
        assert_eq!(Reason::parse(r.as_str()), Some(r));
    }
    assert_eq!(Reason::parse("guess"), None);
}
