//! A test importer for duplicate keys: items keyed by `sku` into `items`. A record whose
//! key exists is skipped and the existing row is kept.

use ingest_importer_sdk::{Column, DuplicateStrategy, Importer, IngestConfig};

pub struct DuplicateSkipImporter;

impl Importer for DuplicateSkipImporter {
    fn config() -> IngestConfig {
        IngestConfig::new("duplicate-skip-importer")
            .target("items")
            .keyed_by("sku")
            .on_duplicate(DuplicateStrategy::Skip)
            .column(Column::text("sku").required())
            .column(Column::text("name"))
            .column(Column::date_time("updated_at"))
    }
}

ingest_importer_sdk::export_importer!(DuplicateSkipImporter);
