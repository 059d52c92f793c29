//! What the revisions after a signed one changed: the objects of the
//! document as signed against the latest, each change judged by whether
//! adding a signature makes it.

use lopdf::{Document, Object};

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

/// The array under `key` (direct or referenced), copied; empty when absent.
pub(super) fn list(d: &lopdf::Dictionary, key: &[u8], doc: &Document) -> Vec<Object> {
    match d.get(key) {
        Ok(Object::Array(a)) => a.clone(),
        Ok(Object::Reference(id)) => doc
            .get_object(*id)
            .ok()
            .and_then(|o| o.as_array().ok().cloned())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// An array under `key` that only grew: every old element is still there.
fn grew(old: &lopdf::Dictionary, new: &lopdf::Dictionary, key: &[u8], doc: &Document) -> bool {
    let new = list(new, key, doc);
    list(old, key, doc).iter().all(|o| new.contains(o))
}

/// Whether every element `key` gained is a filled signature field: a
/// widget or field with /FT /Sig whose /V is a signature dictionary. Any
/// other new annotation (a FreeText, a stamp, a box drawn over the text)
/// changes what the page shows.
fn gained_only_signatures(
    old: &lopdf::Dictionary,
    new: &lopdf::Dictionary,
    key: &[u8],
    doc: &Document,
) -> bool {
    let before = list(old, key, doc);
    list(new, key, doc)
        .iter()
        .filter(|o| !before.contains(o))
        .all(|o| {
            let field = match o {
                Object::Reference(id) => doc.get_object(*id).and_then(Object::as_dict).ok(),
                Object::Dictionary(d) => Some(d),
                _ => None,
            };
            field.is_some_and(|f| is_sig_field(f) && is_signature_value(f, doc))
        })
}

/// Whether a field's /V is a signature dictionary (/ByteRange and /Contents).
fn is_signature_value(field: &lopdf::Dictionary, doc: &Document) -> bool {
    let v = match field.get(b"V") {
        Ok(Object::Reference(id)) => doc.get_object(*id).and_then(Object::as_dict).ok(),
        Ok(Object::Dictionary(d)) => Some(d),
        _ => None,
    };
    v.is_some_and(|v| v.has(b"ByteRange") && v.has(b"Contents"))
}

/// A form dictionary whose fields only grew (and its signature flags and
/// defaults may change).
fn form_grew(
    old: &lopdf::Dictionary,
    new: &lopdf::Dictionary,
    doc: &Document,
) -> Result<(), String> {
    only_keys_differ(old, new, &[b"Fields", b"SigFlags"])?;
    if !grew(old, new, b"Fields", doc) {
        Err("a field was removed".into())
    } else if !gained_only_signatures(old, new, b"Fields", doc) {
        Err("a field that is not a signature was added".into())
    } else {
        Ok(())
    }
}

/// The catalog's /AcroForm: added, kept, or (direct) only grown.
fn form_changes(
    old: &lopdf::Dictionary,
    new: &lopdf::Dictionary,
    doc: &Document,
) -> Result<(), String> {
    match (old.get(b"AcroForm").ok(), new.get(b"AcroForm").ok()) {
        (a, b) if same_value(a, b) => Ok(()),
        (None, Some(_)) => Ok(()),
        (Some(Object::Dictionary(a)), Some(Object::Dictionary(b))) => form_grew(a, b, doc),
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
/// information, XMP metadata and PDF version writers update), else `other`. Strings
/// compare by their bytes, not by how they were written.
pub(super) fn changes(signed: &Document, latest: &Document) -> (&'static str, Option<String>) {
    let mut other = Vec::new();
    if signed.trailer.get(b"Root").ok() != latest.trailer.get(b"Root").ok() {
        other.push("the catalog was replaced".to_owned());
    }
    let root = signed
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .ok();
    // The document information and the XMP metadata are what every writer
    // updates (producer, modification date); they are not what a page shows.
    let info = signed
        .trailer
        .get(b"Info")
        .and_then(Object::as_reference)
        .ok();
    let metadata = root
        .and_then(|r| signed.get_dictionary(r).ok())
        .and_then(|c| c.get(b"Metadata").and_then(Object::as_reference).ok());
    let mut any = false;
    for id in signed.objects.keys() {
        if !latest.objects.contains_key(id) {
            other.push(format!("object {} {} removed", id.0, id.1));
        }
    }
    for (id, new) in &latest.objects {
        let Some(old) = signed.objects.get(id) else {
            // New objects only take effect through a changed old one,
            // which is checked below.
            any = true;
            continue;
        };
        if same(old, new) {
            continue;
        }
        any = true;
        let why = match (old.as_dict(), new.as_dict()) {
            _ if Some(*id) == info => Ok(()),
            _ if Some(*id) == metadata && is_xmp(old) && is_xmp(new) => Ok(()),
            (Ok(o), Ok(n)) if Some(*id) == root => only_keys_differ(
                o,
                n,
                &[b"AcroForm", b"DSS", b"Extensions", b"Metadata", b"Version"],
            )
            .and_then(|()| form_changes(o, n, latest)),
            (Ok(o), Ok(n)) if o.has(b"Fields") || n.has(b"Fields") => form_grew(o, n, latest),
            (Ok(o), Ok(n))
                if o.get(b"Type").and_then(Object::as_name).ok() == Some(b"Page".as_slice()) =>
            {
                only_keys_differ(o, n, &[b"Annots"]).and_then(|()| {
                    if !grew(o, n, b"Annots", latest) {
                        Err("an annotation was removed".into())
                    } else if !gained_only_signatures(o, n, b"Annots", latest) {
                        Err("an annotation that is not a signature was added".into())
                    } else {
                        Ok(())
                    }
                })
            }
            // An empty signature field filled: its appearance may change
            // only with its signature.
            (Ok(o), Ok(n)) if is_sig_field(o) && !o.has(b"V") => {
                only_keys_differ(o, n, &[b"V", b"AP"]).and_then(|()| {
                    if is_signature_value(n, latest) {
                        Ok(())
                    } else {
                        Err("an empty signature field's appearance changed".into())
                    }
                })
            }
            (Ok(o), Ok(_)) if o.get(b"Type").and_then(Object::as_name).ok() == Some(b"DSS") => {
                Ok(())
            }
            _ => Err("changed".into()),
        };
        if let Err(what) = why {
            other.push(format!("object {} {}: {what}", id.0, id.1));
        }
    }
    if !other.is_empty() {
        other.truncate(8);
        return ("other", Some(other.join("; ")));
    }
    (if any { "signatures_only" } else { "none" }, None)
}
