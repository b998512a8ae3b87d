//! CSV reader on the `csv` crate.
//!
//! The stream is read as bytes, record by record, into one reused `ByteRecord`, and each
//! field goes straight into the chunk's [`PackedCells`] as text (an empty field as an
//! empty cell). A file in another encoding than UTF-8 is transcoded to UTF-8 as it is
//! read. Quoting follows RFC 4180: double quotes, a doubled quote inside a quoted
//! field, and newlines (LF or CRLF) inside quoted fields. A quote that is never closed
//! fails the row it opens in (see [`quotes`]).

mod quotes;

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use encoding_rs::{CoderResult, Decoder, Encoding, UTF_8};

use super::detect::{self, NameHint, TextEncoding};
use super::{FormatOptions, RejectedRow, RowSource, SourceChunk, SourceError, name_headers};
use crate::cells::PackedCells;

/// Capacity of the CSV reader's buffer and of the transcoder's buffers.
const BUFFER_LEN: usize = 64 * 1024;

/// Length in bytes up to which the fields of a row with an unclosed quote are kept for
/// the failed row's data. The field that opened the quote contains the rest of the file.
const UNCLOSED_FIELD_KEPT_BYTES: usize = 1024;

pub(super) struct CsvSource {
    reader: csv::Reader<Box<dyn Read + Send>>,
    /// The stored file, for error messages.
    path: PathBuf,
    headers: Vec<String>,
    record: csv::ByteRecord,
    /// The number of the last data row read.
    row_number: u64,
    /// Set once the stream has ended inside a quoted field. The last record read then
    /// contains everything from the unclosed quote to the end of the file.
    ended_in_quotes: Arc<AtomicBool>,
}

impl CsvSource {
    /// Reads the header of a CSV stream whose first bytes, `sample`, were already read
    /// from it for detection; `rest` continues right after them.
    pub(super) fn open(
        mut sample: Vec<u8>,
        rest: Box<dyn Read + Send>,
        path: &Path,
        hint: &NameHint,
        options: &FormatOptions,
    ) -> Result<Self, SourceError> {
        let complete = sample.len() < detect::SAMPLE_LEN;
        let TextEncoding { encoding, bom_len } = detect::text_encoding(&sample, options.encoding.as_deref())?;
        sample.drain(..bom_len);

        let text = detect::decode_sample(&sample, encoding);
        detect::check_text(&text)?;
        let delimiter = match options.delimiter {
            Some(delimiter) => checked_delimiter(delimiter)?,
            None => detect::sniff_delimiter(&text, complete, hint),
        };
        drop(text);

        let stream = io::Cursor::new(sample).chain(rest);
        let stream: Box<dyn Read + Send> =
            if encoding == UTF_8 { Box::new(stream) } else { Box::new(Utf8Transcoder::new(stream, encoding)) };
        let (stream, ended_in_quotes) = quotes::QuoteTracker::new(stream, delimiter);
        let stream: Box<dyn Read + Send> = Box::new(stream);
        let reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(BUFFER_LEN)
            .from_reader(stream);

        let mut source = Self {
            reader,
            path: path.to_owned(),
            headers: Vec::new(),
            record: csv::ByteRecord::new(),
            row_number: 0,
            ended_in_quotes,
        };
        source.headers = source.read_header()?;
        Ok(source)
    }

    fn read_header(&mut self) -> Result<Vec<String>, SourceError> {
        loop {
            if !self.next_record()? {
                return Err(SourceError::EmptyFile { sheet: None });
            }
            if self.ended_in_quotes() {
                return Err(SourceError::UnclosedHeaderQuote { line: self.record_line() });
            }
            if !is_blank(&self.record) {
                return Ok(name_headers(self.record.iter().map(|field| String::from_utf8_lossy(field).into_owned())));
            }
        }
    }

    fn next_record(&mut self) -> Result<bool, SourceError> {
        self.reader.read_byte_record(&mut self.record).map_err(|error| {
            if error.is_io_error() {
                let csv::ErrorKind::Io(source) = error.into_kind() else {
                    unreachable!("is_io_error() holds");
                };
                SourceError::Unreadable { path: self.path.clone(), source }
            } else {
                SourceError::Malformed { row_number: self.row_number + 1, message: error.to_string() }
            }
        })
    }

    /// Checks whether the current record is the one that ran into the end of the file
    /// from an unclosed quote.
    fn ended_in_quotes(&self) -> bool {
        self.ended_in_quotes.load(Ordering::Relaxed)
    }

    /// Returns the line the current record starts on, counted from 1.
    fn record_line(&self) -> u64 {
        self.record.position().map_or(0, csv::Position::line)
    }

    /// Appends the current record to `chunk`, or a [`RejectedRow`] when it has an
    /// unclosed quote, the wrong number of fields or a field that is not UTF-8.
    fn push_record(&self, chunk: &mut SourceChunk) {
        let width = self.headers.len();
        let line = self.record_line();
        if self.ended_in_quotes() {
            // The line is where the record starts. The quote opens on a later line only
            // when an earlier field of the same record has a quoted line break.
            let message = format!(
                "row {} (line {line}) opens a quoted field whose closing quote is missing, so everything up to the end of the file was read into that field; add the missing closing quote (\") and upload the file again",
                self.row_number,
            );
            let mut rejected = self.rejected_row(message);
            for field in &mut rejected.raw {
                truncate_field(field);
            }
            chunk.rejected.push(rejected);
            return;
        }
        if self.record.len() != width {
            let fields = self.record.len();
            let message = format!(
                "row {} (line {line}) has {fields} field{} but the header has {width}; check that row for a missing or extra delimiter, or a delimiter inside an unquoted value",
                self.row_number,
                if fields == 1 { "" } else { "s" },
            );
            chunk.rejected.push(self.rejected_row(message));
            return;
        }

        let first_cell = chunk.cells.tags.len();
        if let Err(column) = push_fields(&self.record, &mut chunk.cells) {
            chunk.cells.truncate_cells(first_cell);
            let message = format!(
                "row {} (line {line}) has text that is not valid UTF-8 in column \"{}\"; save the file as UTF-8 and upload it again",
                self.row_number, self.headers[column],
            );
            chunk.rejected.push(self.rejected_row(message));
            return;
        }
        chunk.row_numbers.push(self.row_number);
    }

    fn rejected_row(&self, message: String) -> RejectedRow {
        let raw = self.record.iter().map(|field| String::from_utf8_lossy(field).into_owned()).collect();
        RejectedRow { row_number: self.row_number, message, raw }
    }
}

impl RowSource for CsvSource {
    fn headers(&self) -> &[String] {
        &self.headers
    }

    fn read_chunk(&mut self, max_rows: usize, chunk: &mut SourceChunk) -> Result<bool, SourceError> {
        chunk.reset(self.headers.len());
        let max_rows = max_rows.max(1);
        while chunk.rows_read() < max_rows {
            if !self.next_record()? {
                break;
            }
            self.row_number += 1;
            if is_blank(&self.record) && !self.ended_in_quotes() {
                continue;
            }
            self.push_record(chunk);
        }
        Ok(chunk.rows_read() > 0)
    }

    fn count_rest(&mut self) -> Result<u64, SourceError> {
        let mut count = 0;
        while self.next_record()? {
            self.row_number += 1;
            if !is_blank(&self.record) {
                count += 1;
            }
        }
        Ok(count)
    }
}

/// Shortens a field to [`UNCLOSED_FIELD_KEPT_BYTES`] at a character boundary, marking
/// the cut with an ellipsis.
fn truncate_field(field: &mut String) {
    if field.len() <= UNCLOSED_FIELD_KEPT_BYTES {
        return;
    }
    let mut end = UNCLOSED_FIELD_KEPT_BYTES;
    while !field.is_char_boundary(end) {
        end -= 1;
    }
    field.truncate(end);
    field.push('…');
}

/// Pushes every field as text, or returns the column of the first field that is not
/// valid UTF-8 (the cells pushed before it stay, for the caller to truncate).
fn push_fields(record: &csv::ByteRecord, cells: &mut PackedCells) -> Result<(), usize> {
    for (column, field) in record.iter().enumerate() {
        if field.is_empty() {
            cells.push_empty();
        } else {
            cells.push_text(std::str::from_utf8(field).map_err(|_| column)?);
        }
    }
    Ok(())
}

/// Returns whether every field of the record is empty or ASCII whitespace.
pub(super) fn is_blank(record: &csv::ByteRecord) -> bool {
    record.iter().all(|field| field.iter().all(u8::is_ascii_whitespace))
}

fn checked_delimiter(delimiter: u8) -> Result<u8, SourceError> {
    if !delimiter.is_ascii() || matches!(delimiter, b'"' | b'\r' | b'\n') {
        return Err(SourceError::InvalidOption {
            message: format!(
                "the delimiter byte 0x{delimiter:02X} cannot separate CSV fields; choose an ASCII character other than a double quote or a line break"
            ),
        });
    }
    Ok(delimiter)
}

/// Decodes a stream in a legacy or UTF-16 encoding to UTF-8 as it is read. Invalid
/// input becomes U+FFFD, as the WHATWG Encoding Standard specifies.
pub(super) struct Utf8Transcoder<R> {
    inner: R,
    decoder: Decoder,
    input: Box<[u8]>,
    input_start: usize,
    input_end: usize,
    input_done: bool,
    output: Box<[u8]>,
    output_start: usize,
    output_end: usize,
    /// Set once the decoder has flushed the end of the input.
    finished: bool,
}

impl<R: Read> Utf8Transcoder<R> {
    pub(super) fn new(inner: R, encoding: &'static Encoding) -> Self {
        Self {
            inner,
            decoder: encoding.new_decoder_without_bom_handling(),
            input: vec![0; BUFFER_LEN].into_boxed_slice(),
            input_start: 0,
            input_end: 0,
            input_done: false,
            // Large enough for the decoder to make progress on any input character.
            output: vec![0; BUFFER_LEN].into_boxed_slice(),
            output_start: 0,
            output_end: 0,
            finished: false,
        }
    }

    fn fill_input(&mut self) -> io::Result<()> {
        let read = loop {
            match self.inner.read(&mut self.input) {
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                result => break result?,
            }
        };
        self.input_start = 0;
        self.input_end = read;
        self.input_done = read == 0;
        Ok(())
    }
}

impl<R: Read> Read for Utf8Transcoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.output_start == self.output_end {
            if self.finished {
                return Ok(0);
            }
            if self.input_start == self.input_end && !self.input_done {
                self.fill_input()?;
            }
            let input = &self.input[self.input_start..self.input_end];
            let (result, read, written, _) = self.decoder.decode_to_utf8(input, &mut self.output, self.input_done);
            self.input_start += read;
            self.output_start = 0;
            self.output_end = written;
            if self.input_done && result == CoderResult::InputEmpty {
                self.finished = true;
            }
        }
        let len = buf.len().min(self.output_end - self.output_start);
        buf[..len].copy_from_slice(&self.output[self.output_start..self.output_start + len]);
        self.output_start += len;
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{Fixture, data_file, open_fixture, read_all};
    use super::super::{FormatOptions, SourceChunk, SourceError, open};
    use super::*;
    use crate::cells::Cell;

    fn texts(chunk: &SourceChunk, row: usize) -> Vec<Cell<'_>> {
        chunk.cells.row(row).collect()
    }

    #[test]
    fn count_matches_rows_read() {
        // Blank rows are skipped, a ragged row counts as a rejected row, and a quoted line
        // break stays inside its row.
        let bytes: &[u8] = b"name,note\n\nbolt,\"two\nlines\"\nnut\n , \nscrew,ok\n";
        let read = read_all(open_fixture("count.csv", bytes, &FormatOptions::default()).as_mut());
        let counted = open_fixture("count.csv", bytes, &FormatOptions::default()).count_rest().unwrap();

        assert_eq!(read.rows_read(), 3);
        assert_eq!(read.rejected.len(), 1);
        assert_eq!(counted, 3);
    }

    #[test]
    fn count_after_a_chunk_counts_the_rest() {
        let mut source = open_fixture("rest.csv", b"n\n1\n2\n3\n", &FormatOptions::default());
        let mut chunk = SourceChunk::default();
        source.read_chunk(1, &mut chunk).unwrap();

        assert_eq!(source.count_rest().unwrap(), 2);
    }

    #[test]
    fn penguins_raw_csv() {
        let path = data_file("penguins-raw.csv");
        let mut source = open(&path, "penguins-raw.csv", &FormatOptions::default()).unwrap();
        assert_eq!(source.headers().len(), 17);
        assert_eq!(source.headers()[0], "studyName");
        assert_eq!(source.headers()[9], "Culmen Length (mm)");
        assert_eq!(source.headers()[16], "Comments");

        let chunk = read_all(source.as_mut());
        assert_eq!(chunk.cells.row_count(), 344);
        assert!(chunk.rejected.is_empty(), "{:?}", chunk.rejected.first());
        assert_eq!(chunk.row_numbers, (1..=344).collect::<Vec<u64>>());

        let first = texts(&chunk, 0);
        assert_eq!(first[1], Cell::Text("1"));
        // The quoted comma stays inside one field.
        assert_eq!(first[5], Cell::Text("Adult, 1 Egg Stage"));
        assert_eq!(first[8], Cell::Text("2007-11-11"));
        assert_eq!(first[14], Cell::Text("NA"));
    }

    #[test]
    fn airports_csv_in_chunks() {
        let path = data_file("airports.csv");
        let mut source = open(&path, "airports.csv", &FormatOptions::default()).unwrap();
        assert_eq!(source.headers(), ["iata", "name", "city", "state", "country", "latitude", "longitude"]);

        let mut chunk = SourceChunk::default();
        let (mut rows, mut chunks, mut last_row_number) = (0, 0, 0);
        while source.read_chunk(1000, &mut chunk).unwrap() {
            assert!(chunk.rows_read() <= 1000);
            assert!(chunk.rejected.is_empty());
            assert_eq!(chunk.row_numbers[0], last_row_number + 1, "row numbers continue across chunks");
            last_row_number = *chunk.row_numbers.last().unwrap();
            rows += chunk.cells.row_count();
            chunks += 1;
        }
        assert_eq!(rows, 3376);
        assert_eq!(chunks, 4);
        assert_eq!(last_row_number, 3376);
    }

    #[test]
    fn flights_gzip_streamed() {
        let path = data_file("flights.csv.gz");
        let mut source = open(&path, "flights.csv.gz", &FormatOptions::default()).unwrap();
        assert_eq!(source.headers().len(), 19);
        assert_eq!(source.headers()[9], "carrier");

        let mut chunk = SourceChunk::default();
        let mut rows = 0;
        let mut first = None;
        while source.read_chunk(10_000, &mut chunk).unwrap() {
            assert!(chunk.rejected.is_empty());
            if first.is_none() {
                first = Some(chunk.cells.row(0).map(|cell| cell.to_text()).collect::<Vec<_>>());
            }
            rows += chunk.cells.row_count();
        }
        assert_eq!(rows, 336_776);
        let first = first.unwrap();
        assert_eq!(first[9].as_deref(), Some("UA"));
        assert_eq!(first[18].as_deref(), Some("2013-01-01T10:00:00Z"));
    }

    #[test]
    fn semicolon_delimiter_detected() {
        let mut source = open_fixture("prices.csv", b"name;price\nbolt;1,25\nnut;0,75\n", &FormatOptions::default());
        assert_eq!(source.headers(), ["name", "price"]);
        let chunk = read_all(source.as_mut());
        assert_eq!(texts(&chunk, 0), [Cell::Text("bolt"), Cell::Text("1,25")]);
        assert_eq!(texts(&chunk, 1), [Cell::Text("nut"), Cell::Text("0,75")]);
    }

    #[test]
    fn tab_delimiter_detected() {
        let mut source = open_fixture("export.txt", b"code\tcity\nJFK\tNew York, NY\n", &FormatOptions::default());
        assert_eq!(source.headers(), ["code", "city"]);
        let chunk = read_all(source.as_mut());
        assert_eq!(texts(&chunk, 0), [Cell::Text("JFK"), Cell::Text("New York, NY")]);
    }

    #[test]
    fn delimiter_option_overrides_detection() {
        let options = FormatOptions { delimiter: Some(b'|'), ..FormatOptions::default() };
        let mut source = open_fixture("piped.csv", b"a,b|c\n1,2|3\n", &options);
        assert_eq!(source.headers(), ["a,b", "c"]);
        let chunk = read_all(source.as_mut());
        assert_eq!(texts(&chunk, 0), [Cell::Text("1,2"), Cell::Text("3")]);
    }

    #[test]
    fn delimiter_option_rejects_quote() {
        let fixture = Fixture::new("quote.csv", b"a,b\n");
        let options = FormatOptions { delimiter: Some(b'"'), ..FormatOptions::default() };
        let error = open(&fixture.path, "quote.csv", &options).err().unwrap();
        assert!(matches!(error, SourceError::InvalidOption { .. }), "{error}");
    }

    #[test]
    fn bom_crlf_and_quoted_newline() {
        let bytes = b"\xEF\xBB\xBFid,note\r\n1,\"first line\r\nsecond line\"\r\n2,\"say \"\"hi\"\"\"\r\n";
        let mut source = open_fixture("notes.csv", bytes, &FormatOptions::default());
        assert_eq!(source.headers(), ["id", "note"], "the BOM is not part of the first name");
        let chunk = read_all(source.as_mut());
        assert_eq!(chunk.row_numbers, [1, 2]);
        assert_eq!(texts(&chunk, 0), [Cell::Text("1"), Cell::Text("first line\r\nsecond line")]);
        assert_eq!(texts(&chunk, 1), [Cell::Text("2"), Cell::Text("say \"hi\"")]);
    }

    #[test]
    fn headers_trimmed_and_renamed() {
        let source = open_fixture("names.csv", b" id , name ,,name\n1,a,b,c\n", &FormatOptions::default());
        assert_eq!(source.headers(), ["id", "name", "column_3", "name_2"]);
    }

    #[test]
    fn empty_fields_are_empty_cells() {
        let mut source = open_fixture("gaps.csv", b"a,b,c,d\n,\"\", ,x\n", &FormatOptions::default());
        let chunk = read_all(source.as_mut());
        // A whitespace-only field is text: the importer decides what it means.
        assert_eq!(texts(&chunk, 0), [Cell::Empty, Cell::Empty, Cell::Text(" "), Cell::Text("x")]);
    }

    #[test]
    fn ragged_row_rejected_and_reading_goes_on() {
        let bytes = b"a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n";
        let mut source = open_fixture("ragged.csv", bytes, &FormatOptions::default());
        let chunk = read_all(source.as_mut());
        assert_eq!(chunk.row_numbers, [1, 4]);
        assert_eq!(texts(&chunk, 1), [Cell::Text("10"), Cell::Text("11"), Cell::Text("12")]);

        assert_eq!(chunk.rejected.len(), 2);
        let short = &chunk.rejected[0];
        assert_eq!(short.row_number, 2);
        assert_eq!(short.raw, ["4", "5"]);
        assert!(short.message.starts_with("row 2 (line 3) has 2 fields but the header has 3;"), "{}", short.message);
        let long = &chunk.rejected[1];
        assert_eq!(long.row_number, 3);
        assert_eq!(long.raw, ["6", "7", "8", "9"]);
        assert!(long.message.starts_with("row 3 (line 4) has 4 fields but the header has 3;"), "{}", long.message);
    }

    #[test]
    fn unclosed_quote_fails_its_row() {
        let bytes = b"id,note\n1,fine\n2,\"open\n3,swallowed\n4,too\n";
        let mut source = open_fixture("unclosed.csv", bytes, &FormatOptions::default());
        let chunk = read_all(source.as_mut());

        assert_eq!(chunk.row_numbers, [1], "only the row before the quote is read as data");
        assert_eq!(chunk.rejected.len(), 1);
        let rejected = &chunk.rejected[0];
        assert_eq!(rejected.row_number, 2);
        assert!(rejected.message.starts_with("row 2 (line 3) opens a quoted field whose closing quote is missing"), "{}", rejected.message);
        assert_eq!(rejected.raw, ["2", "open\n3,swallowed\n4,too\n"]);
    }

    #[test]
    fn unclosed_quote_in_last_column_is_not_imported() {
        // The record has as many fields as the header, so only the quote check stops it.
        let mut bytes = b"id,note\n1,\"open\n".to_vec();
        bytes.extend(std::iter::repeat_n(b'x', 3 * UNCLOSED_FIELD_KEPT_BYTES));
        let mut source = open_fixture("unclosed-last.csv", &bytes, &FormatOptions::default());
        let chunk = read_all(source.as_mut());

        assert!(chunk.row_numbers.is_empty());
        assert_eq!(chunk.rejected.len(), 1);
        let kept = &chunk.rejected[0].raw[1];
        assert!(kept.ends_with('…'), "{kept}");
        assert!(kept.len() <= UNCLOSED_FIELD_KEPT_BYTES + '…'.len_utf8(), "{} bytes kept", kept.len());
    }

    #[test]
    fn quoted_field_at_end_of_file_is_data() {
        let mut source = open_fixture("closed.csv", b"id,note\n1,\"two\nlines\"", &FormatOptions::default());
        let chunk = read_all(source.as_mut());

        assert!(chunk.rejected.is_empty(), "{:?}", chunk.rejected);
        assert_eq!(texts(&chunk, 0), [Cell::Text("1"), Cell::Text("two\nlines")]);
    }

    #[test]
    fn unclosed_quote_in_header_is_an_error() {
        let fixture = Fixture::new("header-quote.csv", b"id,\"note\n1,2\n");
        let error = open(&fixture.path, "header-quote.csv", &FormatOptions::default()).err().unwrap();

        assert!(matches!(error, SourceError::UnclosedHeaderQuote { line: 1 }), "{error}");
        assert!(error.to_string().contains("closing quote is missing"), "{error}");
    }

    #[test]
    fn blank_lines_skipped() {
        let bytes = b"\n\na,b\n1,2\n\n   \n3,4\n\n\r\n \n";
        let mut source = open_fixture("blank.csv", bytes, &FormatOptions::default());
        assert_eq!(source.headers(), ["a", "b"]);
        let chunk = read_all(source.as_mut());
        assert!(chunk.rejected.is_empty(), "{:?}", chunk.rejected);
        // The whitespace line is a record and takes a number, but empty lines are not records.
        assert_eq!(chunk.row_numbers, [1, 3]);
        assert_eq!(texts(&chunk, 1), [Cell::Text("3"), Cell::Text("4")]);
    }

    #[test]
    fn header_only_file_has_no_rows() {
        let mut source = open_fixture("header.csv", b"a,b\n", &FormatOptions::default());
        assert_eq!(source.headers(), ["a", "b"]);
        let mut chunk = SourceChunk::default();
        assert!(!source.read_chunk(100, &mut chunk).unwrap());
        assert_eq!(chunk.rows_read(), 0);
    }

    #[test]
    fn windows_1252_transcoded() {
        let bytes = b"name;city\nJos\xE9;Z\xFCrich\nRen\xE9e;S\xE3o Paulo\n";
        let mut source = open_fixture("legacy.csv", bytes, &FormatOptions::default());
        assert_eq!(source.headers(), ["name", "city"]);
        let chunk = read_all(source.as_mut());
        assert_eq!(texts(&chunk, 0), [Cell::Text("José"), Cell::Text("Zürich")]);
        assert_eq!(texts(&chunk, 1), [Cell::Text("Renée"), Cell::Text("São Paulo")]);
    }

    #[test]
    fn utf16_with_bom_transcoded() {
        let text = "code\tname\nJFK\tJohn F. Kennedy\nZRH\tZürich\n";
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let mut source = open_fixture("unicode.txt", &bytes, &FormatOptions::default());
        assert_eq!(source.headers(), ["code", "name"]);
        let chunk = read_all(source.as_mut());
        assert_eq!(texts(&chunk, 1), [Cell::Text("ZRH"), Cell::Text("Zürich")]);
    }

    #[test]
    fn encoding_option_names_legacy_encoding() {
        // The bytes are also valid UTF-8, but the requested encoding wins.
        let options = FormatOptions { encoding: Some("windows-1252".to_owned()), ..FormatOptions::default() };
        let mut source = open_fixture("named.csv", b"a,b\n\xC3\xA9,x\n", &options);
        let chunk = read_all(source.as_mut());
        assert_eq!(texts(&chunk, 0), [Cell::Text("Ã©"), Cell::Text("x")]);
    }

    #[test]
    fn invalid_utf8_after_sample_rejects_row() {
        // The first 64 KiB are ASCII, so the file is read as UTF-8. A later Latin-1 byte
        // rejects only its row.
        let mut bytes = b"id,name\n".to_vec();
        let mut rows = 0;
        while bytes.len() < detect::SAMPLE_LEN + 100 {
            rows += 1;
            bytes.extend_from_slice(format!("{rows},plain\n").as_bytes());
        }
        bytes.extend_from_slice(b"0,caf\xE9\nlast,row\n");
        let mut source = open_fixture("late.csv", &bytes, &FormatOptions::default());
        let chunk = read_all(source.as_mut());

        assert_eq!(chunk.cells.row_count(), rows + 1);
        assert_eq!(chunk.rejected.len(), 1);
        let rejected = &chunk.rejected[0];
        assert_eq!(rejected.row_number, rows as u64 + 1);
        assert_eq!(rejected.raw, ["0", "caf\u{FFFD}"]);
        assert!(rejected.message.contains("not valid UTF-8 in column \"name\""), "{}", rejected.message);
        assert_eq!(texts(&chunk, rows), [Cell::Text("last"), Cell::Text("row")]);
    }

    #[test]
    fn transcoder_handles_characters_split_across_reads() {
        // One byte per read splits every UTF-16 code unit across two reads.
        struct OneByte<'a>(&'a [u8]);
        impl Read for OneByte<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let Some((&first, rest)) = self.0.split_first() else { return Ok(0) };
                if buf.is_empty() {
                    return Ok(0);
                }
                buf[0] = first;
                self.0 = rest;
                Ok(1)
            }
        }
        let bytes: Vec<u8> = "Zürich, 東京 🚀".encode_utf16().flat_map(u16::to_be_bytes).collect();
        let mut text = String::new();
        Utf8Transcoder::new(OneByte(&bytes), encoding_rs::UTF_16BE).read_to_string(&mut text).unwrap();
        assert_eq!(text, "Zürich, 東京 🚀");
    }
}
