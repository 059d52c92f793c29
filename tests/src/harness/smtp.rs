//! A real SMTP server (Python's aiosmtpd) on a free loopback port, storing
//! what it receives in a maildir in a temp dir for the tests to read.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::util::{free_port, wait_until};

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
