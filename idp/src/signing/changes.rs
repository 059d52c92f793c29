//! What the revisions after a signed one changed: the objects of the
//! document as signed against the latest, each change judged by whether
//! adding a signature makes it.

use std::collections::{HashMap, HashSet};

use lopdf::{Document, Object, ObjectId};

/// Keys a later revision may change in an object of the given kind when it
/// only adds signatures (and their fields, widgets, and validation data).
fn only_keys_differ(
    old: &lopdf::Dictionary,
    new: &lopdf::Dictionary,
    allowed: &[&[u8]],
) -> Result<(), String> {
    let keys: std::collections::BTreeSet<&[u8]> = old
        .iter()
        .chain(new.iter())
        .map(|(k, _)| k.as_slice())
        .collect();
    for k in keys {
        if !same_value(old.get(k).ok(), new.get(k).ok()) && !allowed.contains(&k) {
            return Err(format!("/{}", String::from_utf8_lossy(k)));
        }
    }
    Ok(())
}

/// The array under `key` (direct or referenced), if any.
fn array<'a>(d: &'a lopdf::Dictionary, key: &[u8], doc: &'a Document) -> Option<&'a Vec<Object>> {
    match d.get(key).ok()? {
        Object::Array(a) => Some(a),
        Object::Reference(id) => doc.get_object(*id).ok()?.as_array().ok(),
        _ => None,
    }
}

/// The array under `key` (direct or referenced), copied; empty when absent.
pub(super) fn list(d: &lopdf::Dictionary, key: &[u8], doc: &Document) -> Vec<Object> {
    array(d, key, doc).cloned().unwrap_or_default()
}

/// What judging one revision's changes gathers: the signature claims, and
/// how many list elements it may still read ([`MAX_LISTED`]).
struct Found {
    claims: Vec<Claim>,
    left: usize,
}

/// The most list elements judging one revision's changes reads: many
/// changed dictionaries naming one long array read it once each.
const MAX_LISTED: usize = 1_000_000;

/// How many elements that are not references a compared list may hold
/// (lists of annotations and fields hold references).
const MAX_DIRECT: usize = 256;

impl Found {
    /// The array under `key`, counted against what may still be read.
    fn list<'a>(
        &mut self,
        d: &'a lopdf::Dictionary,
        key: &[u8],
        doc: &'a Document,
    ) -> Result<&'a [Object], String> {
        let list = array(d, key, doc).map_or(&[][..], Vec::as_slice);
        self.left = self
            .left
            .checked_sub(list.len())
            .ok_or("more list elements than one check compares")?;
        if list.iter().filter(|o| o.as_reference().is_err()).count() > MAX_DIRECT {
            return Err(format!(
                "more than {MAX_DIRECT} direct objects in /{}",
                String::from_utf8_lossy(key)
            ));
        }
        Ok(list)
    }
}

/// The elements of a list, for asking in constant time whether one is
/// there (a page's /Annots or the form's /Fields may hold many thousands):
/// references by their ids, anything else (at most [`MAX_DIRECT`]) as is.
struct Members<'a> {
    refs: HashSet<ObjectId>,
    other: Vec<&'a Object>,
}

impl<'a> Members<'a> {
    fn of(list: &'a [Object]) -> Members<'a> {
        let mut m = Members {
            refs: HashSet::new(),
            other: Vec::new(),
        };
        for o in list {
            match o {
                Object::Reference(id) => {
                    m.refs.insert(*id);
                }
                o => m.other.push(o),
            }
        }
        m
    }

    fn contains(&self, o: &Object) -> bool {
        match o {
            Object::Reference(id) => self.refs.contains(id),
            o => self.other.contains(&o),
        }
    }
}

/// Whether the array under `key` only grew (every old element is still
/// there), and only by signature widgets: /FT /Sig, /Subtype /Widget (for
/// annotations), no action of its own, and a /V that names a signature
/// dictionary, whose id goes into the claims (the caller checks that each
/// one is a signature found intact: a widget that only looks like a
/// signature's may draw anything over the page). Any other new annotation
/// (a FreeText, a stamp, a box drawn over the text) changes what the page
/// shows. `what` names an element in the answer.
fn grew_by_signatures(
    old: &lopdf::Dictionary,
    new: &lopdf::Dictionary,
    key: &[u8],
    doc: &Document,
    found: &mut Found,
    what: &str,
) -> Result<(), String> {
    let before = found.list(old, key, doc)?;
    let after = found.list(new, key, doc)?;
    let (was, now) = (Members::of(before), Members::of(after));
    if !before.iter().all(|o| now.contains(o)) {
        return Err(format!("{what} was removed"));
    }
    let added_only_signatures = after.iter().filter(|o| !was.contains(o)).all(|o| {
        let field = match o {
            Object::Reference(id) => doc.get_object(*id).and_then(Object::as_dict).ok(),
            Object::Dictionary(d) => Some(d),
            _ => None,
        };
        let at = o.as_reference().ok();
        field.is_some_and(|f| {
            let widget = key != b"Annots"
                || f.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Widget");
            widget
                && is_sig_field(f)
                && !f.has(b"A")
                && !f.has(b"AA")
                && signature_value(at, f, doc, &mut found.claims)
        })
    });
    if added_only_signatures {
        Ok(())
    } else {
        Err(format!("{what} that is not a signature was added"))
    }
}

/// A widget (by its id when indirect) and the signature dictionary it shows.
pub(super) type Claim = (Option<ObjectId>, ObjectId);

/// Whether a field's /V names a signature dictionary (/ByteRange and
/// /Contents); the claim goes into `claims` (a widget is listed both in the
/// page's /Annots and in the form's /Fields: [`changes`] keeps each once).
fn signature_value(
    widget: Option<ObjectId>,
    field: &lopdf::Dictionary,
    doc: &Document,
    claims: &mut Vec<Claim>,
) -> bool {
    let Ok(Object::Reference(id)) = field.get(b"V") else {
        return false;
    };
    let is_sig = doc
        .get_object(*id)
        .and_then(Object::as_dict)
        .is_ok_and(|v| v.has(b"ByteRange") && v.has(b"Contents"));
    if is_sig {
        claims.push((widget, *id));
    }
    is_sig
}

/// A form dictionary whose fields only grew (and its signature flags and
/// defaults may change).
fn form_grew(
    old: &lopdf::Dictionary,
    new: &lopdf::Dictionary,
    doc: &Document,
    found: &mut Found,
) -> Result<(), String> {
    only_keys_differ(old, new, &[b"Fields", b"SigFlags"])?;
    grew_by_signatures(old, new, b"Fields", doc, found, "a field")
}

/// The catalog's /AcroForm: added, kept, or (direct) only grown.
fn form_changes(
    old: &lopdf::Dictionary,
    new: &lopdf::Dictionary,
    doc: &Document,
    found: &mut Found,
) -> Result<(), String> {
    match (old.get(b"AcroForm").ok(), new.get(b"AcroForm").ok()) {
        (a, b) if same_value(a, b) => Ok(()),
        (None, Some(_)) => Ok(()),
        (Some(Object::Dictionary(a)), Some(Object::Dictionary(b))) => form_grew(a, b, doc, found),
        (Some(_), None) => Err("the form was removed".into()),
        _ => Err("the form was replaced".into()),
    }
}

/// An XMP metadata stream (/Type /Metadata /Subtype /XML).
fn is_xmp(o: &Object) -> bool {
    o.as_stream().is_ok_and(|s| {
        let named = |k: &[u8], v: &[u8]| s.dict.get(k).and_then(Object::as_name).ok() == Some(v);
        named(b"Type", b"Metadata") && named(b"Subtype", b"XML")
    })
}

/// Whether two objects say the same: equal, except that a string is the
/// same whether written literally `(…)` or in hexadecimal `<…>` (writers
/// differ, and re-writing a dictionary in an update does not change it).
fn same(a: &Object, b: &Object) -> bool {
    same_at(a, b, 0)
}

pub(super) fn same_value(a: Option<&Object>, b: Option<&Object>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => same(a, b),
        (a, b) => a.is_none() && b.is_none(),
    }
}

/// Nesting this deep is not from a real document; it compares as changed.
const MAX_COMPARE_DEPTH: usize = 64;

fn same_at(a: &Object, b: &Object, depth: usize) -> bool {
    if depth > MAX_COMPARE_DEPTH {
        return false;
    }
    let dicts = |x: &lopdf::Dictionary, y: &lopdf::Dictionary| {
        x.len() == y.len()
            && x.iter()
                .all(|(k, v)| y.get(k).is_ok_and(|w| same_at(v, w, depth + 1)))
    };
    match (a, b) {
        (Object::String(x, _), Object::String(y, _)) => x == y,
        (Object::Array(x), Object::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same_at(v, w, depth + 1))
        }
        (Object::Dictionary(x), Object::Dictionary(y)) => dicts(x, y),
        (Object::Stream(x), Object::Stream(y)) => x.content == y.content && dicts(&x.dict, &y.dict),
        _ => a == b,
    }
}

fn is_sig_field(d: &lopdf::Dictionary) -> bool {
    d.get(b"FT")
        .and_then(Object::as_name)
        .is_ok_and(|n| n == b"Sig")
}

/// What the revisions after `signed` changed, comparing its objects with
/// the latest ones: `signatures_only` when every change is one that adding
/// a signature makes (a new signature dictionary, field and widget, the
/// form's /Fields and /SigFlags, a page's /Annots growing by signature
/// widgets, the catalog's /AcroForm and /DSS, a signature field filled, new
/// streams for appearances and validation data, and the document
/// information, XMP metadata and PDF version writers update), else `other`.
/// Strings compare by their bytes, not by how they were written.
pub(super) struct Changes {
    pub what: &'static str,
    pub detail: Option<String>,
    /// The signature dictionaries that new signature widgets name: each
    /// must be a signature found intact, or the change is `other`.
    pub claims: Vec<Claim>,
}

/// Calls `f` with each reference in `o`.
fn walk(o: &Object, depth: usize, f: &mut impl FnMut(ObjectId)) {
    if depth > MAX_COMPARE_DEPTH {
        return;
    }
    match o {
        Object::Reference(id) => f(*id),
        Object::Array(a) => a.iter().for_each(|v| walk(v, depth + 1, f)),
        Object::Dictionary(d) => d.iter().for_each(|(_, v)| walk(v, depth + 1, f)),
        Object::Stream(s) => s.dict.iter().for_each(|(_, v)| walk(v, depth + 1, f)),
        _ => {}
    }
}

/// Who refers to each object (at most two referrers kept: enough to tell
/// an object only its one owner names).
fn referrers(doc: &Document) -> HashMap<ObjectId, Vec<ObjectId>> {
    let mut by: HashMap<ObjectId, Vec<ObjectId>> = HashMap::new();
    // A cross-reference stream's dictionary is a trailer: its /Root and
    // /Info are the document's, not an object's.
    let xref = |o: &Object| {
        o.as_stream()
            .is_ok_and(|s| s.dict.get(b"Type").and_then(Object::as_name).ok() == Some(b"XRef"))
    };
    for (src, o) in doc.objects.iter().filter(|(_, o)| !xref(o)) {
        walk(o, 0, &mut |target| {
            let r = by.entry(target).or_default();
            if r.len() < 2 && !r.contains(src) {
                r.push(*src);
            }
        });
    }
    by
}

/// The document information: a dictionary of text (and the /Trapped name).
fn is_info(o: &Object) -> bool {
    o.as_dict().is_ok_and(|d| {
        d.iter()
            .all(|(_, v)| matches!(v, Object::String(..) | Object::Name(_)))
    })
}

pub(super) fn changes(signed: &Document, latest: &Document) -> Changes {
    let mut other = Vec::new();
    let mut found = Found {
        claims: Vec::new(),
        left: MAX_LISTED,
    };
    if signed.trailer.get(b"Root").ok() != latest.trailer.get(b"Root").ok() {
        other.push("the catalog was replaced".to_owned());
    }
    // A reference to nothing makes a viewer that rebuilds its
    // cross-reference data on a failed lookup (poppler) read the file for
    // objects no revision lists: one added after signing is a change.
    // What `new` names that is not there, and `old` (its version when
    // signed) did not name.
    let missing = |old: Option<&Object>, new: &Object| -> Option<ObjectId> {
        let mut before = HashSet::new();
        if let Some(old) = old {
            walk(old, 0, &mut |r| {
                before.insert(r);
            });
        }
        let mut found = None;
        walk(new, 0, &mut |r| {
            if found.is_none() && !latest.objects.contains_key(&r) && !before.contains(&r) {
                found = Some(r);
            }
        });
        found
    };
    for key in [b"Root".as_slice(), b"Info"] {
        let (was, now) = (signed.trailer.get(key).ok(), latest.trailer.get(key).ok());
        if let Some(r) = now.and_then(|now| missing(was, now)) {
            other.push(format!(
                "the trailer's /{} names object {} {}, which is not there",
                String::from_utf8_lossy(key),
                r.0,
                r.1
            ));
        }
    }
    let root = signed
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .ok();
    let refs = referrers(signed);
    let named: HashSet<u32> = refs.keys().map(|id| id.0).collect();
    // Named by nobody, or only by `owner`.
    let only_by = |id: ObjectId, owner: Option<ObjectId>| {
        refs.get(&id)
            .is_none_or(|r| r.iter().all(|src| Some(*src) == owner))
    };
    // The document information, the XMP metadata and the validation data
    // are what writers update (producer, modification date, certificates);
    // they are not what a page shows, as long as nothing else uses them.
    let catalog_ref = |key: &[u8]| {
        root.and_then(|r| signed.get_dictionary(r).ok())
            .and_then(|c| c.get(key).and_then(Object::as_reference).ok())
            .filter(|id| only_by(*id, root))
    };
    let info = signed
        .trailer
        .get(b"Info")
        .and_then(Object::as_reference)
        .ok()
        .filter(|id| only_by(*id, None));
    let metadata = catalog_ref(b"Metadata");
    let dss = catalog_ref(b"DSS");
    let mut any = false;
    for id in signed.objects.keys() {
        if !latest.objects.contains_key(id) {
            other.push(format!("object {} {} removed", id.0, id.1));
        }
    }
    for (id, new) in &latest.objects {
        let Some(old) = signed.objects.get(id) else {
            // A new object takes effect through a changed old one, checked
            // below, unless the signed revision already named it (a
            // reference to nothing, filled in later).
            any = true;
            // By number: a viewer may take an object of another generation
            // for the one named.
            if let Some(r) = missing(None, new) {
                other.push(format!(
                    "object {} {}: names object {} {}, which is not there",
                    id.0, id.1, r.0, r.1
                ));
            }
            if named.contains(&id.0) {
                other.push(format!(
                    "object {} {}: named when signed but not there, added after",
                    id.0, id.1
                ));
            }
            continue;
        };
        if same(old, new) {
            continue;
        }
        any = true;
        if let Some(r) = missing(Some(old), new) {
            other.push(format!(
                "object {} {}: names object {} {}, which is not there",
                id.0, id.1, r.0, r.1
            ));
            continue;
        }
        let why = match (old.as_dict(), new.as_dict()) {
            _ if Some(*id) == info && is_info(old) && is_info(new) => Ok(()),
            _ if Some(*id) == metadata && is_xmp(old) && is_xmp(new) => Ok(()),
            (Ok(o), Ok(n)) if Some(*id) == root => only_keys_differ(
                o,
                n,
                &[b"AcroForm", b"DSS", b"Extensions", b"Metadata", b"Version"],
            )
            .and_then(|()| form_changes(o, n, latest, &mut found)),
            (Ok(o), Ok(n)) if o.has(b"Fields") || n.has(b"Fields") => {
                form_grew(o, n, latest, &mut found)
            }
            (Ok(o), Ok(n))
                if o.get(b"Type").and_then(Object::as_name).ok() == Some(b"Page".as_slice()) =>
            {
                only_keys_differ(o, n, &[b"Annots"]).and_then(|()| {
                    grew_by_signatures(o, n, b"Annots", latest, &mut found, "an annotation")
                })
            }
            // An empty signature field filled: its appearance may change
            // only with its signature.
            (Ok(o), Ok(n)) if is_sig_field(o) && !o.has(b"V") => {
                only_keys_differ(o, n, &[b"V", b"AP"]).and_then(|()| {
                    if !n.has(b"A")
                        && !n.has(b"AA")
                        && signature_value(Some(*id), n, latest, &mut found.claims)
                    {
                        Ok(())
                    } else {
                        Err("an empty signature field's appearance changed".into())
                    }
                })
            }
            (Ok(o), Ok(n))
                if Some(*id) == dss
                    && [o, n].iter().all(|d| {
                        d.iter().all(|(k, _)| {
                            [&b"Type"[..], b"Certs", b"OCSPs", b"CRLs", b"VRI"]
                                .contains(&k.as_slice())
                        })
                    }) =>
            {
                Ok(())
            }
            _ => Err("changed".into()),
        };
        if let Err(what) = why {
            other.push(format!("object {} {}: {what}", id.0, id.1));
        }
    }
    let mut claims = found.claims;
    claims.sort_unstable();
    claims.dedup();
    if !other.is_empty() {
        other.truncate(8);
        return Changes {
            what: "other",
            detail: Some(other.join("; ")),
            claims,
        };
    }
    Changes {
        what: if any { "signatures_only" } else { "none" },
        detail: None,
        claims,
    }
}
