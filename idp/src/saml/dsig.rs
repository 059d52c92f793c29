//! Signatures: the IdP's RSA key (made at first start, sealed in the
//! database, its self-signed certificate published in the metadata), XML
//! enveloped signatures over what we write (RSA-SHA256, SHA-256 digests,
//! exclusive C14N: our writer already writes canonical form, so the digest
//! is of the bytes written), and the HTTP-Redirect binding's signature over
//! the raw query bytes (SAML bindings §3.4.4.1), made and checked with
//! aws-lc-rs against the certificate in the SP's registered metadata, never
//! a key carried in the message.

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, KeyPair as _, RsaKeyPair, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use super::SamlError;
use super::xml::Writer;
use crate::crypto::{MasterKey, Seal};
use crate::store::{SamlKeyRow, Store};

pub const NS_DS: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const ALG_RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
pub const ALG_EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
pub const ALG_ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
pub const ALG_SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";

/// The subject of the IdP's self-signed certificate.
const SUBJECT: &str = "CN=dangnhap SAML IdP,O=dangnhap";

/// The IdP's signing key.
pub struct IdpKey {
    key: RsaKeyPair,
    cert_der: Vec<u8>,
    rng: SystemRandom,
}

impl std::fmt::Debug for IdpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdpKey(redacted)")
    }
}

fn key_error(e: impl std::fmt::Display) -> SamlError {
    SamlError::Key(e.to_string())
}

/// What the sealed key is bound to: `name|SHA-256(certificate)`.
fn aad(name: &str, cert_der: &[u8]) -> Vec<u8> {
    let mut out = name.as_bytes().to_vec();
    out.push(b'|');
    out.extend_from_slice(digest(&SHA256, cert_der).as_ref());
    out
}

/// A new RSA-2048 key (PKCS#8) and its self-signed certificate (DER).
fn generate(now: i64) -> Result<(Vec<u8>, Vec<u8>), SamlError> {
    let key = RsaKeyPair::generate(KeySize::Rsa2048).map_err(key_error)?;
    let pkcs8 = key.as_der().map_err(key_error)?.as_ref().to_vec();
    let spki = key.public_key().as_der().map_err(key_error)?;
    let serial = crate::crypto::random_bytes(16)?;
    let rng = SystemRandom::new();
    let cert = crate::signing::cert::self_signed_rsa(spki.as_ref(), SUBJECT, &serial, now, |tbs| {
        let mut sig = vec![0; key.public_modulus_len()];
        key.sign(&signature::RSA_PKCS1_SHA256, &rng, tbs, &mut sig)
            .map_err(|e| crate::signing::SigningError::Key(e.to_string()))?;
        Ok(sig)
    })
    .map_err(key_error)?;
    Ok((pkcs8, cert))
}

impl IdpKey {
    /// The stored key, or a new one (stored first, so every node signs with
    /// the one that won a race).
    pub async fn open(store: &Store, master: &MasterKey, now: i64) -> Result<IdpKey, SamlError> {
        const NAME: &str = "idp";
        if store.saml_key(NAME).await?.is_none() {
            let (pkcs8, cert_der) = generate(now)?;
            let row = SamlKeyRow {
                name: NAME.into(),
                sealed_der: master.seal(Seal::SamlKey, &aad(NAME, &cert_der), &pkcs8)?,
                cert_der,
                created_at: now,
            };
            if store.insert_saml_key(&row).await? {
                tracing::info!("generated the SAML IdP's signing key (RSA-2048, self-signed)");
            }
        }
        let row = store
            .saml_key(NAME)
            .await?
            .ok_or_else(|| SamlError::Key("the SAML key row vanished".into()))?;
        let pkcs8 = master
            .open(Seal::SamlKey, &aad(NAME, &row.cert_der), &row.sealed_der)
            .map_err(|_| {
                SamlError::Key(
                    "the stored SAML key does not open: another master key, or its certificate \
                     was changed in the database"
                        .into(),
                )
            })?;
        IdpKey::from_parts(&pkcs8, row.cert_der)
    }

    /// A key that lives only in memory (unit tests).
    pub fn ephemeral(now: i64) -> Result<IdpKey, SamlError> {
        let (pkcs8, cert) = generate(now)?;
        IdpKey::from_parts(&pkcs8, cert)
    }

    fn from_parts(pkcs8: &[u8], cert_der: Vec<u8>) -> Result<IdpKey, SamlError> {
        Ok(IdpKey {
            key: RsaKeyPair::from_pkcs8(pkcs8).map_err(key_error)?,
            cert_der,
            rng: SystemRandom::new(),
        })
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `data`.
    pub fn sign(&self, data: &[u8]) -> Result<Vec<u8>, SamlError> {
        let mut sig = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(&signature::RSA_PKCS1_SHA256, &self.rng, data, &mut sig)
            .map_err(key_error)?;
        Ok(sig)
    }

    /// The certificate, base64 (as `ds:X509Certificate` carries it).
    pub fn cert_b64(&self) -> String {
        B64.encode(&self.cert_der)
    }

    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }
}

/// `<ds:KeyInfo>` naming `cert_b64`, for metadata and signatures.
pub fn key_info(w: &mut Writer, cert_b64: &str, declare: bool) {
    let ns: &[(&str, &str)] = if declare { &[("ds", NS_DS)] } else { &[] };
    w.open("ds:KeyInfo", ns, &[])
        .open("ds:X509Data", &[], &[])
        .leaf("ds:X509Certificate", &[], &[], cert_b64)
        .close()
        .close();
}

/// An element written by `Writer` and the place its signature goes:
/// `xml[..at]` is the start tag (and the Issuer), `xml[at..]` the rest.
pub struct Unsigned {
    pub xml: String,
    pub at: usize,
    pub id: String,
}

/// Signs `u` with an enveloped signature referencing its `ID`: the digest
/// is over the element without the signature, which is exactly what was
/// written (canonical form, nothing between the parts); the signature
/// value over the canonical `SignedInfo`.
pub fn sign_enveloped(key: &IdpKey, u: Unsigned) -> Result<String, SamlError> {
    let digest_b64 = B64.encode(digest(&SHA256, u.xml.as_bytes()).as_ref());
    let reference = format!("#{}", u.id);
    let signed_info = |declare: bool| {
        let mut w = Writer::new();
        let ns: &[(&str, &str)] = if declare { &[("ds", NS_DS)] } else { &[] };
        w.open("ds:SignedInfo", ns, &[])
            .leaf(
                "ds:CanonicalizationMethod",
                &[],
                &[("Algorithm", Some(ALG_EXC_C14N))],
                "",
            )
            .leaf(
                "ds:SignatureMethod",
                &[],
                &[("Algorithm", Some(ALG_RSA_SHA256))],
                "",
            )
            .open("ds:Reference", &[], &[("URI", Some(&reference))])
            .open("ds:Transforms", &[], &[])
            .leaf(
                "ds:Transform",
                &[],
                &[("Algorithm", Some(ALG_ENVELOPED))],
                "",
            )
            .leaf(
                "ds:Transform",
                &[],
                &[("Algorithm", Some(ALG_EXC_C14N))],
                "",
            )
            .close()
            .leaf(
                "ds:DigestMethod",
                &[],
                &[("Algorithm", Some(ALG_SHA256))],
                "",
            )
            .leaf("ds:DigestValue", &[], &[], &digest_b64);
        w.finish()
    };
    // In canonical form SignedInfo declares ds itself (its parent is not in
    // the node set); in the document it inherits it from Signature.
    let value = B64.encode(key.sign(signed_info(true).as_bytes())?);
    let mut w = Writer::new();
    w.open("ds:Signature", &[("ds", NS_DS)], &[])
        .raw(&signed_info(false))
        .leaf("ds:SignatureValue", &[], &[], &value);
    key_info(&mut w, &key.cert_b64(), false);
    let sig = w.finish();
    let mut out = String::with_capacity(u.xml.len() + sig.len());
    out.push_str(&u.xml[..u.at]);
    out.push_str(&sig);
    out.push_str(&u.xml[u.at..]);
    Ok(out)
}

/// The HTTP-Redirect binding's signed octets: `KEY=…&RelayState=…&SigAlg=…`
/// with each value URL-encoded as sent.
pub fn redirect_octets(key: &str, message: &str, relay: Option<&str>, sig_alg: &str) -> String {
    let mut s = format!("{key}={message}");
    if let Some(r) = relay {
        s.push_str("&RelayState=");
        s.push_str(r);
    }
    s.push_str("&SigAlg=");
    s.push_str(sig_alg);
    s
}

/// Checks an RSA-SHA256 signature by one of `certs` (DER).
pub fn verify_rsa_sha256(certs: &[Vec<u8>], data: &[u8], sig: &[u8]) -> bool {
    certs.iter().any(|c| match public_key(c) {
        Some(pk) => UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, pk)
            .verify(data, sig)
            .is_ok(),
        None => false,
    })
}

/// The subjectPublicKey of a certificate (an RSA key's PKCS#1 form).
fn public_key(cert_der: &[u8]) -> Option<Vec<u8>> {
    use der::Decode;
    let cert = x509_cert::Certificate::from_der(cert_der).ok()?;
    cert.tbs_certificate()
        .subject_public_key_info()
        .subject_public_key
        .as_bytes()
        .map(<[u8]>::to_vec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_signs_what_its_certificate_verifies() -> Result<(), SamlError> {
        let key = IdpKey::ephemeral(crate::now())?;
        let sig = key.sign(b"octets")?;
        let certs = [key.cert_der().to_vec()];
        assert!(verify_rsa_sha256(&certs, b"octets", &sig));
        assert!(!verify_rsa_sha256(&certs, b"octetz", &sig));
        Ok(())
    }

    #[test]
    fn the_signature_goes_after_the_issuer_and_names_the_id() -> Result<(), SamlError> {
        let key = IdpKey::ephemeral(crate::now())?;
        let xml = "<a:X xmlns:a=\"urn:a\" ID=\"_1\"><a:Issuer>i</a:Issuer><a:Y></a:Y></a:X>";
        let at = xml.find("<a:Y>").unwrap_or_default();
        let signed = sign_enveloped(
            &key,
            Unsigned {
                xml: xml.into(),
                at,
                id: "_1".into(),
            },
        )?;
        assert!(signed.starts_with(
            "<a:X xmlns:a=\"urn:a\" ID=\"_1\"><a:Issuer>i</a:Issuer><ds:Signature xmlns:ds="
        ));
        assert!(signed.contains("<ds:Reference URI=\"#_1\">"));
        assert!(signed.ends_with("</ds:Signature><a:Y></a:Y></a:X>"));
        Ok(())
    }
}
