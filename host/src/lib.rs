//! The ingest host: a server that imports CSV, XLSX and JSON files into a database through
//! sandboxed WebAssembly importers.
//!
//! Modules, from the edge inwards:
//! - [`cli`]: the `ingest` command and its subcommands.
//! - [`api`]: the REST API (Rocket); handlers never touch wasmtime.
//! - [`runs`]: the run engine, which claims runs and imports them chunk by chunk.
//! - [`plugins`]: the importer runtime (wasmtime components, sandbox, registry by slug);
//!   it never touches the database.
//! - [`sources`]: file readers that turn CSV, XLSX and JSON into packed cells. The module
//!   also finds files in the import directories, and it knows nothing of HTTP.
//! - [`fetch`]: the HTTP client that copies a URL source's file into storage.
//! - [`targets`]: keyed writes to the importers' target tables and related-row lookups.
//! - [`store`]: the host's own tables (runs, remembered rows, tokens) and migrations.
//! - [`cells`]: the packed cell layout shared by sources, plugins and targets.
//! - [`config`]: settings from `INGEST_*` environment variables and an optional TOML
//!   file.
//! - [`metrics`]: process-wide counters and the chunk-latency histogram of `GET /metrics`.

pub mod allocator;
pub mod api;
pub mod cells;
pub mod cli;
pub mod config;
pub mod fetch;
pub mod metrics;
pub mod plugins;
pub mod runs;
pub mod sources;
pub mod store;
pub mod targets;
