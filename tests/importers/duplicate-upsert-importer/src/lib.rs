//! A test importer for duplicate keys: items keyed by `sku` into `items`, inserted or
//! overwritten in one statement.

use ingest_importer_sdk::{Column, DuplicateStrategy, Importer, IngestConfig};

pub struct DuplicateUpsertImporter;

impl Importer for DuplicateUpsertImporter {
    fn config() -> IngestConfig {
        IngestConfig::new("duplicate-upsert-importer")
            .target("items")
            .keyed_by("sku")
            .on_duplicate(DuplicateStrategy::Upsert)
            .column(Column::text("sku").required())
            .column(Column::text("name"))
            .column(Column::date_time("updated_at"))
    }
}

ingest_importer_sdk::export_importer!(DuplicateUpsertImporter);
