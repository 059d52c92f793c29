//! What every peer's start-up needs: a free loopback port, waiting for a
//! peer to answer, finding its tools, and the `idp` binary under test.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The server binary: `IDP_BIN`, or `idp` in the profile folder this test
/// binary was built into (`target/debug/deps/it-…` → `target/debug/idp`).
pub fn idp_bin() -> PathBuf {
    let p = std::env::var_os("IDP_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let exe = std::env::current_exe().unwrap();
            exe.parent().and_then(Path::parent).unwrap().join("idp")
        });
    assert!(
        p.exists(),
        "{} is missing: run `cargo build -p idp` first (tests/run.sh does)",
        p.display()
    );
    p
}

pub fn wait_until(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(
            start.elapsed() < timeout,
            "{what} did not come up within {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn find_tool(name: &str) -> PathBuf {
    if let Ok(dirs) = std::fs::read_dir("/usr/lib/postgresql") {
        for d in dirs.flatten() {
            let p = d.path().join("bin").join(name);
            if p.exists() {
                return p;
            }
        }
    }
    PathBuf::from(name)
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false)
}

/// Runs `openssl ARGS` in `dir` (test PKIs: CAs, TSA and server certificates).
pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
