//! Several target tables through the native harness: the router, per-target columns,
//! validation, relations and record hooks, and the packing of mixed chunks.

use ingest_importer_sdk::testing::{Harness, Outcome, RelateRequest};
use ingest_importer_sdk::validate::email;
use ingest_importer_sdk::{Column, IngestConfig, Relation, RowError, Target, Value};

const HEADERS: [&str; 5] = ["type", "name", "email", "vat_id", "country"];

/// People keyed by email and companies keyed by VAT id, routed by the `type` column.
fn contacts() -> IngestConfig {
    IngestConfig::new("contacts")
        .target("people")
        .keyed_by("email")
        .column(Column::text("email").validate(email()))
        .column(Column::text("name").required())
        .add_target(
            Target::new("companies")
                .keyed_by("vat_id")
                .column(Column::text("vat_id"))
                .column(Column::text("name").required())
                .column(Column::integer("country_id").from("country").relate(Relation::new("countries", "code"))),
        )
        .route(|row| match row.text("type") {
            Some("person") => "people",
            Some("company") => "companies",
            other => other.unwrap_or("nowhere"),
        })
}

fn country_ids(request: &RelateRequest) -> Result<Vec<Option<i64>>, String> {
    let ids = request
        .values
        .iter()
        .map(|code| match code.as_str() {
            "GB" => Some(44),
            "US" => Some(1),
            _ => None,
        })
        .collect();
    Ok(ids)
}

#[test]
fn rows_go_to_their_routed_target() {
    let harness = Harness::new(contacts()).with_relate(country_ids);

    let report = harness
        .run_text(
            HEADERS,
            &[
                ["person", "Ada", "ada@example.org", "", ""],
                ["company", "Engines Ltd", "", "GB123", "GB"],
                ["person", "Grace", "grace@example.org", "", ""],
            ],
        )
        .unwrap();

    assert_eq!(report.target(0), Some("people"));
    assert_eq!(report.target(1), Some("companies"));
    assert_eq!(report.target(2), Some("people"));
    assert_eq!(
        report.outcomes[1],
        Outcome::Record(vec![Value::text("GB123"), Value::text("Engines Ltd"), Value::Integer(44)])
    );
    assert_eq!(report.get(0, "email"), Some(&Value::text("ada@example.org")));
    assert_eq!(report.get(0, "vat_id"), None, "people have no vat_id column");
    assert_eq!(report.get(1, "email"), None, "companies have no email column");
    let people: Vec<&[Value<'static>]> = report.records_in("people").collect();
    assert_eq!(people.len(), 2);
    assert_eq!(people[1], [Value::text("grace@example.org"), Value::text("Grace")]);
    assert_eq!(report.records_in("companies").count(), 1);
    assert_eq!(report.records().count(), 3);
}

#[test]
fn only_the_routed_targets_columns_are_validated() {
    let harness = Harness::new(contacts()).with_relate(country_ids);

    let report = harness
        .run_text(
            HEADERS,
            &[
                // Not an email, but a company has no email column.
                ["company", "Engines Ltd", "not an email", "GB123", "GB"],
                ["company", "No VAT", "", "", "US"],
                ["person", "Bad Mail", "not an email", "", ""],
            ],
        )
        .unwrap();

    assert_eq!(report.target(0), Some("companies"));
    assert_eq!(report.failure(1).unwrap().messages("vat_id"), ["The vat id field is required."]);
    assert_eq!(
        report.failure(2).unwrap().messages("email"),
        ["The email field must be a valid email address."]
    );
    assert_eq!(report.target(1), None);
}

#[test]
fn undeclared_table_fails_its_row() {
    let report = Harness::new(contacts())
        .run_text(
            HEADERS,
            &[["robot", "R2-D2", "", "", ""], ["person", "Ada", "ada@example.org", "", ""]],
        )
        .unwrap();

    let failure = report.failure(0).unwrap();
    assert_eq!(
        failure.message,
        "The importer routes this row to the table \"robot\", which is not one of its targets (people, companies)."
    );
    assert!(failure.validation.is_empty());
    assert_eq!(report.target(1), Some("people"), "the other rows are routed as usual");
}

#[test]
fn relations_look_up_only_their_targets_rows() {
    let harness = Harness::new(contacts()).with_relate(country_ids);

    let report = harness
        .run_text(
            HEADERS,
            &[
                ["person", "Ada", "ada@example.org", "", "FR"],
                ["company", "Engines Ltd", "", "GB123", "GB"],
                ["company", "Unknown Land", "", "XX1", "XX"],
            ],
        )
        .unwrap();

    let requests = harness.relate_requests();
    assert_eq!(requests.len(), 1, "one lookup for the chunk");
    assert_eq!(requests[0].values, ["GB", "XX"], "the person's country is not looked up");
    assert_eq!(report.get(1, "country_id"), Some(&Value::Integer(44)));
    assert_eq!(
        report.failure(2).unwrap().messages("country_id"),
        ["The selected country id is invalid."]
    );
}

#[test]
fn router_runs_between_hooks() {
    let config = contacts()
        .before_row(|row| match row.text("type") {
            Some("comment") => Err(RowError::skip("comment line")),
            _ => Ok(()),
        })
        .on_record(|_row, record| {
            let name = record.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
            match record.target() {
                "companies" => record.set("name", name.to_uppercase()),
                _ => Ok(()),
            }
        });

    let report = Harness::new(config)
        .with_relate(country_ids)
        .run_text(
            HEADERS,
            &[
                ["comment", "", "", "", ""],
                ["company", "Engines Ltd", "", "GB123", ""],
                ["person", "Ada", "ada@example.org", "", ""],
            ],
        )
        .unwrap();

    assert_eq!(report.outcomes[0], Outcome::Skipped("comment line".to_owned()));
    assert_eq!(report.get(1, "name"), Some(&Value::text("ENGINES LTD")));
    assert_eq!(report.get(2, "name"), Some(&Value::text("Ada")));
}

#[test]
fn record_hook_cannot_set_another_targets_column() {
    let config = contacts().on_record(|_row, record| record.set("email", "x@example.org"));

    let report = Harness::new(config)
        .with_relate(country_ids)
        .run_text(HEADERS, &[["company", "Engines Ltd", "", "GB123", ""]])
        .unwrap();

    assert_eq!(
        report.failure(0).unwrap().message,
        "The importer sets the column \"email\", which its target table \"companies\" does not declare."
    );
}

#[test]
fn mixed_chunks_keep_row_order() {
    let rows = [
        ["person", "Ada", "a@example.org", "", ""],
        ["company", "First", "", "C1", ""],
        ["person", "Grace", "b@example.org", "", ""],
        ["person", "Alan", "c@example.org", "", ""],
        ["company", "Second", "", "C2", ""],
        ["person", "Edsger", "d@example.org", "", ""],
        ["person", "Barbara", "e@example.org", "", ""],
    ];

    let report = Harness::new(contacts().chunk_size(2)).run_text(HEADERS, &rows).unwrap();

    let targets: Vec<Option<&str>> = (0..7).map(|row| report.target(row)).collect();
    assert_eq!(
        targets,
        [
            Some("people"),
            Some("companies"),
            Some("people"),
            Some("people"),
            Some("companies"),
            Some("people"),
            Some("people"),
        ]
    );
    let vat_ids: Vec<&Value<'static>> = report.records_in("companies").map(|record| &record[0]).collect();
    assert_eq!(vat_ids, [&Value::text("C1"), &Value::text("C2")]);
    assert_eq!(report.get(6, "email"), Some(&Value::text("e@example.org")));
}

#[test]
fn description_and_headers_cover_every_target() {
    let harness = Harness::new(contacts());

    let description = harness.description();
    assert_eq!(description.targets.len(), 2);
    assert_eq!(description.targets[1].table, "companies");
    assert_eq!(description.capabilities, ["relate"]);
    let error = harness.check_headers(&["type", "name", "email"]).unwrap_err();
    assert!(error.contains("\"vat_id\""), "the key of the second target is a required header: {error}");
}

#[test]
fn single_target_needs_no_router() {
    let config = IngestConfig::new("people")
        .target("people")
        .keyed_by("email")
        .column(Column::text("email"));

    let report = Harness::new(config).run_text(["email"], &[["ada@example.org"]]).unwrap();

    assert_eq!(report.target(0), Some("people"));
    assert_eq!(report.records_in("people").count(), 1);
}
