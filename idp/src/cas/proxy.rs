//! Proxying (CAS 3.0 §2.5.4, §2.7): a service allowed to proxy names a
//! `pgtUrl` at validation; the IdP calls it over https (http only on
//! loopback when `cas.allow_http_proxy_callback_on_loopback`) with the new
//! proxy-granting ticket and its IOU, without following redirects and with a
//! timeout, and answers with the IOU only if the callback said 200. The
//! service the ticket was issued to must be allowed to proxy
//! (UNAUTHORIZED_SERVICE_PROXY otherwise), and the callback must match that
//! same service's pattern (INVALID_PROXY_CALLBACK otherwise): a service
//! cannot borrow another service's permission by naming its callback. A
//! chain of proxies is at most [`MAX_PROXY_CHAIN`] long.
//!
//! With the PGT, `/cas/proxy` issues proxy tickets while the session it came
//! from lives (not ended, not idle, not past its absolute lifetime), while
//! the service it was delivered to may still proxy, and only for a
//! `targetService` matching a registered service that accepts proxy tickets
//! (`--accept-proxy`): the rule is the target's consent, so one service that
//! may proxy cannot act for the person at every other app. Every proxy
//! ticket issued is audited (`cas.proxy_ticket_issued`).

use std::net::IpAddr;

use serde::Deserialize;

use super::response::{Code, Failure};
use super::tickets::{self, Granting, Kind, Ticket};
use super::{CasError, MAX_PROXY_CHAIN, MAX_TICKET, MAX_URL, registry};
use crate::Idp;
use crate::audit::{Event, Kind as AuditKind};
use crate::auth::mfa;
use crate::store::CasService;

#[derive(Debug, Default, Deserialize)]
pub struct ProxyRequest {
    pub pgt: Option<String>,
    #[serde(rename = "targetService")]
    pub target_service: Option<String>,
    pub format: Option<String>,
}

/// `true` when `url` may receive a proxy-granting ticket by its scheme.
pub fn callback_scheme_ok(url: &url::Url, allow_loopback_http: bool) -> bool {
    match url.scheme() {
        "https" => true,
        "http" if allow_loopback_http => match url.host() {
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
            _ => false,
        },
        _ => false,
    }
}

/// Delivers a PGT for ticket `t`, issued to the registered service `svc`,
/// to `pgt_url`: `Ok(Some(iou))` when the callback took it, `Ok(None)` when
/// it did not answer 200 (the validation still succeeds, without a PGT,
/// §2.5.4), a failure when `svc` may not proxy or the URL is not acceptable
/// (not https, or not one of `svc`'s own URLs).
pub async fn callback(
    idp: &Idp,
    pgt_url: &str,
    t: &Ticket,
    svc: &CasService,
    now: i64,
) -> Result<Result<Option<String>, Failure>, CasError> {
    let bad = |why: &str| Ok(Err(Failure::new(Code::InvalidProxyCallback, why)));
    let Some(normal) = registry::normalize(pgt_url) else {
        return bad("pgtUrl is not an absolute https URL");
    };
    let Ok(parsed) = url::Url::parse(&normal) else {
        return bad("pgtUrl is not an absolute https URL");
    };
    if !callback_scheme_ok(
        &parsed,
        idp.config.cas.allow_http_proxy_callback_on_loopback,
    ) {
        return bad("pgtUrl must be https");
    }
    // The permission is the ticket's own service's, never that of whichever
    // service the callback happens to match.
    if svc.id != t.service_id || !svc.allow_proxy {
        return Ok(Err(Failure::new(
            Code::UnauthorizedServiceProxy,
            "the service the ticket was issued to may not proxy",
        )));
    }
    if !registry::matches(svc, &normal) {
        return bad("pgtUrl is not a URL of the service the ticket was issued to");
    }
    if t.proxies.len() >= MAX_PROXY_CHAIN {
        return Ok(Err(Failure::new(
            Code::UnauthorizedServiceProxy,
            format!("the chain of proxies would be longer than {MAX_PROXY_CHAIN}"),
        )));
    }
    let mut proxies = vec![normal.clone()];
    proxies.extend(t.proxies.iter().cloned());
    let g = Granting {
        service_id: svc.id.clone(),
        user_id: t.user_id.clone(),
        sid: t.sid.clone(),
        auth_time: t.auth_time,
        acr: t.acr.clone(),
        amr: t.amr.clone(),
        proxies,
    };
    let pgt = tickets::grant(&idp.cache, &g, idp.config.session.absolute_timeout_secs).await?;
    let iou = tickets::new_id(Kind::ProxyGrantingIou)?;
    let to = crate::oidc::authorize::with_params(
        &normal,
        &[("pgtId", Some(&pgt)), ("pgtIou", Some(&iou))],
    );
    let sent = idp.http.get(&to).send().await;
    match sent {
        Ok(r) if r.status() == reqwest::StatusCode::OK => {
            let e = Event::new(AuditKind::CasProxyGranted, now)
                .actor(&t.user_id)
                .subject(&t.user_id)
                .detail(format!("sid {}; pgtUrl {normal}", t.sid));
            idp.audit(e).await;
            Ok(Ok(Some(iou)))
        }
        other => {
            let why = match other {
                Ok(r) => format!("answered {}", r.status()),
                Err(e) => format!("unreachable: {e}"),
            };
            tracing::info!(pgt_url = %normal, why, "CAS proxy callback did not take the ticket; no PGT");
            tickets::drop_granting(&idp.cache, &pgt).await?;
            Ok(Ok(None))
        }
    }
}

/// Handles `/cas/proxy`: a proxy ticket for `targetService`.
pub async fn proxy(idp: &Idp, req: &ProxyRequest, now: i64) -> Result<String, Failure> {
    match issue(idp, req, now).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "CAS proxy ticket not issued");
            Err(Failure::new(
                Code::InternalError,
                "the server could not issue a proxy ticket",
            ))
        }
    }
}

async fn issue(
    idp: &Idp,
    req: &ProxyRequest,
    now: i64,
) -> Result<Result<String, Failure>, CasError> {
    let fail = |code, why: &str| Ok(Err(Failure::new(code, why)));
    let (Some(pgt), Some(target)) = (req.pgt.as_deref(), req.target_service.as_deref()) else {
        return fail(Code::InvalidRequest, "pgt and targetService are required");
    };
    if pgt.len() > MAX_TICKET || target.len() > MAX_URL {
        return fail(Code::InvalidRequest, "a parameter is too long");
    }
    let Some(g) = tickets::granting(&idp.cache, pgt).await? else {
        return fail(Code::InvalidTicket, "pgt not recognised");
    };
    // The PGT lives no longer than its session: ended, idle or too old.
    if !super::session_live(idp, &g.sid, now).await? {
        tickets::drop_granting(&idp.cache, pgt).await?;
        return fail(Code::InvalidTicket, "the sign-in session has ended");
    }
    // The permission to proxy is checked again: it may have been withdrawn.
    let may_proxy = idp
        .store
        .cas_service(&g.service_id)
        .await?
        .is_some_and(|s| s.allow_proxy);
    if !may_proxy || g.proxies.len() > MAX_PROXY_CHAIN {
        tickets::drop_granting(&idp.cache, pgt).await?;
        return fail(
            Code::UnauthorizedServiceProxy,
            "the service holding the pgt may no longer proxy",
        );
    }
    let Some(target) = registry::normalize(target) else {
        return fail(Code::UnauthorizedService, "targetService is not a URL");
    };
    let Some(svc) = registry::find(&idp.store, &target).await? else {
        return fail(Code::UnauthorizedService, "targetService is not registered");
    };
    if !svc.accept_proxy {
        return fail(
            Code::UnauthorizedService,
            "targetService does not accept proxy tickets",
        );
    }
    if svc.require_mfa && g.acr != mfa::ACR_MFA {
        return fail(
            Code::UnauthorizedService,
            "targetService needs a sign-in with a second factor",
        );
    }
    let ttl = idp.config.cas.ticket_ttl_secs;
    let t = Ticket {
        kind: Kind::Proxy,
        service: target,
        service_id: svc.id.clone(),
        user_id: g.user_id,
        sid: g.sid,
        auth_time: g.auth_time,
        acr: g.acr,
        amr: g.amr,
        fresh: false,
        proxies: g.proxies,
        expires_at: now + i64::try_from(ttl).unwrap_or(60),
    };
    let pt = tickets::issue(&idp.cache, &t, ttl).await?;
    let mut e = Event::new(AuditKind::CasProxyTicketIssued, now)
        .actor(&t.user_id)
        .subject(&t.user_id)
        .detail(format!(
            "sid {}; by {}; targetService {}; proxies {}",
            t.sid,
            super::client_label(&g.service_id),
            t.service,
            t.proxies.join(" ")
        ));
    e.client_id = Some(super::client_label(&svc.id));
    idp.audit(e).await;
    Ok(Ok(pt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_are_https_or_loopback_http_when_allowed() {
        let u = |s: &str| url::Url::parse(s).unwrap();
        assert!(callback_scheme_ok(&u("https://p.gov.vn/cb"), false));
        assert!(!callback_scheme_ok(&u("http://127.0.0.1:9/cb"), false));
        assert!(callback_scheme_ok(&u("http://127.0.0.1:9/cb"), true));
        assert!(callback_scheme_ok(&u("http://[::1]:9/cb"), true));
        assert!(!callback_scheme_ok(&u("http://localhost:9/cb"), true));
        assert!(!callback_scheme_ok(&u("http://p.gov.vn/cb"), true));
        assert!(!callback_scheme_ok(&u("ftp://127.0.0.1/cb"), true));
    }
}
