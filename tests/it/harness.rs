//! Real peers for the end-to-end tests: the `idp` binary, PostgreSQL and
//! Redis, each started in a temp dir on a free loopback port and stopped on
//! drop.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const DOMAIN: &str = "binhphuoc.gov.vn";
pub const PASSWORD: &str = "Mật-khẩu-2024!";

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

fn find_tool(name: &str) -> PathBuf {
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

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false)
}

/// A throwaway PostgreSQL server.
pub struct Postgres {
    pub url: String,
    data: PathBuf,
    _dir: tempfile::TempDir,
}

impl Postgres {
    pub fn start() -> Postgres {
        let dir = tempfile::Builder::new().prefix("dn-pg").tempdir().unwrap();
        let root = is_root();
        // initdb and postgres refuse to run as root: run them as `postgres`.
        let run = |tool: &str, args: &[&str]| -> Output {
            let mut c = if root {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(find_tool(tool));
                c
            } else {
                Command::new(find_tool(tool))
            };
            c.args(args)
                .output()
                .unwrap_or_else(|e| panic!("{tool}: {e} (install postgresql)"))
        };
        if root {
            assert!(
                Command::new("chown")
                    .args(["postgres:postgres"])
                    .arg(dir.path())
                    .status()
                    .unwrap()
                    .success()
            );
        }
        let data = dir.path().join("data");
        let port = free_port();
        let out = run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            dir.path().display()
        );
        let log = dir.path().join("log");
        let out = run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &opts,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "start",
            ],
        );
        assert!(
            out.status.success(),
            "pg_ctl start: {} {}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        Postgres {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            data,
            _dir: dir,
        }
    }
}

impl Postgres {
    /// Creates another database on this server; returns its URL.
    pub fn database(&self, name: &str) -> String {
        let base = self.url.rsplit_once('/').unwrap().0.to_owned();
        let port = base.rsplit_once(':').unwrap().1.to_owned();
        let out = Command::new("psql")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-c",
                &format!("CREATE DATABASE {name}"),
            ])
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "create database: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        format!("{base}/{name}")
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let mut c = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(find_tool("pg_ctl"));
            c
        } else {
            Command::new(find_tool("pg_ctl"))
        };
        let _ = c
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

/// A throwaway Redis server.
pub struct Redis {
    pub url: String,
    port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

fn spawn_redis(port: u16, dir: &Path) -> Child {
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server (install redis-server)");
    wait_until("redis-server", Duration::from_secs(10), || redis_ping(port));
    child
}

impl Redis {
    pub fn start() -> Redis {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        Redis {
            url: format!("redis://127.0.0.1:{port}"),
            port,
            child: spawn_redis(port, dir.path()),
            dir,
        }
    }

    /// Stops the server, to test an outage.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts it again on the same port (empty, as after a crash without persistence).
    pub fn restart(&mut self) {
        self.stop();
        self.child = spawn_redis(self.port, self.dir.path());
    }
}

fn redis_ping(port: u16) -> bool {
    use std::io::Read;
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 7];
    s.read(&mut buf)
        .map(|n| buf[..n].starts_with(b"+PONG"))
        .unwrap_or(false)
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Where a node keeps durable and ephemeral state.
#[derive(Clone, Default)]
pub struct Backends {
    /// `None`: SQLite in the node's temp dir.
    pub database_url: Option<String>,
    pub redis_url: Option<String>,
    /// Extra `IDP_*` variables.
    pub env: Vec<(String, String)>,
}

/// A running `idp serve`.
pub struct Idp {
    /// Where this node listens (its issuer too, unless it is a sibling).
    pub base: String,
    env: Vec<(String, String)>,
    child: Child,
    dir: tempfile::TempDir,
}

impl Idp {
    pub fn spawn(b: &Backends) -> Idp {
        let dir = tempfile::tempdir().unwrap();
        let db = b
            .database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}/idp.db", dir.path().display()));
        Idp::spawn_in(dir, db, b, None)
    }

    /// A second node behind the same issuer, sharing this one's database
    /// and master key (and the cache given in `b`).
    pub fn sibling(&self, b: &Backends) -> Idp {
        let dir = tempfile::tempdir().unwrap();
        let db = self.var("IDP_DATABASE_URL").unwrap();
        let key = self.var("IDP_MASTER_KEY_PATH").unwrap();
        let issuer = self.var("IDP_ISSUER").unwrap();
        Idp::spawn_in(dir, db, b, Some((key, issuer)))
    }

    fn spawn_in(
        dir: tempfile::TempDir,
        db: String,
        b: &Backends,
        shared: Option<(String, String)>,
    ) -> Idp {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let (master_key, issuer) = match shared {
            Some((k, i)) => (Some(k), i),
            None => (None, base.clone()),
        };
        let mut env: Vec<(String, String)> = vec![
            ("IDP_LISTEN".into(), format!("127.0.0.1:{port}")),
            ("IDP_ISSUER".into(), issuer),
            ("IDP_DATABASE_URL".into(), db),
            ("IDP_DATA_DIR".into(), dir.path().display().to_string()),
            (
                "IDP_MASTER_KEY_PATH".into(),
                master_key.unwrap_or_else(|| dir.path().join("master.key").display().to_string()),
            ),
            ("IDP_EMAIL_DOMAIN".into(), DOMAIN.into()),
            ("IDP_LOG__FORMAT".into(), "text".into()),
            // Cheap hashes keep the suite fast; production keeps the OWASP defaults.
            ("IDP_PASSWORD__MEMORY_KIB".into(), "8192".into()),
            ("IDP_PASSWORD__ITERATIONS".into(), "1".into()),
        ];
        if let Some(r) = &b.redis_url {
            env.push(("IDP_REDIS_URL".into(), r.clone()));
        }
        env.extend(b.env.iter().cloned());
        // Schema and keys first, so two nodes starting together do not race on an empty database.
        let out = cli_with(&env, &["migrate"], None);
        assert!(
            out.status.success(),
            "idp migrate: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let log = std::fs::File::create(dir.path().join("idp.log")).unwrap();
        let child = Command::new(idp_bin())
            .arg("serve")
            .env_clear()
            .envs(env.iter().cloned())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let idp = Idp {
            base,
            env,
            child,
            dir,
        };
        let start = Instant::now();
        let mut idp = idp;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if start.elapsed() > Duration::from_secs(20) || idp.child.try_wait().unwrap().is_some()
            {
                panic!("idp did not start:\n{}", idp.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        idp
    }

    /// The `IDP_*` settings this node was started with.
    pub fn env(&self) -> &[(String, String)] {
        &self.env
    }

    pub fn var(&self, name: &str) -> Option<String> {
        self.env
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("idp.log")).unwrap_or_default()
    }

    /// GETs `path` and parses the JSON answer.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        reqwest::get(self.url(path))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The keys the IdP publishes, ready to check its signatures.
    pub async fn signing_keys(&self) -> Vec<idp::jose::VerifyingKey> {
        idp::jose::parse_jwks(&self.get_json("/jwks").await)
    }

    /// Runs `idp ARGS` with this node's configuration.
    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> Output {
        cli_with(&self.env, args, stdin)
    }

    /// Runs the CLI and insists it succeeds; returns standard output.
    pub fn cli_ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.cli(args, stdin);
        assert!(
            out.status.success(),
            "idp {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Adds the standard test person `tamtt@binhphuoc.gov.vn`.
    pub fn add_person(&self) {
        self.cli_ok(
            &[
                "user",
                "add",
                "tamtt",
                "--name",
                "Trương Thanh Tâm",
                "--phone",
                "0888778078",
                "--password-stdin",
            ],
            Some(PASSWORD),
        );
    }

    /// Registers a confidential client; returns its generated secret.
    pub fn add_client(&self, id: &str, redirect: &str, extra: &[&str]) -> String {
        let mut args = vec![
            "client",
            "add",
            id,
            "--name",
            "Quản lý văn bản",
            "--redirect-uri",
            redirect,
        ];
        args.extend_from_slice(extra);
        let out = self.cli_ok(&args, None);
        out.lines()
            .find_map(|l| l.strip_prefix("client_secret: "))
            .map(str::to_owned)
            .unwrap_or_default()
    }

    /// Sends SIGTERM and waits: the server must stop by itself.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "idp ignored SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn cli_with(env: &[(String, String)], args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(idp_bin())
        .args(args)
        .env_clear()
        .envs(env.iter().cloned())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- idp log ({}) ---\n{}", self.base, self.log());
        }
    }
}

/// A real SMTP server (Python's aiosmtpd) that stores what it receives in a
/// maildir, for the tests to read.
pub struct Smtp {
    pub port: u16,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

/// A message as the SMTP server received it, decoded.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

fn python_with_aiosmtpd() -> &'static str {
    // Debian's python3-aiosmtpd is for the system interpreter; another
    // python3 may come first on PATH.
    let system = Command::new("/usr/bin/python3")
        .args(["-c", "import aiosmtpd"])
        .status()
        .is_ok_and(|s| s.success());
    if system {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

impl Smtp {
    /// A port for an SMTP server that is not running yet (the mail server is down).
    pub fn down() -> Smtp {
        Smtp {
            port: free_port(),
            child: None,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn start() -> Smtp {
        let mut s = Smtp::down();
        s.up();
        s
    }

    /// Starts the server on its port.
    pub fn up(&mut self) {
        let maildir = self.dir.path().join("mail");
        let child = Command::new(python_with_aiosmtpd())
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m aiosmtpd (install python3-aiosmtpd)");
        self.child = Some(child);
        let port = self.port;
        wait_until("aiosmtpd", Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
    }

    /// The `IDP_SMTP__…` settings that point an IdP at this server.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("IDP_SMTP__HOST", "127.0.0.1".to_owned()),
            ("IDP_SMTP__PORT", self.port.to_string()),
            ("IDP_SMTP__SECURITY", "none".to_owned()),
            (
                "IDP_SMTP__FROM",
                "Đăng nhập một lần <khong-tra-loi@binhphuoc.gov.vn>".to_owned(),
            ),
            ("IDP_SMTP__TIMEOUT_SECS", "3".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// Every message received so far, oldest first.
    pub fn received(&self) -> Vec<ReceivedMail> {
        let mut files = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(entries) = std::fs::read_dir(self.dir.path().join("mail").join(sub)) {
                for e in entries.flatten() {
                    let modified = e.metadata().unwrap().modified().unwrap();
                    files.push((modified, e.path()));
                }
            }
        }
        files.sort();
        files
            .into_iter()
            .map(|(_, path)| {
                use mailparse::MailHeaderMap;
                let raw = std::fs::read(path).unwrap();
                let m = mailparse::parse_mail(&raw).unwrap();
                ReceivedMail {
                    to: m.headers.get_first_value("To").unwrap_or_default(),
                    subject: m.headers.get_first_value("Subject").unwrap_or_default(),
                    body: m.get_body().unwrap(),
                }
            })
            .collect()
    }

    /// Waits until `count` messages to `to` about `subject` have come; returns the last.
    pub fn wait_for(&self, to: &str, subject: &str, count: usize) -> ReceivedMail {
        let timeout = Duration::from_secs(30);
        let start = Instant::now();
        loop {
            let mut found: Vec<ReceivedMail> = self
                .received()
                .into_iter()
                .filter(|m| m.to.contains(to) && m.subject.contains(subject))
                .collect();
            if found.len() >= count {
                return found.pop().unwrap();
            }
            assert!(
                start.elapsed() < timeout,
                "no mail #{count} to {to} about {subject:?} within {timeout:?}; received: {:?}",
                self.received()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

// --- Sign-in security (issue 11, area h1) ---

/// The node's audit log, newest first (read from its database).
pub async fn audit_events(idp: &Idp) -> Vec<idp::store::AuditEvent> {
    let store = idp::store::Store::connect(&idp.var("IDP_DATABASE_URL").unwrap())
        .await
        .unwrap();
    store.recent_audit(100_000).await.unwrap()
}
