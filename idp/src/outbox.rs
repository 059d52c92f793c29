//! The outbox: what the IdP owes to others (back-channel logout tokens to
//! apps, mail to people), written to SQL first and delivered by a worker, so
//! an app or mail server that is down delays a message and loses none. This
//! module owns queueing ([`enqueue`]), waking the worker ([`wake`]) and the
//! worker's loop: claim, deliver by kind, retry 1 s, 2 s, 4 s … at most an
//! hour apart, for a day; then give up, log and audit. What a delivery does
//! lives with its protocol: `mail::deliver` sends a mail,
//! `oidc::backchannel::deliver` mints and posts a logout token (OIDC
//! Back-Channel Logout 1.0 §2.5), `cas::slo::deliver` posts a CAS
//! `logoutRequest` (CAS 3.0 appendix C).

use std::sync::Arc;
use std::time::Duration;

use crate::Idp;
use crate::audit::{self, Event};
use crate::mail::{self, Mail};
use crate::oidc::backchannel::{self, Intent};
use crate::store::{OutboxItem, Store, StoreError};

/// Give up on a message this long after it was queued.
const GIVE_UP_AFTER_SECS: i64 = 24 * 3600;
/// How long a claimed message is reserved for the node delivering it.
const LEASE_SECS: i64 = 60;

/// What a message is; `as_str` is the value stored in `outbox.kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Mail,
    BackchannelLogout,
    CasLogout,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Mail, Kind::BackchannelLogout, Kind::CasLogout];

    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Mail => "mail",
            Kind::BackchannelLogout => "backchannel_logout",
            Kind::CasLogout => "cas_logout",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// What the log calls it.
    fn what(self) -> &'static str {
        match self {
            Kind::Mail => "mail",
            Kind::BackchannelLogout => "back-channel logout",
            Kind::CasLogout => "CAS single logout",
        }
    }

    /// What the audit log records when it is given up.
    fn given_up(self) -> audit::Kind {
        match self {
            Kind::Mail => audit::Kind::MailGivenUp,
            Kind::BackchannelLogout => audit::Kind::BackchannelGivenUp,
            Kind::CasLogout => audit::Kind::CasLogoutGivenUp,
        }
    }
}

/// A message to queue.
#[derive(Debug)]
pub enum Item<'a> {
    /// A mail to `to`.
    Mail { to: &'a str, mail: &'a Mail },
    /// A logout token for `client_id` at its back-channel `uri`, minted at
    /// each attempt from the intent (so a retry never carries an expired token).
    BackchannelLogout {
        client_id: &'a str,
        uri: &'a str,
        intent: Intent,
    },
    /// A CAS `logoutRequest` for the service labelled `service_id`
    /// (`cas:ID`) at its logout `uri`.
    CasLogout {
        service_id: &'a str,
        uri: &'a str,
        intent: crate::cas::slo::Intent,
    },
}

impl Item<'_> {
    pub fn kind(&self) -> Kind {
        match self {
            Item::Mail { .. } => Kind::Mail,
            Item::BackchannelLogout { .. } => Kind::BackchannelLogout,
            Item::CasLogout { .. } => Kind::CasLogout,
        }
    }
}

/// Writes `item` to the outbox, due at `now`; returns its id, to follow its
/// delivery. Call [`wake`] after (the CLI does not: a server sends it).
pub async fn enqueue(store: &Store, item: Item<'_>, now: i64) -> Result<String, StoreError> {
    let corrupt = |e: &dyn std::fmt::Display| StoreError::Corrupt(e.to_string());
    let id = crate::crypto::random_id().map_err(|e| corrupt(&e))?;
    let kind = item.kind();
    let (target, payload, client_id) = match item {
        Item::Mail { to, mail } => (
            to,
            serde_json::to_string(mail).map_err(|e| corrupt(&e))?,
            None,
        ),
        Item::BackchannelLogout {
            client_id,
            uri,
            intent,
        } => (
            uri,
            serde_json::to_string(&intent).map_err(|e| corrupt(&e))?,
            Some(client_id.to_owned()),
        ),
        Item::CasLogout {
            service_id,
            uri,
            intent,
        } => (
            uri,
            serde_json::to_string(&intent).map_err(|e| corrupt(&e))?,
            Some(service_id.to_owned()),
        ),
    };
    store
        .enqueue(&OutboxItem {
            id: id.clone(),
            kind: kind.as_str().to_owned(),
            target: target.to_owned(),
            payload,
            client_id,
            attempts: 0,
            next_at: now,
            last_error: None,
            created_at: now,
            delivered_at: None,
            given_up_at: None,
        })
        .await?;
    Ok(id)
}

/// Wakes this node's worker: a message was queued.
pub fn wake(idp: &Idp) {
    idp.outbox_wake.notify_one();
}

/// Delay before attempt `attempts + 1`: 1, 2, 4 … 3600 seconds.
pub fn backoff(attempts: i64) -> i64 {
    (1i64 << attempts.clamp(0, 12)).min(3600)
}

/// What became of one attempt.
#[derive(Debug)]
pub enum Outcome {
    Delivered,
    /// Worth trying again (the peer is down or busy).
    Retry(String),
    /// Trying again cannot help (the peer refused the message).
    Refused(String),
}

/// POSTs `fields` as a form to `target` and says what became of it: the
/// delivery of back-channel logout tokens and CAS single-logout requests.
pub async fn post_form(idp: &Idp, target: &str, fields: &[(&str, &str)]) -> Outcome {
    match idp.http.post(target).form(fields).send().await {
        Ok(r) => answered(r.status()),
        Err(e) => Outcome::Retry(format!("unreachable: {e}")),
    }
}

/// The outcome an HTTP answer means: 2xx delivered; another 4xx refused
/// (the app rejected the message, OIDC Back-Channel Logout §2.8) but 408 and
/// 429, which are worth retrying like any other status.
fn answered(status: reqwest::StatusCode) -> Outcome {
    if status.is_success() {
        Outcome::Delivered
    } else if status.is_client_error() && !matches!(status.as_u16(), 408 | 429) {
        Outcome::Refused(format!("the app answered {status}"))
    } else {
        Outcome::Retry(format!("the app answered {status}"))
    }
}

/// What to do after an attempt made `attempts` tries at `now`.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Delivered,
    RetryAt(i64),
    GiveUp,
}

/// The retry rule: back off while the message is younger than a day.
pub fn next(item: &OutboxItem, outcome: &Outcome, now: i64) -> Next {
    match outcome {
        Outcome::Delivered => Next::Delivered,
        Outcome::Retry(_) if now - item.created_at < GIVE_UP_AFTER_SECS => {
            Next::RetryAt(now + backoff(item.attempts))
        }
        Outcome::Retry(_) | Outcome::Refused(_) => Next::GiveUp,
    }
}

/// The worker: runs for ever, waking on new messages and every two seconds for retries.
pub async fn run(idp: Arc<Idp>) {
    loop {
        tokio::select! {
            () = idp.outbox_wake.notified() => {}
            () = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
        if let Err(e) = deliver_due(&idp, crate::now()).await {
            tracing::warn!(error = %e, "outbox not read; will try again");
        }
    }
}

/// Claims and delivers every message due at `now`, concurrently.
pub async fn deliver_due(idp: &Arc<Idp>, now: i64) -> Result<usize, StoreError> {
    let mut tasks = tokio::task::JoinSet::new();
    for item in idp.store.due(now, 100).await? {
        if idp.store.claim(&item, now + LEASE_SECS).await? {
            let idp = Arc::clone(idp);
            tasks.spawn(async move { deliver(&idp, item).await });
        }
    }
    let n = tasks.len();
    while tasks.join_next().await.is_some() {}
    Ok(n)
}

async fn deliver(idp: &Idp, item: OutboxItem) {
    let attempts = item.attempts + 1;
    let kind = Kind::parse(&item.kind);
    let outcome = match kind {
        Some(Kind::BackchannelLogout) => backchannel::deliver(idp, &item).await,
        Some(Kind::Mail) => mail::deliver(idp, &item).await,
        Some(Kind::CasLogout) => crate::cas::slo::deliver(idp, &item).await,
        None => Outcome::Refused(format!("unknown outbox kind {}", item.kind)),
    };
    let what = kind.map_or("outbox message", Kind::what);
    let now = crate::now();
    let client = item.client_id.as_deref().unwrap_or_default();
    let step = next(&item, &outcome, now);
    let why = match outcome {
        Outcome::Delivered => String::new(),
        Outcome::Retry(why) | Outcome::Refused(why) => why,
    };
    let result = match step {
        Next::Delivered => {
            tracing::info!(client_id = client, attempts, "{what} delivered");
            idp.store.delivered(&item.id, attempts, now).await
        }
        Next::RetryAt(at) => {
            tracing::warn!(client_id = client, attempts, error = %why, "{what} failed; will retry");
            idp.store
                .failed(&item.id, attempts, Some(at), &why, now)
                .await
        }
        Next::GiveUp => {
            tracing::error!(client_id = client, attempts, error = %why, "{what} given up");
            let audit_kind = kind.map_or(audit::Kind::BackchannelGivenUp, Kind::given_up);
            let mut e = Event::new(audit_kind, now)
                .detail(format!("{} after {attempts} attempts: {why}", item.target));
            e.client_id = item.client_id.clone();
            idp.audit(e).await;
            idp.store.failed(&item.id, attempts, None, &why, now).await
        }
    };
    if let Err(e) = result {
        // The lease expires and another attempt follows; the message may come twice, never never.
        tracing::warn!(error = %e, "outbox state not saved");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_answer_is_delivered_refused_or_retried() {
        use reqwest::StatusCode as S;
        for ok in [S::OK, S::NO_CONTENT] {
            assert!(matches!(super::answered(ok), Outcome::Delivered));
        }
        for no in [S::BAD_REQUEST, S::NOT_FOUND, S::GONE] {
            assert!(matches!(super::answered(no), Outcome::Refused(_)), "{no}");
        }
        for again in [
            S::REQUEST_TIMEOUT,
            S::TOO_MANY_REQUESTS,
            S::INTERNAL_SERVER_ERROR,
            S::SERVICE_UNAVAILABLE,
            S::FOUND,
        ] {
            assert!(
                matches!(super::answered(again), Outcome::Retry(_)),
                "{again}"
            );
        }
    }

    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff(0), 1);
        assert_eq!(backoff(1), 2);
        assert_eq!(backoff(5), 32);
        assert_eq!(backoff(11), 2048);
        assert_eq!(backoff(12), 3600);
        assert_eq!(backoff(40), 3600);
    }

    fn row(attempts: i64, created_at: i64) -> OutboxItem {
        OutboxItem {
            id: "o1".into(),
            kind: Kind::Mail.as_str().into(),
            target: "tamtt@binhphuoc.gov.vn".into(),
            payload: String::new(),
            client_id: None,
            attempts,
            next_at: created_at,
            last_error: None,
            created_at,
            delivered_at: None,
            given_up_at: None,
        }
    }

    #[test]
    fn a_failure_is_retried_with_backoff_for_a_day_then_given_up() {
        let retry = Outcome::Retry("down".into());
        assert_eq!(next(&row(0, 100), &retry, 101), Next::RetryAt(102));
        assert_eq!(next(&row(5, 100), &retry, 200), Next::RetryAt(232));
        assert_eq!(
            next(&row(30, 100), &retry, 100 + 86_399),
            Next::RetryAt(100 + 86_399 + 3600)
        );
        assert_eq!(next(&row(30, 100), &retry, 100 + 86_400), Next::GiveUp);
        assert_eq!(
            next(&row(0, 100), &Outcome::Refused("400".into()), 101),
            Next::GiveUp
        );
        assert_eq!(
            next(&row(3, 100), &Outcome::Delivered, 101),
            Next::Delivered
        );
    }

    #[test]
    fn stored_kinds_stay_what_they_were() {
        // Rows queued by an earlier version are delivered by this one.
        assert_eq!(Kind::Mail.as_str(), "mail");
        assert_eq!(Kind::BackchannelLogout.as_str(), "backchannel_logout");
        assert_eq!(Kind::CasLogout.as_str(), "cas_logout");
        assert_eq!(Kind::CasLogout.given_up(), audit::Kind::CasLogoutGivenUp);
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
        assert_eq!(Kind::parse("sms"), None);
        assert_eq!(Kind::Mail.given_up(), audit::Kind::MailGivenUp);
        assert_eq!(
            Kind::BackchannelLogout.given_up(),
            audit::Kind::BackchannelGivenUp
        );
    }
}
