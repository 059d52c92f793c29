//! The signing path's reader ([`super::reader`]) against lopdf's full load:
//! the same trailer, entries and dictionaries, so the same update written
//! byte for byte; and the same refusals of hostile files.

use lopdf::{Document, Object, SaveOptions};

use super::SigningError;
use super::appearance::Appearance;
use super::pdf::{self, SigFields};
use super::placement::{Placement, Position, Rect};
use super::tests::{build_pdf as build, fixture};
use crate::kinds::{SignaturePage, SignaturePlace};

const NOW: i64 = 1_790_000_000;

/// `bytes` written again by lopdf with object streams and a
/// cross-reference stream (what PDF 1.5 writers make).
fn modern(bytes: &[u8]) -> Vec<u8> {
    let mut doc = Document::load_mem(bytes).unwrap();
    let mut out = Vec::new();
    doc.save_with_options(
        &mut out,
        SaveOptions::builder()
            .use_object_streams(true)
            .use_xref_streams(true)
            .build(),
    )
    .unwrap();
    out
}

/// lopdf's own full load, without [`pdf::load`]'s pre-scan (which refuses
/// some files lopdf itself writes with object streams).
fn lopdf(bytes: &[u8]) -> Document {
    let doc = Document::load_mem(bytes).unwrap();
    assert!(doc.xref_recovery.is_none());
    doc
}

/// `bytes` with one signature field added, as an update (a second revision).
fn updated(bytes: &[u8]) -> Vec<u8> {
    let doc = lopdf(bytes);
    pdf::prepare(bytes, &doc, &SigFields::default())
        .unwrap()
        .bytes
}

fn documents() -> Vec<(&'static str, Vec<u8>)> {
    let one = fixture("ke-hoach-1-trang.pdf");
    let many = fixture("ke-hoach-nhieu-trang.pdf");
    vec![
        ("one page", one.clone()),
        ("many pages", many.clone()),
        ("object streams", modern(&many)),
        ("updated", updated(&one)),
        ("updated twice", updated(&updated(&many))),
        ("object streams, updated", updated(&modern(&one))),
    ]
}

fn same_structure(what: &str, full: &Document, ours: &Document) {
    assert_eq!(
        format!("{:?}", full.trailer),
        format!("{:?}", ours.trailer),
        "{what}: trailer"
    );
    assert_eq!(full.xref_start, ours.xref_start, "{what}: startxref");
    assert_eq!(
        full.reference_table.entries.keys().collect::<Vec<_>>(),
        ours.reference_table.entries.keys().collect::<Vec<_>>(),
        "{what}: entries"
    );
    assert_eq!(
        full.objects.keys().collect::<Vec<_>>(),
        ours.objects.keys().collect::<Vec<_>>(),
        "{what}: objects"
    );
    for (id, theirs) in &full.objects {
        let mine = &ours.objects[id];
        match (theirs, mine) {
            (Object::Stream(a), Object::Stream(b)) => {
                // lopdf sets /Length to the data it copied; ours is as written.
                let (mut a, mut b) = (a.dict.clone(), b.dict.clone());
                a.remove(b"Length");
                b.remove(b"Length");
                assert_eq!(format!("{a:?}"), format!("{b:?}"), "{what}: {id:?}");
                assert!(
                    ours.objects[id].as_stream().unwrap().content.is_empty(),
                    "{what}: {id:?}: no stream data read"
                );
            }
            _ => assert_eq!(format!("{theirs:?}"), format!("{mine:?}"), "{what}: {id:?}"),
        }
    }
}

#[test]
fn the_reader_sees_what_lopdf_sees_without_the_stream_data() {
    for (what, bytes) in documents() {
        let full = lopdf(&bytes);
        let ours = pdf::load_for_signing(&bytes).unwrap();
        same_structure(what, &full, &ours);
    }
}

#[test]
fn the_update_is_the_same_byte_for_byte() {
    let seal = Appearance::Personal {
        name: "Nguyễn Thị Hương".into(),
        title: Some("Phó Giám đốc Sở".into()),
        image: None,
    };
    let positions = [
        None,
        Some(Position::Default {
            page: SignaturePage::Last,
            place: SignaturePlace::BottomRight,
        }),
        Some(Position::At(Placement {
            page: 1,
            rect: Rect::from_corners((100.0, 100.0), (300.0, 180.0)),
        })),
        Some(Position::OverLastSignature {
            page: SignaturePage::Last,
            place: SignaturePlace::BottomRight,
        }),
    ];
    for (what, bytes) in documents() {
        let full = lopdf(&bytes);
        let ours = pdf::load_for_signing(&bytes).unwrap();
        for position in positions {
            let fields = SigFields {
                reason: Some("Phê duyệt"),
                name: Some("Nguyễn Thị Hương"),
                now: NOW,
                position,
                appearance: position.map(|_| &seal),
            };
            let a = pdf::prepare(&bytes, &full, &fields).unwrap();
            let b = pdf::prepare(&bytes, &ours, &fields).unwrap();
            assert!(a.bytes == b.bytes, "{what}, {position:?}");
            assert_eq!(a.contents(), b.contents());
        }
        assert_eq!(pdf::docmdp_permission(&full), pdf::docmdp_permission(&ours));
    }
}

const CATALOG: &str = "<</Type /Catalog /Pages 2 0 R>>";
const PAGES: &str = "<</Type /Pages /Kids [3 0 R] /Count 1>>";
const PAGE: &str = "<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]>>";

#[test]
fn new_numbers_stay_above_every_number_referred_to() {
    // Object 3's stream names 40 0 R, which does not exist: the update's
    // objects must not give it a meaning. The stream data is not read,
    // but the dictionary is.
    let bytes = build(&[
        CATALOG,
        PAGES,
        "<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R>>",
        "<</Length 3 /Missing 40 0 R>>\nstream\nq Q\nendstream",
    ]);
    let doc = pdf::load_for_signing(&bytes).unwrap();
    let prepared = pdf::prepare(&bytes, &doc, &SigFields::default()).unwrap();
    let update = String::from_utf8_lossy(&prepared.bytes[bytes.len()..]).into_owned();
    assert!(update.contains("41 0 obj"), "{update}");
    assert!(!update.contains("\n40 0 obj"), "{update}");
}

#[test]
fn hostile_cross_reference_data_is_refused_quickly() {
    let base = build(&[CATALOG, PAGES, PAGE]);
    let replace = |from: &str, to: &str| {
        let s = String::from_utf8(base.clone()).unwrap();
        assert!(s.contains(from));
        s.replacen(from, to, 1).into_bytes()
    };
    let cases = [
        ("/Size", replace("/Size 4 ", "/Size 8000000 ")),
        (
            "cross-reference table",
            replace("xref\n0 4", "xref\n0 8000000"),
        ),
        ("damaged", replace("startxref\n", "startxref\n1")),
        (
            "damaged",
            replace("0000000009 00000 n", "0000000009 00000 x"),
        ),
        ("damaged", replace("trailer", "trailor")),
    ];
    for (what, bytes) in cases {
        let started = std::time::Instant::now();
        let e = pdf::load_for_signing(&bytes).unwrap_err();
        assert!(matches!(e, SigningError::Malformed(_)), "{what}: {e}");
        assert!(e.to_string().contains(what), "{what}: {e}");
        assert!(started.elapsed().as_secs() < 2, "{what}: quick");
    }
    // A cross-reference stream with a field wider than 8 bytes, as the
    // last section.
    let mut bytes = build(&[CATALOG, PAGES, PAGE]);
    let xref_at = bytes.len();
    bytes.extend_from_slice(
        format!(
            "4 0 obj\n<</Type /XRef /Size 5 /W [1 999999999 1] /Root 1 0 R /Length 0>>\nstream\n\nendstream\nendobj\nstartxref\n{xref_at}\n%%EOF\n"
        )
        .as_bytes(),
    );
    let e = pdf::load_for_signing(&bytes).unwrap_err();
    assert!(e.to_string().contains("field width"), "{e}");
    // Encrypted, by the trailer.
    assert!(matches!(
        pdf::load_for_signing(&fixture("encrypted.pdf")),
        Err(SigningError::Encrypted)
    ));
}

#[test]
fn a_prev_chain_that_loops_ends() {
    // The update's /Prev names itself.
    let mut bytes = build(&[CATALOG, PAGES, PAGE]);
    let at = bytes.len();
    bytes.extend_from_slice(
        format!("xref\n0 1\n0000000000 65535 f \ntrailer\n<</Size 4 /Root 1 0 R /Prev {at}>>\nstartxref\n{at}\n%%EOF\n").as_bytes(),
    );
    let doc = pdf::load_for_signing(&bytes).unwrap();
    assert_eq!(doc.xref_start, at);
}
