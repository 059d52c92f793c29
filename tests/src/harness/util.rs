//! What every peer's start-up needs: a free loopback port, waiting for a
//! peer to answer, finding its tools, and the `idp` binary under test.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A loopback port free now, picked at random in 20000-31999 (below the
/// kernel's ephemeral range): tests run as parallel processes, and ports
/// the kernel hands out for port 0 come back soon after they are closed,
/// so two peers starting at once could otherwise be given the same one.
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    loop {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(Instant::now().elapsed().as_nanos());
        let port = 20_000 + u16::try_from(h.finish() % 12_000).unwrap_or(0);
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
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

/// The Python of a venv tests/run.sh makes beside the build
/// (`target/debug/deps/it-…` → `target/{venv}`), or the one `env` names;
/// `what` says what the venv holds, for the message when it is missing.
pub fn venv_python(venv: &str, env: &str, what: &str) -> PathBuf {
    let p = std::env::var_os(env).map(PathBuf::from).unwrap_or_else(|| {
        let exe = std::env::current_exe().unwrap();
        exe.ancestors()
            .nth(3)
            .unwrap()
            .join(venv)
            .join("bin/python")
    });
    assert!(
        p.exists(),
        "{} is missing: tests/run.sh installs {what} into target/{venv}",
        p.display()
    );
    p
}
