//! Apache httpd protecting a page the way a province's older PHP or Java
//! app sits behind it, with Debian's modules, unchanged: `mod_auth_cas`
//! (CAS) or `mod_auth_mellon` (SAML 2.0). mod_auth_cas validates tickets
//! over HTTPS only, so for it the same Apache also serves a TLS front for
//! the IdP (a loopback CA made by `openssl` in a temp dir, the server
//! certificate for 127.0.0.1, `mod_proxy_http` to the IdP's plain port):
//! Apache calls `https://127.0.0.1:TLS/cas/serviceValidate` and trusts the
//! test CA. mod_auth_mellon needs no call to the IdP: it reads the IdP's
//! metadata from a file and checks the signed response the browser brings.
//! The protected page echoes `REMOTE_USER` through server-side includes.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::util::{free_port, openssl, wait_until};

/// A running Apache and its protected page.
pub struct Apache {
    /// The protected page: `http://127.0.0.1:APP/secret/index.shtml`.
    pub page_url: String,
    /// What the page's URL starts with (the CAS service to register).
    pub service_prefix: String,
    /// `http://127.0.0.1:APP`.
    pub base: String,
    child: Child,
    dir: tempfile::TempDir,
}

/// A loopback CA and a server certificate for 127.0.0.1 under it.
fn make_tls(dir: &Path) {
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
            "2",
            "-subj",
            "/CN=dangnhap test loopback CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
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
            "/CN=127.0.0.1",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    );
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-sha256",
            "-extfile",
            "server.ext",
            "-out",
            "server.pem",
        ],
    );
}

const MODULES: &[(&str, &str)] = &[
    ("mpm_event_module", "mod_mpm_event.so"),
    ("authz_core_module", "mod_authz_core.so"),
    ("authn_core_module", "mod_authn_core.so"),
    ("authz_user_module", "mod_authz_user.so"),
    ("mime_module", "mod_mime.so"),
    ("include_module", "mod_include.so"),
];

const CAS_MODULES: &[(&str, &str)] = &[
    ("socache_shmcb_module", "mod_socache_shmcb.so"),
    ("ssl_module", "mod_ssl.so"),
    ("proxy_module", "mod_proxy.so"),
    ("proxy_http_module", "mod_proxy_http.so"),
    ("auth_cas_module", "mod_auth_cas.so"),
];

const MELLON_MODULES: &[(&str, &str)] = &[("auth_mellon_module", "mod_auth_mellon.so")];

/// The server-wide part of a configuration in `d`: the common modules and
/// `extra`, `debug` (a module) logged at debug level, listening on `ports`.
fn server(d: &Path, extra: &[(&str, &str)], debug: &str, ports: &[u16]) -> String {
    let dirs = d.display();
    let modules: String = MODULES
        .iter()
        .chain(extra)
        .map(|(name, file)| format!("LoadModule {name} /usr/lib/apache2/modules/{file}\n"))
        .collect();
    let listen: String = ports
        .iter()
        .map(|p| format!("Listen 127.0.0.1:{p}\n"))
        .collect();
    format!(
        "ServerRoot {dirs}\n{modules}\
         PidFile {dirs}/run/httpd.pid\nDefaultRuntimeDir {dirs}/run\nMutex file:{dirs}/run\n\
         ErrorLog {dirs}/error.log\nLogLevel warn {debug}:debug\n\
         User www-data\nGroup www-data\n\
         ServerName 127.0.0.1\nTypesConfig /etc/mime.types\n\
         StartServers 1\nThreadsPerChild 8\nMaxRequestWorkers 16\n{listen}"
    )
}

/// The protected page (echoing `REMOTE_USER`), and the directories that
/// Apache's children (www-data when started by root) read and write.
fn page(d: &Path, writable: &str) {
    for sub in ["www/secret", writable, "run"] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
    }
    std::fs::write(
        d.join("www/secret/index.shtml"),
        "<p>Onewin: <!--#echo var=\"REMOTE_USER\" --></p>\n",
    )
    .unwrap();
    set_mode(d, 0o755);
    set_mode(&d.join("www"), 0o755);
    set_mode(&d.join("www/secret"), 0o755);
    set_mode(&d.join("www/secret/index.shtml"), 0o644);
    set_mode(&d.join(writable), 0o777);
    set_mode(&d.join("run"), 0o777);
}

/// Writes `conf`, starts Apache in the foreground and waits for `ports`.
fn spawn(dir: tempfile::TempDir, conf: &str, app: u16, ports: &[u16]) -> Apache {
    let d = dir.path();
    std::fs::write(d.join("httpd.conf"), conf).unwrap();
    let mut child = Command::new("/usr/sbin/apache2")
        .arg("-f")
        .arg(d.join("httpd.conf"))
        .arg("-DFOREGROUND")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(d.join("stderr.log")).unwrap())
        .spawn()
        .expect("/usr/sbin/apache2 (tests/run.sh installs apache2 and its modules)");
    let up = |port: &u16| std::net::TcpStream::connect(("127.0.0.1", *port)).is_ok();
    wait_until("apache2", Duration::from_secs(15), || {
        if let Ok(Some(status)) = child.try_wait() {
            let said = |f: &str| std::fs::read_to_string(d.join(f)).unwrap_or_default();
            panic!(
                "apache2 stopped ({status}): {}{}",
                said("stderr.log"),
                said("error.log")
            );
        }
        ports.iter().all(up)
    });
    Apache {
        page_url: format!("http://127.0.0.1:{app}/secret/index.shtml"),
        service_prefix: format!("http://127.0.0.1:{app}/secret/"),
        base: format!("http://127.0.0.1:{app}"),
        child,
        dir,
    }
}

impl Apache {
    /// mod_auth_cas in front of the IdP at `idp_url` (`http://127.0.0.1:PORT`).
    pub fn with_cas(idp_url: &str) -> Apache {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        make_tls(d);
        page(d, "cas-cookies");
        let (app, tls) = (free_port(), free_port());
        let dirs = d.display();
        let conf = format!(
            "{}<VirtualHost 127.0.0.1:{tls}>\n\
               SSLEngine on\n\
               SSLCertificateFile {dirs}/server.pem\n\
               SSLCertificateKeyFile {dirs}/server.key\n\
               ProxyPass / {idp_url}/\n\
             </VirtualHost>\n\
             <VirtualHost 127.0.0.1:{app}>\n\
               ServerName 127.0.0.1:{app}\n\
               DocumentRoot {dirs}/www\n\
               CASLoginURL {idp_url}/cas/login\n\
               CASValidateURL https://127.0.0.1:{tls}/cas/serviceValidate\n\
               CASCertificatePath {dirs}/ca.pem\n\
               CASCookiePath {dirs}/cas-cookies/\n\
               CASDebug On\n\
               <Directory {dirs}/www/secret>\n\
                 AuthType CAS\n\
                 Require valid-user\n\
                 Options +Includes\n\
                 AddOutputFilter INCLUDES .shtml\n\
               </Directory>\n\
             </VirtualHost>\n",
            server(d, CAS_MODULES, "auth_cas", &[app, tls])
        );
        spawn(dir, &conf, app, &[app, tls])
    }

    /// mod_auth_mellon trusting the IdP metadata `idp_metadata` (XML), with
    /// its own key made here; its metadata is at `{base}/mellon/metadata`.
    pub fn with_mellon(idp_metadata: &str) -> Apache {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        page(d, "mellon");
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "sp.key",
                "-out",
                "sp.pem",
                "-days",
                "2",
                "-subj",
                "/CN=onewin-mellon",
            ],
        );
        std::fs::write(d.join("idp-metadata.xml"), idp_metadata).unwrap();
        for f in ["sp.key", "sp.pem", "idp-metadata.xml"] {
            set_mode(&d.join(f), 0o644);
        }
        let app = free_port();
        let dirs = d.display();
        let conf = format!(
            "{}<VirtualHost 127.0.0.1:{app}>\n\
               ServerName 127.0.0.1:{app}\n\
               DocumentRoot {dirs}/www\n\
               <Location />\n\
                 MellonEnable info\n\
                 MellonEndpointPath /mellon\n\
                 MellonSPentityId http://127.0.0.1:{app}/mellon/metadata\n\
                 MellonSPPrivateKeyFile {dirs}/sp.key\n\
                 MellonSPCertFile {dirs}/sp.pem\n\
                 MellonIdPMetadataFile {dirs}/idp-metadata.xml\n\
                 MellonSecureCookie Off\n\
                 MellonUser urn:oid:0.9.2342.19200300.100.1.3\n\
               </Location>\n\
               <Location /secret/>\n\
                 AuthType Mellon\n\
                 MellonEnable auth\n\
                 Require valid-user\n\
               </Location>\n\
               <Directory {dirs}/www/secret>\n\
                 Options +Includes\n\
                 AddOutputFilter INCLUDES .shtml\n\
               </Directory>\n\
             </VirtualHost>\n",
            server(d, MELLON_MODULES, "auth_mellon", &[app])
        );
        spawn(dir, &conf, app, &[app])
    }

    /// Apache's error log (the module says there why it refused).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

impl Drop for Apache {
    fn drop(&mut self) {
        // TERM stops the children with the parent; KILL would orphan them
        // on their listening sockets.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        for _ in 0..100 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
