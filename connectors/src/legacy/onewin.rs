//! Onewin (the one-stop document app): its user API, and the same JSON saved
//! to a file. `{"data": [{"tenDangNhap", "hoTen", "email", "soDienThoai",
//! "donVi", "trangThai"}], "total": N}`; `trangThai` is `hoat_dong` for an
//! active account, anything else (`khoa`, `ngung_hoat_dong`, …) inactive, and
//! an account without it active. Over HTTP, page it with `paging`.

use super::Layout;
use super::settings::FieldNames;

pub(crate) fn layout() -> Layout {
    Layout::Json(FieldNames {
        username: "data[].tenDangNhap".into(),
        display_name: "data[].hoTen".into(),
        email: "data[].email".into(),
        phone: "data[].soDienThoai".into(),
        unit: "data[].donVi".into(),
        status: "data[].trangThai".into(),
        active_values: vec!["hoat_dong".into()],
    })
}

#[cfg(test)]
mod tests {
    use crate::legacy::Format;
    use crate::legacy::tests::{fixture, read_bytes};

    #[tokio::test]
    async fn reads_the_fixture_export() {
        let accounts = read_bytes(Format::Onewin, &fixture("onewin-users.json"))
            .await
            .unwrap();
        assert_eq!(accounts.len(), 313);
        let a = accounts.iter().find(|a| a.username == "vuvannam").unwrap();
        assert_eq!(a.display_name, "Vũ Văn Nam");
        assert_eq!(
            a.email.as_deref(),
            Some("namvv@binhphuoc.gov.vn"),
            "trimmed"
        );
        assert_eq!(a.phone, None, "empty is absent");
        assert_eq!(a.unit.as_deref(), Some("Sở Tài chính"));
        assert!(accounts.iter().all(|a| a.active));
    }

    #[tokio::test]
    async fn a_status_other_than_hoat_dong_is_inactive() {
        let doc = r#"{"data": [
            {"tenDangNhap": "a", "hoTen": "A", "trangThai": "hoat_dong"},
            {"tenDangNhap": "b", "hoTen": "B", "trangThai": "khoa"},
            {"tenDangNhap": "c", "hoTen": "C"}
        ], "total": 3}"#;
        let accounts = read_bytes(Format::Onewin, doc.as_bytes()).await.unwrap();
        assert_eq!(
            accounts.iter().map(|a| a.active).collect::<Vec<_>>(),
            [true, false, true]
        );
    }
}
