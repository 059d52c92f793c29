//! PDF object syntax (ISO 32000-1 §7.2, §7.3): one direct or indirect
//! object parsed from bytes into lopdf's [`Object`], as lopdf's own parser
//! reads it (reals as `f32`, strings unescaped, names `#xx`-decoded, a
//! later duplicate key replacing an earlier one), so the objects an update
//! copies are written back the same either way. Used by [`super::reader`],
//! which reads only the objects' dictionaries, never their stream data.

use lopdf::{Dictionary, Object, StringFormat};

/// How deep objects may nest (lopdf's `MAX_NESTING_DEPTH`).
pub const MAX_DEPTH: usize = 100;

/// How deep literal strings may nest their parentheses.
const MAX_PARENS: usize = 256;

pub type Parse<T> = Result<T, &'static str>;

/// White space (§7.2.2, Table 1).
pub fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\0' | b'\x0c')
}

fn is_delimiter(c: u8) -> bool {
    b"()<>[]{}/%".contains(&c)
}

fn is_regular(c: u8) -> bool {
    !is_space(c) && !is_delimiter(c)
}

fn hex_value(c: u8) -> Option<u8> {
    (c as char).to_digit(16).and_then(|v| u8::try_from(v).ok())
}

/// A cursor over PDF bytes.
pub struct Lexer<'a> {
    pub bytes: &'a [u8],
    pub pos: usize,
    /// How many objects it may still parse, nested ones included: a parsed
    /// object takes a hundred times the few bytes `[]` takes in the file,
    /// so their number is bounded, not only the file's size.
    pub budget: usize,
}

impl<'a> Lexer<'a> {
    pub fn new(bytes: &'a [u8], pos: usize) -> Self {
        Lexer {
            bytes,
            pos,
            budget: usize::MAX,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.pos..).unwrap_or(&[])
    }

    /// Skips white space and comments.
    pub fn space(&mut self) {
        while let Some(c) = self.peek() {
            if is_space(c) {
                self.pos += 1;
            } else if c == b'%' {
                let rest = self.rest();
                let end = rest
                    .iter()
                    .position(|&b| b == b'\r' || b == b'\n')
                    .unwrap_or(rest.len());
                self.pos += end;
            } else {
                break;
            }
        }
    }

    /// Takes `word` if the bytes at the cursor start with it.
    pub fn tag(&mut self, word: &[u8]) -> bool {
        if self.rest().starts_with(word) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    /// An unsigned integer (ASCII digits) that fits `u64`.
    pub fn unsigned(&mut self) -> Option<u64> {
        let digits = self
            .rest()
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits == 0 {
            return None;
        }
        let value = self.rest()[..digits].iter().try_fold(0u64, |v, &d| {
            v.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })?;
        self.pos += digits;
        Some(value)
    }

    /// `N G obj`: the header of an indirect object (§7.3.10).
    pub fn object_header(&mut self) -> Parse<(u32, u16)> {
        self.space();
        let num = self.unsigned().and_then(|n| u32::try_from(n).ok());
        self.space();
        let generation = self.unsigned().and_then(|n| u16::try_from(n).ok());
        self.space();
        match (num, generation, self.tag(b"obj")) {
            (Some(n), Some(g), true) => Ok((n, g)),
            _ => Err("not an indirect object"),
        }
    }

    /// After an object: where its stream data starts, if the `stream`
    /// keyword and its end of line follow (§7.3.8.1).
    pub fn stream_start(&mut self) -> Option<usize> {
        let save = self.pos;
        self.space();
        if self.tag(b"stream") {
            while matches!(self.peek(), Some(b' ' | b'\t')) {
                self.pos += 1;
            }
            if self.tag(b"\r\n") || self.tag(b"\n") || self.tag(b"\r") {
                return Some(self.pos);
            }
        }
        self.pos = save;
        None
    }

    /// One direct object.
    pub fn object(&mut self, depth: usize) -> Parse<Object> {
        if depth >= MAX_DEPTH {
            return Err("objects nest too deeply");
        }
        self.budget = self
            .budget
            .checked_sub(1)
            .ok_or("more objects than one file may hold")?;
        self.space();
        let object = match self.peek().ok_or("the data ends in an object")? {
            b'n' if self.tag(b"null") => Object::Null,
            b't' if self.tag(b"true") => Object::Boolean(true),
            b'f' if self.tag(b"false") => Object::Boolean(false),
            b'0'..=b'9' => match self.reference() {
                Some(r) => r,
                None => self.number()?,
            },
            b'+' | b'-' | b'.' => self.number()?,
            b'/' => Object::Name(self.name()?),
            b'(' => Object::String(self.literal()?, StringFormat::Literal),
            b'<' if self.rest().starts_with(b"<<") => Object::Dictionary(self.dictionary(depth)?),
            b'<' => Object::String(self.hex()?, StringFormat::Hexadecimal),
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.space();
                    if self.tag(b"]") {
                        break;
                    }
                    items.push(self.object(depth + 1)?);
                }
                Object::Array(items)
            }
            _ => return Err("not an object"),
        };
        Ok(object)
    }

    /// `<< /Key value … >>`.
    pub fn dictionary(&mut self, depth: usize) -> Parse<Dictionary> {
        if !self.tag(b"<<") {
            return Err("not a dictionary");
        }
        let mut dict = Dictionary::new();
        loop {
            self.space();
            if self.tag(b">>") {
                return Ok(dict);
            }
            let key = self.name()?;
            let value = self.object(depth + 1)?;
            dict.set(key, value);
        }
    }

    /// `N G R`, or nothing (the cursor unmoved).
    fn reference(&mut self) -> Option<Object> {
        let save = self.pos;
        let found = (|| {
            let num = u32::try_from(self.unsigned()?).ok()?;
            self.space();
            let generation = u16::try_from(self.unsigned()?).ok()?;
            self.space();
            self.tag(b"R")
                .then_some(Object::Reference((num, generation)))
        })();
        if found.is_none() {
            self.pos = save;
        }
        found
    }

    /// An integer or a real (§7.3.3); a minus sign inside the fraction, as
    /// some producers write it (`0.00-4142502`), is ignored as lopdf does.
    fn number(&mut self) -> Parse<Object> {
        let start = self.pos;
        if matches!(self.peek(), Some(b'+' | b'-')) {
            self.pos += 1;
        }
        let int_digits = self
            .rest()
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        self.pos += int_digits;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            let fraction_start = self.pos;
            let fraction = self
                .rest()
                .iter()
                .take_while(|&&c| c == b'-' || c.is_ascii_digit())
                .count();
            self.pos += fraction;
            let fraction_digits = self.bytes[fraction_start..self.pos]
                .iter()
                .filter(|c| c.is_ascii_digit())
                .count();
            if int_digits == 0 && fraction_digits == 0 {
                return Err("not a number");
            }
            let text: Vec<u8> = self.bytes[start..self.pos]
                .iter()
                .enumerate()
                .filter(|&(i, &c)| !(c == b'-' && start + i >= fraction_start))
                .map(|(_, &c)| c)
                .collect();
            let text = std::str::from_utf8(&text).map_err(|_| "not a number")?;
            return text
                .parse::<f32>()
                .map(Object::Real)
                .map_err(|_| "not a number");
        }
        if int_digits == 0 {
            return Err("not a number");
        }
        std::str::from_utf8(&self.bytes[start..self.pos])
            .ok()
            .and_then(|t| t.parse::<i64>().ok())
            .map(Object::Integer)
            .ok_or("an integer out of range")
    }

    /// `/Name`, with `#xx` escapes (§7.3.5).
    fn name(&mut self) -> Parse<Vec<u8>> {
        if !self.tag(b"/") {
            return Err("not a name");
        }
        let mut out = Vec::new();
        while let Some(c) = self.peek() {
            if c == b'#' {
                let escaped = self
                    .rest()
                    .get(1..3)
                    .and_then(|h| Some((hex_value(h[0])? << 4) | hex_value(h[1])?));
                match escaped {
                    Some(b) => {
                        out.push(b);
                        self.pos += 3;
                    }
                    None => break,
                }
            } else if is_regular(c) {
                out.push(c);
                self.pos += 1;
            } else {
                break;
            }
        }
        Ok(out)
    }

    /// `<hex digits>` (§7.3.4.3): white space ignored, an odd last digit
    /// followed by 0.
    fn hex(&mut self) -> Parse<Vec<u8>> {
        self.pos += 1;
        let mut out = Vec::new();
        let mut high: Option<u8> = None;
        loop {
            let c = self.peek().ok_or("an unterminated hexadecimal string")?;
            self.pos += 1;
            if c == b'>' {
                break;
            }
            if is_space(c) {
                continue;
            }
            let v = hex_value(c).ok_or("a bad hexadecimal string")?;
            match high.take() {
                Some(h) => out.push((h << 4) | v),
                None => high = Some(v),
            }
        }
        if let Some(h) = high {
            out.push(h << 4);
        }
        Ok(out)
    }

    /// `(literal)` (§7.3.4.2): escapes resolved, an end of line read as
    /// `\n`, balanced parentheses kept.
    fn literal(&mut self) -> Parse<Vec<u8>> {
        self.pos += 1;
        let mut out = Vec::new();
        let mut open = 0usize;
        loop {
            let c = self.peek().ok_or("an unterminated string")?;
            self.pos += 1;
            match c {
                b'(' => {
                    open += 1;
                    if open > MAX_PARENS {
                        return Err("a string nests too deeply");
                    }
                    out.push(c);
                }
                b')' if open == 0 => return Ok(out),
                b')' => {
                    open -= 1;
                    out.push(c);
                }
                b'\r' => {
                    self.tag(b"\n");
                    out.push(b'\n');
                }
                b'\\' => {
                    let e = self.peek().ok_or("an unterminated string")?;
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(b'\x08'),
                        b'f' => out.push(b'\x0c'),
                        b'0'..=b'7' => {
                            let mut v = u16::from(e - b'0');
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        v = v * 8 + u16::from(d - b'0');
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            // High-order overflow is ignored (§7.3.4.2).
                            out.push((v & 0xff) as u8);
                        }
                        // A backslash at the end of a line continues it.
                        b'\r' => {
                            self.tag(b"\n");
                        }
                        b'\n' => {}
                        other => out.push(other),
                    }
                }
                other => out.push(other),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Object {
        Lexer::new(s.as_bytes(), 0).object(0).unwrap()
    }

    #[test]
    fn objects_read_as_lopdf_reads_them() {
        let samples = [
            "<< /Type /Page /Kids [1 0 R 2 0 R] /Rotate -90 /Scale .5 /X 3. /Y +4 >>",
            "[(a\\(b\\)c\\\\d\\101\\0537) <48 65 6C6C 6f 7> /A#20B /C#23 true false null 12 0 R]",
            "(line\r\nbreak\\\r\ncontinued (nested))",
            "<< /K [0.00-4142502 -.25] % comment\n /L<< /M 1 >> >>",
        ];
        for s in samples {
            let doc = format!("%PDF-1.4\n1 0 obj\n{s}\nendobj\n");
            let mut ours = Lexer::new(doc.as_bytes(), 9);
            assert_eq!(ours.object_header().unwrap(), (1, 0));
            let ours = ours.object(0).unwrap();
            let theirs = lopdf::Document::load_mem(
                format!(
                    "{doc}xref\n0 2\n0000000000 65535 f \n0000000009 00000 n \ntrailer\n<< /Size 2 >>\nstartxref\n{}\n%%EOF\n",
                    doc.len()
                )
                .as_bytes(),
            )
            .unwrap();
            assert_eq!(
                format!("{ours:?}"),
                format!("{:?}", theirs.get_object((1, 0)).unwrap()),
                "{s}"
            );
        }
    }

    #[test]
    fn a_reference_needs_its_r() {
        assert_eq!(
            parse("[1 0 2]"),
            Object::Array(vec![1.into(), 0.into(), 2.into()])
        );
        assert!(matches!(parse("7 0 R"), Object::Reference((7, 0))));
    }

    #[test]
    fn hostile_objects_are_refused() {
        let deep = "[".repeat(MAX_DEPTH + 1);
        assert!(Lexer::new(deep.as_bytes(), 0).object(0).is_err());
        for s in ["(open", "<41", "<< /A 1", "[1 2", "<zz>", ")", "-", "."] {
            assert!(Lexer::new(s.as_bytes(), 0).object(0).is_err(), "{s}");
        }
        // Four objects: the array, its number, its dictionary and the
        // dictionary's value.
        let mut lexer = Lexer::new(b"[1 << /A 2 >>]", 0);
        lexer.budget = 4;
        assert!(lexer.object(0).is_ok());
        assert_eq!(lexer.budget, 0);
        let mut lexer = Lexer::new(b"[1 << /A 2 >>]", 0);
        lexer.budget = 3;
        assert_eq!(lexer.object(0), Err("more objects than one file may hold"));
    }
}
