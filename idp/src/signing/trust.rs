//! Whether a signer's (or a TSA's) certificate chains to a configured trust
//! anchor: a small path builder (RFC 5280 §6, the parts a document signature
//! needs) over the certificates a CMS carries and the anchors. Each link's
//! issuer and subject match and its signature verifies with the issuer's key
//! (aws-lc-rs); every certificate is valid at the time asked (the
//! time-stamp's, else now); intermediates are CAs (basicConstraints, and
//! keyCertSign when keyUsage is there); the end certificate may sign
//! documents (keyUsage nonRepudiation or digitalSignature) or time-stamps
//! (extendedKeyUsage timeStamping). Revocation is not checked yet.

use std::path::PathBuf;

use der::{Decode, Encode};
use serde::Serialize;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage};

use super::{SigningError, cms, oids};

/// The longest chain followed (anchor not counted).
const MAX_DEPTH: usize = 8;
/// The most anchors read.
const MAX_ANCHORS: usize = 256;

/// The certificates trusted as roots.
#[derive(Clone, Debug, Default)]
pub struct Anchors {
    certs: Vec<(Vec<u8>, Certificate)>,
}

impl Anchors {
    /// Reads every certificate in the PEM files `paths`.
    pub fn load(paths: &[PathBuf]) -> Result<Anchors, SigningError> {
        let mut ders = Vec::new();
        for path in paths {
            let text = std::fs::read_to_string(path).map_err(|e| {
                SigningError::Io(std::io::Error::new(
                    e.kind(),
                    format!("trust anchor {}: {e}", path.display()),
                ))
            })?;
            let found = pem_certificates(&text);
            if found.is_empty() {
                return Err(SigningError::Malformed(format!(
                    "trust anchor {}: no PEM certificate in it",
                    path.display()
                )));
            }
            ders.extend(found);
        }
        Anchors::from_der(ders)
    }

    /// Anchors from DER certificates.
    pub fn from_der(ders: Vec<Vec<u8>>) -> Result<Anchors, SigningError> {
        if ders.len() > MAX_ANCHORS {
            return Err(SigningError::Malformed(format!(
                "more than {MAX_ANCHORS} trust anchors"
            )));
        }
        let mut certs = Vec::with_capacity(ders.len());
        for der in ders {
            let cert = Certificate::from_der(&der)?;
            certs.push((der, cert));
        }
        Ok(Anchors { certs })
    }

    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }
}

/// The DER of each `CERTIFICATE` block in PEM text.
fn pem_certificates(text: &str) -> Vec<Vec<u8>> {
    use base64::Engine;
    let mut out = Vec::new();
    let mut body: Option<String> = None;
    for line in text.lines().map(str::trim) {
        match (&mut body, line) {
            (None, "-----BEGIN CERTIFICATE-----") => body = Some(String::new()),
            (Some(b), "-----END CERTIFICATE-----") => {
                if let Ok(der) = base64::engine::general_purpose::STANDARD.decode(b.as_bytes()) {
                    out.push(der);
                }
                body = None;
            }
            (Some(b), l) => b.push_str(l),
            (None, _) => {}
        }
    }
    out
}

/// What the end certificate must be fit for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Signing documents: keyUsage nonRepudiation or digitalSignature.
    Signer,
    /// Signing time-stamps: extendedKeyUsage timeStamping.
    TimeStamping,
}

/// The outcome of a trust check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrustStatus {
    /// Chains to an anchor.
    Trusted,
    /// Does not; the report says why.
    Untrusted,
    /// No anchors are configured.
    NotChecked,
}

#[derive(Clone, Debug, Serialize)]
pub struct Trust {
    pub status: TrustStatus,
    /// The anchor reached (subject), when trusted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchor: Option<String>,
    /// Why not, when untrusted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Trust {
    pub fn not_checked() -> Trust {
        Trust {
            status: TrustStatus::NotChecked,
            anchor: None,
            reason: None,
        }
    }

    fn untrusted(reason: impl Into<String>) -> Trust {
        Trust {
            status: TrustStatus::Untrusted,
            anchor: None,
            reason: Some(reason.into()),
        }
    }
}

fn valid_at(cert: &Certificate, at: i64) -> bool {
    let v = cert.tbs_certificate().validity();
    let secs = |t: x509_cert::time::Time| i64::try_from(t.to_unix_duration().as_secs()).ok();
    matches!(
        (secs(v.not_before), secs(v.not_after)),
        (Some(a), Some(b)) if a <= at && at <= b
    )
}

/// Whether `issuer`'s key signed `cert`.
fn signed_by(cert: &Certificate, issuer: &Certificate) -> bool {
    if cert.tbs_certificate().issuer() != issuer.tbs_certificate().subject() {
        return false;
    }
    let Ok(tbs) = cert.tbs_certificate().to_der() else {
        return false;
    };
    let Some(sig) = cert.signature().as_bytes() else {
        return false;
    };
    cms::verify(issuer, cert.signature_algorithm().oid, &tbs, sig)
}

fn is_ca(cert: &Certificate) -> bool {
    let tbs = cert.tbs_certificate();
    let ca = matches!(tbs.get_extension::<BasicConstraints>(), Ok(Some((_, bc))) if bc.ca);
    let may_sign_certs = match tbs.get_extension::<KeyUsage>() {
        Ok(Some((_, ku))) => ku.key_cert_sign(),
        Ok(None) => true,
        Err(_) => false,
    };
    ca && may_sign_certs
}

/// Extended key usages a document signer's certificate may name:
/// emailProtection, documentSigning (RFC 9336), anyExtendedKeyUsage,
/// Microsoft document signing and Adobe Authentic Documents.
const SIGNER_EKUS: [&str; 5] = [
    "1.3.6.1.5.5.7.3.4",
    "1.3.6.1.5.5.7.3.36",
    "2.5.29.37.0",
    "1.3.6.1.4.1.311.10.3.12",
    "1.2.840.113583.1.1.5",
];

fn fit_for(cert: &Certificate, purpose: Purpose) -> Result<(), String> {
    let tbs = cert.tbs_certificate();
    if matches!(tbs.get_extension::<BasicConstraints>(), Ok(Some((_, bc))) if bc.ca) {
        return Err("a CA certificate signs certificates, not documents or time-stamps".into());
    }
    let eku = tbs
        .get_extension::<ExtendedKeyUsage>()
        .map_err(|e| format!("the certificate's extended key usage: {e}"))?;
    match purpose {
        Purpose::Signer => {
            // A TLS server's or client's certificate is not a signer's.
            if let Some((_, eku)) = &eku
                && !eku
                    .0
                    .iter()
                    .any(|o| SIGNER_EKUS.iter().any(|s| o.to_string() == *s))
            {
                return Err(
                    "the signer certificate's extended key usage is not for signing documents"
                        .into(),
                );
            }
            match tbs.get_extension::<KeyUsage>() {
                Ok(Some((_, ku))) if !(ku.non_repudiation() || ku.digital_signature()) => Err(
                    "the signer certificate's key usage allows neither nonRepudiation nor digitalSignature"
                        .into(),
                ),
                Ok(_) => Ok(()),
                Err(e) => Err(format!("the signer certificate's key usage: {e}")),
            }
        }
        // RFC 3161 §2.3: timeStamping, critical, and nothing else.
        Purpose::TimeStamping => match eku {
            Some((true, eku)) if eku.0.as_slice() == [oids::KP_TIME_STAMPING] => Ok(()),
            _ => Err(
                "the TSA certificate is not for time-stamping only (a critical extendedKeyUsage of timeStamping)"
                    .into(),
            ),
        },
    }
}

/// Whether `leaf` (DER) chains to one of `anchors` through certificates in
/// `pool` (those the CMS carries), all valid at `at` (seconds since the epoch).
pub fn check(
    anchors: &Anchors,
    leaf_der: &[u8],
    pool: &[Vec<u8>],
    at: i64,
    purpose: Purpose,
) -> Trust {
    if anchors.is_empty() {
        return Trust::not_checked();
    }
    let leaf = match Certificate::from_der(leaf_der) {
        Ok(c) => c,
        Err(e) => return Trust::untrusted(format!("the certificate cannot be read: {e}")),
    };
    if let Err(reason) = fit_for(&leaf, purpose) {
        return Trust::untrusted(reason);
    }
    if !valid_at(&leaf, at) {
        return Trust::untrusted(format!(
            "the certificate is not valid at {}",
            super::tsp::rfc3339(at)
        ));
    }
    let pool: Vec<Certificate> = pool
        .iter()
        .filter_map(|d| Certificate::from_der(d).ok())
        .collect();
    let mut current = leaf.clone();
    let mut current_der = leaf_der.to_vec();
    for _ in 0..=MAX_DEPTH {
        // The certificate itself is an anchor (a self-signed signer configured as such).
        if let Some((_, a)) = anchors.certs.iter().find(|(d, _)| *d == current_der) {
            return Trust {
                status: TrustStatus::Trusted,
                anchor: Some(cms::subject(a)),
                reason: None,
            };
        }
        if let Some((_, a)) = anchors
            .certs
            .iter()
            .find(|(_, a)| signed_by(&current, a) && valid_at(a, at))
        {
            return Trust {
                status: TrustStatus::Trusted,
                anchor: Some(cms::subject(a)),
                reason: None,
            };
        }
        let next = pool.iter().find(|c| {
            c.tbs_certificate() != current.tbs_certificate()
                && signed_by(&current, c)
                && is_ca(c)
                && valid_at(c, at)
        });
        match next {
            Some(c) => {
                current = c.clone();
                current_der = match c.to_der() {
                    Ok(d) => d,
                    Err(e) => return Trust::untrusted(e.to_string()),
                };
            }
            None => {
                return Trust::untrusted(format!(
                    "no valid chain from {} to a trust anchor (issuer {} not found, not a CA, not valid then, or its signature does not verify)",
                    cms::subject(&leaf),
                    current.tbs_certificate().issuer()
                ));
            }
        }
    }
    Trust::untrusted(format!("the chain is longer than {MAX_DEPTH}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::soft::SoftBackend;

    const NOW: i64 = 1_790_000_000;

    #[test]
    fn a_certificate_is_trusted_only_through_an_anchor_valid_then_and_fit_for_its_use() {
        let signer = SoftBackend::ephemeral(NOW).unwrap().certificate().to_vec();
        let stranger = SoftBackend::ephemeral(NOW).unwrap().certificate().to_vec();
        let anchors = Anchors::from_der(vec![signer.clone()]).unwrap();
        let t = check(&anchors, &signer, &[], NOW, Purpose::Signer);
        assert_eq!(t.status, TrustStatus::Trusted, "{t:?}");
        assert!(t.anchor.unwrap().contains("NOT LEGALLY VALID"));

        let t = check(
            &anchors,
            &signer,
            &[],
            NOW - 10 * 365 * 86_400,
            Purpose::Signer,
        );
        assert_eq!(t.status, TrustStatus::Untrusted);
        assert!(t.reason.unwrap().contains("not valid at"));

        let others = Anchors::from_der(vec![stranger]).unwrap();
        let t = check(
            &others,
            &signer,
            std::slice::from_ref(&signer),
            NOW,
            Purpose::Signer,
        );
        assert_eq!(t.status, TrustStatus::Untrusted, "{t:?}");

        // A document-signing certificate is not a TSA's.
        let t = check(&anchors, &signer, &[], NOW, Purpose::TimeStamping);
        assert_eq!(t.status, TrustStatus::Untrusted);
        assert!(t.reason.unwrap().contains("time-stamping"));

        let t = check(&Anchors::default(), &signer, &[], NOW, Purpose::Signer);
        assert_eq!(t.status, TrustStatus::NotChecked);
    }

    #[test]
    fn pem_files_give_every_certificate_in_them() {
        use base64::Engine;
        let der = SoftBackend::ephemeral(NOW).unwrap().certificate().to_vec();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
        let block = format!("-----BEGIN CERTIFICATE-----\n{b64}\n-----END CERTIFICATE-----\n");
        let two = pem_certificates(&format!("junk\n{block}{block}"));
        assert_eq!(two, vec![der.clone(), der]);
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no certificate here").unwrap();
        assert!(Anchors::load(&[empty]).is_err());
        assert!(Anchors::load(&[dir.path().join("missing.pem")]).is_err());
    }
}
