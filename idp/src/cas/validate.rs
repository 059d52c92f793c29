//! Ticket validation: `/cas/validate` (CAS 1.0, §2.4), `/cas/serviceValidate`
//! and `/cas/proxyValidate` (§2.5, §2.6) and their `/cas/p3/` forms, which
//! release the service's attributes (§2.5.7 and appendix A).
//!
//! The ticket is taken from the cache before anything is checked, so it is
//! spent by any attempt: one that names another service is refused and the
//! ticket is gone (§2.5.1 "MUST be invalidated"). Proxy tickets are refused
//! at `serviceValidate` (§2.5: INVALID_TICKET_SPEC).
//!
//! The validation is recorded for single logout before the session is
//! checked, and undone when the session has ended: a sign-out that ran in
//! between either finds the record (and tells the service) or is seen by the
//! check (and the ticket is refused), so no service keeps a session the IdP
//! ended. A service registered `--require-mfa` takes only tickets of a
//! sign-in with a second factor. `/p3/` releases `acr` (`1`, or `2` with a
//! second factor) and `amr` (RFC 8176 values, one per method) beside the
//! appendix A attributes.

use serde::Deserialize;

use super::proxy;
use super::registry;
use super::response::{Code, Failure, Success};
use super::tickets::{self, Kind, Ticket};
use super::{CasError, MAX_TICKET, MAX_URL};
use crate::Idp;
use crate::audit::{Event, Kind as AuditKind};
use crate::auth::mfa;
use crate::store::{CasService, CasSessionRow};

#[derive(Debug, Default, Deserialize)]
pub struct ValidateRequest {
    pub service: Option<String>,
    pub ticket: Option<String>,
    #[serde(rename = "pgtUrl")]
    pub pgt_url: Option<String>,
    pub renew: Option<String>,
    pub format: Option<String>,
}

/// Which endpoint is asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `/validate` (CAS 1.0): service tickets only, no proxying.
    V1,
    /// `/serviceValidate`, `/p3/serviceValidate`.
    Service,
    /// `/proxyValidate`, `/p3/proxyValidate`: service and proxy tickets.
    Proxy,
}

/// Validates `req` at `endpoint`; `attributes` for the `/p3/` paths. An
/// internal error is a failure with INTERNAL_ERROR (logged here). `ip` is
/// for the audit log.
pub async fn validate(
    idp: &Idp,
    req: &ValidateRequest,
    endpoint: Endpoint,
    attributes: bool,
    ip: Option<String>,
    now: i64,
) -> Result<Success, Failure> {
    let r = check(idp, req, endpoint, attributes, now).await;
    let r = match r {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "CAS validation failed inside the IdP");
            Err(Failure::new(
                Code::InternalError,
                "the server could not validate the ticket",
            ))
        }
    };
    let (kind, detail) = match &r {
        Ok(s) => (AuditKind::CasTicketValidated, format!("user {}", s.user)),
        Err(f) => (
            AuditKind::CasValidationFailed,
            format!("{}: {}", f.code.as_str(), f.description),
        ),
    };
    let service = req.service.as_deref().unwrap_or_default();
    let mut e = Event::new(kind, now).ip(ip).detail(format!(
        "{detail}; service {}",
        service.chars().take(300).collect::<String>()
    ));
    if let Ok(s) = &r {
        e.subject = Some(s.user.clone());
    }
    idp.audit(e).await;
    r
}

async fn check(
    idp: &Idp,
    req: &ValidateRequest,
    endpoint: Endpoint,
    attributes: bool,
    now: i64,
) -> Result<Result<Success, Failure>, CasError> {
    let fail = |code, why: &str| Ok(Err(Failure::new(code, why)));
    // The service URL is the calling server's own: without it the request
    // is malformed by the caller (counted). The ticket is the browser's.
    let Some(service) = req.service.as_deref() else {
        return Ok(Err(Failure::malformed(
            Code::InvalidRequest,
            "service is required",
        )));
    };
    let Some(ticket) = req.ticket.as_deref() else {
        return fail(Code::InvalidRequest, "ticket is required");
    };
    if service.len() > MAX_URL
        || ticket.len() > MAX_TICKET
        || req.pgt_url.as_deref().is_some_and(|u| u.len() > MAX_URL)
    {
        return fail(Code::InvalidRequest, "a parameter is too long");
    }
    let kind = Kind::of(ticket);
    if !matches!(kind, Some(Kind::Service | Kind::Proxy)) {
        return fail(Code::InvalidTicketSpec, "not a service or proxy ticket");
    }
    // Spent by this call whatever follows.
    let Some(t) = tickets::take(&idp.cache, ticket, now).await? else {
        return fail(
            Code::InvalidTicket,
            &format!("ticket {ticket} not recognised"),
        );
    };
    if t.kind == Kind::Proxy && endpoint != Endpoint::Proxy {
        return fail(
            Code::InvalidTicketSpec,
            "a proxy ticket is validated at /proxyValidate",
        );
    }
    if registry::normalize(service).as_deref() != Some(t.service.as_str()) {
        return fail(
            Code::InvalidService,
            "the ticket was issued for another service",
        );
    }
    if super::flag(req.renew.as_deref()) && !t.fresh {
        return fail(
            Code::InvalidTicket,
            "renew: the ticket was not issued from a fresh sign-in",
        );
    }
    let Some(svc) = idp.store.cas_service(&t.service_id).await? else {
        return fail(Code::InvalidService, "the service is no longer registered");
    };
    if svc.require_mfa && t.acr != mfa::ACR_MFA {
        return fail(
            Code::InvalidTicket,
            "the service needs a sign-in with a second factor",
        );
    }
    let Some(user) = idp
        .store
        .user_by_id(&t.user_id)
        .await?
        .filter(|u| !u.is_disabled())
    else {
        return fail(Code::InvalidTicket, "the account is disabled");
    };
    if !super::session_live(idp, &t.sid, now).await? {
        return fail(Code::InvalidTicket, "the sign-in session has ended");
    }
    let pgt_iou = match req.pgt_url.as_deref() {
        None => None,
        Some(_) if endpoint == Endpoint::V1 => None,
        Some(url) => match proxy::callback(idp, url, &t, &svc, now).await? {
            Ok(iou) => iou,
            Err(f) => return Ok(Err(f)),
        },
    };
    // Recorded first, then the session checked again (see the module
    // comment): a sign-out during the checks above or the proxy callback
    // cannot leave this service signed in.
    idp.store
        .record_cas_session(&CasSessionRow {
            sid: t.sid.clone(),
            service_id: svc.id.clone(),
            ticket: ticket.to_owned(),
            service_url: t.service.clone(),
            created_at: now,
        })
        .await?;
    if !super::session_live(idp, &t.sid, now).await? {
        idp.store.forget_cas_session(&t.sid, ticket).await?;
        if let Some(iou) = &pgt_iou {
            tracing::info!(pgt_iou = %iou, sid = %t.sid, "a PGT of a session that ended meanwhile: it yields nothing");
        }
        return fail(Code::InvalidTicket, "the sign-in session has ended");
    }
    let attributes = if attributes {
        released(idp, &svc, &user, &t).await?
    } else {
        Vec::new()
    };
    Ok(Ok(Success {
        user: user.email.to_string(),
        attributes,
        pgt_iou,
        proxies: t.proxies,
    }))
}

/// The attributes `svc` releases about `user`, then the ones CAS 3.0
/// appendix A names about the sign-in.
async fn released(
    idp: &Idp,
    svc: &CasService,
    user: &crate::store::User,
    t: &Ticket,
) -> Result<Vec<(String, String)>, CasError> {
    let mut out = Vec::new();
    for a in registry::attributes(svc) {
        if let Some(v) = a.value(&idp.store, user, svc.app_id.as_deref()).await? {
            out.push((a.as_str().to_owned(), v));
        }
    }
    out.push((
        "authenticationDate".into(),
        crate::signing::tsp::rfc3339(t.auth_time),
    ));
    out.push(("isFromNewLogin".into(), t.fresh.to_string()));
    // How the person signed in: `acr` as in OIDC (`1` password, `2` with a
    // second factor) and each RFC 8176 `amr` value.
    let acr = if t.acr.is_empty() {
        mfa::ACR_PASSWORD
    } else {
        t.acr.as_str()
    };
    out.push(("acr".into(), acr.to_owned()));
    for m in &t.amr {
        out.push(("amr".into(), m.clone()));
    }
    out.push((
        "longTermAuthenticationRequestTokenUsed".into(),
        "false".into(),
    ));
    Ok(out)
}
