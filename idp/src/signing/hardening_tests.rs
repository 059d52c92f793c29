//! Tests of the limits an outside review asked for: what the office seals,
//! how a signed file reaches the disk, new object numbers, what one
//! verification may parse, unreadable objects after a signature.

use super::soft::{LABEL, SoftBackend};
use super::*;

const NOW: i64 = 1_790_000_000;

async fn sign(backend: &SoftBackend, input: Vec<u8>) -> Signed {
    let req = SignRequest {
        key: LABEL,
        kind: SignKind::Personal,
        reason: Some("Phê duyệt"),
        tsa: None,
        placement: None,
        appearance: None,
    };
    sign_pdf(backend, input, &req, NOW).await.unwrap()
}

/// A PDF of `objects` (bodies of objects 1…n, 1 the catalog) with a correct
/// cross-reference table and the trailer's /Size given as `size`.
fn pdf_with_size(objects: &[&str], size: usize) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<</Size {size} /Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
    );
    out
}

#[tokio::test]
async fn new_objects_are_numbered_above_every_number_the_file_uses_whatever_its_size_says() {
    let backend = SoftBackend::ephemeral(NOW).unwrap();
    // /Size 2 for three objects, and the catalog and the page name objects
    // 4 and 6 that are not there (null): the next numbers by /Size, or by
    // the objects defined, would give those references our objects.
    let objects = [
        "<</Type /Catalog /Pages 2 0 R /OpenAction 4 0 R>>",
        "<</Type /Pages /Kids [3 0 R] /Count 1>>",
        "<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Thumb 6 0 R>>",
    ];
    for size in [2, 4] {
        let input = pdf_with_size(&objects, size);
        let signed = sign(&backend, input.clone()).await.pdf;
        let doc = lopdf::Document::load_mem(&signed).unwrap();
        for missing in [4, 6] {
            assert!(
                doc.get_object((missing, 0)).is_err(),
                "/Size {size}: object {missing} is still missing, not one of ours"
            );
        }
        let sig = doc
            .objects
            .iter()
            .find(|(_, o)| o.as_dict().is_ok_and(|d| d.has(b"ByteRange")))
            .map(|(id, _)| *id)
            .unwrap();
        assert!(sig.0 > 6, "/Size {size}: the signature is object {sig:?}");
        let report = verify::verify(&signed).unwrap();
        assert!(report.signatures[0].intact, "{report:?}");
    }
}
