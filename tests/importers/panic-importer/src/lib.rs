//! A hostile importer for the sandbox tests: it panics on every row whose `word` is
//! `boom`, which traps the whole `process` call, and imports every other row into
//! `panic_rows`.

use ingest_importer_sdk::{Column, Importer, IngestConfig};

pub struct PanicImporter;

impl Importer for PanicImporter {
    fn config() -> IngestConfig {
        IngestConfig::new("panic-importer")
            .name("Panics on boom")
            .target("panic_rows")
            .keyed_by("number")
            .column(Column::integer("number").required())
            .column(Column::text("word").transform_with(|value, row| {
                if value.as_str() == Some("boom") {
                    panic!("row {} contains the word boom", row.number());
                }
                Ok(value)
            }))
    }
}

ingest_importer_sdk::export_importer!(PanicImporter);
