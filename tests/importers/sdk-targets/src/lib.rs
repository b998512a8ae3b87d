//! Rows routed to one of two target tables: a contacts file mixes people and companies,
//! and the `type` column sends each row to `sdk_contact_people` (keyed by email, existing
//! rows skipped) or `sdk_contact_companies` (keyed by VAT id, existing rows updated). A
//! row of another type is routed to a table the importer does not declare and fails, and
//! comment lines are skipped. Chunks of three rows mix both targets.

use ingest_importer_sdk::{Column, DuplicateStrategy, Importer, IngestConfig, RowError, Target};

pub struct SdkTargets;

impl Importer for SdkTargets {
    fn config() -> IngestConfig {
        IngestConfig::new("sdk-targets")
            .name("SDK several targets")
            .chunk_size(3)
            .target("sdk_contact_people")
            .keyed_by("email")
            .column(Column::text("email"))
            .column(Column::text("name").required())
            .column(Column::text("city"))
            .add_target(
                Target::new("sdk_contact_companies")
                    .keyed_by("vat_id")
                    .on_duplicate(DuplicateStrategy::Update)
                    .column(Column::text("vat_id"))
                    .column(Column::text("name").required())
                    .column(Column::text("city")),
            )
            .before_row(|row| match row.text("type") {
                Some("comment") => Err(RowError::skip("comment line")),
                _ => Ok(()),
            })
            .route(|row| match row.text("type") {
                Some("person") => "sdk_contact_people",
                Some("company") => "sdk_contact_companies",
                // Any other type names a table of its own, which fails the row.
                other => other.unwrap_or_default(),
            })
    }
}

ingest_importer_sdk::export_importer!(SdkTargets);

#[cfg(test)]
mod tests {
    use super::*;
    use ingest_importer_sdk::Value;
    use ingest_importer_sdk::testing::{Harness, Outcome};

    const CONTACTS_CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/contacts.csv");

    #[test]
    fn description_declares_both_tables() {
        let description = Harness::new(SdkTargets::config()).description();

        let tables: Vec<&str> = description.targets.iter().map(|target| target.table.as_str()).collect();
        assert_eq!(tables, ["sdk_contact_people", "sdk_contact_companies"]);
        assert_eq!(description.targets[0].duplicates, DuplicateStrategy::Skip);
        assert_eq!(description.targets[1].duplicates, DuplicateStrategy::Update);
    }

    #[test]
    fn rows_go_to_the_table_of_their_type() {
        let report = Harness::new(SdkTargets::config()).run_csv(CONTACTS_CSV).unwrap();

        let targets: Vec<Option<&str>> = (0..8).map(|row| report.target(row)).collect();
        assert_eq!(
            targets,
            [
                Some("sdk_contact_people"),
                Some("sdk_contact_companies"),
                Some("sdk_contact_people"),
                None,
                Some("sdk_contact_companies"),
                None,
                None,
                Some("sdk_contact_people"),
            ]
        );
        assert_eq!(report.get(1, "vat_id"), Some(&Value::text("GB123")));
        assert_eq!(report.get(1, "email"), None, "companies have no email column");
        assert_eq!(report.get(7, "city"), Some(&Value::Null));
        assert_eq!(report.records_in("sdk_contact_people").count(), 3);
        assert_eq!(report.records_in("sdk_contact_companies").count(), 2);
    }

    #[test]
    fn undeclared_and_invalid_rows_fail() {
        let report = Harness::new(SdkTargets::config()).run_csv(CONTACTS_CSV).unwrap();

        assert_eq!(
            report.failure(3).unwrap().message,
            "The importer routes this row to the table \"robot\", which is not one of its targets \
             (sdk_contact_people, sdk_contact_companies)."
        );
        assert_eq!(report.failure(5).unwrap().messages("vat_id"), ["The vat id field is required."]);
        assert_eq!(report.outcomes[6], Outcome::Skipped("comment line".to_owned()));
    }
}
