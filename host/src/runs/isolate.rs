//! Keeping a crash on one row from failing a whole chunk.
//!
//! When an importer traps inside `process` (a panic, say), the host cannot tell which
//! row caused it. It splits the chunk in halves and runs each half in a fresh instance,
//! down to single rows. So only the rows that crash fail, each with the message of its
//! own crash, and the rest of the chunk is imported. A chunk of n rows with one bad row
//! costs about 2·log2(n) extra calls; a chunk whose every row crashes costs 2n - 1.
//! Other faults (time, memory, malformed output) fail the run: they are properties of
//! the importer, not of a row, and bisecting a timeout would multiply the time lost.

use crate::cells::PackedCells;
use crate::plugins::description::Target;
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
            split(instance, headers, first_row, rows, &importer, &message).map(Ok)
        }
        other => other,
    }
}

/// Processes the two halves of `rows`, which crashed as a whole with `message`.
fn split(
    instance: &mut ImporterInstance,
    headers: &[String],
    first_row: u64,
    rows: &PackedCells,
    importer: &str,
    message: &str,
) -> Result<ChunkResult, GuestFault> {
    let count = rows.row_count();
    let targets = instance.description().targets.clone();
    if count <= 1 {
        let failure = RowFailure { message: format!("importer {importer} crashed on this row: {message}"), validation: Vec::new() };
        return Ok(every_row_failed(rows, &targets, failure));
    }

    let middle = count / 2;
    let mut merged = ChunkResult::empty(&targets);
    for half in [0..middle, middle..count] {
        let mut part = rows.slice_rows(half.clone());
        let part_first = first_row + half.start as u64;
        let result = match instance.process(headers, part_first, &mut part) {
            Ok(Ok(result)) => result,
            Ok(Err(message)) => every_row_failed(
                &part,
                &targets,
                RowFailure { message: format!("importer {importer} rejected the rows: {message}"), validation: Vec::new() },
            ),
            Err(GuestFault::Trap { importer, message }) => split(instance, headers, part_first, &part, &importer, &message)?,
            Err(fault) => return Err(fault),
        };
        merged.append(result);
    }
    Ok(merged)
}

/// Builds a result in which every row of `part` failed with `failure`.
fn every_row_failed(part: &PackedCells, targets: &[Target], failure: RowFailure) -> ChunkResult {
    let count = part.row_count();
    ChunkResult { outcomes: vec![OUTCOME_FAILED; count], failures: vec![failure; count], ..ChunkResult::empty(targets) }
}
