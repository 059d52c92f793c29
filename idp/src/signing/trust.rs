//! Whether a signer's (or a TSA's) certificate chains to a configured trust
//! anchor: a small path builder (RFC 5280 §6, the parts a document signature
//! needs) over the certificates a CMS carries and the anchors. Each link's
//! issuer and subject match and its signature verifies with the issuer's key
//! (aws-lc-rs); every certificate is valid at the time asked (the
//! time-stamp's, else now); each issuer is a CA (basicConstraints cA, and
//! keyCertSign when keyUsage is there) whose pathLenConstraint allows the
//! intermediates below it (§6.1.4 (k)–(n); an anchor's too, when it has
//! basicConstraints); no certificate of the path carries a critical
//! extension not processed here (§4.2); the end certificate may sign
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

/// The extensions this path builder processes, or may ignore with reason,
/// so a certificate may mark them critical: basicConstraints, keyUsage and
/// extendedKeyUsage (checked here), subjectAltName and issuerAltName (names,
/// no constraint; critical when the subject is empty, RFC 5280 §4.2.1.6),
/// the key identifiers (path building hints), and certificatePolicies (any
/// policy is accepted and none is required: RFC 5280 §6.1.1 with
/// user-initial-policy-set anyPolicy and initial-explicit-policy false, for
/// which a critical policies extension changes nothing). Name constraints,
/// policy constraints and mappings and inhibitAnyPolicy are not processed,
/// so a certificate that makes them critical is refused.
const PROCESSED_EXTENSIONS: [&str; 8] = [
    "2.5.29.19",
    "2.5.29.15",
    "2.5.29.37",
    "2.5.29.17",
    "2.5.29.18",
    "2.5.29.14",
    "2.5.29.35",
    "2.5.29.32",
];

/// A critical extension of `cert` that is not processed here: RFC 5280
/// §4.2 says such a certificate must be rejected.
fn unprocessed_critical(cert: &Certificate) -> Option<String> {
    cert.tbs_certificate()
        .extensions()?
        .iter()
        .filter(|e| e.critical)
        .map(|e| e.extn_id.to_string())
        .find(|oid| !PROCESSED_EXTENSIONS.contains(&oid.as_str()))
}

/// Whether `cert` is not self-issued (RFC 5280 §6.1: self-issued
/// certificates do not count towards a pathLenConstraint).
fn counts_in_path(cert: &Certificate) -> bool {
    cert.tbs_certificate().issuer() != cert.tbs_certificate().subject()
}

/// Why `issuer` may not issue the certificate below it, which has `below`
/// non-self-issued intermediate certificates under it down to the end
/// certificate (RFC 5280 §6.1.4 (k), (l), (m), (n)): none when it may. An
/// anchor (`anchor`) is trusted by configuration and may be a version 1
/// certificate without basicConstraints; when it has them, they hold too.
fn may_not_issue(issuer: &Certificate, below: usize, anchor: bool) -> Option<String> {
    let tbs = issuer.tbs_certificate();
    let name = || cms::subject(issuer);
    match tbs.get_extension::<BasicConstraints>() {
        Ok(Some((_, bc))) if !bc.ca => return Some(format!("{} is not a CA", name())),
        Ok(Some((_, bc))) => {
            if let Some(max) = bc.path_len_constraint
                && below > usize::from(max)
            {
                return Some(format!(
                    "{} allows {max} intermediate certificate(s) below it (pathLenConstraint), the chain has {below}",
                    name()
                ));
            }
        }
        Ok(None) if anchor => {}
        Ok(None) => return Some(format!("{} is not a CA (no basicConstraints)", name())),
        Err(e) => return Some(format!("{}: basicConstraints: {e}", name())),
    }
    match tbs.get_extension::<KeyUsage>() {
        Ok(Some((_, ku))) if !ku.key_cert_sign() => {
            return Some(format!("{}'s key usage does not allow keyCertSign", name()));
        }
        Ok(_) => {}
        Err(e) => return Some(format!("{}: key usage: {e}", name())),
    }
    if !anchor && let Some(oid) = unprocessed_critical(issuer) {
        return Some(format!(
            "{} has a critical extension {oid} that is not processed (RFC 5280 §4.2)",
            name()
        ));
    }
    None
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
    if let Some(oid) = unprocessed_critical(&leaf) {
        return Trust::untrusted(format!(
            "the certificate has a critical extension {oid} that is not processed (RFC 5280 §4.2)"
        ));
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
    // Non-self-issued intermediates between the next issuer and the leaf.
    let mut below = 0usize;
    for _ in 0..=MAX_DEPTH {
        // The certificate itself is an anchor (a self-signed signer configured as such).
        if let Some((_, a)) = anchors.certs.iter().find(|(d, _)| *d == current_der) {
            return Trust {
                status: TrustStatus::Trusted,
                anchor: Some(cms::subject(a)),
                reason: None,
            };
        }
        // Why the issuers that signed `current` could not be used, if any did.
        let mut refused: Option<String> = None;
        let mut usable = |c: &Certificate, anchor: bool| match may_not_issue(c, below, anchor) {
            None => true,
            Some(why) => {
                refused.get_or_insert(why);
                false
            }
        };
        if let Some((_, a)) = anchors
            .certs
            .iter()
            .find(|(_, a)| signed_by(&current, a) && valid_at(a, at) && usable(a, true))
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
                && valid_at(c, at)
                && usable(c, false)
        });
        match next {
            Some(c) => {
                if counts_in_path(c) {
                    below += 1;
                }
                current = c.clone();
                current_der = match c.to_der() {
                    Ok(d) => d,
                    Err(e) => return Trust::untrusted(e.to_string()),
                };
            }
            None => {
                if let Some(why) = refused {
                    return Trust::untrusted(format!(
                        "no valid chain from {} to a trust anchor: {why}",
                        cms::subject(&leaf)
                    ));
                }
                return Trust::untrusted(format!(
                    "no valid chain from {} to a trust anchor (issuer {} not found, not valid then, or its signature does not verify)",
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

    /// A test PKI made by `openssl` in a temp dir: P-256 keys, certificates
    /// in DER, each section of `CONFIG` an extension profile.
    struct Pki {
        dir: tempfile::TempDir,
    }

    const CONFIG: &str = "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n\
        [ca]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n\
        [ca0]\nbasicConstraints = critical,CA:TRUE,pathlen:0\nkeyUsage = critical,keyCertSign,cRLSign\n\
        [ca_odd]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign\n1.2.3.4.5 = critical,ASN1:NULL\n\
        [ca_names]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign\nnameConstraints = critical,permitted;email:.binhphuoc.gov.vn\n\
        [leaf]\nbasicConstraints = CA:FALSE\nkeyUsage = critical,digitalSignature,nonRepudiation\nsubjectAltName = critical,email:tamtt@binhphuoc.gov.vn\n\
        [leaf_odd]\nbasicConstraints = CA:FALSE\nkeyUsage = critical,digitalSignature,nonRepudiation\n1.2.3.4.5 = critical,ASN1:NULL\n";

    impl Pki {
        fn new() -> Pki {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("openssl.cnf"), CONFIG).unwrap();
            Pki { dir }
        }

        fn openssl(&self, args: &[&str]) {
            let out = std::process::Command::new("openssl")
                .current_dir(self.dir.path())
                .args(args)
                .output()
                .expect("openssl");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }

        fn key(&self, name: &str) {
            let key = format!("{name}.key");
            self.openssl(&[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                &key,
            ]);
        }

        /// A self-signed root with the extensions of `profile`.
        fn root(&self, name: &str, profile: &str) -> Vec<u8> {
            self.key(name);
            let (key, out, subj) = (
                format!("{name}.key"),
                format!("{name}.der"),
                format!("/CN={name}"),
            );
            self.openssl(&[
                "req",
                "-x509",
                "-new",
                "-key",
                &key,
                "-subj",
                &subj,
                "-days",
                "30",
                "-config",
                "openssl.cnf",
                "-extensions",
                profile,
                "-outform",
                "DER",
                "-out",
                &out,
            ]);
            std::fs::read(self.dir.path().join(out)).unwrap()
        }

        /// `name`, issued by `issuer` with the extensions of `profile`.
        fn issue(&self, name: &str, issuer: &str, profile: &str) -> Vec<u8> {
            self.key(name);
            let (key, csr, out, subj) = (
                format!("{name}.key"),
                format!("{name}.csr"),
                format!("{name}.der"),
                format!("/CN={name}"),
            );
            self.openssl(&[
                "req",
                "-new",
                "-key",
                &key,
                "-subj",
                &subj,
                "-config",
                "openssl.cnf",
                "-out",
                &csr,
            ]);
            let (ca_cert, ca_key) = (format!("{issuer}.der"), format!("{issuer}.key"));
            self.openssl(&[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                &ca_cert,
                "-CAform",
                "DER",
                "-CAkey",
                &ca_key,
                "-set_serial",
                "7",
                "-days",
                "30",
                "-extfile",
                "openssl.cnf",
                "-extensions",
                profile,
                "-outform",
                "DER",
                "-out",
                &out,
            ]);
            std::fs::read(self.dir.path().join(out)).unwrap()
        }
    }

    #[test]
    fn path_length_constraints_and_unprocessed_critical_extensions_break_the_chain() {
        // A minute on: the certificates are made from now on, valid 30 days.
        let now = crate::now() + 60;
        let pki = Pki::new();
        let root = pki.root("Root", "ca");
        let root0 = pki.root("Root0", "ca0");
        let anchors = Anchors::from_der(vec![root.clone(), root0.clone()]).unwrap();
        let trusted = |leaf: &[u8], pool: &[Vec<u8>]| {
            let t = check(&anchors, leaf, pool, now, Purpose::Signer);
            assert_eq!(t.status, TrustStatus::Trusted, "{t:?}");
        };
        let untrusted = |leaf: &[u8], pool: &[Vec<u8>], says: &str| {
            let t = check(&anchors, leaf, pool, now, Purpose::Signer);
            assert_eq!(t.status, TrustStatus::Untrusted, "{t:?}");
            let reason = t.reason.unwrap();
            assert!(reason.contains(says), "{says:?} in {reason}");
        };

        // Two intermediates under a root without a path length: trusted.
        let inter = pki.issue("Inter", "Root", "ca");
        let sub = pki.issue("Sub", "Inter", "ca");
        let leaf = pki.issue("Leaf", "Sub", "leaf");
        trusted(&leaf, &[sub.clone(), inter.clone()]);
        // Directly under a pathlen:0 anchor: trusted; one intermediate
        // between them is one too many (the anchor's constraint holds).
        let direct = pki.issue("Direct", "Root0", "leaf");
        trusted(&direct, &[]);
        let inter_r0 = pki.issue("InterR0", "Root0", "ca");
        let leaf_r0 = pki.issue("LeafR0", "InterR0", "leaf");
        untrusted(&leaf_r0, &[inter_r0], "pathLenConstraint");
        // An intermediate with pathlen:0 with another CA under it.
        let inter0 = pki.issue("Inter0", "Root", "ca0");
        let sub0 = pki.issue("Sub0", "Inter0", "ca");
        let leaf0 = pki.issue("Leaf0", "Sub0", "leaf");
        untrusted(&leaf0, &[sub0, inter0.clone()], "Inter0 allows 0");
        // …and it may still issue end certificates.
        let leaf00 = pki.issue("Leaf00", "Inter0", "leaf");
        trusted(&leaf00, std::slice::from_ref(&inter0));

        // A critical extension nobody here processes: on the issuer, on
        // name constraints (not processed either), on the end certificate.
        let odd = pki.issue("Odd", "Root", "ca_odd");
        let under_odd = pki.issue("UnderOdd", "Odd", "leaf");
        untrusted(&under_odd, &[odd], "critical extension 1.2.3.4.5");
        let named = pki.issue("Named", "Root", "ca_names");
        let under_named = pki.issue("UnderNamed", "Named", "leaf");
        untrusted(&under_named, &[named], "critical extension 2.5.29.30");
        let odd_leaf = pki.issue("OddLeaf", "Inter", "leaf_odd");
        untrusted(
            &odd_leaf,
            std::slice::from_ref(&inter),
            "critical extension 1.2.3.4.5",
        );
        // An end certificate is not an issuer.
        let under_leaf = pki.issue("UnderLeaf", "Leaf", "leaf");
        untrusted(&under_leaf, &[leaf, sub, inter], "is not a CA");
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
