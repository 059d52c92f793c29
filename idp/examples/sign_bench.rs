//! Signs one PDF N times in one process with a key on a PKCS#11 token, and
//! prints the time per signature: the in-process figure beside
//! tests/bench/sign_bench.sh's command-line ones (which include process
//! start and opening the database). Logged in once, as the server is.
//!
//! Each round first receives the document as a server does: in 64 KiB
//! chunks, as the upload's body arrives, copied into the request's buffer
//! and hashed as they come (idp::signing::Upload). Then it signs. The two
//! are timed apart: `ms_per_signature` is the signing once the document is
//! in, `receive_ms` the copying and hashing of its arrival, which a server
//! does while the rest of the upload is on its way.
//!
//! usage: sign_bench MODULE TOKEN_LABEL PIN_FILE KEY_LABEL IN.pdf N [OUT.pdf]

use std::time::{Duration, Instant};

use idp::signing::pkcs11::Pkcs11Backend;
use idp::signing::{SignKind, SignRequest, Upload, sign_pdf};

/// Receives `pdf` into `buffer`'s memory as an upload arrives.
fn receive(pdf: &[u8], buffer: Vec<u8>) -> Upload {
    let mut doc = Upload::recycle(buffer);
    for chunk in pdf.chunks(64 * 1024) {
        doc.push(chunk);
    }
    doc
}

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
    // One signature first: the key lookup is cached after it, as in a
    // server. Each signed output's memory receives the next document, as a
    // server's buffers would be reused: the loop does not time the mapping
    // of 10 MB of fresh pages.
    let first = sign_pdf(&backend, receive(&pdf, Vec::new()), &req, now).await?;
    if let Some(out) = rest.first() {
        std::fs::write(out, &first.pdf)?;
    }
    if !first.pdf.starts_with(&pdf) {
        return Err("the signed file does not begin with the document".into());
    }
    let mut buffer = first.pdf;
    let (mut receiving, mut signing) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..n {
        let start = Instant::now();
        let doc = receive(&pdf, buffer);
        let received = Instant::now();
        buffer = sign_pdf(&backend, doc, &req, now).await?.pdf;
        signing += received.elapsed();
        receiving += received - start;
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0 / n as f64;
    let each = ms(signing);
    println!(
        "{{\"signatures\": {n}, \"ms_per_signature\": {each:.2}, \"per_second\": {:.1}, \"receive_ms\": {:.2}, \"bytes\": {}}}",
        1000.0 / each,
        ms(receiving),
        pdf.len()
    );
    Ok(())
}
