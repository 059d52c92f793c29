//! eCabinet (paperless meetings): a JSON array of `{"account", "fullName",
//! "mail", "mobile", "organization"}`, from its export or its user API. It
//! writes no status: every account it lists is active.

use super::Layout;
use super::settings::FieldNames;

pub(crate) fn layout() -> Layout {
    Layout::Json(FieldNames {
        username: "[].account".into(),
        display_name: "[].fullName".into(),
        email: "[].mail".into(),
        phone: "[].mobile".into(),
        unit: "[].organization".into(),
        status: String::new(),
        active_values: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use crate::legacy::Format;
    use crate::legacy::tests::{fixture, read_bytes};

    #[tokio::test]
    async fn reads_the_fixture_export() {
        let accounts = read_bytes(Format::Ecabinet, &fixture("ecabinet-users.json"))
            .await
            .unwrap();
        assert_eq!(accounts.len(), 260);
        let a = accounts.iter().find(|a| a.username == "vantp69").unwrap();
        assert_eq!(a.display_name, "TẠ PHƯƠNG VÂN");
        assert_eq!((&a.email, &a.phone), (&None, &None));
        assert_eq!(a.unit.as_deref(), Some("UBND thị xã Bình Long"));
        assert!(accounts.iter().all(|a| a.active));
    }

    #[tokio::test]
    async fn an_object_instead_of_the_array_is_refused() {
        let e = read_bytes(Format::Ecabinet, br#"{"data": []}"#)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("no array at `the top`"), "{e}");
    }
}
