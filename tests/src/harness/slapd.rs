//! A throwaway OpenLDAP `slapd` in a temp dir on a free loopback port,
//! loaded with `tests/fixtures/directory/people.ldif` (400 people), stopped on
//! drop (and stoppable and resumable, to test an outage).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::util::{free_port, wait_until};

pub const BASE_DN: &str = "ou=people,dc=binhphuoc,dc=gov,dc=vn";
pub const ADMIN_DN: &str = "cn=admin,dc=binhphuoc,dc=gov,dc=vn";
pub const ADMIN_PASSWORD: &str = "directory-admin-secret";

/// A throwaway OpenLDAP server holding `tests/fixtures/directory/people.ldif`.
pub struct Slapd {
    pub url: String,
    port: u16,
    conf: PathBuf,
    child: Option<Child>,
    _dir: tempfile::TempDir,
}

fn people_ldif() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/directory/people.ldif");
    assert!(
        p.exists(),
        "{} is missing from the repository's test data",
        p.display()
    );
    p
}

impl Slapd {
    pub fn start() -> Slapd {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        std::fs::create_dir(&db).unwrap();
        let conf = dir.path().join("slapd.conf");
        std::fs::write(
            &conf,
            format!(
                "include /etc/ldap/schema/core.schema\n\
                 include /etc/ldap/schema/cosine.schema\n\
                 include /etc/ldap/schema/inetorgperson.schema\n\
                 include /etc/ldap/schema/nis.schema\n\
                 pidfile {dir}/slapd.pid\n\
                 modulepath /usr/lib/ldap\n\
                 moduleload back_mdb\n\
                 database mdb\n\
                 suffix \"dc=binhphuoc,dc=gov,dc=vn\"\n\
                 rootdn \"{ADMIN_DN}\"\n\
                 rootpw {ADMIN_PASSWORD}\n\
                 directory {db}\n\
                 maxsize 104857600\n\
                 access to attrs=userPassword by self =xw by anonymous auth by * none\n\
                 access to * by * read\n",
                dir = dir.path().display(),
                db = db.display(),
            ),
        )
        .unwrap();
        let root = dir.path().join("root.ldif");
        std::fs::write(
            &root,
            "dn: dc=binhphuoc,dc=gov,dc=vn\nobjectClass: dcObject\nobjectClass: organization\ndc: binhphuoc\no: Binh Phuoc\n",
        )
        .unwrap();
        // The people as a directory that has been running a while: last
        // changed long ago, so the sync's reading by modifyTimestamp shows.
        let people = dir.path().join("people.ldif");
        let text = std::fs::read_to_string(people_ldif()).unwrap();
        let dated: Vec<String> = text
            .split("\n\n")
            .filter(|e| !e.trim().is_empty())
            .map(|e| format!("{}\nmodifyTimestamp: 20250101000000Z\n", e.trim_end()))
            .collect();
        std::fs::write(&people, dated.join("\n")).unwrap();
        for ldif in [root, people] {
            let out = Command::new("slapadd")
                .arg("-f")
                .arg(&conf)
                .arg("-l")
                .arg(&ldif)
                .output()
                .expect("slapadd (install slapd)");
            assert!(
                out.status.success(),
                "slapadd: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let port = free_port();
        let mut s = Slapd {
            url: format!("ldap://127.0.0.1:{port}"),
            port,
            conf,
            child: None,
            _dir: dir,
        };
        s.resume();
        s
    }

    /// Stops the server, to test an outage.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port, with the same data.
    pub fn resume(&mut self) {
        self.stop();
        let child = Command::new("slapd")
            .arg("-f")
            .arg(&self.conf)
            .args(["-h", &format!("{}/", self.url), "-d", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("slapd (install slapd)");
        self.child = Some(child);
        let port = self.port;
        wait_until("slapd", Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
    }

    /// Runs an LDAP tool (`ldapmodify`, `ldapdelete`) as the directory's admin.
    pub fn admin(&self, tool: &str, args: &[&str], stdin: &str) {
        use std::io::Write;
        let mut child = Command::new(tool)
            .args(["-x", "-H", &self.url, "-D", ADMIN_DN, "-w", ADMIN_PASSWORD])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{tool} (install ldap-utils): {e}"));
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{tool}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The `IDP_DIRECTORY__*` variables that point an IdP here.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("IDP_DIRECTORY__TYPE", "ldap"),
            ("IDP_DIRECTORY__URL", self.url.as_str()),
            ("IDP_DIRECTORY__BIND_DN", ADMIN_DN),
            ("IDP_DIRECTORY__BIND_PASSWORD", ADMIN_PASSWORD),
            ("IDP_DIRECTORY__BASE_DN", BASE_DN),
            ("IDP_DIRECTORY__TIMEOUT_SECS", "2"),
            ("IDP_EMAIL_DOMAIN", "binhphuoc.gov.vn"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
    }
}
