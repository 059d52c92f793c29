//! Where a visible signature goes: a page (numbered from 1) and a
//! rectangle in its user space (ISO 32000-1 §8.3.2.3), given or the
//! person's default from the account page (first or last page; a corner or
//! the centre of its top or bottom, inside the page margins of Decree
//! 30/2020/NĐ-CP), checked against the page's CropBox and MediaBox as the
//! page tree hands them down (§7.7.3.4), and turned with the page's
//! /Rotate so the default place is where the reader sees it.

use std::fmt;
use std::str::FromStr;

use lopdf::{Document, Object, ObjectId};

use super::SigningError;
use super::appearance::num;
use super::pdf::{dict, resolve};
use crate::kinds::{SignaturePage, SignaturePlace};

/// The default size of a signature, in points (about 64 × 25 mm).
pub const DEFAULT_WIDTH: f64 = 180.0;
pub const DEFAULT_HEIGHT: f64 = 70.0;
/// The smallest rectangle a visible signature may have, in points.
pub const MIN_WIDTH: f64 = 24.0;
pub const MIN_HEIGHT: f64 = 12.0;
/// Page margins of Decree 30 (top and bottom 20 mm, left 30 mm, right
/// 15 mm), in points: the default position keeps inside them.
const MARGIN_TOP: f64 = 56.7;
const MARGIN_BOTTOM: f64 = 56.7;
const MARGIN_LEFT: f64 = 85.0;
const MARGIN_RIGHT: f64 = 42.5;

#[derive(Debug, thiserror::Error)]
pub enum PlacementError {
    #[error("the rectangle must be four numbers x1,y1,x2,y2 in PDF points; got {0:?}")]
    RectSyntax(String),
    #[error("the rectangle must have x1 < x2 and y1 < y2; got {0}")]
    RectOrder(Rect),
    #[error(
        "the rectangle {rect} is {w:.0}×{h:.0} pt, smaller than {MIN_WIDTH}×{MIN_HEIGHT} pt",
        w = .0.width(),
        h = .0.height(),
        rect = .0
    )]
    RectTooSmall(Rect),
    #[error("page {page} does not exist: the document has {count} page(s), numbered from 1")]
    PageOutOfRange { page: u32, count: usize },
    #[error("the rectangle {rect} is not inside page {page} ({page_box})")]
    OutsidePage {
        rect: Rect,
        page: u32,
        page_box: Rect,
    },
}

/// A rectangle in PDF user-space points (ISO 32000-1 §7.9.5), lower-left
/// then upper-right.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    pub x1: f64,
    pub y1: f64,
    pub x2: f64,
    pub y2: f64,
}

impl Rect {
    pub fn width(&self) -> f64 {
        self.x2 - self.x1
    }

    pub fn height(&self) -> f64 {
        self.y2 - self.y1
    }

    /// Whether `self` lies inside `outer` (a hundredth of a point of slack
    /// for rounding in the numbers people type).
    pub fn is_inside(&self, outer: &Rect) -> bool {
        const SLACK: f64 = 0.01;
        self.x1 >= outer.x1 - SLACK
            && self.y1 >= outer.y1 - SLACK
            && self.x2 <= outer.x2 + SLACK
            && self.y2 <= outer.y2 + SLACK
    }

    /// The smallest rectangle holding two corners given in any order.
    pub fn from_corners(a: (f64, f64), b: (f64, f64)) -> Rect {
        Rect {
            x1: a.0.min(b.0),
            y1: a.1.min(b.1),
            x2: a.0.max(b.0),
            y2: a.1.max(b.1),
        }
    }

    pub fn to_array(self) -> [f64; 4] {
        [self.x1, self.y1, self.x2, self.y2]
    }
}

impl fmt::Display for Rect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{},{},{},{}",
            num(self.x1),
            num(self.y1),
            num(self.x2),
            num(self.y2)
        )
    }
}

/// `x1,y1,x2,y2` (spaces allowed around the numbers): finite numbers with
/// x1 < x2 and y1 < y2, at least [`MIN_WIDTH`] × [`MIN_HEIGHT`]. Whether it
/// fits the page is checked against the document.
impl FromStr for Rect {
    type Err = PlacementError;

    fn from_str(s: &str) -> Result<Rect, PlacementError> {
        let syntax = || PlacementError::RectSyntax(s.chars().take(80).collect());
        if s.len() > 200 {
            return Err(syntax());
        }
        let numbers = s
            .split(',')
            .map(|p| p.trim().parse::<f64>().ok().filter(|v| v.is_finite()))
            .collect::<Option<Vec<f64>>>()
            .ok_or_else(syntax)?;
        let [x1, y1, x2, y2] = numbers[..] else {
            return Err(syntax());
        };
        let rect = Rect { x1, y1, x2, y2 };
        if x1 >= x2 || y1 >= y2 {
            return Err(PlacementError::RectOrder(rect));
        }
        if rect.width() < MIN_WIDTH || rect.height() < MIN_HEIGHT {
            return Err(PlacementError::RectTooSmall(rect));
        }
        Ok(rect)
    }
}

/// Where a visible signature goes: a page (numbered from 1, as people and
/// the API count them) and a rectangle in that page's user space.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Placement {
    pub page: u32,
    pub rect: Rect,
}

/// A placement as asked for: exact, or the person's default from their
/// account page, resolved against the document once it is read.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Position {
    At(Placement),
    Default {
        page: SignaturePage,
        place: SignaturePlace,
    },
    /// Where the document's newest visible signature is (the office's
    /// seal goes over the official's signature, Decree 30 Appendix I), or
    /// the default when it has none.
    OverLastSignature {
        page: SignaturePage,
        place: SignaturePlace,
    },
}

/// The newest visible signature of a document: the signed signature
/// widget with a real rectangle and the highest object number (an update
/// numbers its objects after the ones before), and its page (from 1).
pub fn last_signature(doc: &Document) -> Option<Placement> {
    let mut best: Option<(ObjectId, Placement)> = None;
    for (index, page_id) in doc.page_iter().enumerate() {
        let Ok(page) = doc.get_object(page_id).and_then(Object::as_dict) else {
            continue;
        };
        let Ok(annots) = page.get(b"Annots").and_then(|a| match a {
            Object::Reference(id) => doc.get_object(*id).and_then(Object::as_array),
            other => other.as_array(),
        }) else {
            continue;
        };
        for annot in annots {
            let Ok(id) = annot.as_reference() else {
                continue;
            };
            let Ok(widget) = doc.get_object(id).and_then(Object::as_dict) else {
                continue;
            };
            let is_sig = widget.get(b"FT").and_then(Object::as_name).ok() == Some(b"Sig");
            if !is_sig || widget.get(b"V").is_err() {
                continue;
            }
            let Some(rect) = widget
                .get(b"Rect")
                .and_then(Object::as_array)
                .ok()
                .filter(|r| r.len() == 4)
                .and_then(|r| {
                    let n: Vec<f64> = r
                        .iter()
                        .filter_map(|o| match o {
                            Object::Integer(i) => Some(*i as f64),
                            // lopdf reads reals as f32: back to the hundredths written.
                            Object::Real(x) => Some((f64::from(*x) * 100.0).round() / 100.0),
                            _ => None,
                        })
                        .collect();
                    (n.len() == 4).then(|| Rect::from_corners((n[0], n[1]), (n[2], n[3])))
                })
                .filter(|r| r.width() >= MIN_WIDTH && r.height() >= MIN_HEIGHT)
            else {
                continue;
            };
            let page_no = u32::try_from(index + 1).unwrap_or(u32::MAX);
            if best.is_none_or(|(b, _)| id > b) {
                best = Some((
                    id,
                    Placement {
                        page: page_no,
                        rect,
                    },
                ));
            }
        }
    }
    best.map(|(_, p)| p)
}

/// The default place of a signature on a page (its box in user space, as
/// displayed: the caller turns it for rotated pages): [`DEFAULT_WIDTH`] ×
/// [`DEFAULT_HEIGHT`] points inside Decree 30's margins, at the chosen
/// corner or centre, on the first or the last page. A page too small for
/// that gets a signature scaled down to fit.
pub fn default_placement(
    page_count: u32,
    page_box: Rect,
    page: SignaturePage,
    place: SignaturePlace,
) -> Placement {
    let page_no = default_page(page_count, page);
    let (bw, bh) = (page_box.width(), page_box.height());
    // Margins shrink with a small page, never more than a fifth of it each.
    let left = MARGIN_LEFT.min(bw / 5.0);
    let right = MARGIN_RIGHT.min(bw / 5.0);
    let top = MARGIN_TOP.min(bh / 5.0);
    let bottom = MARGIN_BOTTOM.min(bh / 5.0);
    let scale = ((bw - left - right) / DEFAULT_WIDTH)
        .min((bh - top - bottom) / DEFAULT_HEIGHT)
        .min(1.0);
    let (w, h) = (DEFAULT_WIDTH * scale, DEFAULT_HEIGHT * scale);
    let x1 = match place {
        SignaturePlace::TopLeft | SignaturePlace::BottomLeft => page_box.x1 + left,
        SignaturePlace::TopCenter | SignaturePlace::BottomCenter => {
            page_box.x1 + left + (bw - left - right - w) / 2.0
        }
        SignaturePlace::TopRight | SignaturePlace::BottomRight => page_box.x2 - right - w,
    };
    let y1 = match place {
        SignaturePlace::TopLeft | SignaturePlace::TopCenter | SignaturePlace::TopRight => {
            page_box.y2 - top - h
        }
        _ => page_box.y1 + bottom,
    };
    Placement {
        page: page_no,
        rect: Rect {
            x1,
            y1,
            x2: x1 + w,
            y2: y1 + h,
        },
    }
}

/// The page number (from 1) a default position names.
pub fn default_page(page_count: u32, page: SignaturePage) -> u32 {
    match page {
        SignaturePage::First => 1,
        SignaturePage::Last => page_count.max(1),
    }
}

/// A rectangle given as the page is displayed (origin at the displayed
/// lower-left corner) turned back into the user space of a page whose
/// visible box is `page_box`, turned `rotate` degrees clockwise (§8.3.2.3,
/// /Rotate in Table 30).
pub fn display_to_user(rect: Rect, page_box: Rect, rotate: u16) -> Rect {
    let (x0, y0, w, h) = (
        page_box.x1,
        page_box.y1,
        page_box.width(),
        page_box.height(),
    );
    let turn = |(dx, dy): (f64, f64)| match rotate {
        90 => (x0 + w - dy, y0 + dx),
        180 => (x0 + w - dx, y0 + h - dy),
        270 => (x0 + dy, y0 + h - dx),
        _ => (x0 + dx, y0 + dy),
    };
    Rect::from_corners(turn((rect.x1, rect.y1)), turn((rect.x2, rect.y2)))
}

/// What a page shows: its visible box in user space (the CropBox within
/// the MediaBox, either inherited from the page tree) and its /Rotate
/// (clockwise degrees: 0, 90, 180 or 270).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PageGeometry {
    pub page_box: Rect,
    pub rotate: u16,
}

/// How far up the page tree an inherited attribute is looked for.
const MAX_TREE_DEPTH: usize = 32;

/// A box (an array of four numbers, direct or referenced), normalised.
fn page_box(doc: &Document, obj: &Object) -> Option<Rect> {
    let Object::Array(items) = resolve(doc, obj).ok()? else {
        return None;
    };
    let n: Vec<f64> = items
        .iter()
        .map(|o| match resolve(doc, o).ok()? {
            Object::Integer(i) => Some(*i as f64),
            Object::Real(r) => Some(f64::from(*r)),
            _ => None,
        })
        .collect::<Option<Vec<f64>>>()?;
    let [a, b, c, d] = n[..] else { return None };
    let r = Rect::from_corners((a, b), (c, d));
    (r.width() > 0.0 && r.height() > 0.0 && r.to_array().iter().all(|v| v.is_finite())).then_some(r)
}

/// The page's geometry, with the attributes it inherits (ISO 32000-1
/// §7.7.3.4). A page without a MediaBox anywhere gets US Letter, as
/// readers do.
pub fn page_geometry(doc: &Document, page_id: ObjectId) -> Result<PageGeometry, SigningError> {
    let mut media = None;
    let mut crop = None;
    let mut rotate = None;
    let mut node = doc
        .get_object(page_id)
        .and_then(Object::as_dict)
        .map_err(|_| SigningError::Malformed("the page is not a dictionary".into()))?;
    for _ in 0..MAX_TREE_DEPTH {
        if media.is_none() {
            media = node.get(b"MediaBox").ok().and_then(|o| page_box(doc, o));
        }
        if crop.is_none() {
            crop = node.get(b"CropBox").ok().and_then(|o| page_box(doc, o));
        }
        if rotate.is_none() {
            rotate = node
                .get(b"Rotate")
                .ok()
                .and_then(|o| resolve(doc, o).ok()?.as_i64().ok());
        }
        match node
            .get(b"Parent")
            .ok()
            .and_then(|p| dict(doc, p, "/Parent").ok())
        {
            Some(parent) => node = parent,
            None => break,
        }
    }
    let media = media.unwrap_or(Rect {
        x1: 0.0,
        y1: 0.0,
        x2: 612.0,
        y2: 792.0,
    });
    // What is shown is the CropBox clipped to the MediaBox.
    let shown = crop
        .map(|c| Rect {
            x1: c.x1.max(media.x1),
            y1: c.y1.max(media.y1),
            x2: c.x2.min(media.x2),
            y2: c.y2.min(media.y2),
        })
        .filter(|c| c.width() > 0.0 && c.height() > 0.0)
        .unwrap_or(media);
    let rotate = match rotate.unwrap_or(0).rem_euclid(360) {
        90 => 90,
        180 => 180,
        270 => 270,
        // Not a multiple of 90: invalid, and readers show it unturned.
        _ => 0,
    };
    Ok(PageGeometry {
        page_box: shown,
        rotate,
    })
}

/// The page, the rectangle in its user space, and its geometry, for a
/// position: an exact one is checked against the page, a default one
/// computed as the page is displayed and turned back into user space.
pub fn resolve_position(
    doc: &Document,
    position: Position,
) -> Result<(ObjectId, Placement, PageGeometry), SigningError> {
    let pages: Vec<ObjectId> = doc.page_iter().collect();
    let count = pages.len();
    let pick = |page: u32| -> Result<ObjectId, SigningError> {
        usize::try_from(page)
            .ok()
            .and_then(|p| p.checked_sub(1))
            .and_then(|i| pages.get(i).copied())
            .ok_or(SigningError::Placement(PlacementError::PageOutOfRange {
                page,
                count,
            }))
    };
    let position = match position {
        // Over the official's signature, with a band half its height above
        // it for the office's name and time (when the page has room).
        Position::OverLastSignature { page, place } => match last_signature(doc) {
            Some(p) => {
                let taller = Rect {
                    y2: p.rect.y2 + p.rect.height() / 2.0,
                    ..p.rect
                };
                let fits = pick(p.page)
                    .and_then(|id| page_geometry(doc, id))
                    .is_ok_and(|g| taller.is_inside(&g.page_box));
                Position::At(Placement {
                    rect: if fits { taller } else { p.rect },
                    ..p
                })
            }
            None => Position::Default { page, place },
        },
        other => other,
    };
    match position {
        Position::At(placement) => {
            let page_id = pick(placement.page)?;
            let geometry = page_geometry(doc, page_id)?;
            let rect = placement.rect;
            if rect.width() < MIN_WIDTH || rect.height() < MIN_HEIGHT {
                return Err(PlacementError::RectTooSmall(rect).into());
            }
            if !rect.is_inside(&geometry.page_box) {
                return Err(PlacementError::OutsidePage {
                    rect,
                    page: placement.page,
                    page_box: geometry.page_box,
                }
                .into());
            }
            Ok((page_id, placement, geometry))
        }
        Position::Default { page, place } | Position::OverLastSignature { page, place } => {
            let count32 = u32::try_from(count).unwrap_or(u32::MAX);
            let page_no = default_page(count32, page);
            let page_id = pick(page_no)?;
            let geometry = page_geometry(doc, page_id)?;
            let b = geometry.page_box;
            let (dw, dh) = match geometry.rotate {
                90 | 270 => (b.height(), b.width()),
                _ => (b.width(), b.height()),
            };
            let shown = Rect {
                x1: 0.0,
                y1: 0.0,
                x2: dw,
                y2: dh,
            };
            let on_screen = default_placement(count32, shown, page, place);
            let rect = display_to_user(on_screen.rect, b, geometry.rotate);
            Ok((
                page_id,
                Placement {
                    page: page_no,
                    rect,
                },
                geometry,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LETTER: Rect = Rect {
        x1: 0.0,
        y1: 0.0,
        x2: 612.0,
        y2: 792.0,
    };

    #[test]
    fn rectangles_parse_or_say_what_is_wrong() {
        let r: Rect = "350, 80,530.5,150".parse().unwrap();
        assert_eq!(r.to_array(), [350.0, 80.0, 530.5, 150.0]);
        assert_eq!(r.to_string(), "350,80,530.5,150");
        for bad in [
            "",
            "1,2,3",
            "1,2,3,4,5",
            "a,b,c,d",
            "1;2;3;4",
            "NaN,0,100,100",
            "0,0,inf,50",
        ] {
            let e = bad.parse::<Rect>().unwrap_err();
            assert!(matches!(e, PlacementError::RectSyntax(_)), "{bad}: {e}");
            assert!(e.to_string().contains("four numbers"), "{e}");
        }
        let e = "300,80,200,150".parse::<Rect>().unwrap_err();
        assert!(matches!(e, PlacementError::RectOrder(_)), "{e}");
        assert!(e.to_string().contains("x1 < x2"), "{e}");
        assert!(matches!(
            "100,100,100,150".parse::<Rect>(),
            Err(PlacementError::RectOrder(_))
        ));
        assert!(matches!(
            "100,150,200,100".parse::<Rect>(),
            Err(PlacementError::RectOrder(_))
        ));
        let e = "100,100,110,105".parse::<Rect>().unwrap_err();
        assert!(matches!(e, PlacementError::RectTooSmall(_)), "{e}");
        assert!(e.to_string().contains("smaller than"), "{e}");
        // A pasted megabyte is refused without being split.
        let long = "1,".repeat(100_000);
        assert!(matches!(
            long.parse::<Rect>(),
            Err(PlacementError::RectSyntax(s)) if s.len() <= 80
        ));
    }

    #[test]
    fn default_placement_keeps_decree_30_margins() {
        let p = default_placement(9, LETTER, SignaturePage::Last, SignaturePlace::BottomRight);
        assert_eq!(p.page, 9);
        assert_eq!(p.rect.x2, 612.0 - 42.5);
        assert_eq!(p.rect.y1, 56.7);
        assert!((p.rect.width() - DEFAULT_WIDTH).abs() < 1e-9);
        assert!((p.rect.height() - DEFAULT_HEIGHT).abs() < 1e-9);

        let p = default_placement(9, LETTER, SignaturePage::First, SignaturePlace::TopLeft);
        assert_eq!(p.page, 1);
        assert_eq!(p.rect.x1, 85.0);
        assert!((p.rect.y2 - (792.0 - 56.7)).abs() < 1e-9);

        let p = default_placement(1, LETTER, SignaturePage::Last, SignaturePlace::BottomCenter);
        assert_eq!(p.page, 1);
        // Centred between the left and right margins.
        assert!(((p.rect.x1 - 85.0) - (612.0 - 42.5 - p.rect.x2)).abs() < 1e-9);
        // A document said to have no page still names page 1.
        assert_eq!(
            default_placement(0, LETTER, SignaturePage::Last, SignaturePlace::TopRight).page,
            1
        );
    }

    #[test]
    fn default_placement_fits_every_page_and_place() {
        let a4 = Rect {
            x1: 0.0,
            y1: 0.0,
            x2: 595.28,
            y2: 841.89,
        };
        let offset = Rect {
            x1: -100.0,
            y1: 50.0,
            x2: 200.0,
            y2: 250.0,
        };
        let tiny = Rect {
            x1: 10.0,
            y1: 10.0,
            x2: 110.0,
            y2: 60.0,
        };
        for page_box in [LETTER, a4, offset, tiny] {
            for place in SignaturePlace::ALL {
                let p = default_placement(3, page_box, SignaturePage::Last, *place);
                assert!(
                    p.rect.is_inside(&page_box),
                    "{place} on {page_box}: {}",
                    p.rect
                );
                assert!(p.rect.width() > 0.0 && p.rect.height() > 0.0);
                // Aspect ratio kept when scaled down for a small page.
                let ratio = p.rect.width() / p.rect.height();
                assert!((ratio - DEFAULT_WIDTH / DEFAULT_HEIGHT).abs() < 1e-9);
            }
        }
        let small = default_placement(1, tiny, SignaturePage::First, SignaturePlace::TopCenter);
        assert!(small.rect.width() < DEFAULT_WIDTH);
    }

    #[test]
    fn displayed_rectangles_turn_back_into_user_space() {
        let r = Rect {
            x1: 10.0,
            y1: 20.0,
            x2: 110.0,
            y2: 60.0,
        };
        assert_eq!(display_to_user(r, LETTER, 0), r);
        // Turned 90° clockwise, the displayed bottom-left corner is the user
        // space's top-left; a wide box becomes a tall one.
        let u = display_to_user(r, LETTER, 90);
        assert_eq!(u.to_array(), [612.0 - 60.0, 10.0, 612.0 - 20.0, 110.0]);
        let u = display_to_user(r, LETTER, 180);
        assert_eq!(
            u.to_array(),
            [612.0 - 110.0, 792.0 - 60.0, 612.0 - 10.0, 792.0 - 20.0]
        );
        let u = display_to_user(r, LETTER, 270);
        assert_eq!(u.to_array(), [20.0, 792.0 - 110.0, 60.0, 792.0 - 10.0]);
        // Every default place of a turned page lands inside it.
        for rotate in [90, 180, 270] {
            for place in SignaturePlace::ALL {
                let shown = Rect {
                    x1: 0.0,
                    y1: 0.0,
                    x2: if rotate == 180 { 612.0 } else { 792.0 },
                    y2: if rotate == 180 { 792.0 } else { 612.0 },
                };
                let p = default_placement(1, shown, SignaturePage::First, *place);
                let u = display_to_user(p.rect, LETTER, rotate);
                assert!(u.is_inside(&LETTER), "{rotate} {place}: {u}");
            }
        }
    }
}
