//! Hot reload: the plugins directory is watched, and changed files are reloaded.
//!
//! File events are collected per path and handed to one thread that does every load
//! and unload, so two loads of one file never race. A path is reloaded once it has had
//! no event for [`DEBOUNCE`]. On Linux, inotify reports when a writer closes a file.
//! There a file that was written and not yet closed also waits for its close, or for
//! [`WRITE_STALL`] without events, so a file written in pieces is loaded once and whole.
//! Elsewhere the debounce alone guards against half-written files: a half file fails to
//! compile, is reported, and the version served before stays until the next change.
//! Writers that stage `.name.wasm` and rename it into place are safe on every platform.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, ModifyKind};
use notify::{EventKind, RecursiveMode, Watcher};

use super::Registry;
use super::registry::is_importer_file;

/// Quiet time after a path's last event before it is reloaded.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// Quiet time after which a file that was written but never closed is loaded anyway.
/// Hard links and writers that crashed leave no close event behind.
pub const WRITE_STALL: Duration = Duration::from_secs(5);

/// Whether the platform's watcher reports closes of written files (inotify does).
const REPORTS_CLOSE_AFTER_WRITE: bool = cfg!(any(target_os = "linux", target_os = "android"));

/// The kind of change an event reports for a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    /// Created or written. On Linux, a close event follows when the writer is done.
    Written,
    /// A writer closed the file.
    Closed,
    /// Renamed, removed or any other change.
    Other,
}

impl Change {
    /// Returns `None` for events that change nothing, such as the registry's own reads.
    fn of(kind: &EventKind) -> Option<Change> {
        match kind {
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => Some(Change::Closed),
            EventKind::Access(_) => None,
            EventKind::Create(_) | EventKind::Modify(ModifyKind::Data(_)) => Some(Change::Written),
            _ => Some(Change::Other),
        }
    }
}

/// The events of one path that is waiting to be reloaded.
struct Pending {
    last_event: Instant,
    /// Written and not closed since.
    open_for_writing: bool,
}

impl Pending {
    fn due_at(&self) -> Instant {
        if self.open_for_writing { self.last_event + WRITE_STALL } else { self.last_event + DEBOUNCE }
    }
}

/// Watches `dir` until the returned watcher is dropped.
pub fn watch(registry: Arc<Registry>, dir: &Path) -> notify::Result<notify::RecommendedWatcher> {
    let (sender, receiver) = mpsc::channel::<(PathBuf, Change)>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
        Ok(event) => {
            let Some(change) = Change::of(&event.kind) else { return };
            for path in event.paths.into_iter().filter(|path| is_importer_file(path)) {
                let _ = sender.send((path, change));
            }
        }
        Err(error) => tracing::warn!(%error, "watching the plugins directory failed"),
    })?;
    watcher.watch(dir, RecursiveMode::NonRecursive)?;

    std::thread::Builder::new()
        .name("plugin-reload".into())
        .spawn(move || reload_loop(&registry, &receiver))
        .map_err(notify::Error::io)?;
    Ok(watcher)
}

fn reload_loop(registry: &Registry, receiver: &mpsc::Receiver<(PathBuf, Change)>) {
    let mut pending: HashMap<PathBuf, Pending> = HashMap::new();
    loop {
        let event = match pending.values().map(Pending::due_at).min() {
            None => receiver.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(due) => receiver.recv_timeout(due.saturating_duration_since(Instant::now())),
        };
        match event {
            Ok((path, change)) => {
                let entry = pending
                    .entry(path)
                    .or_insert(Pending { last_event: Instant::now(), open_for_writing: false });
                entry.last_event = Instant::now();
                match change {
                    Change::Written if REPORTS_CLOSE_AFTER_WRITE => entry.open_for_writing = true,
                    Change::Closed => entry.open_for_writing = false,
                    Change::Written | Change::Other => {}
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }

        let now = Instant::now();
        let due: Vec<PathBuf> =
            pending.iter().filter(|(_, entry)| entry.due_at() <= now).map(|(path, _)| path.clone()).collect();
        for path in &due {
            pending.remove(path);
        }
        reload(registry, due);
    }
}

/// Loads the paths that are files, then unloads the others, so that a file renamed to
/// another name keeps its slug served throughout.
fn reload(registry: &Registry, mut paths: Vec<PathBuf>) {
    paths.sort();
    let (files, gone): (Vec<PathBuf>, Vec<PathBuf>) = paths.into_iter().partition(|path| path.is_file());
    for path in files {
        guard(&path, || {
            // Failures are logged and kept by the registry.
            let _ = registry.load_file(&path);
        });
    }
    for path in gone {
        guard(&path, || registry.unload_file(&path));
    }
}

/// Runs `work` for `path`, and logs a panic instead of ending hot reload with it.
fn guard(path: &Path, work: impl FnOnce()) {
    if let Err(panic) = std::panic::catch_unwind(AssertUnwindSafe(work)) {
        let message = panic
            .downcast_ref::<&str>()
            .map(|text| text.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::error!(file = %path.display(), panic = %message, "reloading an importer panicked; the file is reloaded on its next change");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, DataChange, RemoveKind, RenameMode};

    #[test]
    fn reads_are_not_changes() {
        assert_eq!(Change::of(&EventKind::Access(AccessKind::Open(AccessMode::Any))), None);
        assert_eq!(Change::of(&EventKind::Access(AccessKind::Close(AccessMode::Read))), None);
    }

    #[test]
    fn writes_closes_and_renames_are_changes() {
        assert_eq!(Change::of(&EventKind::Create(CreateKind::File)), Some(Change::Written));
        assert_eq!(Change::of(&EventKind::Modify(ModifyKind::Data(DataChange::Any))), Some(Change::Written));
        assert_eq!(Change::of(&EventKind::Access(AccessKind::Close(AccessMode::Write))), Some(Change::Closed));
        assert_eq!(Change::of(&EventKind::Modify(ModifyKind::Name(RenameMode::To))), Some(Change::Other));
        assert_eq!(Change::of(&EventKind::Remove(RemoveKind::File)), Some(Change::Other));
    }

    #[test]
    fn open_file_waits_for_write_stall() {
        let now = Instant::now();
        let writing = Pending { last_event: now, open_for_writing: true };
        let closed = Pending { last_event: now, open_for_writing: false };

        assert_eq!(writing.due_at(), now + WRITE_STALL);
        assert_eq!(closed.due_at(), now + DEBOUNCE);
    }
}
