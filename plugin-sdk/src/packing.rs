//! The packed `cells` layout of the WIT contract, read and written on the guest side.
//!
//! Cell `i` (row-major, `width` cells a row) has the type `tags[i]` and the payload
//! `bytes[ends[i - 1]..ends[i]]`, with `ends[-1]` taken as 0. The host reads and writes
//! the same layout, so a chunk crosses the boundary as three buffers instead of one
//! allocation per cell.

use std::fmt;

use crate::bindings::ingest::importer::types::Cells;
use crate::date::{Date, DateTime};
use crate::value::{Cell, Value};

pub(crate) const TAG_EMPTY: u8 = 0;
pub(crate) const TAG_TEXT: u8 = 1;
pub(crate) const TAG_INTEGER: u8 = 2;
pub(crate) const TAG_FLOAT: u8 = 3;
pub(crate) const TAG_BOOLEAN: u8 = 4;
pub(crate) const TAG_DATE: u8 = 5;
pub(crate) const TAG_DATE_TIME: u8 = 6;

/// A packed buffer that breaks the layout's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PackingError {
    LengthMismatch { tags: usize, ends: usize },
    RaggedRows { cells: usize, width: u32 },
    InvalidOffset { index: usize, end: u32, len: usize },
    UnknownTag { index: usize, tag: u8 },
    InvalidPayload { index: usize, tag: u8, len: usize },
    NotUtf8 { index: usize },
    InvalidDate { index: usize, text: String },
}

impl fmt::Display for PackingError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PackingError::LengthMismatch { tags, ends } => {
                write!(formatter, "{tags} type tags but {ends} end offsets")
            }
            PackingError::RaggedRows { cells, width } => {
                write!(formatter, "{cells} cells do not fill whole rows of {width}")
            }
            PackingError::InvalidOffset { index, end, len } => write!(
                formatter,
                "cell {index} ends at byte {end}, outside the {len}-byte buffer or before the previous cell"
            ),
            PackingError::UnknownTag { index, tag } => write!(formatter, "cell {index} has the unknown type tag {tag}"),
            PackingError::InvalidPayload { index, tag, len } => write!(
                formatter,
                "cell {index} has a {len}-byte payload, which its type tag {tag} does not allow"
            ),
            PackingError::NotUtf8 { index } => write!(formatter, "cell {index} is not valid UTF-8"),
            PackingError::InvalidDate { index, text } => {
                write!(
                    formatter,
                    "cell {index} is tagged as a date or date-time but holds {text:?}"
                )
            }
        }
    }
}

/// Decodes every cell of `cells`, row-major, checking every rule of the layout.
pub(crate) fn unpack(cells: &Cells) -> Result<Vec<Cell<'_>>, PackingError> {
    if cells.tags.len() != cells.ends.len() {
        return Err(PackingError::LengthMismatch {
            tags: cells.tags.len(),
            ends: cells.ends.len(),
        });
    }
    let ragged = if cells.width == 0 {
        !cells.tags.is_empty()
    } else {
        !cells.tags.len().is_multiple_of(cells.width as usize)
    };
    if ragged {
        return Err(PackingError::RaggedRows {
            cells: cells.tags.len(),
            width: cells.width,
        });
    }

    let mut decoded = Vec::with_capacity(cells.tags.len());
    let mut start = 0usize;
    for (index, (&tag, &end)) in cells.tags.iter().zip(&cells.ends).enumerate() {
        let end_index = end as usize;
        if end_index < start || end_index > cells.bytes.len() {
            return Err(PackingError::InvalidOffset {
                index,
                end,
                len: cells.bytes.len(),
            });
        }
        decoded.push(decode(index, tag, &cells.bytes[start..end_index])?);
        start = end_index;
    }
    Ok(decoded)
}

fn decode(index: usize, tag: u8, payload: &[u8]) -> Result<Cell<'_>, PackingError> {
    let invalid_payload = || PackingError::InvalidPayload {
        index,
        tag,
        len: payload.len(),
    };
    let text = || std::str::from_utf8(payload).map_err(|_| PackingError::NotUtf8 { index });
    let eight_bytes = || <[u8; 8]>::try_from(payload).map_err(|_| invalid_payload());
    let invalid_date = |text: &str| PackingError::InvalidDate {
        index,
        text: text.to_owned(),
    };

    match tag {
        TAG_EMPTY if payload.is_empty() => Ok(Cell::Empty),
        TAG_EMPTY => Err(invalid_payload()),
        TAG_TEXT => Ok(Cell::Text(text()?)),
        TAG_INTEGER => Ok(Cell::Integer(i64::from_le_bytes(eight_bytes()?))),
        TAG_FLOAT => Ok(Cell::Float(f64::from_le_bytes(eight_bytes()?))),
        TAG_BOOLEAN => match payload {
            [0] => Ok(Cell::Boolean(false)),
            [1] => Ok(Cell::Boolean(true)),
            _ => Err(invalid_payload()),
        },
        TAG_DATE => {
            let text = text()?;
            Date::parse_iso(text).map(Cell::Date).ok_or_else(|| invalid_date(text))
        }
        TAG_DATE_TIME => {
            let text = text()?;
            DateTime::parse_iso(text)
                .map(Cell::DateTime)
                .ok_or_else(|| invalid_date(text))
        }
        _ => Err(PackingError::UnknownTag { index, tag }),
    }
}

/// Packs rows of values, one cell at a time, into the `cells` layout.
pub(crate) struct CellsWriter {
    cells: Cells,
}

impl CellsWriter {
    pub(crate) fn new(width: usize) -> Self {
        let width = u32::try_from(width).expect("a table has fewer than 2^32 columns");
        Self {
            cells: Cells {
                width,
                tags: Vec::new(),
                ends: Vec::new(),
                bytes: Vec::new(),
            },
        }
    }

    /// Appends one cell. Text is written as it is, so the caller converts each value to
    /// its column's type first.
    pub(crate) fn push(&mut self, value: &Value<'_>) {
        let bytes = &mut self.cells.bytes;
        let tag = match value {
            Value::Null => TAG_EMPTY,
            Value::Text(text) => {
                bytes.extend_from_slice(text.as_bytes());
                TAG_TEXT
            }
            Value::Integer(number) => {
                bytes.extend_from_slice(&number.to_le_bytes());
                TAG_INTEGER
            }
            Value::Float(number) => {
                bytes.extend_from_slice(&number.to_le_bytes());
                TAG_FLOAT
            }
            Value::Boolean(flag) => {
                bytes.push(u8::from(*flag));
                TAG_BOOLEAN
            }
            Value::Date(date) => {
                bytes.extend_from_slice(date.to_string().as_bytes());
                TAG_DATE
            }
            Value::DateTime(moment) => {
                bytes.extend_from_slice(moment.to_string().as_bytes());
                TAG_DATE_TIME
            }
        };
        let end = u32::try_from(self.cells.bytes.len()).expect("a chunk's records stay below 4 GiB");
        self.cells.tags.push(tag);
        self.cells.ends.push(end);
    }

    pub(crate) fn finish(self) -> Cells {
        self.cells
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pack(width: usize, values: &[Value<'_>]) -> Cells {
        let mut writer = CellsWriter::new(width);
        for value in values {
            writer.push(value);
        }
        writer.finish()
    }

    #[test]
    fn every_type_round_trips() {
        let date = Date::new(2007, 11, 9).unwrap();
        let moment = DateTime::parse_iso("2013-01-01T05:17:00.5").unwrap();
        let values = [
            Value::text("JFK"),
            Value::Integer(-7),
            Value::Null,
            Value::Float(40.5),
            Value::Boolean(true),
            Value::Date(date),
            Value::DateTime(moment),
            Value::text(""),
            Value::Boolean(false),
        ];
        let cells = pack(3, &values);

        assert_eq!(cells.width, 3);
        assert_eq!(cells.tags, [1, 2, 0, 3, 4, 5, 6, 1, 4]);
        let decoded = unpack(&cells).unwrap();
        let expected = [
            Cell::Text("JFK"),
            Cell::Integer(-7),
            Cell::Empty,
            Cell::Float(40.5),
            Cell::Boolean(true),
            Cell::Date(date),
            Cell::DateTime(moment),
            Cell::Text(""),
            Cell::Boolean(false),
        ];
        assert_eq!(decoded, expected);
    }

    #[test]
    fn payload_bytes_match_the_host_layout() {
        let cells = pack(2, &[Value::Integer(1), Value::Date(Date::new(2007, 11, 9).unwrap())]);
        assert_eq!(cells.ends, [8, 18]);
        assert_eq!(&cells.bytes[..8], &1i64.to_le_bytes());
        assert_eq!(&cells.bytes[8..], b"2007-11-09");
    }

    #[test]
    fn empty_chunk_unpacks_to_nothing() {
        let cells = Cells {
            width: 3,
            tags: vec![],
            ends: vec![],
            bytes: vec![],
        };
        assert_eq!(unpack(&cells).unwrap(), []);
    }

    #[test]
    fn malformed_buffers_are_rejected() {
        let cases = [
            (
                Cells {
                    width: 1,
                    tags: vec![TAG_TEXT],
                    ends: vec![],
                    bytes: vec![],
                },
                "type tags but",
            ),
            (
                Cells {
                    width: 2,
                    tags: vec![TAG_EMPTY],
                    ends: vec![0],
                    bytes: vec![],
                },
                "whole rows",
            ),
            (
                Cells {
                    width: 0,
                    tags: vec![TAG_EMPTY],
                    ends: vec![0],
                    bytes: vec![],
                },
                "whole rows",
            ),
            (
                Cells {
                    width: 1,
                    tags: vec![TAG_TEXT],
                    ends: vec![9],
                    bytes: vec![b'a'],
                },
                "outside",
            ),
            (
                Cells {
                    width: 2,
                    tags: vec![TAG_TEXT, TAG_TEXT],
                    ends: vec![1, 0],
                    bytes: vec![b'a'],
                },
                "before",
            ),
            (
                Cells {
                    width: 1,
                    tags: vec![42],
                    ends: vec![0],
                    bytes: vec![],
                },
                "unknown type tag 42",
            ),
            (
                Cells {
                    width: 1,
                    tags: vec![TAG_INTEGER],
                    ends: vec![3],
                    bytes: vec![1, 2, 3],
                },
                "3-byte payload",
            ),
            (
                Cells {
                    width: 1,
                    tags: vec![TAG_BOOLEAN],
                    ends: vec![1],
                    bytes: vec![2],
                },
                "1-byte payload",
            ),
            (
                Cells {
                    width: 1,
                    tags: vec![TAG_EMPTY],
                    ends: vec![1],
                    bytes: vec![0],
                },
                "1-byte payload",
            ),
            (
                Cells {
                    width: 1,
                    tags: vec![TAG_TEXT],
                    ends: vec![2],
                    bytes: vec![0xff, 0xfe],
                },
                "UTF-8",
            ),
            (
                Cells {
                    width: 1,
                    tags: vec![TAG_DATE],
                    ends: vec![10],
                    bytes: b"2007-02-30".to_vec(),
                },
                "date",
            ),
        ];
        for (cells, expected) in cases {
            let error = unpack(&cells).unwrap_err().to_string();
            assert!(error.contains(expected), "{error:?} should contain {expected:?}");
        }
    }
}
