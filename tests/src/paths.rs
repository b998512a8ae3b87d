//! Where the tests find the server binary, the built importers and the shared data files.

use std::path::{Path, PathBuf};

/// The cargo workspace: the parent of this crate's directory.
pub fn workspace_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the e2e crate lives inside the workspace directory")
        .to_path_buf()
}

/// The `ingest` binary: `INGEST_BIN`, or `<workspace>/target/release/ingest`.
///
/// Panics when the file does not exist, because every test needs it.
pub fn server_binary() -> PathBuf {
    let path = match std::env::var_os("INGEST_BIN") {
        Some(path) => PathBuf::from(path),
        None => workspace_dir().join("target/release/ingest"),
    };
    assert!(
        path.is_file(),
        "the server binary {} does not exist; run scripts/test, which builds it, or set INGEST_BIN to a built `ingest`",
        path.display()
    );
    path
}

/// The directory of built importers: `INGEST_TEST_PLUGINS`, or `<workspace>/target/plugins`.
pub fn plugins_build_dir() -> PathBuf {
    match std::env::var_os("INGEST_TEST_PLUGINS") {
        Some(path) => PathBuf::from(path),
        None => workspace_dir().join("target/plugins"),
    }
}

/// The built `.wasm` file of the example importer `slug`, named as cargo names the crate's
/// artifact (`airport-importer` is built to `airport_importer.wasm`).
///
/// Panics when the file does not exist.
pub fn importer_wasm(slug: &str) -> PathBuf {
    let path = plugins_build_dir().join(format!("{}.wasm", slug.replace('-', "_")));
    assert!(
        path.is_file(),
        "importer {slug} is not built: {} does not exist; run scripts/test, which builds the example importers, \
         or set INGEST_TEST_PLUGINS to the directory of built .wasm files",
        path.display()
    );
    path
}

/// The built `.wasm` file of the test importer crate `name` of `tests/importers/`, from
/// `<workspace>/target/test-importers`, where `scripts/build-plugins` puts them.
///
/// Panics when the file does not exist.
pub fn test_importer_wasm(name: &str) -> PathBuf {
    let path = workspace_dir().join("target/test-importers").join(format!("{}.wasm", name.replace('-', "_")));
    assert!(
        path.is_file(),
        "test importer {name} is not built: {} does not exist; run scripts/build-plugins",
        path.display()
    );
    path
}

/// Returns the directory of the shared, read-only test data: `INGEST_SHARED_DATA`, or
/// `../shared/data` by default, with a relative directory read from the workspace root.
///
/// Panics when the directory does not exist, naming the variable.
pub fn shared_data_dir() -> PathBuf {
    let dir = std::env::var_os("INGEST_SHARED_DATA").map_or_else(|| PathBuf::from("../shared/data"), PathBuf::from);
    let dir = workspace_dir().join(dir);
    assert!(
        dir.is_dir(),
        "the shared data directory {} does not exist; set INGEST_SHARED_DATA to the directory that contains airports.csv",
        dir.display()
    );
    dir
}

/// A file of the shared, read-only test data, in [`shared_data_dir`].
///
/// Panics when the file does not exist.
pub fn data_file(name: &str) -> PathBuf {
    let path = shared_data_dir().join(name);
    assert!(path.is_file(), "the test data file {} does not exist", path.display());
    path
}
