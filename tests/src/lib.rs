//! Harness for the end-to-end tests: each test starts the real `ingest` binary on a free
//! local port, with its own SQLite file, plugins directory and storage directory, and
//! talks to it over HTTP.
//!
//! The server binary and the example importers must be built first; `scripts/test` does
//! both. `INGEST_BIN` overrides the binary's path and `INGEST_TEST_PLUGINS` the
//! directory of built `.wasm` importers.

mod app;
mod checks;
mod database;
mod fixtures;
mod paths;
mod requests;
mod scratch;

pub use app::{API_PREFIX, TestApp, TestAppBuilder};
pub use checks::{expect_json, expect_text, is_api_timestamp, parse_csv};
pub use fixtures::write_airports_csv;
pub use paths::{data_file, server_binary, workspace_dir};
pub use requests::{RUN_TIMEOUT, file_form, run_id};
pub use scratch::ScratchDir;
