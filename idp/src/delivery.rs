//! The outbox worker: delivers what the IdP owes to others (back-channel
//! logout tokens to apps, mail to people) with retries. An app or mail
//! server that is down gets its message when it is back: 1 s, 2 s, 4 s … at
//! most an hour apart, for a day; then the attempt is given up, logged and
//! written to the audit log.

use std::sync::Arc;
use std::time::Duration;

use crate::Idp;
use crate::mail::{self, Mail, SendError};
use crate::oidc::backchannel::{self, Intent};
use crate::store::{AuditEvent, OutboxItem, StoreError};

/// Give up on a message this long after it was queued.
const GIVE_UP_AFTER_SECS: i64 = 24 * 3600;
/// How long a claimed message is reserved for the node delivering it.
const LEASE_SECS: i64 = 60;

/// Delay before attempt `attempts + 1`: 1, 2, 4 … 3600 seconds.
pub fn backoff(attempts: i64) -> i64 {
    (1i64 << attempts.clamp(0, 12)).min(3600)
}

/// Runs for ever: wakes on new messages and every two seconds for retries.
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

enum Outcome {
    Delivered,
    /// Worth trying again (the app is down or busy).
    Retry(String),
    /// Trying again cannot help (the app refused the message).
    Refused(String),
}

async fn deliver(idp: &Idp, item: OutboxItem) {
    let attempts = item.attempts + 1;
    let (what, outcome) = match item.kind.as_str() {
        backchannel::KIND => ("back-channel logout", send_logout(idp, &item).await),
        mail::KIND => ("mail", send_mail(idp, &item).await),
        other => (
            "outbox message",
            Outcome::Refused(format!("unknown outbox kind {other}")),
        ),
    };
    let now = crate::now();
    let client = item.client_id.as_deref().unwrap_or_default();
    let result = match outcome {
        Outcome::Delivered => {
            tracing::info!(client_id = client, attempts, "{what} delivered");
            idp.store.delivered(&item.id, attempts, now).await
        }
        Outcome::Retry(why) if now - item.created_at < GIVE_UP_AFTER_SECS => {
            tracing::warn!(client_id = client, attempts, error = %why, "{what} failed; will retry");
            idp.store
                .failed(
                    &item.id,
                    attempts,
                    Some(now + backoff(item.attempts)),
                    &why,
                    now,
                )
                .await
        }
        Outcome::Retry(why) | Outcome::Refused(why) => {
            tracing::error!(client_id = client, attempts, error = %why, "{what} given up");
            let kind = if item.kind == mail::KIND {
                "mail.given_up"
            } else {
                "logout.backchannel_given_up"
            };
            let mut e = AuditEvent::new(kind, now);
            e.client_id = item.client_id.clone();
            e.detail = Some(format!("{} after {attempts} attempts: {why}", item.target));
            idp.audit(e).await;
            idp.store.failed(&item.id, attempts, None, &why, now).await
        }
    };
    if let Err(e) = result {
        // The lease expires and another attempt follows; the message may come twice, never never.
        tracing::warn!(error = %e, "outbox state not saved");
    }
}

async fn send_mail(idp: &Idp, item: &OutboxItem) -> Outcome {
    let Some(mailer) = &idp.mailer else {
        return Outcome::Retry("no mail server configured ([smtp])".into());
    };
    let Ok(mail) = serde_json::from_str::<Mail>(&item.payload) else {
        return Outcome::Refused("corrupt outbox payload".into());
    };
    match mailer.send(&item.target, &mail).await {
        Ok(()) => Outcome::Delivered,
        Err(SendError::Transient(why)) => Outcome::Retry(why),
        Err(SendError::Permanent(why)) => Outcome::Refused(why),
    }
}

async fn send_logout(idp: &Idp, item: &OutboxItem) -> Outcome {
    let Ok(intent) = serde_json::from_str::<Intent>(&item.payload) else {
        return Outcome::Refused("corrupt outbox payload".into());
    };
    let client = match idp
        .store
        .client(item.client_id.as_deref().unwrap_or_default())
        .await
    {
        Ok(Some(c)) => c,
        Ok(None) => return Outcome::Refused("the client no longer exists".into()),
        Err(e) => return Outcome::Retry(e.to_string()),
    };
    let token = match backchannel::logout_token(idp, &client, &intent, crate::now()) {
        Ok(t) => t,
        Err(e) => return Outcome::Retry(e.to_string()),
    };
    let sent = idp
        .http
        .post(&item.target)
        .form(&[("logout_token", token.as_str())])
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() => Outcome::Delivered,
        // 400 means the app rejected the token (§2.8); 408 and 429 are worth retrying.
        Ok(r) if r.status().is_client_error() && !matches!(r.status().as_u16(), 408 | 429) => {
            Outcome::Refused(format!("the app answered {}", r.status()))
        }
        Ok(r) => Outcome::Retry(format!("the app answered {}", r.status())),
        Err(e) => Outcome::Retry(format!("unreachable: {e}")),
    }
}

#[cfg(test)]
mod tests {
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
}
