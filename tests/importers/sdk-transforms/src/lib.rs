//! Transform pipelines on a semicolon-separated file written the German way. E-mail
//! addresses are trimmed and lower-cased, and the name is joined from two headers.
//! Salaries such as `1.234,56` and birthdays such as `10.12.1815` are read as numbers and
//! dates. `ja`/`nein` flags and slugs of titles get defaults, and country codes are mapped
//! to names. `n/a` is null everywhere.

use ingest_importer_sdk::transform::{boolean_words, date, default_value, lowercase, map_values, number, slug, trim};
use ingest_importer_sdk::{Column, DuplicateStrategy, Importer, IngestConfig};

pub struct SdkTransforms;

impl Importer for SdkTransforms {
    fn config() -> IngestConfig {
        IngestConfig::new("sdk-transforms")
            .name("SDK transforms")
            .target("sdk_people")
            .keyed_by("email")
            .on_duplicate(DuplicateStrategy::Update)
            .null_markers(["n/a"])
            .column(
                Column::text("email")
                    .from(["email", "E-Mail"])
                    .transform(trim())
                    .transform(lowercase()),
            )
            .column(Column::text("name").concat(["First Name", "Last Name"], " "))
            .column(
                Column::float("salary")
                    .from("Salary")
                    .transform(number().decimal(',').thousands('.')),
            )
            .column(Column::date("birthday").from("Birthday").transform(date(["%d.%m.%Y"])))
            .column(
                Column::boolean("active")
                    .from("Active")
                    .transform(boolean_words(["ja"], ["nein"]))
                    .transform(default_value(false)),
            )
            .column(
                Column::text("title_slug")
                    .from("Title")
                    .transform(slug())
                    .transform(default_value("untitled")),
            )
            .column(Column::text("country").from("Country").transform(map_values([
                ("UK", "United Kingdom"),
                ("US", "United States"),
                ("FI", "Finland"),
            ])))
    }
}

ingest_importer_sdk::export_importer!(SdkTransforms);

#[cfg(test)]
mod tests {
    use super::*;
    use ingest_importer_sdk::testing::Harness;
    use ingest_importer_sdk::{Date, Value};

    const PEOPLE_CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/people.csv");

    #[test]
    fn people_csv_is_transformed() {
        let report = Harness::new(SdkTransforms::config()).run_csv(PEOPLE_CSV).unwrap();

        assert_eq!(report.get(0, "email"), Some(&Value::text("ada@example.org")));
        assert_eq!(report.get(0, "name"), Some(&Value::text("Ada Lovelace")));
        assert_eq!(report.get(0, "salary"), Some(&Value::Float(1234.56)));
        assert_eq!(report.get(0, "birthday"), Some(&Value::Date(Date::new(1815, 12, 10).unwrap())));
        assert_eq!(report.get(0, "active"), Some(&Value::Boolean(true)));
        assert_eq!(report.get(0, "title_slug"), Some(&Value::text("countess-of-lovelace")));
        assert_eq!(report.get(0, "country"), Some(&Value::text("United Kingdom")));

        assert_eq!(report.get(1, "salary"), Some(&Value::Float(2000.0)));
        assert_eq!(report.get(1, "active"), Some(&Value::Boolean(false)));

        assert_eq!(report.get(2, "salary"), Some(&Value::Null));
        assert_eq!(report.get(2, "active"), Some(&Value::Boolean(false)));
        assert_eq!(report.get(2, "title_slug"), Some(&Value::text("untitled")));
        assert_eq!(report.get(2, "country"), Some(&Value::Null));
    }

    #[test]
    fn unreadable_values_fail_their_row() {
        let report = Harness::new(SdkTransforms::config()).run_csv(PEOPLE_CSV).unwrap();

        let failure = report.failure(3).expect("Linus's row fails");
        assert_eq!(failure.messages("salary"), ["The salary field must be a number."]);
        assert_eq!(failure.messages("active"), ["The active field must be true or false."]);
        assert_eq!(failure.message, "The salary field must be a number. (and 1 more error)");
    }
}
