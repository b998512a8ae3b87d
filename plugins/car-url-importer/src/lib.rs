//! Imports `cars.json` fetched over HTTP from `http://127.0.0.1:8001/cars.json` into the
//! `cars` table, with the columns and rules of the car-importer example. Runs start with
//! `POST /trigger/car-url-importer`: the server fetches the file, stores a copy, and the
//! run reads the copy.

use ingest_importer_sdk::{Column, DuplicateStrategy, Importer, IngestConfig};

/// The address of the file. The README shows how to serve it there.
pub const CARS_URL: &str = "http://127.0.0.1:8001/cars.json";

pub struct CarUrlImporter;

impl Importer for CarUrlImporter {
    fn config() -> IngestConfig {
        IngestConfig::new("car-url-importer")
            .name("Cars, fetched over HTTP")
            .from_url(CARS_URL)
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
            .column(Column::date("year").from("Year").required())
            .column(Column::text("origin").from("Origin"))
    }
}

ingest_importer_sdk::export_importer!(CarUrlImporter);

#[cfg(test)]
mod tests {
    use super::*;
    use ingest_importer_sdk::SourceKind;
    use ingest_importer_sdk::testing::Harness;

    #[test]
    fn source_is_url() {
        let description = Harness::new(CarUrlImporter::config()).description();
        assert_eq!(description.source, SourceKind::Url);
        assert_eq!(description.location.as_deref(), Some(CARS_URL));
    }
}
