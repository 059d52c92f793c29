//! Reading a PDF from outside and writing a signature into it as an
//! incremental update (ISO 32000-1 §7.5.6): the original bytes are kept as
//! they are and new versions of the few objects that change (the page that
//! gets the widget, the catalog or its AcroForm) are appended after them
//! with a cross-reference section whose /Prev points at the old one. Earlier
//! signatures keep covering exactly the bytes they covered.
//!
//! A PDF from outside is hostile: the size is capped before parsing, lopdf
//! (≥ 0.42, RUSTSEC-2026-0187) bounds nesting, decompression is bounded, and
//! the caller runs the parse on the blocking pool under a time limit.
//! Signing reads the file with [`load_for_signing`] (every dictionary, no
//! stream data, [`super::reader`]); verification with [`load`] (lopdf, all
//! of it).

use std::collections::BTreeSet;
use std::io::Write;

use lopdf::xref::XrefEntry;
use lopdf::{Dictionary, Document, LoadOptions, Object, ObjectId};

use super::SigningError;
use super::appearance::{self, Appearance};
use super::placement::{self, Placement, Position};
use super::syntax::{Lexer, is_space};

/// The largest PDF the service reads.
pub const MAX_PDF_BYTES: usize = 50 * 1024 * 1024;

/// The most a stream inside the PDF may inflate to while loading (object and
/// cross-reference streams are decoded eagerly).
const MAX_DECOMPRESSED_BYTES: usize = 64 * 1024 * 1024;

/// The most all the streams decoded while loading one file may inflate to
/// together: each gets its share of this by the number of streams the file
/// has, so many small streams that each inflate a thousandfold cannot add
/// up to more memory than the machine has.
const MAX_DECOMPRESSED_TOTAL: usize = 512 * 1024 * 1024;

/// Each stream's share of [`MAX_DECOMPRESSED_TOTAL`] in `bytes`. Every
/// stream ends with the keyword `endstream`, which no name escape can
/// hide, so counting it bounds the number of streams lopdf may decode.
fn decompressed_limit(bytes: &[u8]) -> usize {
    let streams = memchr_all(bytes, b"endstream").count().max(1);
    (MAX_DECOMPRESSED_TOTAL / streams).min(MAX_DECOMPRESSED_BYTES)
}

/// The room reserved for the CMS signature in /Contents, in bytes (written
/// as twice as many hex digits). Enough for a chain of a few RSA
/// certificates and an RFC 3161 time-stamp token with the TSA's chain.
pub const CONTENTS_BYTES: usize = 32 * 1024;

/// The room for the /ByteRange numbers, padded with spaces once known.
const BYTE_RANGE_ROOM: usize = 48;

/// The most indirect objects a PDF may number (ISO 32000-1 Annex C): a
/// trailer claiming more is refused rather than overflowing our numbering.
pub(super) const MAX_OBJECTS: u32 = 8_388_607;

/// How deep an object we copy may nest (lopdf bounds what it parses; this
/// bounds what we write back).
const MAX_WRITE_DEPTH: usize = 64;

/// Checks what can be checked before parsing: size, header, end marker.
pub fn check_bytes(bytes: &[u8]) -> Result<(), SigningError> {
    if bytes.len() > MAX_PDF_BYTES {
        return Err(SigningError::TooLarge {
            limit: MAX_PDF_BYTES,
        });
    }
    let head = &bytes[..bytes.len().min(1024)];
    if find(head, b"%PDF-").is_none() {
        return Err(SigningError::NotPdf);
    }
    // A complete file ends with %%EOF (a few bytes of end-of-line may follow).
    // Signing a cut-off file would append to bytes nobody can read.
    let tail = &bytes[bytes.len().saturating_sub(1024)..];
    if find(tail, b"%%EOF").is_none() {
        return Err(SigningError::Truncated);
    }
    Ok(())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

/// Parses a whole PDF (for verification). Refuses encrypted files (their
/// objects would need encrypting again), files whose cross-reference data
/// had to be rebuilt (an update on top would point at wrong offsets), and
/// files lopdf reads otherwise than the cross-reference data places their
/// objects ([`agree`]). The file is first read as signing reads it
/// ([`load_for_signing`]), under its caps and refusals, so lopdf parses
/// only what that reader found sound: each object once, none overlapping
/// another, every indirect stream /Length a number.
pub fn load(bytes: &[u8]) -> Result<Document, SigningError> {
    let ours = load_for_signing(bytes)?;
    prescan(bytes)?;
    let options = LoadOptions {
        max_decompressed_size: Some(decompressed_limit(bytes)),
        ..LoadOptions::default()
    };
    let mut doc = match Document::load_mem_with_options(bytes, options) {
        Ok(doc) => doc,
        Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { limit })) => {
            return Err(SigningError::Malformed(format!(
                "a stream inflates to more than its share ({limit} bytes) of the \
                 {MAX_DECOMPRESSED_TOTAL} bytes one file may inflate to"
            )));
        }
        Err(e) => {
            if find(bytes, b"/Encrypt").is_some() {
                return Err(SigningError::Encrypted);
            }
            return Err(SigningError::Malformed(e.to_string()));
        }
    };
    if doc.encryption_state.is_some() || doc.trailer.has(b"Encrypt") {
        return Err(SigningError::Encrypted);
    }
    if doc.xref_recovery.is_some() {
        return Err(SigningError::Malformed(
            "the cross-reference data is damaged".into(),
        ));
    }
    agree(bytes, &ours, &mut doc)?;
    Ok(doc)
}

/// Holds lopdf's reading of a file (`theirs`) to the cross-reference data's
/// (`ours`, [`super::reader`]): the same entries, the same /Root and /Info,
/// and each object placed by an entry the same; a stream the same
/// dictionary, and the data a viewer takes ([`super::reader::stream_data`]:
/// its /Length when `endstream` follows, else up to `endstream`). Where
/// they differ, verification would judge another document than a viewer
/// shows: an object filed under the number its own header names standing
/// in for the newest revision's, a cross-reference stream lopdf drops (and
/// so the objects an update moved into it), or a stream lopdf leaves empty
/// (one without a /Length it can read: a new version of a page's content
/// would compare as unchanged). Objects lopdf found that no entry places
/// (members of object streams that later entries free) are dropped, as a
/// viewer never reaches them.
fn agree(bytes: &[u8], ours: &Document, theirs: &mut Document) -> Result<(), SigningError> {
    let differs = |what: String| {
        Err(SigningError::Malformed(format!(
            "the file reads two ways: {what}"
        )))
    };
    let place = |e: &XrefEntry| match *e {
        XrefEntry::Normal { offset, generation } => Some((true, offset, generation)),
        XrefEntry::Compressed { container, index } => Some((false, container, index)),
        XrefEntry::Free | XrefEntry::UnusableFree => None,
    };
    let (a, b) = (
        &ours.reference_table.entries,
        &theirs.reference_table.entries,
    );
    let entries = a.keys().chain(b.keys()).copied();
    for num in entries {
        if a.get(&num).and_then(place) != b.get(&num).and_then(place) {
            return differs(format!("the cross-reference entry of object {num}"));
        }
    }
    for key in [b"Root".as_slice(), b"Info"] {
        if ours.trailer.get(key).ok() != theirs.trailer.get(key).ok() {
            return differs(format!("the trailer's /{}", String::from_utf8_lossy(key)));
        }
    }
    let pdf = super::reader::from_header(bytes)?;
    theirs.objects.retain(|id, _| ours.objects.contains_key(id));
    // lopdf writes the length it read into the dictionary it keeps.
    let beside_length = |a: &Dictionary, b: &Dictionary| {
        let others = |d: &Dictionary| d.iter().filter(|(k, _)| k.as_slice() != b"Length").count();
        others(a) == others(b)
            && a.iter()
                .filter(|(k, _)| k.as_slice() != b"Length")
                .all(|(k, v)| b.get(k).is_ok_and(|w| w == v))
    };
    let declared = |d: &Dictionary| match d.get(b"Length") {
        Ok(Object::Reference(id)) => ours.objects.get(id).and_then(|o| o.as_i64().ok()),
        Ok(o) => o.as_i64().ok(),
        Err(_) => None,
    };
    for (id, object) in &ours.objects {
        let same = match (object, theirs.objects.get(id)) {
            (Object::Stream(a), Some(Object::Stream(b))) => {
                beside_length(&a.dict, &b.dict)
                    && a.start_position
                        .and_then(|start| super::reader::stream_data(pdf, start, declared(&a.dict)))
                        == Some(b.content.as_slice())
            }
            (a, Some(b)) => a == b,
            (_, None) => false,
        };
        if !same {
            return differs(format!("object {} {}", id.0, id.1));
        }
    }
    Ok(())
}

/// Reads a PDF as signing needs it ([`super::reader`]): every object's
/// dictionary, no stream's data, so a 10 MB file of images costs what its
/// few dozen dictionaries cost. Refuses what [`load`] refuses: encrypted
/// files, cross-reference data that does not read as written, more entries
/// than the file's size allows, streams that inflate past the caps.
pub fn load_for_signing(bytes: &[u8]) -> Result<Document, SigningError> {
    check_bytes(bytes)?;
    match super::reader::read(bytes) {
        Err(SigningError::Malformed(_)) if find(bytes, b"/Encrypt").is_some() => {
            Err(SigningError::Encrypted)
        }
        other => other,
    }
}

/// The most cross-reference entries a file may claim per byte of it: a
/// table entry takes 20 bytes and an object at least a few even compressed,
/// so more is a file built to make the parser allocate (the slack lets tiny
/// test files claim a few thousand).
pub(super) const ENTRIES_PER_BYTE_DIVISOR: usize = 8;
pub(super) const ENTRIES_SLACK: usize = 4096;

/// The non-negative integer token that follows `at` (after white space),
/// read exactly: all its digits, saturating at `u64::MAX` (a number too
/// large to hold is too large for any bound), and none when the token is
/// not an integer (`-1`, `1.5`, `12x`, a name, an array).
fn number_after(bytes: &[u8], at: usize) -> Option<u64> {
    let mut lexer = Lexer::new(bytes, at);
    lexer.space();
    integer_token(&mut lexer)
}

/// The integer token at the lexer's position: digits that a delimiter,
/// white space or the end of the file follows.
fn integer_token(lexer: &mut Lexer) -> Option<u64> {
    let rest = lexer.bytes.get(lexer.pos..)?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let ends = rest
        .get(digits)
        .is_none_or(|&b| is_space(b) || b"()<>[]{}/%".contains(&b));
    if digits == 0 || !ends {
        return None;
    }
    lexer.pos += digits;
    Some(rest[..digits].iter().fold(0u64, |v, &d| {
        v.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    }))
}

/// Whether `N G R` (a reference) starts at `at`.
fn reference_at(bytes: &[u8], at: usize) -> bool {
    let mut lexer = Lexer::new(bytes, at);
    lexer.space();
    if integer_token(&mut lexer).is_none() {
        return false;
    }
    lexer.space();
    if integer_token(&mut lexer).is_none() {
        return false;
    }
    lexer.space();
    lexer.tag(b"R")
}

/// Every offset just after an occurrence of `needle`.
fn after_each<'a>(hay: &'a [u8], needle: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    memchr_all(hay, needle).map(move |i| i + needle.len())
}

fn memchr_all<'a>(hay: &'a [u8], needle: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    memchr::memmem::find_iter(hay, needle)
}

/// Refuses, before lopdf reads the file, any direct stream `/Length`
/// longer than the file (what the cross-reference data claims is checked
/// by [`super::reader`]). lopdf bounds this itself (≥ 0.47); this keeps the
/// bound ours and says what was wrong.
fn prescan(bytes: &[u8]) -> Result<(), SigningError> {
    for at in after_each(bytes, b"/Length") {
        // Not `/Length1` of a font file; `/Length 12 0 R` names an object,
        // a direct number is the length.
        let key_ends = bytes.get(at).is_none_or(|&b| !b.is_ascii_alphanumeric());
        if !key_ends || reference_at(bytes, at) {
            continue;
        }
        if let Some(n) = number_after(bytes, at)
            && n > bytes.len() as u64
        {
            return Err(SigningError::Malformed(format!(
                "a stream claims {n} bytes, more than the file has"
            )));
        }
    }
    Ok(())
}

/// The DocMDP permission (ISO 32000-1 §12.8.2.2) a certified document
/// grants: 1 no changes, 2 form filling and signing, 3 also annotations.
/// None when the document is not certified.
pub fn docmdp_permission(doc: &Document) -> Option<i64> {
    let catalog = doc.catalog().ok()?;
    let perms = dict(doc, catalog.get(b"Perms").ok()?, "/Perms").ok()?;
    let sig = dict(doc, perms.get(b"DocMDP").ok()?, "/DocMDP").ok()?;
    let refs = match resolve(doc, sig.get(b"Reference").ok()?).ok()? {
        Object::Array(a) => a,
        _ => return None,
    };
    refs.iter().find_map(|r| {
        let r = dict(doc, r, "reference").ok()?;
        let method = r.get(b"TransformMethod").ok()?.as_name().ok()?;
        if method != b"DocMDP" {
            return None;
        }
        // /P defaults to 2 (§12.8.2.2.2, Table 254).
        Some(
            r.get(b"TransformParams")
                .ok()
                .and_then(|p| dict(doc, p, "params").ok())
                .and_then(|p| p.get(b"P").ok()?.as_i64().ok())
                .unwrap_or(2),
        )
    })
}

/// What to write into the signature dictionary.
#[derive(Clone, Debug, Default)]
pub struct SigFields<'a> {
    pub reason: Option<&'a str>,
    /// The signer's name (`/Name`).
    pub name: Option<&'a str>,
    /// Signing time, seconds since the epoch (`/M`).
    pub now: i64,
    /// Where the widget goes; none keeps it invisible on the first page.
    pub position: Option<Position>,
    /// What it shows there (drawn only with a position; a position without
    /// one shows the signer's name).
    pub appearance: Option<&'a Appearance>,
}

/// The signed revision before its signature is in: the whole output file
/// with a zero-filled /Contents, and where that hex string lies.
#[derive(Debug)]
pub struct Prepared {
    pub bytes: Vec<u8>,
    /// Offset of the `<` of /Contents.
    contents_start: usize,
    /// Offset just after its `>`.
    contents_end: usize,
    /// Where the widget is seen, if it is.
    pub placement: Option<Placement>,
}

impl Prepared {
    /// A prepared document that came back from outside (deferred signing):
    /// `start..end` must be an empty /Contents placeholder (`<`, zeros, `>`);
    /// `placement` is where [`prepare`] put it.
    pub fn from_parts(
        bytes: Vec<u8>,
        start: usize,
        end: usize,
        placement: Option<Placement>,
    ) -> Result<Prepared, SigningError> {
        let placeholder = bytes
            .get(start..end)
            .filter(|p| p.len() >= 2)
            .ok_or_else(|| SigningError::Malformed("no signature placeholder".into()))?;
        let (open, rest) = placeholder.split_at(1);
        let (zeros, close) = rest.split_at(rest.len() - 1);
        if open != b"<" || close != b">" || zeros.iter().any(|&b| b != b'0') {
            return Err(SigningError::Malformed(
                "the signature placeholder is not empty".into(),
            ));
        }
        Ok(Prepared {
            bytes,
            contents_start: start,
            contents_end: end,
            placement,
        })
    }

    /// Where /Contents lies: the offset of its `<` and just after its `>`.
    pub fn contents(&self) -> (usize, usize) {
        (self.contents_start, self.contents_end)
    }

    /// The two byte ranges the signature covers: all but /Contents.
    pub fn signed_ranges(&self) -> (&[u8], &[u8]) {
        (
            &self.bytes[..self.contents_start],
            &self.bytes[self.contents_end..],
        )
    }

    /// Puts the DER signature into /Contents (hex, zero-padded).
    pub fn fill(mut self, cms: &[u8]) -> Result<Vec<u8>, SigningError> {
        let room = self.contents_end - self.contents_start - 2;
        if cms.len() * 2 > room {
            return Err(SigningError::SignatureTooLarge(cms.len()));
        }
        let hex: String = cms.iter().map(|b| format!("{b:02X}")).collect();
        let at = self.contents_start + 1;
        self.bytes[at..at + hex.len()].copy_from_slice(hex.as_bytes());
        Ok(self.bytes)
    }
}

/// A value as it is, or the object a reference points at (one step: a
/// reference to a reference is not followed, so no cycle can loop).
pub(super) fn resolve<'a>(doc: &'a Document, obj: &'a Object) -> Result<&'a Object, SigningError> {
    match obj {
        Object::Reference(id) => doc
            .get_object(*id)
            .map_err(|e| SigningError::Malformed(format!("object {} {}: {e}", id.0, id.1))),
        o => Ok(o),
    }
}

pub(super) fn dict<'a>(
    doc: &'a Document,
    obj: &'a Object,
    what: &str,
) -> Result<&'a Dictionary, SigningError> {
    resolve(doc, obj)?
        .as_dict()
        .map_err(|_| SigningError::Malformed(format!("{what} is not a dictionary")))
}

/// An array under `key` (direct or referenced), copied; empty when absent.
fn array_of(doc: &Document, d: &Dictionary, key: &[u8]) -> Result<Vec<Object>, SigningError> {
    match d.get(key) {
        Ok(o) => match resolve(doc, o)? {
            Object::Array(a) => Ok(a.clone()),
            _ => Err(SigningError::Malformed(format!(
                "/{} is not an array",
                String::from_utf8_lossy(key)
            ))),
        },
        Err(_) => Ok(Vec::new()),
    }
}

/// The names (/T) of the form's top-level fields, to pick a new one.
fn field_names(doc: &Document, fields: &[Object]) -> BTreeSet<Vec<u8>> {
    fields
        .iter()
        .filter_map(|f| resolve(doc, f).ok()?.as_dict().ok()?.get(b"T").ok())
        .filter_map(|t| t.as_str().ok().map(<[u8]>::to_vec))
        .collect()
}

/// The first object number the update may use: above the trailer's /Size,
/// every object defined (lopdf's `max_id`, the cross-reference entries) and
/// every number referenced anywhere. A file whose /Size is too small, or
/// that refers to an object it lacks, would otherwise have that reference
/// point at a new object of ours (ISO 32000-1 §7.3.10: a reference to a
/// missing object is null, and must stay so).
fn first_free_number(doc: &Document) -> u32 {
    fn walk(o: &Object, depth: usize, high: &mut u32) {
        if depth > MAX_WRITE_DEPTH {
            return;
        }
        match o {
            Object::Reference(id) => *high = (*high).max(id.0),
            Object::Array(a) => a.iter().for_each(|v| walk(v, depth + 1, high)),
            Object::Dictionary(d) => d.iter().for_each(|(_, v)| walk(v, depth + 1, high)),
            Object::Stream(s) => s.dict.iter().for_each(|(_, v)| walk(v, depth + 1, high)),
            _ => {}
        }
    }
    let size = doc
        .trailer
        .get(b"Size")
        .and_then(Object::as_i64)
        .ok()
        .and_then(|s| u32::try_from(s).ok())
        .unwrap_or(0);
    let mut high = doc.max_id;
    if let Some(last) = doc.reference_table.entries.keys().next_back() {
        high = high.max(*last);
    }
    if let Some(((last, _), _)) = doc.objects.last_key_value() {
        high = high.max(*last);
    }
    for (_, v) in doc.trailer.iter() {
        walk(v, 1, &mut high);
    }
    for o in doc.objects.values() {
        walk(o, 0, &mut high);
    }
    size.max(high.saturating_add(1))
}

/// Writes the incremental update that adds an invisible signature field on
/// the first page, with room for the signature.
pub fn prepare(original: &[u8], doc: &Document, sig: &SigFields) -> Result<Prepared, SigningError> {
    let mut out = Vec::with_capacity(original.len() + UPDATE_ROOM);
    out.extend_from_slice(original);
    prepare_in(out, doc, sig)
}

/// Room reserved after the document for its update: the /Contents
/// placeholder in hex and the few objects around it (an appearance's
/// image may make the vector grow once more).
const UPDATE_ROOM: usize = 2 * CONTENTS_BYTES + 16 * 1024;

/// The capacity for a document of `len` bytes that its update fits in
/// without a copy (see [`prepare_in`]).
pub fn with_room(len: usize) -> usize {
    len.saturating_add(UPDATE_ROOM)
}

/// [`prepare`] appending to `original` itself, as [`super::begin`] does:
/// a 10 MB document is not copied once more.
pub fn prepare_in(
    mut original: Vec<u8>,
    doc: &Document,
    sig: &SigFields,
) -> Result<Prepared, SigningError> {
    // The update's offsets count from the file's first byte; readers count
    // them from its header.
    if !original.starts_with(b"%PDF-") {
        return Err(SigningError::Malformed(
            "the file has bytes before its %PDF- header (save it again from its application)"
                .into(),
        ));
    }
    // A viewer reads a linearized file from its first page's section once
    // the file is as long as /L says: appending could make it so.
    if let Some((length, _)) = super::reader::linearized(&original)
        && length > original.len() as u64
    {
        return Err(SigningError::Malformed(
            "the file's linearization dictionary says it is longer than it is (/L)".into(),
        ));
    }
    let root_id = doc
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|_| SigningError::Malformed("no /Root in the trailer".into()))?;
    let mut catalog = doc
        .get_object(root_id)
        .and_then(Object::as_dict)
        .map_err(|_| SigningError::Malformed("the catalog is not a dictionary".into()))?
        .clone();
    let (page_id, visible) = match sig.position {
        None => (
            doc.page_iter()
                .next()
                .ok_or_else(|| SigningError::Malformed("the document has no page".into()))?,
            None,
        ),
        Some(position) => {
            let (page_id, placement, geometry) = placement::resolve_position(doc, position)?;
            (page_id, Some((placement, geometry)))
        }
    };
    let mut page = doc
        .get_object(page_id)
        .and_then(Object::as_dict)
        .map_err(|_| SigningError::Malformed("the page is not a dictionary".into()))?
        .clone();

    let size = first_free_number(doc);
    if size >= MAX_OBJECTS {
        return Err(SigningError::Malformed(format!(
            "more than {MAX_OBJECTS} objects"
        )));
    }
    let sig_id: ObjectId = (size, 0);
    let field_id: ObjectId = (size + 1, 0);
    let mut next = size + 2;

    // The form: an indirect AcroForm gets a new version of its own; a
    // direct one (or none) lives in a new version of the catalog.
    let acroform_ref = catalog
        .get(b"AcroForm")
        .ok()
        .and_then(|o| o.as_reference().ok());
    let mut acroform = match catalog.get(b"AcroForm") {
        Ok(o) => dict(doc, o, "/AcroForm")?.clone(),
        Err(_) => Dictionary::new(),
    };
    let mut fields = array_of(doc, &acroform, b"Fields")?;
    let taken = field_names(doc, &fields);
    let name = (1..)
        .map(|n| format!("Signature{n}"))
        .find(|n| !taken.contains(n.as_bytes()))
        .unwrap_or_else(|| "Signature".into());
    fields.push(Object::Reference(field_id));
    acroform.set("Fields", Object::Array(fields));
    // SignaturesExist | AppendOnly: readers must save changes incrementally.
    acroform.set("SigFlags", Object::Integer(3));

    let mut annots = array_of(doc, &page, b"Annots")?;
    annots.push(Object::Reference(field_id));
    page.set("Annots", Object::Array(annots));

    // One object as both the field and its widget.
    let mut field = Dictionary::new();
    field.set("Type", Object::Name(b"Annot".to_vec()));
    field.set("Subtype", Object::Name(b"Widget".to_vec()));
    field.set("FT", Object::Name(b"Sig".to_vec()));
    field.set("T", Object::string_literal(name));
    field.set("V", Object::Reference(sig_id));
    // Print | Locked.
    field.set("F", Object::Integer(132));
    field.set("P", Object::Reference(page_id));
    // New objects of the appearance (form, image, font), written as they are.
    let mut drawn: Vec<(ObjectId, Object)> = Vec::new();
    match visible {
        None => field.set("Rect", Object::Array(vec![Object::Integer(0); 4])),
        Some((placement, geometry)) => {
            let rect = placement.rect;
            field.set(
                "Rect",
                Object::Array(
                    rect.to_array()
                        .into_iter()
                        .map(|v| Object::Real(v as f32))
                        .collect(),
                ),
            );
            let fallback;
            let shown = match sig.appearance {
                Some(a) => a,
                None => {
                    fallback = Appearance::Personal {
                        name: sig.name.map(appearance::common_name).unwrap_or("").into(),
                        title: None,
                        image: None,
                    };
                    &fallback
                }
            };
            // The drawing is made upright as the page is displayed.
            let (w, h) = match geometry.rotate {
                90 | 270 => (rect.height(), rect.width()),
                _ => (rect.width(), rect.height()),
            };
            let form_id: ObjectId = (next, 0);
            drawn = appearance::render(shown, w, h, geometry.rotate, sig.now, next)?;
            next += u32::try_from(drawn.len()).unwrap_or(u32::MAX);
            let mut ap = Dictionary::new();
            ap.set("N", Object::Reference(form_id));
            field.set("AP", Object::Dictionary(ap));
        }
    }

    let mut objects: Vec<(ObjectId, Vec<u8>)> = Vec::new();
    objects.push((field_id, serialize(&Object::Dictionary(field))?));
    for (id, obj) in &drawn {
        objects.push((*id, serialize_new(obj)?));
    }
    objects.push((page_id, serialize(&Object::Dictionary(page))?));
    match acroform_ref {
        Some(id) => objects.push((id, serialize(&Object::Dictionary(acroform))?)),
        None => {
            catalog.set("AcroForm", Object::Dictionary(acroform));
            objects.push((root_id, serialize(&Object::Dictionary(catalog))?));
        }
    }

    let xref_is_stream = !original
        .get(doc.xref_start..)
        .is_some_and(|rest| rest.starts_with(b"xref"));
    original.reserve(UPDATE_ROOM);
    let mut out = original;
    if !out.ends_with(b"\n") && !out.ends_with(b"\r") {
        out.push(b'\n');
    }
    let mut offsets: Vec<(ObjectId, usize)> = Vec::new();

    // The signature dictionary first, its placeholders remembered.
    offsets.push((sig_id, out.len()));
    write!(
        out,
        "{} {} obj\n<</Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange [",
        sig_id.0, sig_id.1
    )?;
    let byte_range_at = out.len();
    out.extend(std::iter::repeat_n(b' ', BYTE_RANGE_ROOM));
    out.extend_from_slice(b"] /Contents ");
    let contents_start = out.len();
    out.push(b'<');
    out.extend(std::iter::repeat_n(b'0', 2 * CONTENTS_BYTES));
    out.push(b'>');
    let contents_end = out.len();
    write!(out, " /M {}", text_string(&pdf_date(sig.now)?))?;
    if let Some(reason) = sig.reason {
        write!(out, " /Reason {}", text_string(reason))?;
    }
    if let Some(name) = sig.name {
        write!(out, " /Name {}", text_string(name))?;
    }
    out.extend_from_slice(b">>\nendobj\n");

    for (id, body) in &objects {
        offsets.push((*id, out.len()));
        writeln!(out, "{} {} obj", id.0, id.1)?;
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }

    let mut trailer = Dictionary::new();
    trailer.set("Root", Object::Reference(root_id));
    for key in [b"Info".as_slice(), b"ID"] {
        if let Ok(v) = doc.trailer.get(key) {
            trailer.set(key, v.clone());
        }
    }
    trailer.set(
        "Prev",
        Object::Integer(i64::try_from(doc.xref_start).unwrap_or(0)),
    );
    if xref_is_stream {
        let xref_id: ObjectId = (next, 0);
        next += 1;
        trailer.set("Size", Object::Integer(i64::from(next)));
        offsets.push((xref_id, out.len()));
        write_xref_stream(&mut out, xref_id, &offsets, trailer)?;
    } else {
        trailer.set("Size", Object::Integer(i64::from(next)));
        write_xref_table(&mut out, &offsets, &trailer)?;
    }

    let byte_range = format!(
        "0 {} {} {}",
        contents_start,
        contents_end,
        out.len() - contents_end
    );
    if byte_range.len() > BYTE_RANGE_ROOM {
        return Err(SigningError::TooLarge {
            limit: MAX_PDF_BYTES,
        });
    }
    out[byte_range_at..byte_range_at + byte_range.len()].copy_from_slice(byte_range.as_bytes());
    Ok(Prepared {
        bytes: out,
        contents_start,
        contents_end,
        placement: visible.map(|(p, _)| p),
    })
}

/// Subsections of consecutive object numbers, as a cross-reference section wants.
fn subsections(offsets: &[(ObjectId, usize)]) -> Vec<Vec<(ObjectId, usize)>> {
    let mut sorted = offsets.to_vec();
    sorted.sort_by_key(|(id, _)| id.0);
    let mut runs: Vec<Vec<(ObjectId, usize)>> = Vec::new();
    for entry in sorted {
        match runs.last_mut() {
            Some(run) if run.last().is_some_and(|(id, _)| id.0 + 1 == entry.0.0) => run.push(entry),
            _ => runs.push(vec![entry]),
        }
    }
    runs
}

fn write_xref_table(
    out: &mut Vec<u8>,
    offsets: &[(ObjectId, usize)],
    trailer: &Dictionary,
) -> Result<(), SigningError> {
    let start = out.len();
    out.extend_from_slice(b"xref\n");
    for run in subsections(offsets) {
        let first = run.first().map_or(0, |(id, _)| id.0);
        writeln!(out, "{first} {}", run.len())?;
        for (id, offset) in run {
            // Exactly 20 bytes per entry (the space before the newline counts).
            writeln!(out, "{offset:010} {:05} n ", id.1)?;
        }
    }
    out.extend_from_slice(b"trailer\n");
    out.extend_from_slice(&serialize(&Object::Dictionary(trailer.clone()))?);
    write!(out, "\nstartxref\n{start}\n%%EOF\n")?;
    Ok(())
}

/// A cross-reference stream (ISO 32000-1 §7.5.8) for files whose last
/// section is one: /W [1 4 2], uncompressed.
fn write_xref_stream(
    out: &mut Vec<u8>,
    xref_id: ObjectId,
    offsets: &[(ObjectId, usize)],
    mut dict: Dictionary,
) -> Result<(), SigningError> {
    let start = out.len();
    let mut index = Vec::new();
    let mut data = Vec::new();
    for run in subsections(offsets) {
        let first = run.first().map_or(0, |(id, _)| id.0);
        index.push(Object::Integer(i64::from(first)));
        index.push(Object::Integer(i64::try_from(run.len()).unwrap_or(0)));
        for (id, offset) in run {
            let offset = u32::try_from(offset).map_err(|_| SigningError::TooLarge {
                limit: MAX_PDF_BYTES,
            })?;
            data.push(1);
            data.extend_from_slice(&offset.to_be_bytes());
            data.extend_from_slice(&id.1.to_be_bytes());
        }
    }
    dict.set("Type", Object::Name(b"XRef".to_vec()));
    dict.set(
        "W",
        Object::Array(vec![
            Object::Integer(1),
            Object::Integer(4),
            Object::Integer(2),
        ]),
    );
    dict.set("Index", Object::Array(index));
    dict.set(
        "Length",
        Object::Integer(i64::try_from(data.len()).unwrap_or(0)),
    );
    writeln!(out, "{} {} obj", xref_id.0, xref_id.1)?;
    out.extend_from_slice(&serialize(&Object::Dictionary(dict))?);
    out.extend_from_slice(b"\nstream\n");
    out.extend_from_slice(&data);
    write!(out, "\nendstream\nendobj\nstartxref\n{start}\n%%EOF\n")?;
    Ok(())
}

/// `D:YYYYMMDDHHmmSSZ` (ISO 32000-1 §7.9.4), in UTC.
fn pdf_date(now: i64) -> Result<String, SigningError> {
    let t = time::OffsetDateTime::from_unix_timestamp(now)
        .map_err(|e| SigningError::Malformed(e.to_string()))?;
    Ok(format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    ))
}

/// A PDF text string: ASCII as is in hex, anything else UTF-16BE with its
/// byte-order mark (ISO 32000-1 §7.9.2.2), always as a hex string so no
/// character needs escaping.
fn text_string(s: &str) -> String {
    let bytes: Vec<u8> = if s.is_ascii() {
        s.as_bytes().to_vec()
    } else {
        [0xFE, 0xFF]
            .into_iter()
            .chain(s.encode_utf16().flat_map(u16::to_be_bytes))
            .collect()
    };
    let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
    format!("<{hex}>")
}

/// An object this update creates, streams included (its /Length set from
/// the bytes). Objects copied from the original go through [`serialize`],
/// which refuses streams: their bytes stay where they are.
pub fn serialize_new(obj: &Object) -> Result<Vec<u8>, SigningError> {
    let Object::Stream(stream) = obj else {
        return serialize(obj);
    };
    let mut dict = stream.dict.clone();
    dict.set(
        "Length",
        Object::Integer(i64::try_from(stream.content.len()).unwrap_or(i64::MAX)),
    );
    let mut out = serialize(&Object::Dictionary(dict))?;
    out.extend_from_slice(b"\nstream\n");
    out.extend_from_slice(&stream.content);
    out.extend_from_slice(b"\nendstream");
    Ok(out)
}

/// The PDF syntax of an object (dictionaries and arrays copied from the
/// original are written back through this, never a stream).
pub fn serialize(obj: &Object) -> Result<Vec<u8>, SigningError> {
    let mut out = Vec::new();
    write_object(obj, &mut out, 0)?;
    Ok(out)
}

fn write_object(obj: &Object, out: &mut Vec<u8>, depth: usize) -> Result<(), SigningError> {
    if depth > MAX_WRITE_DEPTH {
        return Err(SigningError::Malformed("objects nest too deeply".into()));
    }
    match obj {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Object::Integer(i) => write!(out, "{i}")?,
        Object::Real(r) if r.is_finite() => write!(out, "{r}")?,
        Object::Real(_) => out.push(b'0'),
        Object::Name(n) => write_name(n, out),
        Object::String(s, _) => {
            out.push(b'<');
            for b in s {
                write!(out, "{b:02X}")?;
            }
            out.push(b'>');
        }
        Object::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write_object(item, out, depth + 1)?;
            }
            out.push(b']');
        }
        Object::Dictionary(d) => {
            out.extend_from_slice(b"<<");
            for (k, v) in d.iter() {
                write_name(k, out);
                out.push(b' ');
                write_object(v, out, depth + 1)?;
            }
            out.extend_from_slice(b">>");
        }
        Object::Stream(_) => {
            return Err(SigningError::Malformed(
                "a stream where a dictionary was expected".into(),
            ));
        }
        Object::Reference(id) => write!(out, "{} {} R", id.0, id.1)?,
    }
    Ok(())
}

/// A name, with `#xx` for bytes outside the regular characters (§7.3.5).
fn write_name(name: &[u8], out: &mut Vec<u8>) {
    out.push(b'/');
    for &b in name {
        let regular = (0x21..=0x7e).contains(&b) && !b"#()<>[]{}/%".contains(&b);
        if regular {
            out.push(b);
        } else {
            out.extend_from_slice(format!("#{b:02X}").as_bytes());
        }
    }
}
