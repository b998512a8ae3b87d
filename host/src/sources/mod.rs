//! File readers: open a stored file and read its rows in chunks of [`PackedCells`].
//!
//! [`open`] detects the format by content, with the original file name as a hint. Gzip
//! is decompressed as a stream and detected again. A ZIP archive is read as an XLSX
//! workbook, text that starts with `[` or `{` as JSON, and any other text as CSV.
//! Rows come out in chunks of at most the requested size, so a caller keeps only one
//! chunk in memory at a time.
//!
//! Files reach the storage directory from an upload, from an import directory (see
//! [`import_dirs`]) or from a URL (see the `fetch` module). The readers only see the
//! stored copy.
//!
//! Rules shared by every format:
//! - The header row is the first row that is not blank. Header names are trimmed. A
//!   blank name becomes `column_N`, where N is the 1-based position of the column. A
//!   name that repeats an earlier one (compared exactly, case included) gets the suffix
//!   `_2`, then `_3` and so on, skipping any suffixed name that the header already
//!   contains, so `a,a,a_2` reads as `a,a_3,a_2`.
//! - Row numbers count data rows from 1, the row just below the header. A CSV row
//!   number counts records, so a quoted newline does not advance it and an empty line
//!   is skipped without a number. An XLSX row number is the distance from the header
//!   row in the sheet, so it stays aligned with the sheet when blank rows are skipped.
//! - Blank rows (every cell empty or whitespace) are skipped, and their row numbers are
//!   left out of the sequence.
//! - A row that cannot be read (wrong number of fields, invalid text, an error cell) is
//!   returned as a [`RejectedRow`] with its raw cells, and reading goes on.
//!
//! CSV cells are all text; the importer decides their types. XLSX cells keep the type
//! the workbook stores (see the `xlsx` module), and JSON cells the type of their JSON
//! value (see the `json` module, which also says how nested objects become columns).

mod csv;
mod detect;
pub mod import_dirs;
mod json;
mod xlsx;

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::cells::PackedCells;
use crate::plugins::description::{FormatSpec, SourceKind};

use self::detect::{Container, NameHint};

/// Rows read by one [`RowSource::read_chunk`] call.
#[derive(Debug, Clone, Default)]
pub struct SourceChunk {
    /// The rows that were read, one cell per header.
    pub cells: PackedCells,
    /// The row number of each row in `cells`, in the same order.
    pub row_numbers: Vec<u64>,
    /// Rows that could not be read, in file order.
    pub rejected: Vec<RejectedRow>,
}

impl SourceChunk {
    pub fn new(width: usize) -> Self {
        Self { cells: PackedCells::new(cell_width(width)), row_numbers: Vec::new(), rejected: Vec::new() }
    }

    /// Empties the chunk and sets its width, keeping the allocated buffers.
    pub fn reset(&mut self, width: usize) {
        self.cells.clear();
        self.cells.width = cell_width(width);
        self.row_numbers.clear();
        self.rejected.clear();
    }

    /// Counts the rows read into the chunk, rejected ones included.
    pub fn rows_read(&self) -> usize {
        self.row_numbers.len() + self.rejected.len()
    }
}

fn cell_width(width: usize) -> u32 {
    u32::try_from(width).expect("a header has fewer than 2^32 columns")
}

/// A row that could not be read, kept with its raw cells so that it can be reported
/// and downloaded.
#[derive(Debug, Clone, PartialEq)]
pub struct RejectedRow {
    pub row_number: u64,
    /// A one-sentence description of the problem and of the fix.
    pub message: String,
    /// The row's cells as text, as many as the row has (which may differ from the
    /// header's count).
    pub raw: Vec<String>,
}

/// A readable file: its header and then its rows, chunk by chunk.
pub trait RowSource: Send {
    /// Returns the column names, normalized as the module documentation describes.
    fn headers(&self) -> &[String];

    /// Resets `chunk` to the header's width, then reads up to `max_rows` rows into it.
    /// Rejected rows count toward `max_rows` but skipped blank rows do not, and a
    /// `max_rows` of 0 reads one row. Returns `Ok(false)` once the file is exhausted and
    /// nothing more was read.
    fn read_chunk(&mut self, max_rows: usize, chunk: &mut SourceChunk) -> Result<bool, SourceError>;

    /// Reads the rest of the source and counts the rows [`RowSource::read_chunk`] would
    /// return, rejected ones included. Sources that can count without building cells
    /// override it.
    fn count_rest(&mut self) -> Result<u64, SourceError> {
        let mut chunk = SourceChunk::new(self.headers().len());
        let mut count = 0;
        while self.read_chunk(10_000, &mut chunk)? {
            count += chunk.rows_read() as u64;
        }
        Ok(count)
    }
}

/// A worksheet of a workbook, by name or by position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SheetChoice {
    /// The sheet's name. An exact match wins, else case is ignored, as a spreadsheet
    /// program does.
    Name(String),
    /// The 0-based position in workbook order, hidden sheets included.
    Index(usize),
}

/// A file format that [`open`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    Xlsx,
    Json,
}

impl FileFormat {
    /// Names the format with its article, as [`SourceError::UnsupportedFormat`] expects.
    pub fn description(self) -> &'static str {
        match self {
            FileFormat::Csv => "a CSV file",
            FileFormat::Xlsx => "an XLSX workbook",
            FileFormat::Json => "a JSON file (an array of objects or NDJSON)",
        }
    }
}

/// Options for reading a file. The default detects everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormatOptions {
    /// The only format accepted; a file in another format is rejected as
    /// [`SourceError::UnsupportedFormat`]. Default: every format.
    pub expected: Option<FileFormat>,
    /// XLSX: the sheet to read. Default: the first visible worksheet.
    pub sheet: Option<SheetChoice>,
    /// XLSX: the 1-based sheet row of the header. Default: the first non-empty row.
    pub header_row: Option<u32>,
    /// CSV: the field delimiter, an ASCII byte. Default: detected among comma,
    /// semicolon, tab and pipe.
    pub delimiter: Option<u8>,
    /// CSV: the text encoding, as a WHATWG label such as `windows-1252` or `utf-16le`.
    /// Default: a byte order mark decides, else UTF-8 when the start of the file is
    /// valid UTF-8, else Windows-1252. A byte order mark overrides this option.
    pub encoding: Option<String>,
}

impl FormatOptions {
    /// Builds the options that an importer's description sets. An importer whose source
    /// is `json` accepts only JSON. A sheet written as digits is a 0-based position,
    /// as the importer contract defines.
    pub fn for_importer(source: SourceKind, format: &FormatSpec) -> Self {
        let sheet = format.sheet.as_ref().map(|sheet| match sheet.trim().parse::<usize>() {
            Ok(index) => SheetChoice::Index(index),
            Err(_) => SheetChoice::Name(sheet.clone()),
        });
        Self {
            expected: (source == SourceKind::Json).then_some(FileFormat::Json),
            sheet,
            header_row: format.header_row,
            // The host checks at load time that a delimiter is one ASCII character.
            delimiter: format.delimiter.as_ref().and_then(|delimiter| delimiter.bytes().next()),
            encoding: format.encoding.clone(),
        }
    }

    /// Names what this reads, for [`SourceError::UnsupportedFormat`].
    fn expected_description(&self) -> &'static str {
        self.expected.map_or(SUPPORTED_FORMATS, FileFormat::description)
    }
}

/// The formats [`open`] reads, named as in [`SourceError::UnsupportedFormat`].
pub const SUPPORTED_FORMATS: &str = "a CSV, XLSX or JSON file";

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("could not read {path}: {source}; check that the file exists, is readable and is complete")]
    Unreadable {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("the file is {found}, but {expected} was expected; save the data in that format and try again")]
    UnsupportedFormat { found: String, expected: &'static str },

    #[error("{}", empty_file_message(sheet.as_deref()))]
    EmptyFile { sheet: Option<String> },

    #[error("the JSON file has no object with a key, so it has no columns; use an array of objects or one object per line")]
    NoJsonKeys,

    #[error("the JSON file could not be read: {message}")]
    InvalidJson { message: String },

    #[error("row {row_number} could not be parsed: {message}; fix the file and upload it again")]
    Malformed { row_number: u64, message: String },

    #[error(
        "the header row (line {line}) opens a quoted field whose closing quote is missing, so the whole file was read as the header; add the missing closing quote (\") and upload the file again"
    )]
    UnclosedHeaderQuote { line: u64 },

    #[error("the XLSX workbook could not be read: {message}; open it in a spreadsheet program, save it again and upload the new file")]
    InvalidWorkbook { message: String },

    #[error("{}", sheet_not_found_message(requested, available))]
    SheetNotFound { requested: String, available: Vec<String> },

    #[error("invalid format option: {message}")]
    InvalidOption { message: String },
}

fn empty_file_message(sheet: Option<&str>) -> String {
    match sheet {
        Some(sheet) => format!(
            "the sheet \"{sheet}\" has no header row; choose a sheet whose first non-empty row names the columns"
        ),
        None => "the file has no header row; upload a file whose first line names the columns".to_owned(),
    }
}

fn sheet_not_found_message(requested: &str, available: &[String]) -> String {
    if available.is_empty() {
        return "the workbook has no worksheets; upload a workbook with at least one worksheet".to_owned();
    }
    let names = available.iter().map(|name| format!("\"{name}\"")).collect::<Vec<_>>().join(", ");
    format!("the workbook has no worksheet {requested}; choose one of {names}")
}

/// Opens a stored file and reads its header.
///
/// `path` is where the file is stored and `original_name` the name it was uploaded
/// with, whose extension is only a hint because the content decides the format. Gzip
/// is decompressed as a stream, one level deep. A ZIP archive must be an XLSX workbook.
/// Text that starts with `[` or `{` is JSON, and other text is CSV. A file that is
/// recognizably another format (an old XLS workbook, PDF, HTML or other binary data) is
/// rejected as [`SourceError::UnsupportedFormat`], and so is a format other than
/// `options.expected`.
pub fn open(path: &Path, original_name: &str, options: &FormatOptions) -> Result<Box<dyn RowSource>, SourceError> {
    open_detected(path, original_name, options).map_err(|error| match error {
        SourceError::UnsupportedFormat { found, .. } => {
            SourceError::UnsupportedFormat { found, expected: options.expected_description() }
        }
        other => other,
    })
}

fn open_detected(path: &Path, original_name: &str, options: &FormatOptions) -> Result<Box<dyn RowSource>, SourceError> {
    let unreadable = |source| SourceError::Unreadable { path: path.to_owned(), source };
    let hint = NameHint::from_file_name(original_name);

    let mut file = File::open(path).map_err(unreadable)?;
    let prefix = detect::read_sample(&mut file).map_err(unreadable)?;

    match detect::container(&prefix, &hint)? {
        Container::Zip => {
            check_expected(FileFormat::Xlsx, options)?;
            file.seek(SeekFrom::Start(0)).map_err(unreadable)?;
            Ok(Box::new(xlsx::XlsxSource::open(file, &hint, options)?))
        }
        Container::Gzip => {
            let compressed = io::Cursor::new(prefix).chain(file);
            let mut decompressed = flate2::read::MultiGzDecoder::new(compressed);
            let sample = detect::read_sample(&mut decompressed).map_err(unreadable)?;
            match detect::container(&sample, &hint)? {
                Container::Plain => open_text(sample, Box::new(decompressed), path, true, &hint, options),
                Container::Zip | Container::Gzip => {
                    Err(detect::unsupported("a gzip file that contains another archive"))
                }
            }
        }
        Container::Plain => open_text(prefix, Box::new(file), path, false, &hint, options),
    }
}

/// Opens text as JSON or CSV. `sample` is the start of the (decompressed) stream and
/// `rest` continues right after it.
fn open_text(
    sample: Vec<u8>,
    rest: Box<dyn Read + Send>,
    path: &Path,
    gzip: bool,
    hint: &NameHint,
    options: &FormatOptions,
) -> Result<Box<dyn RowSource>, SourceError> {
    if detect::is_json(&sample, hint) {
        check_expected(FileFormat::Json, options)?;
        drop(rest);
        let stored = path.to_owned();
        let reopen: json::Reopen = Box::new(move || decoded_stream(&stored, gzip));
        return Ok(Box::new(json::JsonSource::open(reopen, path)?));
    }
    if options.expected.is_some_and(|expected| expected != FileFormat::Csv) {
        // Name what the text is when that is known (HTML, binary data), else call it CSV.
        let encoding = detect::text_encoding(&sample, None)?;
        let text = detect::decode_sample(&sample[encoding.bom_len..], encoding.encoding);
        detect::check_text(&text)?;
        return Err(detect::unsupported("a CSV or other text file"));
    }
    Ok(Box::new(csv::CsvSource::open(sample, rest, path, hint, options)?))
}

fn check_expected(found: FileFormat, options: &FormatOptions) -> Result<(), SourceError> {
    match options.expected {
        Some(expected) if expected != found => Err(detect::unsupported(found.description())),
        _ => Ok(()),
    }
}

/// Opens the stored file again from its start, decompressed when it is gzip, as UTF-8:
/// a UTF-8 byte order mark is dropped and UTF-16 with a byte order mark is transcoded.
fn decoded_stream(path: &Path, gzip: bool) -> io::Result<Box<dyn Read + Send>> {
    let file = File::open(path)?;
    let mut stream: Box<dyn Read + Send> =
        if gzip { Box::new(flate2::read::MultiGzDecoder::new(file)) } else { Box::new(file) };
    let mut bom = Vec::with_capacity(3);
    (&mut stream).take(3).read_to_end(&mut bom)?;
    match encoding_rs::Encoding::for_bom(&bom) {
        Some((encoding, bom_len)) => {
            let rest = io::Cursor::new(bom[bom_len..].to_vec()).chain(stream);
            if encoding == encoding_rs::UTF_8 {
                Ok(Box::new(rest))
            } else {
                Ok(Box::new(csv::Utf8Transcoder::new(rest, encoding)))
            }
        }
        None => Ok(Box::new(io::Cursor::new(bom).chain(stream))),
    }
}

/// Normalizes raw header names by the rules in the module documentation.
fn name_headers(raw: impl IntoIterator<Item = String>) -> Vec<String> {
    let bases: Vec<String> = raw
        .into_iter()
        .enumerate()
        .map(|(index, name)| {
            let trimmed = name.trim();
            if trimmed.is_empty() { format!("column_{}", index + 1) } else { trimmed.to_owned() }
        })
        .collect();

    // A repeated name must not take a name that a later column has in its own right.
    let reserved: std::collections::HashSet<&str> = bases.iter().map(String::as_str).collect();
    let mut taken = std::collections::HashSet::new();
    // The next suffix to try for each repeated name. Searching from 2 for each repeat
    // would take quadratic time on a row of thousands of equal names.
    let mut next_suffix: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut names = Vec::with_capacity(bases.len());
    for base in &bases {
        let name = if taken.contains(base) {
            let suffix = next_suffix.entry(base.as_str()).or_insert(2);
            loop {
                let candidate = format!("{base}_{suffix}");
                *suffix += 1;
                if !taken.contains(&candidate) && !reserved.contains(candidate.as_str()) {
                    break candidate;
                }
            }
        } else {
            base.clone()
        };
        taken.insert(name.clone());
        names.push(name);
    }
    names
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Fixture files and whole-file reads shared by the tests of the readers.

    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::{FormatOptions, RowSource, SourceChunk, open};

    /// A file in the temporary directory, removed when dropped.
    pub struct Fixture {
        pub path: PathBuf,
    }

    impl Fixture {
        pub fn new(name: &str, bytes: &[u8]) -> Self {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let unique = NEXT.fetch_add(1, Ordering::Relaxed);
            let path = std::env::temp_dir().join(format!("ingest-sources-{}-{unique}-{name}", std::process::id()));
            std::fs::write(&path, bytes).expect("the temporary directory is writable");
            Self { path }
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.path);
        }
    }

    /// Returns the path of `name` in the shared data directory: `INGEST_SHARED_DATA`, or
    /// `../shared/data` by default, with a relative directory read from the workspace
    /// root. Panics when the directory does not exist, naming the variable.
    pub fn data_file(name: &str) -> PathBuf {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let dir = std::env::var_os("INGEST_SHARED_DATA").map_or_else(|| PathBuf::from("../shared/data"), PathBuf::from);
        let dir = workspace.join(dir);
        assert!(
            dir.is_dir(),
            "the shared data directory {} does not exist; set INGEST_SHARED_DATA to the directory that contains airports.csv",
            dir.display()
        );
        dir.join(name)
    }

    pub fn open_fixture(name: &str, bytes: &[u8], options: &FormatOptions) -> Box<dyn RowSource> {
        let fixture = Fixture::new(name, bytes);
        open(&fixture.path, name, options).expect("the fixture opens")
    }

    /// Reads every remaining row into one chunk.
    pub fn read_all(source: &mut dyn RowSource) -> SourceChunk {
        let mut chunk = SourceChunk::default();
        assert!(source.read_chunk(usize::MAX, &mut chunk).expect("the rows are readable") || chunk.rows_read() == 0);
        let mut after = SourceChunk::default();
        assert!(!source.read_chunk(1, &mut after).expect("the end is readable"), "the first read reads every row");
        chunk
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{Fixture, data_file, open_fixture, read_all};
    use super::*;
    use crate::cells::Cell;

    #[test]
    fn headers_blank_and_duplicate_names() {
        let raw = ["id", " name ", "", "name", "name_2", "name", "  "].map(String::from);
        assert_eq!(name_headers(raw), ["id", "name", "column_3", "name_3", "name_2", "name_4", "column_7"]);
    }

    #[test]
    fn headers_blank_name_that_is_taken() {
        let raw = ["column_2", ""].map(String::from);
        assert_eq!(name_headers(raw), ["column_2", "column_2_2"]);
    }

    #[test]
    fn headers_of_equal_names_in_linear_time() {
        // Searching suffixes from 2 for each repeat would format over a billion names here.
        let raw = std::iter::repeat_n("x".to_owned(), 50_000);

        let started = std::time::Instant::now();
        let names = name_headers(raw);
        let elapsed = started.elapsed();

        assert!(elapsed < std::time::Duration::from_secs(2), "naming took {elapsed:?}");
        assert_eq!(names[0], "x");
        assert_eq!(names[1], "x_2");
        assert_eq!(names[49_999], "x_50000");
    }

    #[test]
    fn open_missing_file_is_unreadable() {
        let error = open(Path::new("/nonexistent/upload.csv"), "upload.csv", &FormatOptions::default())
            .err()
            .expect("a missing file fails");
        assert!(matches!(error, SourceError::Unreadable { .. }), "{error}");
        assert!(error.to_string().contains("/nonexistent/upload.csv"), "{error}");
    }

    #[test]
    fn open_empty_file_has_no_header() {
        let fixture = Fixture::new("empty.csv", b"");
        let error = open(&fixture.path, "empty.csv", &FormatOptions::default()).err().expect("no header");
        assert!(matches!(error, SourceError::EmptyFile { sheet: None }), "{error}");

        let blank_lines = Fixture::new("blank.csv", b"\n\r\n  \n");
        let error = open(&blank_lines.path, "blank.csv", &FormatOptions::default()).err().expect("no header");
        assert!(matches!(error, SourceError::EmptyFile { sheet: None }), "{error}");
    }

    #[test]
    fn open_rejects_other_formats() {
        let cases: [(&str, &[u8], &str); 5] = [
            ("old.xls", b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0\0\0", "XLS"),
            ("report.pdf", b"%PDF-1.7\n%\xE2\xE3", "PDF"),
            ("image.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "binary"),
            ("page.csv", b"<!DOCTYPE html>\n<html><body>Sign in</body></html>", "HTML"),
            ("archive.zip", b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", "ZIP"),
        ];
        for (name, bytes, expected_word) in cases {
            let fixture = Fixture::new(name, bytes);
            let error = open(&fixture.path, name, &FormatOptions::default()).err().expect("rejected");
            let SourceError::UnsupportedFormat { found, expected } = &error else {
                panic!("{name}: expected UnsupportedFormat, got {error:?}");
            };
            assert!(found.contains(expected_word), "{name}: {found}");
            assert_eq!(*expected, SUPPORTED_FORMATS);
        }
    }

    #[test]
    fn open_detects_gzip_by_content() {
        // The name says nothing about gzip: the magic bytes decide.
        let mut compressed = Vec::new();
        {
            use std::io::Write;
            let mut encoder = flate2::write::GzEncoder::new(&mut compressed, flate2::Compression::fast());
            encoder.write_all(b"code;name\nJFK;Kennedy\n").unwrap();
            encoder.finish().unwrap();
        }
        let mut source = open_fixture("upload.bin", &compressed, &FormatOptions::default());
        assert_eq!(source.headers(), ["code", "name"]);
        let chunk = read_all(source.as_mut());
        assert_eq!(chunk.cells.row(0).collect::<Vec<_>>(), [Cell::Text("JFK"), Cell::Text("Kennedy")]);
    }

    #[test]
    fn open_gzip_of_workbook_is_unsupported() {
        let workbook = std::fs::read(data_file("xlsx/date.xlsx")).unwrap();
        let mut compressed = Vec::new();
        {
            use std::io::Write;
            let mut encoder = flate2::write::GzEncoder::new(&mut compressed, flate2::Compression::fast());
            encoder.write_all(&workbook).unwrap();
            encoder.finish().unwrap();
        }
        let fixture = Fixture::new("date.xlsx.gz", &compressed);
        let error = open(&fixture.path, "date.xlsx.gz", &FormatOptions::default()).err().expect("rejected");
        assert!(matches!(error, SourceError::UnsupportedFormat { .. }), "{error}");
    }

    #[test]
    fn open_truncated_gzip_is_unreadable() {
        let compressed = std::fs::read(data_file("flights.csv.gz")).unwrap();
        let fixture = Fixture::new("flights.csv.gz", &compressed[..200_000]);
        let mut source = open(&fixture.path, "flights.csv.gz", &FormatOptions::default()).expect("the start is readable");
        let mut chunk = SourceChunk::default();
        let error = loop {
            match source.read_chunk(10_000, &mut chunk) {
                Ok(true) => continue,
                Ok(false) => panic!("a truncated gzip stream must not end cleanly"),
                Err(error) => break error,
            }
        };
        assert!(matches!(error, SourceError::Unreadable { .. }), "{error}");
    }

    #[test]
    fn importer_format_becomes_options() {
        let spec = FormatSpec {
            delimiter: Some(";".to_owned()),
            encoding: Some("windows-1252".to_owned()),
            sheet: Some("notes".to_owned()),
            header_row: Some(3),
        };
        let options = FormatOptions::for_importer(SourceKind::Upload, &spec);
        assert_eq!(
            options,
            FormatOptions {
                expected: None,
                sheet: Some(SheetChoice::Name("notes".to_owned())),
                header_row: Some(3),
                delimiter: Some(b';'),
                encoding: Some("windows-1252".to_owned()),
            }
        );

        let by_position = FormatSpec { sheet: Some("1".to_owned()), ..FormatSpec::default() };
        let options = FormatOptions::for_importer(SourceKind::Json, &by_position);
        assert_eq!(options.sheet, Some(SheetChoice::Index(1)), "digits are a 0-based position");
        assert_eq!(options.expected, Some(FileFormat::Json));
        assert_eq!(FormatOptions::for_importer(SourceKind::Url, &FormatSpec::default()), FormatOptions::default());
    }

    #[test]
    fn importer_options_read_the_file() {
        // A semicolon file whose header also splits at commas, read the importer's way.
        let spec = FormatSpec { delimiter: Some(";".to_owned()), ..FormatSpec::default() };
        let options = FormatOptions::for_importer(SourceKind::Filesystem, &spec);
        let mut source = open_fixture("export.csv", b"a,b;c\n1,2;3\n", &options);
        assert_eq!(source.headers(), ["a,b", "c"]);
        let chunk = read_all(source.as_mut());
        assert_eq!(chunk.cells.row(0).collect::<Vec<_>>(), [Cell::Text("1,2"), Cell::Text("3")]);

        let spec = FormatSpec { sheet: Some("1".to_owned()), ..FormatSpec::default() };
        let options = FormatOptions::for_importer(SourceKind::Upload, &spec);
        let source = open(&data_file("xlsx/penguins.xlsx"), "penguins.xlsx", &options).unwrap();
        assert_eq!(source.headers()[0], "source", "sheet 1 is the second sheet, notes");
    }

    #[test]
    fn chunk_rows_read_counts_rejected_rows() {
        let mut source = open_fixture("ragged.csv", b"a,b\n1,2\n3\n4,5\n", &FormatOptions::default());
        let mut chunk = SourceChunk::new(2);
        assert!(source.read_chunk(2, &mut chunk).unwrap());
        assert_eq!(chunk.rows_read(), 2);
        assert_eq!(chunk.row_numbers, [1]);
        assert_eq!(chunk.rejected.len(), 1);

        assert!(source.read_chunk(2, &mut chunk).unwrap());
        assert_eq!(chunk.row_numbers, [3]);
        assert!(chunk.rejected.is_empty());

        assert!(!source.read_chunk(2, &mut chunk).unwrap());
        assert_eq!(chunk.rows_read(), 0);
    }
}
