//! A test importer for duplicate keys: items keyed by `sku` into `items`. A record whose
//! key exists overwrites the existing row.

use ingest_importer_sdk::{Column, DuplicateStrategy, Importer, IngestConfig};

pub struct DuplicateUpdateImporter;

impl Importer for DuplicateUpdateImporter {
    fn config() -> IngestConfig {
        IngestConfig::new("duplicate-update-importer")
            .target("items")
            .keyed_by("sku")
            .on_duplicate(DuplicateStrategy::Update)
            .column(Column::text("sku").required())
            .column(Column::text("name"))
            .column(Column::date_time("updated_at"))
    }
}

ingest_importer_sdk::export_importer!(DuplicateUpdateImporter);
