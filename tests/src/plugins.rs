//! The plugins directory of a running [`TestApp`]: installing, replacing and removing
//! importer files while the server watches it, and waiting until `GET /importers` shows
//! the result.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::TestApp;
use crate::checks::expect_json;

const POLL_INTERVAL: Duration = Duration::from_millis(20);

impl TestApp {
    /// Copies `source` into the plugins directory as `file_name`, as deployment tools
    /// do: staged under a hidden name, then renamed over `file_name` in one step.
    /// Returns the installed file's path.
    pub fn install_importer(&self, source: &Path, file_name: &str) -> PathBuf {
        let target = self.plugins_dir().join(file_name);
        let staged = self.plugins_dir().join(format!(".{file_name}.tmp"));
        std::fs::copy(source, &staged)
            .unwrap_or_else(|error| panic!("cannot copy {} to {}: {error}", source.display(), staged.display()));
        std::fs::rename(&staged, &target)
            .unwrap_or_else(|error| panic!("cannot rename {} to {}: {error}", staged.display(), target.display()));
        target
    }

    /// Removes `file_name` from the plugins directory.
    pub fn remove_importer(&self, file_name: &str) {
        let path = self.plugins_dir().join(file_name);
        std::fs::remove_file(&path).unwrap_or_else(|error| panic!("cannot remove {}: {error}", path.display()));
    }

    /// Polls `GET /importers` until `condition` holds for its body and returns the body.
    ///
    /// Panics after `timeout` with `description`, the last body and the server log.
    pub fn wait_for_importers(&self, description: &str, timeout: Duration, condition: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let body = expect_json(self.get("/importers"), 200);
            if condition(&body) {
                return body;
            }
            if Instant::now() >= deadline {
                self.fail(&format!(
                    "timed out after {} ms waiting until {description}; last GET /importers: {body}",
                    timeout.as_millis()
                ));
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }
}

/// Returns the entry of `slug` in the `data` of a `GET /importers` body.
pub fn importer_entry<'a>(body: &'a Value, slug: &str) -> Option<&'a Value> {
    body["data"].as_array()?.iter().find(|importer| importer["slug"] == slug)
}

/// Returns the entry of the file named `file_name` in the `rejected` list of a
/// `GET /importers` body.
pub fn rejected_entry<'a>(body: &'a Value, file_name: &str) -> Option<&'a Value> {
    body["rejected"].as_array()?.iter().find(|rejected| {
        rejected["file"].as_str().is_some_and(|file| Path::new(file).file_name().is_some_and(|name| name == file_name))
    })
}
