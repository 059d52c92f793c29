//! What a visible signature shows (where it goes is [`super::placement`]),
//! following Decree 30/2020/NĐ-CP Appendix I:
//!
//! - the official's signature (`personal`): their signature image
//!   (transparent PNG) with their name and title (chức vụ) beside or below;
//! - the office's signature (`organization`, applied by the clerk at
//!   issuance): the red seal image over the left third, the office's name
//!   and the signing time in ISO 8601, Vietnam time (UTC+7).
//!
//! The drawing is a form XObject (ISO 32000-1 §8.10) used as the widget's
//! normal appearance (/AP /N, §12.5.5), with /BBox the rectangle's size;
//! the image an RGB image XObject with its alpha as a soft mask (§11.6.5.3);
//! text in the embedded Noto Sans ([`super::font`]). Text is NFC-normalised,
//! capped in length, wrapped and shrunk to fit; images pass the same limits
//! as the account page's signature image ([`crate::images`]).

use std::fmt;

use lopdf::{Dictionary, Object, ObjectId, Stream};
use unicode_normalization::UnicodeNormalization;

use super::font::{Font, FontError, Glyph, Subset};
use super::placement::Position;
use crate::images::{self, ImageError};
use crate::kinds::{SignaturePage, SignaturePlace};

/// The longest name, title or office name drawn, in characters.
pub const MAX_TEXT_CHARS: usize = 200;
/// Text size: Decree 30 asks for 10 pt; smaller only to fit.
const MAX_FONT_SIZE: f64 = 10.0;
const MIN_FONT_SIZE: f64 = 4.0;
/// Line height, in font sizes: room for Vietnamese letters with two marks.
const LEADING: f64 = 1.25;
/// Baseline below the top of a line, in font sizes.
const ASCENT: f64 = 0.95;
/// Inner padding of the rectangle, in points.
const PAD: f64 = 2.0;
/// Image pixels kept per point of the drawn size (288 dpi): larger images
/// are scaled down so a signature does not carry megabytes of pixels.
const PIXELS_PER_POINT: f64 = 4.0;
/// Vietnam time, UTC+7 (no daylight saving).
const VIETNAM_OFFSET_SECONDS: i32 = 7 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum AppearanceError {
    #[error("the {0} is longer than {MAX_TEXT_CHARS} characters")]
    TextTooLong(&'static str),
    #[error("the {what} image: {error}")]
    Image {
        what: &'static str,
        error: ImageError,
    },
    #[error(transparent)]
    Font(#[from] FontError),
    #[error("compressing the appearance: {0}")]
    Io(#[from] std::io::Error),
}

/// What the signature shows.
#[derive(Clone, PartialEq)]
pub enum Appearance {
    /// The official's own signature: their signature image (PNG or JPEG as
    /// the account page keeps it; none draws the text alone), name and title.
    Personal {
        name: String,
        title: Option<String>,
        image: Option<Vec<u8>>,
    },
    /// The office's signature: its red seal image (transparent PNG), its
    /// name; the signing time is the signature's own.
    Organization { office: String, seal: Vec<u8> },
}

/// Images as their size only: a request logged with `{:?}` must not
/// print a megabyte of pixels.
impl fmt::Debug for Appearance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Appearance::Personal { name, title, image } => f
                .debug_struct("Personal")
                .field("name", name)
                .field("title", title)
                .field("image_bytes", &image.as_ref().map(Vec::len))
                .finish(),
            Appearance::Organization { office, seal } => f
                .debug_struct("Organization")
                .field("office", office)
                .field("seal_bytes", &seal.len())
                .finish(),
        }
    }
}

/// What a request's placement and appearance come to: an appearance
/// without a placement goes to the account page's own default place (the
/// last page's bottom right); a personal appearance without a name shows
/// the certificate's (`signer_subject`, as `Name` displays it).
pub fn visible(
    placement: Option<Position>,
    appearance: Option<&Appearance>,
    signer_subject: &str,
) -> (Option<Position>, Option<Appearance>) {
    let position = placement.or_else(|| {
        appearance.map(|_| Position::Default {
            page: SignaturePage::Last,
            place: SignaturePlace::BottomRight,
        })
    });
    let shown = appearance.cloned().map(|a| match a {
        Appearance::Personal { name, title, image } if name.trim().is_empty() => {
            Appearance::Personal {
                name: common_name(signer_subject).to_owned(),
                title,
                image,
            }
        }
        a => a,
    });
    (position, shown)
}

/// A text from a person or the database made drawable: NFC, controls and
/// line breaks as spaces, runs of spaces as one, trimmed, capped.
pub fn clean_text(s: &str, what: &'static str) -> Result<String, AppearanceError> {
    // Bound the normalisation's work before counting characters (room for
    // text typed with combining marks, which NFC then composes).
    if s.len() > 16 * MAX_TEXT_CHARS {
        return Err(AppearanceError::TextTooLong(what));
    }
    let mut out = String::with_capacity(s.len());
    for c in s.nfc() {
        let c = if c.is_control() || c.is_whitespace() {
            ' '
        } else {
            c
        };
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        out.push(c);
    }
    let out = out.trim_end().to_owned();
    if out.chars().count() > MAX_TEXT_CHARS {
        return Err(AppearanceError::TextTooLong(what));
    }
    Ok(out)
}

/// `2026-12-01T13:05:09+07:00`: the signing time in Vietnam time.
pub fn vietnam_time(now: i64) -> String {
    let offset =
        time::UtcOffset::from_whole_seconds(VIETNAM_OFFSET_SECONDS).unwrap_or(time::UtcOffset::UTC);
    let t = time::OffsetDateTime::from_unix_timestamp(now)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(offset);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+07:00",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A box inside the appearance, in its own points (origin lower-left).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Frame {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Frame {
    /// The largest box of the aspect ratio `pw:ph` centred in `self`.
    fn fit(&self, pw: u32, ph: u32) -> Frame {
        let (pw, ph) = (f64::from(pw.max(1)), f64::from(ph.max(1)));
        let scale = (self.w / pw).min(self.h / ph).max(0.0);
        let (w, h) = (pw * scale, ph * scale);
        Frame {
            x: self.x + (self.w - w) / 2.0,
            y: self.y + (self.h - h) / 2.0,
            w,
            h,
        }
    }

    fn inset(&self, pad: f64) -> Frame {
        let pad = pad.min(self.w / 4.0).min(self.h / 4.0);
        Frame {
            x: self.x + pad,
            y: self.y + pad,
            w: self.w - 2.0 * pad,
            h: self.h - 2.0 * pad,
        }
    }
}

/// One line of text as laid out: its glyphs, baseline start and size.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub text: String,
    pub glyphs: Vec<Glyph>,
    pub x: f64,
    pub y: f64,
    pub size: f64,
    pub width: f64,
}

/// What goes where in an appearance of `w` × `h` points.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub image: Option<Frame>,
    pub lines: Vec<Line>,
}

#[derive(Clone, Copy, PartialEq)]
enum Align {
    Left,
    Center,
}

/// Paragraphs broken into lines of at most `width` points at `size`; the
/// flag says whether a word had to be cut (too long for a line by itself).
fn wrap(font: &Font, paragraphs: &[String], size: f64, width: f64) -> (Vec<String>, bool) {
    let fits = |s: &str| font.width(&font.shape(s)) * size / 1000.0 <= width;
    let mut lines = Vec::new();
    let mut cut = false;
    for paragraph in paragraphs {
        let mut line = String::new();
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            let joined = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if fits(&joined) {
                line = joined;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            if fits(word) {
                line = word.to_owned();
                continue;
            }
            // A word longer than the line: cut it where it overflows.
            cut = true;
            for c in word.chars() {
                let mut longer = line.clone();
                longer.push(c);
                if !line.is_empty() && !fits(&longer) {
                    lines.push(std::mem::take(&mut line));
                    line.push(c);
                } else {
                    line = longer;
                }
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
    }
    (lines, cut)
}

/// Lays `paragraphs` out in `frame`: the largest size from 10 pt down that
/// fits without cutting words, else the smallest size, dropping the lines
/// that do not fit. Lines are centred vertically in the frame.
fn set_text(font: &Font, paragraphs: &[String], frame: Frame, align: Align) -> Vec<Line> {
    let mut size = MAX_FONT_SIZE;
    let lines = loop {
        let (lines, cut) = wrap(font, paragraphs, size, frame.w);
        let height = lines.len() as f64 * size * LEADING;
        if (height <= frame.h && !cut) || size <= MIN_FONT_SIZE {
            break lines;
        }
        size = (size - 0.25).max(MIN_FONT_SIZE);
    };
    let room = ((frame.h / (size * LEADING)).floor() as usize).max(1);
    let lines: Vec<String> = lines.into_iter().take(room).collect();
    let height = lines.len() as f64 * size * LEADING;
    let top = frame.y + (frame.h + height) / 2.0;
    lines
        .into_iter()
        .enumerate()
        .map(|(i, text)| {
            let glyphs = font.shape(&text);
            let width = font.width(&glyphs) * size / 1000.0;
            let x = match align {
                Align::Left => frame.x,
                Align::Center => frame.x + (frame.w - width).max(0.0) / 2.0,
            };
            Line {
                text,
                glyphs,
                x,
                y: top - (i as f64) * size * LEADING - size * ASCENT,
                size,
                width,
            }
        })
        .collect()
}

/// Where the image and each line go in a `w` × `h` appearance. `texts` are
/// clean (see [`clean_text`]); `image` the pixel size of the image, if any.
pub fn layout(
    font: &Font,
    organization: bool,
    texts: &[String],
    image: Option<(u32, u32)>,
    w: f64,
    h: f64,
) -> Layout {
    let whole = Frame {
        x: 0.0,
        y: 0.0,
        w,
        h,
    };
    let texts: Vec<String> = texts.iter().filter(|t| !t.is_empty()).cloned().collect();
    if organization {
        // The office and the time in the top third; the seal over the left
        // third of the rest, which is where the official's signature is
        // when the office signs over it (placement::OverLastSignature
        // adds the top band above that signature).
        let band = h / 3.0;
        let seal = Frame {
            w: w / 3.0,
            h: h - band,
            ..whole
        };
        let text = Frame {
            y: h - band,
            h: band,
            ..whole
        }
        .inset(PAD);
        return Layout {
            image: image.map(|(pw, ph)| seal.fit(pw, ph)),
            lines: set_text(font, &texts, text, Align::Left),
        };
    }
    let inner = whole.inset(PAD);
    let Some((pw, ph)) = image else {
        return Layout {
            image: None,
            lines: set_text(font, &texts, inner, Align::Center),
        };
    };
    if texts.is_empty() {
        return Layout {
            image: Some(inner.fit(pw, ph)),
            lines: Vec::new(),
        };
    }
    if w >= 3.2 * h {
        // A long, low box: the image on the left, the text beside it.
        let split = w * 0.4;
        let left = Frame {
            w: split - PAD,
            ..inner
        };
        let right = Frame {
            x: split + PAD,
            w: inner.x + inner.w - split - PAD,
            ..inner
        };
        return Layout {
            image: Some(left.fit(pw, ph)),
            lines: set_text(font, &texts, right, Align::Left),
        };
    }
    // The image above, the text below in at most 45 % of the height.
    let band = Frame {
        h: inner.h * 0.45,
        ..inner
    };
    let lines = set_text(font, &texts, band, Align::Center);
    let used = lines
        .iter()
        .map(|l| l.size * LEADING)
        .sum::<f64>()
        .min(band.h);
    // Move the lines to the bottom of the band.
    let drop = (band.h - used) / 2.0;
    let lines = lines
        .into_iter()
        .map(|l| Line { y: l.y - drop, ..l })
        .collect();
    let above = Frame {
        y: inner.y + used + PAD,
        h: (inner.h - used - PAD).max(0.0),
        ..inner
    };
    Layout {
        image: Some(above.fit(pw, ph)),
        lines,
    }
}

/// Zlib (FlateDecode) compression of a stream's bytes.
pub(crate) fn deflate(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(data.len() / 2),
        flate2::Compression::default(),
    );
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

/// A number for a content stream: at most three decimals, no exponent.
pub(super) fn num(v: f64) -> String {
    let v = if v.is_finite() { v } else { 0.0 };
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

fn name(n: &str) -> Object {
    Object::Name(n.as_bytes().to_vec())
}

fn real(v: f64) -> Object {
    Object::Real(v as f32)
}

/// The image as an RGB image XObject with its alpha channel as a soft mask
/// (none when fully opaque), scaled down to at most [`PIXELS_PER_POINT`] per
/// point of `frame`. Returns the image and, if any, its mask.
fn image_objects(
    pixels: &image::RgbaImage,
    frame: Frame,
    mask_id: ObjectId,
) -> (Stream, Option<Stream>) {
    let (pw, ph) = pixels.dimensions();
    let max_w = ((frame.w * PIXELS_PER_POINT).ceil() as u32).max(1);
    let max_h = ((frame.h * PIXELS_PER_POINT).ceil() as u32).max(1);
    let scaled;
    let pixels = if pw > max_w || ph > max_h {
        let scale = (f64::from(max_w) / f64::from(pw)).min(f64::from(max_h) / f64::from(ph));
        let nw = ((f64::from(pw) * scale).round() as u32).max(1);
        let nh = ((f64::from(ph) * scale).round() as u32).max(1);
        scaled = image::imageops::resize(pixels, nw, nh, image::imageops::FilterType::Triangle);
        &scaled
    } else {
        pixels
    };
    let (w, h) = pixels.dimensions();
    let mut rgb = Vec::with_capacity((w * h * 3) as usize);
    let mut alpha = Vec::with_capacity((w * h) as usize);
    for p in pixels.pixels() {
        rgb.extend_from_slice(&p.0[..3]);
        alpha.push(p.0[3]);
    }
    let opaque = alpha.iter().all(|a| *a == 255);
    let image_dict = |cs: &str| {
        let mut d = Dictionary::new();
        d.set("Type", name("XObject"));
        d.set("Subtype", name("Image"));
        d.set("Width", Object::Integer(i64::from(w)));
        d.set("Height", Object::Integer(i64::from(h)));
        d.set("ColorSpace", name(cs));
        d.set("BitsPerComponent", Object::Integer(8));
        d.set("Filter", name("FlateDecode"));
        d
    };
    let mut dict = image_dict("DeviceRGB");
    if !opaque {
        dict.set("SMask", Object::Reference(mask_id));
    }
    let image = Stream::new(dict, deflate(&rgb));
    let mask = (!opaque).then(|| Stream::new(image_dict("DeviceGray"), deflate(&alpha)));
    (image, mask)
}

/// The rotation (clockwise degrees, a multiple of 90) of a page, as the
/// form's /Matrix that turns the drawing back upright, for a box of
/// `w` × `h` as displayed.
fn upright_matrix(rotate: u16, w: f64, h: f64) -> Option<[f64; 6]> {
    match rotate {
        // Displayed width w is the rectangle's height in user space.
        90 => Some([0.0, 1.0, -1.0, 0.0, h, 0.0]),
        180 => Some([-1.0, 0.0, 0.0, -1.0, w, h]),
        270 => Some([0.0, -1.0, 1.0, 0.0, 0.0, w]),
        _ => None,
    }
}

/// The appearance's objects, numbered from `first`: the form XObject first
/// (what /AP /N points at), then its image, mask and font objects. `w` ×
/// `h` is the size as displayed (for a page turned 90° or 270° the
/// rectangle's height × width); `rotate` the page's /Rotate.
pub fn render(
    appearance: &Appearance,
    w: f64,
    h: f64,
    rotate: u16,
    now: i64,
    first: u32,
) -> Result<Vec<(ObjectId, Object)>, AppearanceError> {
    let font = Font::noto_sans()?;
    let (organization, texts, image_bytes, what) = match appearance {
        Appearance::Personal { name, title, image } => (
            false,
            vec![
                clean_text(name, "name")?,
                clean_text(title.as_deref().unwrap_or(""), "title")?,
            ],
            image.as_deref(),
            "signature",
        ),
        Appearance::Organization { office, seal } => (
            true,
            vec![
                clean_text(office, "office name")?,
                format!("Thời gian ký: {}", vietnam_time(now)),
            ],
            Some(seal.as_slice()),
            "seal",
        ),
    };
    let pixels = image_bytes
        .map(images::decode_signature)
        .transpose()
        .map_err(|error| AppearanceError::Image { what, error })?;
    let plan = layout(
        &font,
        organization,
        &texts,
        pixels.as_ref().map(image::RgbaImage::dimensions),
        w,
        h,
    );

    let form_id: ObjectId = (first, 0);
    let mut next = first + 1;
    let mut objects: Vec<(ObjectId, Object)> = Vec::new();
    let mut content = String::from("q\n");
    let mut resources = Dictionary::new();

    if let (Some(pixels), Some(frame)) = (&pixels, plan.image) {
        let image_id: ObjectId = (next, 0);
        let mask_id: ObjectId = (next + 1, 0);
        let (image, mask) = image_objects(pixels, frame, mask_id);
        objects.push((image_id, Object::Stream(image)));
        next += 1;
        if let Some(mask) = mask {
            objects.push((mask_id, Object::Stream(mask)));
            next += 1;
        }
        let mut xobjects = Dictionary::new();
        xobjects.set("Im0", Object::Reference(image_id));
        resources.set("XObject", Object::Dictionary(xobjects));
        content.push_str(&format!(
            "q {} 0 0 {} {} {} cm /Im0 Do Q\n",
            num(frame.w),
            num(frame.h),
            num(frame.x),
            num(frame.y)
        ));
    }

    if !plan.lines.is_empty() {
        let mut subset = Subset::default();
        content.push_str("BT 0 g\n");
        for line in &plan.lines {
            content.push_str(&format!(
                "/F0 {} Tf 1 0 0 1 {} {} Tm {} Tj\n",
                num(line.size),
                num(line.x),
                num(line.y),
                subset.encode(&line.glyphs)
            ));
        }
        content.push_str("ET\n");
        let font_objects = subset.objects(&font, next)?;
        let mut fonts = Dictionary::new();
        fonts.set("F0", Object::Reference((next, 0)));
        resources.set("Font", Object::Dictionary(fonts));
        objects.extend(font_objects);
    }
    content.push_str("Q\n");

    let mut form = Dictionary::new();
    form.set("Type", name("XObject"));
    form.set("Subtype", name("Form"));
    form.set(
        "BBox",
        Object::Array(vec![real(0.0), real(0.0), real(w), real(h)]),
    );
    if let Some(m) = upright_matrix(rotate, w, h) {
        form.set("Matrix", Object::Array(m.into_iter().map(real).collect()));
    }
    form.set("Resources", Object::Dictionary(resources));
    objects.insert(
        0,
        (
            form_id,
            Object::Stream(Stream::new(form, content.into_bytes())),
        ),
    );
    Ok(objects)
}

/// The common name (CN) in a certificate subject as `Name` displays it
/// (`CN=…,O=…`), for an appearance when only the certificate names the
/// signer; the whole subject when it has none.
pub fn common_name(subject: &str) -> &str {
    subject
        .split(',')
        .find_map(|part| part.trim().strip_prefix("CN="))
        .unwrap_or(subject)
}

#[cfg(test)]
mod tests;
