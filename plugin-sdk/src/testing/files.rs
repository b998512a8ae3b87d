//! CSV and JSON files read into header names and owned cells, the way the host's readers
//! present them to an importer, for [`Harness::run_csv`](super::Harness::run_csv) and
//! [`Harness::run_json`](super::Harness::run_json).

use serde_json::{Map, Value as Json};

use crate::value::Cell;

/// A cell that owns its text, so that rows outlive the parsed document.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum OwnedCell {
    Empty,
    Text(String),
    Integer(i64),
    Float(f64),
    Boolean(bool),
}

impl OwnedCell {
    pub(super) fn as_cell(&self) -> Cell<'_> {
        match self {
            OwnedCell::Empty => Cell::Empty,
            OwnedCell::Text(text) => Cell::Text(text),
            OwnedCell::Integer(number) => Cell::Integer(*number),
            OwnedCell::Float(number) => Cell::Float(*number),
            OwnedCell::Boolean(flag) => Cell::Boolean(*flag),
        }
    }
}

/// A file's header row and data rows.
pub(super) struct Table {
    pub(super) headers: Vec<String>,
    pub(super) rows: Vec<Vec<OwnedCell>>,
}

/// Parses CSV text with `delimiter`, or with the delimiter its first line uses most often
/// when `delimiter` is `None`. Every field is text.
pub(super) fn read_csv(text: &str, delimiter: Option<u8>) -> Result<Table, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter.unwrap_or_else(|| sniff_delimiter(text)))
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|error| format!("The CSV header row is invalid: {error}"))?
        .iter()
        .map(str::to_owned)
        .collect();

    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|error| format!("CSV row {} is invalid: {error}", index + 1))?;
        if record.len() != headers.len() {
            return Err(format!(
                "CSV row {} has {} fields but the header has {}.",
                index + 1,
                record.len(),
                headers.len()
            ));
        }
        rows.push(record.iter().map(|field| OwnedCell::Text(field.to_owned())).collect());
    }
    Ok(Table { headers, rows })
}

/// Picks the one of `,`, `;`, tab and `|` that the first line contains most often, `,` on
/// a tie or when there is none.
fn sniff_delimiter(text: &str) -> u8 {
    let first_line = text.lines().next().unwrap_or_default();
    let mut best = (b',', first_line.matches(',').count());
    for candidate in [b';', b'\t', b'|'] {
        let count = first_line.bytes().filter(|&byte| byte == candidate).count();
        if count > best.1 {
            best = (candidate, count);
        }
    }
    best.0
}

/// Parses a JSON array of objects, or NDJSON (one object per line), as the host's JSON
/// reader does:
/// - nested objects are flattened to dotted headers, `{"a": {"b": 1}}` to `a.b`;
/// - the header is the union of the rows' keys in the order they are first seen, and a
///   row without a key has an empty cell there;
/// - integers stay integers (a whole number beyond `i64` becomes text), other numbers
///   are floats, `null` and `""` are empty, and an array is the text of its compact JSON.
///
/// Unlike the host, which fails a row that is not an object and goes on, this returns an
/// error naming the row.
pub(super) fn read_json(text: &str) -> Result<Table, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text).trim_start();
    let documents: Vec<Json> = if text.starts_with('[') {
        match serde_json::from_str::<Json>(text).map_err(|error| format!("The JSON array is invalid: {error}"))? {
            Json::Array(elements) => elements,
            _ => unreachable!("a document that starts with '[' is an array"),
        }
    } else {
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .enumerate()
            .map(|(index, line)| {
                serde_json::from_str(line).map_err(|error| format!("JSON row {} is invalid: {error}", index + 1))
            })
            .collect::<Result<_, _>>()?
    };

    let mut headers: Vec<String> = Vec::new();
    let mut objects: Vec<Vec<(String, OwnedCell)>> = Vec::with_capacity(documents.len());
    for (index, document) in documents.iter().enumerate() {
        let Json::Object(object) = document else {
            return Err(format!("JSON row {} is not an object: {document}", index + 1));
        };
        let mut fields = Vec::new();
        flatten(object, "", &mut fields);
        for (path, _) in &fields {
            if !headers.contains(path) {
                headers.push(path.clone());
            }
        }
        objects.push(fields);
    }

    let rows = objects
        .into_iter()
        .map(|fields| {
            let mut row = vec![OwnedCell::Empty; headers.len()];
            // A later field with the same path wins, as in the host's reader.
            for (path, cell) in fields {
                let position = headers.iter().position(|header| *header == path).expect("every path is a header");
                row[position] = cell;
            }
            row
        })
        .collect();
    Ok(Table { headers, rows })
}

fn flatten(object: &Map<String, Json>, prefix: &str, fields: &mut Vec<(String, OwnedCell)>) {
    for (key, value) in object {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        let cell = match value {
            Json::Object(nested) => {
                flatten(nested, &path, fields);
                continue;
            }
            Json::Null => OwnedCell::Empty,
            Json::String(text) if text.is_empty() => OwnedCell::Empty,
            Json::String(text) => OwnedCell::Text(text.clone()),
            Json::Bool(flag) => OwnedCell::Boolean(*flag),
            Json::Number(number) => match (number.as_i64(), number.is_f64()) {
                (Some(integer), _) => OwnedCell::Integer(integer),
                (None, false) => OwnedCell::Text(number.to_string()),
                (None, true) => OwnedCell::Float(number.as_f64().unwrap_or(f64::NAN)),
            },
            Json::Array(_) => OwnedCell::Text(value.to_string()),
        };
        fields.push((path, cell));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_delimiter_is_sniffed() {
        assert_eq!(sniff_delimiter("a;b;c\n1,2;3;4"), b';');
        assert_eq!(sniff_delimiter("a\tb"), b'\t');
        assert_eq!(sniff_delimiter("a|b,c|d"), b'|');
        assert_eq!(sniff_delimiter("single"), b',');
    }

    #[test]
    fn csv_fields_are_text() {
        let table = read_csv("\u{feff}a,b\n1,\"x, y\"\n", None).unwrap();
        assert_eq!(table.headers, ["a", "b"]);
        assert_eq!(table.rows, [vec![OwnedCell::Text("1".into()), OwnedCell::Text("x, y".into())]]);
    }

    #[test]
    fn json_objects_are_flattened() {
        let table = read_json(
            r#"[{"name": "Ada", "address": {"city": "London", "geo": {"lat": 51.5}}, "tags": ["a", 1], "empty": {}},
                {"name": "", "age": 36, "big": 18446744073709551615, "admin": true, "address": {"city": null}}]"#,
        )
        .unwrap();
        assert_eq!(
            table.headers,
            ["name", "address.city", "address.geo.lat", "tags", "age", "big", "admin"]
        );
        assert_eq!(
            table.rows[0],
            [
                OwnedCell::Text("Ada".into()),
                OwnedCell::Text("London".into()),
                OwnedCell::Float(51.5),
                OwnedCell::Text(r#"["a",1]"#.into()),
                OwnedCell::Empty,
                OwnedCell::Empty,
                OwnedCell::Empty,
            ]
        );
        assert_eq!(
            table.rows[1],
            [
                OwnedCell::Empty,
                OwnedCell::Empty,
                OwnedCell::Empty,
                OwnedCell::Empty,
                OwnedCell::Integer(36),
                OwnedCell::Text("18446744073709551615".into()),
                OwnedCell::Boolean(true),
            ]
        );
    }

    #[test]
    fn ndjson_lines_are_rows() {
        let table = read_json("{\"a\": 1}\n\n{\"b\": {\"c\": \"x\"}}\n").unwrap();
        assert_eq!(table.headers, ["a", "b.c"]);
        assert_eq!(table.rows.len(), 2);
        assert_eq!(table.rows[1][1], OwnedCell::Text("x".into()));
    }

    #[test]
    fn json_errors_name_the_row() {
        assert_eq!(read_json("[{\"a\": 1}, 2]").err().unwrap(), "JSON row 2 is not an object: 2");
        assert!(read_json("{\"a\": 1}\n{oops}").err().unwrap().starts_with("JSON row 2 is invalid: "));
        assert!(read_json("[{\"a\": 1}").err().unwrap().starts_with("The JSON array is invalid: "));
    }
}
