//! Typed cells packed the way they cross into an importer.
//!
//! Sources write rows straight into a [`PackedCells`], the importer runtime hands its
//! buffers to the guest unchanged, and the guest's records come back in the same form,
//! so no row is ever held as one allocation per cell. The layout is the `cells` record
//! of the WIT contract: one type tag per cell, one end offset per cell, and one byte
//! buffer holding every payload.

use chrono::{NaiveDate, NaiveDateTime};

pub const TAG_EMPTY: u8 = 0;
pub const TAG_TEXT: u8 = 1;
pub const TAG_INTEGER: u8 = 2;
pub const TAG_FLOAT: u8 = 3;
pub const TAG_BOOLEAN: u8 = 4;
pub const TAG_DATE: u8 = 5;
pub const TAG_DATE_TIME: u8 = 6;

/// One cell, borrowed from a [`PackedCells`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    Empty,
    Text(&'a str),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    /// `YYYY-MM-DD`.
    Date(&'a str),
    /// `YYYY-MM-DDTHH:MM:SS`, optionally with a fraction; UTC without an offset.
    DateTime(&'a str),
}

impl Cell<'_> {
    /// Renders the cell as a spreadsheet would show it, for JSON and CSV output of rows.
    pub fn to_text(&self) -> Option<String> {
        match *self {
            Cell::Empty => None,
            Cell::Text(text) | Cell::Date(text) | Cell::DateTime(text) => Some(text.to_owned()),
            Cell::Integer(value) => Some(value.to_string()),
            Cell::Float(value) => Some(value.to_string()),
            Cell::Boolean(value) => Some(value.to_string()),
        }
    }

    /// Converts the cell to JSON, keeping numbers and booleans typed.
    pub fn to_json(&self) -> serde_json::Value {
        match *self {
            Cell::Empty => serde_json::Value::Null,
            Cell::Text(text) | Cell::Date(text) | Cell::DateTime(text) => text.into(),
            Cell::Integer(value) => value.into(),
            Cell::Float(value) => serde_json::Number::from_f64(value)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Cell::Boolean(value) => value.into(),
        }
    }
}

/// Row-major cells of a fixed number of columns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PackedCells {
    pub width: u32,
    pub tags: Vec<u8>,
    pub ends: Vec<u32>,
    pub bytes: Vec<u8>,
}

/// A packed buffer that breaks the layout's rules, as a guest may send back.
#[derive(Debug, thiserror::Error)]
pub enum PackingError {
    #[error("{tags} type tags but {ends} end offsets")]
    LengthMismatch { tags: usize, ends: usize },
    #[error("{cells} cells do not fill whole rows of {width}")]
    RaggedRows { cells: usize, width: u32 },
    #[error("cell {index} ends at byte {end}, outside the {len}-byte buffer or before the previous cell")]
    BadOffset { index: usize, end: u32, len: usize },
    #[error("cell {index} has the unknown type tag {tag}")]
    UnknownTag { index: usize, tag: u8 },
    #[error("cell {index} has a {len}-byte payload, which its type tag {tag} does not allow")]
    BadPayload { index: usize, tag: u8, len: usize },
    #[error("cell {index} is not valid UTF-8")]
    NotUtf8 { index: usize },
}

impl PackedCells {
    pub fn new(width: u32) -> Self {
        Self { width, ..Self::default() }
    }

    pub fn clear(&mut self) {
        self.tags.clear();
        self.ends.clear();
        self.bytes.clear();
    }

    pub fn row_count(&self) -> usize {
        if self.width == 0 { 0 } else { self.tags.len() / self.width as usize }
    }

    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }

    pub fn push_empty(&mut self) {
        self.finish_cell(TAG_EMPTY);
    }

    pub fn push_text(&mut self, text: &str) {
        self.bytes.extend_from_slice(text.as_bytes());
        self.finish_cell(TAG_TEXT);
    }

    pub fn push_integer(&mut self, value: i64) {
        self.bytes.extend_from_slice(&value.to_le_bytes());
        self.finish_cell(TAG_INTEGER);
    }

    pub fn push_float(&mut self, value: f64) {
        self.bytes.extend_from_slice(&value.to_le_bytes());
        self.finish_cell(TAG_FLOAT);
    }

    pub fn push_boolean(&mut self, value: bool) {
        self.bytes.push(u8::from(value));
        self.finish_cell(TAG_BOOLEAN);
    }

    pub fn push_date(&mut self, date: NaiveDate) {
        self.bytes.extend_from_slice(date.format("%Y-%m-%d").to_string().as_bytes());
        self.finish_cell(TAG_DATE);
    }

    pub fn push_date_time(&mut self, moment: NaiveDateTime) {
        let text = moment.format("%Y-%m-%dT%H:%M:%S%.f").to_string();
        self.bytes.extend_from_slice(text.as_bytes());
        self.finish_cell(TAG_DATE_TIME);
    }

    pub fn push_cell(&mut self, cell: Cell<'_>) {
        match cell {
            Cell::Empty => self.push_empty(),
            Cell::Text(text) => self.push_text(text),
            Cell::Integer(value) => self.push_integer(value),
            Cell::Float(value) => self.push_float(value),
            Cell::Boolean(value) => self.push_boolean(value),
            Cell::Date(text) => {
                self.bytes.extend_from_slice(text.as_bytes());
                self.finish_cell(TAG_DATE);
            }
            Cell::DateTime(text) => {
                self.bytes.extend_from_slice(text.as_bytes());
                self.finish_cell(TAG_DATE_TIME);
            }
        }
    }

    /// Removes the cells after the first `cells`, to drop a row that was half written.
    pub fn truncate_cells(&mut self, cells: usize) {
        if cells >= self.tags.len() {
            return;
        }
        let byte_end = if cells == 0 { 0 } else { self.ends[cells - 1] as usize };
        self.tags.truncate(cells);
        self.ends.truncate(cells);
        self.bytes.truncate(byte_end);
    }

    /// Copies rows `rows` into a new buffer of the same width.
    pub fn slice_rows(&self, rows: std::ops::Range<usize>) -> PackedCells {
        let width = self.width as usize;
        let (first, last) = (rows.start * width, rows.end * width);
        let byte_start = if first == 0 { 0 } else { self.ends[first - 1] };
        PackedCells {
            width: self.width,
            tags: self.tags[first..last].to_vec(),
            ends: self.ends[first..last].iter().map(|end| end - byte_start).collect(),
            bytes: self.bytes[byte_start as usize..if last == 0 { 0 } else { self.ends[last - 1] as usize }].to_vec(),
        }
    }

    /// Appends the rows of `other`, which must have the same width.
    pub fn append(&mut self, other: &PackedCells) {
        debug_assert_eq!(self.width, other.width);
        let offset = self.bytes.len() as u32;
        self.tags.extend_from_slice(&other.tags);
        self.ends.extend(other.ends.iter().map(|end| end + offset));
        self.bytes.extend_from_slice(&other.bytes);
    }

    fn finish_cell(&mut self, tag: u8) {
        self.tags.push(tag);
        self.ends.push(self.bytes.len() as u32);
    }

    /// Returns cell `column` of row `row`. Panics when out of range or when the buffer was
    /// not checked by [`PackedCells::validate`] after coming from a guest.
    pub fn get(&self, row: usize, column: usize) -> Cell<'_> {
        let index = row * self.width as usize + column;
        let start = if index == 0 { 0 } else { self.ends[index - 1] as usize };
        let payload = &self.bytes[start..self.ends[index] as usize];
        decode(self.tags[index], payload).expect("cells are validated before they are read")
    }

    pub fn row(&self, row: usize) -> impl Iterator<Item = Cell<'_>> + '_ {
        (0..self.width as usize).map(move |column| self.get(row, column))
    }

    /// Checks every rule of the layout, so that [`PackedCells::get`] cannot panic.
    pub fn validate(&self) -> Result<(), PackingError> {
        if self.tags.len() != self.ends.len() {
            return Err(PackingError::LengthMismatch { tags: self.tags.len(), ends: self.ends.len() });
        }
        if self.width == 0 && !self.tags.is_empty()
            || self.width != 0 && self.tags.len() % self.width as usize != 0
        {
            return Err(PackingError::RaggedRows { cells: self.tags.len(), width: self.width });
        }
        let mut start = 0usize;
        for (index, (&tag, &end)) in self.tags.iter().zip(&self.ends).enumerate() {
            let end_usize = end as usize;
            if end_usize < start || end_usize > self.bytes.len() {
                return Err(PackingError::BadOffset { index, end, len: self.bytes.len() });
            }
            let payload = &self.bytes[start..end_usize];
            decode(tag, payload).map_err(|problem| problem.at(index, tag, payload.len()))?;
            start = end_usize;
        }
        Ok(())
    }
}

#[derive(Debug)]
enum DecodeProblem {
    UnknownTag,
    BadPayload,
    NotUtf8,
}

impl DecodeProblem {
    fn at(self, index: usize, tag: u8, len: usize) -> PackingError {
        match self {
            DecodeProblem::UnknownTag => PackingError::UnknownTag { index, tag },
            DecodeProblem::BadPayload => PackingError::BadPayload { index, tag, len },
            DecodeProblem::NotUtf8 => PackingError::NotUtf8 { index },
        }
    }
}

fn decode(tag: u8, payload: &[u8]) -> Result<Cell<'_>, DecodeProblem> {
    let text = || std::str::from_utf8(payload).map_err(|_| DecodeProblem::NotUtf8);
    let eight = || <[u8; 8]>::try_from(payload).map_err(|_| DecodeProblem::BadPayload);
    match tag {
        TAG_EMPTY if payload.is_empty() => Ok(Cell::Empty),
        TAG_TEXT => Ok(Cell::Text(text()?)),
        TAG_INTEGER => Ok(Cell::Integer(i64::from_le_bytes(eight()?))),
        TAG_FLOAT => Ok(Cell::Float(f64::from_le_bytes(eight()?))),
        TAG_BOOLEAN if payload.len() == 1 && payload[0] <= 1 => Ok(Cell::Boolean(payload[0] == 1)),
        TAG_DATE => Ok(Cell::Date(text()?)),
        TAG_DATE_TIME => Ok(Cell::DateTime(text()?)),
        TAG_EMPTY | TAG_BOOLEAN => Err(DecodeProblem::BadPayload),
        _ => Err(DecodeProblem::UnknownTag),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_round_trip_through_the_packing() {
        let mut cells = PackedCells::new(3);
        cells.push_text("JFK");
        cells.push_integer(-7);
        cells.push_empty();
        cells.push_float(40.5);
        cells.push_boolean(true);
        cells.push_date(NaiveDate::from_ymd_opt(2007, 11, 9).unwrap());

        cells.validate().unwrap();
        assert_eq!(cells.row_count(), 2);
        assert_eq!(cells.row(0).collect::<Vec<_>>(), [Cell::Text("JFK"), Cell::Integer(-7), Cell::Empty]);
        assert_eq!(
            cells.row(1).collect::<Vec<_>>(),
            [Cell::Float(40.5), Cell::Boolean(true), Cell::Date("2007-11-09")]
        );
    }

    #[test]
    fn truncate_drops_a_half_written_row() {
        let mut cells = PackedCells::new(2);
        cells.push_text("kept");
        cells.push_text("row");
        cells.push_text("half");
        cells.truncate_cells(2);

        cells.validate().unwrap();
        assert_eq!(cells.row_count(), 1);
        assert_eq!(cells.bytes, b"keptrow");
    }

    #[test]
    fn slices_and_appends_keep_rows_whole() {
        let mut cells = PackedCells::new(2);
        for (name, count) in [("a", 1), ("bb", 2), ("ccc", 3)] {
            cells.push_text(name);
            cells.push_integer(count);
        }

        let middle = cells.slice_rows(1..3);
        middle.validate().unwrap();
        assert_eq!(middle.row(0).collect::<Vec<_>>(), [Cell::Text("bb"), Cell::Integer(2)]);

        let mut joined = cells.slice_rows(0..1);
        joined.append(&middle);
        joined.validate().unwrap();
        assert_eq!(joined, cells);
    }

    #[test]
    fn validate_rejects_malformed_guest_buffers() {
        let short_integer = PackedCells { width: 1, tags: vec![TAG_INTEGER], ends: vec![3], bytes: vec![1, 2, 3] };
        assert!(matches!(short_integer.validate(), Err(PackingError::BadPayload { .. })));

        let past_the_end = PackedCells { width: 1, tags: vec![TAG_TEXT], ends: vec![9], bytes: vec![b'a'] };
        assert!(matches!(past_the_end.validate(), Err(PackingError::BadOffset { .. })));

        let unknown = PackedCells { width: 1, tags: vec![42], ends: vec![0], bytes: vec![] };
        assert!(matches!(unknown.validate(), Err(PackingError::UnknownTag { .. })));

        let ragged = PackedCells { width: 2, tags: vec![TAG_EMPTY], ends: vec![0], bytes: vec![] };
        assert!(matches!(ragged.validate(), Err(PackingError::RaggedRows { .. })));

        let bad_text = PackedCells { width: 1, tags: vec![TAG_TEXT], ends: vec![2], bytes: vec![0xff, 0xfe] };
        assert!(matches!(bad_text.validate(), Err(PackingError::NotUtf8 { .. })));
    }
}
