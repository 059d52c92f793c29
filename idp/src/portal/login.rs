//! Signing in at the portal: check the account and password, start the SSO
//! session, and finish the app's pending authorization if there is one.
//! Unknown accounts and wrong passwords take the same path, time and answer.

use connectors::{Directory, DirectoryError, LoginOutcome};

use crate::Idp;
use crate::audit::{Event, Kind};
use crate::auth::guard::{self, Admission, Verdict};
use crate::auth::mfa;
use crate::auth::mfa::Half;
use crate::auth::{account, session};
use crate::cache::keys;
use crate::ids::Email;
use crate::mail;
use crate::oidc::OidcError;
use crate::oidc::authorize::{self, Pending};
use crate::portal::account::vn_time;
use crate::refusal::Refusal;
use crate::store::{SessionRow, StoreError, User};

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
    #[error(transparent)]
    Mfa(#[from] mfa::MfaError),
    #[error(transparent)]
    Cas(#[from] crate::cas::CasError),
    #[error(transparent)]
    Saml(#[from] crate::saml::SamlError),
}

#[derive(Debug)]
pub enum LoginResult {
    /// Signed in: set this cookie (and the device cookie, when new) and go there.
    SignedIn {
        cookie: String,
        redirect: String,
        device: Option<String>,
    },
    /// The password was right; a second factor comes next (set this cookie).
    SecondFactor {
        token: String,
    },
    /// Wrong account or password; show the form again.
    Invalid,
    /// Too many failures: not checked at all (same for every account).
    Throttled(Verdict),
    Refuse(Refusal),
}

/// The pending authorization behind `req`, if it is still there.
pub async fn pending(idp: &Idp, req: &str) -> Result<Option<Pending>, LoginError> {
    Ok(idp.cache.get_json::<Pending>(&keys::pending(req)).await?)
}

/// What the sign-in form of an app's request shows.
pub struct AppAsks {
    pub client_name: String,
    /// The account the app suggests (`login_hint`).
    pub login_hint: Option<String>,
    /// The first language of the app's `ui_locales` that the portal speaks.
    pub lang: Option<portal_ui::Lang>,
}

/// What the app behind `req` asks of the sign-in form; `None` when the
/// request is gone (expired or finished).
pub async fn app_asks(idp: &Idp, req: &str) -> Result<Option<AppAsks>, LoginError> {
    Ok(pending(idp, req).await?.map(|p| AppAsks {
        lang: p
            .ui_locales
            .as_deref()
            .and_then(|u| u.split(' ').find_map(portal_ui::Lang::from_tag)),
        client_name: p.client_name,
        login_hint: p.login_hint,
    }))
}

pub struct Attempt<'a> {
    pub account: &'a str,
    pub password: &'a str,
    pub req: Option<&'a str>,
    /// The cookie of a session the browser already had; replaced on success.
    pub old_cookie: Option<&'a str>,
    /// The device cookie, if the browser has one.
    pub device: Option<&'a str>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: String,
}

pub async fn submit(idp: &Idp, a: Attempt<'_>, now: i64) -> Result<LoginResult, LoginError> {
    // The app's request, read once: it must still be there, and it may ask for a second factor.
    let app_needs = match a.req {
        Some(req) => match pending(idp, req).await? {
            Some(p) => p.need_mfa,
            None => return Ok(LoginResult::Refuse(Refusal::LoginExpired)),
        },
        None => false,
    };
    let email = account::normalize(a.account, idp.config.email_domain.as_deref());
    // Counted by what was typed (normalised when it can be), so an unknown
    // account is throttled exactly like a real one.
    let counted = email.as_deref().unwrap_or(a.account).to_owned();
    let bf = &idp.config.brute_force;
    // The try is reserved before the password is checked, so parallel
    // guesses cannot all be checked before the first failure is counted.
    let reservation = match guard::reserve(&idp.cache, bf, &counted, a.ip.as_deref(), now).await? {
        Admission::Go(r) => r,
        Admission::Refused(verdict) => {
            tracing::info!(request_id = %a.request_id, ?verdict, "sign-in throttled");
            idp.metrics.login(false);
            return Ok(LoginResult::Throttled(verdict));
        }
    };
    let user = match check_password(idp, &email, a.password).await {
        Ok(user) => user,
        Err(e) => {
            // No verdict on the password: nothing counted, the turn given back.
            if let Err(r) = guard::release(&idp.cache, reservation).await {
                tracing::warn!(request_id = %a.request_id, error = %r, "sign-in reservation not released");
            }
            return Err(e);
        }
    };
    let mut event = Event::new(Kind::LoginFailed, now)
        .ip(a.ip.clone())
        .request(&a.request_id);
    let Some(user) = user else {
        idp.metrics.login(false);
        event.subject = Some(
            email
                .as_ref()
                .map_or_else(|_| a.account.chars().take(100).collect(), String::from),
        );
        let locked = guard::failed(&idp.cache, bf, reservation, now).await?;
        if locked {
            let mut lock = event.clone();
            lock.kind = Kind::Locked;
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
    guard::succeeded(&idp.cache, reservation).await?;
    let factors = idp.store.factors(&user.id).await?;
    if app_needs || mfa::required_for(idp, &user, &factors).await? {
        let half = Half {
            user_id: user.id.clone(),
            req: a.req.map(str::to_owned),
            step_up: None,
            then: None,
            passed: None,
            created_at: now,
        };
        let token = half.save(idp).await?;
        event.kind = Kind::PasswordOk;
        event.actor = Some(user.id.to_string());
        event.subject = Some(user.email.to_string());
        event.detail = Some("second factor next".into());
        idp.audit(event).await;
        return Ok(LoginResult::SecondFactor { token });
    }
    finish(
        idp,
        Done {
            user: &user,
            req: a.req,
            amr: vec!["pwd".into()],
            old_cookie: a.old_cookie,
            device: a.device,
            ip: a.ip,
            user_agent: a.user_agent,
            request_id: a.request_id,
        },
        now,
    )
    .await
}

/// Checks the password of the account typed; `Some` is the person signed
/// in: the account looked up, never another one the directory names.
async fn check_password(
    idp: &Idp,
    email: &Result<Email, account::AccountError>,
    password: &str,
) -> Result<Option<User>, LoginError> {
    let email = match email {
        Ok(email) => email,
        // Not an address at all: still spend a hash so timing says nothing.
        Err(_) => {
            let _ = idp.hasher.check(None, password.to_owned()).await;
            return Ok(None);
        }
    };
    let outcome = idp
        .directory
        .authenticate(email, password)
        .await
        .map_err(|e| match e {
            DirectoryError::Unavailable(m) | DirectoryError::Other(m) => {
                LoginError::DirectoryDown(m)
            }
        })?;
    match outcome {
        LoginOutcome::Authenticated(identity) if identity.email == *email => {
            Ok(idp.store.user_by_email(email).await?)
        }
        LoginOutcome::Authenticated(identity) => {
            // The directories never answer for another account; if one did, refuse.
            tracing::error!(account = %email, named = %identity.email, "a directory answered for another account; refused");
            Ok(None)
        }
        LoginOutcome::InvalidCredentials => Ok(None),
    }
}

/// A person whose identity is settled, about to get a session.
pub struct Done<'a> {
    pub user: &'a User,
    pub req: Option<&'a str>,
    /// How they proved it (RFC 8176): `pwd`, plus the second factor's values.
    pub amr: Vec<String>,
    pub old_cookie: Option<&'a str>,
    pub device: Option<&'a str>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: String,
}

/// Starts the session, completes the app's request, writes the audit log and
/// tells the person of a sign-in from a browser new to them.
pub async fn finish(idp: &Idp, d: Done<'_>, now: i64) -> Result<LoginResult, LoginError> {
    let user = d.user;
    idp.metrics.login(true);
    let mut event = Event::new(Kind::Login, now)
        .ip(d.ip.clone())
        .request(&d.request_id)
        .actor(&user.id)
        .subject(&user.email);
    let acr = if d.amr.iter().any(|m| m == "mfa") {
        mfa::ACR_MFA
    } else {
        mfa::ACR_PASSWORD
    };

    // The same person signing in again (an app asked for the password or a
    // second factor): the SAML SPs of the old session carry over to the
    // new one, since they can only be told of a sign-out in the browser.
    let carried = match d.old_cookie {
        Some(old) => match session::load(&idp.cache, &idp.config.session, old, now).await? {
            Some(s) if s.user_id == user.id => idp.store.take_saml_sessions(&s.sid).await?,
            _ => Vec::new(),
        },
        None => Vec::new(),
    };
    if let Some(old) = d.old_cookie {
        // A new sign-in gets a new session id (no fixation). The old session
        // ends like any sign-out: its grants revoked, and its OIDC apps and
        // CAS services told (back channel, single logout), so none of them
        // keeps a session the IdP ended.
        crate::oidc::logout::sign_out(idp, old, None, d.ip.clone(), now).await?;
    }
    let amr_text = d.amr.join(" ");
    let (cookie, sess) =
        session::create(&idp.cache, &idp.config.session, &user.id, d.amr, acr, now).await?;
    for mut row in carried {
        row.sid.clone_from(&sess.sid);
        idp.store.record_saml_session(&row).await?;
    }
    idp.store
        .record_session(&SessionRow {
            sid: sess.sid.clone(),
            user_id: user.id.clone(),
            key_hash: session::key_hash(&cookie),
            created_at: now,
            ip: d.ip.clone(),
            user_agent: d.user_agent.clone(),
            ended_at: None,
        })
        .await?;
    let Some(redirect) = back_to_app(idp, d.req, &sess, &mut event, now).await? else {
        return Ok(LoginResult::Refuse(Refusal::LoginExpired));
    };
    event.detail = Some(format!("sid {}; amr {amr_text}", sess.sid));
    idp.audit(event).await;

    let (device, new_cookie) = match d.device {
        Some(v) => (v.to_owned(), None),
        None => {
            let v = crate::crypto::random_token().map_err(OidcError::from)?;
            (v.clone(), Some(v))
        }
    };
    let device_hash = crate::crypto::sha256_b64(device.as_bytes());
    if idp.store.touch_device(&user.id, &device_hash, now).await? == Some(false) {
        let what =
            crate::portal::account::device(d.user_agent.as_deref()).unwrap_or_else(|| "?".into());
        let mail = mail::new_device(&what, d.ip.as_deref().unwrap_or("?"), &vn_time(now));
        mail::notify(idp, &user.email, &mail).await;
    }
    Ok(LoginResult::SignedIn {
        cookie,
        redirect,
        device: new_cookie,
    })
}

/// Where to go once signed in: the app's pending request, completed in
/// `sess` (taken, not read: it completes once), or the portal. `None` when
/// the request is gone.
async fn back_to_app(
    idp: &Idp,
    req: Option<&str>,
    sess: &session::SsoSession,
    event: &mut Event,
    now: i64,
) -> Result<Option<String>, LoginError> {
    let Some(req) = req else {
        return Ok(Some("/".to_owned()));
    };
    let Some(p) = idp.cache.take_json::<Pending>(&keys::pending(req)).await? else {
        return Ok(None);
    };
    event.client_id = Some(p.client_id.to_string());
    if let Some(cas) = &p.cas {
        return Ok(Some(crate::cas::login::resume(idp, cas, sess, now).await?));
    }
    if let Some(saml) = &p.saml {
        return Ok(Some(crate::saml::sso::resume(idp, saml, sess, now).await?));
    }
    Ok(Some(authorize::issue_code(idp, &p, sess, now).await?))
}

/// Where the browser is between the second factor and the app.
pub struct Context<'a> {
    pub session_cookie: Option<&'a str>,
    pub device: Option<&'a str>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: String,
}

/// The second step is done: sign in (or raise the session, for a step-up).
/// `amr` with `mfa` raises to `acr` 2 and lets the session change its
/// factors for a while; without it (a first factor enrolled in this
/// sign-in) the sign-in stays at `acr` 1 and the app may ask again.
pub async fn complete(
    idp: &Idp,
    half: &Half,
    amr: Vec<String>,
    c: Context<'_>,
    now: i64,
) -> Result<LoginResult, LoginError> {
    let Some(user) = idp
        .store
        .user_by_id(&half.user_id)
        .await?
        .filter(|u| !u.is_disabled())
    else {
        return Ok(LoginResult::Refuse(Refusal::LoginExpired));
    };
    let with_factor = amr.iter().any(|m| m == "mfa");
    let Some(sid) = &half.step_up else {
        let done = finish(
            idp,
            Done {
                user: &user,
                req: half.req.as_deref(),
                amr,
                old_cookie: c.session_cookie,
                device: c.device,
                ip: c.ip,
                user_agent: c.user_agent,
                request_id: c.request_id,
            },
            now,
        )
        .await?;
        if with_factor && let LoginResult::SignedIn { cookie, .. } = &done {
            let cfg = &idp.config.session;
            if let Some(sess) = session::load(&idp.cache, cfg, cookie, now).await? {
                mfa::mark_fresh(idp, mfa::Scope::Session(&sess.sid), now).await?;
            }
        }
        return Ok(done);
    };
    let Some(cookie) = c.session_cookie else {
        return Ok(LoginResult::Refuse(Refusal::LoginExpired));
    };
    let amr_text = amr.join(" ");
    let cfg = &idp.config.session;
    let sess = if with_factor {
        session::raise(&idp.cache, cfg, cookie, sid, amr, mfa::ACR_MFA, now).await?
    } else {
        // Enrolled, not proven: the session stays as it was.
        session::load(&idp.cache, cfg, cookie, now)
            .await?
            .filter(|s| &s.sid == sid)
    };
    let Some(sess) = sess else {
        return Ok(LoginResult::Refuse(Refusal::LoginExpired));
    };
    if with_factor {
        mfa::mark_fresh(idp, mfa::Scope::Session(&sess.sid), now).await?;
    }
    let kind = if with_factor {
        Kind::StepUp
    } else {
        Kind::Enrolled
    };
    let mut event = Event::new(kind, now)
        .ip(c.ip)
        .request(c.request_id)
        .actor(&user.id)
        .subject(&user.email)
        .detail(format!("sid {}; amr {amr_text}", sess.sid));
    let Some(mut redirect) = back_to_app(idp, half.req.as_deref(), &sess, &mut event, now).await?
    else {
        return Ok(LoginResult::Refuse(Refusal::LoginExpired));
    };
    if let (None, Some(then)) = (&half.req, &half.then) {
        redirect.clone_from(then);
    }
    idp.audit(event).await;
    Ok(LoginResult::SignedIn {
        cookie: cookie.to_owned(),
        redirect,
        device: None,
    })
}
