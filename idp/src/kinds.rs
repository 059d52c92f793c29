//! The closed vocabularies stored as text: a client's grant types and
//! authentication method (OIDC Core §9, RFC 6749 §4, RFC 7591 §2), the kind of
//! a second factor and where a person comes from. Each is parsed once, at the
//! boundary (a stored row, a CLI flag, a registration), so the code matches on
//! variants instead of comparing strings. The stored strings are those earlier
//! versions wrote; an unknown one is refused (a row as `StoreError::Corrupt`
//! naming it), never guessed: each of these decides who may sign in or how,
//! and a value written by a newer version arrives with that version's migration.

use std::fmt;
use std::str::FromStr;

use sqlx::any::{Any, AnyTypeInfo};
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type};

/// A stored or typed value outside a vocabulary: names the vocabulary, the
/// value and the accepted ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?}; use {accepted}")]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
    pub accepted: String,
}

/// One enum per vocabulary: `as_str` is the stored text, `FromStr` the only
/// way in; text in SQL (sqlx `Any`), a string in serde.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "&'static str")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stored text.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownValue {
                        what: $what,
                        value: s.to_owned(),
                        accepted: [$($text,)+].join(", "),
                    }),
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = UnknownValue;
            fn try_from(s: String) -> Result<Self, UnknownValue> {
                s.parse()
            }
        }

        impl From<$name> for &'static str {
            fn from(v: $name) -> &'static str {
                v.as_str()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Type<Any> for $name {
            fn type_info() -> AnyTypeInfo {
                <String as Type<Any>>::type_info()
            }
        }

        impl<'q> Encode<'q, Any> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut <Any as Database>::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, BoxDynError> {
                <String as Encode<'q, Any>>::encode(self.as_str().to_owned(), buf)
            }
        }

        impl<'r> Decode<'r, Any> for $name {
            fn decode(value: <Any as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                Ok(<String as Decode<'r, Any>>::decode(value)?.parse::<$name>()?)
            }
        }
    };
}

text_enum! {
    /// An OAuth 2.0 grant a client is registered for (`clients.grant_types`).
    GrantType, "grant" {
        AuthorizationCode => "authorization_code",
        RefreshToken => "refresh_token",
        ClientCredentials => "client_credentials",
    }
}

text_enum! {
    /// How a client authenticates at the token endpoint (`clients.auth_method`,
    /// OIDC Core §9).
    ClientAuthMethod, "client authentication method" {
        ClientSecretBasic => "client_secret_basic",
        ClientSecretPost => "client_secret_post",
        PrivateKeyJwt => "private_key_jwt",
        /// A public client: no secret, PKCE only.
        None => "none",
    }
}

impl ClientAuthMethod {
    /// The methods that check a shared secret.
    pub fn uses_secret(self) -> bool {
        matches!(
            self,
            ClientAuthMethod::ClientSecretBasic | ClientAuthMethod::ClientSecretPost
        )
    }
}

text_enum! {
    /// An enrolled second factor (`factors.kind`). Recovery codes are not a
    /// factor: they live in their own table and go with the last factor.
    FactorKind, "factor kind" {
        /// An authenticator app (a sealed TOTP key).
        Totp => "totp",
        /// Codes by e-mail (an address).
        Email => "email",
    }
}

text_enum! {
    /// Where a person comes from (`users.source`, also the key of a directory's
    /// units and sync state).
    UserSource, "user source" {
        /// A local account: its name and unit are edited here.
        Local => "local",
        /// The official mail directory over LDAP (the one directory type
        /// today): name and unit are the directory's, read-only here.
        Directory => "ldap",
    }
}

text_enum! {
    /// The page the signing service signs by default (`users.signature_page`).
    #[derive(Default)]
    SignaturePage, "signature page" {
        First => "first",
        /// The column's default.
        #[default]
        Last => "last",
    }
}

text_enum! {
    /// Where on that page (`users.signature_place`).
    #[derive(Default)]
    SignaturePlace, "signature place" {
        TopLeft => "top-left",
        TopCenter => "top-center",
        TopRight => "top-right",
        BottomLeft => "bottom-left",
        BottomCenter => "bottom-center",
        /// The column's default.
        #[default]
        BottomRight => "bottom-right",
    }
}

text_enum! {
    /// How an account came to be linked to its owner (`account_links.method`),
    /// and why a suggestion was made (`link_suggestions.reason`: the first four).
    LinkMethod, "link method" {
        /// The account's e-mail is the person's.
        Email => "email",
        /// The same e-mail after normalising case, spaces and Unicode.
        EmailVariant => "email-variant",
        /// The same phone number, however written.
        Phone => "phone",
        /// The same name without diacritics, in the same unit.
        Name => "name",
        /// An administrator linked it by hand.
        Manual => "manual",
        /// A row of an imported CSV of links.
        Import => "import",
        /// An administrator granted the person's request.
        Request => "request",
    }
}

impl LinkMethod {
    /// The stored reason of a matcher's suggestion.
    pub fn of_reason(r: connectors::matching::Reason) -> LinkMethod {
        use connectors::matching::Reason;
        match r {
            Reason::Email => LinkMethod::Email,
            Reason::EmailVariant => LinkMethod::EmailVariant,
            Reason::Phone => LinkMethod::Phone,
            Reason::Name => LinkMethod::Name,
        }
    }
}

text_enum! {
    /// Where a suggestion or a link request stands (`link_suggestions.status`,
    /// `link_requests.status`).
    Decision, "decision" {
        /// Waiting for an administrator.
        Pending => "pending",
        Accepted => "accepted",
        Rejected => "rejected",
    }
}

text_enum! {
    /// A role of the admin console (`user_roles.role`). The super
    /// administrator is `users.is_admin`, not a row; it has a name here so
    /// the console, the API and the CLI speak of every role alike.
    Role, "role" {
        /// Everything, everywhere (`idp user add --admin`).
        SuperAdmin => "super_admin",
        /// The people of their own unit (`users.unit`) only.
        UnitAdmin => "unit_admin",
        /// Văn thư: applies the office's signature at issuance.
        Clerk => "clerk",
        /// Reads the audit log and the console's lists; changes nothing.
        Auditor => "auditor",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<T>(all: &[T])
    where
        T: Copy + fmt::Debug + PartialEq + FromStr<Err = UnknownValue> + Into<&'static str>,
    {
        for v in all {
            let text: &'static str = (*v).into();
            assert_eq!(text.parse::<T>(), Ok(*v));
            let json = serde_json::to_string(&text).unwrap();
            assert_eq!(json, format!("\"{text}\""));
        }
    }

    #[test]
    fn each_vocabulary_round_trips_through_its_stored_text() {
        round_trips(GrantType::ALL);
        round_trips(ClientAuthMethod::ALL);
        round_trips(FactorKind::ALL);
        round_trips(UserSource::ALL);
        round_trips(SignaturePage::ALL);
        round_trips(SignaturePlace::ALL);
        round_trips(LinkMethod::ALL);
        round_trips(Decision::ALL);
        assert_eq!(LinkMethod::EmailVariant.as_str(), "email-variant");
        round_trips(Role::ALL);
        // The texts earlier versions stored.
        assert_eq!(
            GrantType::ALL
                .iter()
                .map(|g| g.as_str())
                .collect::<Vec<_>>(),
            ["authorization_code", "refresh_token", "client_credentials"]
        );
        assert_eq!(ClientAuthMethod::None.as_str(), "none");
        assert_eq!(UserSource::Local.as_str(), "local");
        assert_eq!(UserSource::Directory.as_str(), "ldap");
        assert_eq!(FactorKind::Totp.as_str(), "totp");
        assert_eq!(
            serde_json::from_str::<GrantType>("\"refresh_token\"").unwrap(),
            GrantType::RefreshToken
        );
    }

    #[test]
    fn an_unknown_value_is_refused_with_the_accepted_ones() {
        let e = "implicit".parse::<GrantType>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown grant \"implicit\"; use authorization_code, refresh_token, client_credentials"
        );
        assert!("Client_Secret_Basic".parse::<ClientAuthMethod>().is_err());
        assert!("sms".parse::<FactorKind>().is_err());
        assert!("recovery".parse::<FactorKind>().is_err());
        assert!("".parse::<UserSource>().is_err());
        assert!("middle".parse::<SignaturePlace>().is_err());
        assert!("First".parse::<SignaturePage>().is_err());
        assert!("admin".parse::<Role>().is_err());
        assert_eq!(Role::UnitAdmin.as_str(), "unit_admin");
        assert!(serde_json::from_str::<FactorKind>("\"sms\"").is_err());
    }
}
