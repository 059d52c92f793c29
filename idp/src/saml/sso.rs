//! Web Browser SSO (SAML 2.0 profiles §4.1): an `AuthnRequest` by the
//! Redirect or POST binding is checked the way an attacker would test it
//! (a registered issuer, an ACS URL from its metadata only, the
//! signature its metadata or our configuration asks for, checked against
//! the registered certificate, a fresh IssueInstant, an ID never seen
//! before, our own address as Destination), then answered from the portal
//! session, after the sign-in form when there is none, with a Response and
//! Assertion both signed. IdP-initiated sign-in (a portal tile) sends the
//! same, unsolicited, to the SP's default ACS. The response reaches the SP
//! through an auto-submitted form at `/saml/post/{id}`, bound to the session.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::bindings::{Direction, Incoming};
use super::dsig::{self, Unsigned};
use super::registry::{self, Sp};
use super::xml::{self, Element, Limits, Writer};
use super::{
    AC_MFA, AC_PASSWORD, BINDING_POST, CLOCK_SKEW_SECS, NAMEID_TRANSIENT, NAMEID_UNSPECIFIED,
    NS_SAML, NS_SAMLP, REQUEST_MAX_AGE_SECS, STATUS_INVALID_NAMEID_POLICY, STATUS_NO_PASSIVE,
    STATUS_REQUESTER, STATUS_RESPONDER, STATUS_SUCCESS, STATUS_UNKNOWN_PRINCIPAL, SamlError,
    instant, parse_instant,
};
use crate::Idp;
use crate::audit::{Event, Kind as AuditKind};
use crate::auth::session::SsoSession;
use crate::cache::{CacheBackend, keys};
use crate::crypto;
use crate::ids::ClientId;
use crate::oidc::authorize::Pending;
use crate::refusal::Refusal;
use crate::store::SamlSessionRow;

/// How long an assertion may be used after it is issued.
pub const ASSERTION_TTL_SECS: i64 = 300;
/// How long the browser has to fetch the POST form of a response.
const POST_TTL: Duration = Duration::from_secs(120);

/// The SAML part of a pending sign-in.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SamlPending {
    pub entity_id: String,
    /// The ACS URL the response goes to (from the SP's metadata).
    pub acs: String,
    /// The request's ID (`InResponseTo`); `None` for IdP-initiated.
    pub request_id: Option<String>,
    pub relay_state: Option<String>,
    /// A transient NameID was asked for.
    #[serde(default)]
    pub transient: bool,
    /// The NameID the request's `Subject` names: the response is for that
    /// person only (SAML core §3.4.1.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// A signed response waiting at `/saml/post/{id}`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PostForm {
    /// The session it was made in: only that browser gets it.
    pub sid: String,
    pub action: String,
    /// `SAMLResponse` or `SAMLRequest`.
    pub field: String,
    /// Base64 of the signed XML.
    pub value: String,
    pub relay_state: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Where the browser goes next: the POST form, the portal.
    Redirect(String),
    /// The sign-in form for the pending request `req_id`.
    Login { req_id: String },
    /// A page, never a response to an address we cannot trust.
    Refuse(Refusal),
}

/// A checked AuthnRequest.
#[derive(Debug)]
struct Request {
    id: String,
    acs: String,
    force: bool,
    passive: bool,
    need_mfa: bool,
    name_id_ok: bool,
    /// The SP asked for a transient NameID (one-off, for this sign-in only).
    transient: bool,
}

/// Why a request is refused (logged and audited; the person sees a page).
fn refuse(why: String) -> Result<Result<Request, String>, SamlError> {
    Ok(Err(why))
}

/// Checks what `incoming` asks of `sp`.
async fn check(
    idp: &Idp,
    root: &Element,
    sp: &Sp,
    incoming: &Incoming,
    now: i64,
) -> Result<Result<Request, String>, SamlError> {
    if root.attr("Version") != Some("2.0") {
        return refuse("Version is not 2.0".into());
    }
    let Some(id) = root.attr("ID").filter(|i| !i.is_empty() && i.len() <= 256) else {
        return refuse("no ID".into());
    };
    let Some(issued) = root.attr("IssueInstant").and_then(parse_instant) else {
        return refuse("no IssueInstant".into());
    };
    if issued > now + CLOCK_SKEW_SECS || issued < now - REQUEST_MAX_AGE_SECS {
        return refuse(format!(
            "IssueInstant {} is outside [now - {REQUEST_MAX_AGE_SECS} s, now + {CLOCK_SKEW_SECS} s]",
            instant(issued)
        ));
    }
    // Every signature it carries must verify (the Redirect binding's query
    // signature, an XML signature by the POST binding), with the SP's
    // registered certificates; one is required when the SP's metadata or
    // our configuration says so.
    let signed = match super::verify::signatures(incoming, root, &sp.meta.signing_certs_der()) {
        Ok(s) => s,
        Err(why) => return refuse(why),
    };
    if !signed && (sp.meta.authn_requests_signed || idp.config.saml.want_authn_requests_signed) {
        return refuse("unsigned, but signed requests are required".into());
    }
    match root.attr("Destination") {
        Some(d) if d != idp_sso(idp) => {
            return refuse(format!(
                "Destination {} is not this IdP's SSO address",
                super::clip(d)
            ));
        }
        // A signed message names where it is for (bindings §3.4.5.2, §3.5.5.2).
        None if signed => {
            return refuse("a signed request without Destination".into());
        }
        _ => {}
    }
    if let Some(b) = root.attr("ProtocolBinding")
        && b != BINDING_POST
    {
        return refuse(format!(
            "ProtocolBinding {b}: responses go by HTTP-POST only"
        ));
    }
    let acs = match (
        root.attr("AssertionConsumerServiceURL"),
        root.attr("AssertionConsumerServiceIndex"),
    ) {
        (Some(url), None) => sp.meta.acs.iter().find(|e| e.location == url),
        (None, Some(i)) => {
            let i = i.parse::<u16>().ok();
            sp.meta
                .acs
                .iter()
                .find(|e| e.index.is_some() && e.index == i)
        }
        (None, None) => sp.meta.default_acs(),
        (Some(_), Some(_)) => return refuse("both an ACS URL and an ACS index".into()),
    };
    let Some(acs) = acs else {
        return refuse("the ACS URL or index is not in the SP's registered metadata".into());
    };
    // Seen once: a replayed request is refused.
    let ttl = Duration::from_secs(
        u64::try_from(REQUEST_MAX_AGE_SECS + 2 * CLOCK_SKEW_SECS).unwrap_or(900),
    );
    if !idp
        .cache
        .set_nx(&keys::saml_request(&sp.row.entity_id, id), b"1", ttl)
        .await?
    {
        return refuse(format!("request {id} was already answered (a replay)"));
    }
    let name_id_ok = match root
        .child(NS_SAMLP, "NameIDPolicy")
        .and_then(|p| p.attr("Format"))
    {
        None => true,
        Some(f) => f == NAMEID_UNSPECIFIED || f == NAMEID_TRANSIENT || f == sp.name_id_format(),
    };
    let need_mfa = root
        .child(NS_SAMLP, "RequestedAuthnContext")
        .is_some_and(|c| {
            c.children_named(NS_SAML, "AuthnContextClassRef")
                .any(|r| r.trimmed() == AC_MFA)
        });
    Ok(Ok(Request {
        id: id.to_owned(),
        acs: acs.location.clone(),
        force: root
            .attr("ForceAuthn")
            .is_some_and(|v| v == "true" || v == "1"),
        passive: root
            .attr("IsPassive")
            .is_some_and(|v| v == "true" || v == "1"),
        need_mfa,
        name_id_ok,
        transient: root
            .child(NS_SAMLP, "NameIDPolicy")
            .and_then(|p| p.attr("Format"))
            == Some(NAMEID_TRANSIENT),
    }))
}

fn idp_sso(idp: &Idp) -> &str {
    idp.saml.as_ref().map_or("", |s| s.urls.sso.as_str())
}

/// A refusal: logged for the administrator, audited, a page for the person.
async fn refused(idp: &Idp, entity_id: Option<&str>, why: &str, now: i64) -> Step {
    tracing::warn!(sp = entity_id.unwrap_or("?"), why, "SAML request refused");
    let mut e = Event::new(AuditKind::SamlRequestRefused, now).detail(why.to_owned());
    e.client_id = entity_id.map(super::client_label);
    idp.audit(e).await;
    Step::Refuse(Refusal::BadSamlRequest)
}

/// Handles an AuthnRequest at `/saml/sso`; `session` is the live portal session.
pub async fn start(
    idp: &Idp,
    incoming: Incoming,
    session: Option<&SsoSession>,
    now: i64,
) -> Result<Step, SamlError> {
    if incoming.direction != Direction::Request {
        return Ok(refused(idp, None, "a SAMLResponse sent to the SSO endpoint", now).await);
    }
    let root = match xml::parse(&incoming.xml, Limits::MESSAGE) {
        Ok(r) => r,
        Err(e) => {
            return Ok(refused(idp, None, &format!("unreadable AuthnRequest: {e}"), now).await);
        }
    };
    if !root.is(NS_SAMLP, "AuthnRequest") {
        return Ok(refused(idp, None, "not an AuthnRequest", now).await);
    }
    let Some(issuer) = root.child(NS_SAML, "Issuer").map(Element::trimmed) else {
        return Ok(refused(idp, None, "the AuthnRequest names no Issuer", now).await);
    };
    let Some(sp) = registry::find(idp, issuer).await? else {
        return Ok(refused(
            idp,
            None,
            &format!("unregistered SP {}", super::clip(issuer)),
            now,
        )
        .await);
    };
    let req = match check(idp, &root, &sp, &incoming, now).await? {
        Ok(r) => r,
        Err(why) => return Ok(refused(idp, Some(&sp.row.entity_id), &why, now).await),
    };
    let pending = SamlPending {
        entity_id: sp.row.entity_id.clone(),
        acs: req.acs.clone(),
        request_id: Some(req.id.clone()),
        relay_state: incoming.relay_state.clone(),
        transient: req.transient,
        subject: root
            .child(NS_SAML, "Subject")
            .and_then(|s| s.child(NS_SAML, "NameID"))
            .map(|n| n.trimmed().to_owned()),
    };
    // What the SP asked for that we cannot give is answered to its ACS.
    if !req.name_id_ok {
        let status = (STATUS_REQUESTER, Some(STATUS_INVALID_NAMEID_POLICY));
        return Ok(Step::Redirect(
            error_response(idp, &sp, &pending, session, status, now).await?,
        ));
    }
    let mfa_ok = session.is_some_and(|s| s.acr == "2");
    if !req.force
        && let Some(sess) = session
        && (mfa_ok || !req.need_mfa)
    {
        return Ok(Step::Redirect(issue(idp, &sp, &pending, sess, now).await?));
    }
    if req.passive {
        let status = (STATUS_RESPONDER, Some(STATUS_NO_PASSIVE));
        return Ok(Step::Redirect(
            error_response(idp, &sp, &pending, session, status, now).await?,
        ));
    }
    Ok(Step::Login {
        req_id: pend(idp, &sp, pending, req.force, req.need_mfa).await?,
    })
}

/// Whether `incoming` reads as a request `kind` (`AuthnRequest`,
/// `LogoutRequest`) whose Issuer is a registered SP (what a POST-bound
/// request must be before it is kept for the GET).
pub async fn from_registered_sp(
    idp: &Idp,
    incoming: &Incoming,
    kind: &str,
) -> Result<bool, SamlError> {
    if incoming.direction != Direction::Request {
        return Ok(false);
    }
    let Ok(root) = xml::parse(&incoming.xml, Limits::MESSAGE) else {
        return Ok(false);
    };
    match root.child(NS_SAML, "Issuer").map(Element::trimmed) {
        Some(issuer) if root.is(NS_SAMLP, kind) => Ok(idp.store.saml_sp(issuer).await?.is_some()),
        _ => Ok(false),
    }
}

/// Keeps the request for after the sign-in form; its id.
async fn pend(
    idp: &Idp,
    sp: &Sp,
    saml: SamlPending,
    force: bool,
    need_mfa: bool,
) -> Result<String, SamlError> {
    let pending = Pending {
        client_id: ClientId::from(sp.label().as_str()),
        client_name: sp.row.name.clone(),
        redirect_uri: saml.acs.clone(),
        scope: Vec::new(),
        state: None,
        nonce: None,
        code_challenge: None,
        max_age: None,
        force_login: force,
        login_hint: None,
        ui_locales: None,
        need_mfa,
        cas: None,
        saml: Some(saml),
    };
    let req_id = crypto::random_token()?;
    idp.cache
        .set_json(
            &keys::pending(&req_id),
            &pending,
            Duration::from_secs(idp.config.session.login_request_ttl_secs),
        )
        .await?;
    Ok(req_id)
}

/// IdP-initiated sign-in from the portal tile `app_id` (its SP registered
/// with `--app`), for a person who may see that tile: an unsolicited
/// response to the SP's default ACS, with the tile's launch URL as
/// RelayState (never one a link chose).
pub async fn initiate(
    idp: &Idp,
    app_id: &str,
    sess: &SsoSession,
    now: i64,
) -> Result<Step, SamlError> {
    let Some(user) = idp
        .store
        .user_by_id(&sess.user_id)
        .await?
        .filter(|u| !u.is_disabled())
    else {
        return Ok(Step::Redirect("/".into()));
    };
    let groups = idp.store.groups_of(&user.id).await?;
    let app = idp
        .store
        .app(app_id)
        .await?
        .filter(|a| a.visible_to(user.unit.as_deref(), &groups));
    let sp = match &app {
        Some(a) => match idp.store.saml_sp_of_app(&a.id).await? {
            Some(row) => registry::find(idp, &row.entity_id).await?,
            None => None,
        },
        None => None,
    };
    let (Some(app), Some(sp)) = (app, sp) else {
        return Ok(Step::Refuse(Refusal::AppNotAllowed));
    };
    let Some(acs) = sp.meta.default_acs() else {
        return Ok(Step::Refuse(Refusal::AppNotAllowed));
    };
    let pending = SamlPending {
        entity_id: sp.row.entity_id.clone(),
        acs: acs.location.clone(),
        request_id: None,
        relay_state: Some(app.launch_url).filter(|r| r.len() <= super::bindings::MAX_RELAY_STATE),
        transient: false,
        subject: None,
    };
    Ok(Step::Redirect(issue(idp, &sp, &pending, sess, now).await?))
}

/// After the portal's sign-in: the response for the pending request. An SP
/// removed meanwhile sends the person to the portal.
pub async fn resume(
    idp: &Idp,
    p: &SamlPending,
    sess: &SsoSession,
    now: i64,
) -> Result<String, SamlError> {
    match registry::find(idp, &p.entity_id).await? {
        Some(sp) if sp.meta.acs.iter().any(|e| e.location == p.acs) => {
            issue(idp, &sp, p, sess, now).await
        }
        _ => Ok("/".to_owned()),
    }
}

/// The POST form of a response, for the browser of session `sid` only (an
/// error response made without a session carries no assertion: any holder).
pub async fn take_post(
    idp: &Idp,
    id: &str,
    sid: Option<&str>,
) -> Result<Option<PostForm>, SamlError> {
    let form: Option<PostForm> = idp.cache.take_json(&keys::saml_post(id)).await?;
    Ok(form.filter(|f| {
        f.sid.is_empty() || sid.is_some_and(|s| crypto::ct_eq(f.sid.as_bytes(), s.as_bytes()))
    }))
}

/// Keeps `form` for the browser and returns where to send it.
pub async fn post_via_browser(idp: &Idp, form: &PostForm) -> Result<String, SamlError> {
    let id = crypto::random_token()?;
    idp.cache
        .set_json(&keys::saml_post(&id), form, POST_TTL)
        .await?;
    Ok(format!("/saml/post/{id}"))
}

/// Signs a response for `sess` to `sp` and returns where the browser goes.
async fn issue(
    idp: &Idp,
    sp: &Sp,
    p: &SamlPending,
    sess: &SsoSession,
    now: i64,
) -> Result<String, SamlError> {
    let Some(saml) = idp.saml.as_ref() else {
        return Ok("/".to_owned());
    };
    let Some(user) = idp
        .store
        .user_by_id(&sess.user_id)
        .await?
        .filter(|u| !u.is_disabled())
    else {
        return Ok("/".to_owned());
    };
    if let Some(subject) = &p.subject
        && *subject != registry::name_id(idp, sp, &user).0
    {
        let status = (STATUS_REQUESTER, Some(STATUS_UNKNOWN_PRINCIPAL));
        return error_response(idp, sp, p, Some(sess), status, now).await;
    }
    let (name_id, format) = if p.transient {
        (super::new_id()?, NAMEID_TRANSIENT)
    } else {
        registry::name_id(idp, sp, &user)
    };
    let attributes = registry::released(idp, sp, &user).await?;
    // One SessionIndex per portal session and SP: an SP that was answered
    // twice in it may log out with either assertion's.
    let session_index = match idp.store.saml_session(&sess.sid, &sp.row.entity_id).await? {
        Some(row) => row.session_index,
        None => super::new_id()?,
    };
    let a = AssertionParts {
        issuer: &saml.urls.entity_id,
        audience: &sp.row.entity_id,
        acs: &p.acs,
        in_response_to: p.request_id.as_deref(),
        name_id: &name_id,
        name_id_format: format,
        session_index: &session_index,
        auth_time: sess.auth_time,
        context: if sess.acr == "2" { AC_MFA } else { AC_PASSWORD },
        attributes: attributes
            .iter()
            .map(|(a, v)| {
                let (name, friendly) = registry::saml_name(*a);
                (name, friendly, v.as_str())
            })
            .collect(),
        now,
    };
    let mut assertion = dsig::sign_enveloped(&saml.key, assertion(&a)?)?;
    let encrypted = sp.meta.encryption();
    if let Some((key, method)) = &encrypted {
        assertion = super::xmlenc::encrypt_assertion(&assertion, key, *method)?;
    }
    let xml = response(idp, p, (STATUS_SUCCESS, None), Some(&assertion), now)?;
    idp.store
        .record_saml_session(&SamlSessionRow {
            sid: sess.sid.clone(),
            entity_id: sp.row.entity_id.clone(),
            name_id,
            name_id_format: format.to_owned(),
            session_index,
            created_at: now,
        })
        .await?;
    let mut e = Event::new(AuditKind::SamlResponseIssued, now)
        .actor(&sess.user_id)
        .subject(&sess.user_id)
        .detail(format!(
            "sid {}; ACS {}; {}{}",
            sess.sid,
            p.acs,
            match &p.request_id {
                Some(id) => format!("in response to {id}"),
                None => "IdP-initiated".into(),
            },
            match &encrypted {
                Some((_, m)) => format!("; assertion encrypted ({})", m.uri()),
                None => String::new(),
            }
        ));
    e.client_id = Some(sp.label());
    idp.audit(e).await;
    post_via_browser(
        idp,
        &PostForm {
            sid: sess.sid.clone(),
            action: p.acs.clone(),
            field: "SAMLResponse".into(),
            value: super::bindings::post_value(&xml),
            relay_state: p.relay_state.clone(),
        },
    )
    .await
}

/// A response saying why no assertion comes (NoPassive, InvalidNameIDPolicy).
async fn error_response(
    idp: &Idp,
    sp: &Sp,
    p: &SamlPending,
    session: Option<&SsoSession>,
    status: (&str, Option<&str>),
    now: i64,
) -> Result<String, SamlError> {
    let xml = response(idp, p, status, None, now)?;
    tracing::info!(sp = %sp.row.entity_id, status = status.1.unwrap_or(status.0), "SAML error response");
    // Without a session there is no one to bind the form to but this browser:
    // a one-off id stands in for the sid (the form holds no assertion).
    let sid = match session {
        Some(s) => s.sid.clone(),
        None => String::new(),
    };
    post_via_browser(
        idp,
        &PostForm {
            sid,
            action: p.acs.clone(),
            field: "SAMLResponse".into(),
            value: super::bindings::post_value(&xml),
            relay_state: p.relay_state.clone(),
        },
    )
    .await
}

/// What goes into an assertion.
pub struct AssertionParts<'a> {
    pub issuer: &'a str,
    pub audience: &'a str,
    pub acs: &'a str,
    pub in_response_to: Option<&'a str>,
    pub name_id: &'a str,
    pub name_id_format: &'a str,
    pub session_index: &'a str,
    pub auth_time: i64,
    pub context: &'a str,
    /// (Name, FriendlyName, value)
    pub attributes: Vec<(&'a str, &'a str, &'a str)>,
    pub now: i64,
}

/// The assertion, unsigned, with its signature's place after the Issuer.
pub fn assertion(a: &AssertionParts<'_>) -> Result<Unsigned, SamlError> {
    let id = super::new_id()?;
    let now_s = instant(a.now);
    let not_before = instant(a.now - 60);
    let not_after = instant(a.now + ASSERTION_TTL_SECS);
    let mut w = Writer::new();
    w.open(
        "saml:Assertion",
        &[("saml", NS_SAML)],
        &[
            ("ID", Some(&id)),
            ("IssueInstant", Some(&now_s)),
            ("Version", Some("2.0")),
        ],
    )
    .leaf("saml:Issuer", &[], &[], a.issuer);
    let at = w.mark();
    w.open("saml:Subject", &[], &[])
        .leaf(
            "saml:NameID",
            &[],
            &[
                ("Format", Some(a.name_id_format)),
                ("SPNameQualifier", Some(a.audience)),
            ],
            a.name_id,
        )
        .open(
            "saml:SubjectConfirmation",
            &[],
            &[("Method", Some("urn:oasis:names:tc:SAML:2.0:cm:bearer"))],
        )
        .leaf(
            "saml:SubjectConfirmationData",
            &[],
            &[
                ("InResponseTo", a.in_response_to),
                ("NotOnOrAfter", Some(&not_after)),
                ("Recipient", Some(a.acs)),
            ],
            "",
        )
        .close()
        .close()
        .open(
            "saml:Conditions",
            &[],
            &[
                ("NotBefore", Some(&not_before)),
                ("NotOnOrAfter", Some(&not_after)),
            ],
        )
        .open("saml:AudienceRestriction", &[], &[])
        .leaf("saml:Audience", &[], &[], a.audience)
        .close()
        .close()
        .open(
            "saml:AuthnStatement",
            &[],
            &[
                ("AuthnInstant", Some(&instant(a.auth_time))),
                ("SessionIndex", Some(a.session_index)),
            ],
        )
        .open("saml:AuthnContext", &[], &[])
        .leaf("saml:AuthnContextClassRef", &[], &[], a.context)
        .close()
        .close();
    if !a.attributes.is_empty() {
        w.open("saml:AttributeStatement", &[], &[]);
        for (name, friendly, value) in &a.attributes {
            w.open(
                "saml:Attribute",
                &[],
                &[
                    ("FriendlyName", Some(friendly)),
                    ("Name", Some(name)),
                    (
                        "NameFormat",
                        Some("urn:oasis:names:tc:SAML:2.0:attrname-format:uri"),
                    ),
                ],
            )
            .leaf("saml:AttributeValue", &[], &[], value)
            .close();
        }
        w.close();
    }
    Ok(Unsigned {
        xml: w.finish(),
        at,
        id,
    })
}

/// The signed Response carrying `assertion` (already signed), or a status only.
fn response(
    idp: &Idp,
    p: &SamlPending,
    status: (&str, Option<&str>),
    assertion: Option<&str>,
    now: i64,
) -> Result<String, SamlError> {
    let saml = idp
        .saml
        .as_ref()
        .ok_or_else(|| SamlError::Key("SAML is not enabled".into()))?;
    let id = super::new_id()?;
    let now_s = instant(now);
    let mut w = Writer::new();
    w.open(
        "samlp:Response",
        &[("samlp", NS_SAMLP)],
        &[
            ("Destination", Some(&p.acs)),
            ("ID", Some(&id)),
            ("InResponseTo", p.request_id.as_deref()),
            ("IssueInstant", Some(&now_s)),
            ("Version", Some("2.0")),
        ],
    )
    .leaf(
        "saml:Issuer",
        &[("saml", NS_SAML)],
        &[],
        &saml.urls.entity_id,
    );
    let at = w.mark();
    w.open("samlp:Status", &[], &[])
        .open("samlp:StatusCode", &[], &[("Value", Some(status.0))]);
    if let Some(second) = status.1 {
        w.leaf("samlp:StatusCode", &[], &[("Value", Some(second))], "");
    }
    w.close().close();
    if let Some(a) = assertion {
        w.raw(a);
    }
    dsig::sign_enveloped(
        &saml.key,
        Unsigned {
            xml: w.finish(),
            at,
            id,
        },
    )
}
