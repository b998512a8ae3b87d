//! Processing one claimed run, from opening its source to its final status.

use std::sync::Arc;
use std::time::Instant;

use super::RunContext;
use super::heartbeat::Heartbeat;
use super::isolate::process_isolating;
use super::retry::FailedRowsSource;
use super::row_data;
use crate::cells::PackedCells;
use crate::plugins::instance::{OUTCOME_RECORD, OUTCOME_SKIPPED};
use crate::plugins::{ChunkResult, ImporterInstance, LoadedImporter, RowFailure};
use crate::sources::{self, FormatOptions, RowSource, SourceChunk};
use crate::store::connection::is_transient;
use crate::store::{DbConnection, StoreError, write_transaction};
use crate::store::rows::{self, NewRow};
use crate::store::runs::{self, ChunkCounts, Run, Status};
use crate::targets::{TargetError, TargetTable, WriteOutcome};

/// The reason a run stopped before its last row. The message is shown to the user as is.
#[derive(Debug)]
struct RunFailure {
    message: String,
    /// True when the host, not the importer or the file, is at fault.
    host_fault: bool,
    /// True when the failed transaction may succeed if it runs again (see
    /// [`is_transient`]).
    transient: bool,
}

impl RunFailure {
    fn user(message: impl Into<String>) -> Self {
        Self { message: message.into(), host_fault: false, transient: false }
    }
}

impl From<StoreError> for RunFailure {
    fn from(error: StoreError) -> Self {
        let transient = matches!(&error, StoreError::Query(query) if is_transient(query));
        Self { message: format!("the run's database work failed: {error}"), host_fault: true, transient }
    }
}

impl From<TargetError> for RunFailure {
    fn from(error: TargetError) -> Self {
        match error {
            TargetError::Query(error) => Self {
                message: format!("writing the target table failed: {error}"),
                host_fault: true,
                transient: is_transient(&error),
            },
            other => Self::user(other.to_string()),
        }
    }
}

impl From<sources::SourceError> for RunFailure {
    fn from(error: sources::SourceError) -> Self {
        Self::user(error.to_string())
    }
}

impl From<diesel::result::Error> for RunFailure {
    fn from(error: diesel::result::Error) -> Self {
        StoreError::from(error).into()
    }
}

enum Ending {
    Finished,
    Cancelled,
    /// Another node holds the run now: its lease ran out while this worker was alive
    /// (a node that hung, a database that was unreachable), and that node resumes the
    /// run from its last committed chunk.
    LeaseLost,
    /// The server shuts down; any node resumes the run from its last committed chunk.
    Stopped,
}

/// Imports a claimed run and records how it ended. Bad input fails the run; it does not panic.
pub fn process_run(context: &RunContext, run: Run) {
    let span = tracing::info_span!("run", run_id = run.id, importer = %run.importer);
    let _entered = span.enter();
    let started = Instant::now();
    tracing::info!(dry_run = run.dry_run, resumed_at_row = run.next_row, "run started");

    let heartbeat = Heartbeat::start(context.store.clone(), run.id, context.node_id.clone(), context.config.lease);
    let ending = import(context, &run, &heartbeat);
    drop(heartbeat);
    if let Ok(Ending::LeaseLost) = ending {
        tracing::warn!(
            node = %context.node_id,
            "run stopped: another node took it over and resumes it from its last committed chunk"
        );
        return;
    }
    if let Ok(Ending::Stopped) = ending {
        super::release_for_shutdown(context, run.id);
        return;
    }
    let finished = (|| -> Result<(), StoreError> {
        let mut connection = context.store.connection()?;
        let current = runs::find(&mut connection, run.id)?.unwrap_or_else(|| run.clone());
        let summary = serde_json::json!({
            "successful": current.successful_rows,
            "failed": current.failed_rows,
            "skipped": current.skipped_rows,
            "dry_run": current.dry_run,
            "duration_ms": started.elapsed().as_millis() as u64,
        });
        let (status, error) = match &ending {
            Ok(Ending::Finished) if current.failed_rows > 0 => (Status::CompletedWithErrors, None),
            Ok(Ending::Finished) => (Status::Completed, None),
            Ok(Ending::Cancelled) => (Status::Cancelled, None),
            Ok(Ending::LeaseLost) => unreachable!("a run whose lease was lost is left to its new owner"),
            Ok(Ending::Stopped) => unreachable!("a run stopped for a shutdown is left to the next node"),
            Err(failure) => (Status::Failed, Some(failure.message.as_str())),
        };
        let mut summary = summary;
        if let Some(error) = error {
            summary["error"] = error.into();
        }
        if !runs::finish(&mut connection, run.id, &context.node_id, status, error, &summary)? {
            tracing::warn!(
                node = %context.node_id,
                status = status.as_str(),
                "run not recorded as ended: another node took it over and ends it"
            );
            return Ok(());
        }
        remove_stored_file(context, &run);

        let duration_ms = started.elapsed().as_millis() as u64;
        let (successful, failed, skipped) = (current.successful_rows, current.failed_rows, current.skipped_rows);
        match &ending {
            Err(failure) if failure.host_fault => tracing::error!(
                status = status.as_str(),
                duration_ms,
                successful,
                failed,
                skipped,
                error = %failure.message,
                "run failed"
            ),
            Err(failure) => tracing::warn!(
                status = status.as_str(),
                duration_ms,
                successful,
                failed,
                skipped,
                error = %failure.message,
                "run failed"
            ),
            Ok(_) => tracing::info!(status = status.as_str(), duration_ms, successful, failed, skipped, "run finished"),
        }
        Ok(())
    })();
    if let Err(error) = finished {
        tracing::error!(%error, "recording the end of the run failed; it is picked up again when its lease runs out");
    }
}

/// Removes the run's uploaded file once the run has ended; a retry reads the failed rows
/// from `ingest_rows`, never the file. A file left behind is removed by `ingest prune`.
/// Only files in the storage directory's `uploads` are removed, which is where uploads,
/// triggered fetches and `ingest run` put their copies.
fn remove_stored_file(context: &RunContext, run: &Run) {
    let Some(path) = run.stored_path.as_deref() else { return };
    let uploads = std::fs::canonicalize(context.config.storage_dir.join("uploads")).ok();
    let directory = std::path::Path::new(path).parent().and_then(|parent| std::fs::canonicalize(parent).ok());
    if uploads.is_none() || directory != uploads {
        tracing::debug!(path, "the run's file is not in the uploads directory; it is left in place");
        return;
    }
    match std::fs::remove_file(path) {
        Ok(()) => tracing::debug!(path, "uploaded file removed"),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => tracing::warn!(path, %error, "cannot remove the run's uploaded file; `ingest prune` removes it later"),
    }
}

/// Claims after which a run that never ended is failed instead of processed again. A
/// run is claimed again when its node died or hung. One that keeps coming back most
/// likely crashes the node that processes it, and would take down node after node.
const MAX_CLAIMS: i64 = 5;

fn import(context: &RunContext, run: &Run, heartbeat: &Heartbeat) -> Result<Ending, RunFailure> {
    if run.claims > MAX_CLAIMS {
        return Err(RunFailure {
            message: format!(
                "the run was claimed {} times without ending, so the node processing it most likely crashed each \
                 time; it is not processed again (see the nodes' logs)",
                run.claims - 1
            ),
            host_fault: true,
            transient: false,
        });
    }
    let importer = context.registry.get(&run.importer).ok_or_else(|| {
        RunFailure::user(format!(
            "importer {} is not registered; add its .wasm file to the plugins directory and retry",
            run.importer
        ))
    })?;
    let description = &importer.description;
    let options = FormatOptions::for_importer(description.source, &description.format);
    let mut source = open_source(context, run, &options)?;
    let headers = source.headers().to_vec();
    let mut instance = ImporterInstance::new(importer.clone(), context.config.limits, context.services.clone());

    instance
        .check_headers(&headers)
        .map_err(|fault| RunFailure::user(fault.to_string()))?
        .map_err(|message| RunFailure::user(format!("the header row was rejected: {message}")))?;

    let mut connection = context.store.connection()?;
    if run.total_rows.is_none() {
        let total = count_rows(context, run, &options)?;
        runs::record_start(&mut connection, run.id, &description.version, &headers, total)?;
    }
    let target = TargetTable::prepare(&mut connection, description, &context.policy, run.dry_run)?;

    let chunk_size = description.chunk_size as usize;
    let mut chunk = SourceChunk::new(headers.len());
    let mut next_row = run.next_row;
    skip_rows(source.as_mut(), next_row as usize, &mut chunk)?;

    loop {
        if heartbeat.is_lost() {
            return Ok(Ending::LeaseLost);
        }
        if runs::cancel_requested(&mut connection, run.id)? {
            return Ok(Ending::Cancelled);
        }
        if context.shutdown.is_requested() {
            return Ok(Ending::Stopped);
        }
        let chunk_started = Instant::now();
        if !source.read_chunk(chunk_size, &mut chunk)? {
            return Ok(Ending::Finished);
        }
        let first_row = chunk.row_numbers.first().copied().unwrap_or(0);
        let result = if chunk.row_numbers.is_empty() {
            empty_result(description.columns.len())
        } else {
            process_isolating(&mut instance, &headers, first_row, &mut chunk.cells)
                .map_err(|fault| RunFailure::user(fault.to_string()))?
        };
        let plan = ChunkPlan::new(&importer, &headers, &chunk, result);
        let Some(counts) = commit_chunk(context, &mut connection, run, next_row, &target, &plan)? else {
            return Ok(Ending::LeaseLost);
        };
        next_row += counts.source_rows;
        crate::metrics::record_chunk(chunk_started.elapsed(), &counts);
    }
}

/// Opens the run's stored file with the format options of its importer, or the failed
/// rows of the run it retries.
fn open_source(context: &RunContext, run: &Run, options: &FormatOptions) -> Result<Box<dyn RowSource>, RunFailure> {
    if let Some(original) = run.retried_from_run_id {
        return Ok(Box::new(FailedRowsSource::new(context.store.clone(), original, run.headers())));
    }
    let path = run
        .stored_path
        .as_deref()
        .ok_or_else(|| RunFailure::user("the run has no stored file to read; upload the file again"))?;
    let name = run.original_filename.as_deref().unwrap_or_default();
    Ok(sources::open(std::path::Path::new(path), name, options)?)
}

/// Counts the source's rows for the run's progress. It reads the file once more, which
/// costs a parse of the whole file; a reader that counted records without typing cells
/// would halve that.
fn count_rows(context: &RunContext, run: &Run, options: &FormatOptions) -> Result<i64, RunFailure> {
    let mut source = open_source(context, run, options)?;
    let mut chunk = SourceChunk::new(source.headers().len());
    let mut total = 0i64;
    while source.read_chunk(10_000, &mut chunk)? {
        total += chunk.rows_read() as i64;
    }
    Ok(total)
}

fn skip_rows(source: &mut dyn RowSource, mut remaining: usize, chunk: &mut SourceChunk) -> Result<(), RunFailure> {
    while remaining > 0 {
        if !source.read_chunk(remaining.min(10_000), chunk)? {
            break;
        }
        remaining = remaining.saturating_sub(chunk.rows_read());
    }
    Ok(())
}

fn empty_result(width: usize) -> Result<ChunkResult, String> {
    Ok(ChunkResult {
        outcomes: Vec::new(),
        records: PackedCells::new(width as u32),
        skips: Vec::new(),
        failures: Vec::new(),
    })
}

/// The plan for each row of a chunk, made before the target is touched.
struct ChunkPlan {
    atomic: bool,
    records: PackedCells,
    /// For each record, the index of its row in `rows`.
    record_rows: Vec<usize>,
    rows: Vec<PlannedRow>,
    source_rows: i64,
}

struct PlannedRow {
    row_number: u64,
    data: serde_json::Value,
    outcome: PlannedOutcome,
}

enum PlannedOutcome {
    Record,
    Skipped,
    Failed(RowFailure),
}

impl ChunkPlan {
    fn new(importer: &Arc<LoadedImporter>, headers: &[String], chunk: &SourceChunk, result: Result<ChunkResult, String>) -> Self {
        let width = importer.description.columns.len() as u32;
        let mut plan = Self {
            atomic: importer.description.atomic_chunks,
            records: PackedCells::new(width),
            record_rows: Vec::new(),
            rows: Vec::with_capacity(chunk.rows_read()),
            source_rows: chunk.rows_read() as i64,
        };

        match result {
            Ok(result) => {
                let mut failures = result.failures.into_iter();
                plan.records = result.records;
                for (row, &outcome) in result.outcomes.iter().enumerate() {
                    let outcome = match outcome {
                        OUTCOME_RECORD => {
                            plan.record_rows.push(plan.rows.len());
                            PlannedOutcome::Record
                        }
                        OUTCOME_SKIPPED => PlannedOutcome::Skipped,
                        _ => PlannedOutcome::Failed(failures.next().expect("failures are counted by the runtime")),
                    };
                    plan.rows.push(PlannedRow {
                        row_number: chunk.row_numbers[row],
                        data: row_data::from_cells(headers, &chunk.cells, row),
                        outcome,
                    });
                }
            }
            Err(message) => {
                let message = format!("importer {} rejected the chunk: {message}", importer.label());
                for (row, &row_number) in chunk.row_numbers.iter().enumerate() {
                    plan.rows.push(PlannedRow {
                        row_number,
                        data: row_data::from_cells(headers, &chunk.cells, row),
                        outcome: PlannedOutcome::Failed(RowFailure { message: message.clone(), validation: Vec::new() }),
                    });
                }
            }
        }

        for rejected in &chunk.rejected {
            plan.rows.push(PlannedRow {
                row_number: rejected.row_number,
                data: row_data::from_raw(headers, &rejected.raw),
                outcome: PlannedOutcome::Failed(RowFailure { message: rejected.message.clone(), validation: Vec::new() }),
            });
        }
        plan
    }

    fn first_failed_row(&self) -> Option<u64> {
        self.rows
            .iter()
            .filter(|row| matches!(row.outcome, PlannedOutcome::Failed(_)))
            .map(|row| row.row_number)
            .min()
    }
}

/// The row that failed an all-or-nothing chunk, with the reason its write failed when
/// it was the write, not the importer, that failed it.
#[derive(Debug, Clone)]
struct AtomicWriteFailed {
    row_number: u64,
    write_error: Option<String>,
}

enum CommitError {
    Atomic(AtomicWriteFailed),
    /// The worker no longer holds the run's lease; nothing was written.
    LeaseLost,
    Other(RunFailure),
}

impl<E: Into<RunFailure>> From<E> for CommitError {
    fn from(error: E) -> Self {
        CommitError::Other(error.into())
    }
}

/// Times a chunk's transaction runs when it fails for a transient reason.
const CHUNK_ATTEMPTS: u32 = 3;

/// Writes the chunk's records, its failed rows and its counters in one transaction, and
/// returns the counters. Returns `None`, having written nothing, when this worker lost
/// the run's lease. `next_row` is the resume point the chunk starts from.
///
/// A transaction that failed for a transient reason, such as a deadlock with another
/// run writing the same keys, was rolled back whole, so it runs again.
fn commit_chunk(
    context: &RunContext,
    connection: &mut DbConnection,
    run: &Run,
    next_row: i64,
    target: &TargetTable,
    plan: &ChunkPlan,
) -> Result<Option<ChunkCounts>, RunFailure> {
    let mut attempt = 1;
    loop {
        match commit_chunk_once(context, connection, run, next_row, target, plan) {
            Err(failure) if failure.transient && attempt < CHUNK_ATTEMPTS => {
                tracing::warn!(attempt, error = %failure.message, "the chunk's transaction failed; it runs again");
                std::thread::sleep(std::time::Duration::from_millis(100 * u64::from(attempt)));
                attempt += 1;
            }
            outcome => return outcome,
        }
    }
}

fn commit_chunk_once(
    context: &RunContext,
    connection: &mut DbConnection,
    run: &Run,
    next_row: i64,
    target: &TargetTable,
    plan: &ChunkPlan,
) -> Result<Option<ChunkCounts>, RunFailure> {
    let failed_before_write = if plan.atomic {
        plan.first_failed_row().map(|row_number| AtomicWriteFailed { row_number, write_error: None })
    } else {
        None
    };
    let attempt = write_transaction(connection, |connection| -> Result<ChunkCounts, CommitError> {
        write_chunk(context, connection, run, next_row, target, plan, failed_before_write.as_ref())
    });
    match attempt {
        Ok(counts) => Ok(Some(counts)),
        Err(CommitError::LeaseLost) => Ok(None),
        Err(CommitError::Other(failure)) => Err(failure),
        Err(CommitError::Atomic(failed)) => {
            // The rolled-back chunk is recorded again with every row failed and nothing
            // written to the target.
            let recorded = write_transaction(connection, |connection| {
                write_chunk(context, connection, run, next_row, target, plan, Some(&failed))
            });
            match recorded {
                Ok(counts) => Ok(Some(counts)),
                Err(CommitError::LeaseLost) => Ok(None),
                Err(CommitError::Other(failure)) => Err(failure),
                Err(CommitError::Atomic(_)) => unreachable!("a chunk written with nothing to write cannot fail a write"),
            }
        }
    }
}

/// Records the chunk; with `failed_row` set, the chunk is all-or-nothing and that row
/// failed, so nothing is written and every row is recorded as failed.
fn write_chunk(
    context: &RunContext,
    connection: &mut DbConnection,
    run: &Run,
    next_row: i64,
    target: &TargetTable,
    plan: &ChunkPlan,
    failed_row: Option<&AtomicWriteFailed>,
) -> Result<ChunkCounts, CommitError> {
    if !runs::hold_lease_for_chunk(connection, run.id, &context.node_id, next_row, context.config.lease)? {
        return Err(CommitError::LeaseLost);
    }
    let writes = match failed_row {
        Some(_) => Vec::new(),
        None => target.write(connection, &plan.records, run.dry_run)?,
    };
    if plan.atomic && failed_row.is_none() {
        let first_failed = writes.iter().enumerate().find_map(|(record, write)| match write {
            WriteOutcome::Failed(message) => Some((record, message)),
            _ => None,
        });
        if let Some((record, message)) = first_failed {
            return Err(CommitError::Atomic(AtomicWriteFailed {
                row_number: plan.rows[plan.record_rows[record]].row_number,
                write_error: Some(message.clone()),
            }));
        }
    }

    let mut write_of_row = vec![None; plan.rows.len()];
    for (record, write) in writes.iter().enumerate() {
        write_of_row[plan.record_rows[record]] = Some(write);
    }

    let mut counts = ChunkCounts { source_rows: plan.source_rows, ..ChunkCounts::default() };
    let mut remembered = Vec::new();
    for (index, row) in plan.rows.iter().enumerate() {
        counts.processed += 1;
        let failure = match (&row.outcome, failed_row, write_of_row[index]) {
            (PlannedOutcome::Failed(failure), _, _) => Some(failure.clone()),
            (_, Some(failed), _) => {
                let message = match &failed.write_error {
                    Some(reason) if failed.row_number == row.row_number => reason.clone(),
                    _ => format!(
                        "not imported: row {} of the same chunk failed and this importer imports chunks all or nothing",
                        failed.row_number
                    ),
                };
                Some(RowFailure { message, validation: Vec::new() })
            }
            (PlannedOutcome::Skipped, _, _) | (_, _, Some(WriteOutcome::Skipped(_))) => {
                counts.skipped += 1;
                None
            }
            (_, _, Some(WriteOutcome::Failed(message))) => {
                Some(RowFailure { message: message.clone(), validation: Vec::new() })
            }
            (PlannedOutcome::Record, _, _) => {
                counts.successful += 1;
                None
            }
        };
        if let Some(failure) = failure {
            counts.failed += 1;
            remembered.push(NewRow {
                run_id: run.id,
                row_number: row.row_number as i64,
                status: "failed".into(),
                data: row.data.to_string(),
                errors: Some(errors_json(&failure).to_string()),
            });
        }
    }

    rows::insert_many(connection, &remembered)?;
    runs::record_chunk(connection, run.id, counts)?;
    Ok(counts)
}

fn errors_json(failure: &RowFailure) -> serde_json::Value {
    let validation: serde_json::Map<String, serde_json::Value> = failure
        .validation
        .iter()
        .map(|(field, messages)| (field.clone(), serde_json::Value::from(messages.clone())))
        .collect();
    serde_json::json!({ "message": failure.message, "validation": validation })
}
