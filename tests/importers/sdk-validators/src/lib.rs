//! Every built-in validator, one column each, on an accounts file where each bad row
//! breaks one rule and the last row breaks them all. Duplicates are skipped, the default
//! strategy.

use ingest_importer_sdk::transform::date as parse_date;
use ingest_importer_sdk::validate::{
    between, date, date_format, email, integer, length, length_between, max_length, min, numeric, one_of, regex,
};
use ingest_importer_sdk::{Column, Importer, IngestConfig};

pub struct SdkValidators;

/// The formats the `joined` column accepts, checked and then parsed.
const JOINED_FORMATS: [&str; 2] = ["%Y-%m-%d", "%d/%m/%Y"];

impl Importer for SdkValidators {
    fn config() -> IngestConfig {
        IngestConfig::new("sdk-validators")
            .name("SDK validators")
            .target("sdk_accounts")
            .keyed_by("username")
            .column(Column::text("username").validate(regex(r"^[a-z][a-z0-9_]{2,15}$")))
            .column(Column::text("email").required().validate(email()))
            .column(Column::integer("age").validate(integer()).validate(between(13.0, 130.0)))
            .column(Column::float("score").validate(numeric()).validate(min(0.0)))
            .column(Column::text("plan").validate(one_of(["free", "pro"])))
            .column(Column::text("country").validate(length(2)))
            .column(Column::text("bio").validate(max_length(20)))
            .column(Column::text("hint").validate(length_between(4, 12)))
            .column(
                Column::date("joined")
                    .validate(date_format(JOINED_FORMATS))
                    .transform(parse_date(JOINED_FORMATS)),
            )
            .column(Column::date_time("renewal").validate(date()))
    }
}

ingest_importer_sdk::export_importer!(SdkValidators);

#[cfg(test)]
mod tests {
    use super::*;
    use ingest_importer_sdk::testing::Harness;

    const ACCOUNTS_CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/accounts.csv");

    #[test]
    fn each_bad_row_fails_on_its_field() {
        let report = Harness::new(SdkValidators::config()).run_csv(ACCOUNTS_CSV).unwrap();
        assert_eq!(report.records().count(), 2);

        let expected = [
            (2, "username", "The username field format is invalid."),
            (3, "email", "The email field must be a valid email address."),
            (4, "age", "The age field must be between 13 and 130."),
            (5, "age", "The age field must be an integer."),
            (6, "score", "The score field must be at least 0."),
            (7, "score", "The score field must be a number."),
            (8, "plan", "The selected plan is invalid."),
            (9, "country", "The country field must be 2 characters."),
            (10, "bio", "The bio field must not be greater than 20 characters."),
            (11, "hint", "The hint field must be between 4 and 12 characters."),
            (12, "joined", "The joined field must match one of the formats %Y-%m-%d, %d/%m/%Y."),
            (13, "renewal", "The renewal field must be a valid date."),
        ];
        for (index, field, message) in expected {
            let failure = report.failure(index).unwrap_or_else(|| panic!("row {index} fails"));
            assert_eq!(failure.messages(field), [message], "row {index}");
            assert_eq!(failure.validation.len(), 1, "row {index} fails only on {field}");
        }
    }

    #[test]
    fn row_breaking_every_rule_lists_every_field() {
        let report = Harness::new(SdkValidators::config()).run_csv(ACCOUNTS_CSV).unwrap();

        let failure = report.failure(14).expect("the last row fails");
        let fields: Vec<&str> = failure.validation.iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(
            fields,
            ["username", "email", "age", "score", "plan", "country", "hint", "joined", "renewal"]
        );
        assert_eq!(failure.messages("username"), ["The username field is required."]);
        assert_eq!(failure.message, "The username field is required. (and 8 more errors)");
    }
}
