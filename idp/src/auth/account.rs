//! What a person types into the account field, made into an official e-mail:
//! trimmed, NFC, lower case; `tamtt` completed with the configured domain.

use unicode_normalization::UnicodeNormalization;

use crate::ids::{Email, EmailError};

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("the account is empty")]
    Empty,
    #[error("the account is not an e-mail address")]
    Invalid,
    #[error("a short account name needs IDP_EMAIL_DOMAIN")]
    NoDomain,
}

/// Normalises `input` into the e-mail we store and look up.
pub fn normalize(input: &str, domain: Option<&str>) -> Result<Email, AccountError> {
    let s: String = input.trim().nfc().collect::<String>().to_lowercase();
    if s.is_empty() {
        return Err(AccountError::Empty);
    }
    let email = match s.split_once('@') {
        Some(_) => s,
        None => format!(
            "{s}@{}",
            domain.ok_or(AccountError::NoDomain)?.to_lowercase()
        ),
    };
    Email::parse(&email).map_err(|e| match e {
        EmailError::Empty => AccountError::Empty,
        EmailError::Invalid => AccountError::Invalid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: Option<&str> = Some("binhphuoc.gov.vn");

    #[test]
    fn short_name_is_completed_with_the_domain() {
        assert_eq!(normalize("tamtt", D).unwrap(), "tamtt@binhphuoc.gov.vn");
        assert_eq!(
            normalize("  TamTT \n", D).unwrap(),
            "tamtt@binhphuoc.gov.vn"
        );
    }

    #[test]
    fn full_address_is_lower_cased_and_kept() {
        assert_eq!(
            normalize("TamTT@BinhPhuoc.gov.vn", D).unwrap(),
            "tamtt@binhphuoc.gov.vn"
        );
        assert_eq!(normalize("a.b@other.vn", D).unwrap(), "a.b@other.vn");
    }

    #[test]
    fn nfd_input_becomes_nfc() {
        // "tâm" typed with a combining circumflex.
        let nfd = "ta\u{0302}m@x.vn";
        assert_eq!(normalize(nfd, None).unwrap(), "tâm@x.vn");
    }

    #[test]
    fn rubbish_is_rejected() {
        assert_eq!(normalize("   ", D), Err(AccountError::Empty));
        assert_eq!(normalize("a b", D), Err(AccountError::Invalid));
        assert_eq!(normalize("a@b", D), Err(AccountError::Invalid));
        assert_eq!(normalize("tamtt", None), Err(AccountError::NoDomain));
        assert_eq!(normalize("x@y.vn<script>", D), Err(AccountError::Invalid));
    }
}
