//! A test importer built against `ingest:importer@0.2.0` (the copy of the contract in
//! `wit/`), a version the host does not support, so that loading it must fail with a
//! message that names the supported versions. Apart from the version it is a valid
//! importer of `code` rows into `contract_v2_rows`.

wit_bindgen::generate!({
    world: "importer-world",
    path: "wit",
});

use exports::ingest::importer::importer::Guest;
use ingest::importer::types::{
    Chunk, ChunkResult, Column, ColumnType, Description, DuplicateStrategy, FormatOptions, SourceKind,
};

struct ContractV2Importer;

impl Guest for ContractV2Importer {
    fn describe() -> Result<Description, String> {
        Ok(Description {
            slug: "contract-v2-importer".into(),
            name: "Built against contract 0.2.0".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            sdk_version: "none (raw bindings)".into(),
            source: SourceKind::Upload,
            location: None,
            format: FormatOptions { delimiter: None, encoding: None, sheet: None, header_row: None },
            target: "contract_v2_rows".into(),
            columns: vec![Column { name: "code".into(), type_: ColumnType::Text, nullable: false }],
            keyed_by: vec!["code".into()],
            duplicates: DuplicateStrategy::Update,
            newer_by: Vec::new(),
            chunk_size: 100,
            atomic_chunks: false,
            strict_headers: false,
            headers: Vec::new(),
            capabilities: Vec::new(),
        })
    }

    fn check_headers(_headers: Vec<String>) -> Result<(), String> {
        Ok(())
    }

    fn process(chunk: Chunk) -> Result<ChunkResult, String> {
        Err(format!("this test importer never processes rows (got {} cells)", chunk.rows.tags.len()))
    }
}

export!(ContractV2Importer);
