//! Imports `airports.csv` (the vega-datasets US airports) into the `airports` table,
//! keyed by the IATA code. Importing the file again updates the existing rows.

use ingest_importer_sdk::validate::between;
use ingest_importer_sdk::{Column, DuplicateStrategy, Importer, IngestConfig};

pub struct AirportImporter;

impl Importer for AirportImporter {
    fn config() -> IngestConfig {
        IngestConfig::new("airport-importer")
            .name("US airports")
            .target("airports")
            .keyed_by("iata")
            .on_duplicate(DuplicateStrategy::Update)
            .null_markers(["NA"])
            .column(Column::text("iata").required())
            .column(Column::text("name"))
            .column(Column::text("city"))
            .column(Column::text("state"))
            .column(Column::text("country"))
            .column(Column::float("latitude").validate(between(-90.0, 90.0)))
            .column(Column::float("longitude").validate(between(-180.0, 180.0)))
    }
}

ingest_importer_sdk::export_importer!(AirportImporter);

#[cfg(test)]
#[path = "../../test_data.rs"]
mod test_data;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_data::data_file;
    use ingest_importer_sdk::testing::Harness;
    use ingest_importer_sdk::{Cell, Value};

    const HEADERS: [&str; 7] = ["iata", "name", "city", "state", "country", "latitude", "longitude"];

    fn text_row<'a>(fields: &[&'a str]) -> Vec<Cell<'a>> {
        fields.iter().map(|&field| Cell::Text(field)).collect()
    }

    #[test]
    fn airports_csv_gives_every_airport() {
        let report = Harness::new(AirportImporter::config()).run_csv(data_file("airports.csv")).unwrap();

        assert_eq!(report.records().count(), 3376);
        assert_eq!(report.failures().count(), 0);
        let first = report.records().next().unwrap();
        assert_eq!(first[0], Value::text("00M"));
        assert_eq!(first[5], Value::Float(31.95376472));
        assert_eq!(first[6], Value::Float(-89.23450472));
        let without_city = report.records().filter(|record| record[2].is_null()).count();
        assert_eq!(without_city, 12, "the 12 airports with city NA have a null city");
    }

    #[test]
    fn duplicates_update() {
        let description = Harness::new(AirportImporter::config()).description();
        assert_eq!(description.targets[0].duplicates, DuplicateStrategy::Update);
        assert_eq!(description.targets[0].keyed_by, ["iata"]);
    }

    #[test]
    fn coordinates_out_of_range_fail() {
        let rows = [
            text_row(&["XXA", "North", "NA", "NA", "USA", "90.5", "0"]),
            text_row(&["XXB", "West", "NA", "NA", "USA", "0", "-180.25"]),
            text_row(&["XXC", "Nowhere", "NA", "NA", "USA", "north", "0"]),
        ];
        let report = Harness::new(AirportImporter::config()).run(&HEADERS, &rows).unwrap();
        let failures: Vec<_> = report.failures().collect();

        assert_eq!(failures.len(), 3);
        assert_eq!(
            failures[0].messages("latitude"),
            ["The latitude field must be between -90 and 90."]
        );
        assert_eq!(
            failures[1].messages("longitude"),
            ["The longitude field must be between -180 and 180."]
        );
        assert_eq!(
            failures[2].messages("latitude"),
            ["The latitude field must be a number."]
        );
    }
}
