//! JSON reader: an array of objects, or NDJSON (one JSON value per line), streamed.
//!
//! The document is never held in memory as a whole. An array is split into its elements by
//! a byte scanner that tracks strings and nesting, and NDJSON is split at line breaks. Each
//! element is then parsed on its own with serde_json, so at most one row is held at a time
//! and an element that is not valid JSON rejects only its row.
//!
//! Which layout a file has is decided by its first character (after a byte order mark and
//! whitespace): `[` is an array, `{` is NDJSON. Text must be UTF-8, as RFC 8259 requires,
//! or UTF-16 with a byte order mark. The `encoding` and `delimiter` options do not apply.
//!
//! Columns:
//! - Each row must be an object. Nested objects are flattened: `{"a": {"b": 1}}` has the
//!   column `a.b`, so an importer reads it with `.from("a.b")`. An empty nested object has
//!   no values, so it adds no column.
//! - The header is the union of the rows' keys in the order they are first seen. A key that
//!   appears only in a late row is a column like any other, because the header is built
//!   by a first pass over the whole file, before the first row is read. That pass parses
//!   every row once more and keeps only the key names.
//! - A row without one of the keys has an empty cell there. When one object repeats a key,
//!   or has both a dotted key such as `"a.b"` and a nested object that flattens to it, the
//!   value that comes last wins.
//! - Header names follow the shared rules of the `sources` module (trimmed, blank names
//!   and repeats renamed).
//!
//! Cells keep the JSON type: integers are integers, other numbers are floats and booleans
//! are booleans. A whole number beyond the range of i64 is text, so that no digit is lost.
//! `null` and `""` are empty, other strings are text, and an array is text that contains
//! its compact JSON, such as `[1,2]`.
//!
//! Rows are numbered by their position in the array or among the non-blank lines, from 1.
//! A row that is not an object, or not valid JSON, is rejected with its text as its only
//! raw cell. An empty array element (a doubled or trailing comma) is skipped.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::{RejectedRow, RowSource, SourceChunk, SourceError, name_headers};
use crate::cells::PackedCells;

/// The maximum size of one row, in bytes. A larger element stops the read, because the
/// reader keeps one whole row in memory to parse it.
pub(super) const MAX_ROW_BYTES: usize = 16 << 20;

/// The maximum number of distinct keys of all rows. Rows that share no keys, such as
/// objects keyed by record ids, would otherwise grow the header with every row.
pub(super) const MAX_COLUMNS: usize = 10_000;

/// Capacity of the buffered reader.
const BUFFER_LEN: usize = 64 * 1024;

/// Opens the stored file from its start, as a decoded UTF-8 byte stream.
pub(super) type Reopen = Box<dyn Fn() -> io::Result<Box<dyn Read + Send>> + Send>;

/// The layout of a document's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// `[ {...}, {...} ]`.
    Array,
    /// One value per line.
    Lines,
}

pub(super) struct JsonSource {
    scanner: Scanner,
    headers: Vec<String>,
    /// The column of each flattened key path, keyed by the path as the file spells it.
    columns: HashMap<String, usize>,
    /// The number of the last row read.
    row_number: u64,
    /// The element being read, reused between rows.
    element: Vec<u8>,
}

impl JsonSource {
    /// Reads the header from a first pass over the whole stream, then opens the stream
    /// again to read rows. `path` is the stored file, for error messages.
    pub(super) fn open(reopen: Reopen, path: &Path) -> Result<Self, SourceError> {
        let unreadable = |source| SourceError::Unreadable { path: path.to_owned(), source };

        let mut scanner = Scanner::new(reopen().map_err(unreadable)?, path)?;
        let raw_headers = collect_key_paths(&mut scanner)?;
        let columns = raw_headers.iter().enumerate().map(|(index, path)| (path.clone(), index)).collect();
        let headers = name_headers(raw_headers);

        let scanner = Scanner::new(reopen().map_err(unreadable)?, path)?;
        Ok(Self { scanner, headers, columns, row_number: 0, element: Vec::new() })
    }

    /// Appends the element in `self.element` as a row, a rejected row or nothing (a blank
    /// row).
    fn push_element(&self, line: u64, chunk: &mut SourceChunk) {
        let rejected = |message: String| RejectedRow {
            row_number: self.row_number,
            message,
            raw: vec![String::from_utf8_lossy(&self.element).into_owned()],
        };
        let value: Value = match serde_json::from_slice(&self.element) {
            Ok(value) => value,
            Err(error) => {
                let message = format!(
                    "row {} (line {}) is not valid JSON: {}; fix that row in the file",
                    self.row_number,
                    line + error.line().saturating_sub(1) as u64,
                    error_text(&error),
                );
                chunk.rejected.push(rejected(message));
                return;
            }
        };
        let Value::Object(object) = &value else {
            let message = format!(
                "row {} (line {line}) is {}, but each row must be a JSON object such as {{\"name\": \"value\"}}",
                self.row_number,
                kind_of(&value),
            );
            chunk.rejected.push(rejected(message));
            return;
        };

        let mut slots: Vec<Option<&Value>> = vec![None; self.headers.len()];
        let mut unknown = None;
        visit_leaves(object, &mut String::new(), &mut |path, leaf| match self.columns.get(path) {
            Some(&column) => slots[column] = Some(leaf),
            None => unknown = unknown.take().or_else(|| Some(path.to_owned())),
        });
        if let Some(path) = unknown {
            // The first pass saw every key, so only a file that changed between the two
            // passes gets here.
            let message = format!(
                "row {} (line {line}) has the key \"{path}\", which the first read of the file did not have; the file changed while it was read, so import it again",
                self.row_number,
            );
            chunk.rejected.push(rejected(message));
            return;
        }

        if slots.iter().all(|slot| slot.is_none_or(is_blank)) {
            return;
        }
        for slot in slots {
            push_cell(slot, &mut chunk.cells);
        }
        chunk.row_numbers.push(self.row_number);
    }
}

impl RowSource for JsonSource {
    fn headers(&self) -> &[String] {
        &self.headers
    }

    fn read_chunk(&mut self, max_rows: usize, chunk: &mut SourceChunk) -> Result<bool, SourceError> {
        chunk.reset(self.headers.len());
        let max_rows = max_rows.max(1);
        while chunk.rows_read() < max_rows {
            let Some(line) = self.scanner.next_element(&mut self.element, self.row_number + 1)? else {
                break;
            };
            self.row_number += 1;
            self.push_element(line, chunk);
        }
        Ok(chunk.rows_read() > 0)
    }
}

/// Reads every element once and returns the union of their flattened key paths, in the
/// order they are first seen. Elements that are not valid JSON objects are left for the
/// row pass to reject. When no element has a key, the file has no columns, and the error
/// names the first element that is not valid JSON, if there is one.
fn collect_key_paths(scanner: &mut Scanner) -> Result<Vec<String>, SourceError> {
    let mut paths = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut element = Vec::new();
    let mut row_number = 0;
    let mut first_invalid = None;
    while let Some(line) = scanner.next_element(&mut element, row_number + 1)? {
        row_number += 1;
        let object = match serde_json::from_slice::<Value>(&element) {
            Ok(Value::Object(object)) => object,
            Ok(_) => continue,
            Err(error) => {
                first_invalid.get_or_insert_with(|| format!("row {row_number} (line {line}): {}", error_text(&error)));
                continue;
            }
        };
        let mut too_many = false;
        visit_leaves(&object, &mut String::new(), &mut |path, _| {
            if !seen.contains(path) {
                if paths.len() == MAX_COLUMNS {
                    too_many = true;
                    return;
                }
                seen.insert(path.to_owned());
                paths.push(path.to_owned());
            }
        });
        if too_many {
            return Err(SourceError::InvalidJson {
                message: format!(
                    "the rows up to row {row_number} have more than {MAX_COLUMNS} distinct keys; a JSON file is read as a table, so its objects must share their keys as the rows of a table share its columns"
                ),
            });
        }
    }

    match first_invalid {
        Some(invalid) if paths.is_empty() => {
            let layout_rule = match scanner.layout {
                Layout::Array => "each element of the array must be an object",
                Layout::Lines => "a file that starts with { must have one whole object on each line (NDJSON)",
            };
            Err(SourceError::InvalidJson {
                message: format!(
                    "no row is an object with keys, and the first invalid row is {invalid}; {layout_rule}"
                ),
            })
        }
        _ if paths.is_empty() => Err(SourceError::NoJsonKeys),
        _ => Ok(paths),
    }
}

/// Calls `visit` with the flattened path and the value of every leaf of `object`: each
/// value that is not a non-empty object.
fn visit_leaves<'v>(object: &'v Map<String, Value>, path: &mut String, visit: &mut impl FnMut(&str, &'v Value)) {
    for (key, value) in object {
        let parent_len = path.len();
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
        match value {
            Value::Object(nested) => visit_leaves(nested, path, visit),
            leaf => visit(path, leaf),
        }
        path.truncate(parent_len);
    }
}

fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.trim().is_empty(),
        _ => false,
    }
}

fn push_cell(value: Option<&Value>, cells: &mut PackedCells) {
    match value {
        None | Some(Value::Null) => cells.push_empty(),
        Some(Value::Bool(flag)) => cells.push_boolean(*flag),
        Some(Value::Number(number)) => {
            if let Some(integer) = number.as_i64() {
                cells.push_integer(integer);
            } else if number.is_u64() {
                cells.push_text(&number.to_string());
            } else {
                cells.push_float(number.as_f64().expect("a number that is not an integer is a float"));
            }
        }
        Some(Value::String(text)) if text.is_empty() => cells.push_empty(),
        Some(Value::String(text)) => cells.push_text(text),
        Some(other) => cells.push_text(&other.to_string()),
    }
}

/// Names the kind of a JSON value with its article, for messages.
fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Returns serde_json's message without its position, which counts from the start of
/// the row, not of the file.
fn error_text(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    text.strip_suffix(&position).map(str::to_owned).unwrap_or(text)
}

/// Splits a JSON document into its row elements, one at a time.
struct Scanner {
    reader: BufReader<Box<dyn Read + Send>>,
    layout: Layout,
    /// The line of the next byte, from 1.
    line: u64,
    /// Set once the array's closing bracket or the end of the NDJSON stream is read.
    finished: bool,
    path: PathBuf,
}

impl Scanner {
    /// Reads up to the first row: the opening bracket of an array, or nothing for NDJSON.
    fn new(stream: Box<dyn Read + Send>, path: &Path) -> Result<Self, SourceError> {
        let reader = BufReader::with_capacity(BUFFER_LEN, stream);
        let mut scanner = Self { reader, layout: Layout::Lines, line: 1, finished: false, path: path.to_owned() };
        scanner.skip_whitespace()?;
        match scanner.peek()? {
            Some(b'[') => {
                scanner.reader.consume(1);
                scanner.layout = Layout::Array;
            }
            Some(b'{') => scanner.layout = Layout::Lines,
            Some(other) => {
                return Err(SourceError::InvalidJson {
                    message: format!(
                        "it must start with [ (an array of objects) or {{ (one object per line), not {:?}",
                        char::from(other)
                    ),
                });
            }
            None => return Err(SourceError::NoJsonKeys),
        }
        Ok(scanner)
    }

    fn unreadable(&self, source: io::Error) -> SourceError {
        SourceError::Unreadable { path: self.path.clone(), source }
    }

    fn peek(&mut self) -> Result<Option<u8>, SourceError> {
        loop {
            match self.reader.fill_buf() {
                Ok(buffer) => return Ok(buffer.first().copied()),
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(self.unreadable(error)),
            }
        }
    }

    fn skip_whitespace(&mut self) -> Result<(), SourceError> {
        while let Some(byte) = self.peek()? {
            if !byte.is_ascii_whitespace() {
                break;
            }
            if byte == b'\n' {
                self.line += 1;
            }
            self.reader.consume(1);
        }
        Ok(())
    }

    /// Reads the next element into `element` and returns the line it starts on, or
    /// `None` at the end of the document. `row_number` is the number the element will
    /// get, for error messages.
    fn next_element(&mut self, element: &mut Vec<u8>, row_number: u64) -> Result<Option<u64>, SourceError> {
        element.clear();
        match self.layout {
            Layout::Array => self.next_array_element(element, row_number),
            Layout::Lines => self.next_line(element, row_number),
        }
    }

    fn next_array_element(&mut self, element: &mut Vec<u8>, row_number: u64) -> Result<Option<u64>, SourceError> {
        loop {
            if self.finished {
                return Ok(None);
            }
            self.skip_whitespace()?;
            let start_line = self.line;
            let ended_array = self.scan_array_element(element, row_number)?;
            if ended_array {
                self.finished = true;
                self.check_trailing_content()?;
            }
            while element.last().is_some_and(u8::is_ascii_whitespace) {
                element.pop();
            }
            if !element.is_empty() {
                return Ok(Some(start_line));
            }
        }
    }

    /// Moves the bytes of one array element into `element`, consuming the comma or the
    /// closing bracket after it. Returns whether the array ended.
    fn scan_array_element(&mut self, element: &mut Vec<u8>, row_number: u64) -> Result<bool, SourceError> {
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        loop {
            let buffer = match self.reader.fill_buf() {
                Ok(buffer) => buffer,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(self.unreadable(error)),
            };
            if buffer.is_empty() {
                return Err(SourceError::InvalidJson {
                    message: format!(
                        "the array ends at line {} inside row {row_number}, before its closing ]; the file is incomplete",
                        self.line
                    ),
                });
            }

            let mut end = None;
            for (index, &byte) in buffer.iter().enumerate() {
                if byte == b'\n' {
                    self.line += 1;
                }
                if in_string {
                    match byte {
                        _ if escaped => escaped = false,
                        b'\\' => escaped = true,
                        b'"' => in_string = false,
                        _ => {}
                    }
                    continue;
                }
                match byte {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b']' if depth == 0 => {
                        end = Some((index, true));
                        break;
                    }
                    b',' if depth == 0 => {
                        end = Some((index, false));
                        break;
                    }
                    b'}' | b']' => depth = depth.saturating_sub(1),
                    _ => {}
                }
            }

            let (kept_len, ended) = match end {
                Some((index, ended_array)) => (index, Some(ended_array)),
                None => (buffer.len(), None),
            };
            element.extend_from_slice(&buffer[..kept_len]);
            // The separator itself is consumed but not kept.
            self.reader.consume(kept_len + usize::from(ended.is_some()));
            if element.len() > MAX_ROW_BYTES {
                return Err(row_too_large(row_number));
            }
            if let Some(ended_array) = ended {
                return Ok(ended_array);
            }
        }
    }

    /// Checks that only whitespace follows the array's closing bracket.
    fn check_trailing_content(&mut self) -> Result<(), SourceError> {
        self.skip_whitespace()?;
        match self.peek()? {
            None => Ok(()),
            Some(byte) => Err(SourceError::InvalidJson {
                message: format!(
                    "line {} has {:?} after the array's closing ]; a JSON file holds one array",
                    self.line,
                    char::from(byte)
                ),
            }),
        }
    }

    fn next_line(&mut self, element: &mut Vec<u8>, row_number: u64) -> Result<Option<u64>, SourceError> {
        loop {
            if self.finished {
                return Ok(None);
            }
            let start_line = self.line;
            loop {
                let buffer = match self.reader.fill_buf() {
                    Ok(buffer) => buffer,
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                    Err(error) => return Err(self.unreadable(error)),
                };
                if buffer.is_empty() {
                    self.finished = true;
                    break;
                }
                let newline = buffer.iter().position(|&byte| byte == b'\n');
                let line_len = newline.unwrap_or(buffer.len());
                element.extend_from_slice(&buffer[..line_len]);
                self.reader.consume(line_len + usize::from(newline.is_some()));
                if element.len() > MAX_ROW_BYTES {
                    return Err(row_too_large(row_number));
                }
                if newline.is_some() {
                    self.line += 1;
                    break;
                }
            }
            while element.last().is_some_and(u8::is_ascii_whitespace) {
                element.pop();
            }
            let leading = element.iter().take_while(|byte| byte.is_ascii_whitespace()).count();
            element.drain(..leading);
            if !element.is_empty() {
                return Ok(Some(start_line));
            }
        }
    }
}

fn row_too_large(row_number: u64) -> SourceError {
    SourceError::InvalidJson {
        message: format!(
            "row {row_number} is larger than {} MiB, the most one JSON row may hold; split the object into smaller rows",
            MAX_ROW_BYTES >> 20
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{Fixture, open_fixture, read_all};
    use super::super::{FileFormat, FormatOptions, SourceError, open};
    use super::*;
    use crate::cells::Cell;

    fn row(chunk: &SourceChunk, index: usize) -> Vec<Cell<'_>> {
        chunk.cells.row(index).collect()
    }

    fn open_error(name: &str, bytes: &[u8]) -> SourceError {
        let fixture = Fixture::new(name, bytes);
        match open(&fixture.path, name, &FormatOptions::default()) {
            Ok(_) => panic!("{name}: expected an error"),
            Err(error) => error,
        }
    }

    #[test]
    fn array_of_objects_typed_cells() {
        let bytes = br#"[
            {"name": "chevrolet", "mpg": 18, "acceleration": 12.5, "imported": false, "note": null},
            {"name": "", "mpg": -3, "acceleration": 1e2, "imported": true, "note": "a, \"quoted\" note"}
        ]"#;
        let mut source = open_fixture("cars.json", bytes, &FormatOptions::default());
        assert_eq!(source.headers(), ["name", "mpg", "acceleration", "imported", "note"]);

        let chunk = read_all(source.as_mut());
        assert!(chunk.rejected.is_empty(), "{:?}", chunk.rejected);
        assert_eq!(chunk.row_numbers, [1, 2]);
        assert_eq!(
            row(&chunk, 0),
            [Cell::Text("chevrolet"), Cell::Integer(18), Cell::Float(12.5), Cell::Boolean(false), Cell::Empty]
        );
        assert_eq!(
            row(&chunk, 1),
            [Cell::Empty, Cell::Integer(-3), Cell::Float(100.0), Cell::Boolean(true), Cell::Text("a, \"quoted\" note")]
        );
    }

    #[test]
    fn ndjson_lines() {
        let bytes = b"{\"id\": 1, \"city\": \"Z\\u00fcrich\"}\r\n\n  \n{\"id\": 2, \"city\": \"Bern\"}";
        let mut source = open_fixture("cities.ndjson", bytes, &FormatOptions::default());
        assert_eq!(source.headers(), ["id", "city"]);

        let chunk = read_all(source.as_mut());
        assert_eq!(chunk.row_numbers, [1, 2], "blank lines are not rows");
        assert_eq!(row(&chunk, 0), [Cell::Integer(1), Cell::Text("Zürich")]);
        assert_eq!(row(&chunk, 1), [Cell::Integer(2), Cell::Text("Bern")]);
    }

    #[test]
    fn nested_objects_flatten_to_dotted_headers() {
        let bytes = br#"[
            {"id": 1, "engine": {"cylinders": 8, "fuel": {"type": "petrol"}}, "meta": {}},
            {"id": 2, "engine": {"cylinders": 4}, "tags": ["fast", "red"], "a.b": 3, "a": {"b": 4}}
        ]"#;
        let mut source = open_fixture("nested.json", bytes, &FormatOptions::default());
        assert_eq!(source.headers(), ["id", "engine.cylinders", "engine.fuel.type", "tags", "a.b"]);

        let chunk = read_all(source.as_mut());
        assert_eq!(
            row(&chunk, 0),
            [Cell::Integer(1), Cell::Integer(8), Cell::Text("petrol"), Cell::Empty, Cell::Empty]
        );
        // The nested `a.b` comes after the dotted key, so its value wins.
        assert_eq!(
            row(&chunk, 1),
            [Cell::Integer(2), Cell::Integer(4), Cell::Empty, Cell::Text(r#"["fast","red"]"#), Cell::Integer(4)]
        );
    }

    #[test]
    fn late_keys_become_columns() {
        // The key `origin` first appears in a row far past the first chunk.
        let mut text = String::from("[");
        for index in 0..2500 {
            text.push_str(&format!("{{\"id\": {index}}},"));
        }
        text.push_str("{\"id\": 2500, \"origin\": \"USA\"}]");
        let mut source = open_fixture("late.json", text.as_bytes(), &FormatOptions::default());
        assert_eq!(source.headers(), ["id", "origin"]);

        let mut chunk = SourceChunk::default();
        assert!(source.read_chunk(1000, &mut chunk).unwrap());
        assert_eq!(chunk.cells.row_count(), 1000);
        assert_eq!(row(&chunk, 0), [Cell::Integer(0), Cell::Empty]);

        let mut last = Vec::new();
        while source.read_chunk(1000, &mut chunk).unwrap() {
            last = row(&chunk, chunk.cells.row_count() - 1).iter().map(|cell| cell.to_text()).collect();
        }
        assert_eq!(last, [Some("2500".to_owned()), Some("USA".to_owned())]);
    }

    #[test]
    fn header_names_follow_shared_rules() {
        let source = open_fixture("names.json", br#"[{" id ": 1, "": 2, "id": 3}]"#, &FormatOptions::default());
        assert_eq!(source.headers(), ["id", "column_2", "id_2"]);
    }

    #[test]
    fn big_integers_stay_text() {
        let bytes = br#"[{"small": 9223372036854775807, "big": 18446744073709551615, "float": 0.1}]"#;
        let mut source = open_fixture("numbers.json", bytes, &FormatOptions::default());
        let chunk = read_all(source.as_mut());
        assert_eq!(row(&chunk, 0), [Cell::Integer(i64::MAX), Cell::Text("18446744073709551615"), Cell::Float(0.1)]);
    }

    #[test]
    fn non_objects_and_invalid_rows_rejected() {
        let bytes = b"[\n{\"a\": 1},\n42,\n{\"a\": tru},\n\"text\",\n{\"a\": 2}\n]";
        let mut source = open_fixture("mixed.json", bytes, &FormatOptions::default());
        assert_eq!(source.headers(), ["a"]);
        let chunk = read_all(source.as_mut());

        assert_eq!(chunk.row_numbers, [1, 5]);
        assert_eq!(row(&chunk, 1), [Cell::Integer(2)]);
        let rejected: Vec<(u64, &str)> =
            chunk.rejected.iter().map(|rejected| (rejected.row_number, rejected.raw[0].as_str())).collect();
        assert_eq!(rejected, [(2, "42"), (3, "{\"a\": tru}"), (4, "\"text\"")]);
        assert_eq!(
            chunk.rejected[0].message,
            "row 2 (line 3) is a number, but each row must be a JSON object such as {\"name\": \"value\"}"
        );
        assert_eq!(
            chunk.rejected[1].message,
            "row 3 (line 4) is not valid JSON: expected ident; fix that row in the file"
        );
    }

    #[test]
    fn invalid_ndjson_line_rejected_alone() {
        let bytes = b"{\"a\": 1}\n{\"a\": \n{\"a\": 3} {\"a\": 4}\n{\"a\": 5}\n";
        let mut source = open_fixture("broken.ndjson", bytes, &FormatOptions::default());
        let chunk = read_all(source.as_mut());
        assert_eq!(chunk.row_numbers, [1, 4]);
        assert_eq!(row(&chunk, 1), [Cell::Integer(5)]);
        let rejected: Vec<u64> = chunk.rejected.iter().map(|rejected| rejected.row_number).collect();
        assert_eq!(rejected, [2, 3]);
        assert!(chunk.rejected[1].message.contains("trailing characters"), "{}", chunk.rejected[1].message);
    }

    #[test]
    fn blank_rows_and_empty_elements_skipped() {
        let bytes = br#"[{"a": 1, "b": "x"}, {}, {"a": null, "b": "  "}, , {"a": 2, "b": null},]"#;
        let mut source = open_fixture("blank.json", bytes, &FormatOptions::default());
        let chunk = read_all(source.as_mut());
        assert!(chunk.rejected.is_empty(), "{:?}", chunk.rejected);
        assert_eq!(chunk.row_numbers, [1, 4]);
        assert_eq!(row(&chunk, 1), [Cell::Integer(2), Cell::Empty]);
    }

    #[test]
    fn brackets_and_commas_inside_strings() {
        let bytes = br#"[{"text": "a ] , } [ { \" \\"}, {"text": "\\"}]"#;
        let mut source = open_fixture("strings.json", bytes, &FormatOptions::default());
        let chunk = read_all(source.as_mut());
        assert_eq!(row(&chunk, 0), [Cell::Text("a ] , } [ { \" \\")]);
        assert_eq!(row(&chunk, 1), [Cell::Text("\\")]);
    }

    #[test]
    fn chunks_split_rows_in_order() {
        let text: String = (1..=25).map(|index| format!("{{\"n\": {index}}}\n")).collect();
        let mut source = open_fixture("numbers.ndjson", text.as_bytes(), &FormatOptions::default());
        let mut chunk = SourceChunk::default();
        let mut numbers = Vec::new();
        while source.read_chunk(10, &mut chunk).unwrap() {
            assert!(chunk.rows_read() <= 10);
            numbers.extend(chunk.row_numbers.iter().copied());
        }
        assert_eq!(numbers, (1..=25).collect::<Vec<u64>>());
    }

    #[test]
    fn bom_utf16_and_gzip() {
        let text = r#"[{"city": "Zürich"}]"#;
        let mut utf8 = b"\xEF\xBB\xBF".to_vec();
        utf8.extend_from_slice(text.as_bytes());
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let mut gzip = Vec::new();
        {
            use std::io::Write;
            let mut encoder = flate2::write::GzEncoder::new(&mut gzip, flate2::Compression::fast());
            encoder.write_all(text.as_bytes()).unwrap();
            encoder.finish().unwrap();
        }
        for (name, bytes) in [("bom.json", utf8), ("utf16.json", utf16), ("cities.json.gz", gzip)] {
            let mut source = open_fixture(name, &bytes, &FormatOptions::default());
            assert_eq!(source.headers(), ["city"], "{name}");
            let chunk = read_all(source.as_mut());
            assert_eq!(row(&chunk, 0), [Cell::Text("Zürich")], "{name}");
        }
    }

    #[test]
    fn truncated_array_is_malformed() {
        let error = open_error("cut.json", b"[{\"a\": 1}, {\"a\": 2");
        assert_eq!(
            error.to_string(),
            "the JSON file could not be read: the array ends at line 1 inside row 2, before its closing ]; the file is incomplete"
        );
    }

    #[test]
    fn content_after_array_is_malformed() {
        let error = open_error("two.json", b"[{\"a\": 1}]\n[{\"a\": 2}]");
        assert!(matches!(&error, SourceError::InvalidJson { message } if message.contains("line 2")), "{error}");
    }

    #[test]
    fn empty_array_has_no_columns() {
        for (name, bytes) in [("empty.json", &b"[ ]"[..]), ("blank.json", b"[{}, {}]"), ("null.ndjson", b"{}\n")] {
            let error = open_error(name, bytes);
            assert!(matches!(error, SourceError::NoJsonKeys), "{name}: {error:?}");
        }
    }

    #[test]
    fn pretty_printed_object_is_invalid() {
        let error = open_error("object.json", b"{\n  \"name\": \"chevrolet\"\n}\n");
        assert_eq!(
            error.to_string(),
            "the JSON file could not be read: no row is an object with keys, and the first invalid row is row 1 (line 1): EOF while parsing an object; a file that starts with { must have one whole object on each line (NDJSON)"
        );
    }

    #[test]
    fn oversized_row_stops_the_read() {
        let mut text = String::from("[{\"a\": \"");
        text.push_str(&"x".repeat(MAX_ROW_BYTES + 1));
        text.push_str("\"}]");
        let error = open_error("huge.json", text.as_bytes());
        assert!(matches!(&error, SourceError::InvalidJson { message } if message.contains("16 MiB")), "{error}");
    }

    #[test]
    fn too_many_keys_rejected() {
        let text: String = (0..=MAX_COLUMNS).map(|index| format!("{{\"key{index}\": 1}}\n")).collect();
        let error = open_error("sparse.ndjson", text.as_bytes());
        assert!(matches!(&error, SourceError::InvalidJson { message } if message.contains("distinct keys")), "{error}");
    }

    #[test]
    fn json_detected_by_content_not_name() {
        let mut source = open_fixture("export.csv", br#"  [{"a": 1}]"#, &FormatOptions::default());
        assert_eq!(source.headers(), ["a"]);
        let chunk = read_all(source.as_mut());
        assert_eq!(row(&chunk, 0), [Cell::Integer(1)]);

        // A CSV whose first header is bracketed is still CSV, unless its name says JSON.
        let source = open_fixture("export.txt", b"[id],name\n1,x\n", &FormatOptions::default());
        assert_eq!(source.headers(), ["[id]", "name"]);
        let error = open_error("export.json", b"[id],name\n1,x\n");
        assert!(matches!(error, SourceError::InvalidJson { .. }), "{error:?}");
    }

    #[test]
    fn expected_json_rejects_other_formats() {
        let options = FormatOptions { expected: Some(FileFormat::Json), ..FormatOptions::default() };
        let fixture = Fixture::new("airlines.csv", b"carrier,name\n9E,Endeavor Air Inc.\n");
        let error = open(&fixture.path, "airlines.csv", &options).err().expect("CSV is rejected");
        let SourceError::UnsupportedFormat { found, expected } = &error else {
            panic!("expected UnsupportedFormat, got {error:?}");
        };
        assert_eq!(found, "a CSV or other text file");
        assert_eq!(*expected, "a JSON file (an array of objects or NDJSON)");
        assert_eq!(
            error.to_string(),
            "the file is a CSV or other text file, but a JSON file (an array of objects or NDJSON) was expected; save the data in that format and try again"
        );

        let mut source = open_fixture("cars.json", br#"[{"a": 1}]"#, &options);
        assert_eq!(source.headers(), ["a"]);
        assert_eq!(read_all(source.as_mut()).cells.row_count(), 1);
    }

    #[test]
    fn cars_json_reads_every_row() {
        let path = super::super::test_support::data_file("cars.json");
        let mut source = open(&path, "cars.json", &FormatOptions::default()).unwrap();
        assert_eq!(
            source.headers(),
            [
                "Name",
                "Miles_per_Gallon",
                "Cylinders",
                "Displacement",
                "Horsepower",
                "Weight_in_lbs",
                "Acceleration",
                "Year",
                "Origin"
            ]
        );
        let chunk = read_all(source.as_mut());
        assert!(chunk.rejected.is_empty(), "{:?}", chunk.rejected.first());
        assert_eq!(chunk.cells.row_count(), 406);
        assert_eq!(
            row(&chunk, 0),
            [
                Cell::Text("chevrolet chevelle malibu"),
                Cell::Integer(18),
                Cell::Integer(8),
                Cell::Integer(307),
                Cell::Integer(130),
                Cell::Integer(3504),
                Cell::Integer(12),
                Cell::Text("1970-01-01"),
                Cell::Text("USA"),
            ]
        );
        let empty_cells = (0..406).flat_map(|index| row(&chunk, index)).filter(|cell| *cell == Cell::Empty).count();
        assert_eq!(empty_cells, 14, "the file has 14 nulls");
    }
}
