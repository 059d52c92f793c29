//! What kind of image some bytes are, by their first bytes (never by the
//! file name): only PNG and JPEG are accepted for icons and logos; and
//! signature images, decoded and re-encoded so that nothing but pixels
//! (no metadata, no trailing bytes) is kept.

use std::io::Cursor;

use image::{ImageEncoder, ImageFormat, ImageReader, Limits};

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

/// Limits of a signature image.
pub const SIGNATURE_MAX_BYTES: usize = 1024 * 1024;
pub const SIGNATURE_MAX_WIDTH: u32 = 2000;
pub const SIGNATURE_MAX_HEIGHT: u32 = 1000;
pub const SIGNATURE_MIN_WIDTH: u32 = 40;
pub const SIGNATURE_MIN_HEIGHT: u32 = 20;
/// The same limits, for the texts that state them.
pub const SIGNATURE_LIMITS: portal_ui::texts::ImageLimits = portal_ui::texts::ImageLimits {
    max_bytes: SIGNATURE_MAX_BYTES,
    min_width: SIGNATURE_MIN_WIDTH,
    min_height: SIGNATURE_MIN_HEIGHT,
    max_width: SIGNATURE_MAX_WIDTH,
    max_height: SIGNATURE_MAX_HEIGHT,
};

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("not a PNG or JPEG image")]
    NotAnImage,
    #[error("larger than {SIGNATURE_MAX_BYTES} bytes")]
    TooManyBytes,
    #[error("{0}×{1} pixels is larger than {SIGNATURE_MAX_WIDTH}×{SIGNATURE_MAX_HEIGHT}")]
    TooLarge(u32, u32),
    #[error("{0}×{1} pixels is smaller than {SIGNATURE_MIN_WIDTH}×{SIGNATURE_MIN_HEIGHT}")]
    TooSmall(u32, u32),
    #[error("the image cannot be decoded: {0}")]
    Broken(String),
}

/// A signature image made safe to keep and show: checked as PNG or JPEG by
/// its bytes, within the size limits (read from the header before any pixel
/// is decoded), and re-encoded as an RGBA PNG. Returns (png, width, height).
pub fn clean_signature(bytes: &[u8]) -> Result<(Vec<u8>, u32, u32), ImageError> {
    let pixels = decode_signature(bytes)?;
    let (w, h) = pixels.dimensions();
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(pixels.as_raw(), w, h, image::ExtendedColorType::Rgba8)
        .map_err(|e| ImageError::Broken(e.to_string()))?;
    Ok((png, w, h))
}

/// The pixels of a signature (or seal) image, under the same checks as
/// [`clean_signature`]: PNG or JPEG by its bytes, the byte and pixel limits
/// read from the header before anything is decoded, allocation bounded.
pub fn decode_signature(bytes: &[u8]) -> Result<image::RgbaImage, ImageError> {
    if bytes.len() > SIGNATURE_MAX_BYTES {
        return Err(ImageError::TooManyBytes);
    }
    let format = match sniff(bytes) {
        Some("image/png") => ImageFormat::Png,
        Some(_) => ImageFormat::Jpeg,
        None => return Err(ImageError::NotAnImage),
    };
    let broken = |e: image::ImageError| ImageError::Broken(e.to_string());
    let (w, h) = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(broken)?;
    if w > SIGNATURE_MAX_WIDTH || h > SIGNATURE_MAX_HEIGHT {
        return Err(ImageError::TooLarge(w, h));
    }
    if w < SIGNATURE_MIN_WIDTH || h < SIGNATURE_MIN_HEIGHT {
        return Err(ImageError::TooSmall(w, h));
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(SIGNATURE_MAX_WIDTH);
    limits.max_image_height = Some(SIGNATURE_MAX_HEIGHT);
    limits.max_alloc = Some(64 * 1024 * 1024);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    Ok(reader.decode().map_err(broken)?.into_rgba8())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbaImage::from_fn(w, h, |x, y| {
            image::Rgba([(x % 251) as u8, (y % 241) as u8, ((x * y) % 239) as u8, 200])
        });
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgba8)
            .unwrap();
        out
    }

    /// Inserts a tEXt chunk after IHDR (as cameras and editors add metadata).
    fn with_text_chunk(png: &[u8], text: &[u8]) -> Vec<u8> {
        let ihdr_end = 8 + 4 + 4 + 13 + 4;
        let mut chunk = Vec::new();
        chunk.extend_from_slice(&u32::try_from(text.len()).unwrap().to_be_bytes());
        chunk.extend_from_slice(b"tEXt");
        chunk.extend_from_slice(text);
        let crc = crc32(&chunk[4..]);
        chunk.extend_from_slice(&crc.to_be_bytes());
        [&png[..ihdr_end], &chunk, &png[ihdr_end..]].concat()
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for b in data {
            crc ^= u32::from(*b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn signatures_are_re_encoded_without_metadata() {
        let input = with_text_chunk(&png(300, 120), b"Author\0Nguyen Van A, GPS 11.5,106.9");
        assert!(input.windows(4).any(|w| w == b"tEXt"));
        let (out, w, h) = clean_signature(&input).unwrap();
        assert_eq!((w, h), (300, 120));
        assert_eq!(sniff(&out), Some("image/png"));
        assert!(!out.windows(4).any(|w| w == b"tEXt"), "metadata is dropped");
        assert!(!out.windows(6).any(|w| w == b"Nguyen"));
        // Same pixels after the round trip.
        let a = image::load_from_memory(&input).unwrap().into_rgba8();
        let b = image::load_from_memory(&out).unwrap().into_rgba8();
        assert_eq!(a, b);
    }

    #[test]
    fn signature_limits() {
        assert_eq!(clean_signature(b"%PDF-1.4"), Err(ImageError::NotAnImage));
        assert_eq!(
            clean_signature(&png(2001, 100)),
            Err(ImageError::TooLarge(2001, 100))
        );
        assert_eq!(
            clean_signature(&png(30, 100)),
            Err(ImageError::TooSmall(30, 100))
        );
        assert_eq!(
            clean_signature(&vec![0u8; SIGNATURE_MAX_BYTES + 1]),
            Err(ImageError::TooManyBytes)
        );
        // A PNG signature with nothing valid after it.
        assert!(matches!(
            clean_signature(b"\x89PNG\r\n\x1a\ngarbage-garbage-garbage"),
            Err(ImageError::Broken(_))
        ));
        // Truncated mid-way (a half-written upload).
        let whole = png(200, 100);
        assert!(matches!(
            clean_signature(&whole[..whole.len() / 2]),
            Err(ImageError::Broken(_))
        ));
    }

    #[test]
    fn png_and_jpeg_by_their_bytes_only() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff(b"<svg onload=alert(1)>"), None);
        assert_eq!(sniff(b""), None);
    }
}
