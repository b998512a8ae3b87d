//! A test importer for duplicate keys: items keyed by `sku` into `items`. A record whose
//! key exists overwrites the existing row only when its `updated_at` is later.

use ingest_importer_sdk::{Column, Importer, IngestConfig};

pub struct DuplicateUpdateIfNewerImporter;

impl Importer for DuplicateUpdateIfNewerImporter {
    fn config() -> IngestConfig {
        IngestConfig::new("duplicate-update-if-newer-importer")
            .target("items")
            .keyed_by("sku")
            .update_if_newer("updated_at")
            .column(Column::text("sku").required())
            .column(Column::text("name"))
            .column(Column::date_time("updated_at"))
    }
}

ingest_importer_sdk::export_importer!(DuplicateUpdateIfNewerImporter);
