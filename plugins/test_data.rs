//! The shared data files that the example importers' native tests read.
//!
//! Each importer crate includes this file in its tests with `#[path]`, because the
//! crates have no test-only crate in common.

use std::path::{Path, PathBuf};

/// Returns the path of `name` in the shared data directory: `INGEST_SHARED_DATA`, or
/// `../shared/data` by default, with a relative directory read from the workspace root.
///
/// Panics when the file does not exist, naming the directory and the variable.
pub fn data_file(name: &str) -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = std::env::var_os("INGEST_SHARED_DATA").map_or_else(|| PathBuf::from("../shared/data"), PathBuf::from);
    let dir = workspace.join(dir);
    assert!(
        dir.is_dir(),
        "the shared data directory {} does not exist; set INGEST_SHARED_DATA to the directory that contains airports.csv",
        dir.display()
    );
    let path = dir.join(name);
    assert!(path.is_file(), "the shared data file {} does not exist", path.display());
    path
}
