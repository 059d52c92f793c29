//! A person with no account linked in an app asks to be linked (from the
//! page they see at sign-in); an administrator links an account they choose
//! or refuses with a reason, and either way the person is told by e-mail.

use super::{LinkError, app_of, in_unit, linkable, not_self, person_by_id};
use crate::admin::{Actor, audit};
use crate::audit::{Event, Kind};
use crate::ids::UserId;
use crate::kinds::{Decision, LinkMethod};
use crate::store::{Link, LinkRequest, Store, StoreError};

/// The longest note a person may add, and the longest reason for a refusal.
pub const MAX_NOTE_CHARS: usize = 500;

/// What asking did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestOutcome {
    /// A new request, waiting for an administrator.
    Created(i64),
    /// One was already waiting: nothing new (a second press of the button).
    AlreadyPending(i64),
    /// The person has an account linked in the app already.
    AlreadyLinked(String),
}

/// Where a person stands with an app that needs their linked account: what
/// the page they are sent to at sign-in shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestState {
    pub app_name: String,
    pub status: RequestStatus,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestStatus {
    /// No link and no pending request: they may ask.
    NotLinked,
    /// Their request waits for an administrator.
    Pending,
    /// Linked (meanwhile): they open the app again.
    Linked(String),
}

/// The app as `user` may see it, or `NoApp` (unknown, or not for them: the
/// same answer, so app ids of other units are not told apart).
async fn app_for(store: &Store, user: &UserId, app: &str) -> Result<crate::store::App, LinkError> {
    let a = app_of(store, app).await?;
    let person = person_by_id(store, user).await?;
    let groups = store.groups_of(user).await?;
    if person.is_disabled() || !a.visible_to(person.unit.as_deref(), &groups) {
        return Err(LinkError::NoApp(app.into()));
    }
    Ok(a)
}

/// Whether `user` has a link in `app`, a pending request, or neither.
pub async fn request_state(
    store: &Store,
    user: &UserId,
    app: &str,
) -> Result<RequestState, LinkError> {
    let a = app_for(store, user, app).await?;
    let status = if let Some(l) = store.link_of_person(app, user).await? {
        RequestStatus::Linked(l.username)
    } else if store.pending_link_request(user, app).await?.is_some() {
        RequestStatus::Pending
    } else {
        RequestStatus::NotLinked
    };
    Ok(RequestState {
        app_name: a.name,
        status,
    })
}

/// Records that `user` asks to be linked to `app` (an app they may see).
pub async fn request(
    store: &Store,
    user: &UserId,
    app: &str,
    note: &str,
    now: i64,
) -> Result<RequestOutcome, LinkError> {
    app_for(store, user, app).await?;
    let note = note.trim();
    if note.chars().count() > MAX_NOTE_CHARS || note.chars().any(|c| c.is_control() && c != '\n') {
        return Err(LinkError::BadInput(format!(
            "a note of at most {MAX_NOTE_CHARS} characters"
        )));
    }
    let person = person_by_id(store, user).await?;
    if let Some(l) = store.link_of_person(app, user).await? {
        return Ok(RequestOutcome::AlreadyLinked(l.username));
    }
    if let Some(r) = store.pending_link_request(user, app).await? {
        return Ok(RequestOutcome::AlreadyPending(r.id));
    }
    let id = match store.create_link_request(user, app, note, now).await {
        Ok(id) => id,
        // Two presses at once: the other one made it.
        Err(StoreError::Conflict(_)) => {
            return match store.pending_link_request(user, app).await? {
                Some(r) => Ok(RequestOutcome::AlreadyPending(r.id)),
                None => Err(LinkError::BadInput("the request changed meanwhile".into())),
            };
        }
        Err(e) => return Err(e.into()),
    };
    let e = Event::new(Kind::LinkRequested, now)
        .actor(user.as_str())
        .subject(format!("{app}/request {id}"))
        .detail(format!(
            "before: none; after: pending request by {}",
            person.email
        ));
    crate::audit::record(store, e).await?;
    Ok(RequestOutcome::Created(id))
}

/// An administrator's answer to a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestDecision {
    /// Link this account of the app to the person.
    Link { username: String },
    /// Refuse, saying why (the person reads it).
    Reject { reason: String },
}

/// What deciding did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decided {
    pub request: LinkRequest,
    pub link: Option<Link>,
    /// A mail to the person was queued.
    pub mailed: bool,
}

/// Pending requests (of people of `unit`, when given), oldest first, after
/// request id `after`.
pub async fn pending_requests(
    store: &Store,
    unit: Option<&str>,
    after: i64,
    limit: i64,
) -> Result<Vec<LinkRequest>, LinkError> {
    Ok(store
        .link_requests(Some(Decision::Pending), unit, after, limit.clamp(1, 500))
        .await?)
}

/// Request `id` and who asked, if it is of a person of `unit` (when given):
/// what an administrator decides it on.
pub async fn request_for(
    store: &Store,
    id: i64,
    unit: Option<&str>,
) -> Result<(LinkRequest, crate::store::User), LinkError> {
    let req = store
        .link_request(id)
        .await?
        .ok_or(LinkError::NoRequest(id))?;
    let person = person_by_id(store, &req.user_id).await?;
    in_unit(&person, unit).map_err(|_| LinkError::NoRequest(id))?;
    Ok((req, person))
}

/// Decides request `id`: links the chosen account (every linking rule
/// applies) or refuses with a reason; with `mail`, the person is told.
/// A request is decided once, even by two administrators at the same time.
pub async fn decide_request(
    store: &Store,
    actor: &Actor,
    id: i64,
    decision: RequestDecision,
    unit: Option<&str>,
    mail: bool,
    now: i64,
) -> Result<Decided, LinkError> {
    let req = store
        .link_request(id)
        .await?
        .ok_or(LinkError::NoRequest(id))?;
    // Another unit's request is "no such request", decided or not.
    let person = person_by_id(store, &req.user_id).await?;
    in_unit(&person, unit).map_err(|_| LinkError::NoRequest(id))?;
    if req.status != Decision::Pending {
        return Err(LinkError::AlreadyDecided(id));
    }
    let app = app_of(store, &req.app_id).await?;
    let (link, message, detail) = match decision {
        RequestDecision::Link { username } => {
            not_self(actor, &person)?;
            linkable(store, &req.app_id, &username, &person, unit).await?;
            let link = Link {
                app_id: req.app_id.clone(),
                username: username.clone(),
                user_id: person.id.clone(),
                method: LinkMethod::Request,
                linked_by: actor.0.clone(),
                linked_at: now,
            };
            match store.accept_link_request(id, &link, now).await {
                Ok(true) => {}
                Ok(false) => return Err(LinkError::AlreadyDecided(id)),
                Err(StoreError::Conflict(_)) => {
                    return Err(LinkError::BadInput(format!(
                        "conflict: {username} of {} or {} was linked meanwhile; look again",
                        req.app_id, person.email
                    )));
                }
                Err(e) => return Err(e.into()),
            }
            let mail = crate::mail::link_accepted(&app.name, &username);
            let detail = format!(
                "before: pending; after: linked {username} to {}",
                person.email
            );
            (Some(link), mail, detail)
        }
        RequestDecision::Reject { reason } => {
            let reason = reason.trim();
            if reason.is_empty() || reason.chars().count() > MAX_NOTE_CHARS {
                return Err(LinkError::BadInput(format!(
                    "give a reason of 1 to {MAX_NOTE_CHARS} characters; the person reads it"
                )));
            }
            if !store
                .decide_link_request(id, Decision::Rejected, &actor.0, reason, now)
                .await?
            {
                return Err(LinkError::AlreadyDecided(id));
            }
            let mail = crate::mail::link_rejected(&app.name, reason);
            (
                None,
                mail,
                format!("before: pending; after: rejected ({reason})"),
            )
        }
    };
    let subject = format!("{}/request {id}", req.app_id);
    audit(
        store,
        actor,
        Kind::LinkRequestDecided,
        &subject,
        Some(detail),
        now,
    )
    .await?;
    if let Some(l) = &link {
        let detail = format!(
            "before: unlinked; after: {} (request by {})",
            person.email, actor.0
        );
        let subject = format!("{}/{}", l.app_id, l.username);
        audit(store, actor, Kind::LinkAdded, &subject, Some(detail), now).await?;
    }
    if mail {
        let item = crate::outbox::Item::Mail {
            to: person.email.as_str(),
            mail: &message,
        };
        crate::outbox::enqueue(store, item, now).await?;
    }
    let request = store
        .link_request(id)
        .await?
        .ok_or(LinkError::NoRequest(id))?;
    Ok(Decided {
        request,
        link,
        mailed: mail,
    })
}
