//! A real RFC 3161 time-stamping authority on a free loopback port: a small
//! HTTP/1.1 server on a thread that pipes each query through
//! `openssl ts -reply`, with a TSA certificate (extendedKeyUsage critical
//! timeStamping) issued by a test CA that `openssl` makes in a temp dir.
//! It stops when dropped. `Tsa::garbage` answers every query with bytes
//! that are no TimeStampResp, `Tsa::other_imprint` with a real token over
//! another imprint; `Tsa::down_url` names a port nobody listens on.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::util::{free_port, openssl};

/// How the TSA answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Honest,
    Garbage,
    /// A real token, over another imprint and without the nonce asked for.
    OtherImprint,
}

pub struct Tsa {
    pub url: String,
    /// The test CA that issued the TSA certificate (PEM): the trust anchor.
    pub ca: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    port: u16,
    _dir: tempfile::TempDir,
}

/// A test CA and a TSA certificate under it, and the `openssl ts` config.
fn make_pki(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=dangnhap test TSA CA/O=dangnhap tests",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            "/CN=dangnhap test TSA/O=dangnhap tests",
            "-keyout",
            "tsa.key",
            "-out",
            "tsa.csr",
        ],
    );
    std::fs::write(
        dir.join("tsa.ext"),
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "tsa.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "30",
            "-sha256",
            "-extfile",
            "tsa.ext",
            "-out",
            "tsa.pem",
        ],
    );
    std::fs::write(dir.join("serial"), "01\n").unwrap();
    std::fs::write(
        dir.join("ts.cnf"),
        format!(
            "[ tsa ]\ndefault_tsa = tsa1\n[ tsa1 ]\ndir = {}\nserial = $dir/serial\n\
             crypto_device = builtin\nsigner_digest = sha256\ndefault_policy = 1.2.3.4.1\n\
             digests = sha256, sha384, sha512\nother_policies = 1.2.3.4.2\naccuracy = secs:1\nordering = no\ntsa_name = no\n\
             ess_cert_id_chain = no\ness_cert_id_alg = sha256\n",
            dir.display()
        ),
    )
    .unwrap();
}

/// Reads one HTTP request's body (Content-Length framed; 1 MiB at most).
fn read_body(stream: &TcpStream) -> Option<Vec<u8>> {
    let mut reader = BufReader::new(stream);
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().ok()?;
        }
    }
    if len > 1 << 20 {
        return None;
    }
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(body)
}

fn answer(dir: &Path, mode: Mode, query: &[u8], n: usize) -> Vec<u8> {
    if mode == Mode::Garbage {
        return b"<html>this is not a time-stamp</html>".to_vec();
    }
    let q = dir.join(format!("q{n}.tsq"));
    let r = dir.join(format!("r{n}.tsr"));
    std::fs::write(&q, query).unwrap();
    if mode == Mode::OtherImprint {
        let other = format!("{:064x}", n + 1);
        let out = Command::new("openssl")
            .current_dir(dir)
            .args(["ts", "-query", "-sha256", "-cert", "-no_nonce", "-digest"])
            .arg(&other)
            .arg("-out")
            .arg(&q)
            .output()
            .expect("openssl ts -query");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(["ts", "-reply", "-config", "ts.cnf", "-queryfile"])
        .arg(&q)
        .args([
            "-inkey", "tsa.key", "-signer", "tsa.pem", "-chain", "ca.pem", "-out",
        ])
        .arg(&r)
        .output()
        .expect("openssl ts");
    assert!(
        out.status.success(),
        "openssl ts -reply: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(&r).unwrap()
}

fn serve(listener: TcpListener, dir: PathBuf, mode: Mode, stop: Arc<AtomicBool>) {
    listener.set_nonblocking(true).unwrap();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let mut stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
        };
        stream.set_nonblocking(false).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let Some(query) = read_body(&stream) else {
            continue;
        };
        n += 1;
        let body = answer(&dir, mode, &query, n);
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(&body);
    }
}

impl Tsa {
    fn start(mode: Mode) -> Tsa {
        let dir = tempfile::tempdir().unwrap();
        make_pki(dir.path());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (dir, stop) = (dir.path().to_path_buf(), stop.clone());
            std::thread::spawn(move || serve(listener, dir, mode, stop))
        };
        Tsa {
            url: format!("http://127.0.0.1:{port}/tsa"),
            ca: dir.path().join("ca.pem"),
            stop,
            thread: Some(thread),
            port,
            _dir: dir,
        }
    }

    /// An honest TSA.
    pub fn honest() -> Tsa {
        Tsa::start(Mode::Honest)
    }

    /// A TSA that answers every query with an HTML page.
    pub fn garbage() -> Tsa {
        Tsa::start(Mode::Garbage)
    }

    /// A TSA that answers with a valid token over something else.
    pub fn other_imprint() -> Tsa {
        Tsa::start(Mode::OtherImprint)
    }

    /// The URL of a TSA that is down: a free port nobody listens on.
    pub fn down_url() -> String {
        format!("http://127.0.0.1:{}/tsa", free_port())
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for Tsa {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
