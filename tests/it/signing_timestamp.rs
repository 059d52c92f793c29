//! PAdES B-T through the real binary: `idp sign pdf` with
//! `IDP_SIGNING__TSA_URL` pointing at a real RFC 3161 TSA (`openssl ts
//! -reply` behind the harness's HTTP server), judged by pyHanko and pdfsig,
//! and by `idp sign verify` with trust anchors; a TSA that is down or
//! answers garbage fails the signing and leaves no file. Also the xref
//! bombs the pre-scan refuses, under a memory limit.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::pdf::sample;
use crate::harness::pdf::{pdfsig, pyhanko_timestamp, pyhanko_validate, qpdf_check};
use crate::harness::tsa::Tsa;
use crate::harness::{Backends, Idp};

fn soft_root(idp: &Idp, dir: &Path) -> PathBuf {
    let root = dir.join("soft-key.pem");
    std::fs::write(&root, idp.cli_ok(&["sign", "certificate"], None)).unwrap();
    root
}

fn sign(idp: &Idp, tsa: &str, input: &Path, output: &Path) -> std::process::Output {
    idp.cli_env(
        &[("IDP_SIGNING__TSA_URL", tsa)],
        &[
            "sign",
            "pdf",
            input.to_str().unwrap(),
            output.to_str().unwrap(),
            "--reason",
            "Phê duyệt kế hoạch",
        ],
    )
}

fn verify(idp: &Idp, extra: &[(&str, &str)], args: &[&str]) -> Value {
    let out = idp.cli_env(extra, args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_time_stamped_signature_is_valid_in_pyhanko_pdfsig_and_our_verify() {
    let idp = Idp::spawn(&Backends::default());
    let tsa = Tsa::honest();
    let dir = tempfile::tempdir().unwrap();
    let root = soft_root(&idp, dir.path());
    let output = dir.path().join("signed.pdf");
    let out = sign(&idp, &tsa.url, &sample("ke-hoach-1-trang.pdf"), &output);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let text = pdfsig(&output);
    assert!(
        text.contains("Signature Validation: Signature is Valid."),
        "{text}"
    );
    assert!(text.contains("Total document signed"), "{text}");
    let (ok, qpdf_text) = qpdf_check(&output);
    assert!(ok, "{qpdf_text}");

    let verdicts = pyhanko_validate(&output, &[&root, &tsa.ca]);
    assert_eq!(verdicts.len(), 1, "{verdicts:?}");
    let v = &verdicts[0];
    assert_eq!(v["intact"], true, "{v}");
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["trusted"], true, "{v}");
    let ts = &v["timestamp"];
    assert_eq!(ts["intact"], true, "B-T: pyHanko sees the time-stamp: {v}");
    assert_eq!(ts["valid"], true, "{v}");
    assert_eq!(ts["trusted"], true, "{v}");
    assert!(
        ts["tsa"].as_str().unwrap().contains("dangnhap test TSA"),
        "{v}"
    );

    // Ours, with both anchors on the command line.
    let root_s = root.to_str().unwrap();
    let ca_s = tsa.ca.to_str().unwrap();
    let file = output.to_str().unwrap();
    let report = verify(
        &idp,
        &[],
        &["sign", "verify", file, "--anchor", root_s, "--anchor", ca_s],
    );
    let s = &report["signatures"][0];
    assert_eq!(s["intact"], true, "{report}");
    assert_eq!(s["trust"]["status"], "trusted", "{report}");
    let t = &s["timestamp"];
    assert_eq!(t["imprint_matches"], true, "{report}");
    assert_eq!(t["signature_verifies"], true, "{report}");
    assert!(
        t["tsa"].as_str().unwrap().contains("CN=dangnhap test TSA"),
        "{report}"
    );
    assert_eq!(t["trust"]["status"], "trusted", "{report}");
    assert!(t["error"].is_null(), "{report}");
    // The claimed time and the proved one are both there, each under its name.
    assert!(
        s["claimed_time"].as_str().unwrap().starts_with("D:"),
        "{report}"
    );
    assert_eq!(s["time_stamped_at"], t["gen_time"], "{report}");
    assert_eq!(report["verdict"], "valid", "{report}");

    // The same anchors from the configuration.
    let both = format!("{root_s},{ca_s}");
    let report = verify(
        &idp,
        &[("IDP_SIGNING__TRUST_ANCHORS", &both)],
        &["sign", "verify", file],
    );
    assert_eq!(report["verdict"], "valid", "{report}");
    // Only the signer's anchor: the TSA does not chain to it.
    let report = verify(&idp, &[], &["sign", "verify", file, "--anchor", root_s]);
    let t = &report["signatures"][0]["timestamp"];
    assert_eq!(t["trust"]["status"], "untrusted", "{report}");
    assert_eq!(report["verdict"], "untrusted", "{report}");
    // No anchors: intact, but nobody is vouched for.
    let report = verify(&idp, &[], &["sign", "verify", file]);
    assert_eq!(report["signatures"][0]["trust"]["status"], "not_checked");
    assert_eq!(report["verdict"], "valid_trust_not_checked", "{report}");

    // A token changed after the fact (its genTime, an unsigned attribute:
    // outside the signature's own digest) is reported as not holding.
    let mut bytes = std::fs::read(&output).unwrap();
    let gen_time = bytes
        .windows(8)
        .position(|w| w == b"180F3230")
        .expect("the token's GeneralizedTime in /Contents");
    // The tens-of-seconds digit (hex "3X" at characters 26-27 of the time).
    let digit = gen_time + 4 + 2 * 12 + 1;
    bytes[digit] = if bytes[digit] == b'0' { b'1' } else { b'0' };
    let tampered = dir.path().join("tampered.pdf");
    std::fs::write(&tampered, &bytes).unwrap();
    let report = verify(
        &idp,
        &[],
        &[
            "sign",
            "verify",
            tampered.to_str().unwrap(),
            "--anchor",
            root_s,
            "--anchor",
            ca_s,
        ],
    );
    let s = &report["signatures"][0];
    assert_eq!(
        s["intact"], true,
        "the signature itself still holds: {report}"
    );
    assert!(s["timestamp"]["error"].is_string(), "{report}");
    assert!(s["time_stamped_at"].is_null(), "{report}");
    assert_eq!(report["verdict"], "invalid", "{report}");
}

#[test]
fn a_document_time_stamp_added_by_pyhanko_is_reported_as_the_tsa_s_and_checked() {
    let idp = Idp::spawn(&Backends::default());
    let tsa = Tsa::honest();
    let dir = tempfile::tempdir().unwrap();
    let root = soft_root(&idp, dir.path());
    let signed = dir.path().join("signed.pdf");
    let out = sign(&idp, &tsa.url, &sample("ke-hoach-1-trang.pdf"), &signed);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stamped = dir.path().join("stamped.pdf");
    pyhanko_timestamp(&signed, &stamped, &tsa.url);

    let anchors = |file: &Path| {
        verify(
            &idp,
            &[],
            &[
                "sign",
                "verify",
                file.to_str().unwrap(),
                "--anchor",
                root.to_str().unwrap(),
                "--anchor",
                tsa.ca.to_str().unwrap(),
            ],
        )
    };
    let report = anchors(&stamped);
    let sigs = report["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 2, "{report}");
    let (ours, stamp) = (&sigs[0], &sigs[1]);
    assert_eq!(ours["document_timestamp"], false, "{report}");
    assert_eq!(ours["intact"], true, "{report}");
    assert_eq!(ours["modified_after"], true, "{report}");
    assert_eq!(ours["changes_after"], "signatures_only", "{report}");
    assert_eq!(stamp["document_timestamp"], true, "{report}");
    assert_eq!(stamp["sub_filter"], "ETSI.RFC3161", "{report}");
    assert_eq!(stamp["intact"], true, "{report}");
    assert!(
        stamp["signer"]
            .as_str()
            .unwrap()
            .contains("CN=dangnhap test TSA"),
        "{report}"
    );
    assert!(stamp["time_stamped_at"].is_string(), "{report}");
    assert_eq!(stamp["trust"]["status"], "trusted", "{report}");
    assert_eq!(report["verdict"], "valid", "{report}");

    // One byte of the first revision changed: the signature and the
    // time-stamp over everything both stop holding.
    let mut bytes = std::fs::read(&stamped).unwrap();
    let inside = bytes.windows(6).position(|w| w == b"stream").unwrap() + 20;
    bytes[inside] ^= 0x01;
    let tampered = dir.path().join("tampered.pdf");
    std::fs::write(&tampered, &bytes).unwrap();
    let report = anchors(&tampered);
    let sigs = report["signatures"].as_array().unwrap();
    assert!(sigs.iter().all(|s| s["intact"] == false), "{report}");
    assert!(
        sigs[1]["error"].as_str().unwrap().contains("imprint"),
        "{report}"
    );
    assert_eq!(report["verdict"], "invalid", "{report}");
}

#[test]
fn a_tsa_that_is_down_answers_garbage_or_stamps_something_else_fails_the_signing_and_writes_nothing()
 {
    let idp = Idp::spawn(&Backends::default());
    let garbage = Tsa::garbage();
    let other = Tsa::other_imprint();
    let dir = tempfile::tempdir().unwrap();
    for (what, url, why) in [
        ("down", Tsa::down_url(), "cannot be reached"),
        ("garbage", garbage.url.clone(), "not a TimeStampResp"),
        ("other", other.url.clone(), "imprint"),
    ] {
        let output = dir.path().join(format!("{what}.pdf"));
        let started = std::time::Instant::now();
        let out = sign(&idp, &url, &sample("ke-hoach-1-trang.pdf"), &output);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "{what}: signing without the time-stamp asked for"
        );
        assert!(
            err.contains("time-stamp") && err.contains(why),
            "{what}: {err}"
        );
        assert!(!output.exists(), "{what}: no output");
        assert!(
            std::fs::read_dir(dir.path()).unwrap().next().is_none(),
            "{what}: no partial file either"
        );
        assert!(started.elapsed().as_secs() < 30, "{what}: failed fast");
    }
}

/// A file of almost 50 MiB (the cap) whose cross-reference data claims far
/// more than it holds, in one of four ways.
fn bomb(kind: &str) -> Vec<u8> {
    let mut objects = vec![
        "<</Type /Catalog /Pages 2 0 R>>".to_owned(),
        "<</Type /Pages /Kids [3 0 R] /Count 1>>".to_owned(),
        "<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]>>".to_owned(),
    ];
    match kind {
        "huge /W" => objects.push(
            "<</Type /XRef /Size 5 /W [1 999999999 1] /Length 0>>\nstream\n\nendstream".into(),
        ),
        "huge /Length" => objects.push("<</Length 999999999>>\nstream\nabc\nendstream".into()),
        _ => {}
    }
    let mut out = b"%PDF-1.7\n%".to_vec();
    out.resize(50 * 1024 * 1024 - 4096, b'x');
    out.push(b'\n');
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    let count = if kind == "xref table" {
        8_000_000
    } else {
        offsets.len() + 1
    };
    out.extend_from_slice(format!("xref\n0 {count}\n0000000000 65535 f \n").as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    let size = if kind == "/Size" {
        8_000_000
    } else {
        objects.len() + 1
    };
    out.extend_from_slice(
        format!("trailer\n<</Size {size} /Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
    );
    out
}

#[test]
fn cross_reference_bombs_are_refused_quickly_within_half_a_gibibyte() {
    let idp = Idp::spawn(&Backends::default());
    let dir = tempfile::tempdir().unwrap();
    // The process may not allocate more than 512 MiB of data; an honest
    // file still signs under that limit (the control).
    let limited = |args: &[&str]| {
        std::process::Command::new("prlimit")
            .arg("--data=536870912")
            .arg(crate::harness::util::idp_bin())
            .args(args)
            .env_clear()
            .envs(idp.env().iter().cloned())
            .output()
            .unwrap()
    };
    let signed = dir.path().join("signed.pdf");
    let input = sample("ke-hoach-nhieu-trang.pdf");
    let out = limited(&[
        "sign",
        "pdf",
        input.to_str().unwrap(),
        signed.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out_pdf = dir.path().join("out.pdf");
    for kind in ["/Size", "xref table", "huge /W", "huge /Length"] {
        let file = dir.path().join("bomb.pdf");
        std::fs::write(&file, bomb(kind)).unwrap();
        for args in [
            vec!["sign", "verify", file.to_str().unwrap()],
            vec![
                "sign",
                "pdf",
                file.to_str().unwrap(),
                out_pdf.to_str().unwrap(),
            ],
        ] {
            let _ = std::fs::remove_file(&out_pdf);
            let started = std::time::Instant::now();
            let out = limited(&args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(started.elapsed().as_secs() < 20, "{kind}: quickly");
            // Signing reads the cross-reference sections, the trailer and
            // the objects' dictionaries, never a stream it does not need: a
            // stream claiming a huge length is no bomb to it (verification,
            // which parses every object, refuses it). A stream typed /XRef
            // with huge widths that no startxref or /Prev leads to is no
            // cross-reference section to either: both go on, within the
            // limit.
            let goes_on = matches!((args[1], kind), (_, "huge /W") | ("pdf", "huge /Length"));
            if goes_on {
                assert!(out.status.success(), "{kind}: {args:?}: {err}");
                assert!(args[1] == "verify" || out_pdf.exists());
            } else {
                assert!(!out.status.success(), "{kind}: {args:?}");
                assert!(err.contains("cannot be read"), "{kind}: {args:?}: {err}");
                assert!(!out_pdf.exists(), "{kind}: nothing written");
            }
        }
    }
}
