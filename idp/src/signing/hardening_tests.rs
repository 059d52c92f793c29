//! Tests of the limits an outside review asked for: what the office seals,
//! how a signed file reaches the disk, new object numbers, what one
//! verification may parse, unreadable objects after a signature.

use super::soft::{LABEL, SoftBackend};
use super::trust::Anchors;
use super::verify::{check_sealable, verify_with};
use super::*;

const NOW: i64 = 1_790_000_000;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../tests/fixtures/documents/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn request() -> SignRequest<'static> {
    SignRequest {
        key: LABEL,
        kind: SignKind::Personal,
        reason: Some("Phê duyệt"),
        tsa: None,
        placement: None,
        appearance: None,
    }
}

async fn sign(backend: &SoftBackend, input: Vec<u8>) -> Signed {
    sign_pdf(backend, input, &request(), NOW).await.unwrap()
}

/// The one-page sample signed with a new software key.
async fn signed_sample() -> Vec<u8> {
    let backend = SoftBackend::ephemeral(NOW).unwrap();
    sign(&backend, fixture("ke-hoach-1-trang.pdf")).await.pdf
}

/// The first signature of `pdf` is intact and changed after: `detail`.
fn changed_after(pdf: &[u8], detail: &str) {
    let report = verify::verify(pdf).unwrap();
    let s = &report.signatures[0];
    assert!(s.intact, "{report:?}");
    assert_eq!(s.changes_after, "other", "{report:?}");
    assert!(
        s.changes_detail
            .as_deref()
            .is_some_and(|d| d.contains(detail)),
        "{detail}: {report:?}"
    );
}

#[tokio::test]
async fn the_office_seals_only_a_document_an_official_signed_and_the_anchors_vouch_for() {
    let official = SoftBackend::ephemeral(NOW).unwrap();
    let stranger = SoftBackend::ephemeral(NOW).unwrap();
    let unsigned = fixture("ke-hoach-1-trang.pdf");
    let none = Anchors::default();
    let theirs = Anchors::from_der(vec![official.certificate().to_vec()]).unwrap();
    let others = Anchors::from_der(vec![stranger.certificate().to_vec()]).unwrap();

    // Nothing signed: with or without anchors, nothing to issue.
    for anchors in [&none, &theirs] {
        let report = verify_with(&unsigned, anchors, NOW).unwrap();
        assert_eq!(report.verdict, "no_signatures");
        let e = check_sealable(&report, !anchors.is_empty()).unwrap_err();
        assert!(matches!(e, SigningError::NotApproved(_)), "{e}");
    }

    let signed = sign(&official, unsigned.clone()).await.pdf;
    // Without anchors an intact signature is enough; with them, it must
    // chain to them.
    let report = verify_with(&signed, &none, NOW).unwrap();
    check_sealable(&report, false).unwrap();
    let report = verify_with(&signed, &theirs, NOW).unwrap();
    check_sealable(&report, true).unwrap();
    let report = verify_with(&signed, &others, NOW).unwrap();
    assert_eq!(report.verdict, "untrusted");
    let e = check_sealable(&report, true).unwrap_err();
    assert!(matches!(e, SigningError::NotApproved(_)), "{e}");

    // A trusted official's signature next to an untrusted one: the seal
    // would vouch for both, so no.
    let both = sign(&stranger, signed.clone()).await.pdf;
    let report = verify_with(&both, &theirs, NOW).unwrap();
    assert!(report.signatures.iter().all(|s| s.intact), "{report:?}");
    let e = check_sealable(&report, true).unwrap_err();
    assert!(matches!(e, SigningError::NotApproved(_)), "{e}");

    // A signature broken by a changed byte is still `signature_broken`.
    let mut changed = signed.clone();
    let inside = changed.windows(6).position(|w| w == b"stream").unwrap() + 20;
    changed[inside] ^= 0x01;
    let report = verify_with(&changed, &none, NOW).unwrap();
    let e = check_sealable(&report, false).unwrap_err();
    assert!(matches!(e, SigningError::SignatureBroken(_)), "{e}");
}

fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_signed_file_is_audited_before_it_takes_its_name_and_never_without() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("da-ky.pdf");

    // The audit fails: no output, nothing half-written left behind.
    let failed = write_audited(&out, b"%PDF-1.7 signed", async {
        // Staged whole and private while the audit runs, not yet named.
        assert!(!out.exists());
        let staged = files_in(dir.path());
        assert_eq!(staged.len(), 1, "{staged:?}");
        let tmp = dir.path().join(&staged[0]);
        assert_eq!(std::fs::read(&tmp).unwrap(), b"%PDF-1.7 signed");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&tmp).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        Err::<(), _>("the database is gone")
    })
    .await;
    let e = failed.unwrap_err();
    assert!(matches!(e, WriteError::Audit(_)), "{e}");
    assert!(e.to_string().contains("the database is gone"), "{e}");
    assert!(
        files_in(dir.path()).is_empty(),
        "{:?}",
        files_in(dir.path())
    );

    // An older file of that name stays as it was when the audit fails.
    std::fs::write(&out, b"older").unwrap();
    let failed = write_audited(&out, b"newer", async { Err::<(), _>("no") }).await;
    assert!(failed.is_err());
    assert_eq!(std::fs::read(&out).unwrap(), b"older");
    assert_eq!(files_in(dir.path()), vec!["da-ky.pdf".to_owned()]);

    // The audit succeeds: the whole file, private, under its name.
    write_audited(&out, b"%PDF-1.7 signed", async { Ok::<(), &str>(()) })
        .await
        .unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), b"%PDF-1.7 signed");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(files_in(dir.path()), vec!["da-ky.pdf".to_owned()]);

    // A folder that is not there: the write fails before any audit.
    let missing = dir.path().join("no-such-dir").join("out.pdf");
    let audited = std::sync::atomic::AtomicBool::new(false);
    let e = write_audited(&missing, b"x", async {
        audited.store(true, std::sync::atomic::Ordering::SeqCst);
        Ok::<(), &str>(())
    })
    .await
    .unwrap_err();
    assert!(matches!(e, WriteError::Write(_)), "{e}");
    assert!(!audited.load(std::sync::atomic::Ordering::SeqCst));
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

#[tokio::test]
async fn a_file_with_more_revisions_than_its_parse_budget_is_refused_before_any_is_read() {
    use super::verify::{Limits, verify_limited};
    let backend = SoftBackend::ephemeral(NOW).unwrap();
    let mut pdf = fixture("ke-hoach-1-trang.pdf");
    let mut revisions = Vec::new();
    for _ in 0..4 {
        pdf = sign(&backend, pdf).await.pdf;
        revisions.push(pdf.len());
    }
    let none = Anchors::default();
    let later = std::time::Instant::now() + std::time::Duration::from_secs(60);
    // The latest revision (the whole file) and the three the earlier
    // signatures signed, each parsed once.
    let total: usize = revisions.iter().sum();
    let limits = |parse_budget| Limits {
        parse_budget,
        deadline: later,
    };
    let report = verify_limited(&pdf, &none, NOW, limits(total)).unwrap();
    assert_eq!(report.signatures.len(), 4);
    assert!(report.signatures.iter().all(|s| s.intact), "{report:?}");
    let e = verify_limited(&pdf, &none, NOW, limits(total - 1)).unwrap_err();
    let SigningError::TooManyRevisions { parse, limit } = &e else {
        panic!("{e}");
    };
    assert_eq!((*parse, *limit), (total, total - 1));
    assert!(e.to_string().contains("too many revisions"), "{e}");

    // The default: a small multiple of the file's size, never under 256 MiB.
    assert_eq!(verify::parse_budget(1024), 256 * 1024 * 1024);
    assert_eq!(
        verify::parse_budget(pdf::MAX_PDF_BYTES),
        8 * pdf::MAX_PDF_BYTES
    );
    // 64 revisions of almost 50 MiB each are far over it.
    assert!(64 * (pdf::MAX_PDF_BYTES - 1024) > verify::parse_budget(pdf::MAX_PDF_BYTES));

    // Past its deadline, no further revision is parsed.
    let past = Limits {
        parse_budget: usize::MAX,
        deadline: std::time::Instant::now() - std::time::Duration::from_millis(1),
    };
    let e = verify_limited(&pdf, &none, NOW, past).unwrap_err();
    assert!(matches!(e, SigningError::Timeout), "{e}");
}

/// Appends an incremental update to `pdf` that writes `objects` (number,
/// body), with a cross-reference table whose /Prev is the last section.
fn append_update(pdf: &[u8], objects: &[(u32, &str)]) -> Vec<u8> {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let mut out = pdf.to_vec();
    let mut offsets = Vec::new();
    for (n, body) in objects {
        offsets.push((*n, out.len()));
        out.extend_from_slice(format!("{n} 0 obj\n{body}\nendobj\n").as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(b"xref\n");
    for (n, offset) in &offsets {
        out.extend_from_slice(format!("{n} 1\n{offset:010} 00000 n \n").as_bytes());
    }
    let root = doc.trailer.get(b"Root").unwrap().as_reference().unwrap();
    let size = doc.trailer.get(b"Size").unwrap().as_i64().unwrap();
    let size = size.max(
        objects
            .iter()
            .map(|(n, _)| i64::from(*n) + 1)
            .max()
            .unwrap(),
    );
    out.extend_from_slice(
        format!(
            "trailer\n<</Size {size} /Root {} 0 R /Prev {}>>\nstartxref\n{xref}\n%%EOF\n",
            root.0, doc.xref_start
        )
        .as_bytes(),
    );
    out
}

#[tokio::test]
async fn an_object_written_after_signing_that_cannot_be_read_is_refused() {
    let backend = SoftBackend::ephemeral(NOW).unwrap();
    let signed = sign(&backend, fixture("ke-hoach-1-trang.pdf")).await.pdf;
    let doc = lopdf::Document::load_mem(&signed).unwrap();
    let fresh = doc.max_id + 5;
    // A new object lopdf would skip (a viewer may read it its own way),
    // alone, or with a well-formed object next to it: the file is not
    // judged on what remains, it is refused, naming the object.
    for update in [
        vec![(fresh, "<< /Type /Annot /Subtype /FreeText ( >>")],
        vec![
            (fresh, "<< /Type /Annot /Subtype /FreeText ( >>"),
            (fresh + 1, "<< /Producer (x) >>"),
        ],
    ] {
        let changed = append_update(&signed, &update);
        let e = verify::verify(&changed).unwrap_err();
        assert!(
            matches!(&e, SigningError::Malformed(m) if m.contains(&format!("object {fresh} at offset"))),
            "{e}"
        );
    }
    // The signed revision as it is: nothing changed.
    let report = verify::verify(&signed).unwrap();
    assert_eq!(report.signatures[0].changes_after, "none");
}

#[tokio::test]
async fn a_person_s_place_is_held_by_the_parses_their_requests_gave_up_on() {
    use std::time::Duration;
    let slots = service::PersonSlots::default();
    let first: std::sync::Arc<dyn std::any::Any + Send + Sync> =
        std::sync::Arc::new(slots.take("u1").unwrap());
    let second = slots.take("u1").unwrap();
    assert!(matches!(slots.take("u1"), Err(SigningError::Busy)));
    drop(slots.take("u2").unwrap());
    drop(second);
    assert_eq!(slots.count("u1"), 1);

    // The request stops waiting for its parse; the parse goes on, and
    // keeps the person's place until it ends.
    let (done, wait) = std::sync::mpsc::channel::<()>();
    let slow = holding(
        first,
        within(Duration::from_millis(50), move || {
            let _ = wait.recv_timeout(Duration::from_secs(20));
            Ok(())
        }),
    )
    .await;
    assert!(matches!(slow, Err(SigningError::Timeout)), "{slow:?}");
    assert_eq!(slots.count("u1"), 1, "the parse still holds the place");
    let _another = slots.take("u1").unwrap();
    assert!(matches!(slots.take("u1"), Err(SigningError::Busy)));
    done.send(()).unwrap();
    for _ in 0..200 {
        if slots.count("u1") == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(slots.count("u1"), 1, "given back when the parse ended");
}

/// `obj` written as an object's body.
fn body(obj: lopdf::Object) -> String {
    String::from_utf8(pdf::serialize(&obj).unwrap()).unwrap()
}

#[tokio::test]
async fn a_long_list_of_annotations_reordered_after_signing_is_compared_in_one_pass() {
    // The page lists 30,000 annotations when signed; an update lists them
    // again, in reverse. Looking each one up in the other list made this
    // quadratic (100,000 took two minutes in a debug build).
    let original = fixture("ke-hoach-1-trang.pdf");
    let doc = lopdf::Document::load_mem(&original).unwrap();
    let page_id = doc.page_iter().next().unwrap();
    let mut page = doc.get_dictionary(page_id).unwrap().clone();
    let annots: Vec<lopdf::Object> = (1..=30_000u32)
        .map(|i| lopdf::Object::Reference((doc.max_id + i, 0)))
        .collect();
    page.set("Annots", annots);
    let annotated = append_update(&original, &[(page_id.0, &body(page.into()))]);
    let signed = sign(&SoftBackend::ephemeral(NOW).unwrap(), annotated)
        .await
        .pdf;
    let doc = lopdf::Document::load_mem(&signed).unwrap();
    let mut page = doc.get_dictionary(page_id).unwrap().clone();
    let mut annots = page.get(b"Annots").unwrap().as_array().unwrap().clone();
    annots.reverse();
    page.set("Annots", annots);
    let reordered = append_update(&signed, &[(page_id.0, &body(page.into()))]);
    let report = verify::verify(&reordered).unwrap();
    let s = &report.signatures[0];
    assert!(s.intact && s.modified_after, "{report:?}");
    assert_eq!(s.changes_after, "signatures_only", "{report:?}");
}

#[tokio::test]
async fn a_form_whose_field_lists_itself_is_walked_once() {
    // After signing, the form gains a field whose /Kids lists that field
    // 100,000 times: each visit copied the list again (gigabytes), and the
    // walk gave up before it reached the signature's field.
    let signed = signed_sample().await;
    let doc = lopdf::Document::load_mem(&signed).unwrap();
    let root = doc.trailer.get(b"Root").unwrap().as_reference().unwrap();
    let mut catalog = doc.get_dictionary(root).unwrap().clone();
    let mut form = match catalog.get(b"AcroForm").unwrap() {
        lopdf::Object::Reference(id) => doc.get_dictionary(*id).unwrap().clone(),
        o => o.as_dict().unwrap().clone(),
    };
    let (field, kids) = (doc.max_id + 10, doc.max_id + 11);
    let mut fields = form.get(b"Fields").unwrap().as_array().unwrap().clone();
    fields.push(lopdf::Object::Reference((field, 0)));
    form.set("Fields", fields);
    catalog.set("AcroForm", form);
    let many = vec![lopdf::Object::Reference((field, 0)); 100_000];
    let changed = append_update(
        &signed,
        &[
            (root.0, &body(catalog.into())),
            (field, &format!("<</Kids {kids} 0 R>>")),
            (kids, &body(many.into())),
        ],
    );
    let report = verify::verify(&changed).unwrap();
    let s = &report.signatures[0];
    assert!(s.intact, "{report:?}");
    assert!(
        !s.removed,
        "the signature's field is still in the form: {report:?}"
    );
    assert_eq!(s.changes_after, "other", "{report:?}");
}

#[tokio::test]
async fn many_changed_forms_naming_one_long_list_are_judged_within_a_bound() {
    // Sixty form dictionaries name one list of 20,000 fields when signed,
    // and a copy of it after: each was read again for each dictionary (a
    // 2 MB file of this kind ran past the 20 s limit).
    let original = fixture("ke-hoach-1-trang.pdf");
    let base = lopdf::Document::load_mem(&original).unwrap().max_id + 1;
    let fields: String = (0..20_000u32)
        .map(|i| format!("{} 0 R ", base + 100 + i))
        .collect();
    let fields = format!("[{fields}]");
    let forms = |list: u32| -> Vec<(u32, String)> {
        (0..60)
            .map(|i| (base + 2 + i, format!("<</Fields {list} 0 R>>")))
            .chain([(list, fields.clone())])
            .collect()
    };
    let before = append_update(&original, &written(&forms(base)));
    let signed = sign(&SoftBackend::ephemeral(NOW).unwrap(), before)
        .await
        .pdf;
    let changed = append_update(&signed, &written(&forms(base + 1)));
    changed_after(&changed, "more list elements than one check compares");
}

#[tokio::test]
async fn a_file_with_bytes_before_its_header_is_read_but_not_signed() {
    // Readers count offsets from the header; an update's would count from
    // the first byte, and the signed file would not read.
    let mut junk = b"junk before the header\n".to_vec();
    junk.extend(fixture("ke-hoach-1-trang.pdf"));
    assert!(pdf::load(&junk).is_ok());
    let backend = SoftBackend::ephemeral(NOW).unwrap();
    let e = sign_pdf(&backend, junk, &request(), NOW).await.unwrap_err();
    assert!(
        matches!(&e, SigningError::Malformed(m) if m.contains("bytes before its %PDF- header")),
        "{e}"
    );
}

/// Objects as [`append_update`] takes them.
fn written(objects: &[(u32, String)]) -> Vec<(u32, &str)> {
    objects.iter().map(|(n, b)| (*n, b.as_str())).collect()
}

#[tokio::test]
async fn objects_no_section_lists_and_names_of_nothing_after_signing_are_changes() {
    // A viewer that rebuilds its cross-reference data when a lookup fails
    // (poppler) reads every `N G obj` in the file, the last winning: a new
    // page content no section lists, with an update whose trailer names a
    // missing /Info to set it off, drew over a signed page.
    let signed = signed_sample().await;
    let doc = lopdf::Document::load_mem(&signed).unwrap();
    let page = doc.get_dictionary(doc.page_iter().next().unwrap()).unwrap();
    let content = page.get(b"Contents").unwrap().as_reference().unwrap();
    let fresh = doc.max_id + 5;
    let mut stray = signed.clone();
    stray.extend_from_slice(
        format!(
            "{} 0 obj\n<</Length 24>>\nstream\n1 0 0 rg 0 0 600 800 re f\nendstream\nendobj\n",
            content.0
        )
        .as_bytes(),
    );
    let with_stray = append_update(&stray, &[(fresh, "<</Producer (x)>>")]);
    changed_after(&with_stray, "is in no cross-reference section");
    // The trailer naming an /Info that is not there.
    let mut missing = append_update(&signed, &[(fresh, "<</Producer (x)>>")]);
    let at = memchr::memmem::rfind(&missing, b"/Root").unwrap();
    missing.splice(at..at, b"/Info 999 0 R ".iter().copied());
    changed_after(&missing, "/Info names object 999 0, which is not there");
}

#[tokio::test]
async fn an_object_named_when_signed_under_another_generation_is_a_change_when_added() {
    // The signed page lists an annotation `N 1 R` that is not there (so
    // nothing shows); an update adds `N 0`, which a viewer takes for it.
    let original = fixture("ke-hoach-1-trang.pdf");
    let doc = lopdf::Document::load_mem(&original).unwrap();
    let page_id = doc.page_iter().next().unwrap();
    let absent = doc.max_id + 50;
    let mut page = doc.get_dictionary(page_id).unwrap().clone();
    page.set("Annots", vec![lopdf::Object::Reference((absent, 1))]);
    let prepared = append_update(&original, &[(page_id.0, &body(page.into()))]);
    let signed = sign(&SoftBackend::ephemeral(NOW).unwrap(), prepared)
        .await
        .pdf;
    let square = "<</Type /Annot /Subtype /Square /Rect [0 0 600 800] /C [1 0 0]>>";
    let added = append_update(&signed, &[(absent, square)]);
    changed_after(&added, "named when signed but not there, added after");
}
