//! Atomic chunks of two rows: one failed row fails its whole chunk, and nothing of that
//! chunk is written, while the other chunks are. A ledger entry that already exists fails
//! its row (the fail duplicate strategy), and so its chunk too.

use ingest_importer_sdk::validate::numeric;
use ingest_importer_sdk::{Column, DuplicateStrategy, Importer, IngestConfig};

pub struct SdkAtomic;

impl Importer for SdkAtomic {
    fn config() -> IngestConfig {
        IngestConfig::new("sdk-atomic")
            .name("SDK atomic chunks")
            .target("sdk_ledger")
            .keyed_by("entry")
            .chunk_size(2)
            .atomic()
            .on_duplicate(DuplicateStrategy::Fail)
            .column(Column::integer("entry"))
            .column(Column::float("amount").required().validate(numeric()))
    }
}

ingest_importer_sdk::export_importer!(SdkAtomic);

#[cfg(test)]
mod tests {
    use super::*;
    use ingest_importer_sdk::testing::Harness;

    #[test]
    fn description_asks_for_atomic_chunks_of_two() {
        let description = Harness::new(SdkAtomic::config()).description();
        assert_eq!(description.chunk_size, 2);
        assert!(description.atomic_chunks);
        assert_eq!(description.targets[0].duplicates, DuplicateStrategy::Fail);
    }

    #[test]
    fn invalid_amount_fails_its_row() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/ledger.csv");
        let report = Harness::new(SdkAtomic::config()).run_csv(path).unwrap();

        // The harness reports what the importer returns; the host then fails row 3 too,
        // because it shares a chunk with row 4.
        assert_eq!(report.records().count(), 4);
        assert_eq!(report.failure(3).unwrap().messages("amount"), ["The amount field must be a number."]);
    }
}
