//! Names and units compared the way people write them in a hurry: without
//! diacritics (`đ`/`Đ` as `d`), in any case, with any spacing. "Nguyễn Văn
//! Hùng", "NGUYEN VAN HUNG" and "nguyen  van hung" are one name.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The folded form: no diacritics, lower case, single spaces, trimmed.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    let push = |c: char| {
        if c.is_whitespace() {
            space = !out.is_empty();
            return;
        }
        if space {
            out.push(' ');
            space = false;
        }
        match c {
            'đ' | 'Đ' => out.push('d'),
            c if c.is_ascii() => out.push(c.to_ascii_lowercase()),
            c => out.extend(c.to_lowercase()),
        }
    };
    if text.is_ascii() {
        text.chars().for_each(push);
    } else {
        text.nfd().filter(|c| !is_combining_mark(*c)).for_each(push);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diacritics_case_and_spacing_fold_away() {
        for written in [
            "Nguyễn Văn Hùng",
            "NGUYỄN VĂN HÙNG",
            "Nguyen Van Hung",
            "  nguyen   van\thung ",
            // Decomposed, as some exports write it.
            "Nguye\u{302}\u{303}n Va\u{306}n Hu\u{300}ng",
        ] {
            assert_eq!(fold(written), "nguyen van hung", "{written:?}");
        }
    }

    #[test]
    fn d_with_stroke_is_d_and_every_vowel_loses_its_marks() {
        assert_eq!(fold("Đặng Đức Đạt"), "dang duc dat");
        assert_eq!(fold("đinh"), "dinh");
        assert_eq!(fold("Ưởng Ơn Ấu Ỷ Ỹ Ỵ Ý Ỳ"), "uong on au y y y y y");
        assert_eq!(fold("UBND thị xã Bình Long"), "ubnd thi xa binh long");
    }

    #[test]
    fn different_names_stay_different() {
        assert_ne!(fold("Trần Văn Đạt"), fold("Trần Văn Đức"));
        assert_eq!(fold(""), "");
    }
}
