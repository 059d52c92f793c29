//! Signs one PDF N times in one process with a key on a PKCS#11 token, and
//! prints the time per signature: the in-process figure beside
//! tests/bench/sign_bench.sh's command-line ones (which include process
//! start and opening the database). Logged in once, as the server is.
//!
//! usage: sign_bench MODULE TOKEN_LABEL PIN_FILE KEY_LABEL IN.pdf N [OUT.pdf]

use std::time::Instant;

use idp::signing::pkcs11::Pkcs11Backend;
use idp::signing::{SignKind, SignRequest, pdf, sign_pdf};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, module, token, pin_file, key, input, n, rest @ ..] = args.as_slice() else {
        return Err(
            "usage: sign_bench MODULE TOKEN_LABEL PIN_FILE KEY_LABEL IN.pdf N [OUT.pdf]".into(),
        );
    };
    let n: usize = n.parse()?;
    let pin = std::fs::read_to_string(pin_file)?.trim_end().to_owned();
    let backend = Pkcs11Backend::open(module.as_ref(), token, pin.into())?;
    let pdf = std::fs::read(input)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs()
        .try_into()?;
    let req = SignRequest {
        key,
        kind: SignKind::Personal,
        reason: Some("benchmark"),
        tsa: None,
        placement: None,
        appearance: None,
    };
    // The document as a server holds a received one: in memory, with room
    // for the update (idp::signing::pdf::with_room), which is appended to
    // it in place. The signed file begins with the document's bytes
    // unchanged, so each signature's output, cut back to them, is the next
    // input: the loop times signing, not copying 10 MB into fresh pages
    // (about 3 ms here, which a server pays receiving the upload).
    let mut input = Vec::with_capacity(pdf::with_room(pdf.len()));
    input.extend_from_slice(&pdf);
    // One signature first: the key lookup is cached after it, as in a server.
    let first = sign_pdf(&backend, input, &req, now).await?;
    if let Some(out) = rest.first() {
        std::fs::write(out, &first.pdf)?;
    }
    if !first.pdf.starts_with(&pdf) {
        return Err("the signed file does not begin with the document".into());
    }
    let mut input = first.pdf;
    let start = Instant::now();
    for _ in 0..n {
        input.truncate(pdf.len());
        input = sign_pdf(&backend, input, &req, now).await?.pdf;
    }
    let each = start.elapsed().as_secs_f64() * 1000.0 / n as f64;
    println!(
        "{{\"signatures\": {n}, \"ms_per_signature\": {each:.2}, \"per_second\": {:.1}, \"bytes\": {}}}",
        1000.0 / each,
        pdf.len()
    );
    Ok(())
}
