//! Checks every signature in a PDF and says what it found: who signed and
//! when (the claimed /M and the time-stamp's genTime, each named as what it
//! is), whether the bytes are what was signed, the time-stamp, whether the
//! certificates chain to the configured trust anchors, and what changed
//! after each signature; then one verdict for the file.
//!
//! A signature is found in the bytes, not only in the latest revision: each
//! `/ByteRange [0 b c d]` whose gap is a hex string names the revision it
//! signed (the first c+d bytes). That revision is parsed on its own, the
//! signature dictionary must lie inside its signed bytes with its /Contents
//! exactly the gap, and what the report says about the signature (/M,
//! /Reason, /Name, the field) is read from there: a later update that
//! rewrites the dictionary, or removes the field, cannot change what the
//! report says was signed, and is reported itself (ISO 32000-1 §12.8.1,
//! ETSI EN 319 142-1 §5.4 on what updates may follow a signature).

use std::collections::{HashMap, HashSet};

use aws_lc_rs::digest::{Context, SHA256, digest};
use lopdf::{Document, Object, ObjectId, xref::XrefEntry};
use serde::Serialize;

use super::changes::{changes, list, same_value};
use super::syntax::Lexer;
use super::trust::{self, Anchors, Purpose, Trust, TrustStatus};
use super::{SigningError, cms, pdf, tsp};
use crate::crypto;

#[derive(Debug, Serialize)]
pub struct Report {
    /// SHA-256 of the file, hex.
    pub sha256: String,
    pub signatures: Vec<SignatureReport>,
    /// One word for the whole file: `valid` (every signature intact, its
    /// time-stamp good, chains to an anchor, nothing but signatures added
    /// after), `valid_trust_not_checked` (the same, no anchors configured),
    /// `untrusted`, `modified` (intact, but changed after a signature in a
    /// way signatures may not allow, or a signature's field removed or
    /// replaced), `invalid`, or `no_signatures`.
    pub verdict: &'static str,
    /// Why the verdict is not `valid`, when it is not.
    pub verdict_reason: Option<String>,
}

/// What a signature-time-stamp-token (PAdES B-T) says.
#[derive(Debug, Default, Serialize)]
pub struct TimestampReport {
    /// The token's imprint is the SHA-256 of this signature's value.
    pub imprint_matches: bool,
    /// The token's own signature verifies with its TSA certificate (and its
    /// signed attributes bind that certificate).
    pub signature_verifies: bool,
    /// The TSA certificate's subject.
    pub tsa: Option<String>,
    /// When the TSA saw the signature (RFC 3339, UTC): proved, unlike /M.
    pub gen_time: Option<String>,
    /// Whether the TSA certificate chains to a trust anchor (at genTime).
    pub trust: Option<Trust>,
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SignatureReport {
    /// The field's name (/T) in the revision signed.
    pub field: Option<String>,
    /// The signer certificate's subject (RFC 4514).
    pub signer: Option<String>,
    /// /Name in the signature dictionary as signed (a claim, like /M).
    pub name: Option<String>,
    pub sub_filter: Option<String>,
    /// A document time-stamp (PAdES B-LTA's, /SubFilter /ETSI.RFC3161): a
    /// TSA's token over the bytes, no person's signature; `signer` and
    /// `trust` are the TSA's, `time_stamped_at` its time.
    pub document_timestamp: bool,
    /// The signing time the signature dictionary claims (/M), as written in
    /// the revision signed: the signer's clock, not proved.
    pub claimed_time: Option<String>,
    /// The time-stamp's genTime (RFC 3339), when a valid time-stamp proves
    /// the signature existed then.
    pub time_stamped_at: Option<String>,
    pub reason: Option<String>,
    pub byte_range: Vec<i64>,
    /// Offset where the revision this signature signed ends.
    pub revision_end: usize,
    /// The /ByteRange is four direct non-negative integers starting at 0,
    /// ending at a revision's %%EOF, leaving out exactly the /Contents hex
    /// string of a signature dictionary that lies in the signed bytes.
    pub byte_range_ok: bool,
    /// SHA-256 of the ranges equals the message-digest attribute.
    pub digest_matches: bool,
    /// The CMS signature over the signed attributes (as received) verifies
    /// with the signer certificate's key.
    pub signature_verifies: bool,
    /// An ESS signing-certificate-v2 attribute names the signer certificate.
    pub signing_certificate_bound: bool,
    /// A CMS signing-time attribute is there (PAdES baseline forbids it).
    pub has_signing_time_attribute: bool,
    /// The signature-time-stamp-token, when there is one.
    pub timestamp: Option<TimestampReport>,
    /// Bytes follow the signed revision: the file was changed after this
    /// signature (by a later signature, or by anything else).
    pub modified_after: bool,
    /// What the later revisions changed: `none`, `signatures_only` (new
    /// signatures, their fields and widgets, the form's field list, DSS),
    /// or `other`.
    pub changes_after: &'static str,
    /// What `other` changes are, when there are.
    pub changes_detail: Option<String>,
    /// No field of the latest revision points at this signature any more.
    pub removed: bool,
    /// A later revision rewrote this signature's dictionary.
    pub replaced: bool,
    /// The bytes are what was signed: the byte range, the digest and the
    /// signature all hold, and the signed attributes name the certificate
    /// whose key signed (else another certificate on the same key could
    /// claim the signature). Who that certificate names: see `trust`.
    pub intact: bool,
    /// Whether the signer certificate chains to a trust anchor, at the
    /// time-stamp's time (else now): `not_checked` without anchors.
    pub trust: Trust,
    /// Why the signature could not be read, when it could not.
    pub error: Option<String>,
    /// The signature dictionary this report is of.
    #[serde(skip)]
    dictionary: Option<ObjectId>,
    /// The signature dictionaries later signature widgets name.
    #[serde(skip)]
    claims: Vec<super::changes::Claim>,
}

impl Default for SignatureReport {
    fn default() -> Self {
        SignatureReport {
            field: None,
            signer: None,
            name: None,
            sub_filter: None,
            document_timestamp: false,
            claimed_time: None,
            time_stamped_at: None,
            reason: None,
            byte_range: Vec::new(),
            revision_end: 0,
            byte_range_ok: false,
            digest_matches: false,
            signature_verifies: false,
            signing_certificate_bound: false,
            has_signing_time_attribute: false,
            timestamp: None,
            modified_after: false,
            changes_after: "none",
            changes_detail: None,
            removed: false,
            replaced: false,
            intact: false,
            trust: Trust::not_checked(),
            error: None,
            dictionary: None,
            claims: Vec::new(),
        }
    }
}

/// The most signatures one file may ask us to check: each one hashes up to
/// the whole file (and its revision is parsed), so a crafted file with
/// thousands of signature dictionaries would otherwise cost thousands of
/// hashes of 50 MiB.
pub const MAX_SIGNATURES: usize = 64;

/// Verifies every signature in `bytes` without trust anchors, at the
/// present time.
pub fn verify(bytes: &[u8]) -> Result<Report, SigningError> {
    verify_with(bytes, &Anchors::default(), crate::now())
}

/// The fewest bytes one verification may parse across the file's
/// revisions (the latest and each earlier one a signature signed).
const MIN_PARSE_BUDGET: usize = 256 * 1024 * 1024;

/// How many times its own size a file may be parsed in one verification.
const PARSE_BUDGET_FACTOR: usize = 8;

/// The most bytes verifying a file of `len` bytes may parse: each revision
/// a signature signed is parsed on its own, so 64 signatures over a 50 MiB
/// file would otherwise be 64 parses of up to 50 MiB in one request.
pub fn parse_budget(len: usize) -> usize {
    len.saturating_mul(PARSE_BUDGET_FACTOR)
        .max(MIN_PARSE_BUDGET)
}

/// What one verification may spend: bytes parsed, and a deadline after
/// which no further revision is parsed (the caller stops waiting at
/// [`super::PARSE_TIME_LIMIT`]; this makes the thread stop too).
#[derive(Clone, Copy, Debug)]
pub(super) struct Limits {
    pub parse_budget: usize,
    pub deadline: std::time::Instant,
}

impl Limits {
    fn for_file(len: usize) -> Limits {
        Limits {
            parse_budget: parse_budget(len),
            deadline: std::time::Instant::now() + super::PARSE_TIME_LIMIT,
        }
    }
}

/// Verifies every signature in `bytes` (parsed as [`pdf::load`] does),
/// checking certificates against `anchors` at the time-stamp's time, or
/// `now` (seconds since the epoch) for a signature without one. Refuses a
/// file whose revisions add up to more than [`parse_budget`], and gives up
/// after [`super::PARSE_TIME_LIMIT`].
pub fn verify_with(bytes: &[u8], anchors: &Anchors, now: i64) -> Result<Report, SigningError> {
    verify_limited(bytes, anchors, now, Limits::for_file(bytes.len()))
}

pub(super) fn verify_limited(
    bytes: &[u8],
    anchors: &Anchors,
    now: i64,
    limits: Limits,
) -> Result<Report, SigningError> {
    let latest = pdf::load(bytes)?;
    let listed = signature_dicts(&latest);
    if listed.len() > MAX_SIGNATURES {
        return Err(SigningError::Malformed(format!(
            "more than {MAX_SIGNATURES} signatures"
        )));
    }
    let mut found = byte_ranges(bytes)?;
    found.sort_by_key(Range::end);
    // Every revision to parse is known before the first is: a file over
    // the budget is refused before any of them is read.
    let mut ends: Vec<usize> = found
        .iter()
        .map(Range::end)
        .filter(|e| *e != bytes.len())
        .collect();
    ends.dedup();
    let parse = ends
        .iter()
        .fold(bytes.len(), |total, e| total.saturating_add(*e));
    if parse > limits.parse_budget {
        return Err(SigningError::TooManyRevisions {
            parse,
            limit: limits.parse_budget,
        });
    }
    // Each earlier revision is parsed once, on its own bytes, and dropped
    // before the next: at most the latest and one other are in memory.
    let mut revision: Option<(usize, Result<Document, String>)> = None;
    let mut signatures = Vec::new();
    let mut matched: Vec<ObjectId> = Vec::new();
    for range in found {
        let end = range.end();
        if end != bytes.len() && revision.as_ref().is_none_or(|(e, _)| *e != end) {
            if std::time::Instant::now() > limits.deadline {
                return Err(SigningError::Timeout);
            }
            // The previous one goes before the next is read.
            drop(revision.take());
            revision = Some((end, pdf::load(&bytes[..end]).map_err(|e| e.to_string())));
        }
        let doc = match &revision {
            Some((e, doc)) if *e == end => doc.as_ref(),
            _ => Ok(&latest),
        };
        let mut r = SignatureReport {
            byte_range: range.numbers.to_vec(),
            revision_end: end,
            ..SignatureReport::default()
        };
        match doc {
            Ok(doc) => {
                if let Some(id) = check(bytes, doc, &latest, &range, anchors, now, &mut r) {
                    matched.push(id);
                    r.dictionary = Some(id);
                }
            }
            Err(e) => r.error = Some(format!("the signed revision cannot be read: {e}")),
        }
        signatures.push(r);
    }
    // A signature dictionary of the latest revision that no well-formed
    // byte range found is still reported, as broken.
    for (id, d) in listed {
        if matched.contains(&id) {
            continue;
        }
        signatures.push(SignatureReport {
            field: field_name(&latest, id),
            sub_filter: name(d, b"SubFilter"),
            claimed_time: text(d, b"M"),
            reason: text(d, b"Reason"),
            name: text(d, b"Name"),
            byte_range: d
                .get(b"ByteRange")
                .and_then(Object::as_array)
                .map(|a| a.iter().filter_map(|o| o.as_i64().ok()).collect())
                .unwrap_or_default(),
            error: Some(
                "the signature's /ByteRange is not four direct non-negative integers from 0 that leave out exactly its /Contents and end at a revision's %%EOF"
                    .into(),
            ),
            ..SignatureReport::default()
        });
    }
    signatures.sort_by_key(|s| s.revision_end);
    // A widget added after a signature must show a later signature found
    // intact, each its own: a widget that only looks like one (or names
    // this signature, or one another widget shows) may draw anything over
    // the page.
    let intact: Vec<(ObjectId, usize)> = signatures
        .iter()
        .filter(|s| s.intact)
        .filter_map(|s| Some((s.dictionary?, s.revision_end)))
        .collect();
    for s in &mut signatures {
        if s.changes_after != "signatures_only" {
            continue;
        }
        let later = |id: &ObjectId| {
            intact
                .iter()
                .any(|(i, end)| i == id && *end > s.revision_end)
        };
        let mut shown: HashMap<ObjectId, usize> = HashMap::new();
        for (_, id) in &s.claims {
            *shown.entry(*id).or_default() += 1;
        }
        let twice = |id: &ObjectId| shown.get(id).is_some_and(|&n| n > 1);
        if let Some((_, id)) = s.claims.iter().find(|(_, id)| !later(id) || twice(id)) {
            s.changes_after = "other";
            s.changes_detail = Some(format!(
                "object {} {}: a widget added later shows a signature that is not one found intact",
                id.0, id.1
            ));
        }
    }
    // A certification that allows no change (DocMDP P=1; it is the first
    // signature, ISO 32000-1 §12.8.2.2) is broken by any later revision,
    // another signature included.
    if pdf::docmdp_permission(&latest) == Some(1)
        && let Some(first) = signatures.first_mut()
        && first.changes_after != "none"
    {
        first.changes_after = "other";
        first.changes_detail = Some(
            "the document was certified with no changes allowed (DocMDP P=1) and changed after"
                .into(),
        );
    }
    let (verdict, verdict_reason) = verdict(&signatures);
    Ok(Report {
        sha256: hex(digest(&SHA256, bytes).as_ref()),
        signatures,
        verdict,
        verdict_reason,
    })
}

/// Whether the office may seal a document with this report: the clerk
/// issues what an official approved, so its signatures must all hold and
/// one of them must be a person's signature found intact, chaining to the
/// trust anchors when they are configured (`trust_required`). A document
/// time-stamp approves nothing.
pub fn check_sealable(report: &Report, trust_required: bool) -> Result<(), SigningError> {
    if let ("invalid" | "modified", reason) = (report.verdict, &report.verdict_reason) {
        return Err(SigningError::SignatureBroken(
            reason.clone().unwrap_or_else(|| report.verdict.into()),
        ));
    }
    // One untrusted signature is enough to refuse: the seal vouches for
    // every signature under it.
    if trust_required && report.verdict != "valid" {
        return Err(SigningError::NotApproved(
            report
                .verdict_reason
                .clone()
                .unwrap_or_else(|| report.verdict.into()),
        ));
    }
    let approved = report.signatures.iter().any(|s| {
        s.intact
            && !s.document_timestamp
            && (!trust_required || s.trust.status == TrustStatus::Trusted)
    });
    if !approved {
        return Err(SigningError::NotApproved(
            "it carries no intact signature of a person".into(),
        ));
    }
    Ok(())
}

fn verdict(signatures: &[SignatureReport]) -> (&'static str, Option<String>) {
    if signatures.is_empty() {
        return ("no_signatures", Some("the file has no signature".into()));
    }
    let which = |i: usize, s: &SignatureReport| {
        format!(
            "signature {} ({})",
            i + 1,
            s.field.as_deref().unwrap_or("no field")
        )
    };
    for (i, s) in signatures.iter().enumerate() {
        if !s.intact {
            return ("invalid", Some(format!("{} is not intact", which(i, s))));
        }
        if let Some(t) = &s.timestamp
            && (t.error.is_some() || !t.imprint_matches || !t.signature_verifies)
        {
            return (
                "invalid",
                Some(format!("{}: its time-stamp does not hold", which(i, s))),
            );
        }
    }
    for (i, s) in signatures.iter().enumerate() {
        if s.removed || s.replaced {
            return (
                "modified",
                Some(format!(
                    "{}: a later update {} it",
                    which(i, s),
                    if s.replaced { "rewrote" } else { "removed" }
                )),
            );
        }
        if s.changes_after == "other" {
            return (
                "modified",
                Some(format!(
                    "{}: changed after signing: {}",
                    which(i, s),
                    s.changes_detail.as_deref().unwrap_or("")
                )),
            );
        }
    }
    let tsa_untrusted = |s: &SignatureReport| {
        s.timestamp
            .as_ref()
            .and_then(|t| t.trust.as_ref())
            .is_some_and(|t| t.status == TrustStatus::Untrusted)
    };
    for (i, s) in signatures.iter().enumerate() {
        if s.trust.status == TrustStatus::Untrusted || tsa_untrusted(s) {
            return (
                "untrusted",
                Some(format!(
                    "{}: {}",
                    which(i, s),
                    s.trust
                        .reason
                        .clone()
                        .unwrap_or_else(|| "its time-stamp's TSA is not trusted".into())
                )),
            );
        }
    }
    if signatures
        .iter()
        .any(|s| s.trust.status == TrustStatus::NotChecked)
    {
        return (
            "valid_trust_not_checked",
            Some("no trust anchors are configured: who signed is not vouched for".into()),
        );
    }
    ("valid", None)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A `/ByteRange [0 b c d]` found in the bytes, at `at`.
#[derive(Debug)]
struct Range {
    at: usize,
    numbers: [i64; 4],
    b: usize,
    c: usize,
    d: usize,
}

impl Range {
    fn end(&self) -> usize {
        self.c + self.d
    }
}

/// Four direct non-negative integers in brackets right after `at`.
fn four_integers(bytes: &[u8], at: usize) -> Option<[u64; 4]> {
    let mut pos = at;
    let skip = |pos: &mut usize| {
        while bytes.get(*pos).is_some_and(u8::is_ascii_whitespace) {
            *pos += 1;
        }
    };
    skip(&mut pos);
    (bytes.get(pos) == Some(&b'[')).then_some(())?;
    pos += 1;
    let mut out = [0u64; 4];
    for n in &mut out {
        skip(&mut pos);
        let digits = bytes[pos..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 || digits > 12 {
            return None;
        }
        *n = std::str::from_utf8(&bytes[pos..pos + digits])
            .ok()?
            .parse()
            .ok()?;
        pos += digits;
        // `1.5`, `3 0 R`-like tails are not direct integers.
        if !bytes
            .get(pos)
            .is_some_and(|b| b.is_ascii_whitespace() || *b == b']')
        {
            return None;
        }
    }
    skip(&mut pos);
    (bytes.get(pos) == Some(&b']')).then_some(out)
}

/// The most /ByteRange arrays looked at in one file.
const MAX_CANDIDATES: usize = 4 * MAX_SIGNATURES;

/// The largest signature /Contents read (hex, with its brackets): far more
/// than a CMS signature with a chain and a time-stamp needs.
const MAX_GAP_BYTES: usize = 1024 * 1024;

/// Every well-formed signature byte range in the file: `[0 b c d]` with
/// b < c, c + d within the file, the gap a `<hex>` string, the /ByteRange
/// itself in the signed bytes, and the signed bytes a whole revision
/// (ending at %%EOF).
fn byte_ranges(bytes: &[u8]) -> Result<Vec<Range>, SigningError> {
    let mut out: Vec<Range> = Vec::new();
    let mut examined = 0usize;
    let needle = b"/ByteRange";
    for at in memchr::memmem::find_iter(bytes, needle) {
        let from = at + needle.len();
        let Some([a, b, c, d]) = four_integers(bytes, from) else {
            continue;
        };
        let [b, c, d] = [b, c, d].map(|n| usize::try_from(n).unwrap_or(usize::MAX));
        let Some(end) = c.checked_add(d) else {
            continue;
        };
        if a != 0 || b >= c || end > bytes.len() || (at >= b && at < c) {
            continue;
        }
        // Cheap checks first, and every candidate counted: a file of
        // copied /ByteRange arrays over one huge gap costs a bounded amount.
        examined += 1;
        if examined > MAX_CANDIDATES {
            return Err(SigningError::Malformed(format!(
                "more than {MAX_CANDIDATES} signature byte ranges"
            )));
        }
        if c - b > MAX_GAP_BYTES || out.iter().any(|r| r.b == b && r.c == c) {
            continue;
        }
        let revision = bytes[..end].trim_ascii_end();
        if !revision.ends_with(b"%%EOF") {
            continue;
        }
        let gap = &bytes[b..c];
        let hex_ok = gap.len() >= 2
            && gap[0] == b'<'
            && gap[gap.len() - 1] == b'>'
            && gap[1..gap.len() - 1].iter().all(u8::is_ascii_hexdigit)
            && gap.len().is_multiple_of(2);
        if !hex_ok {
            continue;
        }
        if out.len() >= MAX_SIGNATURES {
            return Err(SigningError::Malformed(format!(
                "more than {MAX_SIGNATURES} signatures"
            )));
        }
        out.push(Range {
            at,
            numbers: [0, b as i64, c as i64, d as i64],
            b,
            c,
            d,
        });
    }
    Ok(out)
}

/// Signature dictionaries: /Type /Sig, or anything with /ByteRange and
/// /Contents that has a /Filter.
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

fn name(d: &lopdf::Dictionary, key: &[u8]) -> Option<String> {
    d.get(key)
        .and_then(Object::as_name)
        .ok()
        .map(|n| String::from_utf8_lossy(n).into_owned())
}

fn field_name(doc: &Document, sig: ObjectId) -> Option<String> {
    doc.objects.values().find_map(|o| {
        let d = o.as_dict().ok()?;
        (d.get(b"V").ok()?.as_reference().ok()? == sig).then(|| text(d, b"T"))?
    })
}

/// Whether a field reachable from the form (/AcroForm /Fields, then /Kids)
/// has `sig` as its value: an orphaned field object does not count. Each
/// field is looked at once, at most [`MAX_FIELDS`] of them, at most 16 deep.
fn points_at(doc: &Document, sig: ObjectId) -> bool {
    let deref = |o: &Object| -> Option<lopdf::Dictionary> {
        match o {
            Object::Reference(id) => doc.get_dictionary(*id).ok().cloned(),
            Object::Dictionary(d) => Some(d.clone()),
            _ => None,
        }
    };
    let Some(form) = doc
        .catalog()
        .ok()
        .and_then(|c| c.get(b"AcroForm").ok())
        .and_then(deref)
    else {
        return false;
    };
    let mut todo: Vec<(Object, usize)> = list(&form, b"Fields", doc)
        .into_iter()
        .take(MAX_FIELDS)
        .map(|f| (f, 0))
        .collect();
    let mut seen: HashSet<ObjectId> = HashSet::new();
    let mut taken = todo.len();
    while let Some((f, depth)) = todo.pop() {
        if let Object::Reference(id) = f
            && !seen.insert(id)
        {
            continue;
        }
        let Some(d) = deref(&f) else { continue };
        if d.get(b"V").ok().and_then(|v| v.as_reference().ok()) == Some(sig) {
            return true;
        }
        if depth < 16 {
            let kids = list(&d, b"Kids", doc);
            let room = MAX_FIELDS.saturating_sub(taken).min(kids.len());
            taken += room;
            todo.extend(kids.into_iter().take(room).map(|k| (k, depth + 1)));
        }
    }
    false
}

/// The most fields [`points_at`] looks at.
const MAX_FIELDS: usize = 100_000;

/// An object written after `from` that no cross-reference section lists:
/// the first `N G obj` at the start of a line (as a viewer rebuilding its
/// cross-reference data on a failed lookup finds objects, the last of a
/// number winning) at an offset no section names. Updates after a
/// signature hold only what their sections list.
fn unlisted_object(bytes: &[u8], from: usize) -> Option<String> {
    let pdf = super::reader::from_header(bytes).ok()?;
    let header = bytes.len() - pdf.len();
    let listed = super::reader::listed_offsets(bytes).ok()?;
    let mut line = from.saturating_sub(header);
    while line < pdf.len() {
        let mut at = line;
        while at < pdf.len() && matches!(pdf[at], b' ' | b'\t' | b'\x0c' | b'\0') {
            at += 1;
        }
        if pdf[at..].first().is_some_and(u8::is_ascii_digit)
            && let Ok((num, generation)) = Lexer::new(pdf, at).object_header()
            && !listed.contains(&at)
        {
            return Some(format!(
                "object {num} {generation} written after signing at offset {} is in no \
                 cross-reference section (a viewer rebuilding them would read it)",
                at + header
            ));
        }
        line = memchr::memchr2(b'\n', b'\r', &pdf[line..]).map_or(pdf.len(), |i| line + i + 1);
    }
    None
}

fn decode_hex(hex: &[u8]) -> Vec<u8> {
    hex.chunks_exact(2)
        .filter_map(|p| std::str::from_utf8(p).ok())
        .filter_map(|p| u8::from_str_radix(p, 16).ok())
        .collect()
}

/// The signature dictionary of `doc` (the revision signed) that `range`
/// belongs to: its /ByteRange is these four direct integers, its /Contents
/// the gap, and it is written uncompressed in the signed bytes with its
/// /Contents exactly at the gap.
fn find_dict<'a>(
    bytes: &[u8],
    doc: &'a Document,
    range: &Range,
    contents: &[u8],
) -> Option<(ObjectId, &'a lopdf::Dictionary)> {
    signature_dicts(doc).into_iter().find(|(id, d)| {
        let direct = d.get(b"ByteRange").ok().and_then(|o| match o {
            Object::Array(a) => Some(
                a.iter()
                    .map(|n| match n {
                        Object::Integer(i) => Some(*i),
                        _ => None,
                    })
                    .collect::<Option<Vec<i64>>>()?,
            ),
            _ => None,
        });
        if direct.as_deref() != Some(&range.numbers[..]) {
            return false;
        }
        if d.get(b"Contents").and_then(Object::as_str).ok() != Some(contents) {
            return false;
        }
        let Some(XrefEntry::Normal { offset, .. }) = doc.reference_table.get(id.0) else {
            return false;
        };
        let offset = *offset as usize;
        if offset >= range.b || range.at < offset || range.at >= range.end() {
            return false;
        }
        let endobj = |b: &[u8]| memchr::memmem::find(b, b"endobj").is_some();
        let before = &bytes[offset..range.b];
        // The /ByteRange found is this object's own, before or after the gap.
        let own_range = if range.at < range.b {
            true
        } else {
            range.at >= range.c && !endobj(&bytes[range.c..range.at])
        };
        own_range && before.trim_ascii_end().ends_with(b"/Contents") && !endobj(before)
    })
}

/// Checks one signature; returns the id of its dictionary (a later version
/// of that object is this signature rewritten, not another one).
fn check(
    bytes: &[u8],
    signed: &Document,
    latest: &Document,
    range: &Range,
    anchors: &Anchors,
    now: i64,
    r: &mut SignatureReport,
) -> Option<ObjectId> {
    let gap = &bytes[range.b..range.c];
    let der = decode_hex(&gap[1..gap.len() - 1]);
    let Some((id, d)) = find_dict(bytes, signed, range, &der) else {
        r.error = Some(
            "no signature dictionary in the signed bytes has this /ByteRange with its /Contents exactly the gap"
                .into(),
        );
        return None;
    };
    r.byte_range_ok = true;
    r.field = field_name(signed, id);
    r.sub_filter = name(d, b"SubFilter");
    r.claimed_time = text(d, b"M");
    r.reason = text(d, b"Reason");
    r.name = text(d, b"Name");
    r.modified_after = range.end() < bytes.len();
    if r.modified_after {
        let c = changes(signed, latest);
        r.changes_after = c.what;
        r.changes_detail = c.detail;
        r.claims = c.claims;
        if let Some(stray) = unlisted_object(bytes, range.end()) {
            r.changes_after = "other";
            r.changes_detail = Some(stray);
        }
    }
    r.replaced = !same_value(latest.objects.get(&id), signed.objects.get(&id));
    r.removed = !points_at(latest, id);
    r.document_timestamp = r.sub_filter.as_deref() == Some("ETSI.RFC3161");
    let checked = if r.document_timestamp {
        check_document_timestamp(bytes, range, &der, anchors, r)
    } else {
        check_cms(bytes, range, &der, anchors, now, r)
    };
    if let Err(e) = checked {
        r.error = Some(e.to_string());
    }
    r.intact = r.error.is_none()
        && r.byte_range_ok
        && r.digest_matches
        && r.signature_verifies
        && r.signing_certificate_bound;
    Some(id)
}

/// The SHA-256 of the bytes a /ByteRange covers.
fn ranges_digest(bytes: &[u8], range: &Range) -> Vec<u8> {
    let mut ctx = Context::new(&SHA256);
    ctx.update(&bytes[..range.b]);
    ctx.update(&bytes[range.c..range.end()]);
    ctx.finish().as_ref().to_vec()
}

/// A document time-stamp: /Contents is an RFC 3161 token whose imprint is
/// the digest of the covered bytes, signed by the TSA.
fn check_document_timestamp(
    bytes: &[u8],
    range: &Range,
    der: &[u8],
    anchors: &Anchors,
    r: &mut SignatureReport,
) -> Result<(), SigningError> {
    let tok = tsp::check_token_over(der, &ranges_digest(bytes, range), "the signed bytes")
        .inspect_err(|e| {
            // Which part failed, where it can be named.
            let msg = e.to_string();
            r.signature_verifies =
                !msg.contains("signature does not verify") && !msg.contains("not a SignedData");
        })?;
    r.digest_matches = true;
    r.signature_verifies = true;
    // check_token_over refuses a token whose attributes do not name its TSA.
    r.signing_certificate_bound = true;
    r.signer = Some(tok.tsa.clone());
    r.time_stamped_at = Some(tok.gen_time_text.clone());
    r.trust = trust::check(
        anchors,
        &tok.tsa_der,
        &tok.certificates,
        tok.gen_time,
        Purpose::TimeStamping,
    );
    Ok(())
}

fn check_cms(
    bytes: &[u8],
    range: &Range,
    der: &[u8],
    anchors: &Anchors,
    now: i64,
    r: &mut SignatureReport,
) -> Result<(), SigningError> {
    let parsed = cms::parse(der)?;
    r.signer = Some(cms::subject(&parsed.signer));
    r.has_signing_time_attribute = parsed.has_signing_time;
    r.signing_certificate_bound = parsed.certificate_bound;
    if parsed.digest_algorithm == super::oids::SHA256 {
        r.digest_matches = crypto::ct_eq(&ranges_digest(bytes, range), &parsed.message_digest);
    }
    r.signature_verifies = cms::verify(
        &parsed.signer,
        parsed.signature_algorithm,
        &parsed.attrs_der,
        &parsed.signature,
    );
    let mut at = now;
    if let Some(token) = &parsed.timestamp_token {
        let mut t = TimestampReport::default();
        match tsp::check_token(token, &parsed.signature) {
            Ok(tok) => {
                t.imprint_matches = true;
                t.signature_verifies = true;
                t.tsa = Some(tok.tsa.clone());
                t.gen_time = Some(tok.gen_time_text.clone());
                t.trust = Some(trust::check(
                    anchors,
                    &tok.tsa_der,
                    &tok.certificates,
                    tok.gen_time,
                    Purpose::TimeStamping,
                ));
                r.time_stamped_at = Some(tok.gen_time_text);
                at = tok.gen_time;
            }
            Err(e) => {
                t.error = Some(e.to_string());
                // Say which part failed when it is one we can name.
                let msg = e.to_string();
                t.signature_verifies =
                    !msg.contains("signature does not verify") && !msg.contains("not a SignedData");
                t.imprint_matches = false;
            }
        }
        r.timestamp = Some(t);
    }
    r.trust = trust::check(
        anchors,
        &parsed.signer_der,
        &parsed.certificates,
        at,
        Purpose::Signer,
    );
    Ok(())
}
