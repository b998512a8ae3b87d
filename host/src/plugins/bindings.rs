//! Host bindings generated from the importer contract in `plugin-sdk/wit`.

wasmtime::component::bindgen!({
    path: "../plugin-sdk/wit",
    world: "ingest:importer/importer-world",
});

/// The contract versions this host links importers against.
pub const SUPPORTED_CONTRACTS: &[&str] = &["0.1.0"];

/// The package whose `importer` interface an importer exports.
pub const CONTRACT_PACKAGE: &str = "ingest:importer";
