//! An older app behind Apache's `mod_auth_mellon` (Debian's
//! libapache2-mod-auth-mellon, on lasso and xmlsec), unchanged, signing in
//! through the IdP by SAML 2.0: registered from the metadata mellon serves
//! (fetched by `idp saml sp add --metadata URL`), it sends a signed
//! AuthnRequest by HTTP-Redirect, decrypts the encrypted assertion and
//! checks the signed response the browser brings to its ACS, and shows the
//! page to the person the IdP names. The same response brought again, or
//! changed, opens nothing.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use reqwest::StatusCode;

use crate::browser::{Browser, hidden, location};
use crate::harness::apache::Apache;
use crate::harness::{Backends, Idp, PASSWORD, audit_events};

#[tokio::test]
async fn apache_mod_auth_mellon_shows_its_page_to_the_person_signed_in_and_to_no_one_else() {
    let idp = Idp::spawn(&Backends::default());
    idp.add_person();
    let metadata = reqwest::get(idp.url("/saml/metadata"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let apache = tokio::task::spawn_blocking(move || Apache::with_mellon(&metadata))
        .await
        .unwrap();
    let sp_metadata = format!("{}/mellon/metadata", apache.base);
    idp.cli_ok(
        &[
            "saml",
            "sp",
            "add",
            "--metadata",
            &sp_metadata,
            "--name",
            "Một cửa (mellon)",
        ],
        None,
    );

    // Not signed in at the app: mellon sends the browser to the IdP with a
    // signed AuthnRequest.
    let browser = Browser::new();
    let r = browser.get(&apache.page_url).await;
    assert!(r.status().is_redirection(), "{}", apache.log());
    let r = browser.get(&location(&r)).await;
    let status = r.status();
    let sso = match r.headers().get("location") {
        Some(l) => l.to_str().unwrap().to_owned(),
        None => panic!("{status} {}\n{}", r.text().await.unwrap(), apache.log()),
    };
    assert!(sso.starts_with(&idp.url("/saml/sso?SAMLRequest=")), "{sso}");
    assert!(
        sso.contains("&Signature="),
        "mellon signs its requests: {sso}"
    );
    let to = browser
        .sign_in_via(&idp.base, &sso, "tamtt", PASSWORD)
        .await;
    assert!(to.starts_with("/saml/post/"), "{to}");
    let html = browser.get(&idp.url(&to)).await.text().await.unwrap();
    let action = format!("{}/mellon/postResponse", apache.base);
    assert!(html.contains(&format!(r#"action="{action}""#)), "{html}");
    let response = hidden(&html, "SAMLResponse").unwrap();
    let relay = hidden(&html, "RelayState")
        .unwrap()
        .replace("&#38;", "&")
        .replace("&amp;", "&");

    // The browser posts the response to mellon, which checks it and lets
    // the person in.
    let fields = [
        ("SAMLResponse", response.as_str()),
        ("RelayState", relay.as_str()),
    ];
    let r = browser.post(&action, &fields).await;
    assert!(r.status().is_redirection(), "{}", apache.log());
    let r = browser.get(&apache.page_url).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", apache.log());
    let page = r.text().await.unwrap();
    assert!(page.contains("Onewin: tamtt@binhphuoc.gov.vn"), "{page}");

    // Mellon's metadata gives an encryption key: the assertion came
    // encrypted (AES-256-GCM), and lasso decrypted it.
    let xml = String::from_utf8(B64.decode(&response).unwrap()).unwrap();
    assert!(
        xml.contains("<saml:EncryptedAssertion xmlns:saml="),
        "{xml}"
    );
    assert!(!xml.contains("tamtt@"), "{xml}");

    // The same response in another browser (a replay), and one with the
    // encrypted assertion changed (the response's signature broken):
    // mellon lets nobody in.
    let at = xml.rfind("<xenc:CipherValue>").unwrap() + "<xenc:CipherValue>".len();
    let flipped = if xml[at..].starts_with('A') { "B" } else { "A" };
    let forged = B64.encode(format!("{}{flipped}{}", &xml[..at], &xml[at + 1..]));
    for resp in [response.as_str(), forged.as_str()] {
        let stranger = Browser::new();
        let r = stranger
            .post(
                &action,
                &[("SAMLResponse", resp), ("RelayState", relay.as_str())],
            )
            .await;
        assert!(!r.status().is_success() || !r.text().await.unwrap().contains("Onewin:"));
        let r = stranger.get(&apache.page_url).await;
        assert!(r.status().is_redirection(), "still not signed in");
    }
    let kinds: Vec<String> = audit_events(&idp)
        .await
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(
        kinds.iter().any(|k| k == "saml.response_issued"),
        "{kinds:?}"
    );
    assert!(
        kinds.iter().any(|k| k == "admin.saml_sp_added"),
        "{kinds:?}"
    );
}
