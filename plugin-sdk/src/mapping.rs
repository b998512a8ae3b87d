//! The `process` call: a chunk of rows in, one outcome per row out.
//!
//! Every row goes through four phases, each over the whole chunk before the next, so that
//! lookups in other tables are batched:
//! 1. map: before-row hooks, the router that picks the row's target, then each of that
//!    target's columns: source, required check, steps, and conversion to its type;
//! 2. relate: one host call per relation for the chunk's distinct values;
//! 3. finish: the record hooks, and the conversion of what they set;
//! 4. pack: records into one `cells` layout per target, with skips and failures beside
//!    them.

use crate::bindings::ingest::importer::types::{Chunk, ChunkResult, FieldErrors, RowFailure};
use crate::config::{Column, Source, Step};
use crate::convert::convert;
use crate::headers::HeaderRow;
use crate::host::Host;
use crate::packing::{CellsWriter, unpack};
use crate::pipeline::Pipeline;
use crate::relate::relate_values;
use crate::row::{Record, Row, RowError, ValidationErrors};
use crate::validate::REQUIRED_MESSAGE;
use crate::value::{Cell, Value};

/// The state of a row between the phases.
pub(crate) enum RowState<'a> {
    /// The index of the row's target, one value per column of that target, and the
    /// validation errors found so far.
    Mapped {
        target: usize,
        values: Vec<Value<'a>>,
        errors: ValidationErrors,
    },
    Skipped(String),
    Failed {
        message: String,
        errors: ValidationErrors,
    },
}

impl RowState<'_> {
    /// Returns whether the row still heads for a record: mapped without errors.
    pub(crate) fn is_clean(&self) -> bool {
        matches!(self, RowState::Mapped { errors, .. } if errors.is_empty())
    }
}

pub(crate) fn process_chunk(pipeline: &Pipeline, chunk: &Chunk, host: &dyn Host) -> Result<ChunkResult, String> {
    let width = chunk.rows.width as usize;
    if width != chunk.headers.len() {
        return Err(format!(
            "The chunk has {} headers but rows of {width} cells, so its cells cannot be matched to headers.",
            chunk.headers.len()
        ));
    }
    let mut cells = unpack(&chunk.rows).map_err(|error| format!("The host sent a malformed chunk: {error}."))?;
    blank_null_markers(&mut cells, pipeline.null_markers());

    let headers = HeaderRow::new(&chunk.headers);
    // For each target and column, the positions of the aliases the file has, in order of
    // preference.
    let sources: Vec<Vec<Vec<usize>>> = pipeline
        .targets()
        .iter()
        .map(|target| {
            target
                .columns()
                .iter()
                .map(|column| match column.source {
                    Source::Header(_) => headers.resolve_all(&column.source_headers()),
                    Source::Computed { .. } => Vec::new(),
                })
                .collect()
        })
        .collect();
    let rows: Vec<Row<'_>> = if width == 0 {
        Vec::new()
    } else {
        cells
            .chunks_exact(width)
            .zip(chunk.first_row..)
            .map(|(row_cells, number)| Row::new(number, row_cells, headers))
            .collect()
    };

    let mut states: Vec<RowState<'_>> = rows.iter().map(|row| map_row(pipeline, row, &sources)).collect();
    relate_values(pipeline, host, &mut states)?;
    for (row, state) in rows.iter().zip(&mut states) {
        finish_row(pipeline, row, state);
    }
    Ok(pack_result(pipeline, states))
}

/// Turns blank text cells and text cells equal to a null marker into empty cells.
fn blank_null_markers(cells: &mut [Cell<'_>], markers: &[String]) {
    for cell in cells {
        if let Cell::Text(text) = *cell {
            let text = text.trim();
            if text.is_empty() || markers.iter().any(|marker| marker == text) {
                *cell = Cell::Empty;
            }
        }
    }
}

fn map_row<'a>(pipeline: &Pipeline, row: &Row<'a>, sources: &[Vec<Vec<usize>>]) -> RowState<'a> {
    for hook in pipeline.before_row_hooks() {
        match hook(row) {
            Ok(()) => {}
            Err(RowError::Skip(reason)) => return RowState::Skipped(reason),
            Err(RowError::Fail(message)) => {
                return RowState::Failed {
                    message,
                    errors: ValidationErrors::default(),
                };
            }
        }
    }

    let target = match route(pipeline, row) {
        Ok(target) => target,
        Err(message) => {
            return RowState::Failed {
                message,
                errors: ValidationErrors::default(),
            };
        }
    };
    let mut errors = ValidationErrors::default();
    let values = pipeline.targets()[target]
        .columns()
        .iter()
        .enumerate()
        .map(|(index, column)| {
            let required = pipeline.is_required(target, index);
            map_column(column, required, row, &sources[target][index], &mut errors)
        })
        .collect();
    RowState::Mapped { target, values, errors }
}

/// Returns the index of the target the router picks for `row`: the main target without
/// a router. A table that is not a target gives the message that fails the row.
fn route(pipeline: &Pipeline, row: &Row<'_>) -> Result<usize, String> {
    let Some(router) = pipeline.router() else {
        return Ok(0);
    };
    let table = router(row);
    let targets = pipeline.targets();
    targets
        .iter()
        .position(|target| target.table() == table)
        .ok_or_else(|| {
            let declared: Vec<&str> = targets.iter().map(|target| target.table()).collect();
            format!(
                "The importer routes this row to the table {table:?}, which is not one of its targets ({}).",
                declared.join(", ")
            )
        })
}

/// Runs one column's source and steps. A failing step records its message and leaves the
/// column null, so that later phases see no half-made value.
///
/// A column with aliases reads the first of `positions` whose cell in this row is not
/// empty. Rows of a JSON file spell a field in different ways, and the file's header is
/// the union of their keys.
fn map_column<'a>(
    column: &Column,
    required: bool,
    row: &Row<'a>,
    positions: &[usize],
    errors: &mut ValidationErrors,
) -> Value<'a> {
    if column.condition.as_ref().is_some_and(|condition| !condition(row)) {
        return Value::Null;
    }

    let mut value = match &column.source {
        Source::Header(_) => positions
            .iter()
            .map(|&position| row.cell_at(position))
            .find(|cell| !cell.is_empty())
            .map_or(Value::Null, Cell::to_value),
        Source::Computed { compute, .. } => match compute(row) {
            Ok(value) => value,
            Err(message) => return reject(column, message, errors),
        },
    };
    if value.is_null() && required {
        return reject(column, REQUIRED_MESSAGE.to_owned(), errors);
    }

    for step in &column.steps {
        match step {
            Step::Transform(transform) => match transform.apply(value, row) {
                Ok(changed) => value = changed,
                Err(message) => return reject(column, message, errors),
            },
            Step::Validate(validator) => {
                if value.is_null() {
                    continue;
                }
                if let Err(message) = validator.validate(&value, row) {
                    return reject(column, message, errors);
                }
            }
        }
    }

    // A relation column contains the looked-up text until the relate phase replaces it
    // with an id. Every other column is converted now, so that a row that cannot be
    // stored fails before any lookup could create a related row for it.
    if column.relation.is_some() {
        return value;
    }
    match convert(value, column.column_type) {
        Ok(converted) => converted,
        Err(reason) => reject(column, format!("The :attribute field {reason}"), errors),
    }
}

fn reject<'a>(column: &Column, message: String, errors: &mut ValidationErrors) -> Value<'a> {
    errors.add(column.name(), fill_attribute(&message, &column.label()));
    Value::Null
}

/// Replaces `:attribute` in a validation message with the field's label.
pub(crate) fn fill_attribute(message: &str, label: &str) -> String {
    message.replace(":attribute", label)
}

/// Runs the record hooks on a clean row, converts what they set, and turns a row with
/// validation errors into a failure.
fn finish_row<'a>(pipeline: &Pipeline, row: &Row<'a>, state: &mut RowState<'a>) {
    let RowState::Mapped { target, values, errors } = state else {
        return;
    };
    let target_index = *target;
    let target = &pipeline.targets()[target_index];

    if errors.is_empty() && !pipeline.record_hooks().is_empty() {
        for hook in pipeline.record_hooks() {
            let mut record = Record::new(target.table(), target.columns(), values, errors);
            match hook(row, &mut record) {
                Ok(()) => {}
                Err(RowError::Skip(reason)) => {
                    *state = RowState::Skipped(reason);
                    return;
                }
                Err(RowError::Fail(message)) => {
                    *state = RowState::Failed {
                        message,
                        errors: std::mem::take(errors),
                    };
                    return;
                }
            }
        }
        convert_values(target.columns(), values, errors);
    }

    for (index, column) in target.columns().iter().enumerate() {
        if pipeline.is_required(target_index, index) && values[index].is_null() && !errors.has_field(column.name()) {
            errors.add(column.name(), fill_attribute(REQUIRED_MESSAGE, &column.label()));
        }
    }
    if !errors.is_empty() {
        let errors = std::mem::take(errors);
        *state = RowState::Failed {
            message: errors.summary(),
            errors,
        };
    }
}

fn convert_values(columns: &[Column], values: &mut [Value<'_>], errors: &mut ValidationErrors) {
    for (column, slot) in columns.iter().zip(values.iter_mut()) {
        let value = std::mem::replace(slot, Value::Null);
        match convert(value, column.column_type) {
            Ok(converted) => *slot = converted,
            Err(reason) => errors.add(column.name(), format!("The {} field {reason}", column.label())),
        }
    }
}

fn pack_result(pipeline: &Pipeline, states: Vec<RowState<'_>>) -> ChunkResult {
    let mut outcomes = Vec::with_capacity(states.len());
    let mut record_targets = Vec::new();
    let mut records: Vec<CellsWriter> = pipeline
        .targets()
        .iter()
        .map(|target| CellsWriter::new(target.columns().len()))
        .collect();
    let mut skips = Vec::new();
    let mut failures = Vec::new();
    for state in states {
        match state {
            RowState::Mapped { target, values, .. } => {
                outcomes.push(OUTCOME_RECORD);
                record_targets.push(u32::try_from(target).expect("targets are limited to MAX_TARGETS"));
                for value in &values {
                    records[target].push(value);
                }
            }
            RowState::Skipped(reason) => {
                outcomes.push(OUTCOME_SKIPPED);
                skips.push(reason);
            }
            RowState::Failed { message, errors } => {
                outcomes.push(OUTCOME_FAILED);
                let validation = errors
                    .into_fields()
                    .into_iter()
                    .map(|(field, messages)| FieldErrors { field, messages })
                    .collect();
                failures.push(RowFailure { message, validation });
            }
        }
    }
    ChunkResult {
        outcomes,
        record_targets,
        records: records.into_iter().map(CellsWriter::finish).collect(),
        skips,
        failures,
    }
}

pub(crate) const OUTCOME_RECORD: u8 = 0;
pub(crate) const OUTCOME_SKIPPED: u8 = 1;
pub(crate) const OUTCOME_FAILED: u8 = 2;

#[cfg(test)]
mod tests {
    use crate::bindings::ingest::importer::types::{Cells, Chunk};
    use crate::config::{Column, IngestConfig};
    use crate::packing::TAG_TEXT;
    use crate::testing::Harness;

    fn harness() -> Harness {
        Harness::new(
            IngestConfig::new("things")
                .target("things")
                .keyed_by("name")
                .column(Column::text("name")),
        )
    }

    fn chunk(headers: &[&str], rows: Cells) -> Chunk {
        Chunk {
            headers: headers.iter().map(|header| header.to_string()).collect(),
            first_row: 1,
            rows,
        }
    }

    #[test]
    fn malformed_chunk_is_an_error() {
        let harness = harness();
        let rows = Cells {
            width: 1,
            tags: vec![TAG_TEXT],
            ends: vec![4],
            bytes: b"ab".to_vec(),
        };
        let error = harness
            .pipeline()
            .process(&chunk(&["name"], rows), &harness)
            .err()
            .unwrap();
        assert_eq!(
            error,
            "The host sent a malformed chunk: cell 0 ends at byte 4, outside the 2-byte buffer or before the previous cell."
        );
    }

    #[test]
    fn headers_must_match_the_row_width() {
        let harness = harness();
        let rows = Cells {
            width: 2,
            tags: vec![],
            ends: vec![],
            bytes: vec![],
        };
        let error = harness
            .pipeline()
            .process(&chunk(&["name"], rows), &harness)
            .err()
            .unwrap();
        assert_eq!(
            error,
            "The chunk has 1 headers but rows of 2 cells, so its cells cannot be matched to headers."
        );
    }

    #[test]
    fn empty_chunk_gives_an_empty_result() {
        let harness = harness();
        let rows = Cells {
            width: 1,
            tags: vec![],
            ends: vec![],
            bytes: vec![],
        };
        let result = harness
            .pipeline()
            .process(&chunk(&["name"], rows), &harness)
            .ok()
            .unwrap();
        assert!(result.outcomes.is_empty());
        assert!(result.record_targets.is_empty());
        assert_eq!(result.records.len(), 1);
        assert_eq!(result.records[0].width, 1);
        assert!(result.records[0].tags.is_empty());
    }
}
