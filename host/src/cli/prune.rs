//! `ingest prune`: removes what runs leave behind once it is older than the retention
//! period (`INGEST_RETENTION_DAYS`): the remembered rows of finished runs, and uploaded
//! files that no pending or processing run reads.
//!
//! A run removes its own uploaded file when it ends, so the files found here are those
//! of uploads that never became a run, of runs whose node died at the end, or whose
//! removal failed. Runs themselves are kept, with their counters and summaries.

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use clap::Args;

use super::output::{errln, outln};
use super::{EXIT_FAILURE, open_store};
use crate::config::Config;
use crate::store::{self, rows, runs};

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Remove what is older than this many days, instead of INGEST_RETENTION_DAYS.
    #[arg(long, value_name = "DAYS")]
    older_than_days: Option<u64>,
    /// Print what would be removed, and remove nothing.
    #[arg(long)]
    dry_run: bool,
}

/// The files one pass removed, or would remove.
#[derive(Debug, Default)]
struct Removed {
    files: u64,
    bytes: u64,
    /// Files that could not be removed, with the reason.
    failures: Vec<String>,
}

pub fn run(args: PruneArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let retention = match args.older_than_days {
        Some(days) => Duration::from_secs(days.saturating_mul(24 * 60 * 60)),
        None => config.retention,
    };
    let cutoff = SystemTime::now().checked_sub(retention).unwrap_or(SystemTime::UNIX_EPOCH);
    let cutoff_text = store::timestamp(cutoff.into());

    let store = open_store(config)?;
    let mut connection = store.connection()?;
    let row_count = rows::delete_of_runs_finished_before(&mut connection, &cutoff_text, args.dry_run)?;
    let in_use: HashSet<OsString> = runs::unfinished_stored_paths(&mut connection)?
        .iter()
        .filter_map(|path| Path::new(path).file_name().map(OsString::from))
        .collect();
    let removed = prune_uploads(&config.storage_dir.join("uploads"), cutoff, &in_use, args.dry_run);

    let verb = if args.dry_run { "would remove" } else { "removed" };
    outln!(
        "{verb} {row_count} remembered rows of runs finished before {cutoff_text}, and {} uploaded files ({} bytes) older than that",
        removed.files, removed.bytes
    )?;
    for failure in &removed.failures {
        errln!("error: {failure}");
    }
    Ok(if removed.failures.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(EXIT_FAILURE) })
}

/// Removes the files of `uploads` last modified before `cutoff`, except those named in
/// `in_use`. The stored names are unique (a time and a random number), so a name
/// identifies a run's file whatever form of the storage path the run recorded.
fn prune_uploads(uploads: &Path, cutoff: SystemTime, in_use: &HashSet<OsString>, dry_run: bool) -> Removed {
    let mut removed = Removed::default();
    let entries = match std::fs::read_dir(uploads) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return removed,
        Err(error) => {
            removed.failures.push(format!("cannot read the uploads directory {}: {error}", uploads.display()));
            return removed;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                removed.failures.push(format!("cannot read the uploads directory {}: {error}", uploads.display()));
                continue;
            }
        };
        let path = entry.path();
        // symlink_metadata, so a link is judged (and removed) itself, never its target.
        let Ok(metadata) = std::fs::symlink_metadata(&path) else { continue };
        let old = metadata.modified().is_ok_and(|modified| modified < cutoff);
        if metadata.is_dir() || !old || in_use.contains(&entry.file_name()) {
            continue;
        }
        if !dry_run {
            if let Err(error) = std::fs::remove_file(&path) {
                removed.failures.push(format!("cannot remove {}: {error}", path.display()));
                continue;
            }
        }
        removed.files += 1;
        removed.bytes += metadata.len();
    }
    removed
}
