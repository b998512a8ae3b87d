//! Harness for the end-to-end tests: each test starts the real `ingest` binary on a free
//! local port, with its own database, plugins directory and storage directory, and
//! talks to it over HTTP.
//!
//! The server binary and the example importers must be built first; `scripts/test` does
//! both. `INGEST_BIN` overrides the binary's path, `INGEST_TEST_PLUGINS` the directory
//! of built `.wasm` importers, and `INGEST_SHARED_DATA` the directory of the shared data
//! files (see [`shared_data_dir`]). `INGEST_TEST_BACKEND=postgres` runs every test on a
//! PostgreSQL database of its own instead of a SQLite file (see [`TestDatabase`]).

mod app;
mod checks;
mod cli;
mod database;
mod fixtures;
mod logs;
mod http_server;
mod paths;
mod plugins;
mod requests;
mod scratch;

pub use app::{API_PREFIX, TestApp, TestAppBuilder};
pub use cli::{CliEnv, CliOutput, ingest_command};
pub use checks::{expect_json, expect_text, is_api_timestamp, parse_csv};
pub use database::{Backend, TestDatabase};
pub use fixtures::{write_airports_csv, write_airports_csv_from};
pub use logs::RunStart;
pub use http_server::{HttpServer, Reply};
pub use paths::{data_file, server_binary, shared_data_dir, test_importer_wasm, workspace_dir};
pub use plugins::{importer_entry, rejected_entry};
pub use requests::{RUN_TIMEOUT, file_form, run_id};
pub use scratch::ScratchDir;
