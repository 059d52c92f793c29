//! Reading a source's bytes: a file, or one HTTP GET, never more than a cap,
//! with connect, read and request timeouts. Errors name the address without
//! its query or user info (a token in a URL stays out of logs and pages).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{StatusCode, Url};
use secrecy::ExposeSecret;

use super::ConnectorError;
use super::settings::SourceSettings;

/// The whole file, refused when bigger than `max` bytes (checked before
/// reading, and again while reading: a pipe or a growing file has no size).
pub(crate) async fn read_file(path: &Path, max: u64) -> Result<Vec<u8>, ConnectorError> {
    let path: PathBuf = path.to_owned();
    tokio::task::spawn_blocking(move || read_file_blocking(&path, max))
        .await
        .map_err(|e| ConnectorError::Unavailable(format!("reading the file stopped: {e}")))?
}

fn read_file_blocking(path: &Path, max: u64) -> Result<Vec<u8>, ConnectorError> {
    let unreadable = |e: std::io::Error| {
        ConnectorError::Unavailable(format!("cannot read {}: {e}", path.display()))
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let size = file.metadata().map_err(unreadable)?.len();
    if size > max {
        return Err(too_big(&path.display().to_string(), max));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > max {
        return Err(too_big(&path.display().to_string(), max));
    }
    Ok(bytes)
}

pub(crate) fn too_big(what: &str, max: u64) -> ConnectorError {
    ConnectorError::Malformed(format!(
        "{what} is larger than {max} bytes; raise `max_bytes` if it is really that big"
    ))
}

/// A parsed source URL: http or https only.
pub(crate) fn parse_url(s: &str) -> Result<Url, ConnectorError> {
    let url = Url::parse(s)
        .map_err(|e| ConnectorError::Malformed(format!("{:?} is not a URL: {e}", shown_str(s))))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ConnectorError::Malformed(format!(
            "{} is not an http or https URL",
            shown(&url)
        )));
    }
    Ok(url)
}

/// An auth header sent in the clear beyond this machine is readable on the
/// way: the admin hears of it (intranet apps without TLS exist).
pub(crate) fn warn_plain_http(url: &Url, settings: &SourceSettings) {
    let host = url.host_str().unwrap_or("");
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if settings.auth_header.is_some() && url.scheme() == "http" && !loopback {
        tracing::warn!(url = %shown(url), "the auth header of a legacy source goes over plain http");
    }
}

/// The address as errors show it: no user info, no query, no fragment.
pub(crate) fn shown(url: &Url) -> String {
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!(
        "{}://{}{port}{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.path()
    )
}

fn shown_str(s: &str) -> &str {
    let end = s.find(['?', '#']).unwrap_or(s.len());
    &s[..end.min(200)]
}

/// One HTTP client with a source's timeouts and auth header.
pub(crate) struct Http {
    client: reqwest::Client,
    auth: Option<(HeaderName, HeaderValue)>,
    read_timeout_secs: u64,
    request_timeout_secs: u64,
}

impl Http {
    pub fn new(settings: &SourceSettings) -> Result<Http, ConnectorError> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(settings.connect_timeout_secs))
            .read_timeout(Duration::from_secs(settings.read_timeout_secs))
            .timeout(Duration::from_secs(settings.request_timeout_secs))
            // A redirect could carry the auth header elsewhere: configure the final address.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| {
                ConnectorError::Unavailable(format!("cannot start an HTTP client: {e}"))
            })?;
        let auth = match &settings.auth_header {
            None => None,
            Some(secret) => {
                let name = HeaderName::from_bytes(settings.auth_header_name.as_bytes())
                    .map_err(|_| bad_setting("auth_header_name"))?;
                let mut value = HeaderValue::from_str(secret.expose_secret())
                    .map_err(|_| bad_setting("auth_header"))?;
                value.set_sensitive(true);
                Some((name, value))
            }
        };
        Ok(Http {
            client,
            auth,
            read_timeout_secs: settings.read_timeout_secs,
            request_timeout_secs: settings.request_timeout_secs,
        })
    }

    /// The body of a GET, at most `max` bytes (what is left of `cap`, the
    /// setting the error names, when pages share it).
    pub async fn get(&self, url: &Url, max: u64, cap: u64) -> Result<Vec<u8>, ConnectorError> {
        let at = shown(url);
        let mut request = self.client.get(url.clone());
        if let Some((name, value)) = &self.auth {
            request = request.header(name.clone(), value.clone());
        }
        let mut response = request.send().await.map_err(|e| self.failed(&at, e))?;
        let status = response.status();
        if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            return Err(ConnectorError::Unavailable(format!(
                "{at}: the server refused the credentials (HTTP {}); check `auth_header`",
                status.as_u16()
            )));
        }
        if status.is_redirection() {
            return Err(ConnectorError::Unavailable(format!(
                "{at}: redirected (HTTP {}); configure the address it redirects to",
                status.as_u16()
            )));
        }
        if !status.is_success() {
            return Err(ConnectorError::Unavailable(format!(
                "{at}: HTTP {}",
                status.as_u16()
            )));
        }
        if response.content_length().is_some_and(|n| n > max) {
            return Err(too_big(&at, cap));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.failed(&at, e))? {
            if (body.len() + chunk.len()) as u64 > max {
                return Err(too_big(&at, cap));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn failed(&self, at: &str, e: reqwest::Error) -> ConnectorError {
        let e = e.without_url();
        if e.is_timeout() {
            return ConnectorError::Unavailable(format!(
                "{at}: no answer in time (silent for {} s, or longer than {} s in all; \
                 `read_timeout_secs`, `request_timeout_secs`)",
                self.read_timeout_secs, self.request_timeout_secs
            ));
        }
        if e.is_connect() {
            return ConnectorError::Unavailable(format!("{at}: cannot connect: {e}"));
        }
        ConnectorError::Unavailable(format!("{at}: {e}"))
    }
}

fn bad_setting(field: &str) -> ConnectorError {
    ConnectorError::Malformed(format!("settings: `{field}` is not a valid HTTP header"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[tokio::test]
    async fn a_file_bigger_than_the_cap_is_refused() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&[b'x'; 2048]).unwrap();
        let e = read_file(file.path(), 1024).await.unwrap_err().to_string();
        assert!(
            e.contains("larger than 1024 bytes") && e.contains("max_bytes"),
            "{e}"
        );
        assert_eq!(read_file(file.path(), 2048).await.unwrap().len(), 2048);
    }

    #[tokio::test]
    async fn the_default_cap_refuses_a_file_over_64_mib() {
        let file = tempfile::NamedTempFile::new().unwrap();
        // Sparse: nothing is written or read, the size alone refuses it.
        file.as_file()
            .set_len(super::super::settings::DEFAULT_MAX_BYTES + 1)
            .unwrap();
        let e = read_file(file.path(), super::super::settings::DEFAULT_MAX_BYTES)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("larger than 67108864 bytes"), "{e}");
    }

    #[tokio::test]
    async fn a_stream_without_size_is_capped_while_reading() {
        // /dev/zero says its size is 0 and never ends.
        let e = read_file(Path::new("/dev/zero"), 4096).await.unwrap_err();
        assert!(e.to_string().contains("larger than 4096"), "{e}");
    }

    #[tokio::test]
    async fn a_missing_file_is_unavailable() {
        let e = read_file(Path::new("/nonexistent/accounts.csv"), 10)
            .await
            .unwrap_err();
        assert!(matches!(e, ConnectorError::Unavailable(_)), "{e}");
    }

    #[test]
    fn urls_are_shown_without_secrets_and_only_http_is_taken() {
        let url = parse_url("https://user:pw@onewin.example:8443/api/users?token=abc#x").unwrap();
        assert_eq!(shown(&url), "https://onewin.example:8443/api/users");
        assert!(parse_url("ftp://onewin.example/users").is_err());
        let e = parse_url("http://[::1/users?token=abc")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("abc"), "{e}");
    }

    #[test]
    fn an_auth_header_with_a_line_break_is_refused() {
        let settings = SourceSettings {
            auth_header: Some("Bearer a\r\nX-Evil: 1".into()),
            ..SourceSettings::default()
        };
        let e = Http::new(&settings).err().unwrap().to_string();
        assert!(e.contains("`auth_header`"), "{e}");
    }
}
