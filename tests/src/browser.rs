//! A person's browser, as far as the sign-in needs one: a cookie jar, no
//! automatic redirects (the tests look at each), and form posts.

use reqwest::redirect::Policy;
use reqwest::{Client, Response, StatusCode};

pub struct Browser {
    pub http: Client,
}

/// The `value` of the hidden input `name` in a page.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let needle = format!(r#"name="{name}" value=""#);
    let start = html.find(&needle)? + needle.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

pub fn location(resp: &Response) -> String {
    resp.headers()
        .get("location")
        .unwrap_or_else(|| panic!("no Location in a {} response", resp.status()))
        .to_str()
        .unwrap()
        .to_owned()
}

/// The query parameter `name` of a URL.
pub fn param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

impl Default for Browser {
    fn default() -> Browser {
        Browser::new()
    }
}

impl Browser {
    pub fn new() -> Browser {
        Browser {
            http: Client::builder()
                .cookie_store(true)
                .redirect(Policy::none())
                // Under the IdP's keep-alive limit (`http.header_read_timeout_secs`,
                // 10 s): a connection it closed is never reused.
                .pool_idle_timeout(std::time::Duration::from_secs(5))
                .build()
                .unwrap(),
        }
    }

    pub async fn get(&self, url: &str) -> Response {
        self.http.get(url).send().await.unwrap()
    }

    /// A form's POST of `fields` to `url`.
    pub async fn post(&self, url: &str, fields: &[(&str, &str)]) -> Response {
        self.http.post(url).form(fields).send().await.unwrap()
    }

    /// Opens the login form at `login_url` and submits it; returns the response to the POST.
    pub async fn submit_login(
        &self,
        base: &str,
        login_url: &str,
        account: &str,
        password: &str,
    ) -> Response {
        let page = self.get(login_url).await;
        assert_eq!(page.status(), StatusCode::OK, "login page");
        let html = page.text().await.unwrap();
        let csrf = hidden(&html, "csrf").expect("csrf field");
        let mut form = vec![
            ("csrf", csrf),
            ("account", account.to_owned()),
            ("password", password.to_owned()),
        ];
        if let Some(req) = hidden(&html, "req") {
            form.push(("req", req));
        }
        self.http
            .post(format!("{base}/login"))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// Follows an authorization URL, through the sign-in form unless already
    /// signed in; returns where the IdP finally sends the browser (the app's
    /// redirect URI with the code).
    pub async fn sign_in_via(
        &self,
        base: &str,
        auth_url: &str,
        account: &str,
        password: &str,
    ) -> String {
        let resp = self.get(auth_url).await;
        assert_eq!(
            resp.status(),
            StatusCode::SEE_OTHER,
            "authorize: {}",
            resp.text().await.unwrap()
        );
        let to = location(&resp);
        if !to.starts_with("/login?req=") {
            return to;
        }
        let resp = self
            .submit_login(base, &format!("{base}{to}"), account, password)
            .await;
        assert_eq!(
            resp.status(),
            StatusCode::SEE_OTHER,
            "sign-in: {}",
            resp.text().await.unwrap()
        );
        location(&resp)
    }
}

/// A PKCE pair (verifier, S256 challenge).
pub fn pkce() -> (String, String) {
    let verifier = idp::crypto::random_token().unwrap() + "-pkce";
    let challenge = idp::crypto::sha256_b64(verifier.as_bytes());
    (verifier, challenge)
}

/// An authorization URL built by hand, for the cases a library would refuse to send.
pub fn authorize_url(
    base: &str,
    client_id: &str,
    redirect: &str,
    extra: &[(&str, &str)],
) -> String {
    let mut u = url::Url::parse(&format!("{base}/authorize")).unwrap();
    let defaults = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect),
        ("scope", "openid email profile"),
        ("state", "st-1"),
        ("nonce", "n-1"),
    ];
    // A parameter in `extra` replaces the default of that name (the IdP
    // refuses a parameter given twice).
    for (k, v) in defaults
        .iter()
        .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
    {
        u.query_pairs_mut().append_pair(k, v);
    }
    for (k, v) in extra {
        u.query_pairs_mut().append_pair(k, v);
    }
    u.to_string()
}
