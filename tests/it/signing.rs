//! PDF signing through the real binary (`idp sign pdf`, `idp sign verify`),
//! judged by validators that share no code with it: poppler's `pdfsig`,
//! `qpdf --check` and pyHanko, with the software key's self-signed
//! certificate (`idp sign certificate`) as pyHanko's only trust anchor.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::pdf::sample;
use crate::harness::pdf::{
    openssl_signer, pdfsig, pyhanko_certify, pyhanko_sign, pyhanko_validate, qpdf, qpdf_check,
};
use crate::harness::{Backends, Idp, audit_events};

const DOCUMENTS: [&str; 2] = ["ke-hoach-1-trang.pdf", "ke-hoach-nhieu-trang.pdf"];

fn sha256_hex(bytes: &[u8]) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An idp node, a work folder, and its key's certificate as a PEM file.
pub(crate) struct Signer {
    pub(crate) idp: Idp,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) root: PathBuf,
}

impl Signer {
    pub(crate) fn new() -> Signer {
        let idp = Idp::spawn(&Backends::default());
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("soft-key.pem");
        let pem = idp.cli_ok(&["sign", "certificate"], None);
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
        std::fs::write(&root, pem).unwrap();
        Signer { idp, dir, root }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn sign(&self, input: &Path, output: &Path, reason: &str) {
        self.sign_with(input, output, &["--reason", reason]);
    }

    fn command<'a>(input: &'a Path, output: &'a Path, args: &[&'a str]) -> Vec<&'a str> {
        let mut all = vec![
            "sign",
            "pdf",
            input.to_str().unwrap(),
            output.to_str().unwrap(),
        ];
        all.extend_from_slice(args);
        all
    }

    /// `idp sign pdf IN OUT ARGS…`, expected to succeed.
    pub(crate) fn sign_with(&self, input: &Path, output: &Path, args: &[&str]) {
        self.idp.cli_ok(&Signer::command(input, output, args), None);
    }

    /// `idp sign pdf IN OUT ARGS…`, expected to fail: its standard error.
    pub(crate) fn refuse(&self, input: &Path, output: &Path, args: &[&str]) -> String {
        let out = self.idp.cli(&Signer::command(input, output, args), None);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(!output.exists(), "{args:?}: no output file");
        stderr
    }

    fn verify(&self, file: &Path) -> Value {
        serde_json::from_str(
            &self
                .idp
                .cli_ok(&["sign", "verify", file.to_str().unwrap()], None),
        )
        .unwrap()
    }
}

/// pdfsig's lines for each signature, in order.
fn pdfsig_signatures(text: &str) -> Vec<String> {
    text.split("Signature #")
        .skip(1)
        .map(str::to_owned)
        .collect()
}

fn assert_valid_everywhere(s: &Signer, signed: &Path, count: usize) {
    let text = pdfsig(signed);
    let sigs = pdfsig_signatures(&text);
    assert_eq!(sigs.len(), count, "{text}");
    for sig in &sigs {
        assert!(
            sig.contains("Signature Validation: Signature is Valid."),
            "{text}"
        );
        assert!(
            sig.contains("Signature Type: ETSI.CAdES.detached"),
            "{text}"
        );
        assert!(sig.contains("Signing Hash Algorithm: SHA-256"), "{text}");
        assert!(
            sig.contains(
                "Signer Certificate Common Name: dangnhap test signing key — NOT LEGALLY VALID"
            ),
            "{text}"
        );
        // Self-signed and in no trust store: poppler says so.
        assert!(
            sig.contains("Certificate Validation: Certificate issuer is unknown."),
            "{text}"
        );
    }
    assert!(
        sigs.last().unwrap().contains("Total document signed"),
        "the last signature covers the whole file: {text}"
    );
    let (ok, qpdf_text) = qpdf_check(signed);
    assert!(ok, "{qpdf_text}");
    let verdicts = pyhanko_validate(signed, &[&s.root]);
    assert_eq!(verdicts.len(), count, "{verdicts:?}");
    for v in &verdicts {
        assert_eq!(v["intact"], true, "{v}");
        assert_eq!(v["valid"], true, "{v}");
        assert_eq!(
            v["trusted"], true,
            "with its own certificate as the root: {v}"
        );
    }
    assert_eq!(verdicts.last().unwrap()["coverage"], "ENTIRE_FILE");
    let ours = s.verify(signed);
    let sigs = ours["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), count, "{ours}");
    assert!(sigs.iter().all(|s| s["intact"] == true), "{ours}");
}

#[tokio::test]
async fn both_sample_documents_sign_and_every_validator_agrees() {
    let s = Signer::new();
    for name in DOCUMENTS {
        let input = sample(name);
        let output = s.path(&format!("signed-{name}"));
        s.sign(&input, &output, "Phê duyệt kế hoạch");
        // Not for every account on the machine.
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&output).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
        let original = std::fs::read(&input).unwrap();
        let signed = std::fs::read(&output).unwrap();
        assert!(
            signed.starts_with(&original),
            "{name}: an incremental update"
        );
        assert_valid_everywhere(&s, &output, 1);
        let report = s.verify(&output);
        let sig = &report["signatures"][0];
        assert_eq!(sig["reason"], "Phê duyệt kế hoạch");
        assert_eq!(sig["modified_after"], false);
        assert_eq!(sig["has_signing_time_attribute"], false);
        assert_eq!(report["sha256"], sha256_hex(&signed));

        // Audited with the document's hash, the signer and the kind.
        let events = audit_events(&s.idp).await;
        let e = events
            .iter()
            .find(|e| {
                e.kind == "sign.pdf_signed"
                    && e.detail
                        .as_deref()
                        .is_some_and(|d| d.contains(&sha256_hex(&original)))
            })
            .unwrap_or_else(|| panic!("{name} not audited: {events:?}"));
        let detail: Value = serde_json::from_str(e.detail.as_deref().unwrap()).unwrap();
        assert_eq!(detail["document_sha256"], sha256_hex(&original));
        assert_eq!(detail["signed_sha256"], sha256_hex(&signed));
        assert_eq!(detail["kind"], "personal");
        assert!(
            e.subject.as_deref().unwrap().contains("NOT LEGALLY VALID"),
            "{e:?}"
        );
    }
}

#[tokio::test]
async fn one_changed_byte_is_a_digest_mismatch_for_pdfsig_and_for_us() {
    let s = Signer::new();
    let signed = s.path("signed.pdf");
    s.sign(&sample("ke-hoach-1-trang.pdf"), &signed, "Ký số");
    let mut bytes = std::fs::read(&signed).unwrap();
    // A byte of the page's content stream, well inside the first signed range.
    bytes[20_000] ^= 0x01;
    let changed = s.path("changed.pdf");
    std::fs::write(&changed, &bytes).unwrap();

    let text = pdfsig(&changed);
    assert!(
        text.contains("Signature Validation: Digest Mismatch."),
        "{text}"
    );
    assert!(!text.contains("Signature is Valid."), "{text}");
    let ours = s.verify(&changed);
    let sig = &ours["signatures"][0];
    assert_eq!(sig["digest_matches"], false, "{ours}");
    assert_eq!(sig["intact"], false, "{ours}");
    let verdicts = pyhanko_validate(&changed, &[&s.root]);
    assert_eq!(verdicts[0]["intact"], false, "{verdicts:?}");
}

#[tokio::test]
async fn a_second_signature_leaves_the_first_valid() {
    let s = Signer::new();
    let once = s.path("once.pdf");
    let twice = s.path("twice.pdf");
    // The office does not seal a document no official signed.
    let stderr = s.refuse(
        &sample("ke-hoach-nhieu-trang.pdf"),
        &once,
        &["--kind", "organization"],
    );
    assert!(
        stderr.contains("the office seals only a document an official signed"),
        "{stderr}"
    );
    s.sign(&sample("ke-hoach-nhieu-trang.pdf"), &once, "Phê duyệt");
    s.sign(&once, &twice, "Ban hành");
    assert!(
        std::fs::read(&twice)
            .unwrap()
            .starts_with(&std::fs::read(&once).unwrap())
    );
    assert_valid_everywhere(&s, &twice, 2);
    let verdicts = pyhanko_validate(&twice, &[&s.root]);
    // pyHanko judges what came after the first signature: a form filled in
    // (a signature field added and signed), nothing worse.
    assert_eq!(verdicts[0]["coverage"], "ENTIRE_REVISION", "{verdicts:?}");
    assert_eq!(
        verdicts[0]["modification_level"], "FORM_FILLING",
        "{verdicts:?}"
    );
    let ours = s.verify(&twice);
    assert_eq!(ours["signatures"][0]["modified_after"], true, "{ours}");
    assert_eq!(ours["signatures"][1]["modified_after"], false, "{ours}");
}

#[tokio::test]
async fn signatures_by_pyhanko_and_by_us_live_together_in_either_order() {
    let s = Signer::new();
    let (key, cert) = openssl_signer(s.dir.path());
    let input = sample("ke-hoach-1-trang.pdf");
    let theirs_first = s.path("pyhanko-then-us.pdf");
    let ours_first = s.path("us-then-pyhanko.pdf");
    let step = s.path("step.pdf");

    pyhanko_sign(&input, &step, &key, &cert, "PyHanko");
    s.sign(&step, &theirs_first, "Ban hành");
    s.sign(&input, &step, "Phê duyệt");
    pyhanko_sign(&step, &ours_first, &key, &cert, "PyHanko");

    for (file, order) in [
        (&theirs_first, ["PyHanko", "Signature1"]),
        (&ours_first, ["Signature1", "PyHanko"]),
    ] {
        let text = pdfsig(file);
        assert_eq!(
            text.matches("Signature Validation: Signature is Valid.")
                .count(),
            2,
            "{text}"
        );
        let (ok, qpdf_text) = qpdf_check(file);
        assert!(ok, "{qpdf_text}");
        let verdicts = pyhanko_validate(file, &[&s.root, &cert]);
        assert_eq!(verdicts.len(), 2, "{verdicts:?}");
        for (v, field) in verdicts.iter().zip(order) {
            assert_eq!(v["field"], field, "{verdicts:?}");
            assert_eq!(v["intact"], true, "{v}");
            assert_eq!(v["valid"], true, "{v}");
            assert_eq!(v["trusted"], true, "{v}");
        }
        // Our verifier reads pyHanko's RSA signature as well as our own.
        let report = s.verify(file);
        let sigs = report["signatures"].as_array().unwrap();
        assert_eq!(sigs.len(), 2, "{report}");
        for (sig, field) in sigs.iter().zip(order) {
            assert_eq!(sig["field"], field, "{report}");
            assert_eq!(sig["intact"], true, "{report}");
            assert_eq!(sig["signing_certificate_bound"], true, "{report}");
        }
        assert_eq!(sigs[0]["modified_after"], true);
        assert_eq!(sigs[1]["modified_after"], false);
    }
}

#[tokio::test]
async fn a_document_with_a_cross_reference_stream_signs_too() {
    let s = Signer::new();
    let packed = s.path("packed.pdf");
    qpdf(&[
        "--object-streams=generate".as_ref(),
        sample("ke-hoach-1-trang.pdf").as_os_str(),
        packed.as_os_str(),
    ]);
    let signed = s.path("packed-signed.pdf");
    s.sign(&packed, &signed, "Ký số");
    assert_valid_everywhere(&s, &signed, 1);
    // pyHanko signs on top: a compressed cross-reference stream (whose
    // /Filter lopdf drops from the trailer), the document information
    // rewritten (named by that stream's dictionary, which is a trailer).
    // Both hold, and ours saw only a signature added.
    let (key, cert) = openssl_signer(s.dir.path());
    let twice = s.path("packed-twice.pdf");
    pyhanko_sign(&signed, &twice, &key, &cert, "PyHanko");
    let thrice = s.path("packed-thrice.pdf");
    pyhanko_sign(&twice, &thrice, &key, &cert, "PyHanko2");
    let report = s.verify(&thrice);
    let sigs = report["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 3, "{report}");
    assert!(sigs.iter().all(|s| s["intact"] == true), "{report}");
    for (sig, after) in sigs
        .iter()
        .zip(["signatures_only", "signatures_only", "none"])
    {
        assert_eq!(sig["changes_after"], after, "{report}");
    }
}

#[tokio::test]
async fn bad_input_is_a_clear_error_and_no_output_file() {
    let s = Signer::new();
    for (name, says) in [
        ("not-a-pdf.pdf", "not a PDF file"),
        ("truncated.pdf", "the PDF is truncated"),
        ("encrypted.pdf", "the PDF is encrypted"),
    ] {
        let output = s.path(&format!("out-{name}"));
        let out = s.idp.cli(
            &[
                "sign",
                "pdf",
                sample(name).to_str().unwrap(),
                output.to_str().unwrap(),
            ],
            None,
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name}");
        assert!(stderr.contains(says), "{name}: {stderr}");
        assert!(!output.exists(), "{name}: no output file");
    }
    let leftovers: Vec<_> = std::fs::read_dir(s.dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n != "soft-key.pem")
        .collect();
    assert!(leftovers.is_empty(), "nothing half-written: {leftovers:?}");
    // Verification refuses them the same way.
    let out = s.idp.cli(
        &["sign", "verify", sample("truncated.pdf").to_str().unwrap()],
        None,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("truncated"));
}

/// `pdf` with an incremental update that adds one empty object and changes
/// nothing else (a cross-reference table whose /Prev is the last section).
fn with_trivial_update(pdf: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(pdf);
    let start = text.rfind("startxref").unwrap();
    let prev: usize = text[start + 9..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let root = {
        let at = text.rfind("/Root").unwrap();
        text[at + 5..]
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let size: u32 = {
        let at = text.rfind("/Size").unwrap();
        text[at + 5..]
            .split(|c: char| !c.is_ascii_digit() && c != ' ')
            .next()
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let mut out = pdf.to_vec();
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    let obj = out.len();
    out.extend_from_slice(format!("{size} 0 obj\n<<>>\nendobj\n").as_bytes());
    let xref = out.len();
    out.extend_from_slice(
        format!(
            "xref\n{size} 1\n{obj:010} 00000 n \ntrailer\n<</Size {} /Root {root} /Prev {prev}>>\nstartxref\n{xref}\n%%EOF\n",
            size + 1
        )
        .as_bytes(),
    );
    out
}

#[test]
fn a_document_certified_with_no_changes_allowed_is_not_signed_and_a_later_update_breaks_it() {
    let s = Signer::new();
    let (key, cert) = openssl_signer(s.dir.path());
    let certified = s.path("certified.pdf");
    pyhanko_certify(
        &sample("ke-hoach-1-trang.pdf"),
        &certified,
        &key,
        &cert,
        "Certification",
    );
    let report = s.verify(&certified);
    assert_eq!(report["verdict"], "valid_trust_not_checked", "{report}");
    // We do not sign it: the certification allows no change.
    let out = s.path("signed.pdf");
    let r = s.idp.cli(
        &[
            "sign",
            "pdf",
            certified.to_str().unwrap(),
            out.to_str().unwrap(),
        ],
        None,
    );
    assert!(!r.status.success());
    assert!(
        String::from_utf8_lossy(&r.stderr).contains("no changes allowed"),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(!out.exists());
    // Any later update breaks it, even one that changes nothing a signature
    // would mind; pyHanko agrees.
    let updated = s.path("updated.pdf");
    std::fs::write(
        &updated,
        with_trivial_update(&std::fs::read(&certified).unwrap()),
    )
    .unwrap();
    let report = s.verify(&updated);
    assert_eq!(report["verdict"], "modified", "{report}");
    assert!(
        report["verdict_reason"]
            .as_str()
            .unwrap()
            .contains("DocMDP P=1"),
        "{report}"
    );
    let theirs = pyhanko_validate(&updated, &[&cert]);
    assert_ne!(theirs[0]["modification_level"], "NONE", "{theirs:?}");
}
