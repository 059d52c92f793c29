//! Visible signatures through the real binary (`idp sign pdf --page --rect
//! --image --name --title --office`), judged by tools that share no code
//! with it: pdfsig, qpdf and pyHanko for validity, poppler's `pdftotext`
//! (the Vietnamese text comes back through the ToUnicode map), `pdffonts`
//! (the embedded subset) and `pdftoppm` (the pixels, compared with the
//! unsigned page). The rendered pages are written to `target/screenshots/`
//! for a person to look at.

use std::path::Path;
use std::process::Command;

use image::{ImageEncoder, RgbImage};
use serde_json::Value;

use crate::harness::audit_events;
use crate::harness::pdf::{pdfsig, pyhanko_validate, qpdf, qpdf_check, sample};
use crate::harness::screenshot_dir;
use crate::signing::Signer;

const NAME: &str = "Trương Thành Tâm";
const TITLE: &str = "Phó Chủ tịch Ủy ban nhân dân";
const OFFICE: &str = "Ủy ban nhân dân tỉnh Bình Phước";
/// Where the official signs on page 2, and where the clerk's seal goes:
/// its left third over the official's signature, as Decree 30 draws it.
const PERSONAL_RECT: [f64; 4] = [350.0, 80.0, 530.0, 150.0];
const OFFICE_RECT: [f64; 4] = [370.0, 110.0, 550.0, 180.0];
/// pdftoppm's resolution for the pixel checks.
const DPI: f64 = 50.0;

fn write_png(path: &Path, img: &image::RgbaImage) {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgba8,
        )
        .unwrap();
    std::fs::write(path, out).unwrap();
}

/// A handwritten-looking signature: a blue wave on a transparent ground.
fn signature_png(path: &Path) {
    let img = image::RgbaImage::from_fn(400, 140, |x, y| {
        let wave = 70.0 + 45.0 * (f64::from(x) / 30.0).sin() * (1.0 - f64::from(x) / 500.0);
        if (f64::from(y) - wave).abs() < 5.0 {
            image::Rgba([20, 40, 190, 255])
        } else {
            image::Rgba([0, 0, 0, 0])
        }
    });
    write_png(path, &img);
}

/// A round red seal: two rings and a star-like centre, transparent around.
pub(crate) fn seal_png(path: &Path) {
    let img = image::RgbaImage::from_fn(240, 240, |x, y| {
        let r = (f64::from(x) - 120.0).hypot(f64::from(y) - 120.0);
        if (105.0..116.0).contains(&r) || (78.0..84.0).contains(&r) || r < 26.0 {
            image::Rgba([215, 25, 35, 255])
        } else {
            image::Rgba([0, 0, 0, 0])
        }
    });
    write_png(path, &img);
}

fn rect_arg(r: [f64; 4]) -> String {
    r.map(|v| v.to_string()).join(",")
}

fn run(cmd: &str, args: &[&std::ffi::OsStr]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} (Debian poppler-utils): {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `pdftotext -raw` of one page: text in the order it is drawn, so each
/// appearance's lines come after the page's own, whole.
pub(crate) fn page_text(pdf: &Path, page: u32) -> String {
    let p = page.to_string();
    run(
        "pdftotext",
        &[
            "-raw".as_ref(),
            "-f".as_ref(),
            p.as_ref(),
            "-l".as_ref(),
            p.as_ref(),
            pdf.as_os_str(),
            "-".as_ref(),
        ],
    )
}

/// One page rendered by pdftoppm at [`DPI`], also saved as a screenshot.
pub(crate) fn render(pdf: &Path, page: u32, shot: &str) -> RgbImage {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("page");
    let p = page.to_string();
    run(
        "pdftoppm",
        &[
            "-r".as_ref(),
            DPI.to_string().as_ref(),
            "-f".as_ref(),
            p.as_ref(),
            "-l".as_ref(),
            p.as_ref(),
            "-png".as_ref(),
            "-singlefile".as_ref(),
            pdf.as_os_str(),
            prefix.as_os_str(),
        ],
    );
    let file = dir.path().join("page.png");
    std::fs::copy(&file, screenshot_dir().join(format!("{shot}.png"))).unwrap();
    image::open(&file).unwrap().into_rgb8()
}

/// The region `r` (PDF points) of one page at 200 dpi, saved as a
/// screenshot only: small text is legible there for a person.
pub(crate) fn close_up(pdf: &Path, page: u32, r: [f64; 4], page_height: f64, shot: &str) {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("close");
    let s = 200.0 / 72.0;
    let n = |v: f64| ((v * s).round() as i64).to_string();
    let p = page.to_string();
    let args = [
        "-r".to_owned(),
        "200".into(),
        "-f".into(),
        p.clone(),
        "-l".into(),
        p,
        "-x".into(),
        n(r[0]),
        "-y".into(),
        n(page_height - r[3]),
        "-W".into(),
        n(r[2] - r[0]),
        "-H".into(),
        n(r[3] - r[1]),
        "-png".into(),
        "-singlefile".into(),
    ];
    let mut all: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
    all.push(pdf.as_os_str());
    all.push(prefix.as_os_str());
    run("pdftoppm", &all);
    std::fs::copy(
        dir.path().join("close.png"),
        screenshot_dir().join(format!("{shot}.png")),
    )
    .unwrap();
}

/// A rectangle in PDF points (origin lower left) as pixel bounds of a
/// rendering of a page `page_height` points high (origin upper left).
fn pixels(r: [f64; 4], page_height: f64) -> (u32, u32, u32, u32) {
    let s = DPI / 72.0;
    (
        (r[0] * s).floor() as u32,
        ((page_height - r[3]) * s).floor() as u32,
        (r[2] * s).ceil() as u32,
        ((page_height - r[1]) * s).ceil() as u32,
    )
}

fn count(
    img: &RgbImage,
    (x1, y1, x2, y2): (u32, u32, u32, u32),
    f: impl Fn(&[u8; 3]) -> bool,
) -> usize {
    let mut n = 0;
    for y in y1..y2.min(img.height()) {
        for x in x1..x2.min(img.width()) {
            if f(&img.get_pixel(x, y).0) {
                n += 1;
            }
        }
    }
    n
}

fn blue(p: &[u8; 3]) -> bool {
    let [r, g, b] = p.map(i32::from);
    b > 120 && b > r + 60 && b > g + 40
}

fn red(p: &[u8; 3]) -> bool {
    let [r, g, b] = p.map(i32::from);
    r > 150 && r > g + 80 && r > b + 80
}

/// Both validators and qpdf on every signature of `signed`.
fn assert_valid(s: &Signer, signed: &Path, expected: usize) -> Vec<Value> {
    let text = pdfsig(signed);
    assert_eq!(
        text.matches("Signature Validation: Signature is Valid.")
            .count(),
        expected,
        "{text}"
    );
    assert!(!text.contains("Digest Mismatch"), "{text}");
    let (ok, qpdf_text) = qpdf_check(signed);
    assert!(ok, "{qpdf_text}");
    let verdicts = pyhanko_validate(signed, &[&s.root]);
    assert_eq!(verdicts.len(), expected, "{verdicts:?}");
    for v in &verdicts {
        assert_eq!(v["intact"], true, "{v}");
        assert_eq!(v["valid"], true, "{v}");
        assert_eq!(v["trusted"], true, "{v}");
    }
    verdicts
}

#[tokio::test]
async fn the_officials_signature_then_the_office_seal_are_seen_on_page_two_and_valid() {
    let s = Signer::new();
    let input = sample("ke-hoach-nhieu-trang.pdf");
    let (sig_png, seal) = (s.path("chu-ky.png"), s.path("con-dau.png"));
    signature_png(&sig_png);
    seal_png(&seal);
    let once = s.path("ky-ca-nhan.pdf");
    let twice = s.path("ky-co-quan.pdf");

    s.sign_with(
        &input,
        &once,
        &[
            "--reason",
            "Phê duyệt",
            "--page",
            "2",
            "--rect",
            &rect_arg(PERSONAL_RECT),
            "--image",
            sig_png.to_str().unwrap(),
            "--name",
            NAME,
            "--title",
            TITLE,
        ],
    );
    s.sign_with(
        &once,
        &twice,
        &[
            "--reason",
            "Ban hành",
            "--page",
            "2",
            "--rect",
            &rect_arg(OFFICE_RECT),
            "--image",
            seal.to_str().unwrap(),
            "--office",
            OFFICE,
        ],
    );
    let original = std::fs::read(&input).unwrap();
    let once_bytes = std::fs::read(&once).unwrap();
    assert!(once_bytes.starts_with(&original));
    assert!(std::fs::read(&twice).unwrap().starts_with(&once_bytes));

    assert_valid(&s, &once, 1);
    let verdicts = assert_valid(&s, &twice, 2);
    // The seal's update adds a field with its appearance: form filling to
    // pyHanko, not a change that breaks the official's signature.
    assert_eq!(
        verdicts[0]["modification_level"], "FORM_FILLING",
        "{verdicts:?}"
    );
    assert_eq!(verdicts[1]["coverage"], "ENTIRE_FILE");

    // The text comes back through the ToUnicode maps, with every mark.
    let unsigned = page_text(&input, 2);
    assert!(!unsigned.contains(NAME) && !unsigned.contains(TITLE));
    let text = page_text(&twice, 2);
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    assert!(lines.contains(&NAME), "{text}");
    assert!(lines.contains(&TITLE), "{text}");
    assert!(lines.join(" ").contains(OFFICE), "{text}");
    let time = lines
        .iter()
        .find(|l| l.ends_with("+07:00"))
        .unwrap_or_else(|| panic!("the signing time in Vietnam time: {text}"));
    let stamp = time.rsplit(' ').next().unwrap();
    assert_eq!(stamp.len(), "2026-12-01T13:05:09+07:00".len(), "{stamp}");
    assert_eq!(&stamp[10..11], "T", "{stamp}");
    assert!(
        lines.join(" ").contains(&format!("Thời gian ký: {stamp}")),
        "{text}"
    );
    // Nothing of it on the other pages.
    assert!(!page_text(&twice, 1).contains(NAME));

    // The subset of Noto Sans is embedded, with its ToUnicode map.
    let fonts = run(
        "pdffonts",
        &[
            "-f".as_ref(),
            "2".as_ref(),
            "-l".as_ref(),
            "2".as_ref(),
            twice.as_os_str(),
        ],
    );
    let noto: Vec<&str> = fonts
        .lines()
        .filter(|l| l.contains("+NotoSans-Regular"))
        .collect();
    assert_eq!(noto.len(), 2, "one subset per signature: {fonts}");
    for line in noto {
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            cols[0].find('+'),
            Some(6),
            "a six-letter subset tag: {line}"
        );
        assert_eq!(
            &cols[1..6],
            ["CID", "TrueType", "Identity-H", "yes", "yes"],
            "{line}"
        );
        assert_eq!(cols[6], "yes", "a ToUnicode map: {line}");
    }

    // The pixels: ink where the signatures are, the rest of the page as it was.
    let before = render(&input, 2, "signing-visible-0-unsigned-p2");
    let after_one = render(&once, 2, "signing-visible-1-personal-p2");
    let after = render(&twice, 2, "signing-visible-2-office-p2");
    assert_eq!(before.dimensions(), after.dimensions());
    close_up(
        &twice,
        2,
        [330.0, 60.0, 570.0, 200.0],
        792.0,
        "signing-visible-2-office-close-up",
    );
    let h = 792.0;
    let personal = pixels(PERSONAL_RECT, h);
    assert!(
        count(&after_one, personal, blue) > 50,
        "the signature's blue ink inside its rectangle"
    );
    assert_eq!(count(&before, personal, blue), 0);
    let third = pixels(
        [
            OFFICE_RECT[0],
            OFFICE_RECT[1],
            OFFICE_RECT[0] + (OFFICE_RECT[2] - OFFICE_RECT[0]) / 3.0,
            OFFICE_RECT[3],
        ],
        h,
    );
    let rest = pixels(
        [
            OFFICE_RECT[0] + (OFFICE_RECT[2] - OFFICE_RECT[0]) / 3.0 + 2.0,
            OFFICE_RECT[1],
            OFFICE_RECT[2],
            OFFICE_RECT[3],
        ],
        h,
    );
    assert!(
        count(&after, third, red) > 50,
        "the red seal over the left third"
    );
    assert_eq!(count(&after, rest, red), 0, "and only there");
    assert_eq!(count(&before, third, red), 0);
    // The text of the appearances darkens pixels the page left white.
    let white = |p: &[u8; 3]| p.iter().all(|c| *c > 245);
    assert!(count(&after, personal, white) < count(&before, personal, white));
    // Far from both rectangles (the top half of the page) nothing changed.
    let far = pixels([0.0, 420.0, 612.0, 792.0], h);
    let changed = (far.1..far.3)
        .flat_map(|y| (far.0..far.2).map(move |x| (x, y)))
        .filter(|&(x, y)| after.get_pixel(x, y) != before.get_pixel(x, y))
        .count();
    assert_eq!(changed, 0, "the page outside the signatures is unchanged");

    // Audited with the page and rectangle.
    let events = audit_events(&s.idp).await;
    let positions: Vec<Value> = events
        .iter()
        .filter(|e| e.kind == "sign.pdf_signed")
        .map(|e| {
            serde_json::from_str::<Value>(e.detail.as_deref().unwrap()).unwrap()["position"].clone()
        })
        .collect();
    assert!(
        positions.contains(&serde_json::json!({"page": 2, "rect": PERSONAL_RECT})),
        "{positions:?}"
    );
    assert!(
        positions.contains(&serde_json::json!({"page": 2, "rect": OFFICE_RECT})),
        "{positions:?}"
    );
}

#[tokio::test]
async fn without_a_position_the_image_goes_to_the_last_page_upright_even_on_a_turned_page() {
    let s = Signer::new();
    let sig_png = s.path("chu-ky.png");
    signature_png(&sig_png);
    let turned = s.path("xoay.pdf");
    qpdf(&[
        "--rotate=+90".as_ref(),
        sample("ke-hoach-1-trang.pdf").as_os_str(),
        turned.as_os_str(),
    ]);
    let signed = s.path("xoay-ky.pdf");
    s.sign_with(
        &turned,
        &signed,
        &[
            "--image",
            sig_png.to_str().unwrap(),
            "--name",
            NAME,
            "--title",
            TITLE,
        ],
    );
    assert_valid(&s, &signed, 1);
    let pages = run("pdfinfo", &[signed.as_os_str()]);
    let last: u32 = pages
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // The document's own signature block names the same person: the
    // appearance adds one more line of it.
    let names = |pdf: &Path| {
        page_text(pdf, last)
            .lines()
            .filter(|l| l.trim() == NAME)
            .count()
    };
    assert_eq!(names(&signed), names(&turned) + 1);
    // As displayed (turned: 792 wide, 612 high), the ink is in the bottom
    // right quarter, and the text reads left to right there: the name's
    // bounding box from pdftotext -bbox is wider than it is high.
    let img = render(&signed, last, "signing-visible-3-turned-default");
    let (w, h) = img.dimensions();
    assert!(w > h, "a turned page is displayed wide");
    assert!(count(&img, (w / 2, h / 2, w, h), blue) > 50);
    assert_eq!(count(&img, (0, 0, w, h / 2), blue), 0);
    assert_eq!(count(&img, (0, 0, w / 2, h), blue), 0);
    let bbox = run(
        "pdftotext",
        &[
            "-bbox".as_ref(),
            "-f".as_ref(),
            last.to_string().as_ref(),
            "-l".as_ref(),
            last.to_string().as_ref(),
            signed.as_os_str(),
            "-".as_ref(),
        ],
    );
    // The appearance is drawn after the page: its word comes last.
    let word = bbox
        .lines()
        .rfind(|l| l.contains(">Trương<"))
        .unwrap_or_else(|| panic!("{bbox}"));
    let num = |k: &str| -> f64 {
        let at = word.find(&format!("{k}=\"")).unwrap() + k.len() + 2;
        word[at..].split('"').next().unwrap().parse().unwrap()
    };
    assert!(
        num("xMax") - num("xMin") > num("yMax") - num("yMin"),
        "upright text: {word}"
    );
}

#[tokio::test]
async fn bad_placements_and_bad_images_are_clear_errors_and_leave_no_file() {
    let s = Signer::new();
    let input = sample("ke-hoach-nhieu-trang.pdf");
    let out = s.path("out.pdf");
    let good = s.path("good.png");
    signature_png(&good);
    let good = good.to_str().unwrap().to_owned();

    for (args, says) in [
        (
            vec!["--page", "2", "--rect", "1,2,3"],
            "four numbers x1,y1,x2,y2",
        ),
        (vec!["--page", "2", "--rect", "a,b,c,d"], "four numbers"),
        (
            vec!["--page", "2", "--rect", "300,80,200,150"],
            "x1 < x2 and y1 < y2",
        ),
        (
            vec!["--page", "2", "--rect", "100,150,300,150"],
            "x1 < x2 and y1 < y2",
        ),
        (
            vec!["--page", "2", "--rect", "100,100,105,103"],
            "smaller than",
        ),
        (
            vec!["--page", "2", "--rect", "500,700,700,780"],
            "the rectangle 500,700,700,780 is not inside page 2 (0,0,612,792)",
        ),
        (
            vec!["--page", "2", "--rect", "-20,10,100,80"],
            "is not inside page 2",
        ),
        (
            vec!["--page", "12", "--rect", "10,10,200,80"],
            "page 12 does not exist: the document has 9 page(s)",
        ),
        (
            vec!["--page", "0", "--rect", "10,10,200,80"],
            "page 0 does not exist",
        ),
        (vec!["--page", "2"], "--rect"),
        (vec!["--rect", "10,10,200,80"], "--page"),
        (vec!["--office", "UBND"], "--image"),
    ] {
        let stderr = s.refuse(&input, &out, &args);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }

    // Images: not an image, too many pixels, broken, too many bytes.
    let text = s.path("not-an-image.png");
    std::fs::write(&text, "<svg onload=alert(1)>").unwrap();
    let wide = s.path("wide.png");
    write_png(&wide, &image::RgbaImage::new(2100, 100));
    let whole = std::fs::read(&good).unwrap();
    let broken = s.path("broken.png");
    std::fs::write(&broken, &whole[..whole.len() / 2]).unwrap();
    let huge = s.path("huge.png");
    let mut bytes = whole.clone();
    bytes.resize(1024 * 1024 + 1, 0);
    std::fs::write(&huge, bytes).unwrap();
    for (image, says) in [
        (&text, "not a PNG or JPEG image"),
        (&wide, "2100×100 pixels is larger than 2000×1000"),
        (&broken, "the image cannot be decoded"),
        (&huge, "larger than 1048576 bytes"),
        (&s.path("missing.png"), "missing.png"),
    ] {
        for extra in [vec![], vec!["--office", OFFICE]] {
            let mut args = vec!["--image", image.to_str().unwrap()];
            args.extend(extra);
            let stderr = s.refuse(&input, &out, &args);
            assert!(stderr.contains(says), "{args:?}: {stderr}");
            assert!(
                stderr.contains(image.to_str().unwrap()),
                "names the file: {stderr}"
            );
        }
    }
    // A name over the cap.
    let long = "Nguyễn ".repeat(40);
    let stderr = s.refuse(
        &input,
        &out,
        &["--page", "2", "--rect", "10,10,200,80", "--name", &long],
    );
    assert!(
        stderr.contains("the name is longer than 200 characters"),
        "{stderr}"
    );

    let leftovers: Vec<_> = std::fs::read_dir(s.dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".png") && n != "soft-key.pem")
        .collect();
    assert!(leftovers.is_empty(), "nothing half-written: {leftovers:?}");
    // The same flags with a good image sign.
    s.sign_with(
        &input,
        &out,
        &["--page", "2", "--rect", "10,10,200,80", "--image", &good],
    );
    assert!(out.exists());
}
