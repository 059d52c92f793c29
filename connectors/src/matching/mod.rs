//! Proposes links between legacy accounts and people, each with a reason and
//! a confidence: the same e-mail (after normalising case, spaces and NFC), the
//! same Vietnamese phone number (every way of writing it, and the pre-2018
//! 11-digit mobile numbers), or the same name without diacritics in the same
//! unit. Ambiguous matches (a phone or name shared by several people) are
//! marked so, and never accepted automatically.
//!
//! Confidence (0–100), one scale for every app:
//!
//! | match | confidence | exact |
//! |---|---|---|
//! | e-mail as given (surrounding spaces aside) | 100 | yes |
//! | e-mail after normalising (case, inner spaces, NFC) | 95 | yes |
//! | phone held by one person and one account of the app, and the same name or unit | 90 | yes |
//! | the same, with neither name nor unit alike (a phone is typed by its owner: alone it is a hint) | 70 | no |
//! | name and unit of one person | 60 | no |
//! | a shared e-mail or phone (several people, or several accounts of the app, inactive ones included) | 50 | no |
//! | name and unit shared by several people | 40 | no |
//!
//! An account whose clues point at two people (its e-mail at one, its phone
//! or unique name at another) gets both, ambiguous and at most 50. A name
//! that only namesakes share does not weigh against an e-mail or phone match.
//! Inactive accounts (former staff) get nothing. Everything is keyed in hash
//! maps, so matching is linear in people plus accounts.

mod email;
mod name;
mod phone;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

pub use email::normalise_email;
pub use name::fold;
pub use phone::{RENUMBERED, normalise_phone};

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
    /// link it without a person looking: an unambiguous e-mail match, or an
    /// unambiguous phone match that the name or unit agrees with, of an
    /// active account.
    pub fn is_exact(&self) -> bool {
        !self.ambiguous
            && self.confidence >= PHONE
            && matches!(
                self.reason,
                Reason::Email | Reason::EmailVariant | Reason::Phone
            )
    }
}

/// Confidences, as the module's table says.
const EMAIL: u8 = 100;
const EMAIL_VARIANT: u8 = 95;
const PHONE: u8 = 90;
const PHONE_ALONE: u8 = 70;
const NAME: u8 = 60;
const SHARED: u8 = 50;
const NAME_SHARED: u8 = 40;

/// Every plausible owner of each active account (inactive accounts, former
/// staff, get none), best first per account, one suggestion per (account,
/// person).
pub fn suggest(people: &[Person], accounts: &[LegacyAccount]) -> Vec<Suggestion> {
    let mut units = Units::default();
    let index = Index::new(people, &mut units);
    let mut shared = Shared::default();
    for a in accounts {
        if let Some(e) = a.email.as_deref().and_then(normalise_email) {
            *shared.emails.entry(e).or_default() += 1;
        }
        if let Some(p) = a.phone.as_deref().and_then(normalise_phone) {
            *shared.phones.entry(p).or_default() += 1;
        }
    }
    let mut out = Vec::new();
    for account in accounts.iter().filter(|a| a.active) {
        index.suggest_for(account, &shared, &mut units, &mut out);
    }
    out
}

/// How many accounts of the app (inactive ones included) carry each
/// normalised e-mail and phone: one written on two accounts is shared.
#[derive(Default)]
struct Shared {
    emails: HashMap<String, u32>,
    phones: HashMap<String, u32>,
}

impl Shared {
    fn email(&self, e: &str) -> bool {
        self.emails.get(e).is_some_and(|n| *n > 1)
    }

    fn phone(&self, p: &str) -> bool {
        self.phones.get(p).is_some_and(|n| *n > 1)
    }
}

/// The people keyed by what accounts are compared on.
struct Index<'p> {
    people: Vec<&'p Person>,
    by_email: HashMap<String, Vec<usize>>,
    by_phone: HashMap<String, Vec<usize>>,
    by_name: HashMap<String, Vec<usize>>,
}

/// One clue that an account is a person's.
#[derive(Clone, Copy)]
struct Clue {
    person: usize,
    reason: Reason,
    confidence: u8,
    /// Shared with another person or account: a hint, not evidence.
    shared: bool,
}

/// Units folded once each: a province has tens of units and thousands of
/// people in each.
#[derive(Default)]
struct Units<'a>(HashMap<&'a str, String>);

impl<'a> Units<'a> {
    fn fold(&mut self, unit: &'a str) -> &String {
        self.0.entry(unit).or_insert_with_key(|u| fold(u))
    }

    /// Name and unit as one key; `None` without both.
    fn name_key(&mut self, name: &str, unit: Option<&'a str>) -> Option<String> {
        let unit = self.fold(unit?);
        let name = fold(name);
        (!name.is_empty() && !unit.is_empty()).then(|| format!("{name}\u{0}{unit}"))
    }
}

impl<'p> Index<'p> {
    fn new(all: &'p [Person], units: &mut Units<'p>) -> Index<'p> {
        let mut index = Index {
            people: Vec::with_capacity(all.len()),
            by_email: HashMap::with_capacity(all.len()),
            by_phone: HashMap::with_capacity(all.len()),
            by_name: HashMap::with_capacity(all.len()),
        };
        let mut seen = HashMap::with_capacity(all.len());
        for person in all {
            // One entry per official e-mail: the key of a link.
            let Some(email) = normalise_email(&person.email) else {
                continue;
            };
            if seen.insert(person.email.as_str(), ()).is_some() {
                continue;
            }
            let i = index.people.len();
            index.people.push(person);
            index.by_email.entry(email).or_default().push(i);
            if let Some(phone) = person.phone.as_deref().and_then(normalise_phone) {
                index.by_phone.entry(phone).or_default().push(i);
            }
            if let Some(key) = units.name_key(&person.name, person.unit.as_deref()) {
                index.by_name.entry(key).or_default().push(i);
            }
        }
        index
    }

    /// The account's name or unit is the person's (diacritics and case aside).
    fn agrees(&self, person: usize, account: &'p LegacyAccount, units: &mut Units<'p>) -> bool {
        let p = self.people[person];
        let same_unit = match (p.unit.as_deref(), account.unit.as_deref()) {
            (Some(a), Some(b)) => {
                let a = units.fold(a).clone();
                !a.is_empty() && a == *units.fold(b)
            }
            _ => false,
        };
        same_unit || {
            let name = fold(&account.display_name);
            !name.is_empty() && name == fold(&p.name)
        }
    }

    fn suggest_for(
        &self,
        account: &'p LegacyAccount,
        accounts: &Shared,
        units: &mut Units<'p>,
        out: &mut Vec<Suggestion>,
    ) {
        let mut clues: Vec<Clue> = Vec::new();
        if let Some(written) = account.email.as_deref() {
            let found = normalise_email(written)
                .and_then(|e| self.by_email.get_key_value(&e))
                .map(|(e, found)| (found, found.len() > 1 || accounts.email(e)));
            for (&person, shared) in found
                .into_iter()
                .flat_map(|(f, shared)| f.iter().map(move |p| (p, shared)))
            {
                let as_given = written.trim() == self.people[person].email;
                let reason = if as_given {
                    Reason::Email
                } else {
                    Reason::EmailVariant
                };
                let confidence = match (shared, as_given) {
                    (true, _) => SHARED,
                    (false, true) => EMAIL,
                    (false, false) => EMAIL_VARIANT,
                };
                clues.push(Clue {
                    person,
                    reason,
                    confidence,
                    shared,
                });
            }
        }
        let phone = account.phone.as_deref().and_then(normalise_phone);
        if let Some((phone, found)) = phone.and_then(|p| self.by_phone.get_key_value(&p)) {
            let shared = found.len() > 1 || accounts.phone(phone);
            for &person in found {
                let confidence = if shared {
                    SHARED
                } else if self.agrees(person, account, units) {
                    PHONE
                } else {
                    PHONE_ALONE
                };
                clues.push(Clue {
                    person,
                    reason: Reason::Phone,
                    confidence,
                    shared,
                });
            }
        }
        let name = units.name_key(&account.display_name, account.unit.as_deref());
        if let Some(found) = name.and_then(|key| self.by_name.get(&key)) {
            let shared = found.len() > 1;
            let confidence = if shared { NAME_SHARED } else { NAME };
            clues.extend(found.iter().map(|&person| Clue {
                person,
                reason: Reason::Name,
                confidence,
                shared,
            }));
        }
        // The best clue per person; a shared clue always ranks below an unshared one.
        clues.sort_by(|a, b| {
            (a.person, b.confidence, a.reason).cmp(&(b.person, a.confidence, b.reason))
        });
        clues.dedup_by_key(|c| c.person);
        // A namesake or a shared line does not weigh against real evidence.
        if clues.iter().any(|c| !c.shared) {
            clues.retain(|c| !c.shared);
        }
        let contradicted = clues.len() > 1;
        clues.sort_by(|a, b| {
            (b.confidence, &self.people[a.person].email)
                .cmp(&(a.confidence, &self.people[b.person].email))
        });
        out.extend(clues.into_iter().map(|c| Suggestion {
            username: account.username.clone(),
            email: self.people[c.person].email.clone(),
            reason: c.reason,
            confidence: if contradicted {
                c.confidence.min(SHARED)
            } else {
                c.confidence
            },
            ambiguous: c.shared || contradicted,
        }));
    }
}
