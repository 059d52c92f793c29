//! The signing path end to end in memory: sign, read back, tamper, refuse.
//! The independent validators (pdfsig, qpdf, pyHanko) run in tests/it/signing.rs.

use lopdf::Document;

use super::cms;
use super::pdf::{self, MAX_PDF_BYTES};
use super::soft::{LABEL, SoftBackend};
use super::verify::{Report, verify};
use super::*;

const NOW: i64 = 1_790_000_000;

pub(super) fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../tests/fixtures/documents/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn request(reason: Option<&str>) -> SignRequest<'_> {
    SignRequest {
        key: LABEL,
        kind: SignKind::Personal,
        reason,
        tsa: None,
        placement: None,
        appearance: None,
    }
}

async fn sign(backend: &SoftBackend, input: Vec<u8>) -> Result<Signed, SigningError> {
    sign_pdf(backend, input, &request(Some("Phê duyệt kế hoạch")), NOW).await
}

fn only(report: &Report) -> &verify::SignatureReport {
    assert_eq!(report.signatures.len(), 1, "{report:?}");
    &report.signatures[0]
}

/// A PDF made of `objects` (bodies of objects 1…n, 1 the catalog) with a
/// correct cross-reference table: hostile structures without a broken xref.
pub(super) fn build_pdf(objects: &[&str]) -> Vec<u8> {
    let objects: Vec<&[u8]> = objects.iter().map(|o| o.as_bytes()).collect();
    build_pdf_bytes(&objects)
}

/// [`build_pdf`] with objects that may hold binary streams.
fn build_pdf_bytes(objects: &[&[u8]]) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<</Size {} /Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

#[tokio::test]
async fn a_signed_document_keeps_its_bytes_and_verifies() {
    let backend = SoftBackend::ephemeral(NOW).unwrap();
    let input = fixture("ke-hoach-1-trang.pdf");
    let signed = sign(&backend, input.clone()).await.unwrap();
    assert!(
        signed.pdf.starts_with(&input),
        "an incremental update leaves the original bytes as they were"
    );
    assert!(
        signed.signer.contains("NOT LEGALLY VALID"),
        "{}",
        signed.signer
    );
    let report = verify(&signed.pdf).unwrap();
    let s = only(&report);
    assert!(s.intact, "{s:?}");
    assert!(s.byte_range_ok && s.digest_matches && s.signature_verifies);
    assert!(s.signing_certificate_bound);
    assert!(!s.has_signing_time_attribute, "PAdES baseline forbids it");
    assert!(!s.modified_after);
    assert_eq!(s.field.as_deref(), Some("Signature1"));
    assert_eq!(s.sub_filter.as_deref(), Some("ETSI.CAdES.detached"));
    assert_eq!(s.reason.as_deref(), Some("Phê duyệt kế hoạch"));
    assert_eq!(s.claimed_time.as_deref(), Some("D:20260921141320Z"));
    assert_eq!(s.byte_range[0], 0);
    assert_eq!(
        usize::try_from(s.byte_range[2] + s.byte_range[3]).unwrap(),
        signed.pdf.len()
    );
    // The original had no form: the new catalog version carries one, and
    // lopdf reads the updated document with the field on the first page.
    let doc = Document::load_mem(&signed.pdf).unwrap();
    let page = doc.page_iter().next().unwrap();
    let annots = doc
        .get_dictionary(page)
        .unwrap()
        .get(b"Annots")
        .unwrap()
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(annots.len(), 1);
    let catalog = doc.catalog().unwrap();
    let form = catalog.get(b"AcroForm").unwrap().as_dict().unwrap();
    assert_eq!(form.get(b"SigFlags").unwrap().as_i64().unwrap(), 3);
}

#[tokio::test]
async fn the_cms_has_exactly_the_baseline_signed_attributes() {
    let backend = SoftBackend::ephemeral(NOW).unwrap();
    let signed = sign(&backend, fixture("ke-hoach-1-trang.pdf"))
        .await
        .unwrap();
    let doc = Document::load_mem(&signed.pdf).unwrap();
    let sig = doc
        .objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .find(|d| d.has(b"ByteRange"))
        .unwrap();
    let contents = sig.get(b"Contents").unwrap().as_str().unwrap();
    let parsed = cms::parse(contents).unwrap();
    let attrs: SignedAttributesView = der::Decode::from_der(&parsed.attrs_der).unwrap();
    let mut oids: Vec<String> = attrs.0.iter().map(|a| a.oid.to_string()).collect();
    oids.sort();
    assert_eq!(
        oids,
        [
            "1.2.840.113549.1.9.16.2.47", // signing-certificate-v2
            "1.2.840.113549.1.9.3",       // content-type
            "1.2.840.113549.1.9.4",       // message-digest
        ]
    );
    assert_eq!(parsed.digest_algorithm, oids::SHA256);
    assert_eq!(parsed.signature_algorithm, oids::ECDSA_WITH_SHA256);
    assert_eq!(parsed.signer_der, backend.certificate());
}

/// The signed attributes as a plain SET OF Attribute, to list them.
struct SignedAttributesView(Vec<x509_cert::attr::Attribute>);

impl<'a> der::Decode<'a> for SignedAttributesView {
    type Error = der::Error;
    fn decode<R: der::Reader<'a>>(r: &mut R) -> der::Result<Self> {
        let set: der::asn1::SetOfVec<x509_cert::attr::Attribute> = der::Decode::decode(r)?;
        Ok(SignedAttributesView(set.into_vec()))
    }
}

#[test]
fn the_test_certificate_says_what_it_is() {
    let (_, der) = soft::generate(None, NOW).unwrap();
    let cert: x509_cert::Certificate = der::Decode::from_der(&der).unwrap();
    let subject = cms::subject(&cert);
    assert!(
        subject.contains("CN=dangnhap test signing key — NOT LEGALLY VALID"),
        "{subject}"
    );
    assert_eq!(
        cert.tbs_certificate().issuer(),
        cert.tbs_certificate().subject()
    );
    let ku = cert
        .tbs_certificate()
        .extensions()
        .unwrap()
        .iter()
        .find(|e| e.extn_id == oids::KEY_USAGE)
        .unwrap();
    assert!(ku.critical);
    // BIT STRING, 6 unused bits, digitalSignature and nonRepudiation set.
    assert_eq!(ku.extn_value.as_bytes(), [0x03, 0x02, 0x06, 0xC0]);
    let validity = cert.tbs_certificate().validity();
    let from = validity.not_before.to_unix_duration().as_secs();
    let to = validity.not_after.to_unix_duration().as_secs();
    assert_eq!(from, u64::try_from(NOW).unwrap());
    assert_eq!(to - from, cert::TEST_VALIDITY.as_secs());
    // Self-signed: its own key verifies its signature.
    let tbs = der::Encode::to_der(cert.tbs_certificate()).unwrap();
    assert!(cms::verify(
        &cert,
        oids::ECDSA_WITH_SHA256,
        &tbs,
        cert.signature().raw_bytes()
    ));
}

#[tokio::test]
async fn a_changed_byte_breaks_the_digest_and_a_changed_signature_breaks_the_signature() {
    let backend = SoftBackend::ephemeral(NOW).unwrap();
    let signed = sign(&backend, fixture("ke-hoach-1-trang.pdf"))
        .await
        .unwrap();
    let report = verify(&signed.pdf).unwrap();
    let range = only(&report).byte_range.clone();

    // One byte inside the page content (the first signed range).
    let mut changed = signed.pdf.clone();
    let at = usize::try_from(range[1] / 2).unwrap();
    changed[at] ^= 0x01;
    let s = verify(&changed).map(|r| only(&r).digest_matches);
    assert!(matches!(s, Ok(false) | Err(_)), "{s:?}");
    if let Ok(report) = verify(&changed) {
        assert!(!only(&report).intact);
    }

    // One byte of the signature value itself (inside /Contents): the
    // digest still matches, the signature does not verify.
    let mut forged = signed.pdf.clone();
    let contents = usize::try_from(range[1]).unwrap() + 1;
    let der_len = forged[contents..].iter().position(|&b| b == b'>').unwrap();
    let hex = &forged[contents..contents + der_len];
    let used = hex.len() - hex.iter().rev().take_while(|&&b| b == b'0').count();
    // The last hex digit of the DER is the end of the ECDSA signature.
    let last = contents + used - 1;
    forged[last] = if forged[last] == b'1' { b'2' } else { b'1' };
    let report = verify(&forged).unwrap();
    let s = only(&report);
    assert!(s.digest_matches, "{s:?}");
    assert!(!s.signature_verifies, "{s:?}");
    assert!(!s.intact);
}

#[tokio::test]
async fn signing_twice_keeps_the_first_signature_valid() {
    let backend = SoftBackend::ephemeral(NOW).unwrap();
    let once = sign(&backend, fixture("ke-hoach-nhieu-trang.pdf"))
        .await
        .unwrap();
    let twice = sign(&backend, once.pdf.clone()).await.unwrap();
    assert!(twice.pdf.starts_with(&once.pdf));
    let report = verify(&twice.pdf).unwrap();
    assert_eq!(report.signatures.len(), 2);
    let (first, second) = (&report.signatures[0], &report.signatures[1]);
    assert!(first.intact && second.intact, "{report:?}");
    assert!(first.modified_after, "the second signature came after");
    assert!(!second.modified_after);
    assert_eq!(first.field.as_deref(), Some("Signature1"));
    assert_eq!(second.field.as_deref(), Some("Signature2"));
}

#[tokio::test]
async fn bad_input_is_refused_with_a_typed_error() {
    let backend = SoftBackend::ephemeral(NOW).unwrap();
    let cases: [(&str, Vec<u8>); 4] = [
        ("not-a-pdf.pdf", fixture("not-a-pdf.pdf")),
        ("truncated.pdf", fixture("truncated.pdf")),
        ("encrypted.pdf", fixture("encrypted.pdf")),
        ("empty", Vec::new()),
    ];
    for (name, bytes) in cases {
        let e = sign(&backend, bytes).await.unwrap_err();
        match name {
            "not-a-pdf.pdf" | "empty" => assert!(matches!(e, SigningError::NotPdf), "{name}: {e}"),
            "truncated.pdf" => assert!(matches!(e, SigningError::Truncated), "{name}: {e}"),
            _ => assert!(matches!(e, SigningError::Encrypted), "{name}: {e}"),
        }
    }
    let mut huge = fixture("ke-hoach-1-trang.pdf");
    huge.resize(MAX_PDF_BYTES + 1, b' ');
    let e = sign(&backend, huge).await.unwrap_err();
    assert!(matches!(e, SigningError::TooLarge { .. }), "{e}");
    assert!(matches!(
        verify(&fixture("truncated.pdf")),
        Err(SigningError::Truncated)
    ));
}

#[tokio::test]
async fn hostile_structures_are_errors_not_crashes() {
    let backend = SoftBackend::ephemeral(NOW).unwrap();
    // 100,000 nested arrays in the catalog (RUSTSEC-2026-0187's shape).
    let deep = format!(
        "<</Type /Catalog /Pages 2 0 R /X {}{}>>",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let pages = "<</Type /Pages /Kids [3 0 R] /Count 1>>";
    let page = "<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]>>";
    let r = sign(&backend, build_pdf(&[&deep, pages, page])).await;
    assert!(
        matches!(r, Err(SigningError::Malformed(_))),
        "a nesting this deep is refused: {r:?}"
    );

    // A page tree whose node is its own kid.
    let catalog = "<</Type /Catalog /Pages 2 0 R>>";
    let cyclic = "<</Type /Pages /Kids [2 0 R] /Count 1>>";
    let r = sign(&backend, build_pdf(&[catalog, cyclic])).await;
    assert!(
        matches!(r, Err(SigningError::Malformed(_))),
        "no page in a cyclic tree: {r:?}"
    );

    // A trailer that claims four billion objects.
    let mut huge = build_pdf(&[catalog, pages.replace("[2 0 R]", "[3 0 R]").as_str(), page]);
    let at = huge.windows(8).position(|w| w == b"/Size 4 ").unwrap();
    huge.splice(at..at + 8, b"/Size 4294967295 ".iter().copied());
    let r = sign(&backend, huge).await;
    assert!(
        matches!(&r, Err(SigningError::Malformed(m)) if m.contains("objects")),
        "{r:?}"
    );

    // A catalog that is not a dictionary.
    let r = sign(&backend, build_pdf(&["42", pages, page])).await;
    assert!(matches!(r, Err(SigningError::Malformed(_))), "{r:?}");

    // A well-formed tiny document signs (the builder itself is right).
    let ok = build_pdf(&[catalog, pages.replace("[2 0 R]", "[3 0 R]").as_str(), page]);
    let signed = sign(&backend, ok).await.unwrap();
    assert!(only(&verify(&signed.pdf).unwrap()).intact);
}

/// An object stream (decoded while loading) of `inflated` bytes of white
/// space after its one-object header, compressed.
fn object_stream(inflated: usize) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(b"99 0 ").unwrap();
    let block = vec![b' '; 1024 * 1024];
    for _ in 0..inflated / block.len() {
        z.write_all(&block).unwrap();
    }
    let data = z.finish().unwrap();
    let mut out = format!(
        "<</Type /ObjStm /N 1 /First 5 /Filter /FlateDecode /Length {}>>\nstream\n",
        data.len()
    )
    .into_bytes();
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\nendstream");
    out
}

#[tokio::test]
async fn the_streams_of_one_file_share_one_inflation_budget() {
    let backend = SoftBackend::ephemeral(NOW).unwrap();
    let catalog = b"<</Type /Catalog /Pages 2 0 R>>".as_slice();
    let pages = b"<</Type /Pages /Kids [3 0 R] /Count 1>>".as_slice();
    let page = b"<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]>>".as_slice();
    // One stream inflating to 60 MiB is within a stream's own cap (64 MiB).
    let big = object_stream(60 * 1024 * 1024);
    let one = build_pdf_bytes(&[catalog, pages, page, &big]);
    assert!(one.len() < 200 * 1024, "{} bytes", one.len());
    let signed = sign(&backend, one).await.unwrap();
    assert!(only(&verify(&signed.pdf).unwrap()).intact);
    // Nine of them would be 540 MiB together: each gets a ninth of the
    // 512 MiB budget and the first to go over it stops the load.
    let mut objects = vec![catalog, pages, page];
    objects.extend(std::iter::repeat_n(big.as_slice(), 9));
    let r = sign(&backend, build_pdf_bytes(&objects)).await;
    assert!(
        matches!(&r, Err(SigningError::Malformed(m)) if m.contains("its share")),
        "{r:?}"
    );
}

#[test]
fn a_file_of_endless_signatures_is_refused_before_hashing() {
    let catalog = "<</Type /Catalog /Pages 2 0 R>>";
    let pages = "<</Type /Pages /Kids [3 0 R] /Count 1>>";
    let page = "<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]>>";
    let sig = "<</Type /Sig /Filter /Adobe.PPKLite /ByteRange [0 1 2 3] /Contents <00>>>";
    let mut objects = vec![catalog, pages, page];
    objects.extend(std::iter::repeat_n(sig, verify::MAX_SIGNATURES + 1));
    let e = verify(&build_pdf(&objects)).unwrap_err();
    assert!(e.to_string().contains("more than 64 signatures"), "{e}");
    // As many as allowed are each reported, unreadable ones with their reason.
    objects.truncate(3 + verify::MAX_SIGNATURES);
    let report = verify(&build_pdf(&objects)).unwrap();
    assert_eq!(report.signatures.len(), verify::MAX_SIGNATURES);
    assert!(
        report
            .signatures
            .iter()
            .all(|s| !s.intact && s.error.is_some())
    );
}

#[tokio::test]
async fn an_existing_form_keeps_its_fields() {
    let backend = SoftBackend::ephemeral(NOW).unwrap();
    let catalog = "<</Type /Catalog /Pages 2 0 R /AcroForm 4 0 R>>";
    let pages = "<</Type /Pages /Kids [3 0 R] /Count 1>>";
    let page = "<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots 6 0 R>>";
    let form = "<</Fields [5 0 R] /DA (/Helv 0 Tf 0 g)>>";
    let text_field =
        "<</FT /Tx /T (Signature1) /Type /Annot /Subtype /Widget /Rect [10 10 100 30] /P 3 0 R>>";
    let annots = "[5 0 R]";
    let input = build_pdf(&[catalog, pages, page, form, text_field, annots]);
    let signed = sign(&backend, input).await.unwrap();
    let doc = Document::load_mem(&signed.pdf).unwrap();
    let form = doc.get_dictionary((4, 0)).unwrap();
    let fields = form.get(b"Fields").unwrap().as_array().unwrap();
    assert_eq!(fields.len(), 2, "the old field stays");
    assert_eq!(
        form.get(b"DA").unwrap().as_str().unwrap(),
        b"/Helv 0 Tf 0 g"
    );
    assert_eq!(form.get(b"SigFlags").unwrap().as_i64().unwrap(), 3);
    let page = doc.get_dictionary((3, 0)).unwrap();
    assert_eq!(page.get(b"Annots").unwrap().as_array().unwrap().len(), 2);
    let s = only(&verify(&signed.pdf).unwrap()).clone_field();
    assert_eq!(s.as_deref(), Some("Signature2"), "a name not taken");
}

impl verify::SignatureReport {
    fn clone_field(&self) -> Option<String> {
        self.field.clone()
    }
}

#[tokio::test]
async fn work_that_overruns_its_time_is_given_up() {
    let slow = within(Duration::from_millis(50), || {
        std::thread::sleep(Duration::from_millis(500));
        Ok(())
    })
    .await;
    assert!(matches!(slow, Err(SigningError::Timeout)), "{slow:?}");
    let quick = within(Duration::from_secs(5), || Ok(7)).await;
    assert_eq!(quick.unwrap(), 7);
    // A panic on the blocking pool is an error, not a crash of the caller.
    let broken: Result<(), _> = within(Duration::from_secs(5), || panic!("bad input")).await;
    assert!(matches!(broken, Err(SigningError::Worker(_))), "{broken:?}");
}

#[test]
fn names_and_text_strings_are_escaped() {
    let name = pdf::serialize(&lopdf::Object::Name(b"A B#/(x)".to_vec())).unwrap();
    assert_eq!(name, b"/A#20B#23#2F#28x#29");
    let s = pdf::serialize(&lopdf::Object::string_literal("a)b")).unwrap();
    assert_eq!(s, b"<612962>");
}

#[test]
fn a_failed_write_leaves_no_file() {
    let dir = std::env::temp_dir().join(format!("dangnhap-sign-{}", std::process::id()));
    let missing = dir.join("no-such-dir").join("out.pdf");
    assert!(write_atomically(&missing, b"%PDF-").is_err());
    assert!(!missing.exists());
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("out.pdf");
    write_atomically(&out, b"%PDF-1.7").unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), b"%PDF-1.7");
    // Private: a signed document is not for every account on the machine.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Appends an incremental update to `pdf` that writes `objects` (number,
/// body), with a cross-reference table whose /Prev is the last section.
fn append_update(pdf: &[u8], objects: &[(u32, String)]) -> Vec<u8> {
    let doc = Document::load_mem(pdf).unwrap();
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
    out.extend_from_slice(
        format!(
            "trailer\n<</Size {size} /Root {} 0 R /Prev {}>>\nstartxref\n{xref}\n%%EOF\n",
            root.0, doc.xref_start
        )
        .as_bytes(),
    );
    out
}

/// The signature dictionary of a document with one signature.
fn sig_dict(pdf: &[u8]) -> (ObjectIdOf, lopdf::Dictionary) {
    let doc = Document::load_mem(pdf).unwrap();
    doc.objects
        .iter()
        .find_map(|(id, o)| {
            let d = o.as_dict().ok()?;
            (d.get(b"Type").ok()?.as_name().ok()? == b"Sig").then(|| (*id, d.clone()))
        })
        .unwrap()
}

type ObjectIdOf = lopdf::ObjectId;

#[tokio::test]
async fn metadata_rewritten_by_a_later_update_is_reported_as_signed() {
    let backend = SoftBackend::ephemeral(NOW).unwrap();
    let signed = sign(&backend, fixture("ke-hoach-1-trang.pdf"))
        .await
        .unwrap();
    let (id, mut d) = sig_dict(&signed.pdf);
    d.set("Reason", lopdf::Object::string_literal("Không đồng ý"));
    d.set("M", lopdf::Object::string_literal("D:20200101000000Z"));
    let body = String::from_utf8(pdf::serialize(&lopdf::Object::Dictionary(d)).unwrap()).unwrap();
    let attacked = append_update(&signed.pdf, &[(id.0, body)]);
    let report = verify(&attacked).unwrap();
    let s = only(&report);
    assert!(s.intact, "the signed bytes are intact: {s:?}");
    assert_eq!(s.reason.as_deref(), Some("Phê duyệt kế hoạch"), "as signed");
    assert_eq!(s.claimed_time.as_deref(), Some("D:20260921141320Z"));
    assert!(s.modified_after && s.replaced && !s.removed, "{s:?}");
    assert_eq!(s.changes_after, "other", "{s:?}");
    assert_eq!(report.verdict, "modified", "{report:?}");
}

#[tokio::test]
async fn a_removed_signature_field_is_still_reported() {
    let backend = SoftBackend::ephemeral(NOW).unwrap();
    let signed = sign(&backend, fixture("ke-hoach-1-trang.pdf"))
        .await
        .unwrap();
    let doc = Document::load_mem(&signed.pdf).unwrap();
    let root = doc.trailer.get(b"Root").unwrap().as_reference().unwrap();
    let mut catalog = doc.get_dictionary(root).unwrap().clone();
    catalog.remove(b"AcroForm");
    let page_id = doc.page_iter().next().unwrap();
    let mut page = doc.get_dictionary(page_id).unwrap().clone();
    page.remove(b"Annots");
    let ser = |d: lopdf::Dictionary| {
        String::from_utf8(pdf::serialize(&lopdf::Object::Dictionary(d)).unwrap()).unwrap()
    };
    let stripped = append_update(
        &signed.pdf,
        &[(root.0, ser(catalog)), (page_id.0, ser(page))],
    );
    let report = verify(&stripped).unwrap();
    let s = only(&report);
    assert!(s.intact && s.removed && !s.replaced, "{s:?}");
    assert_eq!(s.field.as_deref(), Some("Signature1"), "named as signed");
    assert_eq!(s.changes_after, "other", "{s:?}");
    assert_eq!(report.verdict, "modified", "{report:?}");
    // Emptying the form's field list alone is caught too.
    let doc = Document::load_mem(&signed.pdf).unwrap();
    let mut catalog = doc.get_dictionary(root).unwrap().clone();
    let mut form = catalog.get(b"AcroForm").unwrap().as_dict().unwrap().clone();
    form.set("Fields", lopdf::Object::Array(Vec::new()));
    catalog.set("AcroForm", lopdf::Object::Dictionary(form));
    let emptied = append_update(&signed.pdf, &[(root.0, ser(catalog))]);
    let report = verify(&emptied).unwrap();
    let s = only(&report);
    assert!(s.intact && s.removed, "{s:?}");
    assert_eq!(s.changes_after, "other", "{s:?}");
    assert!(
        s.changes_detail.as_deref().unwrap().contains("field"),
        "{s:?}"
    );
    // A second signature on top is a change signatures allow.
    let twice = sign(&backend, signed.pdf.clone()).await.unwrap();
    let report = verify(&twice.pdf).unwrap();
    assert_eq!(report.signatures.len(), 2);
    assert_eq!(report.signatures[0].changes_after, "signatures_only");
    assert_eq!(report.verdict, "valid_trust_not_checked", "{report:?}");
}

#[tokio::test]
async fn writers_rewriting_the_catalog_and_the_document_information_change_nothing_signed() {
    let backend = SoftBackend::ephemeral(NOW).unwrap();
    let signed = sign(&backend, fixture("ke-hoach-1-trang.pdf"))
        .await
        .unwrap();
    let doc = Document::load_mem(&signed.pdf).unwrap();
    let root = doc.trailer.get(b"Root").unwrap().as_reference().unwrap();
    let info = doc.trailer.get(b"Info").unwrap().as_reference().unwrap();
    let ser = |d: lopdf::Dictionary| {
        String::from_utf8(pdf::serialize(&lopdf::Object::Dictionary(d)).unwrap()).unwrap()
    };
    let with_lang = |lang: lopdf::Object| {
        let mut catalog = doc.get_dictionary(root).unwrap().clone();
        catalog.set("Lang", lang);
        ser(catalog)
    };
    let mut meta = doc.get_dictionary(info).unwrap().clone();
    meta.set("Producer", lopdf::Object::string_literal("pyHanko"));
    // The same language written in hexadecimal, and a new producer.
    let rewritten = lopdf::Object::String(b"en-US".to_vec(), lopdf::StringFormat::Hexadecimal);
    let updated = append_update(
        &signed.pdf,
        &[(root.0, with_lang(rewritten)), (info.0, ser(meta))],
    );
    let report = verify(&updated).unwrap();
    let s = only(&report);
    assert_eq!(s.changes_after, "signatures_only", "{s:?}");
    assert_eq!(report.verdict, "valid_trust_not_checked", "{report:?}");
    // Another language is a change to the document.
    let relabelled = append_update(
        &signed.pdf,
        &[(root.0, with_lang(lopdf::Object::string_literal("vi")))],
    );
    let report = verify(&relabelled).unwrap();
    let s = only(&report);
    assert_eq!(s.changes_after, "other", "{s:?}");
    assert!(
        s.changes_detail.as_deref().unwrap().contains("/Lang"),
        "{s:?}"
    );
}

#[tokio::test]
async fn a_drawing_added_after_signing_is_a_change_signatures_do_not_allow() {
    let backend = SoftBackend::ephemeral(NOW).unwrap();
    let signed = sign(&backend, fixture("ke-hoach-1-trang.pdf"))
        .await
        .unwrap();
    let doc = Document::load_mem(&signed.pdf).unwrap();
    let size = u32::try_from(doc.trailer.get(b"Size").unwrap().as_i64().unwrap()).unwrap();
    let page_id = doc.page_iter().next().unwrap();
    let mut page = doc.get_dictionary(page_id).unwrap().clone();
    let mut annots = page.get(b"Annots").unwrap().as_array().unwrap().clone();
    annots.push(lopdf::Object::Reference((size, 0)));
    page.set("Annots", lopdf::Object::Array(annots));
    let page =
        String::from_utf8(pdf::serialize(&lopdf::Object::Dictionary(page)).unwrap()).unwrap();
    // A new amount written over the signed text.
    let overlay = "<</Type /Annot /Subtype /FreeText /Rect [50 50 300 100] \
                   /Contents (500.000.000 VND) /DA (/Helv 12 Tf 0 g)>>"
        .to_owned();
    let attacked = append_update(&signed.pdf, &[(size, overlay), (page_id.0, page)]);
    let report = verify(&attacked).unwrap();
    let s = only(&report);
    assert!(s.intact, "the signed bytes are intact: {s:?}");
    assert_eq!(s.changes_after, "other", "{s:?}");
    assert!(
        s.changes_detail.as_deref().unwrap().contains("annotation"),
        "{s:?}"
    );
    assert_eq!(report.verdict, "modified", "{report:?}");
}

#[tokio::test]
async fn a_drawing_dressed_as_a_signature_widget_is_still_a_change() {
    let backend = SoftBackend::ephemeral(NOW).unwrap();
    let signed = sign(&backend, fixture("ke-hoach-1-trang.pdf"))
        .await
        .unwrap();
    let (sig_id, _) = sig_dict(&signed.pdf);
    let doc = Document::load_mem(&signed.pdf).unwrap();
    let size = u32::try_from(doc.trailer.get(b"Size").unwrap().as_i64().unwrap()).unwrap();
    let page_id = doc.page_iter().next().unwrap();
    let mut page = doc.get_dictionary(page_id).unwrap().clone();
    let mut annots = page.get(b"Annots").unwrap().as_array().unwrap().clone();
    annots.push(lopdf::Object::Reference((size, 0)));
    page.set("Annots", lopdf::Object::Array(annots));
    let page =
        String::from_utf8(pdf::serialize(&lopdf::Object::Dictionary(page)).unwrap()).unwrap();
    // A widget that claims the document's own signature as its value and
    // draws a new amount over the page.
    let overlay = format!(
        "<</Type /Annot /Subtype /Widget /FT /Sig /V {} 0 R /Rect [0 0 595 842] \
         /AP <</N {} 0 R>>>>",
        sig_id.0,
        size + 1
    );
    let drawing = "<</Type /XObject /Subtype /Form /BBox [0 0 595 842] /Length 41>>\nstream\n\
                   1 1 1 rg 0 0 595 842 re f BT /F1 12 Tf ET\nendstream"
        .to_owned();
    let attacked = append_update(
        &signed.pdf,
        &[(size, overlay), (size + 1, drawing), (page_id.0, page)],
    );
    let report = verify(&attacked).unwrap();
    let s = only(&report);
    assert!(s.intact, "{s:?}");
    assert_eq!(s.changes_after, "other", "{s:?}");
    assert_eq!(report.verdict, "modified", "{report:?}");
}

#[tokio::test]
async fn the_catalog_named_as_the_document_information_is_still_the_catalog() {
    let backend = SoftBackend::ephemeral(NOW).unwrap();
    // The catalog also named as the document information (exempt from the
    // changes rules when it is only text).
    let catalog = "<</Type /Catalog /Pages 2 0 R>>";
    let pages = "<</Type /Pages /Kids [3 0 R] /Count 1>>";
    let page = "<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents [4 0 R]>>";
    let content = "<</Length 3>>\nstream\nq Q\nendstream";
    let mut pdf = build_pdf(&[catalog, pages, page, content]);
    let at = pdf.windows(11).position(|w| w == b"/Root 1 0 R").unwrap();
    pdf.splice(at..at + 11, b"/Root 1 0 R /Info 1 0 R".iter().copied());
    let signed = sign(&backend, pdf).await.unwrap();
    assert!(only(&verify(&signed.pdf).unwrap()).intact);

    let doc = Document::load_mem(&signed.pdf).unwrap();
    let mut cat = doc.get_dictionary((1, 0)).unwrap().clone();
    cat.set("Pages", lopdf::Object::Reference((2, 0)));
    cat.set(
        "OpenAction",
        lopdf::Object::string_literal("app.alert('x')"),
    );
    let body = String::from_utf8(pdf::serialize(&lopdf::Object::Dictionary(cat)).unwrap()).unwrap();
    let replaced = append_update(&signed.pdf, &[(1, body)]);
    let report = verify(&replaced).unwrap();
    let s = only(&report);
    assert_eq!(s.changes_after, "other", "{s:?}");
    assert_eq!(report.verdict, "modified", "{report:?}");
}

#[tokio::test]
async fn byte_ranges_of_the_wrong_shape_are_refused() {
    let backend = SoftBackend::ephemeral(NOW).unwrap();
    let signed = sign(&backend, fixture("ke-hoach-1-trang.pdf"))
        .await
        .unwrap();
    let at = signed
        .pdf
        .windows(12)
        .position(|w| w == b"/ByteRange [")
        .unwrap()
        + 12;
    let close = at + signed.pdf[at..].iter().position(|&b| b == b']').unwrap();
    let text = std::str::from_utf8(&signed.pdf[at..close])
        .unwrap()
        .to_owned();
    let n: Vec<i64> = text
        .split_whitespace()
        .map(|t| t.parse().unwrap())
        .collect();
    let (b, c, d) = (n[1], n[2], n[3]);
    let shapes = [
        format!("1 {b} {c} {d}"),
        format!("0 {b} {c} {}", d + 1000),
        format!("0 {b} {c} {d} 5"),
        format!("0.0 {b} {c} {d}"),
        format!("0 {b} {} {}", c + 2, d - 2),
        format!("0 {b} {c} {}", d - 30),
        format!("0 {b} {c} -{d}"),
        format!("0 {b} 9 0 R {d}"),
    ];
    for shape in shapes {
        assert!(shape.len() <= close - at, "{shape}");
        let mut bad = signed.pdf.clone();
        let padded = format!("{shape:<width$}", width = close - at);
        bad[at..close].copy_from_slice(padded.as_bytes());
        let report = verify(&bad).unwrap();
        let s = only(&report);
        assert!(!s.byte_range_ok && !s.intact, "{shape}: {s:?}");
        assert!(
            s.error.as_deref().unwrap().contains("ByteRange"),
            "{shape}: {s:?}"
        );
        assert_eq!(report.verdict, "invalid");
    }
}

/// Signs the fixture with signed attributes `attrs` made from the document
/// digest: a CMS that the key really signed, but with other attributes.
async fn sign_with_attributes(
    make: impl Fn(&[u8], &[u8]) -> Vec<x509_cert::attr::Attribute>,
) -> Vec<u8> {
    use der::Encode;
    let backend = SoftBackend::ephemeral(NOW).unwrap();
    let input = fixture("ke-hoach-1-trang.pdf");
    let doc = pdf::load(&input).unwrap();
    let prepared = pdf::prepare(&input, &doc, &pdf::SigFields::default()).unwrap();
    let (head, tail) = prepared.signed_ranges();
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    ctx.update(head);
    ctx.update(tail);
    let key = backend.key(LABEL).await.unwrap();
    let attrs: cms_crate::signed_data::SignedAttributes =
        der::asn1::SetOfVec::try_from(make(ctx.finish().as_ref(), &key.chain[0])).unwrap();
    let signature = backend.sign(LABEL, &attrs.to_der().unwrap()).await.unwrap();
    let cms_der = cms::assemble(attrs, signature, &key).unwrap();
    prepared.fill(&cms_der).unwrap()
}

use ::cms as cms_crate;

fn attr(oid: &str, values: Vec<der::asn1::Any>) -> x509_cert::attr::Attribute {
    x509_cert::attr::Attribute {
        oid: der::asn1::ObjectIdentifier::new_unwrap(oid),
        values: der::asn1::SetOfVec::try_from(values).unwrap(),
    }
}

fn octets(b: &[u8]) -> der::asn1::Any {
    der::asn1::Any::encode_from(&der::asn1::OctetString::new(b).unwrap()).unwrap()
}

#[tokio::test]
async fn signed_attributes_must_be_one_content_type_of_data_and_one_message_digest() {
    let content_type = || {
        attr(
            "1.2.840.113549.1.9.3",
            vec![der::asn1::Any::encode_from(&oids::DATA).unwrap()],
        )
    };
    let ess = |cert: &[u8]| {
        let full = cms::signed_attributes(b"x", cert).unwrap();
        full.iter()
            .find(|a| a.oid == oids::SIGNING_CERTIFICATE_V2)
            .unwrap()
            .clone()
    };
    // The honest set first: the builder itself is right.
    let good = sign_with_attributes(|md, cert| {
        vec![
            content_type(),
            attr("1.2.840.113549.1.9.4", vec![octets(md)]),
            ess(cert),
        ]
    })
    .await;
    assert!(only(&verify(&good).unwrap()).intact);

    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "content-type",
            sign_with_attributes(|md, cert| {
                vec![attr("1.2.840.113549.1.9.4", vec![octets(md)]), ess(cert)]
            })
            .await,
        ),
        (
            "content-type",
            sign_with_attributes(|md, cert| {
                vec![
                    attr(
                        "1.2.840.113549.1.9.3",
                        vec![der::asn1::Any::encode_from(&oids::SIGNED_DATA).unwrap()],
                    ),
                    attr("1.2.840.113549.1.9.4", vec![octets(md)]),
                    ess(cert),
                ]
            })
            .await,
        ),
        (
            "message-digest",
            sign_with_attributes(|md, cert| {
                vec![
                    content_type(),
                    attr("1.2.840.113549.1.9.4", vec![octets(md), octets(b"other")]),
                    ess(cert),
                ]
            })
            .await,
        ),
        (
            "twice",
            sign_with_attributes(|md, cert| {
                vec![
                    content_type(),
                    attr("1.2.840.113549.1.9.4", vec![octets(md)]),
                    attr("1.2.840.113549.1.9.4", vec![octets(b"other")]),
                    ess(cert),
                ]
            })
            .await,
        ),
    ];
    for (what, pdf) in cases {
        let report = verify(&pdf).unwrap();
        let s = only(&report);
        assert!(!s.intact, "{what}: {s:?}");
        assert!(
            s.error.as_deref().unwrap_or("").contains(what),
            "{what}: {s:?}"
        );
    }
}

#[tokio::test]
async fn a_document_certified_with_no_changes_allowed_is_not_signed() {
    let backend = SoftBackend::ephemeral(NOW).unwrap();
    let pages = "<</Type /Pages /Kids [3 0 R] /Count 1>>";
    let page = "<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]>>";
    let certified = |p: u8| {
        build_pdf(&[
            "<</Type /Catalog /Pages 2 0 R /Perms <</DocMDP 4 0 R>>>>",
            pages,
            page,
            &format!(
                "<</Type /Sig /Filter /Adobe.PPKLite /Reference [<</Type /SigRef /TransformMethod /DocMDP /TransformParams <</Type /TransformParams /P {p} /V /1.2>>>>] /ByteRange [0 1 2 3] /Contents <00>>>"
            ),
        ])
    };
    let e = sign(&backend, certified(1)).await.unwrap_err();
    assert!(matches!(e, SigningError::Certified), "{e}");
    assert!(e.to_string().contains("no changes allowed"), "{e}");
    for p in [2, 3] {
        sign(&backend, certified(p)).await.unwrap();
    }
}

#[test]
fn cross_reference_bombs_are_refused_before_parsing() {
    let catalog = "<</Type /Catalog /Pages 2 0 R>>";
    let pages = "<</Type /Pages /Kids [3 0 R] /Count 1>>";
    let page = "<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]>>";
    let base = build_pdf(&[catalog, pages, page]);
    let replace = |from: &str, to: &str| {
        let s = String::from_utf8(base.clone()).unwrap();
        assert!(s.contains(from));
        s.replacen(from, to, 1).into_bytes()
    };
    // The cross-reference stream that `startxref` names, as the newest
    // section (one elsewhere in the file is not read as one).
    let xref_stream = |dict: &str| {
        let mut bytes = base.clone();
        let at = bytes.len();
        bytes.extend_from_slice(
            format!("4 0 obj\n{dict}\nstream\n\nendstream\nendobj\nstartxref\n{at}\n%%EOF\n")
                .as_bytes(),
        );
        bytes
    };
    let long_stream = build_pdf(&[
        catalog,
        pages,
        page,
        "<</Length 999999999>>\nstream\nabc\nendstream",
    ]);
    let cases = [
        ("/Size", replace("/Size 4 ", "/Size 8000000 ")),
        (
            "cross-reference table",
            replace("xref\n0 4", "xref\n0 8000000"),
        ),
        (
            "field width",
            xref_stream("<</Type /XRef /Size 5 /W [1 999999999 1] /Root 1 0 R /Length 0>>"),
        ),
        (
            "out of range",
            xref_stream(&format!(
                "<</Type /XRef /Size 5 /W [1 {} 1] /Root 1 0 R /Length 0>>",
                "9".repeat(40)
            )),
        ),
        (
            "(/Index)",
            xref_stream(
                "<</Type /XRef /Size 5 /W [1 2 1] /Index [0 8000000] /Root 1 0 R /Length 0>>",
            ),
        ),
        // Widths that are not non-negative integers are not widths.
        (
            "/W",
            xref_stream("<</Type /XRef /Size 5 /W [1 -1 1] /Root 1 0 R /Length 0>>"),
        ),
        (
            "/W",
            xref_stream("<</Type /XRef /Size 5 /W [1 2.5 1] /Root 1 0 R /Length 0>>"),
        ),
        (
            // A number no integer holds does not parse.
            "an integer out of range",
            build_pdf(&[
                catalog,
                pages,
                page,
                &format!("<</Length {}>>\nstream\nabc\nendstream", "9".repeat(30)),
            ]),
        ),
        ("stream claims", long_stream),
    ];
    for (what, bytes) in cases {
        let started = std::time::Instant::now();
        let e = pdf::load(&bytes).unwrap_err();
        assert!(matches!(e, SigningError::Malformed(_)), "{what}: {e}");
        assert!(
            e.to_string().contains(what) || e.to_string().contains("objects"),
            "{what}: {e}"
        );
        assert!(started.elapsed().as_secs() < 2, "{what}: quick");
    }
    // The same claim in a 50 MiB file is still refused, and quickly: the
    // limit follows the file's size, not only the format's maximum.
    // (The padding is a comment before `startxref`: every offset holds.)
    let mut big = replace("/Size 4 ", "/Size 8000000 ");
    let pad = vec![b'%'; MAX_PDF_BYTES - big.len() - 64];
    let at = big.windows(9).position(|w| w == b"startxref").unwrap();
    big.splice(at..at, pad.iter().copied().chain(*b"\n"));
    let started = std::time::Instant::now();
    let e = pdf::load(&big).unwrap_err();
    assert!(e.to_string().contains("/Size"), "{e}");
    assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
}

#[tokio::test]
async fn the_signature_covers_the_signed_attributes_as_received() {
    use der::Encode;
    let backend = SoftBackend::ephemeral(NOW).unwrap();
    let key = backend.key(LABEL).await.unwrap();
    let input = fixture("ke-hoach-1-trang.pdf");
    let doc = pdf::load(&input).unwrap();
    let prepared = pdf::prepare(&input, &doc, &pdf::SigFields::default()).unwrap();
    let (head, tail) = prepared.signed_ranges();
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    ctx.update(head);
    ctx.update(tail);
    let attrs = cms::signed_attributes(ctx.finish().as_ref(), &key.chain[0]).unwrap();
    let sorted: Vec<u8> = attrs.iter().flat_map(|a| a.to_der().unwrap()).collect();
    let mut each: Vec<Vec<u8>> = attrs.iter().map(|a| a.to_der().unwrap()).collect();
    each.reverse();
    let reversed: Vec<u8> = each.concat();
    assert_ne!(sorted, reversed);
    let whole = attrs.to_der().unwrap();
    let header = &whole[..whole.len() - sorted.len()];
    // A signer that wrote its attributes in another order than DER sorts
    // them, and signed exactly what it wrote.
    let as_written = [header, &reversed].concat();
    let signature = backend.sign(LABEL, &as_written).await.unwrap();
    let cms_der = cms::assemble(attrs, signature, &key).unwrap();
    let at = cms_der
        .windows(sorted.len())
        .position(|w| w == sorted.as_slice())
        .unwrap();
    let mut received = cms_der.clone();
    received[at..at + sorted.len()].copy_from_slice(&reversed);
    let pdf_bytes = prepared.fill(&received).unwrap();
    let report = verify(&pdf_bytes).unwrap();
    assert!(only(&report).intact, "{report:?}");
    // The same bytes with the attributes re-sorted are not what was signed.
    let mut resorted = pdf_bytes.clone();
    let hex_of = |b: &[u8]| b.iter().map(|x| format!("{x:02X}")).collect::<String>();
    let (from, to) = (hex_of(&reversed), hex_of(&sorted));
    let pos = resorted
        .windows(from.len())
        .position(|w| w == from.as_bytes())
        .unwrap();
    resorted[pos..pos + to.len()].copy_from_slice(to.as_bytes());
    let s = verify(&resorted).unwrap();
    assert!(!only(&s).signature_verifies, "{s:?}");
}

/// `doc` saved by lopdf with object streams and a cross-reference stream
/// (what PDF 1.5 writers make).
fn save_modern(doc: &mut Document) -> Vec<u8> {
    let mut out = Vec::new();
    let options = lopdf::SaveOptions::builder()
        .use_object_streams(true)
        .use_xref_streams(true)
        .build();
    doc.save_with_options(&mut out, options).unwrap();
    out
}

/// A one-page document with a CID font whose widths array (`/W [0 [...]]`,
/// ISO 32000-1 §9.7.4.3) lies in the object stream just before the
/// cross-reference stream, saved as lopdf saves it with object streams.
fn modern_with_cid_widths() -> Vec<u8> {
    use lopdf::{Object, Stream, dictionary};
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    // An object before the font, in the same object stream, long enough
    // that the font's widths lie over 2 KB past the stream's `stream`.
    let filler = doc.add_object(dictionary! {
        "Type" => "ExtGState",
        "Padding" => (0..1000).map(Object::from).collect::<Vec<_>>(),
    });
    let widths = Object::Array(vec![
        0.into(),
        Object::Array(vec![600.5.into(), 0.into(), 348.25.into()]),
        16.into(),
        Object::Array(vec![415.into()]),
        19.into(),
        25.into(),
        500.into(),
    ]);
    let cid_font = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "CIDFontType2",
        "BaseFont" => "Arial",
        "W" => widths,
        "DW" => 0,
    });
    let font = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type0",
        "BaseFont" => "Arial",
        "Encoding" => "Identity-H",
        "DescendantFonts" => vec![cid_font.into()],
    });
    let content = doc.add_object(Stream::new(dictionary! {}, b"BT ET".to_vec()));
    let page = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        "Contents" => content,
        "Resources" => dictionary! {
            "Font" => dictionary! { "F1" => font },
            "ExtGState" => dictionary! { "GS0" => filler },
        },
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => vec![page.into()],
            "Count" => 1,
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    save_modern(&mut doc)
}

#[test]
fn a_file_lopdf_writes_with_object_streams_loads() {
    let bytes = modern_with_cid_widths();
    // What the pre-scan once tripped on: a widths array that is not a
    // cross-reference stream's /W, in the bytes before the stream's /XRef.
    let xref = bytes.windows(10).position(|w| w == b"/Type/XRef").unwrap();
    let widths = bytes.windows(4).position(|w| w == b"/W[0").unwrap();
    let window = xref - 2048;
    assert!(window < widths && widths < xref, "{widths} {xref}");
    assert!(!bytes[window..widths].windows(6).any(|w| w == b"stream"));
    let doc = pdf::load(&bytes).unwrap();
    assert_eq!(doc.get_pages().len(), 1);
    pdf::load(&save_modern(
        &mut Document::load_mem(&fixture("ke-hoach-nhieu-trang.pdf")).unwrap(),
    ))
    .unwrap();
}

#[tokio::test]
async fn a_signed_file_with_object_streams_verifies() {
    let backend = SoftBackend::ephemeral(NOW).unwrap();
    let input = modern_with_cid_widths();
    let signed = sign(&backend, input.clone()).await.unwrap();
    assert!(signed.pdf.starts_with(&input));
    let report = verify(&signed.pdf).unwrap();
    let s = only(&report);
    assert!(s.intact, "{s:?}");
    assert!(s.byte_range_ok && s.digest_matches && s.signature_verifies);
    assert!(!s.modified_after);
}
