//! Processing one claimed run, from opening its source to its final status.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use super::RunContext;
use super::commit::{Committed, GroupEnding, GroupWriter};
use super::failure::RunFailure;
use super::heartbeat::Heartbeat;
use super::produce::Producer;
use super::relay::{CloseOnDrop, Work, WriterRelay};
use super::retry::FailedRowsSource;
use crate::plugins::{HostServices, ImporterInstance};
use crate::sources::{self, FormatOptions, RowSource, SourceChunk};
use crate::store::runs::{self, Run, Status};
use crate::store::{Backend, DbConnection, Store, StoreError, write_transaction};
use crate::targets::TargetTables;

enum Ending {
    Finished,
    Cancelled,
    /// Another node holds the run now: its lease ran out while this worker was alive
    /// (a node that hung, a database that was unreachable), and that node resumes the
    /// run from its last committed chunk.
    LeaseLost,
    /// The server shuts down; any node resumes the run from its last committed chunk.
    Stopped,
    /// A group's transaction failed for a transient reason and cannot run again; this
    /// worker resumes the run from its last committed chunk.
    Resume(RunFailure),
}

/// Times a run resumes after transient failures before it fails.
const MAX_RESUMES: u32 = 3;

/// Imports a claimed run and records how it ended. Bad input fails the run; it does not panic.
pub fn process_run(context: &RunContext, run: Run) {
    let span = tracing::info_span!("run", run_id = run.id, importer = %run.importer);
    let _entered = span.enter();
    let started = Instant::now();
    tracing::info!(dry_run = run.dry_run, resumed_at_row = run.next_row, "run started");

    let heartbeat = Heartbeat::start(context.store.clone(), run.id, context.node_id.clone(), context.config.lease);
    let mut ending = import(context, &run, &heartbeat);
    // NOTE: no test makes a transaction fail for a transient reason, so this resume and
    // the rerun of a group in `commit.rs` have not run. A connection that injects such
    // failures would test them.
    let mut resumes = 0;
    while let Ok(Ending::Resume(failure)) = ending {
        resumes += 1;
        if resumes > MAX_RESUMES {
            ending = Err(RunFailure {
                message: format!(
                    "the run's writes failed {MAX_RESUMES} times in a row for transient reasons, last: {}; retry it \
                     when the database is less busy",
                    failure.message
                ),
                ..failure
            });
            break;
        }
        tracing::warn!(error = %failure.message, "the chunks' transaction failed; the run resumes from its last committed chunk");
        ending = resume(context, &run, &heartbeat);
    }
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
        // A finished run's total is what it processed, whether or not the count beside
        // the import got that far.
        if let Ok(Ending::Finished) = ending {
            runs::record_total(&mut connection, run.id, current.processed_rows)?;
        }
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
            Ok(Ending::Resume(_)) => unreachable!("a run to resume is imported again above"),
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

/// Imports `run` again from its last committed chunk, as the database has it now.
fn resume(context: &RunContext, run: &Run, heartbeat: &Heartbeat) -> Result<Ending, RunFailure> {
    let mut connection = context.store.connection()?;
    let current = runs::find(&mut connection, run.id)?.unwrap_or_else(|| run.clone());
    drop(connection);
    import(context, &current, heartbeat)
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
    let mut source = open_source(&context.store, run, &options)?;
    let headers = source.headers().to_vec();
    let chunk_size = (description.chunk_size as usize).max(1);
    let (plans_sender, plans) = std::sync::mpsc::sync_channel(chunks_ahead(chunk_size));
    // On SQLite the writer creates related rows (see `super::relay`); PostgreSQL locks
    // rows, not the database, so there the importer's own calls create them.
    let relay = match context.store.backend() {
        Backend::Sqlite => Some(Arc::new(WriterRelay::new(context.services.clone(), plans_sender.clone()))),
        Backend::Postgres => None,
    };
    let services: Arc<dyn HostServices> = match &relay {
        Some(relay) => relay.clone(),
        None => context.services.clone(),
    };
    let mut instance = ImporterInstance::new(importer.clone(), context.config.limits, services);

    instance
        .check_headers(&headers)
        .map_err(|fault| RunFailure::user(fault.to_string()))?
        .map_err(|message| RunFailure::user(format!("the header row was rejected: {message}")))?;

    let mut connection = context.store.connection()?;
    if run.total_rows.is_none() {
        runs::record_start(&mut connection, run.id, &description.version, &headers, None)?;
    }
    let targets = TargetTables::prepare(&mut connection, description, &context.policy, run.dry_run)?;
    skip_rows(source.as_mut(), run.next_row as usize)?;

    let producer = Producer { source: source.as_mut(), instance: &mut instance, importer: &importer, headers: &headers, chunk_size };
    let writer = GroupWriter { context, run, targets: &targets, headers: &headers };

    if run.total_rows.is_none() {
        let (store, run, options) = (context.store.clone(), run.clone(), options.clone());
        std::thread::spawn(move || record_total(&store, &run, &options));
    }
    let ending = std::thread::scope(|scope| {
        scope.spawn(move || {
            let _closing = relay.map(CloseOnDrop);
            producer.run(plans_sender)
        });
        let ending = write_groups(&writer, &mut connection, heartbeat, &plans);
        // A producer blocked on a full channel stops when the receiver is gone.
        drop(plans);
        ending
    });
    // The connection goes back to the pool, and the next run may get another one.
    crate::store::connection::release_cache(&mut connection);
    drop(connection);
    crate::allocator::return_free_memory();
    ending
}

/// How often a writer waiting for its next chunk looks for a shutdown request.
const SHUTDOWN_POLL: Duration = Duration::from_millis(250);

/// Chunks the producer reads ahead of the writer, about 5,000 rows: the writer is the
/// slower half, so more would only hold memory.
fn chunks_ahead(chunk_size: usize) -> usize {
    5_000usize.div_ceil(chunk_size).clamp(1, 8)
}

/// Commits the producer's chunks in groups until it has sent its last one, the run is
/// cancelled, or the lease is lost. A cancel request is looked at before each group, so
/// a run stops at a chunk boundary.
fn write_groups(
    writer: &GroupWriter<'_>,
    connection: &mut DbConnection,
    heartbeat: &Heartbeat,
    plans: &Receiver<Work>,
) -> Result<Ending, RunFailure> {
    let run = writer.run;
    let mut next_row = run.next_row;
    loop {
        if heartbeat.is_lost() {
            return Ok(Ending::LeaseLost);
        }
        if runs::cancel_requested(connection, run.id)? {
            return Ok(Ending::Cancelled);
        }
        if writer.context.shutdown.is_requested() {
            return Ok(Ending::Stopped);
        }
        // The wait for a group's first chunk is outside any transaction, and a shutdown
        // ends it.
        let first = loop {
            match plans.recv_timeout(SHUTDOWN_POLL) {
                Ok(Work::Plan(plan)) => break plan,
                Ok(Work::Relate(request)) => {
                    write_transaction(connection, |connection| {
                        request.answer(connection, &writer.context.policy);
                        diesel::QueryResult::Ok(())
                    })?;
                }
                Err(RecvTimeoutError::Timeout) if writer.context.shutdown.is_requested() => return Ok(Ending::Stopped),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Ok(Ending::Finished),
            }
        };
        let group = match writer.commit(connection, next_row, first?, plans)? {
            Committed::Group(group) => group,
            Committed::LeaseLost => return Ok(Ending::LeaseLost),
            Committed::Resume(failure) => return Ok(Ending::Resume(failure)),
        };
        next_row += group.counts.source_rows;
        match group.ending {
            GroupEnding::More => {}
            GroupEnding::SourceDone => return Ok(Ending::Finished),
            GroupEnding::Failed(failure) => return Err(failure),
        }
    }
}

/// Counts the run's rows on a second reader of its file and records the total, which
/// only the progress shown to users reads. It runs on a thread of its own, and the
/// import does not wait for it. Until it is recorded the total is unknown, and a run
/// that finishes first records the rows it processed as its total.
fn record_total(store: &Store, run: &Run, options: &FormatOptions) {
    let counted = open_source(store, run, options).and_then(|mut source| Ok(source.count_rest()?));
    let recorded = counted.and_then(|total| {
        let mut connection = store.connection()?;
        runs::record_total(&mut connection, run.id, total as i64)?;
        Ok(())
    });
    // A run that ended first removed its file; it records its own total.
    if let Err(failure) = recorded {
        tracing::debug!(error = %failure.message, "counting the run's rows failed");
    }
}

/// Opens the run's stored file with the format options of its importer, or the failed
/// rows of the run it retries.
fn open_source(store: &Store, run: &Run, options: &FormatOptions) -> Result<Box<dyn RowSource>, RunFailure> {
    if let Some(original) = run.retried_from_run_id {
        return Ok(Box::new(FailedRowsSource::new(store.clone(), original, run.headers())));
    }
    let path = run
        .stored_path
        .as_deref()
        .ok_or_else(|| RunFailure::user("the run has no stored file to read; upload the file again"))?;
    let name = run.original_filename.as_deref().unwrap_or_default();
    Ok(sources::open(std::path::Path::new(path), name, options)?)
}

fn skip_rows(source: &mut dyn RowSource, mut remaining: usize) -> Result<(), RunFailure> {
    let mut chunk = SourceChunk::new(source.headers().len());
    while remaining > 0 {
        if !source.read_chunk(remaining.min(10_000), &mut chunk)? {
            break;
        }
        remaining = remaining.saturating_sub(chunk.rows_read());
    }
    Ok(())
}
