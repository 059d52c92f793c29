//! Files built to make the signing reader ([`super::reader`]) or lopdf
//! behind verification work hard or read the wrong object: cross-reference
//! entries that share an offset or point into one another, an object
//! reached through another number's entry, chains of cross-reference
//! streams, stream lengths that refer to streams, object streams whose
//! members overlap, files of millions of empty arrays, and a
//! cross-reference stream lopdf drops. Each is refused, quickly, both for
//! signing and for verification (which reads the file with the signing
//! reader first). The builders come from the outside reviews that found them.

use std::io::Write;
use std::time::{Duration, Instant};

use lopdf::Object;

use super::SigningError;
use super::pdf;
use super::tests::build_pdf as build;

/// What a debug build may take to refuse any of these files.
const QUICK: Duration = Duration::from_millis(500);

/// A tiny PDF writer: objects appended, offsets remembered.
struct W {
    out: Vec<u8>,
    offsets: Vec<(u32, usize)>,
}

impl W {
    fn new() -> Self {
        W {
            out: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec(),
            offsets: Vec::new(),
        }
    }

    fn obj(&mut self, num: u32, body: &[u8]) -> usize {
        let at = self.out.len();
        self.offsets.push((num, at));
        writeln!(self.out, "{num} 0 obj").unwrap();
        self.out.extend_from_slice(body);
        self.out.extend_from_slice(b"\nendobj\n");
        at
    }

    fn stream(&mut self, num: u32, dict: &str, data: &[u8]) -> usize {
        let mut body = format!("<<{dict}/Length {}>>\nstream\n", data.len()).into_bytes();
        body.extend_from_slice(data);
        body.extend_from_slice(b"\nendstream");
        self.obj(num, &body)
    }

    /// A compressed cross-reference stream (/W [1 4 2]) of `rows` (type,
    /// field 2, field 3) as object `num`, and `startxref`.
    fn xref_stream(&mut self, num: u32, rows: &[(u8, usize, u16)]) {
        self.xref_stream_with(num, rows, "");
    }

    /// [`W::xref_stream`] with `more` in its dictionary (the trailer's).
    fn xref_stream_with(&mut self, num: u32, rows: &[(u8, usize, u16)], more: &str) {
        let xref_at = self.out.len();
        let mut data = Vec::new();
        for &(kind, b, c) in rows {
            data.push(kind);
            data.extend_from_slice(&(b as u32).to_be_bytes());
            data.extend_from_slice(&c.to_be_bytes());
        }
        // The stream's own entry, last.
        data.push(1);
        data.extend_from_slice(&(xref_at as u32).to_be_bytes());
        data.extend_from_slice(&0u16.to_be_bytes());
        let size = rows.len() + 1;
        self.stream(
            num,
            &format!("/Type/XRef/W[1 4 2]/Size {size}/Root 1 0 R/Filter/FlateDecode{more}"),
            &deflate(&data),
        );
        write!(self.out, "startxref\n{xref_at}\n%%EOF\n").unwrap();
    }
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Loads `bytes` for signing and for verification, expecting a refusal
/// that says `what`, quickly.
fn refused(bytes: &[u8], what: &str) {
    refused_by(pdf::load_for_signing, bytes, what);
    refused_by(pdf::load, bytes, what);
}

fn refused_by(load: fn(&[u8]) -> Result<lopdf::Document, SigningError>, bytes: &[u8], what: &str) {
    let started = Instant::now();
    let e = load(bytes).unwrap_err();
    let took = started.elapsed();
    assert!(matches!(e, SigningError::Malformed(_)), "{what}: {e}");
    assert!(e.to_string().contains(what), "{what}: {e}");
    assert!(took < QUICK, "{what}: {} bytes took {took:?}", bytes.len());
}

/// A one-page PDF whose cross-reference stream has `dups` more entries,
/// all at the offset of one unfiltered object stream of `payload` bytes.
fn dup_objstm(dups: u32, payload: usize) -> Vec<u8> {
    let mut w = W::new();
    one_page(&mut w);
    let mut data = b"6 0 [".to_vec();
    while data.len() < payload {
        data.extend_from_slice(b"1 ");
    }
    data.push(b']');
    let objstm_at = w.stream(4, "/Type/ObjStm/N 1/First 4", &data);
    let mut rows = vec![(0, 0, 0)];
    rows.extend(w.offsets.iter().map(|&(_, at)| (1, at, 0)));
    // 5 is the cross-reference stream; the copies follow it.
    let mut copies = vec![(1, objstm_at, 0); dups as usize];
    let xref_at = w.out.len();
    rows.push((1, xref_at, 0));
    rows.append(&mut copies);
    let size = rows.len();
    let mut raw = Vec::new();
    for (kind, b, c) in rows {
        raw.push(kind);
        raw.extend_from_slice(&(b as u32).to_be_bytes());
        raw.extend_from_slice(&(c as u16).to_be_bytes());
    }
    w.stream(
        5,
        &format!("/Type/XRef/W[1 4 2]/Size {size}/Root 1 0 R/Filter/FlateDecode"),
        &deflate(&raw),
    );
    write!(w.out, "startxref\n{xref_at}\n%%EOF\n").unwrap();
    w.out
}

#[test]
fn entries_that_share_an_offset_are_refused_quickly() {
    let bytes = dup_objstm(1_000, 20_000);
    assert!(bytes.len() > 20_000);
    refused(&bytes, "name one offset");
    // Two entries for one plain object, in a table.
    let base = build(&[
        "<</Type /Catalog /Pages 2 0 R>>",
        "<</Type /Pages /Kids [3 0 R] /Count 1>>",
        "<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]>>",
    ]);
    let s = String::from_utf8(base).unwrap();
    let page = s.lines().rev().nth(5).unwrap().to_owned();
    let bytes = s
        .replacen("xref\n0 4", "xref\n0 5", 1)
        .replacen(&format!("{page}\n"), &format!("{page}\n{page}\n"), 1)
        .replacen("/Size 4", "/Size 5", 1);
    refused(bytes.as_bytes(), "name one offset");
    // Verification's pre-scan refuses both before lopdf reads them (it
    // would read the object once per entry).
    for file in [dup_objstm(1_000, 20_000), bytes.into_bytes()] {
        let started = Instant::now();
        let e = pdf::load(&file).map(|_| ()).unwrap_err().to_string();
        assert!(e.contains("name one offset"), "{e}");
        assert!(started.elapsed().as_millis() < 500);
    }
}

#[test]
fn entries_that_point_into_one_another_are_refused_quickly() {
    // Object 4 is a string that nests the headers of 5, 6, ... (as deep
    // as strings may nest) around 20 KB: each entry's object runs to the
    // end of the one string.
    let count = 60u32;
    let mut w = W::new();
    one_page(&mut w);
    let start = w.out.len();
    let mut rows = vec![(0u8, 0usize, 0u16)];
    rows.extend(w.offsets.iter().map(|&(_, at)| (1, at, 0)));
    for num in 4..4 + count {
        rows.push((1, w.out.len(), 0));
        write!(w.out, "{num} 0 obj (").unwrap();
    }
    w.out.extend(std::iter::repeat_n(b'x', 20_000));
    w.out.extend(std::iter::repeat_n(b')', count as usize));
    w.out.extend_from_slice(b"\nendobj\n");
    assert!(w.out.len() - start < 40_000);
    w.xref_stream(4 + count, &rows);
    refused(&w.out, "overlap");
}

/// Revision 2 replaces the page (object 3); entry 7 (if `stale`), still
/// in use, names revision 1's page, whose header says `3 0 obj`.
fn shadowed_page(stale: bool) -> Vec<u8> {
    let mut w = W::new();
    let cat = w.obj(1, b"<</Type/Catalog/Pages 2 0 R>>");
    let pages = w.obj(2, b"<</Type/Pages/Kids[3 0 R]/Count 1>>");
    let page_old = w.obj(
        3,
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>",
    );
    let c_old = w.stream(4, "", b"BT /F1 24 Tf 72 700 Td (PAY 100 VND) Tj ET");
    let font = w.obj(5, b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>");
    let x1 = w.out.len();
    write!(
        w.out,
        "xref\n0 6\n0000000000 65535 f \n{cat:010} 00000 n \n{pages:010} 00000 n \n{page_old:010} 00000 n \n{c_old:010} 00000 n \n{font:010} 00000 n \ntrailer\n<</Size 6/Root 1 0 R>>\nstartxref\n{x1}\n%%EOF\n"
    )
    .unwrap();
    let page_new = w.obj(
        3,
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 6 0 R/Resources<</Font<</F1 5 0 R>>>>>>",
    );
    let c_new = w.stream(6, "", b"BT /F1 24 Tf 72 700 Td (PAY 999999 VND) Tj ET");
    let x2 = w.out.len();
    let (count, size) = if stale { (2, 8) } else { (1, 7) };
    write!(
        w.out,
        "xref\n3 1\n{page_new:010} 00000 n \n6 {count}\n{c_new:010} 00000 n \n"
    )
    .unwrap();
    if stale {
        writeln!(w.out, "{page_old:010} 00000 n ").unwrap();
    }
    write!(
        w.out,
        "trailer\n<</Size {size}/Root 1 0 R/Prev {x1}>>\nstartxref\n{x2}\n%%EOF\n"
    )
    .unwrap();
    w.out
}

#[test]
fn an_object_reached_through_another_numbers_entry_is_refused() {
    refused(
        &shadowed_page(true),
        "the entry for object 7 0 names object 3 0",
    );
    // Without entry 7, the newest page is read.
    let doc = pdf::load_for_signing(&shadowed_page(false)).unwrap();
    let page = doc.get_object((3, 0)).unwrap().as_dict().unwrap();
    assert_eq!(page.get(b"Contents").unwrap(), &Object::Reference((6, 0)));
}

#[test]
fn an_in_use_object_that_does_not_read_is_refused() {
    let objects = [
        "<</Type /Catalog /Pages 2 0 R>>",
        "<</Type /Pages /Kids [3 0 R] /Count 1>>",
        "<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]>>",
        "<</Type /Annot /P 3 0 R /Parent 40 0 R>>",
    ];
    let s = String::from_utf8(build(&objects)).unwrap();
    for (from, to, what) in [
        // Same lengths, so the offsets stay right.
        (
            "/P 3 0 R /Parent 40",
            "/P 3 0 R]/Parent 40",
            "object 4 at offset",
        ),
        ("4 0 obj", "4 0 obX", "object 4 at offset"),
        (
            "4 0 obj",
            "4 1 obj",
            "the entry for object 4 0 names object 4 1",
        ),
    ] {
        refused(s.replacen(from, to, 1).as_bytes(), what);
    }
}

/// Object 3 (the page) in object stream 4; entry `missing`, if any, names
/// a member stream 4 does not have.
fn compressed_page(missing: Option<u32>) -> Vec<u8> {
    let mut w = W::new();
    let cat = w.obj(1, b"<</Type/Catalog/Pages 2 0 R>>");
    let pages = w.obj(2, b"<</Type/Pages/Kids[3 0 R]/Count 1>>");
    let members = b"3 0 <</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>";
    let objstm = w.stream(4, "/Type/ObjStm/N 1/First 4", members);
    let mut rows = vec![
        (0, 0, 0),
        (1, cat, 0),
        (1, pages, 0),
        (2, 4, 0),
        (1, objstm, 0),
    ];
    if let Some(n) = missing {
        rows.resize(n as usize, (0, 0, 0));
        rows.push((2, 4, 1));
    }
    let next = rows.len() as u32;
    w.xref_stream(next, &rows);
    w.out
}

#[test]
fn a_compressed_entry_without_its_member_is_refused() {
    // Read alike for signing and for verification, through a compressed
    // cross-reference stream (lopdf keeps neither its /Filter nor its
    // /DecodeParms in the trailer).
    let doc = pdf::load_for_signing(&compressed_page(None)).unwrap();
    assert!(doc.get_object((3, 0)).unwrap().as_dict().is_ok());
    let doc = pdf::load(&compressed_page(None)).unwrap();
    assert!(doc.get_object((3, 0)).unwrap().as_dict().is_ok());
    refused(
        &compressed_page(Some(7)),
        "object 7 is not found in object stream 4",
    );
}

/// A catalog, its pages and one page (objects 1 to 3); their offsets.
fn one_page(w: &mut W) -> [usize; 3] {
    [
        w.obj(1, b"<</Type/Catalog/Pages 2 0 R>>"),
        w.obj(2, b"<</Type/Pages/Kids[3 0 R]/Count 1>>"),
        w.obj(3, b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>"),
    ]
}

/// A catalog, its pages and one page, and a table for them whose trailer
/// has no startxref yet; where the table starts.
fn one_page_table(w: &mut W) -> usize {
    let [cat, pages, page] = one_page(w);
    let table_at = w.out.len();
    write!(
        w.out,
        "xref\n0 4\n0000000000 65535 f \n{cat:010} 00000 n \n{pages:010} 00000 n \n{page:010} 00000 n \ntrailer\n<</Size 4/Root 1 0 R>>\n"
    )
    .unwrap();
    table_at
}

/// A /Prev chain of `sections` cross-reference streams with no filter, no
/// /Length and /Index [0 0], over one tail of `tail` bytes.
fn xref_chain(sections: usize, tail: usize) -> Vec<u8> {
    let mut w = W::new();
    let table_at = one_page_table(&mut w);
    let mut prev = table_at;
    for i in 0..sections {
        let at = w.out.len();
        write!(
            w.out,
            "{} 0 obj\n<</Type/XRef/W[1 1 1]/Index[0 0]/Size 4/Root 1 0 R/Prev {prev}>>\nstream\n",
            10 + i
        )
        .unwrap();
        prev = at;
    }
    w.out.extend(std::iter::repeat_n(b'x', tail));
    write!(w.out, "\nendstream\nendobj\nstartxref\n{prev}\n%%EOF\n").unwrap();
    w.out
}

/// The same chain with a /Length on each stream: each section's data is
/// the next section, so the sections nest and together take far more
/// bytes than the file.
fn nested_xref_chain(sections: usize) -> Vec<u8> {
    let mut w = W::new();
    let table_at = one_page_table(&mut w);
    // Numbers padded to ten digits, so every header has one length.
    let header = |num: usize, prev: usize, length: usize| {
        format!(
            "{num} 0 obj\n<</Type/XRef/W[1 1 1]/Index[0 0]/Size 4/Root 1 0 R/Prev {prev:010}/Length {length:010}>>\nstream\n"
        )
    };
    let h = header(10 + sections, 0, 0).len();
    let end = b"\nendstream".len();
    let first = w.out.len();
    // Section i (outermost first) starts at first + i*h; its data is
    // section i + 1, so its length is (sections - 1 - i) * (h + end).
    let mut tail = Vec::new();
    for i in 0..sections {
        let prev = if i == 0 {
            table_at
        } else {
            first + (i - 1) * h
        };
        let length = (sections - 1 - i) * (h + end);
        w.out
            .extend_from_slice(header(10 + sections + i, prev, length).as_bytes());
        tail.extend_from_slice(b"\nendstream");
    }
    w.out.extend_from_slice(&tail);
    let innermost = first + (sections - 1) * h;
    write!(w.out, "\nendobj\nstartxref\n{innermost}\n%%EOF\n").unwrap();
    w.out
}

#[test]
fn chains_of_cross_reference_streams_are_bounded() {
    refused(&xref_chain(2_000, 2_000_000), "without a direct /Length");
    let nested = nested_xref_chain(1_000);
    assert!(nested.len() < 200_000);
    refused(&nested, "overlap");
    // The chain's builder makes a file that reads without the chain.
    assert!(pdf::load_for_signing(&xref_chain(0, 0)).is_ok());
}

/// One page, then `count` streams, each with the dictionary `dict(n)` for
/// its number n (from 4), then the objects `after`.
fn streams(count: u32, dict: impl Fn(u32) -> String, after: &[String]) -> Vec<u8> {
    let mut objects = vec![
        "<</Type /Catalog /Pages 2 0 R>>".to_owned(),
        "<</Type /Pages /Kids [3 0 R] /Count 1>>".to_owned(),
        "<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]>>".to_owned(),
    ];
    for n in 4..4 + count {
        objects.push(format!("<<{}>>\nstream\nabc\nendstream", dict(n)));
    }
    objects.extend_from_slice(after);
    let objects: Vec<&str> = objects.iter().map(String::as_str).collect();
    build(&objects)
}

#[test]
fn stream_lengths_that_refer_to_streams_or_arrays_are_refused() {
    // Each stream's /Length names the next stream: lopdf followed the chain
    // on its stack, as deep as it went, and a debug build died of it.
    let chain = streams(2000, |n| format!("/Length {} 0 R", n + 1), &[]);
    refused(&chain, "stream 4 0 has no /Length that is a number");
    // Many streams naming one long array: lopdf read it once per stream.
    let array = format!("[{}]", "0 ".repeat(50_000));
    let shared = streams(1000, |_| "/Length 1004 0 R".to_owned(), &[array]);
    refused(&shared, "stream 4 0 has no /Length that is a number");
    // None, or naming no object: lopdf leaves the data empty where a viewer
    // reads up to `endstream`.
    refused(&streams(1, |_| String::new(), &[]), "no /Length");
    refused(
        &streams(1, |_| "/Length 99 0 R".to_owned(), &[]),
        "no /Length",
    );
    // A length in an object of its own is read.
    let fine = streams(1, |_| "/Length 5 0 R".to_owned(), &["3".to_owned()]);
    assert!(pdf::load_for_signing(&fine).is_ok());
    assert!(pdf::load(&fine).is_ok());
}

#[test]
fn object_stream_members_that_overlap_are_refused() {
    // 200 members, all at the start of one array of 2,000 empty arrays:
    // lopdf parsed the array once per member.
    let mut w = W::new();
    one_page(&mut w);
    let header: String = (0..200).map(|i| format!("{} 0 ", 10 + i)).collect();
    let data = format!("{header}[{}]", "[]".repeat(2000));
    let objstm = w.stream(
        4,
        &format!(
            "/Type/ObjStm/N 200/First {}/Filter/FlateDecode",
            header.len()
        ),
        &deflate(data.as_bytes()),
    );
    let mut rows = vec![(0, 0, 0)];
    rows.extend(w.offsets.iter().take(3).map(|&(_, at)| (1, at, 0)));
    rows.push((1, objstm, 0));
    let next = rows.len() as u32;
    w.xref_stream(next, &rows);
    refused(&w.out, "members overlap");
}

#[test]
fn a_file_of_more_objects_than_one_may_hold_is_refused() {
    // 1 MB of `[]`: lopdf took some 600 bytes of memory for each.
    let many = format!("[{}]", "[]".repeat(super::reader::MAX_PARSED));
    let bytes = streams(0, |_| String::new(), &[many]);
    refused(&bytes, "more than 500000 objects");
    let fewer = format!("[{}]", "[]".repeat(super::reader::MAX_PARSED - 100));
    pdf::load(&streams(0, |_| String::new(), &[fewer])).unwrap();
}

#[test]
fn a_cross_reference_stream_lopdf_would_drop_is_refused() {
    // Revision 2's table names a cross-reference stream (/XRefStm, a hybrid
    // file) that moves the page into an object stream, drawing more. Its
    // data ends with a space before `endstream`, where lopdf wants an end
    // of line: lopdf dropped the stream silently and verified the old page.
    let mut w = W::new();
    let x1 = one_page_table(&mut w);
    write!(w.out, "startxref\n{x1}\n%%EOF\n").unwrap();
    let draw = w.stream(4, "", b"0 0 1 rg 0 0 612 792 re f");
    let members = b"3 0 <</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R>>";
    let objstm = w.stream(5, "/Type/ObjStm/N 1/First 4", members);
    let mut rows = vec![2u8];
    rows.extend_from_slice(&5u32.to_be_bytes());
    rows.extend_from_slice(&0u16.to_be_bytes());
    let xrefstm = w.out.len();
    write!(
        w.out,
        "6 0 obj\n<</Type/XRef/Size 7/Index [3 1]/W [1 4 2]/Length {}>>\nstream\n",
        rows.len()
    )
    .unwrap();
    w.out.extend_from_slice(&rows);
    w.out.extend_from_slice(b" endstream\nendobj\n");
    let x2 = w.out.len();
    write!(
        w.out,
        "xref\n4 2\n{draw:010} 00000 n \n{objstm:010} 00000 n \ntrailer\n<</Size 7/Root 1 0 R/Prev {x1}/XRefStm {xrefstm}>>\nstartxref\n{x2}\n%%EOF\n"
    )
    .unwrap();
    // Signing reads the page the stream places.
    let doc = pdf::load_for_signing(&w.out).unwrap();
    let page = doc.get_object((3, 0)).unwrap().as_dict().unwrap();
    assert_eq!(page.get(b"Contents").unwrap(), &Object::Reference((4, 0)));
    refused_by(pdf::load, &w.out, "the file reads two ways");
}

#[test]
fn a_trailer_counts_its_objects_with_the_file_s() {
    let mut w = W::new();
    let at = one_page_table(&mut w);
    // The table's trailer, not yet closed: one more key holding a long array.
    w.out.truncate(w.out.len() - 3);
    write!(
        w.out,
        "/X[{}]>>\nstartxref\n{at}\n%%EOF\n",
        "[]".repeat(super::reader::MAX_PARSED)
    )
    .unwrap();
    refused(&w.out, "more than 500000 objects");
}

#[test]
fn a_hybrid_file_s_stream_may_not_place_what_its_table_frees() {
    // Revision 2's table frees the page (3); its cross-reference stream
    // places 3 at an object appended after. A reader that keeps the table's
    // entry rebuilds the cross-reference data and may show another page.
    let mut w = W::new();
    let x1 = one_page_table(&mut w);
    write!(w.out, "startxref\n{x1}\n%%EOF\n").unwrap();
    let page = w.obj(3, b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 300]>>");
    let mut rows = vec![1u8];
    rows.extend_from_slice(&(page as u32).to_be_bytes());
    rows.extend_from_slice(&0u16.to_be_bytes());
    let xrefstm = w.stream(4, "/Type/XRef/Size 5/Index [3 1]/W [1 4 2]", &rows);
    let x2 = w.out.len();
    write!(
        w.out,
        "xref\n3 1\n0000000000 00001 f \ntrailer\n<</Size 5/Root 1 0 R/Prev {x1}/XRefStm {xrefstm}>>\nstartxref\n{x2}\n%%EOF\n"
    )
    .unwrap();
    refused(&w.out, "places object 3, which its table lists as free");
}

#[test]
fn document_information_a_cross_reference_stream_names_may_change() {
    // Revision 1 ends with a compressed cross-reference stream whose
    // dictionary (the trailer) names the document information; revision 2
    // rewrites it, as writers do. The stream's dictionary is a trailer, not
    // an object that uses the information: only what writers update changed.
    let mut w = W::new();
    one_page(&mut w);
    w.obj(4, b"<</Producer (first)>>");
    let mut rows = vec![(0, 0, 0)];
    rows.extend(w.offsets.iter().map(|&(_, at)| (1, at, 0)));
    let x1 = w.out.len();
    w.xref_stream_with(5, &rows, "/Info 4 0 R");
    let first = w.out.len();
    let info = w.obj(4, b"<</Producer (second) /ModDate (D:20261202)>>");
    let x2 = w.out.len();
    write!(
        w.out,
        "xref\n4 1\n{info:010} 00000 n \ntrailer\n<</Size 6/Root 1 0 R/Info 4 0 R/Prev {x1}>>\nstartxref\n{x2}\n%%EOF\n"
    )
    .unwrap();
    let signed = pdf::load(&w.out[..first]).unwrap();
    let latest = pdf::load(&w.out).unwrap();
    let c = super::changes::changes(&signed, &latest);
    assert_eq!((c.what, c.detail), ("signatures_only", None));
}

/// A file whose first object is a linearization dictionary claiming the
/// length `claimed` (`None`: the file's own length), then one page and a
/// table that `startxref` names.
fn linearized(claimed: Option<usize>) -> Vec<u8> {
    let mut w = W::new();
    w.obj(4, b"<</Linearized 1/L 0000000000>>");
    let x = one_page_table(&mut w);
    write!(w.out, "startxref\n{x}\n%%EOF\n").unwrap();
    let length = claimed.unwrap_or(w.out.len());
    let at = memchr::memmem::find(&w.out, b"/L 0000000000").unwrap() + 3;
    w.out[at..at + 10].copy_from_slice(format!("{length:010}").as_bytes());
    w.out
}

#[test]
fn a_linearized_file_is_read_from_where_a_viewer_reads_it() {
    // As long as /L says: a viewer starts from the section after the
    // dictionary, not the one startxref names.
    refused(
        &linearized(None),
        "a linearized file whose startxref does not name its first-page section",
    );
    // Longer than it is: signing refuses it (appending could make it so);
    // shorter, a viewer ignores the dictionary as we do.
    assert!(pdf::load(&linearized(Some(100_000))).is_ok());
    let e = pdf::prepare(
        &linearized(Some(100_000)),
        &pdf::load_for_signing(&linearized(Some(100_000))).unwrap(),
        &pdf::SigFields::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("longer than it is (/L)"), "{e}");
    assert!(pdf::load(&linearized(Some(10))).is_ok());
}
