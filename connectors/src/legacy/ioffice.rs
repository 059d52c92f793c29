//! VNPT-iOffice: an Excel CSV export, UTF-8 with a byte-order mark, comma
//! separated, `TenDangNhap,HoTen,Email,DienThoai,DonVi`. Usernames are often
//! the e-mail itself. It writes no status: every account is active.

use super::Layout;
use super::settings::{FieldNames, TextEncoding};

pub(crate) fn layout() -> Layout {
    Layout::Csv {
        delimiter: b',',
        encoding: TextEncoding::Utf8,
        fields: FieldNames {
            username: "TenDangNhap".into(),
            display_name: "HoTen".into(),
            email: "Email".into(),
            phone: "DienThoai".into(),
            unit: "DonVi".into(),
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
    async fn reads_the_fixture_export_with_its_byte_order_mark() {
        let bytes = fixture("ioffice-users.csv");
        assert!(bytes.starts_with(b"\xef\xbb\xbf"), "the fixture has a BOM");
        let accounts = read_bytes(Format::Ioffice, &bytes).await.unwrap();
        assert_eq!(accounts.len(), 254);
        assert_eq!(accounts[0].username, "haidt@binhphuoc.gov.vn");
        assert_eq!(accounts[0].display_name, "Đinh Thanh Hải");
        assert_eq!(accounts[0].phone.as_deref(), Some("+84378048196"));
        let a = accounts
            .iter()
            .find(|a| a.username == "dungpx@binhphuoc.gov.vn")
            .unwrap();
        assert_eq!(
            a.email.as_deref(),
            Some("dungpx@binhphuoc.gov.vn"),
            "trimmed"
        );
    }

    #[tokio::test]
    async fn the_same_export_without_bom_reads_the_same() {
        let bytes = fixture("ioffice-users.csv");
        let with = read_bytes(Format::Ioffice, &bytes).await.unwrap();
        let without = read_bytes(Format::Ioffice, &bytes[3..]).await.unwrap();
        assert_eq!(with, without);
    }

    #[tokio::test]
    async fn a_missing_column_is_named() {
        let e = read_bytes(
            Format::Ioffice,
            "TenDangNhap,HoTen,Email,DonVi\r\na,A,,X\r\n".as_bytes(),
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("no column \"DienThoai\""), "{e}");
    }
}
