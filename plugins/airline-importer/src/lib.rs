//! Imports `airlines.csv` (carrier code, airline name) into the `airlines` table.

use ingest_importer_sdk::{Column, Importer, IngestConfig};

pub struct AirlineImporter;

impl Importer for AirlineImporter {
    fn config() -> IngestConfig {
        IngestConfig::new("airline-importer")
            .name("Airlines")
            .target("airlines")
            .keyed_by("carrier")
            .column(Column::text("carrier").required())
            .column(Column::text("name").required())
    }
}

ingest_importer_sdk::export_importer!(AirlineImporter);

#[cfg(test)]
#[path = "../../test_data.rs"]
mod test_data;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_data::data_file;
    use ingest_importer_sdk::testing::Harness;
    use ingest_importer_sdk::{Cell, Value};

    #[test]
    fn airlines_csv_gives_sixteen_records() {
        let report = Harness::new(AirlineImporter::config()).run_csv(data_file("airlines.csv")).unwrap();

        assert_eq!(report.records().count(), 16);
        assert_eq!(report.failures().count(), 0);
        let first = report.records().next().unwrap();
        assert_eq!(first, [Value::text("9E"), Value::text("Endeavor Air Inc.")]);
    }

    #[test]
    fn missing_name_fails_the_row() {
        let harness = Harness::new(AirlineImporter::config());
        let report = harness
            .run(&["carrier", "name"], &[vec![Cell::Text("ZZ"), Cell::Text(" ")]])
            .unwrap();

        let failure = report.failures().next().expect("the row fails");
        assert_eq!(failure.message, "The name field is required.");
        assert_eq!(failure.messages("name"), ["The name field is required."]);
    }

    #[test]
    fn missing_header_fails_the_run() {
        let harness = Harness::new(AirlineImporter::config());
        assert_eq!(
            harness.check_headers(&["carrier", "airline"]),
            Err(r#"The file is missing the required header "name" (found headers: "carrier", "airline")."#.to_owned())
        );
    }
}
