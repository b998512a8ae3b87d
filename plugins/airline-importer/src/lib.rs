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
mod tests {
    use super::*;
    use ingest_importer_sdk::testing::Harness;
    use ingest_importer_sdk::{Cell, Value};

    const AIRLINES_CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/airlines.csv");

    fn read_csv(path: &str) -> (Vec<String>, Vec<Vec<String>>) {
        let mut reader = csv::Reader::from_path(path).unwrap_or_else(|error| panic!("cannot read {path}: {error}"));
        let headers = reader.headers().unwrap().iter().map(str::to_owned).collect();
        let rows = reader
            .records()
            .map(|record| record.unwrap().iter().map(str::to_owned).collect())
            .collect();
        (headers, rows)
    }

    #[test]
    fn airlines_csv_gives_sixteen_records() {
        let (headers, rows) = read_csv(AIRLINES_CSV);
        let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
        let cells: Vec<Vec<Cell<'_>>> = rows
            .iter()
            .map(|row| row.iter().map(|text| Cell::Text(text)).collect())
            .collect();

        let report = Harness::new(AirlineImporter::config()).run(&headers, &cells).unwrap();

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
