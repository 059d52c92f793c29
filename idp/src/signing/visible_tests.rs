//! Visible signatures in memory: where the widget lands (inherited boxes,
//! turned pages, the account page's default place), what refuses a
//! placement, and that the appearance's streams are well-formed new objects
//! of the update. The rendering itself is judged by poppler in
//! tests/it/signing_visible.rs.

use image::ImageEncoder;
use lopdf::{Document, Object};

use super::appearance::Appearance;
use super::placement::{Placement, PlacementError, Position, Rect};
use super::soft::{LABEL, SoftBackend};
use super::verify::verify;
use super::*;
use crate::kinds::{SignaturePage, SignaturePlace};

const NOW: i64 = 1_796_101_509;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../tests/fixtures/documents/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(w, h, |x, y| {
        let ink = (x * 3 + y) % 11 == 0;
        image::Rgba([10, 30, 200, if ink { 255 } else { 0 }])
    });
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgba8)
        .unwrap();
    out
}

/// A two-page PDF whose pages inherit their MediaBox (and optionally
/// /Rotate and a CropBox) from the page tree, with a correct xref table.
fn inheriting_pdf(tree_extra: &str) -> Vec<u8> {
    let objects = [
        "<</Type /Catalog /Pages 2 0 R>>".to_owned(),
        format!(
            "<</Type /Pages /Kids [3 0 R 4 0 R] /Count 2 /MediaBox [0 0 400 300] {tree_extra}>>"
        ),
        "<</Type /Page /Parent 2 0 R>>".to_owned(),
        "<</Type /Page /Parent 2 0 R>>".to_owned(),
    ];
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(b"xref\n0 5\n0000000000 65535 f \n");
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<</Size 5 /Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
    );
    out
}

fn request(placement: Option<Position>, appearance: Option<Appearance>) -> SignRequest<'static> {
    SignRequest {
        key: LABEL,
        kind: SignKind::Personal,
        reason: Some("Phê duyệt"),
        tsa: None,
        placement,
        appearance,
    }
}

fn at(page: u32, rect: &str) -> Option<Position> {
    Some(Position::At(Placement {
        page,
        rect: rect.parse().unwrap(),
    }))
}

fn personal() -> Appearance {
    Appearance::Personal {
        name: "Trương Thành Tâm".into(),
        title: Some("Phó Chủ tịch Ủy ban nhân dân".into()),
        image: Some(png(300, 100)),
    }
}

/// The signature widget of the last revision: its page number (from 1),
/// its /Rect, and its normal appearance's dictionary.
fn widget(pdf: &[u8]) -> (u32, [f32; 4], lopdf::Dictionary) {
    let doc = Document::load_mem(pdf).unwrap();
    for (no, page_id) in doc.get_pages() {
        let page = doc.get_dictionary(page_id).unwrap();
        let Ok(annots) = page.get(b"Annots") else {
            continue;
        };
        let last = annots.as_array().unwrap().last().unwrap();
        let field = doc.get_dictionary(last.as_reference().unwrap()).unwrap();
        let rect: Vec<f32> = field
            .get(b"Rect")
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o.as_float().unwrap())
            .collect();
        let ap = field.get(b"AP").unwrap().as_dict().unwrap();
        let form_id = ap.get(b"N").unwrap().as_reference().unwrap();
        let Object::Stream(form) = doc.get_object(form_id).unwrap() else {
            panic!("the appearance is a stream")
        };
        return (no, [rect[0], rect[1], rect[2], rect[3]], form.dict.clone());
    }
    panic!("no widget")
}

#[tokio::test]
async fn a_visible_signature_lands_on_the_page_and_rectangle_asked() {
    let backend = SoftBackend::ephemeral(NOW).unwrap();
    let input = fixture("ke-hoach-nhieu-trang.pdf");
    let req = request(at(2, "350,80,530,150"), Some(personal()));
    let signed = sign_pdf(&backend, input.clone(), &req, NOW).await.unwrap();
    assert!(
        signed.pdf.starts_with(&input),
        "the original bytes are kept"
    );
    assert_eq!(
        signed.placement,
        Some(Placement {
            page: 2,
            rect: "350,80,530,150".parse().unwrap()
        })
    );
    let (page, rect, form) = widget(&signed.pdf);
    assert_eq!(page, 2);
    assert_eq!(rect, [350.0, 80.0, 530.0, 150.0]);
    let bbox: Vec<f32> = form
        .get(b"BBox")
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_float().unwrap())
        .collect();
    assert_eq!(bbox, [0.0, 0.0, 180.0, 70.0]);
    let report = verify(&signed.pdf).unwrap();
    assert!(report.signatures[0].intact, "{report:?}");

    // lopdf reads every new stream back, whole: the form, the image, its
    // mask, the font file and the ToUnicode map.
    let before = Document::load_mem(&input).unwrap().max_id;
    let doc = Document::load_mem(&signed.pdf).unwrap();
    let new_streams: Vec<&lopdf::Stream> = doc
        .objects
        .iter()
        .filter(|(id, _)| id.0 > before)
        .filter_map(|(_, o)| o.as_stream().ok())
        .collect();
    assert_eq!(new_streams.len(), 5);
    for s in new_streams {
        let length = s.dict.get(b"Length").unwrap().as_i64().unwrap();
        assert_eq!(usize::try_from(length).unwrap(), s.content.len());
        if s.dict.has(b"Filter") {
            assert!(s.decompressed_content().is_ok_and(|c| !c.is_empty()));
        }
    }
}

#[tokio::test]
async fn inherited_boxes_and_turned_pages_are_honoured() {
    let backend = SoftBackend::ephemeral(NOW).unwrap();
    // MediaBox from the page tree: 400 × 300.
    let plain = inheriting_pdf("");
    let default = Some(Position::Default {
        page: SignaturePage::Last,
        place: SignaturePlace::BottomRight,
    });
    let signed = sign_pdf(
        &backend,
        plain.clone(),
        &request(default, Some(personal())),
        NOW,
    )
    .await
    .unwrap();
    let (page, rect, form) = widget(&signed.pdf);
    assert_eq!(page, 2, "the last page");
    assert!((rect[2] - (400.0 - 42.5)).abs() < 0.01, "{rect:?}");
    assert!((rect[1] - 56.7).abs() < 0.01, "{rect:?}");
    assert!(form.get(b"Matrix").is_err());

    // Turned 90° (inherited): bottom right as displayed is the user space's
    // top right, and the drawing is turned back upright.
    let turned = inheriting_pdf("/Rotate 90");
    let signed = sign_pdf(&backend, turned, &request(default, Some(personal())), NOW)
        .await
        .unwrap();
    let (_, rect, form) = widget(&signed.pdf);
    let r = Rect {
        x1: f64::from(rect[0]),
        y1: f64::from(rect[1]),
        x2: f64::from(rect[2]),
        y2: f64::from(rect[3]),
    };
    assert!(r.width() < r.height(), "a tall box in user space: {r}");
    assert!(r.x2 > 300.0 && r.y2 > 200.0, "top right: {r}");
    let m = form.get(b"Matrix").unwrap().as_array().unwrap();
    assert_eq!(m[1].as_float().unwrap(), 1.0);
    assert_eq!(m[2].as_float().unwrap(), -1.0);
    let bbox = form.get(b"BBox").unwrap().as_array().unwrap();
    assert!((f64::from(bbox[2].as_float().unwrap()) - r.height()).abs() < 0.01);

    // A CropBox narrows where a signature may go.
    let cropped = inheriting_pdf("/CropBox [0 0 200 300]");
    let e = sign_pdf(
        &backend,
        cropped,
        &request(at(1, "250,10,380,80"), Some(personal())),
        NOW,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            e,
            SigningError::Placement(PlacementError::OutsidePage { .. })
        ),
        "{e}"
    );
    assert!(e.to_string().contains("0,0,200,300"), "{e}");
}

#[tokio::test]
async fn placements_outside_the_document_are_refused() {
    let backend = SoftBackend::ephemeral(NOW).unwrap();
    let input = fixture("ke-hoach-nhieu-trang.pdf");
    for (page, rect, says) in [
        (
            0,
            "10,10,200,80",
            "page 0 does not exist: the document has 9 page(s)",
        ),
        (10, "10,10,200,80", "page 10 does not exist"),
        (2, "500,700,700,780", "is not inside page 2 (0,0,612,792)"),
        (2, "-5,10,100,80", "is not inside page 2"),
    ] {
        let e = sign_pdf(
            &backend,
            input.clone(),
            &request(at(page, rect), Some(personal())),
            NOW,
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains(says), "{page} {rect}: {e}");
    }
    // A rectangle made in code, not parsed, is still held to the least size.
    let tiny = Some(Position::At(Placement {
        page: 1,
        rect: Rect {
            x1: 10.0,
            y1: 10.0,
            x2: 12.0,
            y2: 11.0,
        },
    }));
    let e = sign_pdf(&backend, input, &request(tiny, None), NOW)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("smaller than"), "{e}");
}

#[tokio::test]
async fn without_a_placement_the_signature_stays_invisible_and_a_bare_placement_shows_the_signer() {
    let backend = SoftBackend::ephemeral(NOW).unwrap();
    let input = fixture("ke-hoach-1-trang.pdf");
    let signed = sign_pdf(&backend, input.clone(), &request(None, None), NOW)
        .await
        .unwrap();
    assert_eq!(signed.placement, None);
    let doc = Document::load_mem(&signed.pdf).unwrap();
    let field = doc
        .objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .find(|d| d.get(b"FT").ok().and_then(|f| f.as_name().ok()) == Some(b"Sig".as_slice()))
        .unwrap();
    assert!(field.get(b"AP").is_err());
    assert_eq!(
        field.get(b"Rect").unwrap().as_array().unwrap(),
        &vec![Object::Integer(0); 4]
    );

    // A placement alone draws the certificate's name, in the font.
    let signed = sign_pdf(
        &backend,
        input,
        &request(at(1, "300,60,480,130"), None),
        NOW,
    )
    .await
    .unwrap();
    let (_, _, form) = widget(&signed.pdf);
    let res = form.get(b"Resources").unwrap().as_dict().unwrap();
    assert!(res.get(b"Font").is_ok());
    assert!(res.get(b"XObject").is_err(), "no image");
}
