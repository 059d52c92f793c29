//! CSV exports: a configurable separator, header names per field (found
//! without regard to case), and the text decoded first. Supported encodings:
//! UTF-8 with or without a byte-order mark, UTF-16 (little or big endian,
//! found by its byte-order mark or configured) and Windows-1258 (the
//! Vietnamese code page of older Excel exports, decoded to NFC), all through
//! `encoding_rs`. Quoting (RFC 4180) is the `csv` crate's.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;

use super::ConnectorError;
use super::records::{Collector, RawAccount};
use super::settings::{FieldNames, TextEncoding};

/// How one CSV export is laid out.
pub(crate) struct CsvLayout<'a> {
    pub delimiter: u8,
    pub fields: &'a FieldNames,
}

/// The text of an export: a byte-order mark (UTF-8 or UTF-16) wins over the
/// configured encoding and is dropped; bytes the encoding cannot hold are an
/// error, never replaced silently.
pub(crate) fn decode(bytes: &[u8], encoding: TextEncoding) -> Result<Cow<'_, str>, ConnectorError> {
    let (enc, body) = match encoding_rs::Encoding::for_bom(bytes) {
        Some((enc, bom)) => (enc, &bytes[bom..]),
        None => (encoding.encoding(), bytes),
    };
    let text = enc
        .decode_without_bom_handling_and_without_replacement(body)
        .ok_or_else(|| {
            ConnectorError::Malformed(format!(
                "the text is not valid {}; set `encoding` to the export's encoding",
                enc.name()
            ))
        })?;
    // Windows-1258 writes tone marks as combining characters.
    if enc == encoding_rs::WINDOWS_1258 {
        return Ok(Cow::Owned(text.nfc().collect()));
    }
    Ok(text)
}

/// Reads every row of `text` after its header line.
pub(crate) fn read(
    text: &str,
    layout: &CsvLayout<'_>,
    accounts: &mut Collector<'_>,
) -> Result<(), ConnectorError> {
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(layout.delimiter)
        .has_headers(false)
        .flexible(false)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let mut lines = Lines {
        text,
        byte: 0,
        line: 1,
    };
    let header = match records.next() {
        Some(header) => header.map_err(|e| row_error(e, &mut lines))?,
        None => return Err(ConnectorError::Malformed("the file is empty".to_owned())),
    };
    let f = layout.fields;
    let column = |name: &str| column(&header, name);
    let username = column(&f.username)?;
    let display_name = column(&f.display_name)?;
    let email = column(&f.email)?;
    let phone = column(&f.phone)?;
    let unit = column(&f.unit)?;
    let status = column(&f.status)?;
    for record in records {
        let record = record.map_err(|e| row_error(e, &mut lines))?;
        let line = lines.at(record.position());
        let get = |i: Option<usize>| i.and_then(|i| record.get(i));
        accounts.push(
            &format!("line {line}"),
            RawAccount {
                username: get(username),
                display_name: get(display_name),
                email: get(email),
                phone: get(phone),
                unit: get(unit),
                status: get(status),
            },
        )?;
    }
    Ok(())
}

/// The index of the column called `name` (any case, spaces around ignored);
/// `None` for a field the source does not have (an empty name).
fn column(header: &::csv::StringRecord, name: &str) -> Result<Option<usize>, ConnectorError> {
    let name = name.trim();
    if name.is_empty() {
        return Ok(None);
    }
    let wanted = name.to_lowercase();
    let mut found = header
        .iter()
        .enumerate()
        .filter(|(_, h)| h.trim().to_lowercase() == wanted);
    match (found.next(), found.next()) {
        (Some((i, _)), None) => Ok(Some(i)),
        (Some(_), Some(_)) => Err(ConnectorError::Malformed(format!(
            "line 1: the column {name:?} appears twice"
        ))),
        (None, _) => {
            let mut have: String = header.iter().collect::<Vec<_>>().join(", ");
            have.truncate(have.floor_char_boundary(200));
            Err(ConnectorError::Malformed(format!(
                "line 1: no column {name:?} (the header has: {have})"
            )))
        }
    }
}

/// Line numbers from byte offsets: the `csv` crate counts `\r\n` lines one
/// short, and exports from Windows end their lines so.
struct Lines<'t> {
    text: &'t str,
    byte: usize,
    line: u64,
}

impl Lines<'_> {
    fn at(&mut self, position: Option<&::csv::Position>) -> u64 {
        let Some(byte) = position.and_then(|p| usize::try_from(p.byte()).ok()) else {
            return self.line;
        };
        // After a `\r\n` the crate starts the next record at the `\n`.
        let bytes = self.text.as_bytes();
        let end = if bytes.get(byte) == Some(&b'\n') {
            byte + 1
        } else {
            byte
        };
        if let Some(skipped) = bytes.get(self.byte..end) {
            self.line += skipped.iter().filter(|b| **b == b'\n').count() as u64;
            self.byte = end;
        }
        self.line
    }
}

fn row_error(e: ::csv::Error, lines: &mut Lines<'_>) -> ConnectorError {
    let line = lines.at(e.position());
    let what = match e.kind() {
        ::csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        _ => e.to_string(),
    };
    ConnectorError::Malformed(format!("line {line}: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::legacy::LegacyAccount;

    fn parse(
        bytes: &[u8],
        delimiter: u8,
        encoding: TextEncoding,
    ) -> Result<Vec<LegacyAccount>, ConnectorError> {
        let fields = FieldNames {
            status: "trang_thai".into(),
            ..FieldNames::default()
        };
        let layout = CsvLayout {
            delimiter,
            fields: &fields,
        };
        let mut accounts = Collector::new(&["active".into()], &|_| {});
        read(&decode(bytes, encoding)?, &layout, &mut accounts)?;
        Ok(accounts.finish())
    }

    const HEADER: &str = "Username,Display_Name,Email,Phone,Unit,Trang_Thai\r\n";

    #[test]
    fn reads_rows_with_quotes_any_header_case_and_a_status() {
        let text = format!(
            "{HEADER}tamtt,\"Trương Thanh Tâm, Phó GĐ\",tamtt@binhphuoc.gov.vn,0888778078,Sở Nội vụ,active\r\n\
             hungnv,Nguyễn Văn Hùng,,,,locked\r\n"
        );
        let accounts = parse(text.as_bytes(), b',', TextEncoding::Utf8).unwrap();
        assert_eq!(accounts.len(), 2);
        assert_eq!(accounts[0].display_name, "Trương Thanh Tâm, Phó GĐ");
        assert_eq!(accounts[0].unit.as_deref(), Some("Sở Nội vụ"));
        assert!(accounts[0].active);
        assert_eq!(accounts[1].email, None);
        assert!(!accounts[1].active);
    }

    #[test]
    fn a_utf8_byte_order_mark_is_dropped_before_the_header() {
        let text = format!("\u{feff}{HEADER}tamtt,Tâm,,,,\r\n");
        let accounts = parse(text.as_bytes(), b',', TextEncoding::Utf8).unwrap();
        assert_eq!(accounts[0].username, "tamtt");
    }

    #[test]
    fn utf16_is_found_by_its_byte_order_mark() {
        let text = format!("{HEADER}tamtt,Trương Thanh Tâm,,,,\r\n");
        let mut le = vec![0xff, 0xfe];
        le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let mut be = vec![0xfe, 0xff];
        be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        for bytes in [le, be] {
            let accounts = parse(&bytes, b',', TextEncoding::Utf8).unwrap();
            assert_eq!(accounts[0].display_name, "Trương Thanh Tâm");
        }
    }

    #[test]
    fn windows_1258_is_decoded_to_composed_text() {
        let text = format!("{HEADER}tamtt,Tâm,,,,\r\n");
        let (bytes, _, unmappable) = encoding_rs::WINDOWS_1258.encode(&text);
        assert!(!unmappable);
        let accounts = parse(&bytes, b',', TextEncoding::Windows1258).unwrap();
        assert_eq!(accounts[0].display_name, "Tâm");
        // "Trương Đức": ư and Đ are letters of the code page, the acute a combining mark (0xEC).
        let bytes = b"Tr\xfd\xf5ng \xd0\xfd\xecc";
        assert_eq!(
            decode(bytes, TextEncoding::Windows1258).unwrap(),
            "Trương Đức"
        );
    }

    #[test]
    fn bytes_that_are_not_the_encoding_are_an_error() {
        let e = parse(b"username\r\nt\xe2m\r\n", b',', TextEncoding::Utf8).unwrap_err();
        assert!(e.to_string().contains("not valid UTF-8"), "{e}");
    }

    #[test]
    fn the_delimiter_is_configurable() {
        let text =
            "username;display_name;email;phone;unit;trang_thai\r\na;A;;;Sở Tài chính, phòng 2;\r\n";
        let accounts = parse(text.as_bytes(), b';', TextEncoding::Utf8).unwrap();
        assert_eq!(accounts[0].unit.as_deref(), Some("Sở Tài chính, phòng 2"));
    }

    #[test]
    fn a_missing_column_is_named_with_what_the_header_has() {
        let e = parse(b"login,email\r\na,b\r\n", b',', TextEncoding::Utf8).unwrap_err();
        let e = e.to_string();
        assert!(
            e.contains("no column \"username\"") && e.contains("login, email"),
            "{e}"
        );
        let e = parse(b"username,USERNAME\r\na,b\r\n", b',', TextEncoding::Utf8).unwrap_err();
        assert!(e.to_string().contains("appears twice"), "{e}");
    }

    #[test]
    fn a_bad_line_is_named() {
        let text = format!("{HEADER}a,A,,,,\r\nb,B,,\r\n");
        let e = parse(text.as_bytes(), b',', TextEncoding::Utf8)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3: 4 fields where the header has 6"), "{e}");
    }

    #[test]
    fn a_row_without_username_and_a_duplicate_are_named() {
        let text = format!("{HEADER}a,A,,,,\r\n ,B,,,,\r\n");
        let e = parse(text.as_bytes(), b',', TextEncoding::Utf8)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3: no username"), "{e}");
        let text = format!("{HEADER}a,A,,,,\r\nb,B,,,,\r\na,C,,,,\r\n");
        let e = parse(text.as_bytes(), b',', TextEncoding::Utf8)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 4: duplicate username \"a\" (first at line 2)"),
            "{e}"
        );
    }

    #[test]
    fn an_empty_file_is_an_error() {
        let e = parse(b"", b',', TextEncoding::Utf8).unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
    }
}
