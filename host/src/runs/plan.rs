//! The plan for each row of a chunk: what the importer made of it, decided before the
//! targets are touched.

use super::row_data;
use crate::cells::PackedCells;
use crate::plugins::instance::{OUTCOME_RECORD, OUTCOME_SKIPPED};
use crate::plugins::{ChunkResult, LoadedImporter, RowFailure};
use crate::sources::SourceChunk;

pub(super) struct ChunkPlan {
    pub atomic: bool,
    /// Per target, the records that go to it.
    pub records: Vec<PackedCells>,
    /// Per target, for each of its records, the index of the record's row in `rows`.
    pub record_rows: Vec<Vec<usize>>,
    pub rows: Vec<PlannedRow>,
    /// Source rows read, rejected ones included; advances the resume point.
    pub source_rows: i64,
    /// The rows as they were read, kept to store the data of rows that fail.
    cells: PackedCells,
    /// How long reading and processing the chunk took.
    pub elapsed: std::time::Duration,
}

pub(super) struct PlannedRow {
    pub row_number: u64,
    origin: RowOrigin,
    pub outcome: PlannedOutcome,
}

/// The place of a row's original data: a row of the chunk's cells, or the raw fields of
/// a row the source could not read into cells.
enum RowOrigin {
    Cells(usize),
    Raw(Vec<String>),
}

pub(super) enum PlannedOutcome {
    Record,
    Skipped,
    Failed(RowFailure),
}

impl ChunkPlan {
    pub fn new(importer: &LoadedImporter, chunk: SourceChunk, result: Result<ChunkResult, String>) -> Self {
        let empty = ChunkResult::empty(&importer.description.targets);
        let SourceChunk { cells, row_numbers, rejected } = chunk;
        let mut plan = Self {
            atomic: importer.description.atomic_chunks,
            record_rows: vec![Vec::new(); empty.records.len()],
            records: empty.records,
            rows: Vec::with_capacity(row_numbers.len() + rejected.len()),
            source_rows: (row_numbers.len() + rejected.len()) as i64,
            cells,
            elapsed: std::time::Duration::ZERO,
        };

        match result {
            Ok(result) => {
                let mut failures = result.failures.into_iter();
                let mut record_targets = result.record_targets.into_iter();
                plan.records = result.records;
                for (row, &outcome) in result.outcomes.iter().enumerate() {
                    let outcome = match outcome {
                        OUTCOME_RECORD => {
                            let target = record_targets.next().expect("record targets are counted by the runtime");
                            plan.record_rows[target as usize].push(plan.rows.len());
                            PlannedOutcome::Record
                        }
                        OUTCOME_SKIPPED => PlannedOutcome::Skipped,
                        _ => PlannedOutcome::Failed(failures.next().expect("failures are counted by the runtime")),
                    };
                    plan.rows.push(PlannedRow { row_number: row_numbers[row], origin: RowOrigin::Cells(row), outcome });
                }
            }
            Err(message) => {
                let message = format!("importer {} rejected the chunk: {message}", importer.label());
                for (row, &row_number) in row_numbers.iter().enumerate() {
                    let failure = RowFailure { message: message.clone(), validation: Vec::new() };
                    plan.rows.push(PlannedRow {
                        row_number,
                        origin: RowOrigin::Cells(row),
                        outcome: PlannedOutcome::Failed(failure),
                    });
                }
            }
        }

        for rejected in rejected {
            let failure = RowFailure { message: rejected.message, validation: Vec::new() };
            plan.rows.push(PlannedRow {
                row_number: rejected.row_number,
                origin: RowOrigin::Raw(rejected.raw),
                outcome: PlannedOutcome::Failed(failure),
            });
        }
        plan
    }

    /// Builds the JSON object of a row's original data, which is stored only for rows
    /// that fail, so a successful row never pays for it.
    pub fn row_data(&self, headers: &[String], row: &PlannedRow) -> serde_json::Value {
        match &row.origin {
            RowOrigin::Cells(index) => row_data::from_cells(headers, &self.cells, *index),
            RowOrigin::Raw(raw) => row_data::from_raw(headers, raw),
        }
    }

    pub fn first_failed_row(&self) -> Option<u64> {
        self.rows
            .iter()
            .filter(|row| matches!(row.outcome, PlannedOutcome::Failed(_)))
            .map(|row| row.row_number)
            .min()
    }
}
