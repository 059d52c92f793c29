//! What an administrator looks at: coverage per app, the review queue
//! (keyset pages), conflicts, and search for linking by hand.

use std::collections::{BTreeMap, HashMap};

use super::{LinkError, app_of};
use crate::ids::UserId;
use crate::store::{
    LegacyRow, Link, PeopleQuery, PersonRow, QueueFilter, QueueKey, QueueRow, Store, User,
};

/// The largest queue page.
pub const MAX_PAGE: i64 = 200;
/// Results of each kind a search returns.
pub const SEARCH_LIMIT: i64 = 20;
/// The longest search text.
pub const MAX_QUERY_CHARS: usize = 100;

/// One app's linking at a glance.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    pub app_id: String,
    pub app_name: String,
    pub accounts: i64,
    pub active: i64,
    pub linked: i64,
    pub pending: i64,
    pub conflicts: i64,
    pub unlinked_active: i64,
}

/// Every app's coverage (counts only, no person: the same for every
/// administrator).
pub async fn coverage(store: &Store) -> Result<Vec<Coverage>, LinkError> {
    let names: BTreeMap<String, String> = store
        .list_apps()
        .await?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect();
    let mut out = Vec::new();
    for c in store.coverage_counts().await? {
        let conflicts = store.conflict_count(&c.app_id).await?;
        out.push(Coverage {
            app_name: names.get(&c.app_id).cloned().unwrap_or_default(),
            app_id: c.app_id,
            accounts: c.accounts,
            active: c.active,
            linked: c.linked,
            pending: c.pending,
            conflicts,
            unlinked_active: c.unlinked_active,
        });
    }
    Ok(out)
}

/// One page of pending suggestions after `after` (the last row's
/// [`QueueRow::key`] of the page before), at most [`MAX_PAGE`].
pub async fn queue(
    store: &Store,
    filter: &QueueFilter,
    after: Option<&QueueKey>,
    limit: i64,
) -> Result<Vec<QueueRow>, LinkError> {
    Ok(store
        .queue_page(filter, after, limit.clamp(1, MAX_PAGE))
        .await?)
}

/// Something an administrator must settle by hand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Conflict {
    /// A pending suggestion names a person who already owns another account
    /// of the app.
    PersonAlreadyLinked {
        username: String,
        person: UserId,
        linked_username: String,
    },
    /// Several accounts' e-mail or phone matches name one person.
    PersonClaimedTwice {
        person: UserId,
        usernames: Vec<String>,
    },
    /// One account's e-mail or phone matches name several people.
    AccountClaimedTwice {
        username: String,
        /// To a unit administrator, only the people of their unit.
        people: Vec<UserId>,
    },
}

impl Conflict {
    /// The people it is about (for a unit administrator's view).
    pub fn people(&self) -> Vec<&UserId> {
        match self {
            Conflict::PersonAlreadyLinked { person, .. }
            | Conflict::PersonClaimedTwice { person, .. } => vec![person],
            Conflict::AccountClaimedTwice { people, .. } => people.iter().collect(),
        }
    }
}

/// The conflicts of `app` (those about people of `unit`, when given).
pub async fn conflicts(
    store: &Store,
    app: &str,
    unit: Option<&str>,
) -> Result<Vec<Conflict>, LinkError> {
    app_of(store, app).await?;
    let mut out: Vec<Conflict> = store
        .suggestions_for_linked_people(app)
        .await?
        .into_iter()
        .map(
            |(username, person, linked_username)| Conflict::PersonAlreadyLinked {
                username,
                person,
                linked_username,
            },
        )
        .collect();
    let strong = store.strong_pending(app).await?;
    let mut by_person: BTreeMap<&UserId, Vec<String>> = BTreeMap::new();
    let mut by_account: BTreeMap<&str, Vec<UserId>> = BTreeMap::new();
    for (username, person) in &strong {
        by_person.entry(person).or_default().push(username.clone());
        by_account.entry(username).or_default().push(person.clone());
    }
    out.extend(
        by_person
            .into_iter()
            .filter(|(_, u)| u.len() > 1)
            .map(|(person, usernames)| Conflict::PersonClaimedTwice {
                person: person.clone(),
                usernames,
            }),
    );
    out.extend(
        by_account
            .into_iter()
            .filter(|(_, p)| p.len() > 1)
            .map(|(username, people)| Conflict::AccountClaimedTwice {
                username: username.to_owned(),
                people,
            }),
    );
    if let Some(u) = unit {
        // Those about the unit's people, naming only them: a unit
        // administrator learns that others claim the account, not who.
        let mut ours: HashMap<UserId, bool> = HashMap::new();
        for p in out.iter().flat_map(|c| c.people()) {
            if !ours.contains_key(p) {
                let mine = store
                    .user_by_id(p)
                    .await?
                    .is_some_and(|x| x.unit.as_deref() == Some(u));
                ours.insert(p.clone(), mine);
            }
        }
        let mine = |p: &UserId| ours.get(p).copied().unwrap_or(false);
        out.retain(|c| c.people().into_iter().any(mine));
        for c in &mut out {
            if let Conflict::AccountClaimedTwice { people, .. } = c {
                people.retain(mine);
            }
        }
    }
    Ok(out)
}

/// What a search for linking by hand found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchResults {
    /// People whose name or e-mail contains the text.
    pub people: Vec<PersonRow>,
    /// Accounts of the app whose username or name contains it.
    pub accounts: Vec<LegacyRow>,
}

/// Searches people (of `unit`, when given) by name without diacritics
/// ("nguyen" finds "Nguyễn") or e-mail, through the console's one people
/// search, and, with `app`, its accounts by username or name. `%` and `_`
/// are taken literally; case is ignored.
pub async fn search(
    store: &Store,
    text: &str,
    app: Option<&str>,
    unit: Option<&str>,
) -> Result<SearchResults, LinkError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_QUERY_CHARS {
        return Err(LinkError::BadInput(format!(
            "search for 1 to {MAX_QUERY_CHARS} characters"
        )));
    }
    store.fold_names(crate::portal::apps::fold).await?;
    let q = PeopleQuery {
        text: Some(crate::portal::apps::fold(text)),
        unit: unit.map(str::to_owned),
        // Former staff are never linked.
        disabled: Some(false),
        limit: SEARCH_LIMIT,
        offset: 0,
    };
    let (people, _) = store.search_people(&q).await?;
    let people = people
        .into_iter()
        .map(|u| PersonRow {
            id: u.id,
            email: u.email,
            name: u.name,
            phone: u.phone,
            unit: u.unit,
        })
        .collect();
    let accounts = match app {
        Some(app) => store.search_accounts(app, text, SEARCH_LIMIT).await?,
        None => Vec::new(),
    };
    Ok(SearchResults { people, accounts })
}

/// Active accounts of `app` that nobody owns, whose username or name
/// contains `text` (the first ones when it is empty): the accounts a link
/// request may be decided with.
pub async fn unlinked_accounts(
    store: &Store,
    app: &str,
    text: &str,
) -> Result<Vec<LegacyRow>, LinkError> {
    app_of(store, app).await?;
    let text: String = text.trim().chars().take(MAX_QUERY_CHARS).collect();
    Ok(store.unlinked_accounts(app, &text, SEARCH_LIMIT).await?)
}

/// The links of `app` with their owners' e-mails (of people of `unit` only,
/// when given), by username.
pub async fn list_links(
    store: &Store,
    app: &str,
    unit: Option<&str>,
) -> Result<Vec<(Link, User)>, LinkError> {
    app_of(store, app).await?;
    let links = store.links_of_app(app).await?;
    let mut out = Vec::with_capacity(links.len());
    for l in links {
        let Some(owner) = store.user_by_id(&l.user_id).await? else {
            continue;
        };
        if unit.is_some() && owner.unit.as_deref() != unit {
            continue;
        }
        out.push((l, owner));
    }
    Ok(out)
}
