//! The XML signature a received message carries (an AuthnRequest or a
//! LogoutRequest by the POST binding, SAML bindings §3.5.4). Our own rules
//! first, on the tree our reader made under its caps (no DOCTYPE, no
//! entities): one `Signature` in the whole message, a child of the root,
//! one `Reference`, to the root's `ID`, no other element with that ID,
//! RSA-SHA256 over a SHA-256 digest with the enveloped and exclusive C14N
//! transforms only. Then the cryptography, by an XML-DSig crate behind
//! [`XmlDsig`] (so it can be swapped): in its strict mode, with only the
//! certificates of the SP's registered metadata (never a key the message
//! carries), and it must agree that the reference resolved to the document
//! element. What the caller reads after is that root, the node the
//! signature covers: a wrapped or second element is never what is used.

use bergshamra_dsig::{DsigContext, VerifyResult};
use bergshamra_keys::KeysManager;

use super::bindings::Incoming;
use super::dsig::{ALG_ENVELOPED, ALG_EXC_C14N, ALG_RSA_SHA256, ALG_SHA256, NS_DS};
use super::xml::Element;

/// An XML-DSig implementation: whether `xml`'s document element carries a
/// valid enveloped signature over itself by one of `certs` (DER).
pub trait XmlDsig: Sync {
    fn verify_root(&self, xml: &str, certs: &[Vec<u8>]) -> Result<(), String>;
}

/// `bergshamra-dsig` on aws-lc.
pub struct Bergshamra;

impl XmlDsig for Bergshamra {
    fn verify_root(&self, xml: &str, certs: &[Vec<u8>]) -> Result<(), String> {
        let mut keys = KeysManager::new();
        for c in certs {
            let key = bergshamra_keys::loader::load_x509_cert_der(c)
                .map_err(|e| format!("a registered certificate does not load: {e}"))?;
            keys.add_key(key);
        }
        // `new`: strict reference positions, the manager's keys only.
        let ctx = DsigContext::new(keys);
        let doc = uppsala::parse(xml).map_err(|e| format!("unreadable XML: {e}"))?;
        let root = doc
            .document_element()
            .ok_or_else(|| "no document element".to_owned())?;
        match bergshamra_dsig::verify::verify_document_with_source(&ctx, &doc, Some(xml)) {
            Ok(VerifyResult::Valid { references, .. }) => {
                let covers_root = !references.is_empty()
                    && references
                        .iter()
                        .all(|r| r.digest_verified && r.resolved_node == Some(root));
                if covers_root {
                    Ok(())
                } else {
                    Err("the signature does not cover the message itself".into())
                }
            }
            Ok(VerifyResult::Invalid { reason }) => Err(reason),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// The implementation in use.
static XML_DSIG: &dyn XmlDsig = &Bergshamra;

/// Whether `incoming` (read into `root`) is signed by one of `certs`, by
/// its binding's means: `Ok(true)` when it carries the Redirect binding's
/// query signature, or an XML signature by the POST binding, and it
/// verifies; `Ok(false)` when it carries none; `Err` with the reason when
/// one does not verify or is in the wrong place: a bad signature is never
/// taken for none, nor one binding's for the other's.
pub fn signatures(incoming: &Incoming, root: &Element, certs: &[Vec<u8>]) -> Result<bool, String> {
    let xml_signed = count(root, NS_DS, "Signature") > 0;
    if !incoming.post && xml_signed {
        // Bindings §3.4.4.1: the XML signature is removed and the query signed.
        return Err("an XML signature by the Redirect binding (sign the query instead)".into());
    }
    if let Some(sig) = &incoming.signature {
        if !sig.verify(certs) {
            return Err(
                "the query signature does not verify with the SP's registered certificate".into(),
            );
        }
        return Ok(true);
    }
    if xml_signed {
        enveloped(&incoming.xml, root, certs)
            .map_err(|why| format!("the XML signature: {}", super::clip(&why)))?;
    }
    Ok(xml_signed)
}

/// Checks the enveloped signature of `root`, read from `xml`.
fn enveloped(xml: &str, root: &Element, certs: &[Vec<u8>]) -> Result<(), String> {
    shape(root)?;
    if certs.is_empty() {
        return Err("the SP's metadata gives no signing certificate".into());
    }
    XML_DSIG.verify_root(xml, certs)
}

/// Our rules for where the signature is and what it may say.
fn shape(root: &Element) -> Result<(), String> {
    let id = root
        .attr("ID")
        .filter(|i| !i.is_empty())
        .ok_or("the signed message has no ID")?;
    if count(root, NS_DS, "Signature") != 1 {
        return Err("more than one Signature".into());
    }
    if ids(root, id) != 1 {
        return Err("two elements with the signed ID".into());
    }
    let sig = root
        .child(NS_DS, "Signature")
        .ok_or("the Signature is not a child of the message")?;
    let info = sig
        .child(NS_DS, "SignedInfo")
        .ok_or("a Signature without SignedInfo")?;
    if alg(info.child(NS_DS, "CanonicalizationMethod")) != ALG_EXC_C14N {
        return Err("SignedInfo is not in exclusive C14N".into());
    }
    let method = alg(info.child(NS_DS, "SignatureMethod"));
    if method != ALG_RSA_SHA256 {
        return Err(format!(
            "the signature algorithm {} is not accepted (RSA-SHA256 only)",
            super::clip(method)
        ));
    }
    let mut refs = info.children_named(NS_DS, "Reference");
    let (Some(r), None) = (refs.next(), refs.next()) else {
        return Err("not exactly one Reference".into());
    };
    if r.attr("URI") != Some(&format!("#{id}")) {
        return Err("the Reference does not name the message's ID".into());
    }
    let transforms = r
        .child(NS_DS, "Transforms")
        .map(|t| t.children.iter().collect::<Vec<_>>())
        .unwrap_or_default();
    if transforms.iter().any(|t| {
        !t.is(NS_DS, "Transform")
            || !matches!(t.attr("Algorithm"), Some(ALG_ENVELOPED | ALG_EXC_C14N))
    }) {
        return Err("a transform other than enveloped-signature and exclusive C14N".into());
    }
    if alg(r.child(NS_DS, "DigestMethod")) != ALG_SHA256 {
        return Err("the digest is not SHA-256".into());
    }
    Ok(())
}

/// The `Algorithm` of `e`, `""` without one.
fn alg(e: Option<&Element>) -> &str {
    e.and_then(|e| e.attr("Algorithm")).unwrap_or("")
}

/// How many elements `ns:name` there are in `e` and below.
fn count(e: &Element, ns: &str, name: &str) -> usize {
    usize::from(e.is(ns, name)) + e.children.iter().map(|c| count(c, ns, name)).sum::<usize>()
}

/// How many elements carry `id` as an ID (`ID`, `Id` or `id`), in `e` and below.
fn ids(e: &Element, id: &str) -> usize {
    let here = e
        .attrs
        .iter()
        .filter(|a| matches!(a.name.as_str(), "ID" | "Id" | "id") && a.value == id)
        .count();
    here + e.children.iter().map(|c| ids(c, id)).sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::super::dsig::{IdpKey, Unsigned, sign_enveloped};
    use super::super::xml::{Limits, parse};
    use super::super::{NS_SAML, NS_SAMLP, SamlError};
    use super::*;

    /// A LogoutRequest `id` carrying `inner`, signed by `key`.
    fn signed(key: &IdpKey, id: &str, inner: &str) -> Result<String, SamlError> {
        let xml = format!(
            "<samlp:LogoutRequest xmlns:samlp=\"{NS_SAMLP}\" ID=\"{id}\" Version=\"2.0\"><saml:Issuer xmlns:saml=\"{NS_SAML}\">sp</saml:Issuer>{inner}</samlp:LogoutRequest>"
        );
        let at = xml.find("</saml:Issuer>").unwrap_or_default() + "</saml:Issuer>".len();
        sign_enveloped(
            key,
            Unsigned {
                xml,
                at,
                id: id.into(),
            },
        )
    }

    fn check(xml: &str, certs: &[Vec<u8>]) -> Result<(), String> {
        let root = parse(xml, Limits::MESSAGE).map_err(|e| e.to_string())?;
        enveloped(xml, &root, certs)
    }

    #[test]
    fn a_signature_by_the_registered_key_over_the_message_holds() -> Result<(), SamlError> {
        let key = IdpKey::ephemeral(crate::now())?;
        let certs = [key.cert_der().to_vec()];
        let xml = signed(
            &key,
            "_1",
            "<saml:NameID xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">a</saml:NameID>",
        )?;
        assert_eq!(check(&xml, &certs), Ok(()));
        assert_eq!(Bergshamra.verify_root(&xml, &certs), Ok(()));
        // One changed character, or another key (its certificate in the
        // message's KeyInfo): refused.
        assert!(check(&xml.replace(">a</saml:NameID>", ">b</saml:NameID>"), &certs).is_err());
        let other = IdpKey::ephemeral(crate::now())?;
        assert!(check(&xml, &[other.cert_der().to_vec()]).is_err());
        assert!(
            Bergshamra
                .verify_root(&xml, &[other.cert_der().to_vec()])
                .is_err()
        );
        assert!(check(&xml, &[]).is_err());
        Ok(())
    }

    #[test]
    fn wrapped_doubled_and_weak_signatures_are_refused() -> Result<(), SamlError> {
        let key = IdpKey::ephemeral(crate::now())?;
        let certs = [key.cert_der().to_vec()];
        let good = signed(&key, "_1", "")?;
        // The signed message inside another: our rules refuse it, and so does
        // the crate on its own (the reference is not to the document element).
        let wrapped = format!(
            "<samlp:LogoutRequest xmlns:samlp=\"{NS_SAMLP}\" ID=\"_evil\" Version=\"2.0\"><samlp:Extensions>{good}</samlp:Extensions></samlp:LogoutRequest>"
        );
        assert!(check(&wrapped, &certs).is_err());
        assert!(Bergshamra.verify_root(&wrapped, &certs).is_err());
        // The same ID twice.
        let twice = good.replacen(
            "</saml:Issuer>",
            "</saml:Issuer><samlp:Extensions><x ID=\"_1\"></x></samlp:Extensions>",
            1,
        );
        assert_eq!(
            check(&twice, &certs),
            Err("two elements with the signed ID".into())
        );
        // Two signatures.
        let sig = &good[good.find("<ds:Signature").unwrap_or_default()
            ..good.find("</ds:Signature>").unwrap_or_default() + "</ds:Signature>".len()];
        let doubled = good.replacen(
            "</samlp:LogoutRequest>",
            &format!("{sig}</samlp:LogoutRequest>"),
            1,
        );
        assert_eq!(
            check(&doubled, &certs),
            Err("more than one Signature".into())
        );
        // An XML signature by the Redirect binding: refused, not checked.
        let root = parse(&good, Limits::MESSAGE).map_err(|e| SamlError::Key(e.to_string()))?;
        let by = |post: bool| Incoming {
            direction: super::super::bindings::Direction::Request,
            xml: good.clone(),
            relay_state: None,
            signature: None,
            post,
        };
        assert_eq!(signatures(&by(true), &root, &certs), Ok(true));
        assert!(signatures(&by(false), &root, &certs).is_err_and(|e| e.contains("Redirect")));
        // RSA-SHA1 named instead: refused by name before any cryptography.
        let sha1 = good.replace(ALG_RSA_SHA256, "http://www.w3.org/2000/09/xmldsig#rsa-sha1");
        assert!(check(&sha1, &certs).is_err_and(|e| e.contains("RSA-SHA256 only")));
        Ok(())
    }
}
