//! Content sniffing on the first bytes of a file: container, text encoding, delimiter.

use std::borrow::Cow;
use std::io::{self, Read};
use std::path::Path;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

use super::{SUPPORTED_FORMATS, SourceError};

/// Bytes read from the start of a stream to detect its format, encoding and delimiter.
pub(super) const SAMPLE_LEN: usize = 64 * 1024;

/// Records of the sample parsed with each candidate delimiter.
const SNIFF_RECORDS: usize = 100;

/// Delimiters tried by detection, in the order that breaks ties.
const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// Compound document (OLE2) signature: XLS workbooks and password-protected XLSX.
const OLE_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Reads up to [`SAMPLE_LEN`] bytes, fewer only at the end of the stream.
pub(super) fn read_sample(reader: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut sample = Vec::with_capacity(SAMPLE_LEN);
    reader.take(SAMPLE_LEN as u64).read_to_end(&mut sample)?;
    Ok(sample)
}

/// The extension of the uploaded file's name, lower-cased, with a `.gz` suffix removed.
#[derive(Debug, Clone, Default)]
pub(super) struct NameHint {
    extension: String,
}

impl NameHint {
    pub(super) fn from_file_name(name: &str) -> Self {
        let lower = name.to_ascii_lowercase();
        let inner = lower.strip_suffix(".gz").unwrap_or(&lower);
        let extension = Path::new(inner).extension().and_then(|extension| extension.to_str()).unwrap_or_default();
        Self { extension: extension.to_owned() }
    }

    pub(super) fn is_any(&self, extensions: &[&str]) -> bool {
        extensions.contains(&self.extension.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Container {
    Gzip,
    Zip,
    /// Neither compressed nor archived: read as text.
    Plain,
}

/// Classifies a stream by its magic bytes, rejecting binary formats that are known
/// not to be readable.
pub(super) fn container(prefix: &[u8], hint: &NameHint) -> Result<Container, SourceError> {
    if prefix.starts_with(&[0x1F, 0x8B]) {
        return Ok(Container::Gzip);
    }
    if prefix.starts_with(b"PK\x03\x04") || prefix.starts_with(b"PK\x05\x06") {
        return Ok(Container::Zip);
    }
    if prefix.starts_with(&OLE_MAGIC) {
        let found = if hint.is_any(&["xlsx", "xlsm"]) {
            "a password-protected XLSX workbook"
        } else if hint.is_any(&["xls"]) {
            "an XLS (Excel 97-2003) workbook"
        } else {
            "an XLS (Excel 97-2003) workbook or a password-protected XLSX workbook"
        };
        return Err(unsupported(found));
    }
    if prefix.starts_with(b"%PDF") {
        return Err(unsupported("a PDF document"));
    }
    Ok(Container::Plain)
}

pub(super) fn unsupported(found: &str) -> SourceError {
    SourceError::UnsupportedFormat { found: found.to_owned(), expected: SUPPORTED_FORMATS }
}

/// The encoding of a text stream and the length of its byte order mark.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct TextEncoding {
    pub encoding: &'static Encoding,
    pub bom_len: usize,
}

/// Detects the encoding: a byte order mark, else the requested label, else UTF-8 when
/// the sample is valid UTF-8, else Windows-1252 (the usual encoding of CSV files that
/// spreadsheet programs save on Western-language Windows systems).
pub(super) fn text_encoding(sample: &[u8], requested: Option<&str>) -> Result<TextEncoding, SourceError> {
    if let Some((encoding, bom_len)) = Encoding::for_bom(sample) {
        return Ok(TextEncoding { encoding, bom_len });
    }
    if let Some(label) = requested {
        let encoding = Encoding::for_label_no_replacement(label.trim().as_bytes()).ok_or_else(|| {
            SourceError::InvalidOption {
                message: format!(
                    "unknown text encoding \"{label}\"; use a WHATWG encoding label such as utf-8, windows-1252 or utf-16le"
                ),
            }
        })?;
        return Ok(TextEncoding { encoding, bom_len: 0 });
    }
    let encoding = match std::str::from_utf8(sample) {
        Ok(_) => UTF_8,
        // The sample may end in the middle of a character.
        Err(error) if error.error_len().is_none() => UTF_8,
        Err(_) => WINDOWS_1252,
    };
    Ok(TextEncoding { encoding, bom_len: 0 })
}

/// Decodes the sample (without its byte order mark) for sniffing.
pub(super) fn decode_sample<'a>(sample: &'a [u8], encoding: &'static Encoding) -> Cow<'a, str> {
    if encoding == UTF_8 {
        let valid_len = std::str::from_utf8(sample).map_or_else(|error| error.valid_up_to(), |text| text.len());
        let valid = std::str::from_utf8(&sample[..valid_len]).expect("the prefix up to valid_up_to is valid UTF-8");
        Cow::Borrowed(valid)
    } else {
        encoding.decode_without_bom_handling(sample).0
    }
}

/// Returns whether a text sample is JSON: its first character after a byte order mark
/// and whitespace is `[` or `{`, and the next one can follow it in JSON, so that a CSV
/// header such as `[id],name` stays CSV. A file named `.json`, `.ndjson` or `.jsonl` needs
/// only the first character, so that broken JSON is reported as JSON.
pub(super) fn is_json(sample: &[u8], hint: &NameHint) -> bool {
    let Ok(TextEncoding { encoding, bom_len }) = text_encoding(sample, None) else {
        return false;
    };
    let text = decode_sample(&sample[bom_len..], encoding);
    let mut characters = text.chars().filter(|character| !character.is_whitespace());
    let (first, second) = (characters.next(), characters.next());
    let named_json = hint.is_any(&["json", "ndjson", "jsonl"]);
    match first {
        Some('[') => named_json || matches!(second, Some('{' | '[' | ']' | '"' | '-' | '0'..='9')),
        Some('{') => named_json || matches!(second, Some('"' | '}')),
        _ => false,
    }
}

/// Rejects text that is recognizably not CSV: binary data, HTML or XML.
pub(super) fn check_text(text: &str) -> Result<(), SourceError> {
    if text.contains('\0') {
        return Err(unsupported("binary data, not text"));
    }
    let start = text.trim_start();
    let lower_start: String = start.chars().take(16).flat_map(char::to_lowercase).collect();
    if lower_start.starts_with("<!doctype html") || lower_start.starts_with("<html") {
        return Err(unsupported("an HTML page"));
    }
    if lower_start.starts_with("<?xml") {
        return Err(unsupported("an XML document"));
    }
    Ok(())
}

/// Picks the delimiter that splits the sample's header into the most consistent rows.
///
/// Each candidate parses up to [`SNIFF_RECORDS`] records, and one that splits the header
/// into fewer than two fields is out. A `.tsv` or `.tab` file is read with tabs whenever
/// every record splits like its header. Otherwise the winner has the largest share of
/// records with the header's field count, then the most fields, then comes first in
/// [`DELIMITERS`]. Without any winner the file has one column, and comma is as good as
/// any.
pub(super) fn sniff_delimiter(text: &str, complete: bool, hint: &NameHint) -> u8 {
    // Drop the last line of a cut sample, which may be partial.
    let text = match (complete, text.rfind('\n')) {
        (false, Some(last_newline)) => &text[..=last_newline],
        _ => text,
    };
    if hint.is_any(&["tsv", "tab"]) && delimiter_score(text, b'\t').is_some_and(|(consistency, _)| consistency == 1000) {
        return b'\t';
    }

    let mut best: Option<((u64, usize), u8)> = None;
    for delimiter in DELIMITERS {
        let Some(score) = delimiter_score(text, delimiter) else {
            continue;
        };
        if best.is_none_or(|(best_score, _)| score > best_score) {
            best = Some((score, delimiter));
        }
    }
    best.map_or(b',', |(_, delimiter)| delimiter)
}

/// Scores a delimiter as (per mille of data records with the header's field count,
/// header field count), or `None` when the header does not split.
fn delimiter_score(text: &str, delimiter: u8) -> Option<(u64, usize)> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut record = csv::ByteRecord::new();
    let mut header_fields = None;
    let (mut records, mut matching) = (0u64, 0u64);
    for _ in 0..SNIFF_RECORDS {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) | Err(_) => break,
        }
        if super::csv::is_blank(&record) {
            continue;
        }
        match header_fields {
            None => header_fields = Some(record.len()),
            Some(fields) => {
                records += 1;
                matching += u64::from(record.len() == fields);
            }
        }
    }
    let fields = header_fields.filter(|&fields| fields >= 2)?;
    let consistency = (matching * 1000).checked_div(records).unwrap_or(1000);
    Some((consistency, fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sniff(text: &str) -> char {
        char::from(sniff_delimiter(text, true, &NameHint::default()))
    }

    #[test]
    fn sniff_common_delimiters() {
        assert_eq!(sniff("a,b,c\n1,2,3\n"), ',');
        assert_eq!(sniff("a;b;c\n1;2;3\n"), ';');
        assert_eq!(sniff("a\tb\tc\n1\t2\t3\n"), '\t');
        assert_eq!(sniff("a|b|c\n1|2|3\n"), '|');
    }

    #[test]
    fn sniff_semicolon_with_decimal_commas() {
        assert_eq!(sniff("name;price;weight\nbolt;1,25;0,5\nnut;0,75;0,25\n"), ';');
    }

    #[test]
    fn sniff_ignores_delimiters_inside_quotes() {
        let text = "name;stage\n\"Adult, 1 Egg Stage\";x\n\"Chick, 2 Egg Stage\";y\n";
        assert_eq!(sniff(text), ';');
    }

    #[test]
    fn sniff_prefers_consistent_rows() {
        // Commas split the header in 2 but the rows in 1 to 3 fields, semicolons in 2 each.
        let text = "title, subtitle;year\nDune, Part One;2021\nTenet;2020\nAlien, The, Director's Cut;1979\n";
        assert_eq!(sniff(text), ';');
    }

    #[test]
    fn sniff_single_column_defaults_to_comma() {
        assert_eq!(sniff("name\nalpha\nbeta\n"), ',');
    }

    #[test]
    fn sniff_tsv_extension_prefers_tab() {
        let text = "a,b\tc,d\n1,2\t3,4\n";
        assert_eq!(sniff_delimiter(text, true, &NameHint::default()), b',');
        assert_eq!(sniff_delimiter(text, true, &NameHint::from_file_name("export.TSV")), b'\t');
    }

    #[test]
    fn hint_strips_gzip_suffix() {
        assert!(NameHint::from_file_name("flights.csv.gz").is_any(&["csv"]));
        assert!(NameHint::from_file_name("Report.XLSX").is_any(&["xlsx"]));
        assert!(!NameHint::from_file_name("noextension").is_any(&["csv"]));
    }

    #[test]
    fn encoding_from_bom_label_or_content() {
        let detect = |sample: &[u8], label: Option<&str>| text_encoding(sample, label).unwrap();
        assert_eq!(detect(b"\xEF\xBB\xBFa,b", None), TextEncoding { encoding: UTF_8, bom_len: 3 });
        assert_eq!(detect(b"\xFF\xFEa\0", None), TextEncoding { encoding: encoding_rs::UTF_16LE, bom_len: 2 });
        assert_eq!(detect(b"caf\xC3\xA9", None).encoding, UTF_8);
        // A sample cut inside a two-byte character is still UTF-8.
        assert_eq!(detect(b"caf\xC3", None).encoding, UTF_8);
        assert_eq!(detect(b"caf\xE9,na\xEFve", None).encoding, WINDOWS_1252);
        assert_eq!(detect(b"a,b", Some("latin1")).encoding, WINDOWS_1252);
        assert!(matches!(text_encoding(b"a,b", Some("klingon")), Err(SourceError::InvalidOption { .. })));
    }
}
