//! The real `idp` binary: `idp serve` started on a free loopback port
//! against a fresh database in a temp dir (or the PostgreSQL and Redis given),
//! killed on drop; and the CLI run with the same configuration.

use std::io::Write;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::util::{free_port, idp_bin};

pub const DOMAIN: &str = "binhphuoc.gov.vn";
pub const PASSWORD: &str = "Mật-khẩu-2024!";

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
        // Listening, by its own word: a port that answers could be another
        // test's peer that took it first (the idp then stops at its bind).
        // (The line is logged after the bind; the port is in its issuer.)
        let listening = format!("127.0.0.1:{port}");
        while !idp
            .log()
            .lines()
            .any(|l| l.contains("listening") && l.contains(&listening))
            || std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
        {
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

    /// Runs `idp ARGS` with this node's configuration and `extra` variables
    /// on top (a TSA URL, trust anchors).
    pub fn cli_env(&self, extra: &[(&str, &str)], args: &[&str]) -> Output {
        let mut env = self.env.clone();
        for (k, v) in extra {
            env.retain(|(n, _)| n != k);
            env.push(((*k).to_owned(), (*v).to_owned()));
        }
        cli_with(&env, args, None)
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

/// The node's audit log, newest first (read from its database).
pub async fn audit_events(idp: &Idp) -> Vec<idp::store::AuditEvent> {
    let store = idp::store::Store::connect(&idp.var("IDP_DATABASE_URL").unwrap())
        .await
        .unwrap();
    store.recent_audit(100_000).await.unwrap()
}
