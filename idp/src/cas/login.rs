//! `/cas/login` (CAS 3.0 §2.1–2.2): with a live portal session, straight
//! back to the service with a service ticket; `renew` asks for the password
//! again (the ticket then says it came from primary credentials); `gateway`
//! without a session goes back with no ticket; otherwise the portal's
//! sign-in form, which resumes here through the same pending request as an
//! OIDC authorization (`oidc::authorize::Pending` with its `cas` part), with
//! second factors asked the same way. A service registered with
//! `--require-mfa` is an OIDC client's `require_mfa`: the sign-in needs a
//! second factor (`acr` 2), and a live session without one steps up first.
//! An unregistered service gets a page, never a redirect.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::tickets::{self, Kind, Ticket};
use super::{CasError, registry};
use crate::Idp;
use crate::audit::{Event, Kind as AuditKind};
use crate::auth::mfa;
use crate::auth::session::SsoSession;
use crate::cache::keys;
use crate::crypto;
use crate::ids::ClientId;
use crate::oidc::authorize::{Pending, with_params};
use crate::refusal::Refusal;
use crate::store::CasService;

#[derive(Debug, Default, Deserialize)]
pub struct LoginRequest {
    pub service: Option<String>,
    pub renew: Option<String>,
    pub gateway: Option<String>,
}

/// The CAS part of a pending sign-in.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct CasPending {
    /// The normalised service URL the ticket goes to.
    pub service: String,
    pub service_id: String,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// To the service (with a ticket, or without for `gateway`), or to the portal.
    Redirect(String),
    /// The sign-in form for the pending request `req_id`.
    Login {
        req_id: String,
    },
    /// Signed in, but the service needs a second factor the session lacks:
    /// set this second-factor cookie and show the second-factor page.
    SecondFactor {
        token: String,
    },
    Refuse(Refusal),
}

/// Handles `GET /cas/login`; `session` is the person's live portal session.
pub async fn start(
    idp: &Idp,
    req: LoginRequest,
    session: Option<&SsoSession>,
    now: i64,
) -> Result<Step, CasError> {
    let Some(raw) = req.service.as_deref() else {
        // No service: the portal itself (§2.1.1 lets the server show its own page).
        return Ok(Step::Redirect(
            if session.is_some() { "/" } else { "/login" }.into(),
        ));
    };
    let Some(service_url) = registry::normalize(raw) else {
        return Ok(Step::Refuse(Refusal::UnknownService));
    };
    // Never a redirect to an address no registered service matches.
    let Some(service) = registry::find(&idp.store, &service_url).await? else {
        tracing::info!(service = %service_url, "CAS login for an unregistered service refused");
        return Ok(Step::Refuse(Refusal::UnknownService));
    };
    let renew = super::flag(req.renew.as_deref());
    let mut step_up = None;
    if !renew {
        if let Some(sess) = session {
            if !service.require_mfa || sess.acr == mfa::ACR_MFA {
                return Ok(Step::Redirect(
                    issue(idp, &service, &service_url, sess, false, now).await?,
                ));
            }
            step_up = Some(sess);
        } else if super::flag(req.gateway.as_deref()) {
            // §2.1.1: no session and no asking: back without a ticket.
            return Ok(Step::Redirect(service_url));
        }
    }
    if step_up.is_some() && super::flag(req.gateway.as_deref()) {
        // Gateway never asks anything, a second factor included.
        return Ok(Step::Redirect(service_url));
    }
    let pending = Pending {
        client_id: ClientId::from(super::client_label(&service.id).as_str()),
        client_name: service.name.clone(),
        redirect_uri: service_url.clone(),
        scope: Vec::new(),
        state: None,
        nonce: None,
        code_challenge: None,
        max_age: None,
        force_login: renew,
        login_hint: None,
        ui_locales: None,
        need_mfa: service.require_mfa,
        cas: Some(CasPending {
            service: service_url,
            service_id: service.id,
        }),
        saml: None,
    };
    let req_id = crypto::random_token()?;
    idp.cache
        .set_json(
            &keys::pending(&req_id),
            &pending,
            Duration::from_secs(idp.config.session.login_request_ttl_secs),
        )
        .await?;
    match step_up {
        Some(sess) => {
            let half = mfa::Half {
                user_id: sess.user_id.clone(),
                req: Some(req_id),
                step_up: Some(sess.sid.clone()),
                then: None,
                passed: None,
                created_at: now,
            };
            Ok(Step::SecondFactor {
                token: half.save(idp).await?,
            })
        }
        None => Ok(Step::Login { req_id }),
    }
}

/// After the portal's sign-in (password, and second factor when one is
/// due): the ticket for the pending service, marked fresh. A service removed
/// meanwhile sends the person to the portal.
pub async fn resume(
    idp: &Idp,
    p: &CasPending,
    sess: &SsoSession,
    now: i64,
) -> Result<String, CasError> {
    match idp.store.cas_service(&p.service_id).await? {
        // A factor enrolled in this sign-in is not yet one proven
        // (`portal::login::complete`): `/cas/login` again asks for it.
        Some(s) if s.require_mfa && sess.acr != mfa::ACR_MFA => Ok(format!(
            "/cas/login?{}",
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("service", &p.service)
                .finish()
        )),
        Some(s) if registry::matches(&s, &p.service) => {
            issue(idp, &s, &p.service, sess, true, now).await
        }
        _ => Ok("/".to_owned()),
    }
}

/// Issues a service ticket for `service_url` in `sess` and returns the
/// redirect to the service with it.
pub async fn issue(
    idp: &Idp,
    service: &CasService,
    service_url: &str,
    sess: &SsoSession,
    fresh: bool,
    now: i64,
) -> Result<String, CasError> {
    let ttl = idp.config.cas.ticket_ttl_secs;
    let t = Ticket {
        kind: Kind::Service,
        service: service_url.to_owned(),
        service_id: service.id.clone(),
        user_id: sess.user_id.clone(),
        sid: sess.sid.clone(),
        auth_time: sess.auth_time,
        acr: sess.acr.clone(),
        amr: sess.amr.clone(),
        fresh,
        proxies: Vec::new(),
        expires_at: now + i64::try_from(ttl).unwrap_or(60),
    };
    let id = tickets::issue(&idp.cache, &t, ttl).await?;
    let mut e = Event::new(AuditKind::CasTicketIssued, now)
        .actor(&sess.user_id)
        .subject(&sess.user_id)
        .detail(format!(
            "sid {}; service {service_url}; {}",
            sess.sid,
            if fresh {
                "fresh sign-in"
            } else {
                "single sign-on"
            }
        ));
    e.client_id = Some(super::client_label(&service.id));
    idp.audit(e).await;
    Ok(with_params(service_url, &[("ticket", Some(&id))]))
}
