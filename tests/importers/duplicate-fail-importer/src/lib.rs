//! A test importer for duplicate keys: items keyed by `sku` into `items`. A record whose
//! key exists fails its row and the existing row is kept.

use ingest_importer_sdk::{Column, DuplicateStrategy, Importer, IngestConfig};

pub struct DuplicateFailImporter;

impl Importer for DuplicateFailImporter {
    fn config() -> IngestConfig {
        IngestConfig::new("duplicate-fail-importer")
            .target("items")
            .keyed_by("sku")
            .on_duplicate(DuplicateStrategy::Fail)
            .column(Column::text("sku").required())
            .column(Column::text("name"))
            .column(Column::date_time("updated_at"))
    }
}

ingest_importer_sdk::export_importer!(DuplicateFailImporter);
