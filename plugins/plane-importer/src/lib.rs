//! Imports `planes.csv` (the nycflights13 planes) into the `planes` table, keyed by tail
//! number. Year, engines, seats and speed are integer columns, so they are stored as
//! integers whether the file has `2004`, `2004.0` or a spreadsheet number.

use ingest_importer_sdk::{Column, Importer, IngestConfig};

pub struct PlaneImporter;

impl Importer for PlaneImporter {
    fn config() -> IngestConfig {
        IngestConfig::new("plane-importer")
            .name("Planes")
            .target("planes")
            .keyed_by("tailnum")
            .null_markers(["NA"])
            .column(Column::text("tailnum").required())
            .column(Column::integer("year"))
            .column(Column::text("type"))
            .column(Column::text("manufacturer"))
            .column(Column::text("model"))
            .column(Column::integer("engines"))
            .column(Column::integer("seats"))
            .column(Column::integer("speed"))
            .column(Column::text("engine"))
    }
}

ingest_importer_sdk::export_importer!(PlaneImporter);

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
    fn planes_csv_gives_every_plane() {
        let report = Harness::new(PlaneImporter::config()).run_csv(data_file("planes.csv")).unwrap();

        assert_eq!(report.records().count(), 3322);
        assert_eq!(report.failures().count(), 0);
        let first = report.records().next().unwrap();
        let expected = [
            Value::text("N10156"),
            Value::Integer(2004),
            Value::text("Fixed wing multi engine"),
            Value::text("EMBRAER"),
            Value::text("EMB-145XR"),
            Value::Integer(2),
            Value::Integer(55),
            Value::Null,
            Value::text("Turbo-fan"),
        ];
        assert_eq!(first, expected);
    }

    #[test]
    fn integer_columns_stay_integers() {
        let report = Harness::new(PlaneImporter::config()).run_csv(data_file("planes.csv")).unwrap();

        for record in report.records() {
            for index in [1, 5, 6, 7] {
                assert!(
                    matches!(record[index], Value::Integer(_) | Value::Null),
                    "{:?} of {:?} is not an integer",
                    record[index],
                    record[0]
                );
            }
        }
        let with_speed = report.records().filter(|record| !record[7].is_null()).count();
        assert_eq!(with_speed, 23, "speed is NA for all but 23 planes");
        let without_year = report.records().filter(|record| record[1].is_null()).count();
        assert_eq!(without_year, 70);
    }

    #[test]
    fn fractional_year_fails_the_row() {
        let headers = [
            "tailnum",
            "year",
            "type",
            "manufacturer",
            "model",
            "engines",
            "seats",
            "speed",
            "engine",
        ];
        let row = vec![
            Cell::Text("N1"),
            Cell::Float(2004.5),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Float(2.0),
            Cell::Integer(55),
            Cell::Text("NA"),
            Cell::Empty,
        ];
        let report = Harness::new(PlaneImporter::config()).run(&headers, &[row]).unwrap();

        let failure = report.failures().next().expect("the row fails");
        assert_eq!(failure.messages("year"), ["The year field must be an integer."]);
        assert!(failure.messages("engines").is_empty());
    }
}
