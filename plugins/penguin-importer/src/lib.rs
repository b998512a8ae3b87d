//! Imports the raw Palmer penguins data (`penguins-raw.csv`, or the same data as the
//! workbook `penguins.xlsx`) into the `penguins` table, keyed by species and sample number.
//!
//! The CSV writes missing values as `NA`, the workbook leaves their cells empty, and both
//! become null. The species is the first word of the `Species` header's long name. A row
//! whose `Sex` is missing or is not MALE or FEMALE fails with a validation error on `sex`.

use ingest_importer_sdk::transform::lowercase;
use ingest_importer_sdk::validate::one_of;
use ingest_importer_sdk::{Column, Importer, IngestConfig, Value};

pub struct PenguinImporter;

impl Importer for PenguinImporter {
    fn config() -> IngestConfig {
        IngestConfig::new("penguin-importer")
            .name("Palmer penguins")
            .target("penguins")
            .keyed_by(["species", "sample_number"])
            .null_markers(["NA"])
            .column(Column::text("study_name").from("studyName"))
            .column(Column::integer("sample_number").from("Sample Number"))
            .column(Column::text("species").compute("Species", |row| {
                // "Adelie Penguin (Pygoscelis adeliae)" is stored as "Adelie".
                let long_name = row.text("Species").unwrap_or_default();
                Ok(Value::from(long_name.split_whitespace().next()))
            }))
            .column(Column::text("region").from("Region"))
            .column(Column::text("island").from("Island"))
            .column(Column::text("stage").from("Stage"))
            .column(Column::text("individual_id").from("Individual ID"))
            .column(Column::boolean("clutch_completion").from("Clutch Completion"))
            .column(Column::date("date_egg").from("Date Egg"))
            .column(Column::float("culmen_length_mm").from("Culmen Length (mm)"))
            .column(Column::float("culmen_depth_mm").from("Culmen Depth (mm)"))
            .column(Column::integer("flipper_length_mm").from("Flipper Length (mm)"))
            .column(Column::integer("body_mass_g").from("Body Mass (g)"))
            .column(
                Column::text("sex")
                    .from("Sex")
                    .required()
                    .validate(one_of(["MALE", "FEMALE"]))
                    .transform(lowercase()),
            )
            .column(Column::float("delta_15_n").from("Delta 15 N (o/oo)"))
            .column(Column::float("delta_13_c").from("Delta 13 C (o/oo)"))
            .column(Column::text("comments").from("Comments"))
    }
}

ingest_importer_sdk::export_importer!(PenguinImporter);

#[cfg(test)]
#[path = "../../test_data.rs"]
mod test_data;

#[cfg(test)]
mod tests;
