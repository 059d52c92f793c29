//! The object identifiers the signing service writes and reads, spelled out
//! once (RFC 5652, RFC 5035, RFC 5280, RFC 5480, RFC 8017).

use der::asn1::ObjectIdentifier as Oid;

/// id-data (RFC 5652 §4).
pub const DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
/// id-signedData (RFC 5652 §5.1).
pub const SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
/// id-contentType (RFC 5652 §11.1).
pub const CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
/// id-messageDigest (RFC 5652 §11.2).
pub const MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
/// id-signingTime (RFC 5652 §11.3): PAdES baseline forbids it, verify notes it.
pub const SIGNING_TIME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.5");
/// id-aa-signingCertificateV2 (RFC 5035 §3).
pub const SIGNING_CERTIFICATE_V2: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.47");
/// id-sha256 (RFC 5754).
pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
/// ecdsa-with-SHA256 (RFC 5758).
pub const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
/// sha256WithRSAEncryption (RFC 8017).
pub const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
/// rsaEncryption (RFC 8017): some signers name the key, not the scheme.
pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
/// id-ecPublicKey (RFC 5480).
pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
/// secp256r1 (RFC 5480).
pub const P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
/// id-ce-keyUsage (RFC 5280 §4.2.1.3).
pub const KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.15");
/// id-ce-subjectAltName (RFC 5280 §4.2.1.6).
pub const SUBJECT_ALT_NAME: Oid = Oid::new_unwrap("2.5.29.17");
/// id-ce-basicConstraints (RFC 5280 §4.2.1.9).
pub const BASIC_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.19");
/// id-aa-signingCertificate (RFC 2634 §5.4), which many TSAs still write.
pub const SIGNING_CERTIFICATE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.12");
/// id-aa-signatureTimeStampToken (RFC 3161 Appendix A, RFC 5126 §5.11.4).
pub const SIGNATURE_TIME_STAMP_TOKEN: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.14");
/// id-ct-TSTInfo (RFC 3161 §2.4.2).
pub const TST_INFO: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.1.4");
/// id-kp-timeStamping (RFC 5280 §4.2.1.12).
pub const KP_TIME_STAMPING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.8");
