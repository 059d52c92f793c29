//! Metadata: ours (`/saml/metadata`, signed: what SPs load to trust us) and
//! theirs (read once when an administrator registers an SP, kept as
//! [`SpMetadata`]: the endpoints and certificates every later check uses).

use aws_lc_rs::rsa::OaepPublicEncryptingKey;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use super::dsig::{self, IdpKey, NS_DS, Unsigned};
use super::xml::{self, Element, Limits, Writer};
use super::xmlenc::{Method, transport_key};
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

/// An SP's key for encryption: its certificate (DER, base64, an RSA key of
/// 2048 bits or more) and the `EncryptionMethod`s listed beside it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptTo {
    pub cert: String,
    pub methods: Vec<String>,
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
    /// Where assertions are encrypted to: the SP's first key descriptor
    /// for encryption, when it gives one. (SPs registered before this was
    /// read have none until registered again with `--replace`.)
    #[serde(default)]
    pub encrypt_to: Option<EncryptTo>,
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

    /// The key to encrypt assertions to and the method, when the SP asks
    /// for encrypted assertions (`use="encryption"`).
    pub fn encryption(&self) -> Option<(OaepPublicEncryptingKey, Method)> {
        let to = self.encrypt_to.as_ref()?;
        let der = B64.decode(&to.cert).ok()?;
        Some((transport_key(&der)?, Method::for_sp(&to.methods)?))
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
        encrypt_to: None,
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
            // Assertions are encrypted only for an SP that gives a key for
            // encryption (a key without `use` signs only: an SP that never
            // set up decryption is not sent what it cannot read).
            if kd.attr("use") != Some("encryption") {
                m.signing_certs.push(b64);
                continue;
            }
            if m.encrypt_to.is_some() {
                continue;
            }
            if transport_key(&der).is_none() {
                return Err(bad(format!(
                    "{entity_id}: the encryption certificate holds no RSA key of 2048 bits or more (assertions are encrypted by RSA-OAEP)"
                )));
            }
            let methods: Vec<String> = kd
                .children_named(NS_MD, "EncryptionMethod")
                .filter_map(|e| e.attr("Algorithm"))
                .map(str::to_owned)
                .collect();
            if Method::for_sp(&methods).is_none() {
                return Err(bad(format!(
                    "{entity_id}: its encryption key lists only methods we do not have (AES-128/256 in GCM or CBC)"
                )));
            }
            m.encrypt_to = Some(EncryptTo { cert: b64, methods });
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sp_metadata(cert: &str, acs: &str) -> String {
        format!(
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://motcua.binhphuoc.gov.vn/sp">
  <md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="1" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>
      {cert}
    </ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" Location="https://motcua.binhphuoc.gov.vn/soap"/>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://motcua.binhphuoc.gov.vn/slo"/>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:transient</md:NameIDFormat>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact" Location="https://motcua.binhphuoc.gov.vn/art" index="0"/>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{acs}" index="3"/>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://motcua.binhphuoc.gov.vn/acs2" index="1"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>"#
        )
    }

    fn https_only(u: &str) -> Result<(), String> {
        if u.starts_with("https://") {
            Ok(())
        } else {
            Err(format!("{u}: https only"))
        }
    }

    #[test]
    fn an_sps_metadata_gives_its_post_endpoints_certificates_and_flags() -> Result<(), SamlError> {
        let key = IdpKey::ephemeral(crate::now())?;
        let text = sp_metadata(&key.cert_b64(), "https://motcua.binhphuoc.gov.vn/acs");
        let m = parse_sp(&text, https_only)?;
        assert_eq!(m.entity_id, "https://motcua.binhphuoc.gov.vn/sp");
        // Only HTTP-POST ACS; the lowest index is the default.
        assert_eq!(m.acs.len(), 2);
        assert_eq!(
            m.default_acs().map(|e| e.location.as_str()),
            Some("https://motcua.binhphuoc.gov.vn/acs2")
        );
        // SOAP logout is not ours to use.
        assert_eq!(m.slo.len(), 1);
        assert_eq!(m.signing_certs_der(), vec![key.cert_der().to_vec()]);
        assert!(m.encrypt_to.is_none());
        assert!(m.authn_requests_signed && m.want_assertions_signed);
        // Plain http is refused by the caller's rule, naming the SP.
        let plain = sp_metadata(&key.cert_b64(), "http://motcua.binhphuoc.gov.vn/acs");
        let e = parse_sp(&plain, https_only)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(e.contains("https only") && e.contains("/sp"), "{e}");
        Ok(())
    }

    #[test]
    fn not_one_sp_or_a_bad_certificate_is_refused() -> Result<(), SamlError> {
        let key = IdpKey::ephemeral(crate::now())?;
        let one = sp_metadata(&key.cert_b64(), "https://a.gov.vn/acs");
        let body = one.replace(
            " xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"",
            "",
        );
        let two = format!(
            "<md:EntitiesDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">{body}{body}</md:EntitiesDescriptor>"
        );
        assert!(parse_sp(&two, https_only).is_err());
        let bad = sp_metadata("AAAA", "https://a.gov.vn/acs");
        let e = parse_sp(&bad, https_only)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(e.contains("certificate"), "{e}");
        // Our own metadata is an IdP's: refused as an SP.
        let urls = IdpUrls::new("https://dangnhap.binhphuoc.gov.vn", None);
        let ours = idp_metadata(&key, &urls, false)?;
        assert!(parse_sp(&ours, https_only).is_err());
        Ok(())
    }

    #[test]
    fn our_metadata_names_our_endpoints_and_certificate() -> Result<(), SamlError> {
        let key = IdpKey::ephemeral(crate::now())?;
        let urls = IdpUrls::new("https://dangnhap.binhphuoc.gov.vn/", None);
        let xml = idp_metadata(&key, &urls, true)?;
        let root =
            xml::parse(&xml, Limits::METADATA).map_err(|e| SamlError::Metadata(e.to_string()))?;
        assert_eq!(
            root.attr("entityID"),
            Some("https://dangnhap.binhphuoc.gov.vn/saml/metadata")
        );
        // The signature comes first, as the schema wants.
        assert!(
            root.children
                .first()
                .is_some_and(|c| c.is(NS_DS, "Signature"))
        );
        let idp = root
            .child(NS_MD, "IDPSSODescriptor")
            .ok_or_else(|| SamlError::Metadata("no IDPSSODescriptor".into()))?;
        assert_eq!(idp.attr("WantAuthnRequestsSigned"), Some("true"));
        let sso: Vec<_> = idp
            .children_named(NS_MD, "SingleSignOnService")
            .filter_map(|e| e.attr("Location"))
            .collect();
        assert_eq!(sso, ["https://dangnhap.binhphuoc.gov.vn/saml/sso"; 2]);
        assert!(xml.contains(&key.cert_b64()));
        Ok(())
    }
}
