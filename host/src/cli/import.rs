//! `ingest run` and `ingest retry`: imports processed in this process, with no server.
//!
//! The run is recorded in the database as an API upload's run is, claimed by this
//! process, and processed by the run engine that a server's workers use. So `status`
//! and the API of a server on the same database show it like any other run.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use tokio::signal::unix::{SignalKind, signal};

use super::output::{errln, outln};
use super::{UsageError, load_importers, open_store, progress};
use crate::api::views;
use crate::config::Config;
use crate::plugins::Registry;
use crate::plugins::description::SourceKind;
use crate::runs::{self, RetryError, RunContext, create_retry};
use crate::sources::{self, FormatOptions};
use crate::store::Store;
use crate::store::runs::{self as stored_runs, NewRun, Run};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The importer's slug, as `ingest list` shows it.
    slug: String,
    /// The CSV or XLSX file to import, optionally gzip-compressed.
    #[arg(long, value_name = "FILE")]
    file: PathBuf,
    /// Run the importer and detect duplicates, but write nothing to the target table.
    #[arg(long)]
    dry_run: bool,
    /// The user id recorded as the run's owner; none by default.
    #[arg(long, value_name = "ID")]
    user: Option<i64>,
    /// Print the finished run as JSON, in the shape of the API's run object.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct RetryArgs {
    /// The id of the run whose failed rows are retried.
    id: i64,
    /// Run the importer over the failed rows, but write nothing to the target table;
    /// --dry-run=false writes. Without the option, the retry is a dry run exactly when
    /// the original run was.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    dry_run: Option<bool>,
    /// Only create the retry run and leave it pending for a server's workers, instead of
    /// processing it in this process.
    #[arg(long)]
    queue: bool,
    /// The user id recorded as the retry run's owner; none by default.
    #[arg(long, value_name = "ID")]
    user: Option<i64>,
    /// Print the run as JSON, in the shape of the API's run object.
    #[arg(long)]
    json: bool,
}

/// Imports `args.file` with the importer `args.slug`, following the run with a progress
/// bar, and prints how it ended.
pub fn run(args: RunArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let registry = load_importers(config)?;
    let importer = registry.get(&args.slug).ok_or_else(|| importer_not_found(&args.slug, config, &registry))?;
    if !matches!(importer.description.source, SourceKind::Upload | SourceKind::Json) {
        return Err(UsageError(format!(
            "importer {} reads its rows from its own {:?} source, not a file; a server starts it with POST trigger/{}",
            args.slug, importer.description.source, args.slug
        ))
        .into());
    }
    if !args.file.is_file() {
        return Err(UsageError(format!("the file {} does not exist or is not a file", args.file.display())).into());
    }
    let original_filename = args
        .file
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "upload".into());
    let format = FormatOptions::for_importer(importer.description.source, &importer.description.format);
    sources::open(&args.file, &original_filename, &format)
        .with_context(|| format!("cannot import {}", args.file.display()))?;

    let store = open_store(config)?;
    let stored_path = store_copy(&args.file, config)?;
    let new_run = NewRun {
        importer: args.slug.clone(),
        user_id: args.user,
        original_filename: Some(original_filename),
        stored_path: Some(stored_path.display().to_string()),
        dry_run: args.dry_run,
        retried_from_run_id: None,
        headers: None,
    };
    let run = stored_runs::insert(&mut *store.connection()?, &new_run)?;
    process_here(run, &store, registry, config, args.json)
}

/// Creates a run over the failed rows of run `args.id`, then processes it here or, with
/// `--queue`, leaves it for a server.
pub fn retry(args: RetryArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let store = open_store(config)?;
    let original = stored_runs::find(&mut *store.connection()?, args.id)?
        .ok_or_else(|| UsageError(format!("run {} not found", args.id)))?;
    // The importer is checked before the retry exists, so a missing one leaves nothing
    // behind.
    let registry = if args.queue {
        None
    } else {
        let registry = load_importers(config)?;
        if registry.get(&original.importer).is_none() {
            return Err(importer_not_found(&original.importer, config, &registry).into());
        }
        Some(registry)
    };

    let created = create_retry(&mut *store.connection()?, args.id, args.user, args.dry_run);
    let run = match created {
        Ok(run) => run,
        Err(RetryError::NotFound(id)) => return Err(UsageError(format!("run {id} not found")).into()),
        Err(error @ (RetryError::NoFailedRows(_) | RetryError::AlreadyRetrying { .. })) => return Err(error.into()),
        Err(RetryError::Store(error)) => return Err(error.into()),
    };
    tracing::info!(run_id = run.id, retried_from = args.id, dry_run = run.dry_run, "retry run created");

    match registry {
        Some(registry) => process_here(run, &store, registry, config, args.json),
        None => {
            if args.json {
                outln!("{}", views::run(&run, None))?;
            } else {
                outln!(
                    "run {} queued: it retries the failed rows of run {}; a server's workers start it",
                    run.id, args.id
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Claims the pending `run`, processes it on a worker thread while the calling thread
/// draws its progress, and prints how it ended. When a server's worker claims the run
/// first, the run is followed instead.
fn process_here(run: Run, store: &Store, registry: Arc<Registry>, config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    let context = RunContext::new(store.clone(), registry, config.clone());
    let id = run.id;
    let claimed = stored_runs::claim(&mut *store.connection()?, id, &context.node_id, config.lease)?;
    cancel_on_interrupt(store.clone(), id);

    let finished = match claimed {
        Some(run) => {
            let worker = std::thread::Builder::new()
                .name(format!("run-{id}"))
                .spawn(move || runs::process_claimed(&context, run))
                .context("cannot start the thread that processes the run")?;
            let finished = progress::follow(store, id, || worker.is_finished())?;
            if worker.join().is_err() {
                anyhow::bail!("processing run {id} panicked; its state is left as it was, see the log above");
            }
            finished
        }
        None => {
            errln!("run {id} was claimed by a server's worker first; following it");
            progress::follow(store, id, || false)?
        }
    };

    if json {
        outln!("{}", views::run(&finished, None))?;
    } else {
        outln!("{}", progress::outcome_line(&finished))?;
    }
    Ok(progress::exit_code(&finished))
}

/// Copies the file into the storage directory, as an upload is stored, so that the run
/// can be resumed (by a server too) and so that pruning stored files never deletes the
/// operator's own file.
fn store_copy(file: &Path, config: &Config) -> anyhow::Result<PathBuf> {
    let uploads = config.storage_dir.join("uploads");
    std::fs::create_dir_all(&uploads).with_context(|| format!("cannot create {}", uploads.display()))?;
    let stored = uploads.join(format!("{}-{:016x}", chrono::Utc::now().format("%Y%m%d%H%M%S"), rand::random::<u64>()));
    std::fs::copy(file, &stored)
        .with_context(|| format!("cannot copy {} to {}", file.display(), stored.display()))?;
    Ok(stored)
}

/// On the first Ctrl-C (SIGINT), requests the run's cancellation at its next chunk
/// boundary, so it ends `cancelled` instead of staying `processing` until its lease runs out; a second
/// Ctrl-C exits at once. The handler is registered before this function returns, so no
/// interrupt after it kills the process without cancelling the run.
fn cancel_on_interrupt(store: Store, id: i64) {
    let registered = tokio::runtime::Builder::new_current_thread().enable_io().build().and_then(|runtime| {
        let interrupts = runtime.block_on(async { signal(SignalKind::interrupt()) })?;
        Ok((runtime, interrupts))
    });
    let (runtime, mut interrupts) = match registered {
        Ok(registered) => registered,
        Err(error) => {
            tracing::warn!(%error, "cannot watch for Ctrl-C; interrupting leaves the run processing until its lease runs out");
            return;
        }
    };

    let spawned = std::thread::Builder::new().name("interrupt".into()).spawn(move || {
        runtime.block_on(interrupts.recv());
        errln!("\ninterrupted: cancelling run {id} at its next chunk boundary; press Ctrl-C again to quit at once");
        let requested = store
            .connection()
            .map_err(anyhow::Error::from)
            .and_then(|mut connection| Ok(stored_runs::request_cancel(&mut connection, id)?));
        if let Err(error) = requested {
            tracing::error!(run_id = id, %error, "requesting the cancellation failed");
        }
        runtime.block_on(interrupts.recv());
        // 130 is the shell's status for a process ended by SIGINT.
        std::process::exit(130);
    });
    if let Err(error) = spawned {
        tracing::warn!(%error, "cannot watch for Ctrl-C; interrupting leaves the run processing until its lease runs out");
    }
}

fn importer_not_found(slug: &str, config: &Config, registry: &Registry) -> UsageError {
    let rejected = registry.rejected().len();
    let note = match rejected {
        0 if registry.all().is_empty() => {
            " (it has no .wasm files; scripts/build-plugins builds the example importers into target/plugins)".to_owned()
        }
        0 => String::new(),
        count => format!(" ({count} file(s) there failed to load)"),
    };
    UsageError(format!(
        "importer {slug} not found in the plugins directory {}{note}; `ingest list` shows what it contains",
        config.plugins_dir.display()
    ))
}
