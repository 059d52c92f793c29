//! E-mail addresses as matching compares them: trimmed, lower case, NFC,
//! and without the spaces people type inside them.

use unicode_normalization::UnicodeNormalization;

/// The compared form, `None` when nothing is left.
pub fn normalise_email(written: &str) -> Option<String> {
    if written.is_ascii() {
        // NFC leaves ASCII as it is: the common case, without the Unicode work.
        let email: String = written
            .bytes()
            .filter(|b| !b.is_ascii_whitespace())
            .map(|b| char::from(b.to_ascii_lowercase()))
            .collect();
        return (!email.is_empty()).then_some(email);
    }
    let email: String = written
        .nfc()
        .flat_map(char::to_lowercase)
        .filter(|c| !c.is_whitespace())
        .collect();
    (!email.is_empty()).then_some(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_spaces_and_unicode_forms_fold_away() {
        for written in [
            "tamtt@binhphuoc.gov.vn",
            " TamTT@BinhPhuoc.gov.vn ",
            "tamtt @binhphuoc.gov.vn",
            "tamtt@ binhphuoc. gov.vn",
        ] {
            assert_eq!(
                normalise_email(written).as_deref(),
                Some("tamtt@binhphuoc.gov.vn"),
                "{written:?}"
            );
        }
        // A decomposed and a composed letter are one address.
        assert_eq!(
            normalise_email("ta\u{302}m@x.vn"),
            normalise_email("tâm@x.vn")
        );
        assert_eq!(normalise_email("   "), None);
        assert_eq!(normalise_email(" \t "), None);
        assert_eq!(normalise_email("Tâm @X.vn").as_deref(), Some("tâm@x.vn"));
    }
}
