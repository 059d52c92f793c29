//! Identifiers that must not be mixed up: a person's id, their official
//! e-mail and a client's id. Each is its own type, so a user id cannot be
//! passed where a client id is expected. They are text in SQL (sqlx
//! `#[sqlx(transparent)]`, which works with the `Any` driver) and strings in
//! serde. A [`UserId`] is also the `sub` of every token (OIDC Core §2:
//! stable, opaque, never reassigned), so it serialises as that string.
//!
//! An [`Email`] is always normal: trimmed, NFC and lower case, checked to be
//! an address; [`Email::parse`] is the only way to make one from what a person
//! typed. Rows are read back as stored (they were normal when written).

use std::fmt;

use unicode_normalization::UnicodeNormalization;

macro_rules! text_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize, sqlx::Type,
        )]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        /// Read as text wherever text is wanted (a mail address, an audit
        /// subject, a cache key); the type guards the way in, not the way out.
        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl From<&$name> for String {
            fn from(id: &$name) -> String {
                id.0.clone()
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

text_id! {
    /// A person's id: random, opaque, and the `sub` of their tokens.
    UserId
}

text_id! {
    /// An OIDC client's id (`client_id`), as registered.
    ClientId
}

text_id! {
    /// An official e-mail, normal (see the module doc).
    Email
}

/// Ids are opaque: any text the store or a request carries is one; whether it
/// names anything is the store's answer.
impl From<String> for UserId {
    fn from(s: String) -> Self {
        UserId(s)
    }
}

impl From<&str> for UserId {
    fn from(s: &str) -> Self {
        UserId(s.to_owned())
    }
}

impl From<String> for ClientId {
    fn from(s: String) -> Self {
        ClientId(s)
    }
}

impl From<&str> for ClientId {
    fn from(s: &str) -> Self {
        ClientId(s.to_owned())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("the account is empty")]
    Empty,
    #[error("the account is not an e-mail address")]
    Invalid,
}

impl Email {
    /// Trims, NFC-normalises and lower-cases `input`, then checks it is an
    /// address: a local part of letters, digits and `._-+` (at most 64 bytes),
    /// a host of ASCII labels with a dot, at most 254 bytes in all.
    pub fn parse(input: &str) -> Result<Email, EmailError> {
        let email: String = input.trim().nfc().collect::<String>().to_lowercase();
        if email.is_empty() {
            return Err(EmailError::Empty);
        }
        let (local, host) = email.split_once('@').ok_or(EmailError::Invalid)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && local
                .chars()
                .all(|c| c.is_alphanumeric() || "._-+".contains(c));
        let host_ok = host.contains('.')
            && !host.starts_with('.')
            && !host.ends_with('.')
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        if local_ok && host_ok && email.len() <= 254 {
            Ok(Email(email))
        } else {
            Err(EmailError::Invalid)
        }
    }

    /// The part before the `@`.
    pub fn local_part(&self) -> &str {
        self.0.split_once('@').map_or(self.as_str(), |(l, _)| l)
    }
}

impl TryFrom<&str> for Email {
    type Error = EmailError;
    fn try_from(s: &str) -> Result<Email, EmailError> {
        Email::parse(s)
    }
}

impl std::str::FromStr for Email {
    type Err = EmailError;
    fn from_str(s: &str) -> Result<Email, EmailError> {
        Email::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_trimmed_nfc_and_lower_case() {
        let e = Email::parse("  TamTT@BinhPhuoc.GOV.vn \n").unwrap();
        assert_eq!(e.as_str(), "tamtt@binhphuoc.gov.vn");
        assert_eq!(e.local_part(), "tamtt");
        // "Tâm" typed with a combining circumflex (NFD), and upper case.
        let nfd = Email::parse("TA\u{0302}M@x.vn").unwrap();
        assert_eq!(nfd.as_str(), "t\u{e2}m@x.vn");
        assert_eq!(nfd, Email::try_from("tâm@x.vn").unwrap());
        assert_eq!(serde_json::to_string(&nfd).unwrap(), "\"tâm@x.vn\"");
    }

    #[test]
    fn what_is_not_an_address_is_refused() {
        assert_eq!(Email::parse("   "), Err(EmailError::Empty));
        for bad in [
            "tamtt",
            "@binhphuoc.gov.vn",
            "tamtt@",
            "tamtt@localhost",
            "tamtt@.gov.vn",
            "tamtt@gov.vn.",
            "tam tt@gov.vn",
            "tamtt@bình.vn",
            "a@b@c.vn",
            "<tamtt@gov.vn>",
        ] {
            assert_eq!(Email::parse(bad), Err(EmailError::Invalid), "{bad}");
        }
        let long = format!("{}@gov.vn", "a".repeat(65));
        assert_eq!(Email::parse(&long), Err(EmailError::Invalid));
    }

    #[test]
    fn ids_serialise_as_their_text() {
        let sub = UserId::from("u-1");
        assert_eq!(serde_json::to_string(&sub).unwrap(), "\"u-1\"");
        assert_eq!(sub.to_string(), "u-1");
        let c: ClientId = serde_json::from_str("\"vanban\"").unwrap();
        assert_eq!(c, "vanban");
    }
}
