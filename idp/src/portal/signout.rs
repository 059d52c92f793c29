//! The sign-out page's progress: which apps of the ended session have been
//! told. Kept in the cache for ten minutes under an unguessable id, because
//! the session (and its cookie) is gone by the time the page is shown.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::Idp;
use crate::cache::{CacheError, keys};
use crate::crypto;
use crate::oidc::logout::{AppNotice, Notice, SignedOut};
use crate::store::StoreError;

const TTL: Duration = Duration::from_secs(600);

#[derive(Debug, Serialize, Deserialize)]
pub struct Progress {
    pub apps: Vec<AppNotice>,
    /// Where the app that asked for the sign-out wants the person back.
    pub redirect: Option<String>,
}

/// How far one app is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppState {
    Done,
    /// Queued, not tried yet.
    Pending,
    /// Tried and failed; the outbox keeps trying.
    Retrying,
    /// The outbox gave up (audited).
    Failed,
    /// Framed by the page (the browser tells it).
    Front,
    /// No logout channel.
    Unreachable,
}

#[derive(Debug, thiserror::Error)]
pub enum ProgressError {
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Crypto(#[from] crypto::CryptoError),
}

/// Keeps the progress of a sign-out; returns its id.
pub async fn save(
    idp: &Idp,
    out: &SignedOut,
    redirect: Option<String>,
) -> Result<String, ProgressError> {
    let id = crypto::random_token()?;
    let p = Progress {
        apps: out.apps.clone(),
        redirect,
    };
    idp.cache.set_json(&keys::signout(&id), &p, TTL).await?;
    Ok(id)
}

pub async fn load(idp: &Idp, id: &str) -> Result<Option<Progress>, ProgressError> {
    if id.len() > 64 {
        return Ok(None);
    }
    Ok(idp.cache.get_json(&keys::signout(id)).await?)
}

/// Each app with its state now.
pub async fn states(idp: &Idp, p: &Progress) -> Result<Vec<(AppNotice, AppState)>, ProgressError> {
    let mut out = Vec::with_capacity(p.apps.len());
    for app in &p.apps {
        let state = match &app.notice {
            Notice::Back { outbox_id } => match idp.store.outbox_item(outbox_id).await? {
                Some(i) if i.delivered_at.is_some() => AppState::Done,
                Some(i) if i.given_up_at.is_some() => AppState::Failed,
                Some(i) if i.attempts > 0 => AppState::Retrying,
                Some(_) => AppState::Pending,
                // Delivered long ago and purged: it was told.
                None => AppState::Done,
            },
            Notice::Front { .. } => AppState::Front,
            Notice::Unreachable => AppState::Unreachable,
        };
        out.push((app.clone(), state));
    }
    Ok(out)
}

/// The origins of the front-channel URLs, for the page's `frame-src`.
pub fn frame_origins(p: &Progress) -> Vec<String> {
    let mut origins: Vec<String> = p
        .apps
        .iter()
        .filter_map(|a| match &a.notice {
            Notice::Front { url } => url::Url::parse(url).ok(),
            _ => None,
        })
        .map(|u| u.origin().ascii_serialization())
        .filter(|o| o != "null")
        .collect();
    origins.sort();
    origins.dedup();
    origins
}
