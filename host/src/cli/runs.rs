//! `ingest status` and `ingest cancel`: existing runs, read and changed through the
//! database, so they work with or without a server.

use std::process::ExitCode;

use clap::Args;

use super::output::{errln, outln};
use super::{EXIT_FAILURE, UsageError, open_store, progress};
use crate::api::views;
use crate::config::Config;
use crate::store::{DbConnection, rows};
use crate::store::runs::{self, CancelOutcome, Run};

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The run's id.
    id: i64,
    /// Wait until the run ends, even when stderr is not a terminal, and exit as `ingest
    /// run` does: 0 only when every row was imported or skipped.
    #[arg(long, conflicts_with = "no_wait")]
    wait: bool,
    /// Print the current state at once, without following a pending or processing run.
    #[arg(long)]
    no_wait: bool,
    /// Print the run as JSON, as `GET /{id}` returns it (without waiting unless --wait is
    /// given).
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct CancelArgs {
    /// The run's id.
    id: i64,
}

/// Prints a run's state. A pending or processing run is followed with a progress bar
/// until it ends when stderr is a terminal, or with `--wait`.
pub fn status(args: StatusArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let store = open_store(config)?;
    let mut connection = store.connection()?;
    let mut run = find(&mut connection, args.id)?;

    let follow = args.wait || (!args.no_wait && !args.json && progress::is_interactive());
    if follow && !run.status().is_finished() {
        run = progress::follow(&store, args.id, || false)?;
    }

    if args.json {
        let stored_rows = rows::first_rows(&mut connection, run.id, config.run_rows_limit)?;
        outln!("{}", views::run(&run, Some(&stored_rows)))?;
    } else {
        print_run(&run)?;
    }
    Ok(if args.wait { progress::exit_code(&run) } else { ExitCode::SUCCESS })
}

/// Requests the cancellation of a run.
pub fn cancel(args: CancelArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let store = open_store(config)?;
    let id = args.id;
    let mut connection = store.connection()?;
    match runs::request_cancel(&mut connection, id)? {
        CancelOutcome::CancelledBeforeStart => {
            outln!("run {id} cancelled before it started")?;
            Ok(ExitCode::SUCCESS)
        }
        CancelOutcome::Requested => {
            outln!("cancellation of run {id} requested: it stops at its next chunk boundary")?;
            Ok(ExitCode::SUCCESS)
        }
        CancelOutcome::AlreadyFinished(status) => {
            errln!(
                "error: run {id} has already finished with status {}; only pending or processing runs can be cancelled",
                status.as_str()
            );
            Ok(ExitCode::from(EXIT_FAILURE))
        }
        CancelOutcome::NotFound => Err(UsageError(format!("run {id} not found")).into()),
    }
}

fn find(connection: &mut DbConnection, id: i64) -> anyhow::Result<Run> {
    Ok(runs::find(connection, id)?.ok_or_else(|| UsageError(format!("run {id} not found")))?)
}

/// Prints the run as `field: value` lines, the first being the outcome line.
fn print_run(run: &Run) -> std::io::Result<()> {
    outln!("{}", progress::outcome_line(run))?;
    outln!("importer: {}", run.importer)?;
    if let Some(version) = &run.importer_version {
        outln!("importer version: {version}")?;
    }
    if let Some(original) = run.retried_from_run_id {
        outln!("retries run: {original}")?;
    }
    if let Some(name) = &run.original_filename {
        outln!("file: {name}")?;
    }
    outln!("dry run: {}", if run.dry_run { "yes" } else { "no" })?;
    match run.total_rows {
        Some(total) => outln!("rows: {} processed of {total}", run.processed_rows)?,
        None => outln!("rows: {} processed, total not counted yet", run.processed_rows)?,
    }
    outln!("created: {}", run.created_at)?;
    if let Some(completed) = &run.completed_at {
        outln!("completed: {completed}")?;
    }
    if run.cancel_requested && !run.status().is_finished() {
        outln!("cancellation: requested")?;
    }
    Ok(())
}
