//! The Unicode font of visible signatures: Noto Sans Regular (SIL OFL 1.1,
//! `idp/assets/fonts/OFL.txt`), embedded in the binary, measured with
//! `ttf-parser`, cut down per signature to the glyphs it draws with
//! `subsetter`, and written as a Type0 font over a CIDFontType2 with
//! Identity-H, /W widths and a /ToUnicode CMap (ISO 32000-1 §9.7.4, §9.7.5,
//! §9.10.3), so that readers both draw the Vietnamese letters and extract
//! them back as text.
//!
//! Text is NFC-normalised before it gets here (the caller's job): Vietnamese
//! precomposed letters (ệ, ữ, Ủ) each have a glyph of their own in Noto Sans,
//! so one character is one glyph and no shaping is needed.

use std::collections::BTreeMap;

use lopdf::{Dictionary, Object, ObjectId, Stream};
use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId};
use unicode_normalization::UnicodeNormalization;

/// The font file, as Debian's fonts-noto-core ships it.
pub const NOTO_SANS: &[u8] = include_bytes!("../../assets/fonts/NotoSans-Regular.ttf");

/// Its PostScript name, prefixed with the subset tag in the PDF.
const FONT_NAME: &str = "NotoSans-Regular";

#[derive(Debug, thiserror::Error)]
#[error("the embedded font: {0}")]
pub struct FontError(String);

/// The font, parsed (a parse reads only the table directory).
pub struct Font {
    face: Face<'static>,
    units_per_em: f64,
}

/// One drawn glyph: its id in the whole font and the character it shows
/// (what the /ToUnicode map gives back).
pub type Glyph = (u16, char);

impl Font {
    pub fn noto_sans() -> Result<Font, FontError> {
        let face = Face::parse(NOTO_SANS, 0).map_err(|e| FontError(e.to_string()))?;
        let units_per_em = f64::from(face.units_per_em().max(1));
        Ok(Font { face, units_per_em })
    }

    /// The glyph for `c`; a letter the font lacks falls back to its base
    /// letter without marks, anything else to `?`, so text never vanishes.
    pub fn glyph(&self, c: char) -> Glyph {
        if let Some(g) = self.face.glyph_index(c) {
            return (g.0, c);
        }
        if let Some(base) = c.to_string().nfd().next().filter(|b| *b != c)
            && let Some(g) = self.face.glyph_index(base)
        {
            return (g.0, base);
        }
        let q = self.face.glyph_index('?').map_or(0, |g| g.0);
        (q, '?')
    }

    pub fn shape(&self, text: &str) -> Vec<Glyph> {
        text.chars().map(|c| self.glyph(c)).collect()
    }

    /// Advance width of a glyph in thousandths of the font size.
    pub fn advance(&self, gid: u16) -> f64 {
        let units = self.face.glyph_hor_advance(GlyphId(gid)).unwrap_or(0);
        f64::from(units) * 1000.0 / self.units_per_em
    }

    /// Width of a run of glyphs in thousandths of the font size.
    pub fn width(&self, glyphs: &[Glyph]) -> f64 {
        glyphs.iter().map(|(g, _)| self.advance(*g)).sum()
    }

    fn scaled(&self, units: i16) -> i64 {
        (f64::from(units) * 1000.0 / self.units_per_em).round() as i64
    }
}

/// The glyphs one signature draws, numbered afresh as the subset numbers
/// them (glyph 0, .notdef, always included).
pub struct Subset {
    remapper: GlyphRemapper,
    text: BTreeMap<u16, char>,
}

impl Default for Subset {
    fn default() -> Self {
        Subset {
            remapper: GlyphRemapper::new(),
            text: BTreeMap::new(),
        }
    }
}

impl Subset {
    /// Adds the glyphs and returns them as an Identity-H string: the new
    /// glyph ids, two bytes each, in hex (`<0001000A>`). A mapping once made
    /// never changes, so strings encoded early stay right.
    pub fn encode(&mut self, glyphs: &[Glyph]) -> String {
        let mut hex = String::with_capacity(2 + 4 * glyphs.len());
        hex.push('<');
        for &(gid, c) in glyphs {
            let new = self.remapper.remap(gid);
            // The first character drawn with a glyph is the one it gives back.
            self.text.entry(new).or_insert(c);
            hex.push_str(&format!("{new:04X}"));
        }
        hex.push('>');
        hex
    }

    /// The font's objects, numbered from `first`: the Type0 font (at
    /// `first`, the one a /Font resource points at), its CIDFont, descriptor,
    /// font file and ToUnicode map.
    pub fn objects(&self, font: &Font, first: u32) -> Result<Vec<(ObjectId, Object)>, FontError> {
        let (type0_id, cid_id, descriptor_id, file_id, cmap_id) = (
            (first, 0),
            (first + 1, 0),
            (first + 2, 0),
            (first + 3, 0),
            (first + 4, 0),
        );
        let data = subsetter::subset(NOTO_SANS, 0, &self.remapper)
            .map_err(|e| FontError(e.to_string()))?;
        let base_font = format!("{}+{FONT_NAME}", subset_tag(&data));

        let widths: Vec<Object> = self
            .remapper
            .remapped_gids()
            .map(|old| Object::Integer(font.advance(old).round() as i64))
            .collect();

        let mut type0 = Dictionary::new();
        type0.set("Type", name("Font"));
        type0.set("Subtype", name("Type0"));
        type0.set("BaseFont", name(&base_font));
        type0.set("Encoding", name("Identity-H"));
        type0.set("DescendantFonts", Object::Array(vec![cid_id.into()]));
        type0.set("ToUnicode", Object::Reference(cmap_id));

        let mut system_info = Dictionary::new();
        system_info.set("Registry", Object::string_literal("Adobe"));
        system_info.set("Ordering", Object::string_literal("Identity"));
        system_info.set("Supplement", Object::Integer(0));
        let mut cid = Dictionary::new();
        cid.set("Type", name("Font"));
        cid.set("Subtype", name("CIDFontType2"));
        cid.set("BaseFont", name(&base_font));
        cid.set("CIDSystemInfo", Object::Dictionary(system_info));
        cid.set("FontDescriptor", Object::Reference(descriptor_id));
        // The subset numbers its glyphs as the CIDs of our strings.
        cid.set("CIDToGIDMap", name("Identity"));
        cid.set("DW", Object::Integer(0));
        cid.set(
            "W",
            Object::Array(vec![Object::Integer(0), Object::Array(widths)]),
        );

        let face = &font.face;
        let bbox = face.global_bounding_box();
        let mut descriptor = Dictionary::new();
        descriptor.set("Type", name("FontDescriptor"));
        descriptor.set("FontName", name(&base_font));
        // Nonsymbolic: Latin letters in the standard character set's sense.
        descriptor.set("Flags", Object::Integer(32));
        descriptor.set(
            "FontBBox",
            Object::Array(
                [bbox.x_min, bbox.y_min, bbox.x_max, bbox.y_max]
                    .into_iter()
                    .map(|v| Object::Integer(font.scaled(v)))
                    .collect(),
            ),
        );
        descriptor.set("ItalicAngle", Object::Integer(0));
        descriptor.set("Ascent", Object::Integer(font.scaled(face.ascender())));
        descriptor.set("Descent", Object::Integer(font.scaled(face.descender())));
        descriptor.set(
            "CapHeight",
            Object::Integer(font.scaled(face.capital_height().unwrap_or(face.ascender()))),
        );
        descriptor.set("StemV", Object::Integer(80));
        descriptor.set("FontFile2", Object::Reference(file_id));

        let mut file_dict = Dictionary::new();
        file_dict.set("Length1", Object::Integer(data.len() as i64));
        file_dict.set("Filter", name("FlateDecode"));
        let file = Stream::new(file_dict, super::appearance::deflate(&data));

        let cmap = Stream::new(Dictionary::new(), self.to_unicode().into_bytes());

        Ok(vec![
            (type0_id, Object::Dictionary(type0)),
            (cid_id, Object::Dictionary(cid)),
            (descriptor_id, Object::Dictionary(descriptor)),
            (file_id, Object::Stream(file)),
            (cmap_id, Object::Stream(cmap)),
        ])
    }

    /// The ToUnicode CMap (ISO 32000-1 §9.10.3): each glyph id of the subset
    /// to the UTF-16BE of its character.
    fn to_unicode(&self) -> String {
        let mut out = String::from(
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
             /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
             /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
             1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
        );
        let entries: Vec<(&u16, &char)> = self.text.iter().collect();
        // At most 100 entries per bfchar block (§9.10.3, as CMaps are limited).
        for block in entries.chunks(100) {
            out.push_str(&format!("{} beginbfchar\n", block.len()));
            for (gid, c) in block {
                let mut units = [0u16; 2];
                let utf16: String = c
                    .encode_utf16(&mut units)
                    .iter()
                    .map(|u| format!("{u:04X}"))
                    .collect();
                out.push_str(&format!("<{gid:04X}> <{utf16}>\n"));
            }
            out.push_str("endbfchar\n");
        }
        out.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
        out
    }

    /// How many glyphs the subset holds (with .notdef).
    pub fn len(&self) -> u16 {
        self.remapper.num_gids()
    }

    pub fn is_empty(&self) -> bool {
        self.len() <= 1
    }
}

fn name(n: &str) -> Object {
    Object::Name(n.as_bytes().to_vec())
}

/// Six capital letters naming the subset (ISO 32000-1 §9.6.4), derived from
/// its bytes so equal subsets get equal names.
fn subset_tag(data: &[u8]) -> String {
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    hash.as_ref()[..6]
        .iter()
        .map(|b| char::from(b'A' + b % 26))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "Trương Thành Tâm — Phó Chủ tịch Ủy ban nhân dân";

    #[test]
    fn every_vietnamese_letter_has_its_own_glyph() {
        let font = Font::noto_sans().unwrap();
        let text: String = "ĐẶNG Ủy ban nhân dân tỉnh Bình Phước — Phó Chủ tịch ỹ ự ộ ẫ"
            .nfc()
            .collect();
        for c in text.chars() {
            let (gid, shown) = font.glyph(c);
            assert_ne!(gid, 0, "{c:?} has a glyph");
            assert_eq!(shown, c, "{c:?} is drawn as itself");
        }
    }

    #[test]
    fn missing_characters_fall_back_and_are_still_drawn() {
        let font = Font::noto_sans().unwrap();
        // A CJK ideograph: not in Noto Sans.
        let (gid, shown) = font.glyph('漢');
        assert_eq!(shown, '?');
        assert_ne!(gid, 0);
        assert!(font.advance(gid) > 0.0);
    }

    #[test]
    fn the_subset_holds_the_glyphs_of_the_text_and_maps_them_back() {
        let font = Font::noto_sans().unwrap();
        let text: String = TEXT.nfc().collect();
        let glyphs = font.shape(&text);
        let mut subset = Subset::default();
        let hex = subset.encode(&glyphs);
        assert_eq!(hex.len(), 2 + 4 * text.chars().count());
        let objects = subset.objects(&font, 10).unwrap();
        assert_eq!(objects.len(), 5);
        assert_eq!(objects[0].0, (10, 0));

        // The embedded subset is a font of its own holding exactly those
        // glyphs, with the same outlines' advances as the whole font.
        let Object::Stream(file) = &objects[3].1 else {
            panic!("the font file is a stream")
        };
        let mut data = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::ZlibDecoder::new(file.content.as_slice()),
            &mut data,
        )
        .unwrap();
        assert!(data.len() < NOTO_SANS.len() / 10, "{} bytes", data.len());
        let sub = Face::parse(&data, 0).unwrap();
        let distinct: std::collections::BTreeSet<u16> = glyphs.iter().map(|g| g.0).collect();
        // Those glyphs first, then the parts composite glyphs (ư, Ủ) are built from.
        assert_eq!(usize::from(subset.len()), distinct.len() + 1);
        assert!(sub.number_of_glyphs() >= subset.len());
        assert!(usize::from(sub.number_of_glyphs()) < distinct.len() + 20);
        for (old, c) in &glyphs {
            let new = subset.remapper.get(*old).unwrap();
            assert_eq!(
                sub.glyph_hor_advance(GlyphId(new)),
                font.face.glyph_hor_advance(GlyphId(*old)),
                "{c:?}"
            );
            assert!(
                sub.glyph_bounding_box(GlyphId(new)).is_some() || c.is_whitespace(),
                "{c:?} has an outline in the subset"
            );
        }

        // Every character of the text is in the ToUnicode map.
        let Object::Stream(cmap) = &objects[4].1 else {
            panic!("the ToUnicode map is a stream")
        };
        let cmap = String::from_utf8(cmap.content.clone()).unwrap();
        for c in text.chars() {
            let mut units = [0u16; 2];
            let hex: String = c
                .encode_utf16(&mut units)
                .iter()
                .map(|u| format!("{u:04X}"))
                .collect();
            assert!(cmap.contains(&format!("> <{hex}>")), "{c:?} in {cmap}");
        }
        // Ủ (U+1EE6) is one glyph, not U followed by a combining hook.
        assert!(cmap.contains("<1EE6>"));
        let Object::Dictionary(cid) = &objects[1].1 else {
            panic!()
        };
        let w = cid.get(b"W").unwrap().as_array().unwrap();
        assert_eq!(
            w[1].as_array().unwrap().len(),
            usize::from(subset.len()),
            "a width for every glyph"
        );
    }
}
