//! A composite key: weather readings are identified by station and day together, so the
//! same station on another day, or another station on the same day, is a new row.
//! Duplicates are upserted: a reading for a known station and day replaces the old one in
//! the same statement.

use ingest_importer_sdk::transform::date;
use ingest_importer_sdk::{Column, DuplicateStrategy, Importer, IngestConfig};

pub struct SdkCompositeKey;

impl Importer for SdkCompositeKey {
    fn config() -> IngestConfig {
        IngestConfig::new("sdk-composite-key")
            .name("SDK composite key")
            .target("sdk_readings")
            .keyed_by(["station", "day"])
            .on_duplicate(DuplicateStrategy::Upsert)
            .column(Column::text("station"))
            .column(Column::date("day").transform(date(["%d/%m/%Y"])))
            .column(Column::float("reading").required())
    }
}

ingest_importer_sdk::export_importer!(SdkCompositeKey);

#[cfg(test)]
mod tests {
    use super::*;
    use ingest_importer_sdk::testing::Harness;
    use ingest_importer_sdk::{Date, DuplicateStrategy, Value};

    #[test]
    fn key_columns_are_required_and_described() {
        let harness = Harness::new(SdkCompositeKey::config());
        assert_eq!(harness.description().targets[0].keyed_by, ["station", "day"]);
        assert_eq!(harness.description().targets[0].duplicates, DuplicateStrategy::Upsert);

        let report = harness
            .run_text(["station", "day", "reading"], &[["BER", "01/03/2024", "4.5"], ["", "01/03/2024", "1"]])
            .unwrap();
        assert_eq!(report.get(0, "day"), Some(&Value::Date(Date::new(2024, 3, 1).unwrap())));
        assert_eq!(report.failure(1).unwrap().messages("station"), ["The station field is required."]);
    }
}
