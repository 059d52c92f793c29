//! PDF signing with keys on a PKCS#11 token (SoftHSM2, made by the harness
//! with a test CA), through the real binary (`idp sign pdf --key`), judged
//! by pdfsig (with the test CA in its NSS trust store), `qpdf --check` and
//! pyHanko (the test CA its only trust anchor).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::harness::pdf::sample;
use crate::harness::pdf::{pdfsig, pyhanko_validate, qpdf_check};
use crate::harness::softhsm::{CA_NAME, EC_PERSON, OFFICE, RSA_PERSON, SoftHsm, WEAK};
use crate::harness::{Backends, Idp, audit_events, idp_bin};

const DOCUMENTS: [&str; 2] = ["ke-hoach-1-trang.pdf", "ke-hoach-nhieu-trang.pdf"];

/// A token, an idp node configured to sign with it, and pdfsig's NSS
/// database trusting the test CA.
struct Token {
    hsm: SoftHsm,
    idp: Idp,
    nss: PathBuf,
}

impl Token {
    fn new() -> Token {
        let hsm = SoftHsm::new();
        let idp = Idp::spawn(&Backends {
            env: hsm.env(),
            ..Backends::default()
        });
        let nss = hsm.dir().join("nss");
        std::fs::create_dir(&nss).unwrap();
        let db = format!("sql:{}", nss.display());
        for args in [
            vec!["-N", "-d", &db, "--empty-password"],
            vec![
                "-A",
                "-d",
                &db,
                "-n",
                CA_NAME,
                "-t",
                "CT,C,C",
                "-i",
                hsm.ca_pem.to_str().unwrap(),
            ],
        ] {
            let out = Command::new("certutil").args(&args).output().unwrap();
            assert!(
                out.status.success(),
                "certutil {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Token { hsm, idp, nss }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.hsm.dir().join(name)
    }

    /// `idp sign pdf` with this node's settings and `env` on top.
    fn sign_with(
        &self,
        env: &[(&str, &str)],
        input: &Path,
        output: &Path,
        extra: &[&str],
    ) -> Output {
        Command::new(idp_bin())
            .env_clear()
            .envs(self.idp.env().iter().cloned())
            .envs(env.iter().map(|(k, v)| (*k, *v)))
            .args(["sign", "pdf"])
            .arg(input)
            .arg(output)
            .args(extra)
            .output()
            .unwrap()
    }

    fn sign(&self, input: &Path, output: &Path, key: &str, kind: &str, reason: &str) {
        let out = self.sign_with(
            &[],
            input,
            output,
            &["--key", key, "--kind", kind, "--reason", reason],
        );
        assert!(
            out.status.success(),
            "idp sign pdf --key {key}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// pdfsig with the test CA trusted.
    fn pdfsig_trusted(&self, pdf: &Path) -> String {
        let out = Command::new("pdfsig")
            .arg("-nssdir")
            .arg(format!("sql:{}", self.nss.display()))
            .arg(pdf)
            .output()
            .unwrap();
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }
}

/// Every signature in `pdf` valid and trusted for pdfsig, qpdf and pyHanko;
/// `signers` their common names in order.
fn assert_valid_and_trusted(t: &Token, pdf: &Path, signers: &[&str]) {
    let text = t.pdfsig_trusted(pdf);
    let sigs: Vec<&str> = text.split("Signature #").skip(1).collect();
    assert_eq!(sigs.len(), signers.len(), "{text}");
    for (sig, cn) in sigs.iter().zip(signers) {
        assert!(
            sig.contains("Signature Validation: Signature is Valid."),
            "{text}"
        );
        assert!(
            sig.contains("Certificate Validation: Certificate is Trusted."),
            "{text}"
        );
        assert!(
            sig.contains(&format!("Signer Certificate Common Name: {cn}")),
            "{text}"
        );
        assert!(sig.contains("Signing Hash Algorithm: SHA-256"), "{text}");
    }
    let (ok, qpdf_text) = qpdf_check(pdf);
    assert!(ok, "{qpdf_text}");
    let verdicts = pyhanko_validate(pdf, &[&t.hsm.ca_pem]);
    assert_eq!(verdicts.len(), signers.len(), "{verdicts:?}");
    for (v, cn) in verdicts.iter().zip(signers) {
        assert_eq!(v["intact"], true, "{v}");
        assert_eq!(v["valid"], true, "{v}");
        assert_eq!(v["trusted"], true, "chains to the test CA: {v}");
        assert!(
            v["signer"].as_str().unwrap().contains(cn),
            "{v} signed by {cn}"
        );
    }
    assert_eq!(verdicts.last().unwrap()["coverage"], "ENTIRE_FILE");
}

#[tokio::test]
async fn person_keys_rsa_and_ec_then_the_office_key_sign_and_every_validator_trusts_them() {
    let t = Token::new();
    for (name, person, cn) in [
        (DOCUMENTS[0], RSA_PERSON, "Trần Thị Tâm"),
        (DOCUMENTS[1], EC_PERSON, "Nguyễn Văn An"),
    ] {
        let input = sample(name);
        let personal = t.path(&format!("personal-{name}"));
        let issued = t.path(&format!("issued-{name}"));
        t.sign(&input, &personal, person, "personal", "Phê duyệt kế hoạch");
        assert!(
            std::fs::read(&personal)
                .unwrap()
                .starts_with(&std::fs::read(&input).unwrap()),
            "an incremental update"
        );
        assert_valid_and_trusted(&t, &personal, &[cn]);
        // The clerk issues it: the office key on top, the official's still valid.
        t.sign(&personal, &issued, OFFICE, "organization", "Ban hành");
        assert_valid_and_trusted(&t, &issued, &[cn, "Văn phòng UBND tỉnh Bình Phước"]);
        // The plain pdfsig (no trust store) reads the same digests.
        let text = pdfsig(&issued);
        assert_eq!(
            text.matches("Signature Validation: Signature is Valid.")
                .count(),
            2,
            "{text}"
        );
    }
    // Audited with the kind and the key.
    let events = audit_events(&t.idp).await;
    let signed: Vec<serde_json::Value> = events
        .iter()
        .filter(|e| e.kind == "sign.pdf_signed")
        .map(|e| serde_json::from_str(e.detail.as_deref().unwrap()).unwrap())
        .collect();
    let mut seen: Vec<(String, String)> = signed
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap().to_owned(),
                d["key"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    seen.sort();
    let mut want: Vec<(String, String)> = [
        ("organization", OFFICE),
        ("organization", OFFICE),
        ("personal", EC_PERSON),
        ("personal", RSA_PERSON),
    ]
    .iter()
    .map(|(k, l)| ((*k).to_owned(), (*l).to_owned()))
    .collect();
    want.sort();
    assert_eq!(seen, want, "{events:?}");
}

fn assert_refused(out: &Output, says: &str, output: &Path) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected a failure: {stderr}");
    assert!(stderr.contains(says), "expected '{says}' in: {stderr}");
    assert!(!output.exists(), "no output file: {}", output.display());
    assert!(
        !stderr.contains("0246"),
        "the PIN is never printed: {stderr}"
    );
}

#[tokio::test]
async fn token_and_key_failures_are_clear_errors_and_leave_no_file() {
    let t = Token::new();
    let input = sample(DOCUMENTS[0]);
    let output = t.path("never.pdf");
    let key = ["--key", RSA_PERSON];

    let wrong_pin = t.path("wrong-pin");
    std::fs::write(&wrong_pin, "9999\n").unwrap();
    let out = t.sign_with(
        &[("IDP_SIGNING__PIN_FILE", wrong_pin.to_str().unwrap())],
        &input,
        &output,
        &key,
    );
    assert_refused(
        &out,
        "wrong PIN for token 'dangnhap' (CKR_PIN_INCORRECT)",
        &output,
    );

    let out = t.sign_with(
        &[("IDP_SIGNING__MODULE", "/usr/lib/softhsm/libnothing.so")],
        &input,
        &output,
        &key,
    );
    assert_refused(
        &out,
        "PKCS#11 module /usr/lib/softhsm/libnothing.so not found",
        &output,
    );

    let out = t.sign_with(
        &[("IDP_SIGNING__TOKEN_LABEL", "khong-co")],
        &input,
        &output,
        &key,
    );
    assert_refused(&out, "no token labelled 'khong-co'", &output);

    let out = t.sign_with(&[], &input, &output, &["--key", "nobody@binhphuoc.gov.vn"]);
    assert_refused(&out, "no signing key nobody@binhphuoc.gov.vn", &output);

    let out = t.sign_with(&[], &input, &output, &["--key", WEAK]);
    assert_refused(&out, "RSA-1024; at least RSA-2048 is required", &output);

    // With a token configured, the key must be named.
    let out = t.sign_with(&[], &input, &output, &[]);
    assert_refused(&out, "--key LABEL", &output);

    // A PIN file that is not there stops the command before anything.
    let out = t.sign_with(
        &[("IDP_SIGNING__PIN_FILE", "/nonexistent/hsm-pin")],
        &input,
        &output,
        &key,
    );
    assert_refused(&out, "/nonexistent/hsm-pin", &output);

    // The right PIN still works after all that (SoftHSM counts no lock-out here).
    t.sign(&input, &output, RSA_PERSON, "personal", "Ký số");
    assert!(output.exists());
    let leftovers: Vec<_> = std::fs::read_dir(t.hsm.dir())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "nothing half-written: {leftovers:?}");
}

#[test]
fn the_policy_keeps_keys_to_their_owners() {
    use idp::config::{SigningBackend, SigningConfig};
    use idp::signing::SignKind;
    use idp::signing::policy::{check_key, key_for};

    let cfg = SigningConfig {
        backend: SigningBackend::Pkcs11,
        office_key_label: Some(OFFICE.into()),
        ..SigningConfig::default()
    };
    // Each person's label is their own address: never another's key.
    assert_eq!(
        key_for(&cfg, SignKind::Personal, EC_PERSON, false).unwrap(),
        EC_PERSON
    );
    assert_ne!(
        key_for(&cfg, SignKind::Personal, EC_PERSON, true).unwrap(),
        RSA_PERSON
    );
    // Naming someone else's key, or the office's as a person, is refused.
    let e = check_key(&cfg, SignKind::Personal, EC_PERSON, false, RSA_PERSON).unwrap_err();
    assert!(e.to_string().contains("not allowed"), "{e}");
    assert!(check_key(&cfg, SignKind::Personal, EC_PERSON, true, OFFICE).is_err());
    let e = key_for(&cfg, SignKind::Organization, RSA_PERSON, false).unwrap_err();
    assert!(e.to_string().contains("clerk"), "{e}");
    assert_eq!(
        key_for(&cfg, SignKind::Organization, RSA_PERSON, true).unwrap(),
        OFFICE
    );
}

/// The backend as the server holds it: one login, many signatures at once
/// from several threads, each on a session of its own from the pool. SoftHSM
/// finds its token through the environment of the process that loads it, so
/// the signing runs in a child process of this test binary (the ignored test
/// below) with `SOFTHSM2_CONF` set.
#[test]
fn one_login_serves_concurrent_signatures_with_both_key_types() {
    let hsm = SoftHsm::new();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "signing_pkcs11::concurrent_signatures_in_this_process",
            "--ignored",
            "--nocapture",
        ])
        .env("SOFTHSM2_CONF", &hsm.conf)
        .env("TEST_HSM_PIN_FILE", &hsm.pin_file)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "the child ran the test: {text}");
    assert!(text.contains("12 signatures intact"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by one_login_serves_concurrent_signatures_with_both_key_types"]
async fn concurrent_signatures_in_this_process() {
    use std::sync::Arc;

    use idp::signing::pkcs11::Pkcs11Backend;
    use idp::signing::{KeyBackend, SignKind, SignRequest, sign_pdf, verify::verify};

    assert!(std::env::var_os("SOFTHSM2_CONF").is_some());
    let pin = std::fs::read_to_string(std::env::var("TEST_HSM_PIN_FILE").unwrap()).unwrap();
    let backend: Arc<dyn KeyBackend> = Arc::new(
        tokio::task::spawn_blocking(move || {
            Pkcs11Backend::open(
                &crate::harness::softhsm::module(),
                crate::harness::softhsm::TOKEN,
                pin.trim_end().to_owned().into(),
            )
        })
        .await
        .unwrap()
        .unwrap(),
    );
    let pdf = std::fs::read(sample(DOCUMENTS[0])).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .try_into()
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..12 {
        let backend = backend.clone();
        let pdf = pdf.clone();
        tasks.push(tokio::spawn(async move {
            let key = if i % 2 == 0 { RSA_PERSON } else { EC_PERSON };
            let req = SignRequest {
                key,
                kind: SignKind::Personal,
                reason: None,
                tsa: None,
                placement: None,
                appearance: None,
            };
            sign_pdf(backend.as_ref(), pdf, &req, now).await.unwrap()
        }));
    }
    let mut intact = 0;
    for t in tasks {
        let signed = t.await.unwrap();
        let report = verify(&signed.pdf).unwrap();
        assert_eq!(report.signatures.len(), 1);
        assert!(report.signatures[0].intact, "{report:?}");
        intact += 1;
    }
    println!("{intact} signatures intact");
    // A key that is not there is an error from the pool, not a panic, and
    // the pool still signs afterwards.
    let e = backend.key("khong-co@binhphuoc.gov.vn").await.unwrap_err();
    assert!(e.to_string().contains("no signing key"), "{e}");
    assert!(backend.sign(RSA_PERSON, b"x").await.is_ok());
}
