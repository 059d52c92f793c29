//! Reading a PDF for signing without its stream data (ISO 32000-1 §7.5):
//! the cross-reference sections from `startxref` back along /Prev (tables
//! §7.5.4, streams §7.5.8, hybrid files §7.5.8.4), the newest trailer, and
//! every object's dictionary, parsed where the cross-reference data puts
//! it. A stream's data is neither copied nor decoded, except an object
//! stream's (§7.5.7), whose members are objects.
//!
//! lopdf's loader copies every stream: for a 10 MB file of images that was
//! most of a signature's time. Signing reads the catalog, the form and the
//! page tree, and must give its new objects numbers no object uses or
//! refers to, so it needs every dictionary but no stream; verification
//! keeps lopdf's full load ([`super::pdf::load`]).
//!
//! What is read from outside is bounded as lopdf bounds it: the entries a
//! file may claim for its size, a cross-reference stream's field widths,
//! the nesting of objects ([`syntax::MAX_DEPTH`]), and the bytes all the
//! streams decoded may inflate to ([`MAX_DECODED_TOTAL`]).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

use lopdf::xref::{Xref, XrefEntry, XrefType};
use lopdf::{Dictionary, Document, Object, ObjectId, Stream};

use super::SigningError;
use super::syntax::{Lexer, is_space};

/// The most one stream may inflate to (as [`super::pdf`]'s loader).
const MAX_DECODED: usize = 64 * 1024 * 1024;

/// The most all the streams decoded for one file may inflate to together.
const MAX_DECODED_TOTAL: usize = 512 * 1024 * 1024;

/// The most cross-reference sections a chain of /Prev may have.
const MAX_SECTIONS: usize = 10_000;

/// The most objects, nested ones included, all the objects of one file may
/// hold: a long document has tens of thousands. lopdf takes some 600 bytes
/// of memory for each, even one written `[]`, so this bounds what reading
/// a file may take (about 300 MB) where its size alone does not.
pub const MAX_PARSED: usize = 500_000;

fn damaged(what: impl Into<String>) -> SigningError {
    SigningError::Malformed(format!(
        "the cross-reference data is damaged: {}",
        what.into()
    ))
}

fn too_many_objects() -> SigningError {
    SigningError::Malformed(format!(
        "the file holds more than {MAX_PARSED} objects (arrays and dictionaries count their \
         elements)"
    ))
}

/// What one file may claim, for its size.
struct Bounds {
    /// Cross-reference entries, over all sections.
    entries: u64,
    /// Bytes decoded so far, unfiltered data included.
    decoded: usize,
    /// Bytes the cross-reference sections took, over all sections: an
    /// honest file's sections are apart, so together no longer than it.
    sections: usize,
    /// Objects that may still be parsed ([`MAX_PARSED`]).
    parsed: usize,
}

impl Bounds {
    /// Refuses a /Size no honest file of `len` bytes claims (as
    /// lopdf bounds it).
    fn check_size(&self, trailer: &Dictionary, len: usize) -> Result<(), SigningError> {
        match trailer.get(b"Size").and_then(Object::as_i64) {
            Ok(n)
                if n < 0 || n as u64 > self.entries || n >= i64::from(super::pdf::MAX_OBJECTS) =>
            {
                Err(SigningError::Malformed(format!(
                    "the file claims {n} objects (/Size), more than a file of {len} bytes can hold"
                )))
            }
            _ => Ok(()),
        }
    }

    /// Counts `len` more bytes taken by cross-reference sections in a file
    /// of `file` bytes; refuses sections that together take more than the
    /// file (they overlap, as only a file built to be read again and again
    /// has them).
    fn section_bytes(&mut self, len: usize, file: usize) -> Result<(), SigningError> {
        self.sections = self.sections.saturating_add(len);
        if self.sections > file {
            return Err(damaged("sections that overlap"));
        }
        Ok(())
    }

    /// Decodes a stream's `data` (with its dictionary `dict`) within what
    /// is left of the file's budget. Data with no filter is borrowed, not
    /// copied, and counts against the budget as decoded data does.
    fn decode<'a>(&mut self, dict: &Dictionary, data: &'a [u8]) -> Result<Cow<'a, [u8]>, Decode> {
        let left = MAX_DECODED.min(MAX_DECODED_TOTAL.saturating_sub(self.decoded));
        let too_large = |limit: usize| {
            Decode::TooLarge(SigningError::Malformed(format!(
                "a stream inflates to more than its share ({limit} bytes, what is left) of \
                 the {MAX_DECODED_TOTAL} bytes one file may inflate to"
            )))
        };
        let data = if dict.has(b"Filter") {
            let stream = Stream {
                dict: dict.clone(),
                content: data.to_vec(),
                allows_compression: false,
                start_position: None,
            };
            match stream.decompressed_content_with_limit(left) {
                Ok(data) => Cow::Owned(data),
                Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded {
                    limit,
                })) => return Err(too_large(limit)),
                Err(e) => return Err(Decode::Broken(e.to_string())),
            }
        } else if data.len() > left {
            return Err(too_large(left));
        } else {
            Cow::Borrowed(data)
        };
        self.decoded += data.len();
        Ok(data)
    }
}

/// Why a stream did not decode: past the budget (the file is refused), or
/// broken (an object stream's members are then left out, as lopdf leaves
/// them out).
enum Decode {
    TooLarge(SigningError),
    Broken(String),
}

/// One cross-reference section: its entries and its trailer.
struct Section {
    entries: BTreeMap<u32, XrefEntry>,
    trailer: Dictionary,
}

/// Reads `bytes` (already checked by [`super::pdf::check_bytes`]) into a
/// [`Document`] whose streams have their dictionaries and no data, except
/// object streams, whose members are loaded as lopdf loads them. Refuses
/// cross-reference data that does not read as written (lopdf would rebuild
/// it; an update on top would point at wrong offsets) and encrypted files.
pub fn read(bytes: &[u8]) -> Result<Document, SigningError> {
    let pdf = from_header(bytes)?;
    let mut bounds = bounds_for(pdf);
    let start = xref_start(pdf)?;
    if let Some((length, first_section)) = linearized(pdf)
        && length == bytes.len() as u64
        && first_section != Some(start)
    {
        // A viewer starts from the section after the linearization
        // dictionary when the file is as long as it says (ISO 32000-1
        // Annex F): another chain than `startxref` names.
        return Err(damaged(
            "a linearized file whose startxref does not name its first-page section",
        ));
    }
    let (merged, trailer) = sections(pdf, start, &mut bounds, &mut HashSet::new())?;
    let mut doc = Document::new();
    doc.objects = objects(pdf, &merged, &mut bounds)?;
    lengths_are_numbers(&doc.objects)?;
    let last_entry = merged.keys().next_back().copied().unwrap_or(0);
    let last_object = doc.objects.keys().next_back().map_or(0, |id| id.0);
    doc.max_id = last_entry.max(last_object);
    doc.reference_table = Xref {
        cross_reference_type: XrefType::CrossReferenceTable,
        size: last_entry.saturating_add(1),
        entries: merged,
    };
    doc.trailer = trailer;
    doc.xref_start = start;
    Ok(doc)
}

/// Where any cross-reference section of `bytes` (any revision) puts an
/// object, and where each section starts: an object header elsewhere is in
/// no revision, though a viewer that rebuilds the cross-reference data
/// (poppler does when a lookup fails) would find it. Offsets count from the
/// header.
pub fn listed_offsets(bytes: &[u8]) -> Result<HashSet<usize>, SigningError> {
    let pdf = from_header(bytes)?;
    let mut bounds = bounds_for(pdf);
    let mut listed = HashSet::new();
    sections(pdf, xref_start(pdf)?, &mut bounds, &mut listed)?;
    Ok(listed)
}

/// The /L (the file's length) of a linearization dictionary, the file's
/// first object (Annex F), and where the first-page cross-reference section
/// after it starts, if a section is there.
pub(super) fn linearized(pdf: &[u8]) -> Option<(u64, Option<usize>)> {
    let mut lexer = Lexer::new(pdf, 0);
    lexer.space();
    lexer.object_header().ok()?;
    lexer.budget = 1000;
    let Object::Dictionary(d) = lexer.object(0).ok()? else {
        return None;
    };
    if !d.has(b"Linearized") {
        return None;
    }
    let length = d
        .get(b"L")
        .ok()?
        .as_i64()
        .ok()
        .and_then(|l| u64::try_from(l).ok())?;
    lexer.space();
    let section = lexer.tag(b"endobj").then(|| {
        lexer.space();
        lexer.pos
    });
    Some((length, section))
}

/// The file from its `%PDF-` header (within its first KiB): offsets count
/// from there, as lopdf counts them.
pub(super) fn from_header(bytes: &[u8]) -> Result<&[u8], SigningError> {
    let header = memchr::memmem::find(&bytes[..bytes.len().min(1024)], b"%PDF-")
        .ok_or(SigningError::NotPdf)?;
    Ok(&bytes[header..])
}

/// Refuses a stream whose /Length is not a number, in the dictionary or in
/// an object of its own. A parser that reads the length where it points
/// would read that object (another stream, a long array) once per stream
/// naming it, and follow a chain of streams each naming the next as deep
/// as it goes; one without a length it can read (none, or naming nothing)
/// lopdf leaves empty, where a viewer reads up to `endstream`: a page's
/// content changed after signing would compare as unchanged.
fn lengths_are_numbers(objects: &BTreeMap<ObjectId, Object>) -> Result<(), SigningError> {
    for (id, object) in objects {
        let Object::Stream(s) = object else { continue };
        let number = match s.dict.get(b"Length") {
            Ok(Object::Integer(_)) => true,
            Ok(Object::Reference(to)) => matches!(objects.get(to), Some(Object::Integer(_))),
            _ => false,
        };
        if !number {
            return Err(SigningError::Malformed(format!(
                "stream {} {} has no /Length that is a number",
                id.0, id.1
            )));
        }
    }
    Ok(())
}

fn bounds_for(pdf: &[u8]) -> Bounds {
    Bounds {
        entries: (pdf.len() / super::pdf::ENTRIES_PER_BYTE_DIVISOR + super::pdf::ENTRIES_SLACK)
            as u64,
        decoded: 0,
        sections: 0,
        parsed: MAX_PARSED,
    }
}

/// The sections from `start` back along /Prev, merged, and the newest
/// trailer (without /Prev and /XRefStm).
fn sections(
    pdf: &[u8],
    start: usize,
    bounds: &mut Bounds,
    listed: &mut HashSet<usize>,
) -> Result<(BTreeMap<u32, XrefEntry>, Dictionary), SigningError> {
    // Newest first: a newer section's entry wins; a hybrid file's stream
    // fills in what its table leaves free.
    let mut merged: BTreeMap<u32, XrefEntry> = BTreeMap::new();
    let mut trailer: Option<Dictionary> = None;
    let mut seen = HashSet::new();
    let mut at = Some(start);
    let mut claimed: u64 = 0;
    while let Some(offset) = at {
        if !seen.insert(offset) {
            break;
        }
        if seen.len() > MAX_SECTIONS {
            return Err(damaged("too many sections"));
        }
        let mut section = section_at(pdf, offset, bounds, &mut claimed)?;
        if section.trailer.has(b"Encrypt") {
            return Err(SigningError::Encrypted);
        }
        bounds.check_size(&section.trailer, pdf.len())?;
        if let Some(stream_at) = position(section.trailer.get(b"XRefStm").ok(), pdf)? {
            let hybrid = section_at(pdf, stream_at, bounds, &mut claimed)?;
            bounds.check_size(&hybrid.trailer, pdf.len())?;
            for (num, entry) in hybrid.entries {
                match (section.entries.get(&num), &entry) {
                    (Some(XrefEntry::Normal { .. } | XrefEntry::Compressed { .. }), _) => {}
                    // The table lists it free: the stream may place it in an
                    // object stream (§7.5.8.4), or be the stream itself, but
                    // not elsewhere in the file. A reader that keeps the
                    // table's free entry would rebuild the cross-reference
                    // data and find another object than the stream names.
                    (Some(_), XrefEntry::Normal { offset, .. })
                        if *offset as usize != stream_at =>
                    {
                        return Err(damaged(format!(
                            "a hybrid file's cross-reference stream places object {num}, \
                             which its table lists as free"
                        )));
                    }
                    _ => {
                        section.entries.insert(num, entry);
                    }
                }
            }
        }
        at = position(section.trailer.get(b"Prev").ok(), pdf)?;
        listed.insert(offset);
        listed.extend(section.entries.values().filter_map(|e| match *e {
            XrefEntry::Normal { offset, .. } => Some(offset as usize),
            _ => None,
        }));
        for (num, entry) in section.entries {
            merged.entry(num).or_insert(entry);
        }
        if trailer.is_none() {
            let mut t = section.trailer;
            t.remove(b"Prev");
            t.remove(b"XRefStm");
            trailer = Some(t);
        }
    }
    let trailer = trailer.ok_or_else(|| damaged("no trailer"))?;
    Ok((merged, trailer))
}

/// The offset `startxref` names, near the end of the file.
fn xref_start(pdf: &[u8]) -> Result<usize, SigningError> {
    let tail_from = pdf.len().saturating_sub(1024);
    let at = memchr::memmem::rfind(&pdf[tail_from..], b"startxref")
        .map(|i| tail_from + i + b"startxref".len())
        .ok_or_else(|| damaged("no startxref"))?;
    let mut lexer = Lexer::new(pdf, at);
    lexer.space();
    lexer
        .unsigned()
        .and_then(|n| usize::try_from(n).ok())
        .filter(|&n| n < pdf.len())
        .ok_or_else(|| damaged("startxref names no offset in the file"))
}

/// An offset given in a trailer (/Prev, /XRefStm), if any.
fn position(value: Option<&Object>, pdf: &[u8]) -> Result<Option<usize>, SigningError> {
    let Some(value) = value else {
        return Ok(None);
    };
    value
        .as_i64()
        .ok()
        .and_then(|n| usize::try_from(n).ok())
        .filter(|&n| n < pdf.len())
        .map(Some)
        .ok_or_else(|| damaged("an offset outside the file"))
}

/// The section at `offset`: a table with its trailer, or a stream.
fn section_at(
    pdf: &[u8],
    offset: usize,
    bounds: &mut Bounds,
    claimed: &mut u64,
) -> Result<Section, SigningError> {
    let mut lexer = Lexer::new(pdf, offset);
    lexer.space();
    if lexer.tag(b"xref") {
        let section = table(&mut lexer, bounds, claimed)?;
        bounds.section_bytes(lexer.pos - offset, pdf.len())?;
        Ok(section)
    } else {
        xref_stream(pdf, offset, bounds, claimed)
    }
}

/// A cross-reference table and its trailer (§7.5.4, §7.5.5). Entries are
/// read as tokens, so a writer's 19-byte lines read as well as 20-byte ones.
fn table(
    lexer: &mut Lexer,
    bounds: &mut Bounds,
    claimed: &mut u64,
) -> Result<Section, SigningError> {
    let mut entries = BTreeMap::new();
    loop {
        lexer.space();
        if lexer.tag(b"trailer") {
            lexer.space();
            // Its objects count with the file's.
            lexer.budget = bounds.parsed;
            let trailer = lexer.dictionary(0);
            bounds.parsed = lexer.budget;
            let trailer = trailer.map_err(|e| match bounds.parsed {
                0 => too_many_objects(),
                _ => damaged(e),
            })?;
            return Ok(Section { entries, trailer });
        }
        let first = lexer.unsigned();
        lexer.space();
        let (Some(first), Some(count)) = (first, lexer.unsigned()) else {
            return Err(damaged("a table subsection without its numbers"));
        };
        *claimed = claimed.saturating_add(count);
        let room = (lexer.bytes.len() - lexer.pos) as u64 / 18;
        if *claimed > bounds.entries || count > room {
            return Err(SigningError::Malformed(format!(
                "a cross-reference table claims {count} entries, more than the file holds"
            )));
        }
        for i in 0..count {
            lexer.space();
            let offset = lexer.unsigned();
            lexer.space();
            let generation = lexer.unsigned();
            lexer.space();
            let kind = if lexer.tag(b"n") {
                b'n'
            } else if lexer.tag(b"f") {
                b'f'
            } else {
                0
            };
            let num = u32::try_from(first.saturating_add(i))
                .map_err(|_| damaged("an object number out of range"))?;
            let entry = match (kind, offset, generation) {
                (b'n', Some(offset), Some(generation)) => XrefEntry::Normal {
                    offset: u32::try_from(offset).map_err(|_| damaged("an offset out of range"))?,
                    generation: u16::try_from(generation)
                        .map_err(|_| damaged("a generation out of range"))?,
                },
                (b'f', Some(_), Some(_)) => XrefEntry::Free,
                _ => return Err(damaged("a table entry")),
            };
            entries.insert(num, entry);
        }
    }
}

/// A cross-reference stream (§7.5.8): its dictionary is the trailer.
fn xref_stream(
    pdf: &[u8],
    offset: usize,
    bounds: &mut Bounds,
    claimed: &mut u64,
) -> Result<Section, SigningError> {
    let neither = || damaged("a section that is neither table nor stream");
    let (_, object, start, _) = object_at(pdf, offset, &mut bounds.parsed).map_err(damaged)?;
    let (Object::Dictionary(dict), Some(start)) = (object, start) else {
        return Err(neither());
    };
    if dict.get(b"Type").and_then(Object::as_name).ok() != Some(b"XRef") {
        return Err(neither());
    }
    // A direct /Length, and `endstream` after it: the data is never looked
    // for, so a chain of sections cannot each run to the file's end.
    let data = match dict.get(b"Length") {
        Ok(Object::Integer(n)) => usize::try_from(*n)
            .ok()
            .and_then(|n| exact_data(pdf, start, n)),
        _ => return Err(damaged("a stream without a direct /Length")),
    }
    .ok_or_else(|| damaged("a stream whose /Length does not end at endstream"))?;
    bounds.section_bytes(start - offset + data.len(), pdf.len())?;
    let numbers = |key: &[u8]| -> Option<Vec<u64>> {
        dict.get(key)
            .and_then(Object::as_array)
            .ok()?
            .iter()
            .map(|o| o.as_i64().ok().and_then(|n| u64::try_from(n).ok()))
            .collect()
    };
    let widths = numbers(b"W")
        .filter(|w| w.len() == 3)
        .ok_or_else(|| damaged("a stream without three non-negative integer widths (/W)"))?;
    if let Some(w) = widths.iter().find(|&&w| w > 8) {
        return Err(SigningError::Malformed(format!(
            "a cross-reference stream's field width {w} is more than 8 bytes"
        )));
    }
    let size = dict
        .get(b"Size")
        .and_then(Object::as_i64)
        .ok()
        .and_then(|n| u64::try_from(n).ok())
        .ok_or_else(|| damaged("a stream without /Size"))?;
    let index = match dict.get(b"Index") {
        Ok(_) => numbers(b"Index")
            .filter(|i| i.len() % 2 == 0)
            .ok_or_else(|| damaged("a bad /Index"))?,
        Err(_) => vec![0, size],
    };
    let total = index
        .iter()
        .skip(1)
        .step_by(2)
        .fold(0u64, |t, n| t.saturating_add(*n));
    *claimed = claimed.saturating_add(total);
    if *claimed > bounds.entries {
        return Err(SigningError::Malformed(format!(
            "a cross-reference stream claims {total} entries (/Index), more than the file holds"
        )));
    }
    // Each width is at most 8 (checked above), so these fit.
    let w: Vec<usize> = widths.iter().map(|&w| w as usize).collect();
    let row = w.iter().sum::<usize>();
    if row == 0 {
        return Err(damaged("a stream with empty rows"));
    }
    let decoded = bounds.decode(&dict, data).map_err(|e| match e {
        Decode::TooLarge(e) => e,
        Decode::Broken(e) => damaged(format!("a stream: {e}")),
    })?;
    let field = |bytes: &[u8]| bytes.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b));
    let mut rows = decoded.chunks_exact(row);
    let mut entries = BTreeMap::new();
    for pair in index.chunks_exact(2) {
        for i in 0..pair[1] {
            let r = rows
                .next()
                .ok_or_else(|| damaged("a stream shorter than its /Index"))?;
            let (a, rest) = r.split_at(w[0]);
            let (b, c) = rest.split_at(w[1]);
            // A missing type field means type 1 (§7.5.8.2, Table 17).
            let kind = if w[0] == 0 { 1 } else { field(a) };
            let num = u32::try_from(pair[0].saturating_add(i))
                .map_err(|_| damaged("an object number out of range"))?;
            let (b, c) = (field(b), field(c));
            let entry = match kind {
                0 => XrefEntry::Free,
                1 => XrefEntry::Normal {
                    offset: u32::try_from(b).map_err(|_| damaged("an offset out of range"))?,
                    generation: u16::try_from(c).unwrap_or(u16::MAX),
                },
                2 => XrefEntry::Compressed {
                    container: u32::try_from(b)
                        .map_err(|_| damaged("an object number out of range"))?,
                    index: u16::try_from(c).unwrap_or(u16::MAX),
                },
                // Other types are references to the null object (Table 18).
                _ => continue,
            };
            entries.insert(num, entry);
        }
    }
    // What lopdf keeps of the stream's dictionary as the trailer.
    let mut trailer = dict;
    for key in [
        b"Length".as_slice(),
        b"W",
        b"Index",
        b"Filter",
        b"DecodeParms",
    ] {
        trailer.remove(key);
    }
    Ok(Section { entries, trailer })
}

/// The indirect object at `offset`, where its stream data starts if it is
/// a stream, and where what was read of it ends.
type Indirect = (ObjectId, Object, Option<usize>, usize);

fn object_at(pdf: &[u8], offset: usize, budget: &mut usize) -> Result<Indirect, &'static str> {
    let mut lexer = Lexer::new(pdf, offset);
    lexer.budget = *budget;
    let id = lexer.object_header()?;
    let object = lexer.object(0);
    *budget = lexer.budget;
    let object = object?;
    let data = match object {
        Object::Dictionary(_) => lexer.stream_start(),
        _ => None,
    };
    Ok((id, object, data, lexer.pos))
}

/// A stream's `length` bytes of data from `start`, if `endstream` follows
/// them (after an optional end of line).
fn exact_data(pdf: &[u8], start: usize, length: usize) -> Option<&[u8]> {
    let end = start.checked_add(length).filter(|&end| end <= pdf.len())?;
    let mut after = end;
    while after < pdf.len() && after < end + 2 && is_space(pdf[after]) {
        after += 1;
    }
    if pdf[after..].starts_with(b"endstream") {
        pdf.get(start..end)
    } else {
        None
    }
}

/// A stream's data from `start`: `length` bytes when `endstream` follows
/// them (after an optional end of line), else up to the first `endstream`,
/// as lopdf and viewers recover it.
pub(super) fn stream_data(pdf: &[u8], start: usize, length: Option<i64>) -> Option<&[u8]> {
    if let Some(data) = length
        .and_then(|n| usize::try_from(n).ok())
        .and_then(|n| exact_data(pdf, start, n))
    {
        return Some(data);
    }
    let found = memchr::memmem::find(pdf.get(start..)?, b"endstream")?;
    let mut end = start + found;
    if pdf[..end].ends_with(b"\r\n") {
        end -= 2;
    } else if pdf[..end].ends_with(b"\n") || pdf[..end].ends_with(b"\r") {
        end -= 1;
    }
    pdf.get(start..end.max(start))
}

/// Every object the cross-reference data places, filed under its entry's
/// number: its value, a stream with its dictionary only. Each offset is
/// read once and each object stream decoded once. Refuses an in-use entry
/// whose object does not parse, names another number or generation, or
/// shares its offset with another entry: a viewer resolves references
/// through the entries, and an object filed under the number in its own
/// header could stand in for the newest revision's (an update would then
/// write the stale object back), or hide the numbers it refers to from
/// the new numbers an update takes. Members of object streams come after,
/// never replacing an object read at an offset, and only for numbers whose
/// entry names that container or none (as lopdf).
fn objects(
    pdf: &[u8],
    entries: &BTreeMap<u32, XrefEntry>,
    bounds: &mut Bounds,
) -> Result<BTreeMap<ObjectId, Object>, SigningError> {
    let mut objects = BTreeMap::new();
    let mut containers: Vec<(u32, Dictionary, usize)> = Vec::new();
    let mut at_offset: HashMap<u32, u32> = HashMap::new();
    // Bytes read, over all objects and object streams: an honest file's
    // objects are apart, so together no longer than it.
    let mut read: usize = 0;
    let mut count = |n: usize| {
        read = read.saturating_add(n);
        if read > pdf.len() {
            Err(damaged("objects that overlap"))
        } else {
            Ok(())
        }
    };
    for (&num, entry) in entries {
        let XrefEntry::Normal { offset, generation } = *entry else {
            continue;
        };
        if let Some(other) = at_offset.insert(offset, num) {
            return Err(damaged(format!(
                "the entries for objects {other} and {num} name one offset ({offset})"
            )));
        }
        let (id, object, data, end) =
            object_at(pdf, offset as usize, &mut bounds.parsed).map_err(|e| {
                match bounds.parsed {
                    0 => too_many_objects(),
                    _ => damaged(format!("object {num} at offset {offset}: {e}")),
                }
            })?;
        if id != (num, generation) {
            return Err(damaged(format!(
                "the entry for object {num} {generation} names object {} {}",
                id.0, id.1
            )));
        }
        count(end - offset as usize)?;
        let object = match (object, data) {
            (Object::Dictionary(dict), Some(start)) => {
                if dict.get(b"Type").and_then(Object::as_name).ok() == Some(b"ObjStm") {
                    containers.push((num, dict.clone(), start));
                }
                Object::Stream(Stream {
                    dict,
                    content: Vec::new(),
                    allows_compression: true,
                    start_position: Some(start),
                })
            }
            (object, _) => object,
        };
        objects.insert(id, object);
    }
    for (container, dict, start) in containers {
        let length = match dict.get(b"Length") {
            Ok(Object::Reference(id)) => objects.get(id).and_then(|o| o.as_i64().ok()),
            Ok(o) => o.as_i64().ok(),
            Err(_) => None,
        };
        let Some(data) = stream_data(pdf, start, length) else {
            continue;
        };
        count(data.len())?;
        let decoded = match bounds.decode(&dict, data) {
            Ok(decoded) => decoded,
            Err(Decode::TooLarge(e)) => return Err(e),
            // Its members' entries are refused below.
            Err(Decode::Broken(_)) => continue,
        };
        for (id, member) in members(&dict, &decoded, &mut bounds.parsed)? {
            let belongs = match entries.get(&id.0) {
                Some(XrefEntry::Compressed { container: c, .. }) => *c == container,
                Some(XrefEntry::Free | XrefEntry::UnusableFree) => false,
                Some(XrefEntry::Normal { .. }) | None => true,
            };
            if belongs {
                objects.entry(id).or_insert(member);
            }
        }
    }
    for (&num, entry) in entries {
        if let XrefEntry::Compressed { container, .. } = *entry
            && !objects.contains_key(&(num, 0))
        {
            return Err(damaged(format!(
                "object {num} is not found in object stream {container}"
            )));
        }
    }
    Ok(objects)
}

/// The objects of an object stream (§7.5.7): /N pairs of number and
/// offset, the objects from /First on.
fn members(
    dict: &Dictionary,
    data: &[u8],
    budget: &mut usize,
) -> Result<Vec<(ObjectId, Object)>, SigningError> {
    let count = dict.get(b"N").and_then(Object::as_i64).ok();
    let first = dict.get(b"First").and_then(Object::as_i64).ok();
    let (Some(count), Some(first)) = (
        count.and_then(|n| usize::try_from(n).ok()),
        first.and_then(|n| usize::try_from(n).ok()),
    ) else {
        return Ok(Vec::new());
    };
    let mut header = Lexer::new(data, 0);
    let mut out = Vec::new();
    // Bytes read, over all members: an honest stream's members are apart.
    let mut read: usize = 0;
    for _ in 0..count.min(data.len() / 2) {
        header.space();
        let num = header.unsigned();
        header.space();
        let offset = header.unsigned();
        let (Some(num), Some(offset)) = (
            num.and_then(|n| u32::try_from(n).ok()),
            offset.and_then(|n| usize::try_from(n).ok()),
        ) else {
            break;
        };
        let Some(at) = first.checked_add(offset).filter(|&at| at < data.len()) else {
            continue;
        };
        let mut lexer = Lexer::new(data, at);
        lexer.budget = *budget;
        let parsed = lexer.object(0);
        *budget = lexer.budget;
        if *budget == 0 {
            return Err(too_many_objects());
        }
        read = read.saturating_add(lexer.pos - at);
        if read > data.len() {
            return Err(damaged("an object stream's members overlap"));
        }
        if let Ok(object) = parsed {
            out.push(((num, 0), object));
        }
    }
    Ok(out)
}
