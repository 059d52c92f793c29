//! The self-signed certificates of the embedded software keys. They exist
//! so the whole signing path can be run and checked without a token; their
//! names say they are not legally valid, and no trust store holds them.

use std::time::Duration;

use der::asn1::{Any, BitString, OctetString, UtcTime};
use der::{Encode, Sequence};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Time;

use super::{SigningError, oids};

/// The subject (and issuer) of the office's test certificate.
pub const TEST_SUBJECT: &str =
    "CN=dangnhap test signing key — NOT LEGALLY VALID,O=dangnhap (test only)";

/// The subject of a person's test certificate: `{email}` is replaced by
/// their official e-mail, which the certificate also names in its
/// subjectAltName (as a person's certificate on a token must).
pub const TEST_PERSON_SUBJECT: &str = "CN={email} — NOT LEGALLY VALID,O=dangnhap (test only)";

/// How long the test certificate is valid: three years.
pub const TEST_VALIDITY: Duration = Duration::from_secs(3 * 365 * 24 * 3600);

/// RFC 5280 §4.1 TBSCertificate, v3, written here because `x509-cert`'s own
/// builder wants a signer type from the `signature` crate and our keys are
/// aws-lc-rs keys.
#[derive(Sequence)]
struct Tbs {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    version: u8,
    serial: SerialNumber,
    signature: AlgorithmIdentifierOwned,
    issuer: Name,
    validity: Validity,
    subject: Name,
    spki: SubjectPublicKeyInfoOwned,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT")]
    extensions: Vec<Extension>,
}

#[derive(Sequence)]
struct Validity {
    not_before: Time,
    not_after: Time,
}

#[derive(Sequence)]
struct Cert {
    tbs: Tbs,
    algorithm: AlgorithmIdentifierOwned,
    signature: BitString,
}

/// RFC 5280 §4.2.1.3 KeyUsage bits 0 (digitalSignature) and 1
/// (nonRepudiation, "contentCommitment"): what a document signature needs,
/// and what pyHanko asks of a signer by default.
fn key_usage() -> Result<Extension, der::Error> {
    // BIT STRING of 2 significant bits: 1100_0000, 6 unused.
    let bits = BitString::new(6, vec![0b1100_0000])?;
    Ok(Extension {
        extn_id: oids::KEY_USAGE,
        critical: true,
        extn_value: OctetString::new(bits.to_der()?)?,
    })
}

/// basicConstraints with cA false: a signing key, never an issuer.
fn not_a_ca() -> Result<Extension, der::Error> {
    // SEQUENCE {} : cA DEFAULT FALSE, no path length.
    Ok(Extension {
        extn_id: oids::BASIC_CONSTRAINTS,
        critical: true,
        extn_value: OctetString::new(vec![0x30, 0x00])?,
    })
}

/// subjectAltName naming one e-mail address (rfc822Name).
fn email_name(email: &str) -> Result<Extension, der::Error> {
    let san = SubjectAltName(vec![GeneralName::Rfc822Name(der::asn1::Ia5String::new(
        email,
    )?)]);
    Ok(Extension {
        extn_id: oids::SUBJECT_ALT_NAME,
        critical: false,
        extn_value: OctetString::new(san.to_der()?)?,
    })
}

/// The SubjectPublicKeyInfo of a P-256 public key (uncompressed point).
pub fn p256_spki(point: &[u8]) -> Result<SubjectPublicKeyInfoOwned, der::Error> {
    Ok(SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: oids::EC_PUBLIC_KEY,
            parameters: Some(Any::encode_from(&oids::P256)?),
        },
        subject_public_key: BitString::from_bytes(point)?,
    })
}

/// A self-signed v3 certificate for `spki` named `subject` (an RFC 4514
/// string the caller built from checked parts), naming `email` in its
/// subjectAltName when given, valid from `now` for [`TEST_VALIDITY`]; `sign` signs the TBSCertificate's DER with the
/// matching private key (ECDSA P-256 with SHA-256, DER signature).
pub fn self_signed(
    spki: SubjectPublicKeyInfoOwned,
    subject: &str,
    email: Option<&str>,
    serial: &[u8],
    now: i64,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, SigningError>,
) -> Result<Vec<u8>, SigningError> {
    let algorithm = AlgorithmIdentifierOwned {
        oid: oids::ECDSA_WITH_SHA256,
        parameters: None,
    };
    build(spki, subject, email, serial, now, algorithm, sign)
}

/// The same for an RSA key (`spki_der`: its SubjectPublicKeyInfo, DER),
/// signed with sha256WithRSAEncryption: the SAML IdP's metadata certificate.
pub fn self_signed_rsa(
    spki_der: &[u8],
    subject: &str,
    serial: &[u8],
    now: i64,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, SigningError>,
) -> Result<Vec<u8>, SigningError> {
    use der::Decode;
    let spki = SubjectPublicKeyInfoOwned::from_der(spki_der)?;
    let algorithm = AlgorithmIdentifierOwned {
        oid: oids::SHA256_WITH_RSA,
        parameters: Some(Any::null()),
    };
    build(spki, subject, None, serial, now, algorithm, sign)
}

fn build(
    spki: SubjectPublicKeyInfoOwned,
    subject: &str,
    email: Option<&str>,
    serial: &[u8],
    now: i64,
    algorithm: AlgorithmIdentifierOwned,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, SigningError>,
) -> Result<Vec<u8>, SigningError> {
    let name: Name = subject.parse()?;
    let mut extensions = vec![key_usage()?, not_a_ca()?];
    if let Some(email) = email {
        extensions.push(email_name(email)?);
    }
    let start = Duration::from_secs(u64::try_from(now).unwrap_or(0));
    // A positive serial without a leading zero byte (RFC 5280 §4.1.2.2).
    let mut serial = serial.to_vec();
    if let Some(first) = serial.first_mut() {
        *first = (*first & 0x7f).max(1);
    }
    let tbs = Tbs {
        version: 2,
        serial: SerialNumber::new(&serial)?,
        signature: algorithm.clone(),
        issuer: name.clone(),
        validity: Validity {
            not_before: Time::UtcTime(UtcTime::from_unix_duration(start)?),
            not_after: Time::UtcTime(UtcTime::from_unix_duration(start + TEST_VALIDITY)?),
        },
        subject: name,
        spki,
        extensions,
    };
    let signature = sign(&tbs.to_der()?)?;
    let cert = Cert {
        tbs,
        algorithm,
        signature: BitString::from_bytes(&signature)?,
    };
    Ok(cert.to_der()?)
}
