//! The HTTP-Redirect and HTTP-POST bindings (SAML bindings §3.4, §3.5):
//! reading a message from a query or a form (base64, DEFLATE for Redirect,
//! the output capped before it is inflated further) and writing one.

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;

use super::dsig::{self, ALG_RSA_SHA256, IdpKey};
use super::xml::Limits;

/// The longest RelayState kept (the binding says 80 bytes; SPs send more).
pub const MAX_RELAY_STATE: usize = 1024;

/// Why a message could not be read from the request.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BindingError {
    #[error("no SAMLRequest or SAMLResponse")]
    Missing,
    #[error("the parameter {0} is given twice")]
    Duplicate(&'static str),
    #[error("the message is not base64")]
    Base64,
    #[error("the message does not inflate (raw DEFLATE)")]
    Inflate,
    #[error("the message is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the message is not UTF-8")]
    Utf8,
    #[error("RelayState is longer than {MAX_RELAY_STATE} bytes")]
    RelayState,
    #[error("the signature algorithm {0} is not accepted (RSA-SHA256 only)")]
    SigAlg(String),
}

/// Request or response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Direction {
    Request,
    Response,
}

impl Direction {
    pub fn param(self) -> &'static str {
        match self {
            Direction::Request => "SAMLRequest",
            Direction::Response => "SAMLResponse",
        }
    }
}

/// The query signature of a Redirect-bound message, to check against the
/// SP's certificate.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QuerySignature {
    /// The octets signed: the parameters as sent, in the order §3.4.4.1 fixes.
    pub octets: String,
    pub signature: Vec<u8>,
}

impl QuerySignature {
    pub fn verify(&self, certs: &[Vec<u8>]) -> bool {
        dsig::verify_rsa_sha256(certs, self.octets.as_bytes(), &self.signature)
    }
}

/// A message read from a request.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Incoming {
    pub direction: Direction,
    pub xml: String,
    pub relay_state: Option<String>,
    /// Redirect binding only, when signed.
    pub signature: Option<QuerySignature>,
    /// It came by the POST binding (where an XML signature belongs).
    #[serde(default)]
    pub post: bool,
}

fn decode_b64(s: &str) -> Result<Vec<u8>, BindingError> {
    // A `+` that arrived unencoded was read as a space.
    let clean: String = s
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('+'),
            '\r' | '\n' | '\t' => None,
            c => Some(c),
        })
        .collect();
    if clean.len() > Limits::MESSAGE.bytes * 2 {
        return Err(BindingError::TooLarge(Limits::MESSAGE.bytes));
    }
    B64.decode(clean.as_bytes())
        .map_err(|_| BindingError::Base64)
}

fn inflate(data: &[u8]) -> Result<Vec<u8>, BindingError> {
    let cap = Limits::MESSAGE.bytes;
    let mut out = Vec::new();
    DeflateDecoder::new(data)
        .take(u64::try_from(cap).unwrap_or(u64::MAX) + 1)
        .read_to_end(&mut out)
        .map_err(|_| BindingError::Inflate)?;
    if out.len() > cap {
        return Err(BindingError::TooLarge(cap));
    }
    Ok(out)
}

fn relay(v: Option<String>) -> Result<Option<String>, BindingError> {
    match v {
        Some(r) if r.len() > MAX_RELAY_STATE => Err(BindingError::RelayState),
        Some(r) if r.is_empty() => Ok(None),
        r => Ok(r),
    }
}

fn decoded(raw: &str) -> String {
    url::form_urlencoded::parse(format!("v={raw}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Reads a Redirect-bound message from the raw query string.
pub fn from_query(raw_query: &str) -> Result<Incoming, BindingError> {
    let (mut req, mut resp, mut rs, mut alg, mut sig) = (None, None, None, None, None);
    for part in raw_query.split('&') {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let slot = match k {
            "SAMLRequest" => (&mut req, "SAMLRequest"),
            "SAMLResponse" => (&mut resp, "SAMLResponse"),
            "RelayState" => (&mut rs, "RelayState"),
            "SigAlg" => (&mut alg, "SigAlg"),
            "Signature" => (&mut sig, "Signature"),
            _ => continue,
        };
        if slot.0.replace(v).is_some() {
            return Err(BindingError::Duplicate(slot.1));
        }
    }
    let (direction, raw_msg) = match (req, resp) {
        (Some(r), None) => (Direction::Request, r),
        (None, Some(r)) => (Direction::Response, r),
        (Some(_), Some(_)) => return Err(BindingError::Duplicate("SAMLRequest")),
        (None, None) => return Err(BindingError::Missing),
    };
    let xml = inflate(&decode_b64(&decoded(raw_msg))?)?;
    let xml = String::from_utf8(xml).map_err(|_| BindingError::Utf8)?;
    let relay_state = relay(rs.map(decoded))?;
    let signature = match (alg, sig) {
        (Some(a), Some(s)) => {
            let alg_value = decoded(a);
            if alg_value != ALG_RSA_SHA256 {
                return Err(BindingError::SigAlg(alg_value));
            }
            Some(QuerySignature {
                octets: dsig::redirect_octets(direction.param(), raw_msg, rs, a),
                signature: decode_b64(&decoded(s))?,
            })
        }
        (None, None) => None,
        // Half a signature is no signature to ignore: refused.
        _ => {
            return Err(BindingError::SigAlg(
                "Signature and SigAlg come together".into(),
            ));
        }
    };
    Ok(Incoming {
        direction,
        xml,
        relay_state,
        signature,
        post: false,
    })
}

/// Reads a POST-bound message from its form fields.
pub fn from_form(
    request: Option<&str>,
    response: Option<&str>,
    relay_state: Option<&str>,
) -> Result<Incoming, BindingError> {
    let (direction, b64) = match (request, response) {
        (Some(r), None) => (Direction::Request, r),
        (None, Some(r)) => (Direction::Response, r),
        (Some(_), Some(_)) => return Err(BindingError::Duplicate("SAMLRequest")),
        (None, None) => return Err(BindingError::Missing),
    };
    let xml = decode_b64(b64)?;
    if xml.len() > Limits::MESSAGE.bytes {
        return Err(BindingError::TooLarge(Limits::MESSAGE.bytes));
    }
    Ok(Incoming {
        direction,
        xml: String::from_utf8(xml).map_err(|_| BindingError::Utf8)?,
        relay_state: relay(relay_state.map(str::to_owned))?,
        signature: None,
        post: true,
    })
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The URL that carries `xml` to `endpoint` by the Redirect binding, signed.
pub fn redirect_url(
    key: &IdpKey,
    endpoint: &str,
    direction: Direction,
    xml: &str,
    relay_state: Option<&str>,
) -> Result<String, super::SamlError> {
    let mut deflater = DeflateEncoder::new(Vec::new(), Compression::default());
    let deflated = deflater
        .write_all(xml.as_bytes())
        .and_then(|()| deflater.finish())
        .map_err(|e| super::SamlError::Key(format!("deflate: {e}")))?;
    let msg = enc(&B64.encode(deflated));
    let relay = relay_state.map(enc);
    let octets = dsig::redirect_octets(
        direction.param(),
        &msg,
        relay.as_deref(),
        &enc(ALG_RSA_SHA256),
    );
    let sig = enc(&B64.encode(key.sign(octets.as_bytes())?));
    let sep = if endpoint.contains('?') { '&' } else { '?' };
    Ok(format!("{endpoint}{sep}{octets}&Signature={sig}"))
}

/// The form fields that carry `xml` by the POST binding.
pub fn post_value(xml: &str) -> String {
    B64.encode(xml.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_redirect_reads_back_and_verifies() -> Result<(), super::super::SamlError> {
        let key = IdpKey::ephemeral(crate::now())?;
        let url = redirect_url(
            &key,
            "https://sp.example/slo?x=1",
            Direction::Request,
            "<samlp:LogoutRequest/>",
            Some("back to /a b"),
        )?;
        let query = url.split_once("?x=1&").map(|(_, q)| q).unwrap_or_default();
        let got = from_query(query).map_err(|e| super::super::SamlError::Key(e.to_string()))?;
        assert_eq!(got.direction, Direction::Request);
        assert_eq!(got.xml, "<samlp:LogoutRequest/>");
        assert_eq!(got.relay_state.as_deref(), Some("back to /a b"));
        let sig = got.signature.clone().unwrap_or(QuerySignature {
            octets: String::new(),
            signature: Vec::new(),
        });
        assert!(sig.verify(&[key.cert_der().to_vec()]));
        // Another RelayState: the same signature no longer holds.
        let tampered = query.replace("RelayState=back", "RelayState=evil");
        let bad = from_query(&tampered).map_err(|e| super::super::SamlError::Key(e.to_string()))?;
        assert!(
            !bad.signature
                .is_some_and(|s| s.verify(&[key.cert_der().to_vec()]))
        );
        Ok(())
    }

    #[test]
    fn bombs_duplicates_and_other_algorithms_are_refused() {
        // 10 MB of zeros deflates to ~10 kB: refused at the cap, not inflated whole.
        let mut d = DeflateEncoder::new(Vec::new(), Compression::best());
        let _ = d.write_all(&vec![b'a'; 10 * 1024 * 1024]);
        let bomb = B64.encode(d.finish().unwrap_or_default());
        assert_eq!(
            from_query(&format!("SAMLRequest={}", enc(&bomb))),
            Err(BindingError::TooLarge(64 * 1024))
        );
        assert_eq!(
            from_query("SAMLRequest=a&SAMLRequest=b"),
            Err(BindingError::Duplicate("SAMLRequest"))
        );
        let mut d = DeflateEncoder::new(Vec::new(), Compression::default());
        let _ = d.write_all(b"<x/>");
        let ok = enc(&B64.encode(d.finish().unwrap_or_default()));
        let sha1 = enc("http://www.w3.org/2000/09/xmldsig#rsa-sha1");
        assert!(matches!(
            from_query(&format!("SAMLRequest={ok}&SigAlg={sha1}&Signature=AAAA")),
            Err(BindingError::SigAlg(_))
        ));
        assert_eq!(from_query("RelayState=x"), Err(BindingError::Missing));
        // Half a signature is refused, not read as unsigned.
        assert!(matches!(
            from_query(&format!("SAMLRequest={ok}&Signature=AAAA")),
            Err(BindingError::SigAlg(_))
        ));
    }
}
