//! Imports `cars.json` (vega-datasets: 406 cars from the 1970s and 1980s, a JSON array of
//! objects) into the `cars` table, keyed by name and model year. Missing measurements are
//! JSON nulls and stay null, and a car whose key is already in the table is updated, so the
//! three keys that repeat inside the file leave the last of their rows.

use ingest_importer_sdk::{Column, DuplicateStrategy, Importer, IngestConfig, SourceKind};

pub struct CarImporter;

impl Importer for CarImporter {
    fn config() -> IngestConfig {
        IngestConfig::new("car-importer")
            .name("Cars")
            // Uploaded like any file, but only JSON is accepted.
            .source(SourceKind::Json)
            .target("cars")
            .keyed_by(["name", "year"])
            .on_duplicate(DuplicateStrategy::Update)
            .column(Column::text("name").from("Name").required())
            .column(Column::float("miles_per_gallon").from("Miles_per_Gallon"))
            .column(Column::integer("cylinders").from("Cylinders"))
            .column(Column::float("displacement").from("Displacement"))
            .column(Column::integer("horsepower").from("Horsepower"))
            .column(Column::integer("weight_in_lbs").from("Weight_in_lbs"))
            .column(Column::float("acceleration").from("Acceleration"))
            // The model year, written as the first day of the year: "1970-01-01".
            .column(Column::date("year").from("Year").required())
            .column(Column::text("origin").from("Origin"))
    }
}

ingest_importer_sdk::export_importer!(CarImporter);

#[cfg(test)]
#[path = "../../test_data.rs"]
mod test_data;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_data::data_file;
    use ingest_importer_sdk::testing::Harness;
    use ingest_importer_sdk::{Cell, Date, Value};

    /// Reads cars.json into header names and typed cells, as the server's JSON reader
    /// does: integers, floats, text, and empty cells for nulls.
    fn read_cars() -> (Vec<String>, Vec<Vec<serde_json::Value>>) {
        let text = std::fs::read_to_string(data_file("cars.json")).unwrap();
        let cars: Vec<serde_json::Map<String, serde_json::Value>> =
            serde_json::from_str(&text).unwrap();
        let headers: Vec<String> = cars[0].keys().cloned().collect();
        let rows = cars
            .iter()
            .map(|car| headers.iter().map(|header| car[header].clone()).collect())
            .collect();
        (headers, rows)
    }

    fn cell(value: &serde_json::Value) -> Cell<'_> {
        match value {
            serde_json::Value::Null => Cell::Empty,
            serde_json::Value::String(text) => Cell::Text(text),
            serde_json::Value::Number(number) => match number.as_i64() {
                Some(integer) => Cell::Integer(integer),
                None => Cell::Float(number.as_f64().unwrap()),
            },
            other => panic!("cars.json has no {other}"),
        }
    }

    #[test]
    fn cars_json_gives_every_car() {
        let (headers, rows) = read_cars();
        let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
        let cells: Vec<Vec<Cell<'_>>> = rows
            .iter()
            .map(|row| row.iter().map(cell).collect())
            .collect();

        let report = Harness::new(CarImporter::config())
            .run(&headers, &cells)
            .unwrap();

        assert_eq!(report.records().count(), 406);
        assert_eq!(report.failures().count(), 0);
        assert_eq!(
            report.get(0, "name"),
            Some(&Value::text("chevrolet chevelle malibu"))
        );
        assert_eq!(
            report.get(0, "year"),
            Some(&Value::Date(Date::new(1970, 1, 1).unwrap()))
        );
        assert_eq!(report.get(0, "miles_per_gallon"), Some(&Value::Float(18.0)));
        let without_mpg = report
            .records()
            .filter(|record| record[1].is_null())
            .count();
        assert_eq!(without_mpg, 8, "the 8 nulls of Miles_per_Gallon stay null");
        let without_horsepower = report
            .records()
            .filter(|record| record[4].is_null())
            .count();
        assert_eq!(without_horsepower, 6, "the 6 nulls of Horsepower stay null");
    }

    #[test]
    fn description_reads_json_and_updates() {
        let description = Harness::new(CarImporter::config()).description();
        assert_eq!(description.source, SourceKind::Json);
        assert_eq!(description.targets[0].duplicates, DuplicateStrategy::Update);
        assert_eq!(description.targets[0].keyed_by, ["name", "year"]);
    }
}
