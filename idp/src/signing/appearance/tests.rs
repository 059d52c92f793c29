use image::ImageEncoder;

use super::*;

fn png(w: u32, h: u32, opaque: bool) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(w, h, |x, y| {
        let ink = (x + y) % 7 == 0;
        let a = if opaque || ink { 255 } else { 0 };
        image::Rgba([0, 0, if ink { 200 } else { 255 }, a])
    });
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgba8)
        .unwrap();
    out
}

fn texts(a: &str, b: &str) -> Vec<String> {
    vec![
        clean_text(a, "name").unwrap(),
        clean_text(b, "title").unwrap(),
    ]
}

fn inside(f: Frame, w: f64, h: f64) -> bool {
    f.x >= -1e-9 && f.y >= -1e-9 && f.x + f.w <= w + 1e-9 && f.y + f.h <= h + 1e-9
}

#[test]
fn text_is_normalised_cleaned_and_capped() {
    // "Trương" typed with combining marks comes out precomposed.
    let decomposed = "Tru\u{031b}o\u{031b}ng  Tha\u{0300}nh\tTa\u{0302}m\n";
    assert_eq!(clean_text(decomposed, "name").unwrap(), "Trương Thành Tâm");
    assert_eq!(
        clean_text("\u{7}Phó\u{0}Chủ tịch ", "title").unwrap(),
        "Phó Chủ tịch"
    );
    assert_eq!(clean_text("   ", "title").unwrap(), "");
    let long = "ắ".repeat(MAX_TEXT_CHARS + 1);
    assert!(matches!(
        clean_text(&long, "name"),
        Err(AppearanceError::TextTooLong("name"))
    ));
    assert!(clean_text(&"ắ".repeat(MAX_TEXT_CHARS), "name").is_ok());
    assert!(matches!(
        clean_text(&"a".repeat(10_000), "title"),
        Err(AppearanceError::TextTooLong("title"))
    ));
    // 200 letters typed decomposed (e + two combining marks each) pass.
    let decomposed = "e\u{0302}\u{0323}".repeat(MAX_TEXT_CHARS);
    assert_eq!(
        clean_text(&decomposed, "name").unwrap(),
        "ệ".repeat(MAX_TEXT_CHARS)
    );
}

#[test]
fn signing_time_is_iso_8601_in_vietnam_time() {
    let t = time::Date::from_calendar_date(2026, time::Month::December, 1)
        .unwrap()
        .with_hms(6, 5, 9)
        .unwrap()
        .assume_utc()
        .unix_timestamp();
    assert_eq!(vietnam_time(t), "2026-12-01T13:05:09+07:00");
    // Past midnight in Vietnam while still the day before in UTC.
    assert_eq!(vietnam_time(t + 11 * 3600), "2026-12-02T00:05:09+07:00");
}

#[test]
fn personal_layout_puts_the_image_above_the_name_and_title() {
    let font = Font::noto_sans().unwrap();
    let t = texts("Trương Thành Tâm", "Phó Chủ tịch Ủy ban nhân dân");
    let l = layout(&font, false, &t, Some((400, 160)), 180.0, 70.0);
    let img = l.image.unwrap();
    assert!(inside(img, 180.0, 70.0), "{img:?}");
    // Aspect ratio kept.
    assert!((img.w / img.h - 400.0 / 160.0).abs() < 1e-6);
    assert_eq!(l.lines.len(), 2, "{:?}", l.lines);
    assert_eq!(l.lines[0].text, "Trương Thành Tâm");
    assert_eq!(l.lines[1].text, "Phó Chủ tịch Ủy ban nhân dân");
    for line in &l.lines {
        assert!(line.size <= 10.0 && line.size >= 4.0);
        assert!(line.x >= 0.0 && line.x + line.width <= 180.0, "{line:?}");
        // The text's top (with marks) stays under the image.
        assert!(
            line.y + line.size * ASCENT <= img.y + 1e-6,
            "{line:?} {img:?}"
        );
        assert!(line.y - line.size * 0.3 >= 0.0, "{line:?}");
    }
    // Centred: both lines share a centre.
    let centre = |l: &Line| l.x + l.width / 2.0;
    assert!((centre(&l.lines[0]) - centre(&l.lines[1])).abs() < 1e-6);
}

#[test]
fn a_long_low_box_puts_the_text_beside_the_image() {
    let font = Font::noto_sans().unwrap();
    let t = texts("Trương Thành Tâm", "Phó Chủ tịch");
    let l = layout(&font, false, &t, Some((300, 100)), 320.0, 60.0);
    let img = l.image.unwrap();
    assert!(img.x + img.w <= 320.0 * 0.4);
    for line in &l.lines {
        assert!(line.x >= 320.0 * 0.4, "{line:?}");
        assert!(line.x + line.width <= 320.0, "{line:?}");
    }
}

#[test]
fn long_text_shrinks_and_wraps_inside_the_box() {
    let font = Font::noto_sans().unwrap();
    let t = texts(
        "Nguyễn Thị Phương Thảo Trương Thành Tâm Đặng Hữu Nghĩa",
        "Phó Chủ tịch Ủy ban nhân dân tỉnh Bình Phước kiêm Giám đốc Sở Thông tin và Truyền thông",
    );
    let l = layout(&font, false, &t, None, 120.0, 50.0);
    assert!(l.lines.len() > 2, "wrapped: {:?}", l.lines);
    let size = l.lines[0].size;
    assert!(size < 10.0, "shrunk: {size}");
    let mut last_y = f64::INFINITY;
    for line in &l.lines {
        assert!(
            line.x >= 0.0 && line.x + line.width <= 120.0 + 1e-6,
            "{line:?}"
        );
        assert!(line.y < last_y);
        last_y = line.y;
        assert!(line.y - line.size * 0.3 >= 0.0, "{line:?}");
    }
    // A word too long for any line is cut rather than overflowing.
    let t = texts(&"Ư".repeat(150), "");
    let l = layout(&font, false, &t, None, 60.0, 40.0);
    assert!(!l.lines.is_empty());
    for line in &l.lines {
        assert!(line.x + line.width <= 60.0 + 1e-6, "{line:?}");
        assert_eq!(line.size, MIN_FONT_SIZE);
    }
}

#[test]
fn the_seal_covers_the_left_third_below_and_the_text_the_band_above() {
    let font = Font::noto_sans().unwrap();
    let t = vec![
        "Ủy ban nhân dân tỉnh Bình Phước".to_owned(),
        format!("Thời gian ký: {}", vietnam_time(1_796_101_509)),
    ];
    // 180 × 105: an official's 180 × 70 signature and the band above it.
    let l = layout(&font, true, &t, Some((300, 300)), 180.0, 105.0);
    let seal = l.image.unwrap();
    assert!(seal.x >= 0.0 && seal.x + seal.w <= 60.0 + 1e-9, "{seal:?}");
    assert!(seal.y >= 0.0 && seal.y + seal.h <= 70.0 + 1e-9, "{seal:?}");
    assert!(
        (seal.w - 60.0).abs() < 1e-6,
        "as wide as the third: {seal:?}"
    );
    assert!(l.lines.len() >= 2);
    for line in &l.lines {
        assert!(line.y >= 70.0, "in the band above: {line:?}");
        assert!(line.x + line.width <= 180.0, "{line:?}");
    }
    // The time is never cut in two.
    let joined: Vec<&str> = l.lines.iter().map(|l| l.text.as_str()).collect();
    assert!(
        joined
            .iter()
            .any(|l| l.contains(&vietnam_time(1_796_101_509))),
        "{joined:?}"
    );
}

fn dict_of(obj: &Object) -> &Dictionary {
    match obj {
        Object::Stream(s) => &s.dict,
        Object::Dictionary(d) => d,
        _ => panic!("{obj:?}"),
    }
}

#[test]
fn render_makes_a_form_with_its_image_mask_and_font() {
    let a = Appearance::Personal {
        name: "Trương Thành Tâm".into(),
        title: Some("Phó Chủ tịch".into()),
        image: Some(png(600, 200, false)),
    };
    let objects = render(&a, 180.0, 70.0, 0, 0, 40).unwrap();
    let ids: Vec<u32> = objects.iter().map(|(id, _)| id.0).collect();
    assert_eq!(ids, (40..40 + ids.len() as u32).collect::<Vec<_>>());
    // Form, image, mask, and the five font objects.
    assert_eq!(objects.len(), 8);
    let form = dict_of(&objects[0].1);
    assert_eq!(form.get(b"Subtype").unwrap().as_name().unwrap(), b"Form");
    let bbox: Vec<f32> = form
        .get(b"BBox")
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_float().unwrap())
        .collect();
    assert_eq!(bbox, [0.0, 0.0, 180.0, 70.0]);
    assert!(form.get(b"Matrix").is_err(), "an unturned page needs none");
    let res = form.get(b"Resources").unwrap().as_dict().unwrap();
    let im = res.get(b"XObject").unwrap().as_dict().unwrap();
    assert_eq!(im.get(b"Im0").unwrap().as_reference().unwrap(), (41, 0));
    let image = dict_of(&objects[1].1);
    assert_eq!(
        image.get(b"SMask").unwrap().as_reference().unwrap(),
        (42, 0)
    );
    assert_eq!(
        image.get(b"ColorSpace").unwrap().as_name().unwrap(),
        b"DeviceRGB"
    );
    // Scaled down to at most 4 pixels a point of the drawn size.
    let w = image.get(b"Width").unwrap().as_i64().unwrap();
    assert!(w < 600 && w > 100, "{w}");
    let fonts = res.get(b"Font").unwrap().as_dict().unwrap();
    let f0 = fonts.get(b"F0").unwrap().as_reference().unwrap();
    assert_eq!(f0, (43, 0));
    assert_eq!(
        dict_of(&objects[3].1)
            .get(b"Subtype")
            .unwrap()
            .as_name()
            .unwrap(),
        b"Type0"
    );
    let Object::Stream(s) = &objects[0].1 else {
        panic!()
    };
    let content = String::from_utf8(s.content.clone()).unwrap();
    assert!(content.contains("/Im0 Do"), "{content}");
    assert_eq!(content.matches(" Tj").count(), 2, "{content}");

    // An opaque image needs no mask; a turned page gets a /Matrix.
    let a = Appearance::Organization {
        office: "Ủy ban nhân dân tỉnh Bình Phước".into(),
        seal: png(200, 200, true),
    };
    let objects = render(&a, 70.0, 180.0, 90, 0, 1).unwrap();
    assert_eq!(objects.len(), 7);
    assert!(dict_of(&objects[1].1).get(b"SMask").is_err());
    let m = dict_of(&objects[0].1)
        .get(b"Matrix")
        .unwrap()
        .as_array()
        .unwrap();
    assert_eq!(m[4].as_float().unwrap(), 180.0);
}

#[test]
fn render_refuses_bad_images_and_overlong_text() {
    let bad = |image: Vec<u8>| {
        render(
            &Appearance::Personal {
                name: "A".into(),
                title: None,
                image: Some(image),
            },
            180.0,
            70.0,
            0,
            0,
            1,
        )
        .unwrap_err()
    };
    let e = bad(b"GIF89a....".to_vec());
    assert!(
        e.to_string().contains("signature image: not a PNG or JPEG"),
        "{e}"
    );
    let e = bad(png(2500, 100, false));
    assert!(e.to_string().contains("larger than"), "{e}");
    let whole = png(300, 100, false);
    let e = bad(whole[..whole.len() / 2].to_vec());
    assert!(e.to_string().contains("cannot be decoded"), "{e}");
    let e = render(
        &Appearance::Organization {
            office: "x".repeat(MAX_TEXT_CHARS + 1),
            seal: png(100, 100, false),
        },
        180.0,
        70.0,
        0,
        0,
        1,
    )
    .unwrap_err();
    assert!(e.to_string().contains("office name is longer"), "{e}");
    let e = render(
        &Appearance::Organization {
            office: "UBND".into(),
            seal: b"not an image".to_vec(),
        },
        180.0,
        70.0,
        0,
        0,
        1,
    )
    .unwrap_err();
    assert!(e.to_string().contains("the seal image"), "{e}");
}

#[test]
fn images_are_not_printed_in_debug_output() {
    let a = Appearance::Personal {
        name: "A".into(),
        title: None,
        image: Some(vec![7; 100_000]),
    };
    let shown = format!("{a:?}");
    assert!(shown.contains("image_bytes: Some(100000)"), "{shown}");
    assert!(shown.len() < 200, "{shown}");
}

#[test]
fn common_names_come_out_of_subjects() {
    assert_eq!(
        common_name("CN=dangnhap test signing key — NOT LEGALLY VALID,O=dangnhap"),
        "dangnhap test signing key — NOT LEGALLY VALID"
    );
    assert_eq!(common_name("O=x, CN=Trương Thành Tâm"), "Trương Thành Tâm");
    assert_eq!(common_name("O=x"), "O=x");
}

#[test]
fn an_appearance_alone_goes_to_the_default_place_with_the_certificates_name() {
    let subject = "CN=Trương Thành Tâm,O=UBND";
    assert_eq!(visible(None, None, subject), (None, None));
    let bare = Appearance::Personal {
        name: " ".into(),
        title: Some("Phó Chủ tịch".into()),
        image: None,
    };
    let (position, shown) = visible(None, Some(&bare), subject);
    assert_eq!(
        position,
        Some(Position::Default {
            page: SignaturePage::Last,
            place: SignaturePlace::BottomRight,
        })
    );
    assert_eq!(
        shown,
        Some(Appearance::Personal {
            name: "Trương Thành Tâm".into(),
            title: Some("Phó Chủ tịch".into()),
            image: None,
        })
    );
    // A placement given is kept; a named appearance is left as it is.
    let at = Position::Default {
        page: SignaturePage::First,
        place: SignaturePlace::TopLeft,
    };
    let named = Appearance::Organization {
        office: "UBND".into(),
        seal: vec![1],
    };
    assert_eq!(
        visible(Some(at), Some(&named), subject),
        (Some(at), Some(named))
    );
}
