//! Hot reload: the plugins directory is watched, and changed files are reloaded.
//!
//! File events are turned into paths, debounced until the directory has been quiet for
//! [`DEBOUNCE`], and handed to one thread that does every load and unload, so two loads
//! of one file never race. A file being written produces several events; the debounce
//! waits them out, and a load that still sees half a file fails to compile and leaves
//! the serving version in place until the next event.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};

use super::Registry;
use super::registry::is_importer_file;

/// Quiet time after the last event before the changed files are reloaded.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// Watches `dir` until the returned watcher is dropped.
pub fn watch(registry: Arc<Registry>, dir: &Path) -> notify::Result<notify::RecommendedWatcher> {
    let (sender, receiver) = mpsc::channel::<PathBuf>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
        Ok(event) => {
            for path in event.paths {
                let _ = sender.send(path);
            }
        }
        Err(error) => tracing::warn!(%error, "watching the plugins directory failed"),
    })?;
    watcher.watch(dir, RecursiveMode::NonRecursive)?;

    std::thread::Builder::new()
        .name("plugin-reload".into())
        .spawn(move || reload_loop(&registry, &receiver))
        .map_err(|error| notify::Error::io(error))?;
    Ok(watcher)
}

fn reload_loop(registry: &Registry, receiver: &mpsc::Receiver<PathBuf>) {
    while let Ok(first) = receiver.recv() {
        let mut changed = BTreeSet::from([first]);
        while let Ok(path) = receiver.recv_timeout(DEBOUNCE) {
            changed.insert(path);
        }
        for path in changed.into_iter().filter(|path| is_importer_file(path)) {
            if path.is_file() {
                let _ = registry.load_file(&path);
            } else {
                registry.unload_file(&path);
            }
        }
    }
}
