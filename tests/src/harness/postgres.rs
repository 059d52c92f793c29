//! A throwaway PostgreSQL server (initdb + pg_ctl) in a temp dir on a free
//! loopback port, stopped on drop.

use std::path::PathBuf;
use std::process::{Command, Output};

use super::util::{find_tool, free_port, is_root};

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
