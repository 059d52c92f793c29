//! SAML 2.0 end to end, with pysaml2 (PyPI, in `target/saml-venv`) as the
//! SP: it checks every signature with the `xmlsec1` command, and the tests
//! check the metadata, the response and the assertion with `xmlsec1`
//! themselves. Covered: registration from metadata, SP-initiated sign-in by
//! the Redirect binding (unsigned and signed requests), the attributes and
//! NameID formats, IdP-initiated sign-in, replayed, forged and hostile
//! requests refused, SP-initiated single logout and the IdP's LogoutRequest
//! at a portal sign-out, and one sign-in opening an OIDC, a CAS and a SAML
//! app with one sign-out ending all three.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::browser::{Browser, hidden, location, param};
use crate::harness::util::openssl;
use crate::harness::{Backends, Idp, PASSWORD};

/// The Python of `target/saml-venv` (or `SAML_PYTHON`).
fn sp_python() -> PathBuf {
    crate::harness::util::venv_python("saml-venv", "SAML_PYTHON", "pysaml2")
}

/// One SP: its settings for `tests/saml/sp.py`.
struct Sp {
    name: String,
    settings: Value,
    entity_id: String,
}

impl Sp {
    /// A new SP at `base` with its own key, trusting the IdP's metadata.
    fn new(dir: &Path, name: &str, idp: &Idp, signed: bool) -> Sp {
        let (key, cert) = keypair(dir, name);
        let base = format!("http://127.0.0.1:9/{name}");
        Sp {
            name: name.to_owned(),
            settings: json!({
                "base": base,
                "key": key,
                "cert": cert,
                "idp_metadata": dir.join("idp-metadata.xml"),
                "idp": idp.url("/saml/metadata"),
                "idp_sso": idp.url("/saml/sso"),
                "idp_slo": idp.url("/saml/slo"),
                "signed": signed,
            }),
            entity_id: format!("{base}/sp"),
        }
    }

    /// The SP also asks for encrypted assertions: a second key, published
    /// in its metadata for encryption.
    fn encrypting(mut self, dir: &Path) -> Sp {
        let (key, cert) = keypair(dir, &format!("{}-enc", self.name));
        self.settings["enc_key"] = json!(key);
        self.settings["enc_cert"] = json!(cert);
        self
    }

    fn run(&self, cmd: &str, args: &[&str]) -> Output {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("saml/sp.py");
        Command::new(sp_python())
            .arg(script)
            .arg(cmd)
            .arg(self.settings.to_string())
            .args(args)
            .output()
            .unwrap()
    }

    fn json(&self, cmd: &str, args: &[&str]) -> Value {
        let out = self.run(cmd, args);
        assert!(
            out.status.success(),
            "sp.py {cmd}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Registers the SP at the IdP from its metadata, with `extra` options.
    fn register(&self, idp: &Idp, dir: &Path, extra: &[&str]) {
        self.register_edited(idp, dir, extra, |m| m);
    }

    /// The same with its metadata changed by `edit` first.
    fn register_edited(
        &self,
        idp: &Idp,
        dir: &Path,
        extra: &[&str],
        edit: impl Fn(String) -> String,
    ) {
        let out = self.run("metadata", &[]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let file = dir.join(format!("{}-metadata.xml", self.name));
        std::fs::write(&file, edit(String::from_utf8(out.stdout).unwrap())).unwrap();
        let mut args = vec!["saml", "sp", "add", "--metadata", file.to_str().unwrap()];
        args.extend_from_slice(extra);
        idp.cli_ok(&args, None);
    }
}

/// A new RSA key and its self-signed certificate: `dir/STEM.key`, `dir/STEM.crt`.
fn keypair(dir: &Path, stem: &str) -> (PathBuf, PathBuf) {
    let (key, cert) = (format!("{stem}.key"), format!("{stem}.crt"));
    openssl(
        dir,
        &[
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &cert,
            "-days", "2", "-subj", "/CN=sp",
        ],
    );
    (dir.join(key), dir.join(cert))
}

/// The IdP's metadata, written for the SPs, its certificate as PEM, and
/// `xmlsec1`'s verdict on its signature.
async fn idp_metadata(idp: &Idp, dir: &Path) -> String {
    let r = reqwest::get(idp.url("/saml/metadata")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/samlmetadata+xml"
    );
    let xml = r.text().await.unwrap();
    std::fs::write(dir.join("idp-metadata.xml"), &xml).unwrap();
    let cert = between(&xml, "<ds:X509Certificate>", "</ds:X509Certificate>");
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        cert.as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    );
    std::fs::write(dir.join("idp.pem"), pem).unwrap();
    xmlsec_verify(
        dir,
        &xml,
        "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor",
    );
    xml
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> &'a str {
    let i = s.find(start).unwrap_or_else(|| panic!("no {start} in {s}")) + start.len();
    &s[i..i + s[i..].find(end).unwrap()]
}

/// `xmlsec1 --verify` of `xml`'s first signature with the IdP's certificate.
fn xmlsec_verify(dir: &Path, xml: &str, id_attr: &str) -> Output {
    let file = dir.join("to-verify.xml");
    std::fs::write(&file, xml).unwrap();
    let out = xmlsec(dir, &file, id_attr);
    assert!(
        out.status.success(),
        "xmlsec1 refused {id_attr}: {}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `xmlsec1 --verify` of the assertion in the response `xml`, by itself.
fn xmlsec_verify_assertion(dir: &Path, xml: &str) {
    let assertion = format!(
        "<saml:Assertion{}</saml:Assertion>",
        between(xml, "<saml:Assertion", "</saml:Assertion>")
    );
    xmlsec_verify(
        dir,
        &assertion,
        "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
    );
}

fn xmlsec(dir: &Path, file: &Path, id_attr: &str) -> Output {
    Command::new("xmlsec1")
        .args(["--verify", "--id-attr:ID", id_attr, "--pubkey-cert-pem"])
        .arg(dir.join("idp.pem"))
        .arg(file)
        .output()
        .expect("xmlsec1 (tests/run.sh installs it)")
}

/// Follows the browser from an SSO URL to the POST form; returns
/// (SAMLResponse, RelayState) as the form carries them.
async fn sso(idp: &Idp, browser: &Browser, url: &str) -> (String, Option<String>) {
    let to = browser.sign_in_via(&idp.base, url, "tamtt", PASSWORD).await;
    post_form(idp, browser, &to).await
}

async fn post_form(idp: &Idp, browser: &Browser, to: &str) -> (String, Option<String>) {
    assert!(to.starts_with("/saml/post/"), "{to}");
    let r = browser.get(&idp.url(to)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("form-action http://127.0.0.1:9"), "{csp}");
    // A response with an assertion is framed by no page.
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"action="http://127.0.0.1:9/"#), "{html}");
    let resp = hidden(&html, "SAMLResponse").expect("SAMLResponse in the form");
    // Fetched once: the form is gone after.
    assert_eq!(
        browser.get(&idp.url(to)).await.status(),
        StatusCode::BAD_REQUEST
    );
    (resp, hidden(&html, "RelayState"))
}

/// An attribute value as askama escapes it, read back.
fn unescape(s: &str) -> String {
    s.replace("&#38;", "&")
        .replace("&amp;", "&")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
}

fn decode(b64: &str) -> String {
    String::from_utf8(B64.decode(b64).unwrap()).unwrap()
}

/// A Redirect-bound AuthnRequest of our own making (for what pysaml2 never sends).
fn redirect_request(idp: &Idp, xml: &str) -> String {
    let mut d = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    d.write_all(xml.as_bytes()).unwrap();
    let mut u = url::Url::parse(&idp.url("/saml/sso")).unwrap();
    u.query_pairs_mut()
        .append_pair("SAMLRequest", &B64.encode(d.finish().unwrap()));
    u.to_string()
}

fn authn_request(issuer: &str, acs: &str, id: &str) -> String {
    let now = idp::signing::tsp::rfc3339(idp::now());
    format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{now}" AssertionConsumerServiceURL="{acs}"><saml:Issuer>{issuer}</saml:Issuer></samlp:AuthnRequest>"#
    )
}

async fn refused(browser: &Browser, url: &str) -> String {
    let r = browser.get(url).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{url}");
    let page = r.text().await.unwrap();
    assert!(page.contains("Yêu cầu đăng nhập SAML"), "{page}");
    page
}

#[tokio::test]
async fn saml_sign_in_attributes_signatures_refusals_and_single_logout() {
    let idp = Idp::spawn(&Backends::default());
    idp.add_person();
    // A unit whose name needs escaping: the canonical form must match what
    // xmlsec1 canonicalizes, or no signature verifies.
    let unit = "Sở <Nội vụ> & \"Tài chính\" 'A'";
    idp.cli_ok(&["user", "set-unit", "tamtt", unit], None);
    let dir = tempfile::tempdir().unwrap();
    let metadata = idp_metadata(&idp, dir.path()).await;
    assert!(metadata.contains("WantAuthnRequestsSigned=\"false\""));

    let onewin = Sp::new(dir.path(), "onewin", &idp, false);
    // Its tile at the portal signs in by IdP-initiated SAML.
    idp.cli_ok(
        &[
            "app",
            "add",
            "motcua",
            "--name",
            "Một cửa",
            "--url",
            "http://127.0.0.1:9/onewin/home",
        ],
        None,
    );
    onewin.register(
        &idp,
        dir.path(),
        &[
            "--app",
            "motcua",
            "--name",
            "Một cửa (SAML)",
            "--attribute",
            "email",
            "--attribute",
            "name",
            "--attribute",
            "unit",
        ],
    );
    let signed = Sp::new(dir.path(), "ioffice", &idp, true);
    signed.register(&idp, dir.path(), &["--name-id", "persistent"]);
    let listed = idp.cli_ok(&["saml", "sp", "list"], None);
    assert!(
        listed.contains("Một cửa (SAML)\temail\temail,name,unit"),
        "{listed}"
    );
    assert!(
        listed.contains(&format!("{}\t", signed.entity_id)),
        "{listed}"
    );
    // Metadata that is not an SP's, or with a DTD, is refused.
    let bad = dir.path().join("bad.xml");
    std::fs::write(&bad, &metadata).unwrap();
    let out = idp.cli(
        &["saml", "sp", "add", "--metadata", bad.to_str().unwrap()],
        None,
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("SPSSODescriptor"),
        "{out:?}"
    );
    std::fs::write(&bad, "<!DOCTYPE x [<!ENTITY a \"b\">]><x>&a;</x>").unwrap();
    let out = idp.cli(
        &["saml", "sp", "add", "--metadata", bad.to_str().unwrap()],
        None,
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("DOCTYPE"),
        "{out:?}"
    );

    // SP-initiated sign-in: the form, then a signed response pysaml2 accepts.
    let browser = Browser::new();
    let login = onewin.json("login", &[]);
    let req_id = login["id"].as_str().unwrap();
    let url = login["url"].as_str().unwrap();
    let (resp_b64, relay) = sso(&idp, &browser, url).await;
    assert_eq!(relay.as_deref(), Some("rs-login"));
    let v = onewin.json("acs", &[&resp_b64, req_id]);
    assert_eq!(v["name_id"], "tamtt@binhphuoc.gov.vn");
    assert_eq!(
        v["format"],
        "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
    );
    assert_eq!(v["in_response_to"], req_id);
    assert_eq!(v["attributes"]["mail"][0], "tamtt@binhphuoc.gov.vn");
    assert_eq!(v["attributes"]["displayName"][0], "Trương Thanh Tâm");
    assert_eq!(v["attributes"]["ou"][0], unit, "{v}");
    assert!(v["attributes"].get("telephoneNumber").is_none(), "{v}");
    assert_eq!(
        v["context"],
        "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
    );
    let session_index = v["session_index"].as_str().unwrap().to_owned();

    // xmlsec1 agrees on both signatures: the response's and the assertion's.
    let xml = decode(&resp_b64);
    xmlsec_verify(
        dir.path(),
        &xml,
        "urn:oasis:names:tc:SAML:2.0:protocol:Response",
    );
    xmlsec_verify_assertion(dir.path(), &xml);
    // One changed byte in the assertion: neither xmlsec1 nor pysaml2 accepts it.
    let forged = xml.replace(">tamtt@binhphuoc.gov.vn<", ">tamxx@binhphuoc.gov.vn<");
    assert_ne!(forged, xml);
    let file = dir.path().join("forged.xml");
    std::fs::write(&file, &forged).unwrap();
    assert!(
        !xmlsec(
            dir.path(),
            &file,
            "urn:oasis:names:tc:SAML:2.0:protocol:Response"
        )
        .status
        .success()
    );
    assert!(
        !onewin
            .run("acs", &[&B64.encode(&forged), "-"])
            .status
            .success()
    );

    // The same request again is a replay; made-up and hostile ones are refused.
    refused(&browser, url).await;
    let acs = format!("{}/acs", onewin.settings["base"].as_str().unwrap());
    refused(
        &browser,
        &redirect_request(
            &idp,
            &authn_request(&onewin.entity_id, "https://evil.example/acs", "_x1"),
        ),
    )
    .await;
    refused(
        &browser,
        &redirect_request(
            &idp,
            &authn_request("https://unknown.example/sp", &acs, "_x2"),
        ),
    )
    .await;
    let dtd = format!(
        "<!DOCTYPE r [<!ENTITY e \"x\">]>{}",
        authn_request(&onewin.entity_id, &acs, "_x3")
    );
    refused(&browser, &redirect_request(&idp, &dtd)).await;
    let old = authn_request(&onewin.entity_id, &acs, "_x4").replace(
        &idp::signing::tsp::rfc3339(idp::now()),
        "2020-01-01T00:00:00Z",
    );
    refused(&browser, &redirect_request(&idp, &old)).await;
    // A well-formed request of our own is answered (single sign-on: no form).
    let r = browser
        .get(&redirect_request(
            &idp,
            &authn_request(&onewin.entity_id, &acs, "_ok1"),
        ))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (resp2, _) = post_form(&idp, &browser, &location(&r)).await;
    assert_eq!(
        onewin.json("acs", &[&resp2, "_ok1"])["name_id"],
        "tamtt@binhphuoc.gov.vn"
    );

    // The SP that signs its requests: signed, it is answered at once with a
    // persistent NameID; unsigned or with a changed RelayState, refused.
    let login = signed.json("login", &[]);
    let url = login["url"].as_str().unwrap();
    assert!(url.contains("&Signature="), "{url}");
    let r = browser.get(url).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (resp3, _) = post_form(&idp, &browser, &location(&r)).await;
    let v = signed.json("acs", &[&resp3, login["id"].as_str().unwrap()]);
    assert_eq!(
        v["format"],
        "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
    );
    let persistent = v["name_id"].as_str().unwrap().to_owned();
    assert!(
        !persistent.contains('@') && persistent.len() >= 40,
        "{persistent}"
    );
    let login = signed.json("login", &[]);
    let url = login["url"].as_str().unwrap();
    refused(
        &browser,
        &url.replace("RelayState=rs-login", "RelayState=rs-evil"),
    )
    .await;
    let unsigned = url.split("&SigAlg=").next().unwrap();
    refused(&browser, unsigned).await;

    // IdP-initiated from the portal tile: an unsolicited response to the
    // default ACS, with the tile's address as RelayState (a link's own
    // RelayState, or an SP without a tile, gets nothing).
    let r = browser.get(&idp.url("/launch/motcua")).await;
    assert_eq!(location(&r), "/saml/init?app=motcua");
    let r = browser
        .get(&idp.url("/saml/init?app=motcua&RelayState=https://evil.example/"))
        .await;
    let (resp4, relay) = post_form(&idp, &browser, &location(&r)).await;
    assert_eq!(relay.as_deref(), Some("http://127.0.0.1:9/onewin/home"));
    let v = onewin.json("acs", &[&resp4, "-"]);
    assert_eq!(v["name_id"], "tamtt@binhphuoc.gov.vn");
    assert!(v["in_response_to"].is_null(), "{v}");
    let r = browser.get(&idp.url("/saml/init?app=nosuchapp")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // The app asks for the password again (ForceAuthn): a new portal
    // session, which still knows the other SP (told at the sign-out below).
    let force = authn_request(&onewin.entity_id, &acs, "_force1")
        .replace("Version=\"2.0\"", "Version=\"2.0\" ForceAuthn=\"true\"");
    let (resp5, _) = sso(&idp, &browser, &redirect_request(&idp, &force)).await;
    let v = onewin.json("acs", &[&resp5, "_force1"]);
    assert_eq!(v["name_id"], "tamtt@binhphuoc.gov.vn");
    // The SessionIndex is the portal session's, carried over with it.
    assert_eq!(v["session_index"], session_index.as_str());

    // A signed LogoutRequest about an earlier session (another
    // SessionIndex) does not end this one: the SP hears PartialLogout.
    let stale = onewin.json(
        "logout",
        &[
            "tamtt@binhphuoc.gov.vn",
            "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            "_an-earlier-session",
        ],
    );
    let r = browser.get(stale["url"].as_str().unwrap()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    assert!(
        to.starts_with("http://127.0.0.1:9/onewin/slo?SAMLResponse="),
        "{to}"
    );
    let v = onewin.json("slo-response", &[to.split_once('?').unwrap().1]);
    assert_eq!(v["status_error"], "StatusPartialLogout");
    let r = browser
        .get(&redirect_request(
            &idp,
            &authn_request(&onewin.entity_id, &acs, "_still1"),
        ))
        .await;
    assert!(
        location(&r).starts_with("/saml/post/"),
        "still signed in: {}",
        location(&r)
    );

    // SP-initiated single logout: a signed LogoutRequest ends the portal
    // session; the browser goes back with a signed LogoutResponse.
    let logout = onewin.json(
        "logout",
        &[
            "tamtt@binhphuoc.gov.vn",
            "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            &session_index,
        ],
    );
    let logout_url = logout["url"].as_str().unwrap();
    // Unsigned, it is refused and nobody is signed out.
    refused(&browser, logout_url.split("&SigAlg=").next().unwrap()).await;
    let r = browser.get(logout_url).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let progress = location(&r);
    assert!(progress.starts_with("/logout/done/"), "{progress}");
    // The other SP is told in a frame; then on to the SP that asked.
    let page = browser.get(&idp.url(&progress)).await.text().await.unwrap();
    assert!(
        page.contains("<iframe src=\"http://127.0.0.1:9/ioffice/slo?SAMLRequest="),
        "{page}"
    );
    let to = unescape(between(&page, "data-next=\"", "\""));
    assert!(
        to.starts_with("http://127.0.0.1:9/onewin/slo?SAMLResponse="),
        "{to}"
    );
    let query = to.split_once('?').unwrap().1;
    let v = onewin.json("slo-response", &[query]);
    assert_eq!(v["status"], "urn:oasis:names:tc:SAML:2.0:status:Success");
    assert_eq!(v["in_response_to"], logout["id"]);
    // Signed out: the next sign-in asks for the password again.
    let r = browser
        .get(onewin.json("login", &[])["url"].as_str().unwrap())
        .await;
    assert!(location(&r).starts_with("/login?req="), "{}", location(&r));
}

#[tokio::test]
async fn one_sign_in_opens_oidc_cas_and_saml_apps_and_one_sign_out_ends_all() {
    let idp = Idp::spawn(&Backends::default());
    idp.add_person();
    let dir = tempfile::tempdir().unwrap();
    idp_metadata(&idp, dir.path()).await;
    let sp = Sp::new(dir.path(), "ecabinet", &idp, false);
    sp.register(&idp, dir.path(), &["--name", "Phòng họp (SAML)"]);
    idp.add_client("lich", "http://127.0.0.1:9/lich", &[]);
    idp.cli_ok(
        &[
            "cas",
            "service",
            "add",
            "vanban",
            "--pattern",
            "http://127.0.0.1:9/vanban/",
        ],
        None,
    );
    let browser = Browser::new();

    // The SAML app first: the sign-in form.
    let login = sp.json("login", &[]);
    let (resp, _) = sso(&idp, &browser, login["url"].as_str().unwrap()).await;
    let v = sp.json("acs", &[&resp, login["id"].as_str().unwrap()]);
    let session_index = v["session_index"].as_str().unwrap().to_owned();
    // Then the OIDC and the CAS app: no form.
    let (_, challenge) = crate::browser::pkce();
    let auth = crate::browser::authorize_url(
        &idp.base,
        "lich",
        "http://127.0.0.1:9/lich",
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let r = browser.get(&auth).await;
    assert!(param(&location(&r), "code").is_some(), "{}", location(&r));
    let mut cas = url::Url::parse(&idp.url("/cas/login")).unwrap();
    cas.query_pairs_mut()
        .append_pair("service", "http://127.0.0.1:9/vanban/home");
    let r = browser.get(cas.as_str()).await;
    assert!(param(&location(&r), "ticket").is_some(), "{}", location(&r));

    // One sign-out at the portal: the SAML app's frame carries a signed
    // LogoutRequest naming the session it was given.
    let page = browser.get(&idp.url("/logout")).await.text().await.unwrap();
    let csrf = hidden(&page, "csrf").unwrap();
    let r = browser.post(&idp.url("/logout"), &[("csrf", &csrf)]).await;
    let (csp, page) = sign_out_page(&idp, &browser, &location(&r)).await;
    assert!(csp.contains("frame-src http://127.0.0.1:9"), "{csp}");
    assert!(page.contains("Phòng họp (SAML)"), "{page}");
    let frame = unescape(between(&page, "<iframe src=\"", "\""));
    assert!(
        frame.starts_with("http://127.0.0.1:9/ecabinet/slo?"),
        "{frame}"
    );
    let query = frame.split_once('?').unwrap().1;
    let v = sp.json("slo", &[query]);
    assert_eq!(v["name_id"], "tamtt@binhphuoc.gov.vn");
    assert_eq!(v["session_index"][0], session_index.as_str());
    // The query signature verifies with the IdP's certificate (openssl).
    let (signed_part, sig) = query.split_once("&Signature=").unwrap();
    let sig = url::form_urlencoded::parse(format!("s={sig}").as_bytes())
        .next()
        .unwrap()
        .1
        .into_owned();
    std::fs::write(dir.path().join("octets"), signed_part).unwrap();
    std::fs::write(dir.path().join("sig"), B64.decode(sig).unwrap()).unwrap();
    openssl(
        dir.path(),
        &[
            "x509", "-in", "idp.pem", "-pubkey", "-noout", "-out", "idp.pub",
        ],
    );
    openssl(
        dir.path(),
        &[
            "dgst",
            "-sha256",
            "-verify",
            "idp.pub",
            "-signature",
            "sig",
            "octets",
        ],
    );

    // Signed out everywhere: each protocol asks for the password again.
    let r = browser
        .get(sp.json("login", &[])["url"].as_str().unwrap())
        .await;
    assert!(location(&r).starts_with("/login?req="));
    let r = browser.get(&auth).await;
    assert!(location(&r).starts_with("/login?req="));
    let r = browser.get(cas.as_str()).await;
    assert!(location(&r).starts_with("/login?req="));
}

/// A message POSTed to `path` as an SP's page submits it: kept by the IdP
/// and brought back by the browser's GET, whose response is returned.
async fn post_binding(
    idp: &Idp,
    browser: &Browser,
    path: &str,
    saml_request: &str,
) -> reqwest::Response {
    let r = browser
        .post(
            &idp.url(path),
            &[("SAMLRequest", saml_request), ("RelayState", "rs-post")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    assert!(to.starts_with(&format!("{path}?continue=")), "{to}");
    browser.get(&idp.url(&to)).await
}

async fn refused_by_post(idp: &Idp, browser: &Browser, path: &str, xml: &str) {
    let r = post_binding(idp, browser, path, &B64.encode(xml)).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{xml}");
    let page = r.text().await.unwrap();
    assert!(page.contains("Yêu cầu đăng nhập SAML"), "{page}");
}

/// `xml` with its `EncryptedData` decrypted by `xmlsec1` with the key `key`.
fn xmlsec_decrypt(dir: &Path, xml: &str, key: &Value) -> String {
    let file = dir.join("to-decrypt.xml");
    std::fs::write(&file, xml).unwrap();
    let out = Command::new("xmlsec1")
        .args(["--decrypt", "--privkey-pem"])
        .arg(key.as_str().unwrap())
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "xmlsec1 --decrypt: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn saml_post_binding_signed_requests_and_encrypted_assertions() {
    let idp = Idp::spawn(&Backends::default());
    idp.add_person();
    let dir = tempfile::tempdir().unwrap();
    idp_metadata(&idp, dir.path()).await;
    // eCabinet signs its requests and sends them by POST, asks for
    // encrypted assertions (a second key, for encryption, in its metadata),
    // and takes logout messages by POST only.
    let mut ecab = Sp::new(dir.path(), "ecabinet", &idp, true).encrypting(dir.path());
    ecab.settings["slo_post"] = json!(true);
    ecab.register(&idp, dir.path(), &[]);
    // The calendar also asks for encryption, listing AES-128-CBC only.
    let mut calendar = Sp::new(dir.path(), "calendar", &idp, false).encrypting(dir.path());
    calendar.settings["slo_post"] = json!(true);
    calendar.register_edited(&idp, dir.path(), &[], |m| {
        let at = m.find("use=\"encryption\"").unwrap();
        // pysaml2 writes the metadata namespace as ns0.
        let close = at + m[at..].find("</ns0:KeyDescriptor>").unwrap();
        format!(
            "{}<ns0:EncryptionMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#aes128-cbc\"/>{}",
            &m[..close],
            &m[close..]
        )
    });
    let browser = Browser::new();

    // Hostile variants of a signed request are refused before anyone signs in.
    let login = ecab.json("login-post", &[]);
    let signed = decode(login["saml_request"].as_str().unwrap());
    assert!(signed.contains("Signature"), "{signed}");
    let body = signed.trim_start_matches("<?xml version=\"1.0\"?>").trim();
    // One changed attribute: the digest no longer holds.
    let changed = body.replacen(
        " Version=\"2.0\"",
        " Version=\"2.0\" ForceAuthn=\"true\"",
        1,
    );
    assert_ne!(changed, body);
    refused_by_post(&idp, &browser, "/saml/sso", &changed).await;
    // Wrapped: the signed request inside another with the attacker's ACS;
    // then the signature lifted to the outer one, still naming the inner.
    let acs = format!("{}/acs", ecab.settings["base"].as_str().unwrap());
    let outer = |inner: &str, sig: &str| {
        format!(
            r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_wrap" Version="2.0" IssueInstant="{}" Destination="{}" AssertionConsumerServiceURL="{acs}"><saml:Issuer>{}</saml:Issuer>{sig}<samlp:Extensions>{inner}</samlp:Extensions></samlp:AuthnRequest>"#,
            idp::signing::tsp::rfc3339(idp::now()),
            idp.url("/saml/sso"),
            ecab.entity_id,
        )
    };
    refused_by_post(&idp, &browser, "/saml/sso", &outer(body, "")).await;
    let sig_start = body.find("<ns2:Signature").unwrap();
    let sig_end = body.find("</ns2:Signature>").unwrap() + "</ns2:Signature>".len();
    let lifted = outer(
        &format!("{}{}", &body[..sig_start], &body[sig_end..]),
        &body[sig_start..sig_end].replacen(
            "<ns2:Signature",
            "<ns2:Signature xmlns:ns2=\"http://www.w3.org/2000/09/xmldsig#\"",
            1,
        ),
    );
    refused_by_post(&idp, &browser, "/saml/sso", &lifted).await;
    // Signed by another key, which the message carries in its KeyInfo: the
    // registered certificate is the only one trusted.
    let other = tempfile::tempdir().unwrap();
    std::fs::copy(
        dir.path().join("idp-metadata.xml"),
        other.path().join("idp-metadata.xml"),
    )
    .unwrap();
    let impostor = Sp::new(other.path(), "ecabinet", &idp, true);
    assert_eq!(impostor.entity_id, ecab.entity_id);
    let forged = impostor.json("login-post", &[]);
    refused_by_post(
        &idp,
        &browser,
        "/saml/sso",
        &decode(forged["saml_request"].as_str().unwrap()),
    )
    .await;

    // The request as signed: the sign-in form, then a response whose
    // assertion only eCabinet can read.
    let r = browser
        .post(
            &idp.url("/saml/sso"),
            &[
                ("SAMLRequest", login["saml_request"].as_str().unwrap()),
                ("RelayState", "rs-post"),
            ],
        )
        .await;
    let to = browser
        .sign_in_via(&idp.base, &idp.url(&location(&r)), "tamtt", PASSWORD)
        .await;
    let (resp, relay) = post_form(&idp, &browser, &to).await;
    assert_eq!(relay.as_deref(), Some("rs-post"));
    let xml = decode(&resp);
    assert!(
        xml.contains("<saml:EncryptedAssertion xmlns:saml="),
        "{xml}"
    );
    assert!(xml.contains("xmlenc11#aes256-gcm"), "{xml}");
    assert!(
        !xml.contains("<saml:Assertion") && !xml.contains("tamtt@"),
        "{xml}"
    );
    xmlsec_verify(
        dir.path(),
        &xml,
        "urn:oasis:names:tc:SAML:2.0:protocol:Response",
    );
    let clear = xmlsec_decrypt(dir.path(), &xml, &ecab.settings["enc_key"]);
    xmlsec_verify_assertion(dir.path(), &clear);
    // The signing key does not open it: it was encrypted to the other one.
    let file = dir.path().join("wrong-key.xml");
    std::fs::write(&file, &xml).unwrap();
    let wrong = Command::new("xmlsec1")
        .args(["--decrypt", "--privkey-pem"])
        .arg(ecab.settings["key"].as_str().unwrap())
        .arg(&file)
        .output()
        .unwrap();
    assert!(!wrong.status.success());
    let v = ecab.json("acs", &[&resp, login["id"].as_str().unwrap()]);
    assert_eq!(v["name_id"], "tamtt@binhphuoc.gov.vn");
    assert_eq!(v["attributes"]["mail"][0], "tamtt@binhphuoc.gov.vn");
    let session_index = v["session_index"].as_str().unwrap().to_owned();
    // The same signed request again is a replay.
    refused_by_post(&idp, &browser, "/saml/sso", &signed).await;

    // The calendar's assertion comes in AES-128-CBC, which it reads.
    let cal = calendar.json("login", &[]);
    let r = browser.get(cal["url"].as_str().unwrap()).await;
    let (resp, _) = post_form(&idp, &browser, &location(&r)).await;
    assert!(decode(&resp).contains("xmlenc#aes128-cbc"));
    let v = calendar.json("acs", &[&resp, cal["id"].as_str().unwrap()]);
    assert_eq!(v["name_id"], "tamtt@binhphuoc.gov.vn");

    // Single logout by POST: a changed signed LogoutRequest is refused and
    // signs nobody out; the one eCabinet signed ends the session and goes
    // back with a signed LogoutResponse.
    let nameid_format = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
    let logout = ecab.json(
        "logout-post",
        &["tamtt@binhphuoc.gov.vn", nameid_format, &session_index],
    );
    let logout_xml = decode(logout["saml_request"].as_str().unwrap());
    let bad = logout_xml.replace(&session_index, "_other");
    assert_ne!(bad, logout_xml);
    refused_by_post(&idp, &browser, "/saml/slo", &bad).await;
    let r = browser
        .get(calendar.json("login", &[])["url"].as_str().unwrap())
        .await;
    assert!(
        location(&r).starts_with("/saml/post/"),
        "still signed in: {}",
        location(&r)
    );
    let r = post_binding(
        &idp,
        &browser,
        "/saml/slo",
        logout["saml_request"].as_str().unwrap(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (csp, page) = sign_out_page(&idp, &browser, &location(&r)).await;
    // The calendar takes its LogoutRequest by POST: its frame is the IdP's
    // page that posts it, signed, which pysaml2 reads.
    let frame = unescape(between(&page, "<iframe src=\"", "\""));
    assert!(frame.starts_with(&idp.url("/saml/post/")), "{page}");
    assert!(csp.contains(&format!("frame-src {}", idp.base)), "{csp}");
    let (field, value) =
        post_page(&Browser::new(), &frame, "http://127.0.0.1:9/calendar/slo").await;
    assert_eq!(field, "SAMLRequest");
    assert_eq!(
        calendar.json("slo-post", &[&value])["name_id"],
        "tamtt@binhphuoc.gov.vn"
    );
    // Then back to eCabinet with its signed LogoutResponse, by POST too.
    let next = unescape(between(&page, "data-next=\"", "\""));
    let (field, value) = post_page(&browser, &next, "http://127.0.0.1:9/ecabinet/slo").await;
    assert_eq!(field, "SAMLResponse");
    let v = ecab.json("slo-response-post", &[&value]);
    assert_eq!(v["status"], "urn:oasis:names:tc:SAML:2.0:status:Success");
    assert_eq!(v["in_response_to"], logout["id"]);
    let r = browser
        .get(calendar.json("login", &[])["url"].as_str().unwrap())
        .await;
    assert!(location(&r).starts_with("/login?req="), "{}", location(&r));

    // Each hostile message was refused for what was wrong with it.
    let why: Vec<String> = crate::harness::audit_events(&idp)
        .await
        .into_iter()
        .filter(|e| e.kind == "saml.request_refused")
        .filter_map(|e| e.detail)
        .collect();
    for reason in [
        "the XML signature: the Signature is not a child of the message",
        "the XML signature: the Reference does not name the message's ID",
        "was already answered (a replay)",
        "the LogoutRequest's signature does not verify: the XML signature:",
    ] {
        assert!(why.iter().any(|w| w.contains(reason)), "{reason}: {why:?}");
    }
    // The changed request and the impostor's: the cryptography said no.
    assert_eq!(
        why.iter()
            .filter(|w| w.starts_with("the XML signature:"))
            .count(),
        4,
        "{why:?}"
    );
}

/// The sign-out progress page the browser was sent to (`to`): its CSP and
/// its HTML.
async fn sign_out_page(idp: &Idp, browser: &Browser, to: &str) -> (String, String) {
    assert!(to.starts_with("/logout/done/"), "{to}");
    let r = browser.get(&idp.url(to)).await;
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    (csp, r.text().await.unwrap())
}

/// The IdP's POST page at `url`: it posts to `action`, may be framed by
/// the IdP's own pages only; (field, value) of the message it carries.
async fn post_page(browser: &Browser, url: &str, action: &str) -> (String, String) {
    let r = browser.get(url).await;
    assert_eq!(r.status(), StatusCode::OK, "{url}");
    assert_eq!(r.headers()["x-frame-options"], "SAMEORIGIN");
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!("action=\"{action}\"")), "{html}");
    for field in ["SAMLRequest", "SAMLResponse"] {
        if let Some(v) = hidden(&html, field) {
            return (field.to_owned(), v);
        }
    }
    panic!("no SAML message in {html}");
}
