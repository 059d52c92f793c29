//! The directory suite: the LDAP directory (a real `slapd` holding
//! `tests/fixtures/directory/people.ldif`) and the in-memory one answer a
//! password check and a listing the same way, for the same people.

use std::time::Duration;

use base64::Engine;
use connectors::{
    AttributeMap, Directory, DirectoryError, Identity, LdapDirectory, LdapSettings, LoginOutcome,
    MemoryDirectory, Password,
};

use crate::harness::Slapd;
use crate::harness::slapd::{ADMIN_DN, ADMIN_PASSWORD, BASE_DN};

/// A person the suite adds to each directory: their uid, the address as the
/// directory stores it (not normalised), the password, and who they are.
struct Person {
    uid: &'static str,
    stored_mail: &'static str,
    password: &'static str,
    identity: fn() -> Identity,
}

const PEOPLE: [Person; 2] = [
    Person {
        uid: "suite.an",
        // Stored in mixed case: the account is the lower-case address.
        stored_mail: "Suite.An@BinhPhuoc.Gov.VN",
        password: "Mật-khẩu-An-2024!",
        identity: || Identity {
            email: "suite.an@binhphuoc.gov.vn".into(),
            name: "Nguyễn Văn An".into(),
            phone: Some("0888778078".into()),
            unit: Some("Sở Nội vụ".into()),
            title: Some("Chuyên viên".into()),
            employee_code: Some("E-0001".into()),
            department: Some("Phòng Tổ chức cán bộ".into()),
        },
    },
    Person {
        uid: "suite.binh",
        stored_mail: "suite.binh@binhphuoc.gov.vn",
        password: "another-long-password",
        identity: || Identity {
            email: "suite.binh@binhphuoc.gov.vn".into(),
            name: "Trần Thị Bình".into(),
            phone: None,
            unit: Some("Sở Tài chính".into()),
            title: None,
            employee_code: None,
            department: None,
        },
    },
];

async fn directory_suite<D: Directory>(d: &D) {
    let [an, binh] = &PEOPLE;

    // The right password: that person, with every field the directory holds.
    for p in &PEOPLE {
        let want = (p.identity)();
        assert_eq!(
            d.authenticate(&want.email, p.password).await.unwrap(),
            LoginOutcome::Authenticated(want),
            "{} signs in",
            p.uid
        );
    }

    // Every refusal is the one outcome, so a caller cannot tell them apart.
    let an_mail = (an.identity)().email;
    let refused = [
        (an_mail.as_str(), binh.password, "another person's password"),
        (an_mail.as_str(), "Mật-khẩu-An-2024", "a wrong password"),
        (an_mail.as_str(), "", "the empty password"),
        ("nobody@binhphuoc.gov.vn", an.password, "an unknown account"),
        // The address as stored, not normalised, is not the account.
        (an.stored_mail, an.password, "an address not normalised"),
    ];
    for (account, password, what) in refused {
        assert_eq!(
            d.authenticate(account, password).await.unwrap(),
            LoginOutcome::InvalidCredentials,
            "{what} is refused"
        );
    }

    // Listing: everyone once, by normalised address, with their fields.
    let people = d.list_people().await.unwrap();
    for p in &PEOPLE {
        let want = (p.identity)();
        let found: Vec<&Identity> = people.iter().filter(|i| i.email == want.email).collect();
        assert_eq!(found, vec![&want], "{} is listed once", p.uid);
    }
    assert!(
        people
            .iter()
            .all(|i| i.email == i.email.trim().to_lowercase()),
        "every listed address is normalised"
    );
}

#[tokio::test]
async fn memory_directory_conformance() {
    let d = MemoryDirectory::new();
    for p in &PEOPLE {
        d.insert(
            Identity {
                email: p.stored_mail.into(),
                ..(p.identity)()
            },
            Password::Plain(p.password.into()),
        );
    }
    directory_suite(&d).await;
}

fn ldap_settings(url: &str) -> LdapSettings {
    LdapSettings {
        url: url.to_owned(),
        bind_dn: ADMIN_DN.into(),
        bind_password: ADMIN_PASSWORD.into(),
        base_dn: BASE_DN.into(),
        user_filter: "(|(mail={email})(uid={local}))".into(),
        people_filter: "(objectClass=inetOrgPerson)".into(),
        starttls: false,
        timeout: Duration::from_secs(2),
        pool_size: 2,
        attributes: AttributeMap::default(),
    }
}

/// The suite's people as LDIF: non-ASCII values in base64 (RFC 2849).
fn ldif(p: &Person) -> String {
    let i = (p.identity)();
    let b64 = |v: &str| base64::engine::general_purpose::STANDARD.encode(v);
    let mut out = format!(
        "dn: uid={uid},{BASE_DN}\nobjectClass: inetOrgPerson\nuid: {uid}\nmail: {mail}\n\
         cn:: {cn}\nsn:: {cn}\nuserPassword:: {pw}\n",
        uid = p.uid,
        mail = p.stored_mail,
        cn = b64(&i.name),
        pw = b64(p.password),
    );
    for (attr, value) in [
        ("telephoneNumber", &i.phone),
        ("ou", &i.unit),
        ("title", &i.title),
        ("employeeNumber", &i.employee_code),
        ("departmentNumber", &i.department),
    ] {
        if let Some(v) = value {
            out.push_str(&format!("{attr}:: {}\n", b64(v)));
        }
    }
    out
}

#[tokio::test]
async fn ldap_directory_conformance() {
    let slapd = Slapd::start();
    let entries: Vec<String> = PEOPLE.iter().map(ldif).collect();
    slapd.admin("ldapadd", &[], &entries.join("\n"));
    let d =
        LdapDirectory::new(ldap_settings(&slapd.url)).with_mail_domain(Some("binhphuoc.gov.vn"));
    directory_suite(&d).await;
    // The fixture's people are listed too.
    let people = d.list_people().await.unwrap();
    assert!(people.len() >= 400, "{} people listed", people.len());
}

#[tokio::test]
async fn an_unreachable_ldap_directory_is_unavailable_not_a_wrong_password() {
    let nothing = format!("ldap://127.0.0.1:{}", crate::harness::free_port());
    let d = LdapDirectory::new(ldap_settings(&nothing));
    let an = &PEOPLE[0];
    assert!(matches!(
        d.authenticate(&(an.identity)().email, an.password).await,
        Err(DirectoryError::Unavailable(_))
    ));
    assert!(matches!(
        d.list_people().await,
        Err(DirectoryError::Unavailable(_))
    ));
}
