//! What kind of image some bytes are, by their first bytes (never by the
//! file name): only PNG and JPEG are accepted for icons and logos.

pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else {
        None
    }
}

/// Reads a PNG or JPEG of at most 256 KiB; the error says what is wrong.
pub fn read(path: &std::path::Path) -> Result<(Vec<u8>, &'static str), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() > 256 * 1024 {
        return Err(format!("{}: larger than 256 KiB", path.display()));
    }
    let kind =
        sniff(&bytes).ok_or_else(|| format!("{}: must be a PNG or JPEG image", path.display()))?;
    Ok((bytes, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_and_jpeg_by_their_bytes_only() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff(b"<svg onload=alert(1)>"), None);
        assert_eq!(sniff(b""), None);
    }
}
