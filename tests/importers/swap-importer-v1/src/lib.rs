//! The importer `swap-importer`, built twice (crates `swap-importer-v1` and
//! `swap-importer-v2`) with the versions 1.0.0 and 2.0.0, for the hot-reload tests. It
//! imports `number,name` rows into `swap_rows` and stores in the `version` column the version
//! that imported each row.

use ingest_importer_sdk::{Column, Importer, IngestConfig, Value};

pub struct SwapImporter;

impl Importer for SwapImporter {
    fn config() -> IngestConfig {
        IngestConfig::new("swap-importer")
            .name("Hot-reload test importer")
            .target("swap_rows")
            .keyed_by("number")
            .column(Column::integer("number").required())
            .column(Column::text("name"))
            .column(Column::text("version").compute(Vec::<&str>::new(), |_row| {
                Ok(Value::text(env!("CARGO_PKG_VERSION")))
            }))
    }
}

ingest_importer_sdk::export_importer!(SwapImporter);
