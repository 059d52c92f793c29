//! The work calendar (lịch công tác): a `;`-separated CSV export, UTF-8
//! without a byte-order mark, `user;display_name;mail;phone;unit`. It writes
//! no status: every account is active.

use super::Layout;
use super::settings::{FieldNames, TextEncoding};

pub(crate) fn layout() -> Layout {
    Layout::Csv {
        delimiter: b';',
        encoding: TextEncoding::Utf8,
        fields: FieldNames {
            username: "user".into(),
            display_name: "display_name".into(),
            email: "mail".into(),
            phone: "phone".into(),
            unit: "unit".into(),
            status: String::new(),
            active_values: Vec::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use crate::legacy::Format;
    use crate::legacy::tests::{fixture, read_bytes};

    #[tokio::test]
    async fn reads_the_fixture_export() {
        let accounts = read_bytes(Format::Calendar, &fixture("calendar-users.csv"))
            .await
            .unwrap();
        assert_eq!(accounts.len(), 266);
        let a = &accounts[0];
        assert_eq!(a.username, "quyenlam");
        assert_eq!(a.display_name, "Lâm Kim Quyên");
        assert_eq!(a.phone.as_deref(), Some("84886600453"));
        assert_eq!(a.unit.as_deref(), Some("Sở Nội vụ"));
        assert!(accounts.iter().all(|a| a.active));
    }

    #[tokio::test]
    async fn a_comma_separated_file_is_not_taken_for_it() {
        let e = read_bytes(
            Format::Calendar,
            b"user,display_name,mail,phone,unit\r\na,A,,,\r\n",
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("no column \"user\""), "{e}");
    }
}
