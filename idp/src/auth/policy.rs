//! The one password policy, for every path that sets a password: the command
//! line (`idp user add --password-stdin`), the reset form (`auth::reset`) and
//! the coming admin console.
//!
//! Rules (NIST SP 800-63B §3.1.1.2, OWASP ASVS V2.1): at least
//! [`MIN_CHARS`] characters counted after NFC normalisation (not bytes), any
//! Unicode allowed, not the account name or e-mail, not in the shipped list
//! of common passwords. No composition rules: they make passwords harder to
//! remember, not harder to guess.

use std::collections::HashSet;
use std::sync::LazyLock;

use unicode_normalization::UnicodeNormalization;

use crate::portal::apps::fold;

/// The fewest characters a password may have; the page texts name it too.
pub const MIN_CHARS: usize = 10;
/// The most: argon2 copes with more, but a form field of megabytes is an attack, not a password.
pub const MAX_CHARS: usize = 1024;
/// An account name shorter than this is not searched for inside a password
/// (an account `an` would otherwise refuse every password with "an" in it).
const MIN_ACCOUNT_CHARS: usize = 3;

/// Common passwords, international and Vietnamese, one per line; compared
/// case-insensitively. Shipped in the binary, never fetched.
static COMMON: LazyLock<HashSet<String>> = LazyLock::new(|| {
    include_str!("common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.nfc().collect::<String>().to_lowercase())
        .collect()
});

/// Why a password was refused; the UI says which, in its own words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Weak {
    #[error("the password must have at least {min} characters")]
    TooShort { min: usize },
    #[error("the password must have at most {max} characters")]
    TooLong { max: usize },
    #[error("the password must not be or contain the account name or e-mail")]
    LikeAccount,
    #[error("the password is among the most common passwords; choose another")]
    Common,
}

/// Checks `password` for the account `email`; returns the NFC-normalised
/// password to hash, so the same password typed composed or decomposed
/// (macOS and Windows keyboards differ) always matches its hash.
pub fn check(password: &str, email: &str) -> Result<String, Weak> {
    let password: String = password.nfc().collect();
    let n = password.chars().count();
    if n < MIN_CHARS {
        return Err(Weak::TooShort { min: MIN_CHARS });
    }
    if n > MAX_CHARS {
        return Err(Weak::TooLong { max: MAX_CHARS });
    }
    // Folded (lower case, no diacritics): "Tâm-tamtt" hides the account no better than "tamtt".
    let folded = fold(&password);
    let email = fold(email.trim());
    let local = email.split('@').next().unwrap_or(&email);
    if folded == email
        || folded == local
        || (local.chars().count() >= MIN_ACCOUNT_CHARS && folded.contains(local))
    {
        return Err(Weak::LikeAccount);
    }
    if COMMON.contains(&password.to_lowercase()) {
        return Err(Weak::Common);
    }
    Ok(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMAIL: &str = "tamtt@binhphuoc.gov.vn";

    #[test]
    fn long_passwords_of_any_script_pass() {
        assert_eq!(
            check("Mật-khẩu-2024!", EMAIL).as_deref(),
            Ok("Mật-khẩu-2024!")
        );
        assert!(check("correct horse battery staple", EMAIL).is_ok());
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // Ten and nine two-byte characters: 20 and 18 bytes.
        assert!(check("ăâêôơưđáàả", EMAIL).is_ok());
        assert_eq!(
            check("ăâêôơưđáà", EMAIL),
            Err(Weak::TooShort { min: MIN_CHARS })
        );
        assert_eq!(check("", EMAIL), Err(Weak::TooShort { min: 10 }));
        assert_eq!(
            check(&"x7".repeat(513), EMAIL),
            Err(Weak::TooLong { max: MAX_CHARS })
        );
    }

    #[test]
    fn length_is_counted_after_nfc() {
        // "ệ" typed decomposed is three code points, composed one: nine characters, not eleven.
        let decomposed = "e\u{323}\u{302}abcdefgh";
        assert_eq!(decomposed.chars().count(), 11);
        assert_eq!(check(decomposed, EMAIL), Err(Weak::TooShort { min: 10 }));
        // The same password typed composed or decomposed hashes the same text.
        let typed = "Me\u{323}\u{302}t-kho-2024";
        assert_eq!(check(typed, EMAIL).as_deref(), Ok("Mệt-kho-2024"));
    }

    #[test]
    fn the_account_name_or_email_is_refused() {
        assert_eq!(check("TAMTT-2024-abc", EMAIL), Err(Weak::LikeAccount));
        assert_eq!(
            check("tamtt@binhphuoc.gov.vn", EMAIL),
            Err(Weak::LikeAccount)
        );
        assert_eq!(
            check("xx-TamTT@BinhPhuoc.gov.vn", EMAIL),
            Err(Weak::LikeAccount)
        );
        // Without diacritics too: "tâmtt" is "tamtt" to anyone guessing.
        assert_eq!(check("Tâmtt-năm-2024", EMAIL), Err(Weak::LikeAccount));
        // A very short account name is refused only as the whole password.
        assert!(check("an-toàn-tuyệt-đối", "an@binhphuoc.gov.vn").is_ok());
    }

    #[test]
    fn common_passwords_are_refused_in_any_case() {
        for p in [
            "1234567890",
            "Password123",
            "QWERTYUIOP",
            "matkhau123",
            "Abc@123456",
            "anhyeuem123",
        ] {
            assert_eq!(check(p, EMAIL), Err(Weak::Common), "{p}");
        }
    }

    #[test]
    fn the_list_is_shipped_and_long() {
        assert!(COMMON.len() >= 300, "{}", COMMON.len());
        assert!(COMMON.contains("123456"));
    }

    #[test]
    fn the_pages_state_the_minimum_the_policy_applies() {
        for lang in [portal_ui::texts::Lang::Vi, portal_ui::texts::Lang::En] {
            let rules = (lang.texts().reset.password_rules)(MIN_CHARS);
            assert!(rules.contains(&MIN_CHARS.to_string()), "{rules}");
        }
    }
}
