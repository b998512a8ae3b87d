//! Keeping a crash on one row from failing a whole chunk.
//!
//! When an importer traps inside `process` (a panic, say), the host cannot tell which
//! row caused it. It splits the chunk in halves and runs each half in a fresh instance,
//! down to single rows, so only the rows that crash fail, with the trap's message, and
//! the rest of the chunk is imported. A chunk of n rows with one bad row costs about
//! 2·log2(n) extra calls. Other faults (time, memory, malformed output) fail the run:
//! they are properties of the importer, not of a row.

use crate::cells::PackedCells;
use crate::plugins::instance::OUTCOME_FAILED;
use crate::plugins::{ChunkResult, GuestFault, ImporterInstance, RowFailure};

/// Runs `rows` through the importer, isolating rows whose processing traps.
pub fn process_isolating(
    instance: &mut ImporterInstance,
    headers: &[String],
    first_row: u64,
    rows: &mut PackedCells,
) -> Result<Result<ChunkResult, String>, GuestFault> {
    match instance.process(headers, first_row, rows) {
        Err(GuestFault::Trap { importer, message }) => {
            let trap = format!("importer {importer} crashed on this row: {message}");
            split(instance, headers, first_row, rows, &trap).map(Ok)
        }
        other => other,
    }
}

fn split(
    instance: &mut ImporterInstance,
    headers: &[String],
    first_row: u64,
    rows: &PackedCells,
    trap: &str,
) -> Result<ChunkResult, GuestFault> {
    let count = rows.row_count();
    let columns = instance.description().columns.len() as u32;
    if count <= 1 {
        return Ok(ChunkResult {
            outcomes: vec![OUTCOME_FAILED; count],
            records: PackedCells::new(columns),
            skips: Vec::new(),
            failures: vec![RowFailure { message: trap.to_owned(), validation: Vec::new() }; count],
        });
    }

    let middle = count / 2;
    let mut merged = ChunkResult {
        outcomes: Vec::with_capacity(count),
        records: PackedCells::new(columns),
        skips: Vec::new(),
        failures: Vec::new(),
    };
    for half in [0..middle, middle..count] {
        let mut part = rows.slice_rows(half.clone());
        let part_first = first_row + half.start as u64;
        let result = match instance.process(headers, part_first, &mut part) {
            Ok(Ok(result)) => result,
            Ok(Err(message)) => rejected(&part, columns, &message),
            Err(GuestFault::Trap { .. }) => split(instance, headers, part_first, &part, trap)?,
            Err(fault) => return Err(fault),
        };
        merged.outcomes.extend(result.outcomes);
        merged.records.append(&result.records);
        merged.skips.extend(result.skips);
        merged.failures.extend(result.failures);
    }
    Ok(merged)
}

/// The importer rejected a part of the chunk as a whole: every row of it fails.
fn rejected(part: &PackedCells, columns: u32, message: &str) -> ChunkResult {
    let count = part.row_count();
    ChunkResult {
        outcomes: vec![OUTCOME_FAILED; count],
        records: PackedCells::new(columns),
        skips: Vec::new(),
        failures: vec![RowFailure { message: message.to_owned(), validation: Vec::new() }; count],
    }
}
