//! The update-if-newer duplicate strategy: a stock level replaces the stored one only
//! when its `updated_at` timestamp is later, so an old export imported after a new one
//! changes nothing. Timestamps are written `31.12.2023 23:00` and stored as UTC
//! date-times, which compare in time order.

use ingest_importer_sdk::transform::date_time;
use ingest_importer_sdk::{Column, Importer, IngestConfig};

pub struct SdkUpdateIfNewer;

impl Importer for SdkUpdateIfNewer {
    fn config() -> IngestConfig {
        IngestConfig::new("sdk-update-if-newer")
            .name("SDK update if newer")
            .target("sdk_stock")
            .keyed_by("sku")
            .update_if_newer("updated_at")
            .column(Column::text("sku"))
            .column(Column::integer("quantity").required())
            .column(
                Column::date_time("updated_at")
                    .from("updated")
                    .required()
                    .transform(date_time(["%d.%m.%Y %H:%M"])),
            )
    }
}

ingest_importer_sdk::export_importer!(SdkUpdateIfNewer);

#[cfg(test)]
mod tests {
    use super::*;
    use ingest_importer_sdk::testing::Harness;
    use ingest_importer_sdk::{DateTime, DuplicateStrategy, Value};

    #[test]
    fn timestamps_are_parsed_for_comparison() {
        let harness = Harness::new(SdkUpdateIfNewer::config());
        assert_eq!(harness.description().targets[0].duplicates, DuplicateStrategy::UpdateIfNewer);
        assert_eq!(harness.description().targets[0].newer_by, ["updated_at"]);

        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/stock-2.csv");
        let report = harness.run_csv(path).unwrap();
        let expected = DateTime::parse_iso("2024-01-02T09:00:00").unwrap();
        assert_eq!(report.get(0, "updated_at"), Some(&Value::DateTime(expected)));
    }
}
