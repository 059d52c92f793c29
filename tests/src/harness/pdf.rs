//! PDF validators that share no code with the idp: poppler's `pdfsig`,
//! `qpdf --check`, and pyHanko (Python, in `target/pyhanko-venv`, which
//! tests/run.sh creates). Their output is read, not their exit status:
//! `pdfsig` exits 0 even when a digest does not match.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What `pdfsig FILE` prints (standard output and error).
pub fn pdfsig(pdf: &Path) -> String {
    let out = Command::new("pdfsig")
        .arg(pdf)
        .output()
        .expect("pdfsig (Debian poppler-utils; tests/run.sh installs it)");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `qpdf --check FILE`: whether it found no damage, and what it said.
pub fn qpdf_check(pdf: &Path) -> (bool, String) {
    let out = Command::new("qpdf")
        .arg("--check")
        .arg(pdf)
        .output()
        .expect("qpdf (Debian qpdf; tests/run.sh installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.success() && text.contains("No syntax or stream encoding errors found"),
        text,
    )
}

/// Runs qpdf with `args` (to make test inputs), insisting it succeeds.
pub fn qpdf(args: &[&std::ffi::OsStr]) {
    let out = Command::new("qpdf").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "qpdf {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A sample document of `tests/fixtures/documents/`.
pub fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/documents")
        .join(name)
}

/// The Python with pyHanko: `PYHANKO_PYTHON`, or the venv tests/run.sh
/// makes beside the build (`target/debug/deps/it-…` → `target/pyhanko-venv`).
pub fn pyhanko_python() -> PathBuf {
    super::util::venv_python("pyhanko-venv", "PYHANKO_PYTHON", "pyHanko")
}

fn pyhanko_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("pyhanko")
        .join(name)
}

/// pyHanko's verdict on every signature of `pdf`, with `roots` (PEM files)
/// as the only trust anchors: one JSON object per signature (`field`,
/// `intact`, `valid`, `trusted`, `coverage`, `modification_level`, `signer`).
pub fn pyhanko_validate(pdf: &Path, roots: &[&Path]) -> Vec<serde_json::Value> {
    let out = Command::new(pyhanko_python())
        .arg(pyhanko_script("validate.py"))
        .arg(pdf)
        .args(roots)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pyHanko: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A test signer for pyHanko: an RSA 2048 key and its self-signed
/// certificate with the non-repudiation key usage, made by `openssl` in
/// `dir`; returns (key, certificate) PEM paths.
pub fn openssl_signer(dir: &Path) -> (PathBuf, PathBuf) {
    openssl_key_and_cert(
        dir,
        "pyhanko",
        "/CN=pyHanko test signer/O=dangnhap tests",
        None,
    )
}

/// An RSA 2048 key and its self-signed, non-CA certificate for signing
/// (digitalSignature, nonRepudiation) with `subject` and, when given, the
/// e-mail `san` in its subjectAltName: `dir/NAME-key.pem`, `dir/NAME-cert.pem`.
pub fn openssl_key_and_cert(
    dir: &Path,
    name: &str,
    subject: &str,
    san: Option<&str>,
) -> (PathBuf, PathBuf) {
    let key = dir.join(format!("{name}-key.pem"));
    let cert = dir.join(format!("{name}-cert.pem"));
    let mut cmd = Command::new("openssl");
    cmd.args([
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
    ])
    .args(["-subj", subject])
    .args([
        "-addext",
        "keyUsage=critical,digitalSignature,nonRepudiation",
    ])
    .args(["-addext", "basicConstraints=critical,CA:FALSE"]);
    if let Some(email) = san {
        cmd.args(["-addext", &format!("subjectAltName=email:{email}")]);
    }
    let out = cmd
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl req: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (key, cert)
}

/// Signs `input` into `output` with pyHanko (PAdES, an incremental update,
/// a new field named `field`).
pub fn pyhanko_sign(input: &Path, output: &Path, key: &Path, cert: &Path, field: &str) {
    pyhanko_sign_with(input, output, key, cert, field, &[]);
}

/// [`pyhanko_sign`] as a certification that allows no change after it
/// (DocMDP P=1).
pub fn pyhanko_certify(input: &Path, output: &Path, key: &Path, cert: &Path, field: &str) {
    pyhanko_sign_with(input, output, key, cert, field, &["certify-no-changes"]);
}

/// Adds pyHanko's document time-stamp (/DocTimeStamp, from the TSA at
/// `tsa_url`) to `input`, written to `output`.
pub fn pyhanko_timestamp(input: &Path, output: &Path, tsa_url: &str) {
    let out = Command::new(pyhanko_python())
        .arg(pyhanko_script("timestamp.py"))
        .args([input, output])
        .arg(tsa_url)
        .output()
        .expect("pyHanko");
    assert!(
        out.status.success(),
        "pyHanko time-stamp: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn pyhanko_sign_with(
    input: &Path,
    output: &Path,
    key: &Path,
    cert: &Path,
    field: &str,
    extra: &[&str],
) {
    let out = Command::new(pyhanko_python())
        .arg(pyhanko_script("sign.py"))
        .args([input, output, key, cert])
        .arg(field)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pyHanko sign: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
