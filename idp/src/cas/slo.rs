//! CAS single logout (CAS 3.0 §2.3.3 and appendix C): when a portal session
//! ends, every service that validated a ticket in it and registered a
//! logout URL is sent `logoutRequest=<samlp:LogoutRequest …>` naming the
//! ticket as its `SessionIndex`, by POST through the outbox (sent and its
//! answer judged by `outbox::post_form`, as back-channel logout is: retried,
//! given up after a day with an audit event). The sign-out page lists these
//! services beside the OIDC apps.

use serde::{Deserialize, Serialize};

use super::CasError;
use crate::Idp;
use crate::ids::ClientId;
use crate::oidc::logout::{AppNotice, Notice};
use crate::outbox::{self, Item, Outcome};
use crate::store::OutboxItem;

/// What the outbox keeps: the ticket the service knows the session by.
#[derive(Debug, Serialize, Deserialize)]
pub struct Intent {
    pub ticket: String,
}

/// The SAML `LogoutRequest` of appendix C for `ticket`, issued at `now`.
pub fn logout_request(ticket: &str, id: &str, now: i64) -> Result<String, CasError> {
    use quick_xml::Writer;
    use quick_xml::events::BytesText;
    let instant = crate::signing::tsp::rfc3339(now);
    let mut w = Writer::new(Vec::new());
    w.create_element("samlp:LogoutRequest")
        .with_attribute(("xmlns:samlp", "urn:oasis:names:tc:SAML:2.0:protocol"))
        .with_attribute(("xmlns:saml", "urn:oasis:names:tc:SAML:2.0:assertion"))
        .with_attribute(("ID", id))
        .with_attribute(("Version", "2.0"))
        .with_attribute(("IssueInstant", instant.as_str()))
        .write_inner_content(|w| {
            w.create_element("saml:NameID")
                .write_text_content(BytesText::new("@NOT_USED@"))?;
            w.create_element("samlp:SessionIndex")
                .write_text_content(BytesText::new(ticket))?;
            Ok(())
        })?;
    String::from_utf8(w.into_inner())
        .map_err(|e| CasError::Xml(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
}

/// Queues a logout request to each CAS service of the ended session `sid`
/// and says how each is told, for the sign-out page. Errors are logged: the
/// person is signed out whatever an app hears.
pub async fn notify(idp: &Idp, sid: &str, now: i64) -> Vec<AppNotice> {
    let rows = match idp.store.take_cas_sessions(sid).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::error!(error = %e, sid, "CAS services not told of the sign-out");
            return Vec::new();
        }
    };
    let mut apps: Vec<AppNotice> = Vec::new();
    for row in rows {
        let svc = match idp.store.cas_service(&row.service_id).await {
            Ok(Some(s)) => s,
            Ok(None) => continue,
            Err(e) => {
                tracing::error!(error = %e, service = %row.service_id, sid, "CAS service not told of the sign-out");
                continue;
            }
        };
        let label = super::client_label(&svc.id);
        let notice = match &svc.logout_url {
            None => Notice::Unreachable,
            Some(uri) => {
                let item = Item::CasLogout {
                    service_id: &label,
                    uri,
                    intent: Intent {
                        ticket: row.ticket.clone(),
                    },
                };
                match outbox::enqueue(&idp.store, item, now).await {
                    Ok(outbox_id) => Notice::Back { outbox_id },
                    Err(e) => {
                        tracing::error!(error = %e, service = %svc.id, sid, "CAS logout request not queued");
                        Notice::Unreachable
                    }
                }
            }
        };
        // One line per service on the page, however many tickets it validated.
        if apps.iter().any(|a| a.client_id.as_str() == label) {
            continue;
        }
        apps.push(AppNotice {
            client_id: ClientId::from(label.as_str()),
            name: svc.name,
            notice,
        });
    }
    if apps.iter().any(|a| matches!(a.notice, Notice::Back { .. })) {
        outbox::wake(idp);
    }
    apps
}

/// Posts the logout request: the outbox worker's delivery of
/// [`outbox::Kind::CasLogout`].
pub async fn deliver(idp: &Idp, item: &OutboxItem) -> Outcome {
    let Ok(intent) = serde_json::from_str::<Intent>(&item.payload) else {
        return Outcome::Refused("corrupt outbox payload".into());
    };
    let body = match crate::crypto::random_id()
        .map_err(CasError::from)
        .and_then(|id| logout_request(&intent.ticket, &format!("LR-{id}"), crate::now()))
    {
        Ok(b) => b,
        Err(e) => return Outcome::Retry(e.to_string()),
    };
    outbox::post_form(idp, &item.target, &[("logoutRequest", body.as_str())]).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_logout_request_names_the_ticket() {
        let xml = logout_request("ST-abc", "LR-1", 0).unwrap();
        assert_eq!(
            xml,
            "<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
             xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"LR-1\" Version=\"2.0\" \
             IssueInstant=\"1970-01-01T00:00:00Z\"><saml:NameID>@NOT_USED@</saml:NameID>\
             <samlp:SessionIndex>ST-abc</samlp:SessionIndex></samlp:LogoutRequest>"
        );
        let odd = logout_request("ST-<&>", "LR-1", 0).unwrap();
        assert!(odd.contains("ST-&lt;&amp;&gt;"), "{odd}");
    }
}
