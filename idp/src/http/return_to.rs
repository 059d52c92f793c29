//! "Return to" parameters (`/lang/{tag}?next=…`): the one check every page
//! uses before it redirects to a place a request named. Only a local path
//! of this IdP passes; anything else becomes `/`.
//!
//! Browsers are lenient where a naive check is strict: they drop tabs and
//! newlines inside URLs (`/\t/evil` is `//evil`), read `\` as `/`, and treat
//! `//host` as another site. So the value must be printable ASCII without
//! `\`, must not decode (percent-encoding) to anything less safe, and must
//! still be on the issuer's origin once parsed against it (WHATWG URL rules).

use url::Url;

/// Longer than any path of this IdP with its query.
const MAX_LEN: usize = 2048;

/// `raw` as a local path (normalised by the URL parser), or `/`.
pub fn local_path(issuer: &str, raw: Option<&str>) -> String {
    check(issuer, raw).unwrap_or_else(|| "/".to_owned())
}

fn check(issuer: &str, raw: Option<&str>) -> Option<String> {
    let raw = raw?;
    if raw.len() > MAX_LEN || !plain(raw) {
        return None;
    }
    // Percent-decoded (twice: a proxy or an app may decode once more), it must still be plain.
    let once = percent_decode(raw)?;
    let twice = percent_decode(&once)?;
    for s in [raw, once.as_str(), twice.as_str()] {
        if !s.starts_with('/')
            || s.starts_with("//")
            || s.contains('\\')
            || s.chars().any(char::is_control)
        {
            return None;
        }
    }
    let base = Url::parse(issuer).ok()?;
    let url = base.join(raw).ok()?;
    if url.origin() != base.origin() || !url.username().is_empty() || url.password().is_some() {
        return None;
    }
    let mut out = url.path().to_owned();
    if let Some(q) = url.query() {
        out.push('?');
        out.push_str(q);
    }
    (out.starts_with('/') && !out.starts_with("//")).then_some(out)
}

/// Printable ASCII without `\`: no spaces, controls, or characters a browser would rewrite.
fn plain(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
}

/// `%XX` decoded as bytes; `None` when the result is not UTF-8 or a `%` is not followed by two hex digits.
fn percent_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hi = (bytes.next()? as char).to_digit(16)?;
            let lo = (bytes.next()? as char).to_digit(16)?;
            out.push(u8::try_from(hi * 16 + lo).ok()?);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://dangnhap.binhphuoc.gov.vn";

    #[test]
    fn local_paths_pass() {
        for (raw, want) in [
            ("/", "/"),
            ("/login", "/login"),
            ("/login?req=abc_-123", "/login?req=abc_-123"),
            ("/account?done=saved", "/account?done=saved"),
            ("/a/../login", "/login"),
            ("/?q=v%C4%83n", "/?q=v%C4%83n"),
        ] {
            assert_eq!(local_path(ISSUER, Some(raw)), want, "{raw:?}");
            assert_eq!(local_path("http://127.0.0.1:8080", Some(raw)), want);
        }
    }

    #[test]
    fn every_way_to_another_site_is_refused() {
        let long = format!("/{}", "a".repeat(MAX_LEN));
        let attacks: &[&str] = &[
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "\t//evil.example",
            "/ /evil.example",
            "/%09/evil.example",
            "/%0a/evil.example",
            "/%0D/evil.example",
            "/%00/evil.example",
            "/%2F%2Fevil.example",
            "/%2f/evil.example",
            "/%5Cevil.example",
            "/%5c%5cevil.example",
            "/%252F/evil.example",
            "/%25%30%39/evil.example",
            "https:evil.example",
            "https://evil.example",
            "https:/evil.example",
            "http:/\\evil.example",
            "javascript:alert(1)",
            "evil.example",
            ".evil.example",
            "",
            "/\u{7f}/evil.example",
            "/\u{85}/evil.example",
            "/\u{2028}/evil.example",
            "/ｅvil",
            "/%",
            "/%zz",
            "/%C0%AF",
            &long,
        ];
        for raw in attacks {
            assert_eq!(local_path(ISSUER, Some(raw)), "/", "{raw:?}");
        }
        assert_eq!(local_path(ISSUER, None), "/");
    }
}
