//! A SoftHSM2 token in a temp dir (its own `SOFTHSM2_CONF`), holding keys
//! whose certificates a test CA made with `openssl` issued: an RSA-2048 and
//! an EC P-256 person key (labelled by the person's e-mail, which their
//! certificate carries in subjectAltName), the office key `office-seal`,
//! and an RSA-1024 key the idp must refuse. Person certificates have the
//! keyUsage digitalSignature and nonRepudiation pyHanko asks for. Keys are
//! made by openssl and written to the token with `pkcs11-tool
//! --write-object` (private key and certificate under one CKA_ID and label),
//! as an operator imports keys an external CA certified.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The token's label.
pub const TOKEN: &str = "dangnhap";
/// The user PIN (a leading zero: it must stay a string all the way).
pub const PIN: &str = "0246";
pub const SO_PIN: &str = "12345678";
/// The RSA-2048 person key: labelled by the person's e-mail.
pub const RSA_PERSON: &str = "tamtt@binhphuoc.gov.vn";
/// The EC P-256 person key.
pub const EC_PERSON: &str = "annv@binhphuoc.gov.vn";
/// The office's key (the clerk's seal).
pub const OFFICE: &str = "office-seal";
/// An RSA-1024 key with a valid certificate: too weak to sign.
pub const WEAK: &str = "weak-rsa-1024";

/// The CA's common name (what pdfsig and pyHanko name as issuer).
pub const CA_NAME: &str = "dangnhap test CA";

/// Where the SoftHSM2 module is on Debian.
pub fn module() -> PathBuf {
    let p = PathBuf::from("/usr/lib/softhsm/libsofthsm2.so");
    assert!(
        p.exists(),
        "{} is missing: tests/run.sh installs softhsm2",
        p.display()
    );
    p
}

/// A token with the keys above, and the CA that certified them.
pub struct SoftHsm {
    dir: tempfile::TempDir,
    /// The `SOFTHSM2_CONF` file naming this token directory.
    pub conf: PathBuf,
    pub module: PathBuf,
    /// The CA's certificate (PEM): the trust anchor for validators.
    pub ca_pem: PathBuf,
    /// A file holding [`PIN`] (for `signing.pin_file`).
    pub pin_file: PathBuf,
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl SoftHsm {
    pub fn new() -> SoftHsm {
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).unwrap();
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap();
        let pin_file = dir.path().join("hsm-pin");
        std::fs::write(&pin_file, format!("{PIN}\n")).unwrap();
        // Owner only, as the idp asks of a secret's file.
        std::os::unix::fs::PermissionsExt::set_mode(
            &mut std::fs::metadata(&pin_file).unwrap().permissions(),
            0o600,
        );
        let hsm = SoftHsm {
            conf,
            module: module(),
            ca_pem: dir.path().join("ca.pem"),
            pin_file,
            dir,
        };
        run(hsm
            .softhsm_util()
            .args(["--init-token", "--free", "--label", TOKEN])
            .args(["--so-pin", SO_PIN, "--pin", PIN]));
        hsm.make_ca();
        hsm.add_key(
            RSA_PERSON,
            "01",
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            "/O=UBND tỉnh Bình Phước/CN=Trần Thị Tâm",
            Some(RSA_PERSON),
        );
        hsm.add_key(
            EC_PERSON,
            "02",
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
            "/O=UBND tỉnh Bình Phước/CN=Nguyễn Văn An",
            Some(EC_PERSON),
        );
        hsm.add_key(
            OFFICE,
            "03",
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            "/O=UBND tỉnh Bình Phước/CN=Văn phòng UBND tỉnh Bình Phước",
            None,
        );
        hsm.add_key(
            WEAK,
            "04",
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
            "/O=dangnhap tests/CN=Weak key",
            Some("weak@binhphuoc.gov.vn"),
        );
        hsm
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn softhsm_util(&self) -> Command {
        let mut c = Command::new("softhsm2-util");
        c.env("SOFTHSM2_CONF", &self.conf);
        c
    }

    /// `pkcs11-tool` logged in to this token.
    pub fn pkcs11_tool(&self) -> Command {
        let mut c = Command::new("pkcs11-tool");
        c.env("SOFTHSM2_CONF", &self.conf)
            .arg("--module")
            .arg(&self.module)
            .args(["--token-label", TOKEN, "--login", "--pin", PIN]);
        c
    }

    fn make_ca(&self) {
        run(Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
            .args(["ec_paramgen_curve:P-256", "-nodes", "-days", "30", "-utf8"])
            .args(["-subj", &format!("/O=dangnhap tests/CN={CA_NAME}")])
            .args(["-addext", "basicConstraints=critical,CA:TRUE"])
            .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"])
            .arg("-keyout")
            .arg(self.path("ca.key"))
            .arg("-out")
            .arg(&self.ca_pem));
    }

    /// A key made by openssl (`genpkey` arguments), certified by the CA,
    /// written to the token with the certificate under `id` and `label`.
    fn add_key(&self, label: &str, id: &str, genpkey: &[&str], subject: &str, email: Option<&str>) {
        let key = self.path(&format!("{id}.key.pem"));
        let csr = self.path(&format!("{id}.csr"));
        let ext = self.path(&format!("{id}.ext"));
        let cert = self.path(&format!("{id}.cert.pem"));
        run(Command::new("openssl")
            .arg("genpkey")
            .args(genpkey)
            .arg("-out")
            .arg(&key));
        run(Command::new("openssl")
            .args(["req", "-new", "-utf8", "-subj", subject, "-key"])
            .arg(&key)
            .arg("-out")
            .arg(&csr));
        let mut extensions = String::from(
            "keyUsage=critical,digitalSignature,nonRepudiation\nbasicConstraints=critical,CA:FALSE\n",
        );
        if let Some(e) = email {
            extensions.push_str(&format!("subjectAltName=email:{e}\n"));
        }
        std::fs::write(&ext, extensions).unwrap();
        run(Command::new("openssl")
            .args(["x509", "-req", "-days", "30", "-set_serial"])
            .arg(format!("0x10{id}"))
            .arg("-in")
            .arg(&csr)
            .arg("-CA")
            .arg(&self.ca_pem)
            .arg("-CAkey")
            .arg(self.path("ca.key"))
            .arg("-extfile")
            .arg(&ext)
            .arg("-out")
            .arg(&cert));
        let key_der = self.path(&format!("{id}.key.der"));
        let cert_der = self.path(&format!("{id}.cert.der"));
        run(Command::new("openssl")
            .args(["pkey", "-outform", "der", "-in"])
            .arg(&key)
            .arg("-out")
            .arg(&key_der));
        run(Command::new("openssl")
            .args(["x509", "-outform", "der", "-in"])
            .arg(&cert)
            .arg("-out")
            .arg(&cert_der));
        for (file, kind) in [(&key_der, "privkey"), (&cert_der, "cert")] {
            run(self
                .pkcs11_tool()
                .arg("--write-object")
                .arg(file)
                .args(["--type", kind, "--id", id, "--label", label]));
        }
    }

    /// The certificate of the key labelled `label` (PEM), as issued.
    pub fn certificate(&self, label: &str) -> PathBuf {
        let id = match label {
            RSA_PERSON => "01",
            EC_PERSON => "02",
            OFFICE => "03",
            WEAK => "04",
            other => panic!("no key {other}"),
        };
        self.path(&format!("{id}.cert.pem"))
    }

    /// The `SOFTHSM2_CONF` and `IDP_SIGNING__*` variables of an idp that
    /// signs with this token.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("SOFTHSM2_CONF".into(), self.conf.display().to_string()),
            ("IDP_SIGNING__BACKEND".into(), "pkcs11".into()),
            (
                "IDP_SIGNING__MODULE".into(),
                self.module.display().to_string(),
            ),
            ("IDP_SIGNING__TOKEN_LABEL".into(), TOKEN.into()),
            (
                "IDP_SIGNING__PIN_FILE".into(),
                self.pin_file.display().to_string(),
            ),
            ("IDP_SIGNING__OFFICE_KEY_LABEL".into(), OFFICE.into()),
            ("IDP_SIGNING__PERSON_KEY_LABEL".into(), "{email}".into()),
        ]
    }

    /// The directory everything lives in (for a test's own files).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Default for SoftHsm {
    fn default() -> Self {
        SoftHsm::new()
    }
}
