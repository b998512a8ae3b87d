//! A hostile importer for the sandbox tests. A row whose `mode` is `grow` makes `process`
//! allocate 1 MiB blocks and keep them until memory runs out. Every other row is imported
//! into `memory_hog_rows`.

use ingest_importer_sdk::{Column, Importer, IngestConfig};

pub struct MemoryHogImporter;

impl Importer for MemoryHogImporter {
    fn config() -> IngestConfig {
        IngestConfig::new("memory-hog-importer")
            .name("Allocates without end")
            .target("memory_hog_rows")
            .keyed_by("number")
            .column(Column::integer("number").required())
            .column(Column::text("mode").transform_with(|value, _row| match value.as_str() {
                Some("grow") => grow(),
                _ => Ok(value),
            }))
    }
}

fn grow() -> ! {
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    loop {
        // Filled with ones, so the allocation cannot be left as untouched zero pages.
        blocks.push(std::hint::black_box(vec![1u8; 1 << 20]));
    }
}

ingest_importer_sdk::export_importer!(MemoryHogImporter);
