//! Signing in at the portal: check the account and password, start the SSO
//! session, and finish the app's pending authorization if there is one.
//! Unknown accounts and wrong passwords take the same path, time and answer.

use connectors::{Directory, DirectoryError, LoginOutcome};

use crate::Idp;
use crate::auth::guard::{self, Verdict};
use crate::auth::{account, session};
use crate::mail;
use crate::oidc::OidcError;
use crate::oidc::authorize::{self, Pending, pending_key};
use crate::portal::account::vn_time;
use crate::refusal::Refusal;
use crate::store::{AuditEvent, SessionRow, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("the directory cannot be reached: {0}")]
    DirectoryDown(String),
    #[error(transparent)]
    Oidc(#[from] OidcError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Session(#[from] session::SessionError),
    #[error(transparent)]
    Cache(#[from] crate::cache::CacheError),
}

#[derive(Debug)]
pub enum LoginResult {
    /// Signed in: set this cookie and go there.
    SignedIn {
        cookie: String,
        redirect: String,
    },
    /// Wrong account or password; show the form again.
    Invalid,
    /// Too many failures: not checked at all (same for every account).
    Throttled(Verdict),
    Refuse(Refusal),
}

/// The pending authorization behind `req`, if it is still there.
pub async fn pending(idp: &Idp, req: &str) -> Result<Option<Pending>, LoginError> {
    Ok(idp.cache.get_json::<Pending>(&pending_key(req)).await?)
}

pub struct Attempt<'a> {
    pub account: &'a str,
    pub password: &'a str,
    pub req: Option<&'a str>,
    /// The cookie of a session the browser already had; replaced on success.
    pub old_cookie: Option<&'a str>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: String,
}

pub async fn submit(idp: &Idp, a: Attempt<'_>, now: i64) -> Result<LoginResult, LoginError> {
    if let Some(req) = a.req
        && pending(idp, req).await?.is_none()
    {
        return Ok(LoginResult::Refuse(Refusal::LoginExpired));
    }
    let email = account::normalize(a.account, idp.config.email_domain.as_deref());
    // Counted by what was typed (normalised when it can be), so an unknown
    // account is throttled exactly like a real one.
    let counted = email.as_deref().unwrap_or(a.account).to_owned();
    let bf = &idp.config.brute_force;
    let verdict = guard::check(&idp.cache, bf, &counted, a.ip.as_deref(), now).await?;
    if verdict != Verdict::Go {
        tracing::info!(request_id = %a.request_id, ?verdict, "sign-in throttled");
        idp.metrics.login(false);
        return Ok(LoginResult::Throttled(verdict));
    }
    let outcome = match &email {
        Ok(email) => idp
            .directory
            .authenticate(email, a.password)
            .await
            .map_err(|e| match e {
                DirectoryError::Unavailable(m) | DirectoryError::Other(m) => {
                    LoginError::DirectoryDown(m)
                }
            })?,
        // Not an address at all: still spend a hash so timing says nothing.
        Err(_) => {
            let _ = idp.hasher.check(None, a.password.to_owned()).await;
            LoginOutcome::InvalidCredentials
        }
    };
    let mut event = AuditEvent::new("auth.login_failed", now);
    event.ip = a.ip.clone();
    event.request_id = Some(a.request_id.clone());
    let user = match outcome {
        LoginOutcome::Authenticated(identity) => idp.store.user_by_email(&identity.email).await?,
        LoginOutcome::InvalidCredentials => None,
    };
    let Some(user) = user else {
        idp.metrics.login(false);
        event.subject = Some(
            email
                .as_ref()
                .map_or_else(|_| a.account.chars().take(100).collect(), Clone::clone),
        );
        let locked = guard::failed(&idp.cache, bf, &counted, a.ip.as_deref(), now).await?;
        if locked {
            let mut lock = event.clone();
            lock.kind = "auth.locked".into();
            lock.detail = Some(format!(
                "{} wrong passwords; locked for {} s",
                bf.lock_after, bf.lock_secs
            ));
            idp.audit(lock).await;
            // The owner hears of it (the page says the same to everyone).
            if let Ok(email) = &email
                && let Some(owner) = idp.store.user_by_email(email).await?
            {
                let mail = mail::locked(
                    bf.lock_secs.div_ceil(60),
                    a.ip.as_deref().unwrap_or("?"),
                    &vn_time(now),
                );
                mail::notify(idp, &owner.email, &mail).await;
            }
        }
        idp.audit(event).await;
        return Ok(LoginResult::Invalid);
    };
    guard::succeeded(&idp.cache, &counted, a.ip.as_deref()).await?;
    idp.metrics.login(true);
    event.kind = "auth.login".into();
    event.actor = Some(user.id.clone());
    event.subject = Some(user.email.clone());

    if let Some(old) = a.old_cookie {
        // A new sign-in gets a new session id (no fixation).
        if let Some(old) = session::destroy(&idp.cache, old).await? {
            idp.store.end_session_row(&old.sid, now).await?;
        }
    }
    let (cookie, sess) = session::create(
        &idp.cache,
        &idp.config.session,
        &user.id,
        vec!["pwd".into()],
        "1",
        now,
    )
    .await?;
    idp.store
        .record_session(&SessionRow {
            sid: sess.sid.clone(),
            user_id: user.id.clone(),
            key_hash: session::key_hash(&cookie),
            created_at: now,
            ip: a.ip.clone(),
            user_agent: a.user_agent,
            ended_at: None,
        })
        .await?;
    let redirect = match a.req {
        None => "/".to_owned(),
        Some(req) => {
            // Taken, not read: a pending request completes once.
            let Some(p) = idp.cache.take_json::<Pending>(&pending_key(req)).await? else {
                return Ok(LoginResult::Refuse(Refusal::LoginExpired));
            };
            event.client_id = Some(p.client_id.clone());
            authorize::issue_code(idp, &p, &sess, now).await?
        }
    };
    event.detail = Some(format!("sid {}", sess.sid));
    idp.audit(event).await;
    Ok(LoginResult::SignedIn { cookie, redirect })
}
