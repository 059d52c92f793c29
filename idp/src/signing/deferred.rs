//! Deferred signing, for keys that are not on the server: a USB token in the
//! office PC behind a browser plugin, a mobile or remote signing service.
//!
//! [`prepare`] writes the signature field for the person's certificate and
//! answers what the key must sign (the DER of the CMS signed attributes, and
//! its SHA-256 for signers that take a digest) with a state MACed under the
//! master key. [`complete`] takes the prepared document back with that state
//! and the signature, checks that the three belong together, that the
//! signature verifies with the certificate, and embeds it. The server keeps
//! nothing in between, so any node completes what another prepared.

use aws_lc_rs::digest::{SHA256, digest};
use der::{Decode, Encode};
use serde::{Deserialize, Serialize};
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

use super::backend::{KeyAlg, KeyInfo};
use super::trust::{self, Anchors};
use super::{SignKind, SignRequest, Signed, SigningError, hex, oids, pdf};
use crate::crypto::{self, Mac, MasterKey};

/// How long a prepared signature may wait for its signature.
pub const STATE_TTL_SECS: i64 = 600;

/// The largest document `prepare` takes: room is left for what it adds, so
/// the prepared document it answers fits `complete`'s cap.
pub const MAX_INPUT_BYTES: usize = pdf::MAX_PDF_BYTES - 1024 * 1024;

/// The most certificates a chain may carry, and the most bytes of each.
const MAX_CHAIN: usize = 8;
const MAX_CERT_BYTES: usize = 16 * 1024;

/// id-emailAddress (PKCS #9), where Vietnamese CAs often put the e-mail.
const EMAIL_ADDRESS: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.1");

/// Who signs, and through which app: what a state is bound to.
#[derive(Clone, Copy, Debug)]
pub struct Bound<'a> {
    pub user_id: &'a str,
    /// Their official e-mail, which the certificate must name.
    pub email: &'a str,
    /// The client whose token prepared it; only that app completes it.
    pub client_id: &'a str,
}

/// What the state binds: who, through which app, which prepared document,
/// where its placeholder is, which certificates, until when; and an id so
/// it is completed once.
#[derive(Debug, Serialize, Deserialize)]
struct State {
    id: String,
    /// The person (`users.id`).
    sub: String,
    /// The client.
    cid: String,
    /// SHA-256 of the prepared document, hex.
    pdf: String,
    /// SHA-256 of the document as it came, hex (for the audit log).
    doc: String,
    start: usize,
    end: usize,
    /// The chain, signer first, DER in base64url.
    chain: Vec<String>,
    kind: SignKind,
    /// Where the signature is seen: page and rectangle (for the audit log).
    #[serde(default)]
    place: Option<(u32, [f64; 4])>,
    exp: i64,
}

/// What [`prepare`] answers.
#[derive(Debug)]
pub struct Prepared {
    /// The document with the empty signature, to send back to [`complete`].
    pub pdf: Vec<u8>,
    /// What the key signs (DER of the signed attributes).
    pub to_sign: Vec<u8>,
    /// Its SHA-256, for signers that take a digest.
    pub to_sign_sha256: Vec<u8>,
    /// `RS256` or `ES256`: how the key must sign.
    pub algorithm: &'static str,
    /// The state to send back with the signature.
    pub state: String,
    /// SHA-256 of the document as it came, hex.
    pub input_sha256: String,
    /// The certificate's subject (for the audit log).
    pub signer: String,
}

/// What [`complete`] gives: the signed document, the kind it was prepared
/// for, and the state's id (a state is completed once).
#[derive(Debug)]
pub struct Done {
    pub signed: Signed,
    pub kind: SignKind,
    pub state_id: String,
}

/// A certificate chain as sent: PEM blocks (signer first), or one DER
/// certificate.
pub fn parse_chain(bytes: &[u8]) -> Result<Vec<Vec<u8>>, SigningError> {
    let bad = |why: &str| SigningError::BadCertificate(why.into());
    if bytes.len() > MAX_CHAIN * MAX_CERT_BYTES * 2 {
        return Err(bad("the certificate chain is too long"));
    }
    let mut chain = Vec::new();
    if bytes.starts_with(b"-----BEGIN") || bytes.first().is_some_and(u8::is_ascii_whitespace) {
        let text = std::str::from_utf8(bytes).map_err(|_| bad("not PEM text"))?;
        const END: &str = "-----END CERTIFICATE-----";
        for block in text.split_inclusive(END).filter(|b| b.contains(END)) {
            let (label, der) = der::pem::decode_vec(block.trim().as_bytes())
                .map_err(|_| bad("a PEM block does not decode"))?;
            if label != "CERTIFICATE" {
                return Err(bad("a PEM block is not a CERTIFICATE"));
            }
            chain.push(der);
        }
    } else {
        chain.push(bytes.to_vec());
    }
    if chain.is_empty() || chain.len() > MAX_CHAIN {
        return Err(bad("expected one to eight certificates"));
    }
    for der in &chain {
        if der.len() > MAX_CERT_BYTES {
            return Err(bad("a certificate is too large"));
        }
        let cert = Certificate::from_der(der).map_err(|_| bad("not an X.509 certificate"))?;
        // Exactly the bytes of one certificate, nothing after it.
        if cert.to_der()? != *der {
            return Err(bad("not a DER certificate"));
        }
    }
    Ok(chain)
}

/// The key of a certificate as a signer of PDFs: ECDSA P-256 or RSA (its
/// size is checked when the signature is: aws-lc-rs verifies 2048–8192 bits).
pub fn key_info(chain: Vec<Vec<u8>>) -> Result<KeyInfo, SigningError> {
    let signer = chain
        .first()
        .ok_or(SigningError::NoCertificate)
        .and_then(|d| Ok(Certificate::from_der(d)?))?;
    let spki = signer.tbs_certificate().subject_public_key_info();
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<der::asn1::ObjectIdentifier>().ok());
    let alg = if spki.algorithm.oid == oids::EC_PUBLIC_KEY && curve == Some(oids::P256) {
        KeyAlg::EcdsaP256Sha256
    } else if spki.algorithm.oid == oids::RSA_ENCRYPTION {
        let bits = rsa_bits(spki.subject_public_key.raw_bytes());
        if !(2048..=8192).contains(&bits) {
            return Err(SigningError::BadCertificate(format!(
                "an RSA key of {bits} bits (2048 to 8192 are accepted)"
            )));
        }
        KeyAlg::RsaPkcs1Sha256
    } else {
        return Err(SigningError::BadCertificate(
            "the key is neither ECDSA P-256 nor RSA".into(),
        ));
    };
    Ok(KeyInfo {
        label: super::cms::subject(&signer),
        alg,
        chain,
    })
}

/// The size in bits of an RSA public key (`RSAPublicKey` DER), 0 when it
/// does not parse.
fn rsa_bits(der: &[u8]) -> usize {
    #[derive(der::Sequence)]
    struct RsaPublicKey<'a> {
        modulus: der::asn1::UintRef<'a>,
        _exponent: der::asn1::UintRef<'a>,
    }
    RsaPublicKey::from_der(der).map_or(0, |k| {
        let m = k.modulus.as_bytes();
        m.len() * 8 - m.first().map_or(8, |b| b.leading_zeros() as usize)
    })
}

/// Whether the certificate may sign documents: not a CA, and a key usage
/// with digitalSignature or nonRepudiation.
fn check_usage(cert: &Certificate) -> Result<(), SigningError> {
    use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
    let bad = |why: &str| SigningError::BadCertificate(why.into());
    let tbs = cert.tbs_certificate();
    if let Ok(Some((_, bc))) = tbs.get_extension::<BasicConstraints>()
        && bc.ca
    {
        return Err(bad("a CA certificate does not sign documents"));
    }
    match tbs.get_extension::<KeyUsage>() {
        Ok(Some((_, ku)))
            if ku.0.contains(KeyUsages::DigitalSignature)
                || ku.0.contains(KeyUsages::NonRepudiation) =>
        {
            Ok(())
        }
        Ok(Some(_)) => Err(bad("its key usage does not allow signing")),
        Ok(None) => Err(bad("it has no key usage")),
        Err(_) => Err(bad("its key usage does not decode")),
    }
}

/// The e-mail addresses a certificate names: its subjectAltName rfc822Names,
/// or, when it has none, its subject's emailAddress.
pub fn emails(cert: &Certificate) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(Some((_, san))) = cert.tbs_certificate().get_extension::<SubjectAltName>() {
        for name in san.0 {
            if let GeneralName::Rfc822Name(m) = name {
                out.push(m.to_string());
            }
        }
    }
    if !out.is_empty() {
        return out;
    }
    for atv in cert.tbs_certificate().subject().iter() {
        if atv.oid == EMAIL_ADDRESS
            && let Ok(m) = atv.value.decode_as::<der::asn1::Ia5String>()
        {
            out.push(m.to_string());
        }
    }
    out
}

/// Whether the certificate is the person's: it names their official
/// e-mail, and no other.
pub fn belongs_to(cert: &Certificate, email: &str) -> bool {
    let all = emails(cert);
    !all.is_empty() && all.iter().all(|m| m.eq_ignore_ascii_case(email))
}

/// Prepares a signature of the person `user_id` (official e-mail `email`)
/// with the certificate chain `chain`, which must name that e-mail.
pub async fn prepare(
    master: &MasterKey,
    bound: &Bound<'_>,
    anchors: &Anchors,
    input: super::Upload,
    chain: Vec<Vec<u8>>,
    req: &SignRequest<'_>,
    now: i64,
) -> Result<Prepared, SigningError> {
    if input.len() > MAX_INPUT_BYTES {
        return Err(SigningError::TooLarge {
            limit: MAX_INPUT_BYTES,
        });
    }
    let key = key_info(chain)?;
    let signer = Certificate::from_der(&key.chain[0])?;
    if !belongs_to(&signer, bound.email) {
        return Err(SigningError::NotYourCertificate);
    }
    check_usage(&signer)?;
    super::check_validity(&signer, now)?;
    // With trust anchors configured, only a certificate from a trusted CA
    // signs (anyone can make a certificate that names an e-mail).
    if !anchors.is_empty() {
        let t = trust::check(
            anchors,
            &key.chain[0],
            &key.chain,
            now,
            trust::Purpose::Signer,
        );
        if t.status != trust::TrustStatus::Trusted {
            return Err(SigningError::BadCertificate(format!(
                "it does not chain to the trust anchors: {}",
                t.reason.unwrap_or_default()
            )));
        }
    }
    let subject = super::cms::subject(&signer);
    let algorithm = key.alg.as_str();
    let chain: Vec<String> = key.chain.iter().map(|d| crypto::b64(d)).collect();
    let pending = super::begin(input, key, req, now).await?;
    let (start, end) = pending.prepared.contents();
    let state = State {
        id: crypto::random_id()?,
        sub: bound.user_id.to_owned(),
        cid: bound.client_id.to_owned(),
        pdf: hex(digest(&SHA256, &pending.prepared.bytes).as_ref()),
        doc: pending.input_sha256.clone(),
        start,
        end,
        chain,
        kind: req.kind,
        place: pending
            .prepared
            .placement
            .map(|p| (p.page, p.rect.to_array())),
        exp: now + STATE_TTL_SECS,
    };
    Ok(Prepared {
        to_sign_sha256: digest(&SHA256, &pending.attrs_der).as_ref().to_vec(),
        to_sign: pending.attrs_der,
        algorithm,
        state: seal_state(master, &state)?,
        input_sha256: pending.input_sha256,
        pdf: pending.prepared.bytes,
        signer: subject,
    })
}

/// Embeds `signature` into the document `prepared` came back as, if
/// `state` is the one [`prepare`] gave the same person through the same app
/// for that document. Whether the state was used before is the caller's
/// check (it needs the shared cache).
pub async fn complete(
    master: &MasterKey,
    bound: &Bound<'_>,
    prepared: Vec<u8>,
    state: &str,
    signature: Vec<u8>,
    tsa: Option<&super::tsp::TsaClient>,
    now: i64,
) -> Result<Done, SigningError> {
    let state = open_state(master, state)?;
    if state.sub != bound.user_id {
        return Err(SigningError::BadState("it was prepared for someone else"));
    }
    if state.cid != bound.client_id {
        return Err(SigningError::BadState(
            "it was prepared through another app",
        ));
    }
    if now > state.exp {
        return Err(SigningError::BadState("it has expired; prepare again"));
    }
    if hex(digest(&SHA256, &prepared).as_ref()) != state.pdf {
        return Err(SigningError::BadState(
            "the document is not the one that was prepared",
        ));
    }
    let chain = state
        .chain
        .iter()
        .map(|c| crypto::b64_decode(c).ok_or(SigningError::BadState("its chain is damaged")))
        .collect::<Result<Vec<_>, _>>()?;
    let key = key_info(chain)?;
    let (start, end, doc) = (state.start, state.end, state.doc);
    let placement = state
        .place
        .map(|(page, [x1, y1, x2, y2])| super::Placement {
            page,
            rect: super::Rect { x1, y1, x2, y2 },
        });
    let pending = super::on_blocking(move || {
        let prepared = pdf::Prepared::from_parts(prepared, start, end, placement)?;
        super::resume(prepared, key)
    })
    .await?;
    let mut signed = super::finish(pending, signature, tsa).await?;
    signed.input_sha256 = doc;
    Ok(Done {
        signed,
        kind: state.kind,
        state_id: state.id,
    })
}

fn seal_state(master: &MasterKey, state: &State) -> Result<String, SigningError> {
    let body = serde_json::to_vec(state).map_err(|e| SigningError::Worker(e.to_string()))?;
    let tag = master.mac(Mac::DeferredSignature, &body);
    Ok(format!("{}.{}", crypto::b64(&body), crypto::b64(&tag)))
}

fn open_state(master: &MasterKey, token: &str) -> Result<State, SigningError> {
    let bad = || SigningError::BadState("it is not one this server gave");
    if token.len() > 64 * 1024 {
        return Err(bad());
    }
    let (body, tag) = token.split_once('.').ok_or_else(bad)?;
    let (Some(body), Some(tag)) = (crypto::b64_decode(body), crypto::b64_decode(tag)) else {
        return Err(bad());
    };
    if !master.verify_mac(Mac::DeferredSignature, &body, &tag) {
        return Err(bad());
    }
    serde_json::from_slice(&body).map_err(|_| bad())
}
