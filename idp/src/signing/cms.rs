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
use der::asn1::{Any, ObjectIdentifier, OctetString, SetOfVec};
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
        unsigned_attrs: None,
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
}

/// Reads a detached CMS signature. `bytes` may carry zero padding after the
/// DER (a /Contents placeholder is bigger than what it holds).
pub fn parse(bytes: &[u8]) -> Result<Parsed, SigningError> {
    let mut reader = SliceReader::new(bytes)?;
    let info = ContentInfo::decode(&mut reader)?;
    let rest = reader.read_slice(reader.remaining_len())?;
    if rest.iter().any(|&b| b != 0) {
        return Err(SigningError::Cms("bytes after the signature".into()));
    }
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
    let signer = data
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .find_map(|c| match c {
            CertificateChoices::Certificate(c)
                if c.tbs_certificate().issuer() == &id.issuer
                    && c.tbs_certificate().serial_number() == &id.serial_number =>
            {
                Some(c.clone())
            }
            _ => None,
        })
        .ok_or(SigningError::NoCertificate)?;
    let signer_der = signer.to_der()?;
    let attrs = si
        .signed_attrs
        .as_ref()
        .ok_or_else(|| SigningError::Cms("no signed attributes".into()))?;
    let values = |oid: ObjectIdentifier| {
        attrs
            .iter()
            .filter(move |a| a.oid == oid)
            .flat_map(|a| a.values.iter())
    };
    let message_digest = values(oids::MESSAGE_DIGEST)
        .next()
        .ok_or_else(|| SigningError::Cms("no message-digest attribute".into()))?
        .decode_as::<OctetString>()?
        .into_bytes()
        .into_vec();
    let cert_hash = digest(&SHA256, &signer_der);
    let certificate_bound = values(oids::SIGNING_CERTIFICATE_V2).any(|v| {
        v.decode_as::<SigningCertificateV2>().is_ok_and(|s| {
            s.certs.first().is_some_and(|id| {
                id.hash_algorithm
                    .as_ref()
                    .is_none_or(|a| a.oid == oids::SHA256)
                    && id.cert_hash.as_bytes() == cert_hash.as_ref()
            })
        })
    });
    Ok(Parsed {
        message_digest,
        attrs_der: attrs.to_der()?,
        signature: si.signature.as_bytes().to_vec(),
        signature_algorithm: si.signature_algorithm.oid,
        digest_algorithm: si.digest_alg.oid,
        certificate_bound,
        has_signing_time: values(oids::SIGNING_TIME).next().is_some(),
        signer,
        signer_der,
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
