//! What every handler may want from a request besides its body: the request
//! id, the language, the cookies and the client's address.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{AUTHORIZATION, COOKIE, USER_AGENT};
use axum::http::request::Parts;
use base64::Engine;
use portal_ui::Lang;

use super::cookies::LANG_COOKIE;

/// The id given to each request by the middleware; shown on error pages.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// The client's address, set by the middleware: the peer, or the address
/// trusted reverse proxies name (see `client_addr`).
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub std::net::IpAddr);

pub struct Ctx {
    pub request_id: String,
    pub lang: Lang,
    pub ip: Option<String>,
    /// The browser's `User-Agent`, cut to 200 characters (shown on the account page).
    pub user_agent: Option<String>,
    cookies: Vec<(String, String)>,
    authorization: Option<String>,
}

impl Ctx {
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `Authorization: Basic` credentials, form-url-decoded (RFC 6749 §2.3.1).
    pub fn basic(&self) -> Option<(String, String)> {
        let value = self.authorization.as_deref()?;
        let (scheme, rest) = value.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let raw = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()?;
        let raw = String::from_utf8(raw).ok()?;
        let (id, secret) = raw.split_once(':')?;
        Some((form_decode(id)?, form_decode(secret)?))
    }

    /// `Authorization: Bearer` token (RFC 6750 §2.1).
    pub fn bearer(&self) -> Option<&str> {
        let value = self.authorization.as_deref()?;
        let (scheme, rest) = value.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
    }

    /// `true` when the request tried `Authorization: Basic` (for `WWW-Authenticate`).
    pub fn tried_basic(&self) -> bool {
        self.authorization
            .as_deref()
            .is_some_and(|v| v.len() > 6 && v[..6].eq_ignore_ascii_case("basic "))
    }
}

/// Decodes `application/x-www-form-urlencoded` text: `+` is a space, `%XX` a byte.
fn form_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = (bytes.next()? as char).to_digit(16)?;
                let lo = (bytes.next()? as char).to_digit(16)?;
                out.push(u8::try_from(hi * 16 + lo).ok()?);
            }
            _ => out.push(b),
        }
    }
    String::from_utf8(out).ok()
}

fn parse_cookies(parts: &Parts) -> Vec<(String, String)> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let cookies = parse_cookies(parts);
        // Vietnamese unless the person chose English on the switch (remembered in a
        // cookie). Not Accept-Language: many office PCs run an English browser.
        let lang = cookies
            .iter()
            .find(|(n, _)| n == LANG_COOKIE)
            .and_then(|(_, v)| Lang::from_tag(v))
            .unwrap_or_default();
        Ok(Ctx {
            request_id: parts
                .extensions
                .get::<RequestId>()
                .map(|r| r.0.clone())
                .unwrap_or_default(),
            lang,
            ip: parts
                .extensions
                .get::<ClientAddr>()
                .map(|c| c.0)
                .or_else(|| {
                    parts
                        .extensions
                        .get::<ConnectInfo<SocketAddr>>()
                        .map(|c| c.0.ip())
                })
                .map(|ip| ip.to_string()),
            user_agent: parts
                .headers
                .get(USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.chars().take(200).collect()),
            authorization: parts
                .headers
                .get(AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            cookies,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding() {
        assert_eq!(form_decode("a+b%3Ac").as_deref(), Some("a b:c"));
        assert_eq!(form_decode("%E1%BA%A1").as_deref(), Some("ạ"));
        assert_eq!(form_decode("%zz"), None);
        assert_eq!(form_decode("%4"), None);
    }
}
