//! Single Logout (SAML 2.0 profiles §4.4), front channel, both bindings.
//! When a portal session ends, each SP signed in to from it gets a signed
//! LogoutRequest in a frame of the sign-out page (beside the OIDC
//! front-channel apps): by the Redirect binding, or by an auto-submitted
//! form (`/saml/post/{id}`) to an SP whose SLO endpoint takes POST only.
//! An SP that starts the logout sends its signed LogoutRequest to
//! `/saml/slo`: the portal session ends (every other app hears of it as
//! from any sign-out) and the browser goes back to the SP with a signed
//! LogoutResponse by the binding of its endpoint. An SP's LogoutResponse
//! to our request (inside its frame) needs nothing more.

use super::bindings::{self, Direction, Incoming};
use super::dsig::{self, Unsigned};
use super::metadata::Endpoint;
use super::registry::{self, Sp};
use super::sso::{self, PostForm};
use super::xml::{self, Element, Limits, Writer};
use super::{
    BINDING_POST, CLOCK_SKEW_SECS, NS_SAML, NS_SAMLP, REQUEST_MAX_AGE_SECS, STATUS_PARTIAL_LOGOUT,
    STATUS_RESPONDER, STATUS_SUCCESS, Saml, SamlError, instant, parse_instant,
};
use crate::Idp;
use crate::audit::{Event, Kind as AuditKind};
use crate::cache::CacheBackend;
use crate::ids::ClientId;
use crate::oidc::logout::{AppNotice, Notice};

/// The most sessions one LogoutRequest may name.
const MAX_SESSION_INDEXES: usize = 16;

/// A LogoutRequest naming `name_id` and `session_index`, for `destination`.
fn logout_request(
    issuer: &str,
    destination: &str,
    name_id: &str,
    name_id_format: &str,
    sp_entity: &str,
    session_index: &str,
    now: i64,
) -> Result<Unsigned, SamlError> {
    let id = super::new_id()?;
    let mut w = Writer::new();
    w.open(
        "samlp:LogoutRequest",
        &[("samlp", NS_SAMLP)],
        &[
            ("Destination", Some(destination)),
            ("ID", Some(&id)),
            ("IssueInstant", Some(&instant(now))),
            ("NotOnOrAfter", Some(&instant(now + REQUEST_MAX_AGE_SECS))),
            ("Version", Some("2.0")),
        ],
    )
    .leaf("saml:Issuer", &[("saml", NS_SAML)], &[], issuer);
    let at = w.mark();
    w.leaf(
        "saml:NameID",
        &[("saml", NS_SAML)],
        &[
            ("Format", Some(name_id_format)),
            ("SPNameQualifier", Some(sp_entity)),
        ],
        name_id,
    )
    .leaf("samlp:SessionIndex", &[], &[], session_index);
    Ok(Unsigned {
        xml: w.finish(),
        at,
        id,
    })
}

/// A LogoutResponse with `status` to `destination`.
fn logout_response(
    issuer: &str,
    destination: &str,
    in_response_to: &str,
    status: (&str, Option<&str>),
    now: i64,
) -> Result<Unsigned, SamlError> {
    let id = super::new_id()?;
    let mut w = Writer::new();
    w.open(
        "samlp:LogoutResponse",
        &[("samlp", NS_SAMLP)],
        &[
            ("Destination", Some(destination)),
            ("ID", Some(&id)),
            ("InResponseTo", Some(in_response_to)),
            ("IssueInstant", Some(&instant(now))),
            ("Version", Some("2.0")),
        ],
    )
    .leaf("saml:Issuer", &[("saml", NS_SAML)], &[], issuer);
    let at = w.mark();
    w.open("samlp:Status", &[], &[])
        .open("samlp:StatusCode", &[], &[("Value", Some(status.0))]);
    if let Some(second) = status.1 {
        w.leaf("samlp:StatusCode", &[], &[("Value", Some(second))], "");
    }
    Ok(Unsigned {
        xml: w.finish(),
        at,
        id,
    })
}

/// Where the browser takes `message` to `to` by `ep`'s binding: the signed
/// Redirect URL, or (POST) the IdP's page that posts it there signed
/// (held two minutes for any browser: the session it was for has ended).
async fn via_browser(
    idp: &Idp,
    saml: &Saml,
    ep: &Endpoint,
    to: &str,
    direction: Direction,
    message: Unsigned,
    relay_state: Option<&str>,
) -> Result<String, SamlError> {
    if ep.binding != BINDING_POST {
        return bindings::redirect_url(&saml.key, to, direction, &message.xml, relay_state);
    }
    let xml = dsig::sign_enveloped(&saml.key, message)?;
    let form = PostForm {
        sid: String::new(),
        action: to.to_owned(),
        field: direction.param().to_owned(),
        value: bindings::post_value(&xml),
        relay_state: relay_state.map(str::to_owned),
    };
    let path = sso::post_via_browser(idp, &form).await?;
    Ok(format!("{}{path}", idp.config.issuer))
}

/// Tells each SP of the ended session `sid`, for the sign-out page: a
/// frame with a signed LogoutRequest where the SP has an SLO endpoint
/// (Redirect preferred). Errors are logged: the person is signed out
/// whatever an SP hears.
pub async fn notify(idp: &Idp, sid: &str, now: i64) -> Vec<AppNotice> {
    let Some(saml) = idp.saml.as_ref() else {
        return Vec::new();
    };
    let rows = match idp.store.take_saml_sessions(sid).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::error!(error = %e, sid, "SAML SPs not told of the sign-out");
            return Vec::new();
        }
    };
    let mut apps = Vec::new();
    for row in rows {
        let sp = match registry::find(idp, &row.entity_id).await {
            Ok(Some(sp)) => sp,
            Ok(None) => continue,
            Err(e) => {
                tracing::error!(error = %e, sp = %row.entity_id, "SAML SP not told of the sign-out");
                continue;
            }
        };
        let notice = match sp.meta.slo_endpoint(None) {
            None => Notice::Unreachable,
            Some(ep) => {
                let url = match logout_request(
                    &saml.urls.entity_id,
                    &ep.location,
                    &row.name_id,
                    &row.name_id_format,
                    &sp.row.entity_id,
                    &row.session_index,
                    now,
                ) {
                    Ok(m) => {
                        via_browser(idp, saml, ep, &ep.location, Direction::Request, m, None).await
                    }
                    Err(e) => Err(e),
                };
                match url {
                    Ok(url) => Notice::Front { url },
                    Err(e) => {
                        tracing::error!(error = %e, sp = %sp.row.entity_id, "SAML LogoutRequest not made");
                        Notice::Unreachable
                    }
                }
            }
        };
        apps.push(AppNotice {
            client_id: ClientId::from(sp.label().as_str()),
            name: sp.row.name.clone(),
            notice,
        });
    }
    apps
}

/// A checked LogoutRequest from an SP.
#[derive(Debug)]
pub struct LogoutAsked {
    pub initiator: String,
    pub name_id: String,
    /// The sessions it names (its `SessionIndex`es, core §3.7.1); none
    /// names every session of that NameID.
    pub session_indexes: Vec<String>,
    request_id: String,
    /// The SP's SLO endpoint for the response, and where on it.
    endpoint: Endpoint,
    respond_to: String,
    relay_state: Option<String>,
}

/// What `/saml/slo` does with a message.
#[derive(Debug)]
pub enum Outcome {
    /// Sign out the portal session the SP was given `name_id` in (only
    /// that one); then to `respond_to` (the signed LogoutResponse to the
    /// SP), after the other apps' frames.
    SignOut(Box<LogoutAsked>),
    /// An SP's answer to our LogoutRequest: nothing to do.
    Acknowledged,
    /// Refused (logged and audited).
    Refused,
}

/// Checks a message sent to `/saml/slo`.
pub async fn receive(idp: &Idp, incoming: Incoming, now: i64) -> Result<Outcome, SamlError> {
    let root = match xml::parse(&incoming.xml, Limits::MESSAGE) {
        Ok(r) => r,
        Err(e) => {
            return Ok(refused(idp, None, &format!("unreadable logout message: {e}"), now).await);
        }
    };
    let Some(issuer) = root.child(NS_SAML, "Issuer").map(Element::trimmed) else {
        return Ok(refused(idp, None, "a logout message names no Issuer", now).await);
    };
    let Some(sp) = registry::find(idp, issuer).await? else {
        return Ok(refused(
            idp,
            None,
            &format!(
                "logout message from unregistered SP {}",
                super::clip(issuer)
            ),
            now,
        )
        .await);
    };
    if incoming.direction == Direction::Response {
        if !root.is(NS_SAMLP, "LogoutResponse") {
            return Ok(refused(
                idp,
                Some(&sp),
                "a SAMLResponse that is not a LogoutResponse",
                now,
            )
            .await);
        }
        return Ok(Outcome::Acknowledged);
    }
    if !root.is(NS_SAMLP, "LogoutRequest") {
        return Ok(refused(
            idp,
            Some(&sp),
            "a SAMLRequest that is not a LogoutRequest",
            now,
        )
        .await);
    }
    // A LogoutRequest must be signed (profiles §4.4.4.1): by the Redirect
    // binding's query signature or an XML signature by the POST binding,
    // with the SP's registered certificate.
    match super::verify::signatures(&incoming, &root, &sp.meta.signing_certs_der()) {
        Ok(true) => {}
        Ok(false) => {
            return Ok(refused(idp, Some(&sp), "an unsigned LogoutRequest", now).await);
        }
        Err(why) => {
            return Ok(refused(
                idp,
                Some(&sp),
                &format!("the LogoutRequest's signature does not verify: {why}"),
                now,
            )
            .await);
        }
    }
    let Some(id) = root.attr("ID").filter(|i| !i.is_empty() && i.len() <= 256) else {
        return Ok(refused(idp, Some(&sp), "a LogoutRequest without ID", now).await);
    };
    let fresh = root
        .attr("IssueInstant")
        .and_then(parse_instant)
        .is_some_and(|t| t <= now + CLOCK_SKEW_SECS && t >= now - REQUEST_MAX_AGE_SECS);
    let live = root
        .attr("NotOnOrAfter")
        .map(|t| parse_instant(t).is_some_and(|t| now < t + CLOCK_SKEW_SECS))
        .unwrap_or(true);
    if !fresh || !live {
        return Ok(refused(idp, Some(&sp), "an expired LogoutRequest", now).await);
    }
    let saml = idp
        .saml
        .as_ref()
        .ok_or_else(|| SamlError::Key("SAML is not enabled".into()))?;
    if root.attr("Destination") != Some(saml.urls.slo.as_str()) {
        return Ok(refused(
            idp,
            Some(&sp),
            "the Destination is missing or not this IdP's SLO address",
            now,
        )
        .await);
    }
    let ttl = std::time::Duration::from_secs(900);
    if !idp
        .cache
        .set_nx(
            &crate::cache::keys::saml_request(&sp.row.entity_id, id),
            b"1",
            ttl,
        )
        .await?
    {
        return Ok(refused(idp, Some(&sp), "a replayed LogoutRequest", now).await);
    }
    let Some(name_id) = root
        .child(NS_SAML, "NameID")
        .map(|n| n.trimmed().to_owned())
        .filter(|n| !n.is_empty())
    else {
        return Ok(refused(idp, Some(&sp), "a LogoutRequest without NameID", now).await);
    };
    let session_indexes: Vec<String> = root
        .children_named(NS_SAMLP, "SessionIndex")
        .map(|i| i.trimmed().to_owned())
        .collect();
    if session_indexes.len() > MAX_SESSION_INDEXES
        || session_indexes
            .iter()
            .any(|i| i.is_empty() || i.len() > 256)
    {
        return Ok(refused(
            idp,
            Some(&sp),
            "a LogoutRequest with an empty, overlong or too many SessionIndex",
            now,
        )
        .await);
    }
    let Some(ep) = sp.meta.slo_endpoint(None) else {
        return Ok(refused(
            idp,
            Some(&sp),
            "the SP has no SingleLogoutService for the response",
            now,
        )
        .await);
    };
    Ok(Outcome::SignOut(Box::new(LogoutAsked {
        initiator: sp.row.entity_id.clone(),
        name_id,
        session_indexes,
        request_id: id.to_owned(),
        respond_to: ep
            .response_location
            .clone()
            .unwrap_or_else(|| ep.location.clone()),
        endpoint: ep.clone(),
        relay_state: incoming.relay_state,
    })))
}

impl LogoutAsked {
    /// Where the browser takes the signed LogoutResponse to the SP, by the
    /// binding of its endpoint: Success when its session ended (or none was
    /// left), PartialLogout when the browser's session is not the one it named.
    pub async fn response_url(
        &self,
        idp: &Idp,
        ended: bool,
        now: i64,
    ) -> Result<String, SamlError> {
        let saml = idp
            .saml
            .as_ref()
            .ok_or_else(|| SamlError::Key("SAML is not enabled".into()))?;
        let xml = logout_response(
            &saml.urls.entity_id,
            &self.respond_to,
            &self.request_id,
            if ended {
                (STATUS_SUCCESS, None)
            } else {
                (STATUS_RESPONDER, Some(STATUS_PARTIAL_LOGOUT))
            },
            now,
        )?;
        via_browser(
            idp,
            saml,
            &self.endpoint,
            &self.respond_to,
            Direction::Response,
            xml,
            self.relay_state.as_deref(),
        )
        .await
    }
}

/// Whether portal session `sid` is the one `asked` names: the session
/// that gave its SP that NameID and, when it names sessions, one of those
/// SessionIndexes (an SP ends only a session it was part of, and a request
/// about an earlier session does not end the browser's current one). If so
/// its row is forgotten (it asked, so it is not sent a LogoutRequest of its
/// own).
pub async fn take_initiator(idp: &Idp, sid: &str, asked: &LogoutAsked) -> Result<bool, SamlError> {
    let entity_id = asked.initiator.as_str();
    let Some(row) = idp.store.saml_session(sid, entity_id).await? else {
        return Ok(false);
    };
    let same = |a: &str, b: &str| crate::crypto::ct_eq(a.as_bytes(), b.as_bytes());
    if !same(&row.name_id, &asked.name_id) {
        return Ok(false);
    }
    if !asked.session_indexes.is_empty()
        && !asked
            .session_indexes
            .iter()
            .any(|i| same(i, &row.session_index))
    {
        return Ok(false);
    }
    idp.store.delete_saml_session(sid, entity_id).await?;
    Ok(true)
}

async fn refused(idp: &Idp, sp: Option<&Sp>, why: &str, now: i64) -> Outcome {
    tracing::warn!(
        sp = sp.map_or("?", |s| s.row.entity_id.as_str()),
        why,
        "SAML logout message refused"
    );
    let mut e = Event::new(AuditKind::SamlRequestRefused, now).detail(why.to_owned());
    e.client_id = sp.map(Sp::label);
    idp.audit(e).await;
    Outcome::Refused
}
