//! Checks every signature in a PDF and says what it found: who signed,
//! whether the byte ranges cover the whole revision but the signature,
//! whether the digest and the signature hold, and whether the document was
//! changed after it. Trust (chains to configured anchors) and time-stamps
//! come with the PKCS#11 and B-T work.

use aws_lc_rs::digest::{Context, SHA256, digest};
use lopdf::{Document, Object, ObjectId};
use serde::Serialize;

use super::{SigningError, cms, pdf};
use crate::crypto;

#[derive(Debug, Serialize)]
pub struct Report {
    /// SHA-256 of the file, hex.
    pub sha256: String,
    pub signatures: Vec<SignatureReport>,
}

#[derive(Debug, Default, Serialize)]
pub struct SignatureReport {
    /// The field's name (/T), when a field points at the signature.
    pub field: Option<String>,
    /// The signer certificate's subject (RFC 4514).
    pub signer: Option<String>,
    pub sub_filter: Option<String>,
    /// The signing time the signature dictionary claims (/M), as written.
    pub claimed_time: Option<String>,
    pub reason: Option<String>,
    pub byte_range: Vec<i64>,
    /// The ranges start at 0, stay in the file, and leave out exactly the
    /// /Contents hex string.
    pub byte_range_ok: bool,
    /// SHA-256 of the ranges equals the message-digest attribute.
    pub digest_matches: bool,
    /// The CMS signature over the signed attributes verifies with the
    /// signer certificate's key.
    pub signature_verifies: bool,
    /// An ESS signing-certificate-v2 attribute names the signer certificate.
    pub signing_certificate_bound: bool,
    /// A CMS signing-time attribute is there (PAdES baseline forbids it).
    pub has_signing_time_attribute: bool,
    /// Bytes follow the signed revision: the file was changed after this
    /// signature (by a later signature, or by anything else).
    pub modified_after: bool,
    /// The bytes are what was signed: the byte range, the digest and the
    /// signature all hold, and the signed attributes name the certificate
    /// whose key signed (else another certificate on the same key could
    /// claim the signature). Who that certificate names is not vouched for:
    /// see `trust`.
    pub intact: bool,
    /// Whether the signer certificate chains to a trust anchor: always
    /// "not_checked" until trust anchors are configured, so a report never
    /// reads as vouching for the name in `signer`.
    pub trust: &'static str,
    /// Why the signature could not be read, when it could not.
    pub error: Option<String>,
}

/// The most signatures one file may ask us to check: each one hashes up to
/// the whole file, so a crafted file with thousands of signature
/// dictionaries would otherwise cost thousands of hashes of 50 MiB.
pub const MAX_SIGNATURES: usize = 64;

/// Verifies every signature in `bytes` (parsed as [`pdf::load`] does).
pub fn verify(bytes: &[u8]) -> Result<Report, SigningError> {
    let doc = pdf::load(bytes)?;
    let found = signature_dicts(&doc);
    if found.len() > MAX_SIGNATURES {
        return Err(SigningError::Malformed(format!(
            "more than {MAX_SIGNATURES} signatures"
        )));
    }
    let mut signatures: Vec<SignatureReport> = found
        .into_iter()
        .map(|(id, d)| check(bytes, &doc, id, d))
        .collect();
    signatures.sort_by_key(|s| s.byte_range.iter().skip(2).sum::<i64>());
    Ok(Report {
        sha256: hex(digest(&SHA256, bytes).as_ref()),
        signatures,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Signature dictionaries: /Type /Sig, or anything with /ByteRange and
/// /Contents that a signature field's /V points at.
fn signature_dicts(doc: &Document) -> Vec<(ObjectId, &lopdf::Dictionary)> {
    doc.objects
        .iter()
        .filter_map(|(id, o)| Some((*id, o.as_dict().ok()?)))
        .filter(|(_, d)| d.has(b"ByteRange") && d.has(b"Contents"))
        .filter(|(_, d)| {
            d.get(b"Type")
                .and_then(Object::as_name)
                .is_ok_and(|t| t == b"Sig")
                || d.has(b"Filter")
        })
        .collect()
}

fn text(d: &lopdf::Dictionary, key: &[u8]) -> Option<String> {
    let s = d.get(key).ok()?.as_str().ok()?;
    Some(match s.strip_prefix(&[0xFE, 0xFF]) {
        Some(utf16) => {
            let units: Vec<u16> = utf16
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        None => String::from_utf8_lossy(s).into_owned(),
    })
}

fn field_name(doc: &Document, sig: ObjectId) -> Option<String> {
    doc.objects.values().find_map(|o| {
        let d = o.as_dict().ok()?;
        (d.get(b"V").ok()?.as_reference().ok()? == sig).then(|| text(d, b"T"))?
    })
}

fn check(bytes: &[u8], doc: &Document, id: ObjectId, d: &lopdf::Dictionary) -> SignatureReport {
    let mut r = SignatureReport {
        trust: "not_checked",
        field: field_name(doc, id),
        sub_filter: d
            .get(b"SubFilter")
            .and_then(Object::as_name)
            .ok()
            .map(|n| String::from_utf8_lossy(n).into_owned()),
        claimed_time: text(d, b"M"),
        reason: text(d, b"Reason"),
        byte_range: d
            .get(b"ByteRange")
            .and_then(Object::as_array)
            .map(|a| a.iter().filter_map(|o| o.as_i64().ok()).collect())
            .unwrap_or_default(),
        ..SignatureReport::default()
    };
    if let Err(e) = check_signature(bytes, &mut r) {
        r.error = Some(e.to_string());
    }
    r.intact = r.error.is_none()
        && r.byte_range_ok
        && r.digest_matches
        && r.signature_verifies
        && r.signing_certificate_bound;
    r
}

fn check_signature(bytes: &[u8], r: &mut SignatureReport) -> Result<(), SigningError> {
    let bad = || {
        SigningError::Malformed("a signature's /ByteRange is not four offsets in the file".into())
    };
    let [a, b, c, d] = r.byte_range[..] else {
        return Err(bad());
    };
    let [a, b, c, d] = [a, b, c, d].map(|n| usize::try_from(n).ok());
    let (Some(0), Some(b), Some(c), Some(d)) = (a, b, c, d) else {
        return Err(bad());
    };
    let end = c.checked_add(d).ok_or_else(bad)?;
    if b >= c || end > bytes.len() {
        return Err(bad());
    }
    // The gap must be exactly the /Contents hex string: its own `<…>`.
    let gap = &bytes[b..c];
    let contents = gap
        .strip_prefix(b"<")
        .and_then(|g| g.strip_suffix(b">"))
        .filter(|g| g.iter().all(u8::is_ascii_hexdigit) && g.len() % 2 == 0);
    let Some(contents) = contents else {
        return Err(SigningError::Malformed(
            "the signature's byte ranges leave out more than its /Contents".into(),
        ));
    };
    r.byte_range_ok = true;
    r.modified_after = end < bytes.len();
    let der: Vec<u8> = contents
        .chunks_exact(2)
        .filter_map(|p| std::str::from_utf8(p).ok())
        .filter_map(|p| u8::from_str_radix(p, 16).ok())
        .collect();
    let parsed = cms::parse(&der)?;
    r.signer = Some(cms::subject(&parsed.signer));
    r.has_signing_time_attribute = parsed.has_signing_time;
    r.signing_certificate_bound = parsed.certificate_bound;
    if parsed.digest_algorithm == super::oids::SHA256 {
        let mut ctx = Context::new(&SHA256);
        ctx.update(&bytes[..b]);
        ctx.update(&bytes[c..end]);
        r.digest_matches = crypto::ct_eq(ctx.finish().as_ref(), &parsed.message_digest);
    }
    r.signature_verifies = cms::verify(
        &parsed.signer,
        parsed.signature_algorithm,
        &parsed.attrs_der,
        &parsed.signature,
    );
    Ok(())
}
