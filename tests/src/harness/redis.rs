//! A throwaway Redis server on a free loopback port, without persistence,
//! stopped on drop (and stoppable and restartable, to test an outage).

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::util::{free_port, wait_until};

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
