//! XML in and out. In: a small tree read by `quick-xml` from what an app
//! sent, with namespaces resolved, refused outright when it has a DOCTYPE
//! (so no entity can expand), a processing instruction, an unknown entity,
//! or more bytes, depth or elements than the caller allows. Out: elements
//! written directly in exclusive canonical form (Exclusive XML
//! Canonicalization 1.0 without comments), so what we sign is byte for byte
//! what a validator canonicalizes: namespaces declared on the element that
//! first uses them, attributes sorted (all ours are unprefixed), no empty
//! tags, text and attribute values escaped as C14N §2.3 says.

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

/// Why a message is not read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum XmlError {
    #[error("the message is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the message nests elements deeper than {0}")]
    TooDeep(usize),
    #[error("the message has more than {0} elements")]
    TooMany(usize),
    #[error("a DOCTYPE (DTDs and entities are refused)")]
    Doctype,
    #[error("a processing instruction")]
    Instruction,
    #[error("the entity &{0}; (only the five of XML are known)")]
    Entity(String),
    #[error("the prefix {0} is not declared")]
    UnknownPrefix(String),
    #[error("not one root element")]
    Root,
    #[error("more than {0} attributes on one element")]
    TooManyAttributes(usize),
    #[error("a character XML does not allow (U+{0:04X})")]
    Char(u32),
    #[error("a tab or line break written as such inside an attribute value")]
    AttributeWhitespace,
    #[error("malformed XML: {0}")]
    Malformed(String),
}

/// The limits one kind of message is read under.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub bytes: usize,
    pub depth: usize,
    pub elements: usize,
    /// Attributes on one element.
    pub attributes: usize,
}

impl Limits {
    /// An AuthnRequest, a LogoutRequest or LogoutResponse from a browser.
    pub const MESSAGE: Limits = Limits {
        bytes: 64 * 1024,
        depth: 16,
        elements: 500,
        attributes: 32,
    };
    /// An SP's metadata, given by an administrator.
    pub const METADATA: Limits = Limits {
        bytes: 1024 * 1024,
        depth: 24,
        elements: 10_000,
        attributes: 64,
    };
}

/// One attribute: its namespace (`None` for an unprefixed one), local name, value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attr {
    pub ns: Option<String>,
    pub name: String,
    pub value: String,
}

/// One element: its namespace, local name, attributes, child elements and
/// the text directly inside it (concatenated).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Element {
    pub ns: String,
    pub name: String,
    pub attrs: Vec<Attr>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    /// An unprefixed attribute.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.is_none() && a.name == name)
            .map(|a| a.value.as_str())
    }

    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    pub fn children_named<'a>(
        &'a self,
        ns: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.is(ns, name))
    }

    /// The text, trimmed.
    pub fn trimmed(&self) -> &str {
        self.text.trim()
    }
}

/// Reads `input` into its root element under `limits`.
pub fn parse(input: &str, limits: Limits) -> Result<Element, XmlError> {
    if input.len() > limits.bytes {
        return Err(XmlError::TooLarge(limits.bytes));
    }
    let mut reader = NsReader::from_str(input);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.expand_empty_elements = false;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    let mut events = 0usize;
    loop {
        events += 1;
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| XmlError::Malformed(e.to_string()))?;
        let ns = match ns {
            ResolveResult::Bound(n) => Some(n.as_ref().to_owned()),
            ResolveResult::Unbound => None,
            ResolveResult::Unknown(p) => return Err(XmlError::UnknownPrefix(p)),
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                if root.is_some() {
                    return Err(XmlError::Root);
                }
                count += 1;
                if count > limits.elements {
                    return Err(XmlError::TooMany(limits.elements));
                }
                if stack.len() >= limits.depth {
                    return Err(XmlError::TooDeep(limits.depth));
                }
                let mut el = Element {
                    ns: ns.unwrap_or_default(),
                    name: e.local_name().as_ref().to_owned(),
                    ..Element::default()
                };
                for (n, a) in e.attributes().enumerate() {
                    if n >= limits.attributes {
                        return Err(XmlError::TooManyAttributes(limits.attributes));
                    }
                    let a = a.map_err(|e| XmlError::Malformed(e.to_string()))?;
                    // XML would read a literal tab or line break as a space
                    // (quick-xml does; not every parser does): not allowed,
                    // so two readers never see different values.
                    if a.value.contains(['\t', '\n', '\r']) {
                        return Err(XmlError::AttributeWhitespace);
                    }
                    let key = a.key;
                    if key.as_namespace_binding().is_some() {
                        continue;
                    }
                    let (ans, local) = reader.resolver().resolve_attribute(key);
                    let ans = match ans {
                        ResolveResult::Bound(n) => Some(n.as_ref().to_owned()),
                        ResolveResult::Unbound => None,
                        ResolveResult::Unknown(p) => return Err(XmlError::UnknownPrefix(p)),
                    };
                    let value = a
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map_err(|e| XmlError::Malformed(e.to_string()))?
                        .into_owned();
                    allowed(&value)?;
                    el.attrs.push(Attr {
                        ns: ans,
                        name: local.as_ref().to_owned(),
                        value,
                    });
                }
                if matches!(event, Event::Empty(_)) {
                    close(&mut stack, &mut root, el);
                } else {
                    stack.push(el);
                }
            }
            Event::End(_) => {
                let el = stack
                    .pop()
                    .ok_or_else(|| XmlError::Malformed("an end tag too many".into()))?;
                close(&mut stack, &mut root, el);
            }
            Event::Text(t) => push_text(&mut stack, &t.xml10_content())?,
            Event::CData(t) => push_text(&mut stack, &t.xml10_content())?,
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => match r.xml10_content().as_ref() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        other => return Err(XmlError::Entity(other.to_owned())),
                    },
                    Err(e) => return Err(XmlError::Malformed(e.to_string())),
                };
                push_text(&mut stack, c.encode_utf8(&mut [0; 4]))?;
            }
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::PI(_) => return Err(XmlError::Instruction),
            // The XML declaration only first, before anything else.
            Event::Decl(_) if events == 1 => {}
            Event::Decl(_) => return Err(XmlError::Instruction),
            Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Malformed("an element is not closed".into()));
    }
    root.ok_or(XmlError::Root)
}

fn close(stack: &mut [Element], root: &mut Option<Element>, el: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => *root = Some(el),
    }
}

/// Refuses characters XML 1.0 does not allow (most C0 controls; a
/// character reference cannot bring them in either).
fn allowed(s: &str) -> Result<(), XmlError> {
    match s.chars().find(|c| xml_char(*c) != *c) {
        Some(c) => Err(XmlError::Char(u32::from(c))),
        None => Ok(()),
    }
}

fn push_text(stack: &mut [Element], s: &str) -> Result<(), XmlError> {
    allowed(s)?;
    match stack.last_mut() {
        Some(el) => {
            el.text.push_str(s);
            Ok(())
        }
        // Only whitespace may stand outside the root.
        None if s.trim().is_empty() => Ok(()),
        None => Err(XmlError::Root),
    }
}

/// Characters XML 1.0 cannot carry at all (most C0 controls) become U+FFFD.
fn xml_char(c: char) -> char {
    match c {
        '\t' | '\n' | '\r' => c,
        c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
        c => c,
    }
}

/// Text content as C14N writes it.
pub fn escape_text(out: &mut String, s: &str) {
    for c in s.chars().map(xml_char) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

/// An attribute value as C14N writes it.
pub fn escape_attr(out: &mut String, s: &str) {
    for c in s.chars().map(xml_char) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

/// Writes elements in exclusive canonical form.
#[derive(Debug, Default)]
pub struct Writer {
    out: String,
    open: Vec<&'static str>,
}

impl Writer {
    pub fn new() -> Writer {
        Writer::default()
    }

    /// Opens `name` declaring `ns` (prefix, URI) and carrying `attrs`
    /// (unprefixed; `None` values left out). Declarations are sorted by
    /// prefix and attributes by name, as C14N orders them.
    pub fn open(
        &mut self,
        name: &'static str,
        ns: &[(&str, &str)],
        attrs: &[(&str, Option<&str>)],
    ) -> &mut Writer {
        self.out.push('<');
        self.out.push_str(name);
        let mut ns = ns.to_vec();
        ns.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for (prefix, uri) in ns {
            self.out.push_str(" xmlns:");
            self.out.push_str(prefix);
            self.out.push_str("=\"");
            escape_attr(&mut self.out, uri);
            self.out.push('"');
        }
        let mut attrs: Vec<(&str, &str)> = attrs
            .iter()
            .filter_map(|(k, v)| v.map(|v| (*k, v)))
            .collect();
        attrs.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for (k, v) in attrs {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            escape_attr(&mut self.out, v);
            self.out.push('"');
        }
        self.out.push('>');
        self.open.push(name);
        self
    }

    pub fn text(&mut self, s: &str) -> &mut Writer {
        escape_text(&mut self.out, s);
        self
    }

    /// Closes the innermost open element.
    pub fn close(&mut self) -> &mut Writer {
        if let Some(name) = self.open.pop() {
            self.out.push_str("</");
            self.out.push_str(name);
            self.out.push('>');
        }
        self
    }

    /// `<name attrs…>text</name>`.
    pub fn leaf(
        &mut self,
        name: &'static str,
        ns: &[(&str, &str)],
        attrs: &[(&str, Option<&str>)],
        text: &str,
    ) -> &mut Writer {
        self.open(name, ns, attrs).text(text).close()
    }

    /// Already-canonical XML from another writer.
    pub fn raw(&mut self, xml: &str) -> &mut Writer {
        self.out.push_str(xml);
        self
    }

    /// Where the next byte goes (a signature's place).
    pub fn mark(&self) -> usize {
        self.out.len()
    }

    /// The XML written; every element closed.
    pub fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.close();
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_doctype_or_an_entity_is_refused_before_anything_expands() {
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><l>&b;</l>"#;
        assert_eq!(parse(bomb, Limits::MESSAGE), Err(XmlError::Doctype));
        assert_eq!(
            parse("<l>&ext;</l>", Limits::MESSAGE),
            Err(XmlError::Entity("ext".into()))
        );
        assert_eq!(
            parse("<l><?php x ?></l>", Limits::MESSAGE),
            Err(XmlError::Instruction)
        );
    }

    #[test]
    fn what_two_readers_could_read_differently_is_refused() {
        // A declaration anywhere but first is an instruction by another name.
        assert!(parse(r#"<?xml version="1.0"?><l/>"#, Limits::MESSAGE).is_ok());
        assert_eq!(
            parse(r#"<l><?xml version="1.0"?></l>"#, Limits::MESSAGE),
            Err(XmlError::Instruction)
        );
        // Control characters, written or referenced.
        assert_eq!(
            parse("<l>a\u{1}b</l>", Limits::MESSAGE),
            Err(XmlError::Char(1))
        );
        assert_eq!(
            parse("<l>&#x1;</l>", Limits::MESSAGE),
            Err(XmlError::Char(1))
        );
        assert_eq!(
            parse("<l a=\"&#x8;\"/>", Limits::MESSAGE),
            Err(XmlError::Char(8))
        );
        // A literal line break in an attribute (a reference to one is fine).
        assert_eq!(
            parse("<l ID=\"a\nb\"/>", Limits::MESSAGE),
            Err(XmlError::AttributeWhitespace)
        );
        let ok = parse("<l ID=\"a&#10;b\"/>", Limits::MESSAGE);
        assert_eq!(
            ok.map(|l| l.attr("ID").map(str::to_owned)),
            Ok(Some("a\nb".into()))
        );
        // Attributes per element are counted.
        let many: String = (0..40).map(|i| format!(" a{i}=\"x\"")).collect();
        assert_eq!(
            parse(&format!("<l{many}/>"), Limits::MESSAGE),
            Err(XmlError::TooManyAttributes(32))
        );
    }

    #[test]
    fn size_depth_and_count_are_capped() {
        let deep = "<a>".repeat(20) + &"</a>".repeat(20);
        assert_eq!(parse(&deep, Limits::MESSAGE), Err(XmlError::TooDeep(16)));
        let many = format!("<a>{}</a>", "<b/>".repeat(600));
        assert_eq!(parse(&many, Limits::MESSAGE), Err(XmlError::TooMany(500)));
        let big = format!("<a>{}</a>", "x".repeat(70_000));
        assert_eq!(
            parse(&big, Limits::MESSAGE),
            Err(XmlError::TooLarge(64 * 1024))
        );
    }

    #[test]
    fn namespaces_attributes_and_text_are_resolved() {
        let x = r#"<p:R xmlns:p="urn:p" xmlns:q="urn:q" ID="a&amp;b" q:x="1"><q:I> t &lt;&#x41; </q:I><p:E/></p:R>"#;
        let r = parse(x, Limits::MESSAGE).unwrap_or_default();
        assert!(r.is("urn:p", "R"));
        assert_eq!(r.attr("ID"), Some("a&b"));
        assert_eq!(
            r.attr("x"),
            None,
            "a prefixed attribute is not the plain one"
        );
        assert_eq!(r.attrs[1].ns.as_deref(), Some("urn:q"));
        assert_eq!(r.child("urn:q", "I").map(Element::trimmed), Some("t <A"));
        assert!(r.child("urn:p", "E").is_some());
        assert_eq!(
            parse(r#"<x:a/>"#, Limits::MESSAGE),
            Err(XmlError::UnknownPrefix("x".into()))
        );
        assert_eq!(parse("<a/><b/>", Limits::MESSAGE), Err(XmlError::Root));
    }

    #[test]
    fn the_writer_writes_canonical_form() {
        let mut w = Writer::new();
        w.open(
            "p:R",
            &[("q", "urn:q"), ("p", "urn:p")],
            &[("Z", Some("1")), ("A", Some("a\"<&\n")), ("N", None)],
        )
        .leaf("q:I", &[], &[], "x<y>&\r")
        .open("p:E", &[], &[]);
        assert_eq!(
            w.finish(),
            "<p:R xmlns:p=\"urn:p\" xmlns:q=\"urn:q\" A=\"a&quot;&lt;&amp;&#xA;\" Z=\"1\">\
             <q:I>x&lt;y&gt;&amp;&#xD;</q:I><p:E></p:E></p:R>"
        );
    }
}
