//! Native tests of an importer, without WebAssembly or a server.
//!
//! A [`Harness`] runs an [`IngestConfig`] the way the host does: it checks the header row,
//! packs the rows into chunks of the importer's chunk size, calls `process` on each chunk,
//! and unpacks the records. Relation lookups go to a closure the test supplies.
//!
//! ```
//! use ingest_importer_sdk::testing::{Harness, Outcome};
//! use ingest_importer_sdk::{Cell, Column, IngestConfig, Value};
//!
//! let harness = Harness::new(
//!     IngestConfig::new("airline-importer")
//!         .target("airlines")
//!         .keyed_by("carrier")
//!         .column(Column::text("carrier").required())
//!         .column(Column::text("name").required()),
//! );
//! let report = harness
//!     .run(&["carrier", "name"], &[vec![Cell::Text("9E"), Cell::Text("Endeavor Air Inc.")]])
//!     .unwrap();
//! assert_eq!(report.records().next().unwrap(), &[Value::text("9E"), Value::text("Endeavor Air Inc.")]);
//!
//! // Text rows, the way CSV cells arrive, and values read by column name.
//! let report = harness.run_text(["carrier", "name"], &[["AA", "American Airlines Inc."], ["", "No code"]]).unwrap();
//! assert_eq!(report.get(0, "name"), Some(&Value::text("American Airlines Inc.")));
//! assert_eq!(report.failures().next().unwrap().messages("carrier"), ["The carrier field is required."]);
//! ```
//!
//! For an importer with several targets, [`Report::target`] returns the table each row's
//! record goes to, and [`Report::records_in`] the records of one table.
//!
//! Outside WebAssembly, [`Harness::run_csv`] and [`Harness::run_json`] read a CSV or JSON
//! file the way the host does, and [`Harness::run_csv_text`] and
//! [`Harness::run_json_text`] read the same from a string.

use std::cell::RefCell;

#[cfg(not(target_arch = "wasm32"))]
mod files;

use crate::bindings::ingest::importer::host::LogLevel;
pub use crate::bindings::ingest::importer::host::RelateRequest;
use crate::bindings::ingest::importer::types::{Chunk, Description};
use crate::config::IngestConfig;
use crate::host::Host;
use crate::mapping::{OUTCOME_FAILED, OUTCOME_RECORD, OUTCOME_SKIPPED};
use crate::packing::{CellsWriter, unpack};
use crate::pipeline::Pipeline;
use crate::value::{Cell, Value};

type RelateFn = dyn Fn(&RelateRequest) -> Result<Vec<Option<i64>>, String>;

/// Runs an importer's pipeline on rows given in the test.
pub struct Harness {
    pipeline: Pipeline,
    relate: Option<Box<RelateFn>>,
    relate_requests: RefCell<Vec<RelateRequest>>,
    log: RefCell<Vec<String>>,
}

impl Harness {
    /// Builds the pipeline, or panics with the description's problems when it is invalid.
    pub fn new(config: IngestConfig) -> Self {
        let pipeline = config.build().unwrap_or_else(|error| panic!("{error}"));
        Self {
            pipeline,
            relate: None,
            relate_requests: RefCell::new(Vec::new()),
            log: RefCell::new(Vec::new()),
        }
    }

    /// Sends the importer's relation lookups, one batched request at a time, to `relate`.
    /// Without it, a lookup fails the chunk.
    pub fn with_relate<F>(mut self, relate: F) -> Self
    where
        F: Fn(&RelateRequest) -> Result<Vec<Option<i64>>, String> + 'static,
    {
        self.relate = Some(Box::new(relate));
        self
    }

    #[cfg(test)]
    pub(crate) fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    pub fn description(&self) -> Description {
        self.pipeline.description()
    }

    /// Checks a header row as `check-headers` does.
    pub fn check_headers(&self, headers: &[&str]) -> Result<(), String> {
        let headers: Vec<String> = headers.iter().map(|header| header.to_string()).collect();
        self.pipeline.check_headers(&headers, self)
    }

    /// Checks the headers, then processes `rows` in chunks of the importer's chunk size.
    /// Returns the first error that `check-headers` or `process` returns.
    ///
    /// Panics when a row does not have one cell per header.
    pub fn run(&self, headers: &[&str], rows: &[Vec<Cell<'_>>]) -> Result<Report, String> {
        self.check_headers(headers)?;
        let headers: Vec<String> = headers.iter().map(|header| header.to_string()).collect();
        let chunk_size = self.pipeline.description().chunk_size as usize;
        let targets: Vec<ReportTarget> = self
            .pipeline
            .targets()
            .iter()
            .map(|target| ReportTarget {
                table: target.table().to_owned(),
                columns: target.columns().iter().map(|column| column.name().to_owned()).collect(),
            })
            .collect();
        let mut outcomes = Vec::with_capacity(rows.len());
        let mut record_targets = Vec::with_capacity(rows.len());
        let mut first_row = 1u64;
        for chunk_rows in rows.chunks(chunk_size) {
            let chunk = pack_chunk(&headers, first_row, chunk_rows);
            let result = self.pipeline.process(&chunk, self)?;
            for (outcome, target) in unpack_outcomes(result, chunk_rows.len(), &targets) {
                outcomes.push(outcome);
                record_targets.push(target);
            }
            first_row += chunk_rows.len() as u64;
        }
        Ok(Report {
            outcomes,
            record_targets,
            targets,
        })
    }

    /// Runs rows of text cells, the way the host sends CSV rows: `run_text(["sku", "price"],
    /// &[["A-1", "9.99"]])`. Empty and blank cells arrive as [`Cell::Empty`].
    pub fn run_text<const N: usize>(&self, headers: [&str; N], rows: &[[&str; N]]) -> Result<Report, String> {
        let rows: Vec<Vec<Cell<'_>>> = rows
            .iter()
            .map(|row| row.iter().map(|&text| Cell::Text(text)).collect())
            .collect();
        self.run(&headers, &rows)
    }

    /// Reads the CSV file at `path` and runs its rows as [`Harness::run_text`] does.
    ///
    /// The first record is the header row. The delimiter is the importer's
    /// [`IngestConfig::delimiter`](crate::IngestConfig::delimiter) when it sets one, and
    /// otherwise whichever of `,`, `;`, tab and `|` the header line contains most often. A
    /// UTF-8 byte order mark is ignored. Files must be UTF-8; the host also reads legacy
    /// encodings, which this reader does not. Returns an error naming the file for a file
    /// that cannot be read, and naming the row for a row with the wrong number of fields,
    /// where the host fails that row alone and reads on.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn run_csv(&self, path: impl AsRef<std::path::Path>) -> Result<Report, String> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|error| format!("Cannot read {}: {error}", path.display()))?;
        self.run_csv_text(&text)
            .map_err(|error| format!("{}: {error}", path.display()))
    }

    /// Parses `text` as a CSV file and runs its rows; see [`Harness::run_csv`].
    #[cfg(not(target_arch = "wasm32"))]
    pub fn run_csv_text(&self, text: &str) -> Result<Report, String> {
        let delimiter = self
            .pipeline
            .description()
            .format
            .delimiter
            .and_then(|delimiter| delimiter.bytes().next());
        self.run_table(&files::read_csv(text, delimiter)?)
    }

    /// Reads the JSON file at `path`, an array of objects or NDJSON, and runs its rows
    /// with the header row and typed cells the host's JSON reader gives.
    ///
    /// Nested objects become dotted headers such as `address.city`, and the header is the
    /// union of the rows' keys. Numbers and booleans keep their types, `null` and `""` are
    /// empty, and arrays are the text of their compact JSON. Returns an error naming the
    /// file or the row for a file that cannot be read or a row that is not an object.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn run_json(&self, path: impl AsRef<std::path::Path>) -> Result<Report, String> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|error| format!("Cannot read {}: {error}", path.display()))?;
        self.run_json_text(&text)
            .map_err(|error| format!("{}: {error}", path.display()))
    }

    /// Parses `text` as a JSON file and runs its rows; see [`Harness::run_json`].
    #[cfg(not(target_arch = "wasm32"))]
    pub fn run_json_text(&self, text: &str) -> Result<Report, String> {
        self.run_table(&files::read_json(text)?)
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn run_table(&self, table: &files::Table) -> Result<Report, String> {
        let headers: Vec<&str> = table.headers.iter().map(String::as_str).collect();
        let rows: Vec<Vec<Cell<'_>>> = table
            .rows
            .iter()
            .map(|row| row.iter().map(files::OwnedCell::as_cell).collect())
            .collect();
        self.run(&headers, &rows)
    }

    /// Returns the relation lookups the importer requested, in order.
    pub fn relate_requests(&self) -> Vec<RelateRequest> {
        self.relate_requests.borrow().clone()
    }

    /// Returns the messages the importer logged, as `LEVEL message`.
    pub fn log(&self) -> Vec<String> {
        self.log.borrow().clone()
    }
}

impl Host for Harness {
    fn relate(&self, request: &RelateRequest) -> Result<Vec<Option<i64>>, String> {
        self.relate_requests.borrow_mut().push(request.clone());
        match &self.relate {
            Some(relate) => relate(request),
            None => Err("The test harness has no relate function; add one with `with_relate`.".to_owned()),
        }
    }

    fn log(&self, level: LogLevel, message: &str) {
        let level = match level {
            LogLevel::Debug => "DEBUG",
            LogLevel::Info => "INFO",
            LogLevel::Warn => "WARN",
            LogLevel::Error => "ERROR",
        };
        self.log.borrow_mut().push(format!("{level} {message}"));
    }
}

fn pack_chunk(headers: &[String], first_row: u64, rows: &[Vec<Cell<'_>>]) -> Chunk {
    let mut writer = CellsWriter::new(headers.len());
    for (index, row) in rows.iter().enumerate() {
        assert_eq!(
            row.len(),
            headers.len(),
            "row {} has {} cells for {} headers",
            index,
            row.len(),
            headers.len()
        );
        for &cell in row {
            writer.push(&Value::from(cell));
        }
    }
    Chunk {
        headers: headers.to_vec(),
        first_row,
        rows: writer.finish(),
    }
}

/// Decodes a chunk result, checking that it has the shape the contract requires. Returns
/// each row's outcome with the index of its record's target, `None` for a row without a
/// record.
fn unpack_outcomes(
    result: crate::bindings::ingest::importer::types::ChunkResult,
    row_count: usize,
    targets: &[ReportTarget],
) -> Vec<(Outcome, Option<usize>)> {
    assert_eq!(result.outcomes.len(), row_count, "one outcome per row");
    assert_eq!(result.records.len(), targets.len(), "one set of records per target");
    let cells: Vec<_> = result
        .records
        .iter()
        .zip(targets)
        .map(|(records, target)| {
            assert_eq!(
                records.width as usize,
                target.columns.len(),
                "records of {} have one cell per column",
                target.table
            );
            unpack(records).expect("records follow the packed layout")
        })
        .collect();
    let mut records: Vec<_> = cells
        .iter()
        .zip(targets)
        .map(|(cells, target)| cells.chunks(target.columns.len().max(1)))
        .collect();
    let mut record_targets = result.record_targets.into_iter();
    let mut skips = result.skips.into_iter();
    let mut failures = result.failures.into_iter();

    let outcomes = result
        .outcomes
        .iter()
        .map(|&outcome| match outcome {
            OUTCOME_RECORD => {
                let target = record_targets.next().expect("a target for each record outcome") as usize;
                assert!(target < targets.len(), "record target {target} is a declared target");
                let record = records[target].next().expect("a record for each record outcome");
                let values = record.iter().map(|&cell| Value::from(cell).into_owned()).collect();
                (Outcome::Record(values), Some(target))
            }
            OUTCOME_SKIPPED => (Outcome::Skipped(skips.next().expect("a reason for each skip")), None),
            OUTCOME_FAILED => {
                let failure = failures.next().expect("a failure for each failed row");
                let failure = Failure {
                    message: failure.message,
                    validation: failure
                        .validation
                        .into_iter()
                        .map(|field| (field.field, field.messages))
                        .collect(),
                };
                (Outcome::Failed(failure), None)
            }
            other => panic!("unknown outcome {other}"),
        })
        .collect();
    assert!(record_targets.next().is_none(), "no targets beyond the record outcomes");
    for (target, mut rest) in targets.iter().zip(records) {
        assert!(rest.next().is_none(), "no records of {} beyond the record outcomes", target.table);
    }
    assert!(skips.next().is_none(), "no reasons beyond the skips");
    assert!(failures.next().is_none(), "no failures beyond the failed rows");
    outcomes
}

/// The outcome of one row: a record, a skip or a failure.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The record, one value per column of its target, typed as the column.
    /// [`Report::target`] returns the table it goes to.
    Record(Vec<Value<'static>>),
    Skipped(String),
    Failed(Failure),
}

/// A failed row's message and validation errors, by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
    pub validation: Vec<(String, Vec<String>)>,
}

impl Failure {
    /// Returns the validation messages of `field`, empty when it has none.
    pub fn messages(&self, field: &str) -> &[String] {
        self.validation
            .iter()
            .find(|(name, _)| name == field)
            .map_or(&[], |(_, messages)| messages.as_slice())
    }
}

/// The name of a target table and its columns, in the order of each record's values.
#[derive(Debug, Clone, PartialEq)]
struct ReportTarget {
    table: String,
    columns: Vec<String>,
}

/// The outcomes of a [`Harness::run`], one per row in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub outcomes: Vec<Outcome>,
    /// Per row, the index in `targets` of its record's target; `None` for a row that
    /// did not become a record.
    record_targets: Vec<Option<usize>>,
    targets: Vec<ReportTarget>,
}

impl Report {
    /// Returns the value of `column` in the record of the row at `index` (0 for the first
    /// data row), or `None` when that row did not become a record or its target declares
    /// no such column.
    pub fn get(&self, index: usize, column: &str) -> Option<&Value<'static>> {
        let target = &self.targets[(*self.record_targets.get(index)?)?];
        let position = target.columns.iter().position(|name| name == column)?;
        match self.outcomes.get(index)? {
            Outcome::Record(values) => values.get(position),
            _ => None,
        }
    }

    /// Returns the table that the record of the row at `index` (0 for the first data
    /// row) goes to, or `None` when that row did not become a record.
    pub fn target(&self, index: usize) -> Option<&str> {
        let target = (*self.record_targets.get(index)?)?;
        Some(&self.targets[target].table)
    }

    /// Iterates over the records that go to `table`, in row order.
    pub fn records_in<'s>(&'s self, table: &'s str) -> impl Iterator<Item = &'s [Value<'static>]> + 's {
        self.outcomes
            .iter()
            .zip(&self.record_targets)
            .filter_map(move |(outcome, target)| match (outcome, target) {
                (Outcome::Record(values), Some(target)) if self.targets[*target].table == table => {
                    Some(values.as_slice())
                }
                _ => None,
            })
    }

    /// Returns the failure of the row at `index` (0 for the first data row), or `None`
    /// when that row did not fail.
    pub fn failure(&self, index: usize) -> Option<&Failure> {
        match self.outcomes.get(index)? {
            Outcome::Failed(failure) => Some(failure),
            _ => None,
        }
    }

    /// Iterates over the records of every target, in row order.
    pub fn records(&self) -> impl Iterator<Item = &[Value<'static>]> {
        self.outcomes.iter().filter_map(|outcome| match outcome {
            Outcome::Record(values) => Some(values.as_slice()),
            _ => None,
        })
    }

    pub fn failures(&self) -> impl Iterator<Item = &Failure> {
        self.outcomes.iter().filter_map(|outcome| match outcome {
            Outcome::Failed(failure) => Some(failure),
            _ => None,
        })
    }

    pub fn skips(&self) -> impl Iterator<Item = &str> {
        self.outcomes.iter().filter_map(|outcome| match outcome {
            Outcome::Skipped(reason) => Some(reason.as_str()),
            _ => None,
        })
    }
}
