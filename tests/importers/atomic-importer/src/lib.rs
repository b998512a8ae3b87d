//! A test importer for all-or-nothing chunks: items keyed by `sku` into `atomic_items`,
//! two rows per chunk. A row fails when its `price` is negative (a validation error) or
//! when its `sku` exists already (a write error). Either way, its whole chunk is left out.

use ingest_importer_sdk::validate::min;
use ingest_importer_sdk::{Column, DuplicateStrategy, Importer, IngestConfig};

pub struct AtomicImporter;

impl Importer for AtomicImporter {
    fn config() -> IngestConfig {
        IngestConfig::new("atomic-importer")
            .target("atomic_items")
            .keyed_by("sku")
            .on_duplicate(DuplicateStrategy::Fail)
            .chunk_size(2)
            .atomic()
            .column(Column::text("sku").required())
            .column(Column::float("price").required().validate(min(0.0)))
    }
}

ingest_importer_sdk::export_importer!(AtomicImporter);
