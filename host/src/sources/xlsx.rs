//! XLSX reader on calamine: the typed cells of one worksheet.
//!
//! Cells keep the type the workbook stores, converted to what a spreadsheet program
//! shows:
//! - Numbers are rounded to 15 significant digits, the precision a spreadsheet program
//!   displays, so a formula result stored as `0.30000000000000004` reads as 0.3. A
//!   number that is then integral (and below 2^53) is an integer, so `72.0` reads as 72.
//! - Dates and date-times, in the 1900 or the 1904 date system, are dates when they
//!   have no time of day and date-times otherwise. A time of day (a date-formatted
//!   value below one day) and a duration (an elapsed-time format such as `[hh]:mm:ss`)
//!   are text such as `255:10:10`, with milliseconds when there are any.
//! - Text stays text, leading zeros included. An empty string is an empty cell.
//! - Booleans stay booleans.
//! - A row with an error cell (`#DIV/0!`, `#N/A` and so on) is rejected, and its
//!   message names each error cell and its error.

use std::fmt::Write as _;
use std::fs::File;
use std::io::BufReader;

use calamine::{CellErrorType, Data, ExcelDateTime, HeaderRow, Range, Reader, SheetType, SheetVisible, Xlsx, XlsxError};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use super::detect::{NameHint, unsupported};
use super::{FormatOptions, RejectedRow, RowSource, SheetChoice, SourceChunk, SourceError, name_headers};
use crate::cells::PackedCells;

/// Integers of magnitude below this are exact in an `f64`.
const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0;

pub(super) struct XlsxSource {
    headers: Vec<String>,
    /// The used cells of the sheet, with the header in row 0.
    range: Range<Data>,
    /// The sheet row and column (0-based) of the range's first cell.
    origin: (u32, u32),
    /// The range row to read next.
    next_row: usize,
    /// Reused buffer for rounding numbers.
    scratch: String,
}

impl XlsxSource {
    pub(super) fn open(file: File, hint: &NameHint, options: &FormatOptions) -> Result<Self, SourceError> {
        let mut workbook: Xlsx<_> = Xlsx::new(BufReader::new(file)).map_err(|error| workbook_error(error, hint))?;
        let sheet = choose_sheet(workbook.sheets_metadata(), options.sheet.as_ref())?;
        if let Some(header_row) = options.header_row {
            let Some(index) = header_row.checked_sub(1) else {
                return Err(SourceError::InvalidOption {
                    message: "header row 0 does not exist; number sheet rows from 1, as a spreadsheet program does"
                        .to_owned(),
                });
            };
            workbook.with_header_row(HeaderRow::Row(index));
        }

        // NOTE: XLSX is not streamed. This loads every cell of the sheet, so memory grows
        // with the sheet. `Xlsx::worksheet_cells_reader` yields cells one by one, but it
        // borrows the workbook, so streaming needs a thread that owns the workbook and
        // sends chunks over a bounded channel. calamine also keeps the whole shared-string
        // table in memory either way.
        let range = workbook.worksheet_range(&sheet).map_err(|error| workbook_error(error, hint))?;
        let Some(origin) = range.start() else {
            return Err(SourceError::EmptyFile { sheet: Some(sheet) });
        };

        let mut scratch = String::new();
        let header_cells = range.rows().next().expect("a range with a start has a first row");
        let headers = name_headers(header_cells.iter().map(|data| convert(data, &mut scratch).to_text()));
        Ok(Self { headers, range, origin, next_row: 1, scratch })
    }
}

impl RowSource for XlsxSource {
    fn headers(&self) -> &[String] {
        &self.headers
    }

    fn read_chunk(&mut self, max_rows: usize, chunk: &mut SourceChunk) -> Result<bool, SourceError> {
        chunk.reset(self.headers.len());
        let max_rows = max_rows.max(1);
        let mut rows = self.range.rows().enumerate().skip(self.next_row);
        while chunk.rows_read() < max_rows {
            let Some((index, cells)) = rows.next() else {
                break;
            };
            self.next_row = index + 1;
            if cells.iter().all(is_blank) {
                continue;
            }
            let row_number = index as u64;
            let position = CellPosition { row: self.origin.0 + index as u32, column: self.origin.1 };
            match error_cells(cells, position, row_number, &self.headers) {
                None => {
                    push_row(cells, &mut chunk.cells, &mut self.scratch);
                    chunk.row_numbers.push(row_number);
                }
                Some(message) => {
                    let raw = cells.iter().map(|data| convert(data, &mut self.scratch).to_text()).collect();
                    chunk.rejected.push(RejectedRow { row_number, message, raw });
                }
            }
        }
        Ok(chunk.rows_read() > 0)
    }
}

/// Picks the worksheet to read. Chart and macro sheets are never chosen.
fn choose_sheet(sheets: &[calamine::Sheet], choice: Option<&SheetChoice>) -> Result<String, SourceError> {
    let is_worksheet = |sheet: &&calamine::Sheet| sheet.typ == SheetType::WorkSheet;
    let not_found = |requested: String| SourceError::SheetNotFound {
        requested,
        available: sheets.iter().filter(is_worksheet).map(|sheet| sheet.name.clone()).collect(),
    };

    let chosen = match choice {
        None => sheets
            .iter()
            .filter(is_worksheet)
            .find(|sheet| sheet.visible == SheetVisible::Visible)
            .or_else(|| sheets.iter().find(is_worksheet))
            .ok_or_else(|| not_found("visible".to_owned()))?,
        Some(SheetChoice::Name(name)) => {
            let mut worksheets = sheets.iter().filter(is_worksheet);
            worksheets
                .clone()
                .find(|sheet| sheet.name == *name)
                .or_else(|| worksheets.find(|sheet| sheet.name.to_lowercase() == name.to_lowercase()))
                .ok_or_else(|| not_found(format!("named \"{name}\"")))?
        }
        Some(SheetChoice::Index(index)) => sheets
            .get(*index)
            .filter(is_worksheet)
            .ok_or_else(|| not_found(format!("at index {index} (0 is the first sheet)")))?,
    };
    Ok(chosen.name.clone())
}

/// Maps a calamine error to one the caller can act on. A ZIP archive that lacks the
/// parts of a workbook is another format, and anything else is a damaged workbook.
fn workbook_error(error: XlsxError, hint: &NameHint) -> SourceError {
    match error {
        XlsxError::FileNotFound(_) | XlsxError::RelationshipNotFound => {
            if hint.is_any(&["ods"]) {
                unsupported("an OpenDocument spreadsheet")
            } else if hint.is_any(&["xlsb"]) {
                unsupported("an XLSB (binary) workbook")
            } else {
                unsupported("a ZIP archive that is not an XLSX workbook")
            }
        }
        XlsxError::Password => unsupported("a password-protected XLSX workbook"),
        other => SourceError::InvalidWorkbook { message: other.to_string() },
    }
}

/// A cell converted by the rules in the module documentation.
#[derive(Debug, Clone, PartialEq)]
enum Value<'a> {
    Empty,
    Text(&'a str),
    /// Text made by the conversion: a time of day or a duration.
    OwnedText(String),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    Date(NaiveDate),
    DateTime(NaiveDateTime),
    Error(&'a CellErrorType),
}

impl Value<'_> {
    fn push(&self, cells: &mut PackedCells) {
        match self {
            Value::Empty => cells.push_empty(),
            Value::Text(text) => cells.push_text(text),
            Value::OwnedText(text) => cells.push_text(text),
            Value::Integer(value) => cells.push_integer(*value),
            Value::Float(value) => cells.push_float(*value),
            Value::Boolean(value) => cells.push_boolean(*value),
            Value::Date(date) => cells.push_date(*date),
            Value::DateTime(moment) => cells.push_date_time(*moment),
            Value::Error(error) => cells.push_text(&error.to_string()),
        }
    }

    /// Renders the value as a spreadsheet program shows it, for header names and the
    /// raw cells of rejected rows.
    fn to_text(&self) -> String {
        match self {
            Value::Empty => String::new(),
            Value::Text(text) => (*text).to_owned(),
            Value::OwnedText(text) => text.clone(),
            Value::Integer(value) => value.to_string(),
            Value::Float(value) => value.to_string(),
            Value::Boolean(true) => "TRUE".to_owned(),
            Value::Boolean(false) => "FALSE".to_owned(),
            Value::Date(date) => date.format("%Y-%m-%d").to_string(),
            Value::DateTime(moment) => moment.format("%Y-%m-%dT%H:%M:%S%.f").to_string(),
            Value::Error(error) => error.to_string(),
        }
    }
}

fn convert<'a>(data: &'a Data, scratch: &mut String) -> Value<'a> {
    match data {
        Data::Empty => Value::Empty,
        Data::String(text) if text.is_empty() => Value::Empty,
        Data::String(text) => Value::Text(text),
        Data::Int(value) => Value::Integer(*value),
        Data::Float(value) => number(*value, scratch),
        Data::Bool(value) => Value::Boolean(*value),
        Data::DateTime(moment) => excel_date_time(moment),
        Data::DateTimeIso(text) => iso_date_time(text),
        Data::DurationIso(text) => Value::Text(text),
        Data::Error(error) => Value::Error(error),
    }
}

fn number(value: f64, scratch: &mut String) -> Value<'static> {
    let shown = round_to_displayed_precision(value, scratch);
    if shown.fract() == 0.0 && shown.abs() < EXACT_INTEGER_LIMIT {
        Value::Integer(shown as i64)
    } else {
        Value::Float(shown)
    }
}

/// Rounds to 15 significant digits through decimal text, which is exact where scaling
/// by a power of ten is not.
fn round_to_displayed_precision(value: f64, scratch: &mut String) -> f64 {
    if !value.is_finite() || value == 0.0 {
        return value;
    }
    scratch.clear();
    write!(scratch, "{value:.14e}").expect("writing to a String does not fail");
    scratch.parse().unwrap_or(value)
}

fn excel_date_time(moment: &ExcelDateTime) -> Value<'static> {
    let serial = moment.as_f64();
    if moment.is_duration() || (0.0..1.0).contains(&serial) {
        return Value::OwnedText(clock_text(serial));
    }
    match moment.as_datetime() {
        Some(moment) if moment.time() == NaiveTime::MIN => Value::Date(moment.date()),
        Some(moment) => Value::DateTime(moment),
        None => Value::Float(serial),
    }
}

/// Formats a number of days as `H:MM:SS`, with hours past 24 and milliseconds when
/// there are any, as the spreadsheet format `[h]:mm:ss.000` shows it.
fn clock_text(days: f64) -> String {
    let total_millis = (days * 86_400_000.0).round() as i64;
    let sign = if total_millis < 0 { "-" } else { "" };
    let millis = total_millis.unsigned_abs();
    let (hours, minutes, seconds, fraction) =
        (millis / 3_600_000, millis / 60_000 % 60, millis / 1000 % 60, millis % 1000);
    if fraction == 0 {
        format!("{sign}{hours:02}:{minutes:02}:{seconds:02}")
    } else {
        format!("{sign}{hours:02}:{minutes:02}:{seconds:02}.{fraction:03}")
    }
}

/// Converts a cell stored as ISO 8601 text (`t="d"`), which some programs write in
/// place of a serial number.
fn iso_date_time(text: &str) -> Value<'_> {
    let moment = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .or_else(|| chrono::DateTime::parse_from_rfc3339(text).ok().map(|moment| moment.naive_utc()));
    match moment {
        Some(moment) if moment.time() == NaiveTime::MIN => Value::Date(moment.date()),
        Some(moment) => Value::DateTime(moment),
        None => NaiveDate::parse_from_str(text, "%Y-%m-%d").map_or(Value::Text(text), Value::Date),
    }
}

fn is_blank(data: &Data) -> bool {
    match data {
        Data::Empty => true,
        Data::String(text) => text.trim().is_empty(),
        _ => false,
    }
}

fn push_row(row: &[Data], cells: &mut PackedCells, scratch: &mut String) {
    for data in row {
        convert(data, scratch).push(cells);
    }
}

/// Describes the error cells of a row in one sentence, or returns `None` when it has none.
fn error_cells(row: &[Data], position: CellPosition, row_number: u64, headers: &[String]) -> Option<String> {
    let errors: Vec<String> = row
        .iter()
        .enumerate()
        .filter_map(|(column, data)| match data {
            Data::Error(error) => Some(format!(
                "{error} in cell {}{} (column \"{}\")",
                column_letters(position.column + column as u32),
                position.row + 1,
                headers[column],
            )),
            _ => None,
        })
        .collect();
    match errors.as_slice() {
        [] => None,
        [only] => Some(format!(
            "row {row_number} has the error {only}; fix the formula in the workbook or clear the cell, then upload the file again"
        )),
        [several @ .., last] => Some(format!(
            "row {row_number} has the errors {} and {last}; fix the formulas in the workbook or clear the cells, then upload the file again",
            several.join(", "),
        )),
    }
}

/// The 0-based sheet row and column of a row's first cell.
#[derive(Debug, Clone, Copy)]
struct CellPosition {
    row: u32,
    column: u32,
}

/// Returns the spreadsheet name of a 0-based column: A, B, ..., Z, AA, AB, ...
fn column_letters(column: u32) -> String {
    let mut letters = Vec::new();
    let mut rest = column + 1;
    while rest > 0 {
        let digit = (rest - 1) % 26;
        letters.push(b'A' + digit as u8);
        rest = (rest - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).expect("column letters are ASCII")
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{Fixture, data_file, open_fixture, read_all};
    use super::super::{FormatOptions, SheetChoice, SourceChunk, SourceError, open};
    use super::*;
    use crate::cells::Cell;

    fn open_data(name: &str, options: &FormatOptions) -> Box<dyn RowSource> {
        open(&data_file(name), name, options).unwrap_or_else(|error| panic!("{name}: {error}"))
    }

    fn sheet(choice: SheetChoice) -> FormatOptions {
        FormatOptions { sheet: Some(choice), ..FormatOptions::default() }
    }

    fn row(chunk: &SourceChunk, index: usize) -> Vec<Cell<'_>> {
        chunk.cells.row(index).collect()
    }

    /// Returns text cells, with `""` as an empty cell.
    fn texts<const N: usize>(cells: [&'static str; N]) -> [Cell<'static>; N] {
        cells.map(|text| if text.is_empty() { Cell::Empty } else { Cell::Text(text) })
    }

    #[test]
    fn penguins_workbook_typed_cells() {
        let mut source = open_data("xlsx/penguins.xlsx", &FormatOptions::default());
        assert_eq!(source.headers().len(), 17);
        assert_eq!(source.headers()[1], "Sample Number");
        assert_eq!(source.headers()[8], "Date Egg");

        let chunk = read_all(source.as_mut());
        assert_eq!(chunk.cells.row_count(), 344);
        assert!(chunk.rejected.is_empty(), "{:?}", chunk.rejected.first());
        assert_eq!(chunk.row_numbers, (1..=344).collect::<Vec<u64>>());

        let first = row(&chunk, 0);
        assert_eq!(first[0], Cell::Text("PAL0708"));
        assert_eq!(first[1], Cell::Integer(1), "Sample Number");
        assert_eq!(first[5], Cell::Text("Adult, 1 Egg Stage"));
        assert_eq!(first[8], Cell::Date("2007-11-11"), "Date Egg");
        assert_eq!(first[9], Cell::Float(39.1), "Culmen Length");
        assert_eq!(first[12], Cell::Integer(3750), "Body Mass");
        assert_eq!(first[13], Cell::Text("MALE"));
        assert_eq!(first[14], Cell::Empty, "NA is an empty cell");
        assert_eq!(first[16], Cell::Text("Not enough blood for isotopes."));

        let last = row(&chunk, 343);
        assert_eq!(last[1], Cell::Integer(68));
    }

    #[test]
    fn penguins_workbook_second_sheet() {
        for choice in [SheetChoice::Name("notes".to_owned()), SheetChoice::Name("NOTES".to_owned()), SheetChoice::Index(1)]
        {
            let mut source = open_data("xlsx/penguins.xlsx", &sheet(choice.clone()));
            assert_eq!(
                source.headers(),
                ["source", "Palmer Station LTER penguin observations, 2007-2009, CC0"],
                "{choice:?}"
            );
            let mut chunk = SourceChunk::default();
            assert!(!source.read_chunk(10, &mut chunk).unwrap(), "{choice:?}: the sheet has only a header");
        }
    }

    #[test]
    fn penguins_workbook_matches_csv() {
        // The same rows from either file: CSV text against workbook cells shown as text.
        // Numbers compare as numbers, because the CSV keeps float noise such as
        // -26.695430000000002 that the workbook reader rounds away.
        let mut workbook = open_data("xlsx/penguins.xlsx", &FormatOptions::default());
        let mut csv = open_data("penguins-raw.csv", &FormatOptions::default());
        assert_eq!(workbook.headers(), csv.headers());
        let workbook_rows = read_all(workbook.as_mut());
        let csv_rows = read_all(csv.as_mut());
        for index in 0..344 {
            let cells = workbook_rows.cells.row(index).zip(csv_rows.cells.row(index));
            for (column, (workbook_cell, csv_cell)) in cells.enumerate() {
                let workbook_text = workbook_cell.to_text().unwrap_or_default();
                let csv_text = csv_cell.to_text().filter(|text| text != "NA").unwrap_or_default();
                let same_number = matches!(
                    (workbook_text.parse::<f64>(), csv_text.parse::<f64>()),
                    (Ok(a), Ok(b)) if (a - b).abs() <= 1e-12 * a.abs()
                );
                assert!(
                    workbook_text == csv_text || same_number,
                    "row {}, column {column}: {workbook_text} against {csv_text}",
                    index + 1
                );
            }
        }
    }

    #[test]
    fn dates_in_1900_and_1904_systems() {
        // Both workbooks show the same values: the 1904 file stores serials 1462 days
        // smaller. A1 is a date, A3 a duration formatted [hh]:mm:ss, column B numbers.
        for name in ["xlsx/date.xlsx", "xlsx/date_1904.xlsx"] {
            let mut source = open_data(name, &FormatOptions::default());
            assert_eq!(source.headers(), ["2021-01-01", "15"], "{name}");
            let chunk = read_all(source.as_mut());
            assert_eq!(row(&chunk, 0), [Cell::Date("2021-01-02"), Cell::Integer(16)], "{name}");
            assert_eq!(row(&chunk, 1), [Cell::Text("255:10:10"), Cell::Integer(17)], "{name}");
        }
    }

    #[test]
    fn error_cells_reject_their_rows() {
        let mut source = open_data("xlsx/errors.xlsx", &FormatOptions::default());
        assert_eq!(source.headers(), ["#DIV/0!"]);
        let chunk = read_all(source.as_mut());
        assert_eq!(chunk.cells.row_count(), 0);

        let shown: Vec<(u64, &str)> =
            chunk.rejected.iter().map(|rejected| (rejected.row_number, rejected.raw[0].as_str())).collect();
        assert_eq!(shown, [(1, "#NAME?"), (2, "#VALUE!"), (3, "#NULL!"), (4, "#REF!"), (5, "#NUM!"), (6, "#N/A")]);
        assert_eq!(
            chunk.rejected[0].message,
            "row 1 has the error #NAME? in cell A2 (column \"#DIV/0!\"); fix the formula in the workbook or clear the cell, then upload the file again"
        );
    }

    #[test]
    fn empty_sheet_has_no_header() {
        let error = open(&data_file("xlsx/errors.xlsx"), "errors.xlsx", &sheet(SheetChoice::Name("Feuil2".to_owned())))
            .err()
            .unwrap();
        assert!(matches!(&error, SourceError::EmptyFile { sheet: Some(name) } if name == "Feuil2"), "{error}");
    }

    #[test]
    fn default_sheet_is_first_visible_worksheet() {
        let mut source = open_data("xlsx/any_sheets.xlsx", &FormatOptions::default());
        assert_eq!(source.headers(), ["1", "2"]);
        let chunk = read_all(source.as_mut());
        assert_eq!(chunk.row_numbers, [1, 2, 4]);
        assert_eq!(row(&chunk, 0), [Cell::Integer(3), Cell::Integer(4)]);
        assert_eq!(
            row(&chunk, 2),
            [Cell::Text("This workbook contains 4 sheets: Visible, Hidden, VeryHidden and Chart"), Cell::Empty]
        );
    }

    #[test]
    fn chart_sheet_is_not_a_worksheet() {
        let path = data_file("xlsx/any_sheets.xlsx");
        for choice in [SheetChoice::Name("Chart".to_owned()), SheetChoice::Index(3), SheetChoice::Index(9)] {
            let error = open(&path, "any_sheets.xlsx", &sheet(choice.clone())).err().unwrap();
            let SourceError::SheetNotFound { available, .. } = &error else {
                panic!("{choice:?}: expected SheetNotFound, got {error:?}");
            };
            assert_eq!(available, &["Visible", "Hidden", "VeryHidden"], "{choice:?}");
        }
        let error = open(&path, "any_sheets.xlsx", &sheet(SheetChoice::Name("Chart".to_owned()))).err().unwrap();
        assert_eq!(
            error.to_string(),
            "the workbook has no worksheet named \"Chart\"; choose one of \"Visible\", \"Hidden\", \"VeryHidden\""
        );
    }

    #[test]
    fn hidden_sheet_by_name() {
        let path = data_file("xlsx/any_sheets.xlsx");
        let error = open(&path, "any_sheets.xlsx", &sheet(SheetChoice::Name("Hidden".to_owned()))).err().unwrap();
        assert!(matches!(&error, SourceError::EmptyFile { sheet: Some(name) } if name == "Hidden"), "{error}");
    }

    #[test]
    fn header_is_first_non_empty_row() {
        let mut source = open_data("xlsx/header-row.xlsx", &FormatOptions::default());
        assert_eq!(source.headers(), ["column_1", "column_2", "Note 1", "column_4"]);
        let chunk = read_all(source.as_mut());
        // Sheet rows 9 and 10, six and seven rows below the header in row 3.
        assert_eq!(chunk.row_numbers, [6, 7]);
        assert_eq!(
            row(&chunk, 1),
            [Cell::Text("put data here"), Cell::Integer(1), Cell::Integer(2), Cell::Integer(3)]
        );
    }

    #[test]
    fn header_row_option() {
        let options = FormatOptions { header_row: Some(9), ..FormatOptions::default() };
        let mut source = open_data("xlsx/header-row.xlsx", &options);
        assert_eq!(source.headers(), ["Columns", "Column A", "Column B", "Column C"]);
        let chunk = read_all(source.as_mut());
        assert_eq!(chunk.row_numbers, [1]);
        assert_eq!(
            row(&chunk, 0),
            [Cell::Text("put data here"), Cell::Integer(1), Cell::Integer(2), Cell::Integer(3)]
        );

        let zero = FormatOptions { header_row: Some(0), ..FormatOptions::default() };
        let error = open(&data_file("xlsx/header-row.xlsx"), "header-row.xlsx", &zero).err().unwrap();
        assert!(matches!(error, SourceError::InvalidOption { .. }), "{error}");
    }

    #[test]
    fn merged_cells_and_blank_rows() {
        let mut source = open_data("xlsx/merged_range.xlsx", &FormatOptions::default());
        assert_eq!(source.headers(), ["A1", "B1", "C1", "column_4", "E1", "F1", "G1", "H1"]);
        let chunk = read_all(source.as_mut());
        // Sheet row 2 is blank (styled cells without values). A merged range shows its
        // value in its first cell only, so D3 and D4 (in C3:D3 and C4:D4) are empty.
        assert_eq!(chunk.row_numbers, [2, 3]);
        assert_eq!(row(&chunk, 0), texts(["A3", "B3", "C3", "", "E3", "F3", "G3", "H3"]));
        assert_eq!(row(&chunk, 1), texts(["A4", "B4", "C4", "", "E4", "F4", "G4", "H4"]));
    }

    #[test]
    fn merged_ranges_spanning_rows() {
        // Sheet2 merges A1:A4, B1:B2, C1:D2, E1:E2, C3:D4 and F1:H4. Columns G and H hold
        // no value in any row, so they are not columns.
        let mut source = open_data("xlsx/merged_range.xlsx", &sheet(SheetChoice::Name("Sheet2".to_owned())));
        assert_eq!(source.headers(), ["A1", "B1", "C1", "column_4", "E1", "F1"]);
        let chunk = read_all(source.as_mut());
        assert_eq!(chunk.row_numbers, [2, 3]);
        assert_eq!(row(&chunk, 0), texts(["", "B3", "C3", "", "E3", ""]));
        assert_eq!(row(&chunk, 1), texts(["", "B4", "", "", "E4", ""]));
    }

    #[test]
    fn empty_sheets_have_no_header() {
        for (name, sheet_name) in [("xlsx/errors.xlsx", "Feuil3"), ("xlsx/any_sheets.xlsx", "VeryHidden")] {
            let error = open(&data_file(name), name, &sheet(SheetChoice::Name(sheet_name.to_owned()))).err().unwrap();
            assert!(matches!(&error, SourceError::EmptyFile { sheet: Some(found) } if found == sheet_name), "{name}: {error}");
        }
    }

    /// Every workbook of the shared data directory, with the tests that read all of its
    /// sheets. A workbook added to the directory fails [`shared_workbooks_all_tested`]
    /// until it gets tests and a line here.
    const SHARED_WORKBOOKS: [(&str, &str); 9] = [
        ("any_sheets.xlsx", "default_sheet_is_first_visible_worksheet, hidden_sheet_by_name, empty_sheets_have_no_header, chart_sheet_is_not_a_worksheet"),
        ("date.xlsx", "dates_in_1900_and_1904_systems"),
        ("date_1904.xlsx", "dates_in_1900_and_1904_systems"),
        ("errors.xlsx", "error_cells_reject_their_rows, empty_sheet_has_no_header, empty_sheets_have_no_header"),
        ("header-row.xlsx", "header_is_first_non_empty_row, header_row_option"),
        ("inventory-table.xlsx", "inventory_table_sheet"),
        ("merged_range.xlsx", "merged_cells_and_blank_rows, merged_ranges_spanning_rows"),
        ("penguins.xlsx", "penguins_workbook_typed_cells, penguins_workbook_matches_csv, penguins_workbook_second_sheet"),
        ("temperature.xlsx", "integral_float_is_integer"),
    ];

    #[test]
    fn shared_workbooks_all_tested() {
        let mut found: Vec<String> = std::fs::read_dir(data_file("xlsx"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".xlsx"))
            .collect();
        found.sort();
        let tested: Vec<&str> = SHARED_WORKBOOKS.iter().map(|(name, _)| *name).collect();
        assert_eq!(found, tested, "every shared workbook needs tests that read all of it");
    }

    #[test]
    fn integral_float_is_integer() {
        let mut source = open_data("xlsx/temperature.xlsx", &FormatOptions::default());
        assert_eq!(source.headers(), ["label", "value"]);
        let chunk = read_all(source.as_mut());
        assert_eq!(row(&chunk, 0), [Cell::Text("celsius"), Cell::Float(22.2222)]);
        assert_eq!(row(&chunk, 1), [Cell::Text("fahrenheit"), Cell::Integer(72)], "stored as 72.0");
    }

    #[test]
    fn inventory_table_sheet() {
        let mut source = open_data("xlsx/inventory-table.xlsx", &FormatOptions::default());
        assert_eq!(source.headers(), ["Item", "Type", "Quantity"]);
        let chunk = read_all(source.as_mut());
        assert_eq!(chunk.row_numbers, [1, 2, 3, 4]);
        assert_eq!(row(&chunk, 0), [Cell::Integer(1), Cell::Text("Apple"), Cell::Integer(50)]);
        assert_eq!(row(&chunk, 1), [Cell::Integer(2), Cell::Text("Banana"), Cell::Integer(200)]);
        assert_eq!(row(&chunk, 2), [Cell::Integer(3), Cell::Text("Orange"), Cell::Integer(60)]);
        assert_eq!(row(&chunk, 3), [Cell::Integer(4), Cell::Text("Pear"), Cell::Integer(100)]);
    }

    #[test]
    fn built_workbook_cell_types() {
        let sheet = r#"
            <row r="1">
              <c r="A1" t="inlineStr"><is><t>id</t></is></c><c r="B1" t="inlineStr"><is><t>code</t></is></c>
              <c r="C1" t="inlineStr"><is><t>amount</t></is></c><c r="D1" t="inlineStr"><is><t>ratio</t></is></c>
              <c r="E1" t="inlineStr"><is><t>paid</t></is></c><c r="F1" t="inlineStr"><is><t>day</t></is></c>
              <c r="G1" t="inlineStr"><is><t>moment</t></is></c><c r="H1" t="inlineStr"><is><t>time</t></is></c>
              <c r="I1" t="inlineStr"><is><t>elapsed</t></is></c>
            </row>
            <row r="2">
              <c r="A2"><v>1</v></c><c r="B2" t="inlineStr"><is><t>007</t></is></c><c r="C2"><v>72.0</v></c>
              <c r="D2"><v>0.30000000000000004</v></c><c r="E2" t="b"><v>1</v></c><c r="F2" s="1"><v>45292</v></c>
              <c r="G2" s="3"><v>45292.5</v></c><c r="H2" s="2"><v>0.5</v></c><c r="I2" s="4"><v>1.5</v></c>
            </row>
            <row r="3"><c r="A3" s="1"/><c r="B3" t="inlineStr"><is><t> </t></is></c></row>
            <row r="4">
              <c r="A4"><v>2</v></c><c r="B4" t="inlineStr"><is><t xml:space="preserve">  </t></is></c><c r="C4"><v>1234567.891</v></c>
              <c r="D4"><v>-2.5</v></c><c r="E4" t="b"><v>0</v></c><c r="F4" t="d"><v>2024-02-29</v></c>
              <c r="G4" t="d"><v>2024-02-29T08:30:15.250</v></c>
            </row>
            <row r="5">
              <c r="A5"><v>3</v></c><c r="B5" t="e"><v>#N/A</v></c><c r="D5" t="e"><v>#DIV/0!</v></c>
            </row>"#;
        let workbook = build_workbook(sheet);
        let mut source = open_fixture("built.xlsx", &workbook, &FormatOptions::default());
        assert_eq!(source.headers(), ["id", "code", "amount", "ratio", "paid", "day", "moment", "time", "elapsed"]);

        let chunk = read_all(source.as_mut());
        assert_eq!(chunk.row_numbers, [1, 3]);
        assert_eq!(
            row(&chunk, 0),
            [
                Cell::Integer(1),
                Cell::Text("007"),
                Cell::Integer(72),
                Cell::Float(0.3),
                Cell::Boolean(true),
                Cell::Date("2024-01-01"),
                Cell::DateTime("2024-01-01T12:00:00"),
                Cell::Text("12:00:00"),
                Cell::Text("36:00:00"),
            ]
        );
        assert_eq!(
            row(&chunk, 1),
            [
                Cell::Integer(2),
                Cell::Text("  "),
                Cell::Float(1234567.891),
                Cell::Float(-2.5),
                Cell::Boolean(false),
                Cell::Date("2024-02-29"),
                Cell::DateTime("2024-02-29T08:30:15.250"),
                Cell::Empty,
                Cell::Empty,
            ]
        );

        assert_eq!(chunk.rejected.len(), 1);
        let rejected = &chunk.rejected[0];
        assert_eq!(rejected.row_number, 4);
        assert_eq!(rejected.raw, ["3", "#N/A", "", "#DIV/0!", "", "", "", "", ""]);
        assert_eq!(
            rejected.message,
            "row 4 has the errors #N/A in cell B5 (column \"code\") and #DIV/0! in cell D5 (column \"ratio\"); fix the formulas in the workbook or clear the cells, then upload the file again"
        );
    }

    #[test]
    fn zip_without_workbook_is_unsupported() {
        let archive = zip_stored(&[("data.csv", "a,b\n1,2\n")]);
        for (name, expected) in [("data.zip", "a ZIP archive"), ("sheet.ods", "OpenDocument")] {
            let fixture = Fixture::new(name, &archive);
            let error = open(&fixture.path, name, &FormatOptions::default()).err().unwrap();
            let SourceError::UnsupportedFormat { found, .. } = &error else {
                panic!("{name}: expected UnsupportedFormat, got {error:?}");
            };
            assert!(found.contains(expected), "{name}: {found}");
        }
    }

    #[test]
    fn damaged_workbook_is_invalid() {
        let mut workbook = std::fs::read(data_file("xlsx/date.xlsx")).unwrap();
        workbook.truncate(workbook.len() / 2);
        let fixture = Fixture::new("damaged.xlsx", &workbook);
        let error = open(&fixture.path, "damaged.xlsx", &FormatOptions::default()).err().unwrap();
        assert!(matches!(error, SourceError::InvalidWorkbook { .. }), "{error:?}");
    }

    #[test]
    fn column_letters_past_z() {
        let letters: Vec<String> = [0, 25, 26, 27, 51, 52, 701, 702, 16_383].map(column_letters).into();
        assert_eq!(letters, ["A", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA", "XFD"]);
    }

    #[test]
    fn clock_text_formats() {
        assert_eq!(clock_text(0.5), "12:00:00");
        assert_eq!(clock_text(10.632_060_185_185_2), "255:10:10");
        assert_eq!(clock_text(1.0 / 86_400.0 / 4.0), "00:00:00.250");
        assert_eq!(clock_text(-0.25), "-06:00:00");
    }

    /// Builds an XLSX workbook with one sheet named `data` from the rows of its
    /// `sheetData`. Styles: 1 is a date (format 14), 2 a time (21), 3 a date-time
    /// (`yyyy-mm-dd hh:mm`), 4 a duration (46, `[h]:mm:ss`).
    fn build_workbook(rows: &str) -> Vec<u8> {
        const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
        const RELATIONSHIPS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
        const DOCUMENT: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
        let package_rels = format!(
            r#"<Relationships xmlns="{RELATIONSHIPS}"><Relationship Id="rId1" Type="{DOCUMENT}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
        );
        let workbook = format!(
            r#"<workbook xmlns="{MAIN}" xmlns:r="{DOCUMENT}"><sheets><sheet name="data" sheetId="1" r:id="rId1"/></sheets></workbook>"#
        );
        let workbook_rels = format!(
            r#"<Relationships xmlns="{RELATIONSHIPS}"><Relationship Id="rId1" Type="{DOCUMENT}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{DOCUMENT}/styles" Target="styles.xml"/></Relationships>"#
        );
        let styles = format!(
            r#"<styleSheet xmlns="{MAIN}"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm"/></numFmts><cellXfs count="5"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="21" applyNumberFormat="1"/><xf numFmtId="164" applyNumberFormat="1"/><xf numFmtId="46" applyNumberFormat="1"/></cellXfs></styleSheet>"#
        );
        let sheet = format!(r#"<worksheet xmlns="{MAIN}"><sheetData>{rows}</sheetData></worksheet>"#);
        zip_stored(&[
            ("_rels/.rels", &package_rels),
            ("xl/workbook.xml", &workbook),
            ("xl/_rels/workbook.xml.rels", &workbook_rels),
            ("xl/styles.xml", &styles),
            ("xl/worksheets/sheet1.xml", &sheet),
        ])
    }

    /// Writes a ZIP archive whose entries are stored without compression.
    fn zip_stored(entries: &[(&str, &str)]) -> Vec<u8> {
        // 2024-01-01 00:00 in MS-DOS format.
        const DOS_TIME: u16 = 0;
        const DOS_DATE: u16 = ((2024 - 1980) << 9) | (1 << 5) | 1;
        let mut archive = Vec::new();
        let mut directory = Vec::new();
        for (name, content) in entries {
            let mut crc = flate2::Crc::new();
            crc.update(content.as_bytes());
            let offset = archive.len() as u32;
            let size = content.len() as u32;
            let name_len = name.len() as u16;

            archive.extend(0x0403_4B50_u32.to_le_bytes());
            for field in [20u16, 0, 0, DOS_TIME, DOS_DATE] {
                archive.extend(field.to_le_bytes());
            }
            for field in [crc.sum(), size, size] {
                archive.extend(field.to_le_bytes());
            }
            archive.extend(name_len.to_le_bytes());
            archive.extend(0u16.to_le_bytes());
            archive.extend(name.as_bytes());
            archive.extend(content.as_bytes());

            directory.extend(0x0201_4B50_u32.to_le_bytes());
            for field in [20u16, 20, 0, 0, DOS_TIME, DOS_DATE] {
                directory.extend(field.to_le_bytes());
            }
            for field in [crc.sum(), size, size] {
                directory.extend(field.to_le_bytes());
            }
            for field in [name_len, 0, 0, 0, 0] {
                directory.extend(field.to_le_bytes());
            }
            directory.extend(0u32.to_le_bytes());
            directory.extend(offset.to_le_bytes());
            directory.extend(name.as_bytes());
        }
        let directory_offset = archive.len() as u32;
        let directory_len = directory.len() as u32;
        archive.extend(directory);
        archive.extend(0x0605_4B50_u32.to_le_bytes());
        let count = entries.len() as u16;
        for field in [0u16, 0, count, count] {
            archive.extend(field.to_le_bytes());
        }
        archive.extend(directory_len.to_le_bytes());
        archive.extend(directory_offset.to_le_bytes());
        archive.extend(0u16.to_le_bytes());
        archive
    }
}
