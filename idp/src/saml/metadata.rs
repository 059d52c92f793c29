//! Metadata: ours (`/saml/metadata`, signed: what SPs load to trust us) and
//! theirs (read once when an administrator registers an SP, kept as
//! [`SpMetadata`]: the endpoints and certificates every later check uses).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use super::dsig::{self, IdpKey, NS_DS, Unsigned};
use super::xml::{self, Element, Limits, Writer};
use super::{
    BINDING_POST, BINDING_REDIRECT, NAMEID_EMAIL, NAMEID_PERSISTENT, NAMEID_TRANSIENT, NS_MD,
    SamlError,
};

/// Where the IdP answers, from its issuer URL.
#[derive(Clone, Debug)]
pub struct IdpUrls {
    pub entity_id: String,
    pub sso: String,
    pub slo: String,
}

impl IdpUrls {
    pub fn new(issuer: &str, entity_id: Option<&str>) -> IdpUrls {
        let base = issuer.trim_end_matches('/');
        IdpUrls {
            entity_id: entity_id.map_or_else(|| format!("{base}/saml/metadata"), str::to_owned),
            sso: format!("{base}/saml/sso"),
            slo: format!("{base}/saml/slo"),
        }
    }
}

/// The IdP's metadata, signed.
pub fn idp_metadata(
    key: &IdpKey,
    urls: &IdpUrls,
    want_signed_requests: bool,
) -> Result<String, SamlError> {
    let id = super::new_id()?;
    let mut w = Writer::new();
    w.open(
        "md:EntityDescriptor",
        &[("md", NS_MD)],
        &[("ID", Some(&id)), ("entityID", Some(&urls.entity_id))],
    );
    let at = w.mark();
    w.open(
        "md:IDPSSODescriptor",
        &[],
        &[
            (
                "WantAuthnRequestsSigned",
                Some(if want_signed_requests {
                    "true"
                } else {
                    "false"
                }),
            ),
            ("protocolSupportEnumeration", Some(super::NS_SAMLP)),
        ],
    );
    w.open("md:KeyDescriptor", &[], &[("use", Some("signing"))]);
    dsig::key_info(&mut w, &key.cert_b64(), true);
    w.close();
    for b in [BINDING_REDIRECT, BINDING_POST] {
        w.leaf(
            "md:SingleLogoutService",
            &[],
            &[("Binding", Some(b)), ("Location", Some(&urls.slo))],
            "",
        );
    }
    for f in [NAMEID_EMAIL, NAMEID_PERSISTENT, NAMEID_TRANSIENT] {
        w.leaf("md:NameIDFormat", &[], &[], f);
    }
    for b in [BINDING_REDIRECT, BINDING_POST] {
        w.leaf(
            "md:SingleSignOnService",
            &[],
            &[("Binding", Some(b)), ("Location", Some(&urls.sso))],
            "",
        );
    }
    dsig::sign_enveloped(
        key,
        Unsigned {
            xml: w.finish(),
            at,
            id,
        },
    )
}

/// An endpoint of an SP.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub binding: String,
    pub location: String,
    /// Where responses go when not `location` (SingleLogoutService).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u16>,
    #[serde(default)]
    pub default: bool,
}

/// What an SP's metadata says that we use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpMetadata {
    pub entity_id: String,
    /// AssertionConsumerService endpoints with the HTTP-POST binding.
    pub acs: Vec<Endpoint>,
    /// SingleLogoutService endpoints with the Redirect or POST binding.
    pub slo: Vec<Endpoint>,
    /// Certificates (DER, base64) its requests are signed with.
    pub signing_certs: Vec<String>,
    /// A certificate (DER, base64) to encrypt assertions to, when it gives one.
    pub encryption_certs: Vec<String>,
    pub authn_requests_signed: bool,
    pub want_assertions_signed: bool,
    pub name_id_formats: Vec<String>,
}

impl SpMetadata {
    pub fn signing_certs_der(&self) -> Vec<Vec<u8>> {
        self.signing_certs
            .iter()
            .filter_map(|c| B64.decode(c).ok())
            .collect()
    }

    /// The default ACS: `isDefault`, else the lowest index, else the first.
    pub fn default_acs(&self) -> Option<&Endpoint> {
        self.acs
            .iter()
            .find(|e| e.default)
            .or_else(|| {
                self.acs
                    .iter()
                    .filter(|e| e.index.is_some())
                    .min_by_key(|e| e.index)
            })
            .or_else(|| self.acs.first())
    }

    /// The SLO endpoint for `binding`, Redirect preferred when `None`.
    pub fn slo_endpoint(&self, binding: Option<&str>) -> Option<&Endpoint> {
        match binding {
            Some(b) => self.slo.iter().find(|e| e.binding == b),
            None => self
                .slo
                .iter()
                .find(|e| e.binding == BINDING_REDIRECT)
                .or_else(|| self.slo.first()),
        }
    }
}

fn flag(el: &Element, name: &str) -> bool {
    matches!(el.attr(name), Some("true" | "1"))
}

/// Reads an SP's metadata; `check_url` says why an endpoint URL is refused.
pub fn parse_sp(
    text: &str,
    check_url: impl Fn(&str) -> Result<(), String>,
) -> Result<SpMetadata, SamlError> {
    let bad = |m: String| SamlError::Metadata(m);
    let root = xml::parse(text, Limits::METADATA).map_err(|e| bad(e.to_string()))?;
    let entity = if root.is(NS_MD, "EntitiesDescriptor") {
        let mut list = root.children_named(NS_MD, "EntityDescriptor");
        match (list.next(), list.next()) {
            (Some(e), None) => e.clone(),
            _ => {
                return Err(bad(
                    "give the metadata of one SP (one EntityDescriptor)".into()
                ));
            }
        }
    } else if root.is(NS_MD, "EntityDescriptor") {
        root
    } else {
        return Err(bad("not SAML 2.0 metadata (no md:EntityDescriptor)".into()));
    };
    let entity_id = entity
        .attr("entityID")
        .filter(|e| !e.is_empty() && e.len() <= 1024)
        .ok_or_else(|| bad("the EntityDescriptor has no entityID".into()))?
        .to_owned();
    let sp = entity.child(NS_MD, "SPSSODescriptor").ok_or_else(|| {
        bad(format!(
            "{entity_id}: no SPSSODescriptor (is this an SP's metadata?)"
        ))
    })?;
    let mut m = SpMetadata {
        entity_id: entity_id.clone(),
        acs: Vec::new(),
        slo: Vec::new(),
        signing_certs: Vec::new(),
        encryption_certs: Vec::new(),
        authn_requests_signed: flag(sp, "AuthnRequestsSigned"),
        want_assertions_signed: flag(sp, "WantAssertionsSigned"),
        name_id_formats: sp
            .children_named(NS_MD, "NameIDFormat")
            .map(|f| f.trimmed().to_owned())
            .collect(),
    };
    for kd in sp.children_named(NS_MD, "KeyDescriptor") {
        let certs = kd
            .child(NS_DS, "KeyInfo")
            .into_iter()
            .flat_map(|ki| ki.children_named(NS_DS, "X509Data"))
            .flat_map(|xd| xd.children_named(NS_DS, "X509Certificate"));
        for c in certs {
            let b64: String = c
                .text
                .chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect();
            let der = B64
                .decode(&b64)
                .map_err(|_| bad(format!("{entity_id}: a certificate is not base64")))?;
            {
                use der::Decode;
                x509_cert::Certificate::from_der(&der)
                    .map_err(|e| bad(format!("{entity_id}: a certificate does not parse: {e}")))?;
            }
            match kd.attr("use") {
                Some("signing") => m.signing_certs.push(b64),
                Some("encryption") => m.encryption_certs.push(b64),
                _ => {
                    m.signing_certs.push(b64.clone());
                    m.encryption_certs.push(b64);
                }
            }
        }
    }
    for e in sp.children_named(NS_MD, "AssertionConsumerService") {
        let (Some(binding), Some(location)) = (e.attr("Binding"), e.attr("Location")) else {
            return Err(bad(format!(
                "{entity_id}: an AssertionConsumerService without Binding or Location"
            )));
        };
        if binding != BINDING_POST {
            continue;
        }
        check_url(location).map_err(|m| bad(format!("{entity_id}: {m}")))?;
        let index = match e.attr("index") {
            Some(i) => Some(
                i.parse::<u16>()
                    .map_err(|_| bad(format!("{entity_id}: an ACS index is not a number")))?,
            ),
            None => None,
        };
        m.acs.push(Endpoint {
            binding: binding.into(),
            location: location.into(),
            response_location: None,
            index,
            default: flag(e, "isDefault"),
        });
    }
    if m.acs.is_empty() {
        return Err(bad(format!(
            "{entity_id}: no AssertionConsumerService with the HTTP-POST binding"
        )));
    }
    for e in sp.children_named(NS_MD, "SingleLogoutService") {
        let (Some(binding), Some(location)) = (e.attr("Binding"), e.attr("Location")) else {
            continue;
        };
        if binding != BINDING_POST && binding != BINDING_REDIRECT {
            continue;
        }
        check_url(location).map_err(|m| bad(format!("{entity_id}: {m}")))?;
        let response_location = e.attr("ResponseLocation").map(str::to_owned);
        if let Some(r) = &response_location {
            check_url(r).map_err(|m| bad(format!("{entity_id}: {m}")))?;
        }
        m.slo.push(Endpoint {
            binding: binding.into(),
            location: location.into(),
            response_location,
            index: None,
            default: false,
        });
    }
    if m.authn_requests_signed && m.signing_certs.is_empty() {
        return Err(bad(format!(
            "{entity_id}: AuthnRequestsSigned but no signing certificate"
        )));
    }
    Ok(m)
}
