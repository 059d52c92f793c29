//! The CMS SignedData inside a PAdES signature (RFC 5652, ETSI EN 319 122-1
//! baseline): detached, SHA-256, with the signed attributes content-type,
//! message-digest and ESS signing-certificate-v2 (RFC 5035), and no
//! signing-time (PAdES puts the time in the signature dictionary, or a
//! time-stamp). Also reads one back for verification.

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey, VerificationAlgorithm,
};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedAttributes, SignedData, SignerIdentifier,
    SignerInfo, SignerInfos,
};
use der::asn1::{Any, AnyRef, ObjectIdentifier, OctetString, SetOfVec};
use der::{Decode, Encode, Reader, Sequence, SliceReader};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;

use super::backend::{KeyAlg, KeyInfo};
use super::{SigningError, oids};

/// RFC 5035 §5.4 SigningCertificateV2 (policies are never written).
#[derive(Clone, Debug, Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
    #[asn1(optional = "true")]
    policies: Option<Vec<Any>>,
}

/// RFC 5035 §5.4.1 ESSCertIDv2; the hash algorithm defaults to SHA-256 and
/// DER leaves a default out, so it is written only when it is something else.
#[derive(Clone, Debug, Sequence)]
struct EssCertIdV2 {
    #[asn1(optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<IssuerSerial>,
}

#[derive(Clone, Debug, Sequence)]
struct IssuerSerial {
    issuer: Vec<GeneralName>,
    serial_number: SerialNumber,
}

fn sha256() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: oids::SHA256,
        parameters: None,
    }
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, SigningError> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value])?,
    })
}

/// The signed attributes for a document whose byte ranges hash to
/// `document_digest`, signed by the certificate `cert_der`. Their DER (a
/// SET, sorted as DER wants) is what the key signs.
pub fn signed_attributes(
    document_digest: &[u8],
    cert_der: &[u8],
) -> Result<SignedAttributes, SigningError> {
    let cert = Certificate::from_der(cert_der)?;
    let ess = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            hash_algorithm: None,
            cert_hash: OctetString::new(digest(&SHA256, cert_der).as_ref())?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(
                    cert.tbs_certificate().issuer().clone(),
                )],
                serial_number: cert.tbs_certificate().serial_number().clone(),
            }),
        }],
        policies: None,
    };
    Ok(SetOfVec::try_from(vec![
        attribute(oids::CONTENT_TYPE, Any::encode_from(&oids::DATA)?)?,
        attribute(
            oids::MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(document_digest)?)?,
        )?,
        attribute(oids::SIGNING_CERTIFICATE_V2, Any::encode_from(&ess)?)?,
    ])?)
}

/// The DER of a ContentInfo holding the SignedData: `attrs` as signed,
/// `signature` the key's signature over their DER, the chain of `key`.
pub fn assemble(
    attrs: SignedAttributes,
    signature: Vec<u8>,
    key: &KeyInfo,
) -> Result<Vec<u8>, SigningError> {
    assemble_with(attrs, signature, key, None)
}

/// As [`assemble`], with an RFC 3161 token over the signature value (a
/// ContentInfo, DER) as the unsigned attribute signature-time-stamp-token
/// (RFC 5126 §5.11.4): PAdES baseline B-T.
pub fn assemble_with(
    attrs: SignedAttributes,
    signature: Vec<u8>,
    key: &KeyInfo,
    timestamp: Option<&[u8]>,
) -> Result<Vec<u8>, SigningError> {
    let unsigned_attrs = match timestamp {
        Some(token) => Some(SetOfVec::try_from(vec![attribute(
            oids::SIGNATURE_TIME_STAMP_TOKEN,
            Any::from_der(token)?,
        )?])?),
        None => None,
    };
    let signer_der = key.chain.first().ok_or(SigningError::NoCertificate)?;
    let signer = Certificate::from_der(signer_der)?;
    let mut certs = Vec::with_capacity(key.chain.len());
    for der in &key.chain {
        certs.push(CertificateChoices::Certificate(Certificate::from_der(der)?));
    }
    let signature_algorithm = match key.alg {
        KeyAlg::EcdsaP256Sha256 => AlgorithmIdentifierOwned {
            oid: oids::ECDSA_WITH_SHA256,
            parameters: None,
        },
        KeyAlg::RsaPkcs1Sha256 => AlgorithmIdentifierOwned {
            oid: oids::SHA256_WITH_RSA,
            parameters: Some(Any::null()),
        },
    };
    let info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: signer.tbs_certificate().issuer().clone(),
            serial_number: signer.tbs_certificate().serial_number().clone(),
        }),
        digest_alg: sha256(),
        signed_attrs: Some(attrs),
        signature_algorithm,
        signature: OctetString::new(signature)?,
        unsigned_attrs,
    };
    let data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![sha256()])?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: oids::DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet(SetOfVec::try_from(certs)?)),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![info])?),
    };
    Ok(ContentInfo {
        content_type: oids::SIGNED_DATA,
        content: Any::encode_from(&data)?,
    }
    .to_der()?)
}

/// The most certificates one SignedData may carry.
pub const MAX_CERTIFICATES: usize = 16;

/// What a CMS signature says, read back from a PDF's /Contents.
#[derive(Debug)]
pub struct Parsed {
    /// The signer's certificate (found by the signer identifier), DER.
    pub signer_der: Vec<u8>,
    pub signer: Certificate,
    /// The message-digest attribute.
    pub message_digest: Vec<u8>,
    /// The DER of the signed attributes: what the signature covers.
    pub attrs_der: Vec<u8>,
    pub signature: Vec<u8>,
    pub signature_algorithm: ObjectIdentifier,
    pub digest_algorithm: ObjectIdentifier,
    /// Whether a signing-certificate-v2 attribute names the signer's certificate.
    pub certificate_bound: bool,
    /// Whether a signing-time attribute is there (PAdES baseline forbids it).
    pub has_signing_time: bool,
    /// Every certificate the SignedData carries, DER.
    pub certificates: Vec<Vec<u8>>,
    /// The signature-time-stamp-token unsigned attribute (a ContentInfo,
    /// DER), when there is one.
    pub timestamp_token: Option<Vec<u8>>,
}

/// A SignedData with one signer, read strictly: the parts both a PDF
/// signature and a time-stamp token need.
#[derive(Debug)]
pub struct SignedParts {
    pub econtent_type: ObjectIdentifier,
    /// The encapsulated content's octets (None when detached).
    pub econtent: Option<Vec<u8>>,
    /// Every certificate carried, DER.
    pub certificates: Vec<Vec<u8>>,
    pub signer: Certificate,
    pub signer_der: Vec<u8>,
    pub signed_attrs: Vec<Attribute>,
    /// The signed attributes as received, re-tagged as the SET OF the
    /// signature covers (RFC 5652 §5.4): not a re-sorted re-encoding.
    pub attrs_der: Vec<u8>,
    /// The one message-digest attribute's value.
    pub message_digest: Vec<u8>,
    pub signature: Vec<u8>,
    pub signature_algorithm: ObjectIdentifier,
    pub digest_algorithm: ObjectIdentifier,
    pub unsigned_attrs: Vec<Attribute>,
}

/// The DER of `bytes` without the zero padding a /Contents placeholder
/// leaves after it; anything else after the DER is refused.
fn strip_padding(bytes: &[u8]) -> Result<&[u8], SigningError> {
    let mut reader = SliceReader::new(bytes)?;
    let tlv = AnyRef::decode(&mut reader)?;
    let len = usize::try_from(tlv.encoded_len()?)?;
    let rest = reader.read_slice(reader.remaining_len())?;
    if rest.iter().any(|&b| b != 0) {
        return Err(SigningError::Cms("bytes after the signature".into()));
    }
    Ok(&bytes[..len])
}

/// The TLVs inside a constructed TLV's value.
fn children(value: &[u8]) -> Result<Vec<AnyRef<'_>>, SigningError> {
    let mut reader = SliceReader::new(value)?;
    let mut out = Vec::new();
    while !reader.is_finished() {
        if out.len() > 64 {
            return Err(SigningError::Cms("too many elements".into()));
        }
        out.push(AnyRef::decode(&mut reader)?);
    }
    Ok(out)
}

/// The signed attributes of the (first) SignerInfo exactly as the DER
/// carries them, with the [0] IMPLICIT tag turned back into SET OF.
fn raw_signed_attrs(der: &[u8]) -> Result<Vec<u8>, SigningError> {
    let bad = || SigningError::Cms("the SignedData's layout".into());
    let info = AnyRef::from_der(der)?;
    let content = children(info.value())?.get(1).copied().ok_or_else(bad)?;
    let signed_data = AnyRef::from_der(content.value())?;
    let signer_infos = children(signed_data.value())?
        .last()
        .copied()
        .ok_or_else(bad)?;
    let signer_info = children(signer_infos.value())?
        .first()
        .copied()
        .ok_or_else(bad)?;
    let attrs = children(signer_info.value())?
        .get(3)
        .copied()
        .ok_or_else(bad)?;
    let implicit_set = der::Tag::ContextSpecific {
        constructed: true,
        number: der::TagNumber(0),
    };
    if der::Tagged::tag(&attrs) != implicit_set {
        return Err(SigningError::Cms("no signed attributes".into()));
    }
    let mut out = vec![0x31];
    der::Length::try_from(attrs.value().len())?.encode_to_vec(&mut out)?;
    out.extend_from_slice(attrs.value());
    Ok(out)
}

/// Reads a SignedData with exactly one signer, named by issuer and serial,
/// whose certificate it carries, and whose signed attributes have no type
/// twice, exactly one content-type equal to `content_type` (which is also
/// the encapsulated content's type) and exactly one message-digest.
pub fn parse_signed_data(
    bytes: &[u8],
    content_type: ObjectIdentifier,
) -> Result<SignedParts, SigningError> {
    let der = strip_padding(bytes)?;
    let info = ContentInfo::from_der(der)?;
    if info.content_type != oids::SIGNED_DATA {
        return Err(SigningError::Cms("not a SignedData".into()));
    }
    let data: SignedData = info.content.decode_as()?;
    let mut signers = data.signer_infos.0.iter();
    let (Some(si), None) = (signers.next(), signers.next()) else {
        return Err(SigningError::Cms("not exactly one signer".into()));
    };
    let SignerIdentifier::IssuerAndSerialNumber(id) = &si.sid else {
        return Err(SigningError::Cms(
            "signer named by key identifier (not supported yet)".into(),
        ));
    };
    if data.encap_content_info.econtent_type != content_type {
        return Err(SigningError::Cms(format!(
            "the encapsulated content is {}, not {content_type}",
            data.encap_content_info.econtent_type
        )));
    }
    let econtent = match &data.encap_content_info.econtent {
        Some(c) => Some(c.decode_as::<OctetString>()?.into_bytes().into_vec()),
        None => None,
    };
    let mut certificates = Vec::new();
    let mut signer = None;
    // A chain is a handful of certificates; each one more is path-building
    // work for whoever verifies.
    if data
        .certificates
        .iter()
        .map(|set| set.0.len())
        .sum::<usize>()
        > MAX_CERTIFICATES
    {
        return Err(SigningError::Cms(format!(
            "more than {MAX_CERTIFICATES} certificates"
        )));
    }
    for c in data.certificates.iter().flat_map(|set| set.0.iter()) {
        if let CertificateChoices::Certificate(c) = c {
            if c.tbs_certificate().issuer() == &id.issuer
                && c.tbs_certificate().serial_number() == &id.serial_number
            {
                signer = Some(c.clone());
            }
            certificates.push(c.to_der()?);
        }
    }
    let signer = signer.ok_or(SigningError::NoCertificate)?;
    let signer_der = signer.to_der()?;
    let attrs = si
        .signed_attrs
        .as_ref()
        .ok_or_else(|| SigningError::Cms("no signed attributes".into()))?;
    let mut seen = std::collections::BTreeSet::new();
    for a in attrs.iter() {
        if !seen.insert(a.oid) {
            return Err(SigningError::Cms(format!(
                "the signed attribute {} is there twice",
                a.oid
            )));
        }
    }
    let only = |oid: ObjectIdentifier, name: &str| {
        let a = attrs
            .iter()
            .find(|a| a.oid == oid)
            .ok_or_else(|| SigningError::Cms(format!("no {name} attribute")))?;
        let mut values = a.values.iter();
        match (values.next(), values.next()) {
            (Some(v), None) => Ok(v.clone()),
            _ => Err(SigningError::Cms(format!("not exactly one {name} value"))),
        }
    };
    if only(oids::CONTENT_TYPE, "content-type")?.decode_as::<ObjectIdentifier>()? != content_type {
        return Err(SigningError::Cms(format!(
            "the content-type attribute is not {content_type}"
        )));
    }
    let message_digest = only(oids::MESSAGE_DIGEST, "message-digest")?
        .decode_as::<OctetString>()?
        .into_bytes()
        .into_vec();
    Ok(SignedParts {
        econtent_type: data.encap_content_info.econtent_type,
        econtent,
        certificates,
        signer,
        signer_der,
        signed_attrs: attrs.iter().cloned().collect(),
        attrs_der: raw_signed_attrs(der)?,
        message_digest,
        signature: si.signature.as_bytes().to_vec(),
        signature_algorithm: si.signature_algorithm.oid,
        digest_algorithm: si.digest_alg.oid,
        unsigned_attrs: si
            .unsigned_attrs
            .iter()
            .flat_map(|a| a.iter().cloned())
            .collect(),
    })
}

/// Whether an ESS signing-certificate (v1, SHA-1) or -v2 attribute names
/// `cert_der` as its first certificate.
pub fn names_certificate(attrs: &[Attribute], cert_der: &[u8]) -> bool {
    let sha256 = digest(&SHA256, cert_der);
    let sha1 = digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, cert_der);
    attrs
        .iter()
        .filter(|a| a.oid == oids::SIGNING_CERTIFICATE_V2 || a.oid == oids::SIGNING_CERTIFICATE)
        .flat_map(|a| a.values.iter().map(move |v| (a.oid, v)))
        .any(|(oid, v)| {
            // ESSCertID (v1) has the shape of ESSCertIDv2 without its algorithm.
            v.decode_as::<SigningCertificateV2>().is_ok_and(|s| {
                s.certs.first().is_some_and(|id| {
                    if oid == oids::SIGNING_CERTIFICATE {
                        id.hash_algorithm.is_none() && id.cert_hash.as_bytes() == sha1.as_ref()
                    } else {
                        id.hash_algorithm
                            .as_ref()
                            .is_none_or(|a| a.oid == oids::SHA256)
                            && id.cert_hash.as_bytes() == sha256.as_ref()
                    }
                })
            })
        })
}

/// Reads a detached CMS signature from a PDF's /Contents. `bytes` may carry
/// zero padding after the DER (a placeholder is bigger than what it holds).
pub fn parse(bytes: &[u8]) -> Result<Parsed, SigningError> {
    let sd = parse_signed_data(bytes, oids::DATA)?;
    if sd.econtent.is_some() {
        return Err(SigningError::Cms("not a detached signature".into()));
    }
    let mut tokens = sd
        .unsigned_attrs
        .iter()
        .filter(|a| a.oid == oids::SIGNATURE_TIME_STAMP_TOKEN)
        .flat_map(|a| a.values.iter());
    let timestamp_token = match (tokens.next(), tokens.next()) {
        (None, _) => None,
        (Some(t), None) => Some(t.to_der()?),
        (Some(_), Some(_)) => {
            return Err(SigningError::Cms(
                "more than one signature time-stamp".into(),
            ));
        }
    };
    Ok(Parsed {
        certificate_bound: names_certificate(&sd.signed_attrs, &sd.signer_der),
        has_signing_time: sd.signed_attrs.iter().any(|a| a.oid == oids::SIGNING_TIME),
        message_digest: sd.message_digest,
        attrs_der: sd.attrs_der,
        signature: sd.signature,
        signature_algorithm: sd.signature_algorithm,
        digest_algorithm: sd.digest_algorithm,
        certificates: sd.certificates,
        timestamp_token,
        signer: sd.signer,
        signer_der: sd.signer_der,
    })
}

/// Whether `signature` over `message` verifies with the public key of
/// `cert` (ECDSA P-256 or RSA, SHA-256).
pub fn verify(
    cert: &Certificate,
    signature_algorithm: ObjectIdentifier,
    message: &[u8],
    signature: &[u8],
) -> bool {
    let spki = cert.tbs_certificate().subject_public_key_info();
    let Some(key) = spki.subject_public_key.as_bytes() else {
        return false;
    };
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
    let alg: &dyn VerificationAlgorithm = match (spki.algorithm.oid, signature_algorithm) {
        (k, s) if k == oids::EC_PUBLIC_KEY && s == oids::ECDSA_WITH_SHA256 => {
            if curve != Some(oids::P256) {
                return false;
            }
            &ECDSA_P256_SHA256_ASN1
        }
        (k, s)
            if k == oids::RSA_ENCRYPTION
                && (s == oids::SHA256_WITH_RSA || s == oids::RSA_ENCRYPTION) =>
        {
            &RSA_PKCS1_2048_8192_SHA256
        }
        _ => return false,
    };
    UnparsedPublicKey::new(alg, key)
        .verify(message, signature)
        .is_ok()
}

/// The subject of a certificate as RFC 4514 text, without control or
/// bidirectional-override characters (a certificate from outside names
/// itself: what it says goes into PDFs, reports and the audit log), at most
/// 512 characters.
pub fn subject(cert: &Certificate) -> String {
    let bidi = |c: char| matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    cert.tbs_certificate()
        .subject()
        .to_string()
        .chars()
        .filter(|&c| !c.is_control() && !bidi(c))
        .take(512)
        .collect()
}
