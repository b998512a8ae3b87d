//! The fluent API's features end to end through the native harness: relations to many
//! rows, concatenated and nested headers, transform and validator pipelines, and CSV input.

use std::collections::BTreeMap;

use ingest_importer_sdk::testing::{Harness, Outcome, RelateRequest};
use ingest_importer_sdk::transform::{date, default_value, number, slug, trim};
use ingest_importer_sdk::validate::{email, length, one_of, regex};
use ingest_importer_sdk::{Column, Date, IngestConfig, Relation, Value};

fn tag_ids(request: &RelateRequest) -> Result<Vec<Option<i64>>, String> {
    let known = BTreeMap::from([("red", 1), ("green", 2), ("blue", 3)]);
    let ids = request
        .values
        .iter()
        .enumerate()
        .map(|(index, value)| match known.get(value.as_str()) {
            Some(&id) => Some(id),
            None if request.create_missing => Some(100 + index as i64),
            None => None,
        })
        .collect();
    Ok(ids)
}

fn posts(tags: Relation) -> IngestConfig {
    IngestConfig::new("posts")
        .target("posts")
        .keyed_by("title")
        .chunk_size(10)
        .column(Column::text("title").required())
        .column(Column::text("tag_ids").from("tags").relate_many(tags, "|"))
}

#[test]
fn relate_many_stores_json_arrays_of_ids() {
    let harness = Harness::new(posts(Relation::new("tags", "name"))).with_relate(tag_ids);
    let report = harness
        .run_text(
            ["title", "tags"],
            &[
                ["First", "red | blue"],
                ["Second", "blue|red|blue"],
                ["Third", ""],
                ["Fourth", "green | purple | teal"],
            ],
        )
        .unwrap();

    assert_eq!(report.get(0, "tag_ids"), Some(&Value::text("[1,3]")));
    assert_eq!(report.get(1, "tag_ids"), Some(&Value::text("[3,1]")));
    assert_eq!(report.get(2, "tag_ids"), Some(&Value::Null));
    let failure = report.failure(3).expect("the row with unknown tags fails");
    assert_eq!(
        failure.messages("tag_ids"),
        ["The selected tag ids is invalid: \"purple\", \"teal\" not found."]
    );

    let requests = harness.relate_requests();
    assert_eq!(requests.len(), 1, "one lookup for the whole chunk");
    assert_eq!(requests[0].values, ["blue", "green", "purple", "red", "teal"]);
    assert!(!requests[0].create_missing);
}

#[test]
fn relate_many_can_create_missing_rows() {
    let harness = Harness::new(posts(Relation::new("tags", "name").create_missing())).with_relate(tag_ids);
    let report = harness.run_text(["title", "tags"], &[["Fourth", "green|purple"]]).unwrap();

    assert_eq!(report.get(0, "tag_ids"), Some(&Value::text("[2,101]")));
    assert!(harness.relate_requests()[0].create_missing);
}

#[test]
fn concat_joins_several_headers() {
    let config = IngestConfig::new("people")
        .target("people")
        .keyed_by("name")
        .column(Column::text("name").concat(["First Name", "Last Name"], " ").required())
        .column(Column::text("slug").concat(["First Name", "Last Name"], " ").transform(slug()));
    let report = Harness::new(config)
        .run_text(
            ["First Name", "Last Name"],
            &[[" Ada ", "Lovelace"], ["Grace", ""], ["", " "]],
        )
        .unwrap();

    assert_eq!(report.get(0, "name"), Some(&Value::text("Ada Lovelace")));
    assert_eq!(report.get(0, "slug"), Some(&Value::text("ada-lovelace")));
    assert_eq!(report.get(1, "name"), Some(&Value::text("Grace")));
    assert_eq!(
        report.failure(2).unwrap().messages("name"),
        ["The name field is required."]
    );
}

#[test]
fn nested_json_fields_read_dotted_headers() {
    // The host flattens `{"address": {"city": "Berlin"}}` to the header `address.city`.
    let config = IngestConfig::new("customers")
        .target("customers")
        .keyed_by("email")
        .column(Column::text("email").from("contact.email").validate(email()))
        .column(Column::text("city").from(["address.city", "city"]));
    let report = Harness::new(config)
        .run_text(
            ["contact.email", "address.city", "address.zip"],
            &[["ada@example.org", "London", "N1"]],
        )
        .unwrap();

    assert_eq!(report.get(0, "email"), Some(&Value::text("ada@example.org")));
    assert_eq!(report.get(0, "city"), Some(&Value::text("London")));
}

fn products() -> IngestConfig {
    IngestConfig::new("products")
        .target("products")
        .keyed_by("sku")
        .null_markers(["n/a"])
        .column(Column::text("sku").from(["SKU", "Artikelnummer"]).transform(trim()).validate(regex(r"^[A-Z]{2}-\d+$")))
        .column(
            Column::float("price")
                .from(["Price", "Preis"])
                .transform(number().decimal(',').thousands('.'))
                .validate(ingest_importer_sdk::validate::between(0.0, 100_000.0)),
        )
        .column(Column::date("released").from("Released").transform(date(["%d.%m.%Y"])))
        .column(
            Column::text("status")
                .from("Status")
                .transform(default_value("draft"))
                .validate(one_of(["draft", "live"])),
        )
        .column(Column::text("country").from("Country").validate(length(2)))
}

#[test]
fn transforms_and_validators_run_in_order() {
    let report = Harness::new(products())
        .run_csv_text(
            "Artikelnummer;Preis;Released;Status;Country\n\
             AB-1;1.234,56;31.12.2023;live;DE\n\
             ab-2;-5;2023-12-31;gone;DEU\n\
             CD-3;n/a;1.2.2024;;AT\n",
        )
        .unwrap();

    assert_eq!(report.get(0, "price"), Some(&Value::Float(1234.56)));
    assert_eq!(report.get(0, "released"), Some(&Value::Date(Date::new(2023, 12, 31).unwrap())));
    assert_eq!(report.get(2, "price"), Some(&Value::Null));
    assert_eq!(report.get(2, "status"), Some(&Value::text("draft")));
    assert_eq!(report.get(2, "released"), Some(&Value::Date(Date::new(2024, 2, 1).unwrap())));

    let failure = report.failure(1).expect("the second row breaks every rule");
    assert_eq!(failure.messages("sku"), ["The sku field format is invalid."]);
    assert_eq!(failure.messages("price"), ["The price field must be between 0 and 100000."]);
    assert_eq!(failure.messages("released"), ["The released field must match the format %d.%m.%Y."]);
    assert_eq!(failure.messages("status"), ["The selected status is invalid."]);
    assert_eq!(failure.messages("country"), ["The country field must be 2 characters."]);
    assert_eq!(failure.message, "The sku field format is invalid. (and 4 more errors)");
}

#[test]
fn run_csv_reads_a_file() {
    let path = std::env::temp_dir().join(format!("sdk-run-csv-{}.csv", std::process::id()));
    std::fs::write(&path, "\u{feff}SKU,Price,Released,Status,Country\nXY-9,\"1.234,5\",01.01.2024,live,FR\n").unwrap();
    let report = Harness::new(products()).run_csv(&path);
    std::fs::remove_file(&path).unwrap();

    let report = report.unwrap();
    assert_eq!(report.outcomes.len(), 1);
    assert_eq!(report.get(0, "sku"), Some(&Value::text("XY-9")));
    assert_eq!(report.get(0, "price"), Some(&Value::Float(1234.5)));
}

#[test]
fn run_csv_reports_unreadable_input() {
    let missing = Harness::new(products()).run_csv("/nonexistent/products.csv").unwrap_err();
    assert!(missing.starts_with("Cannot read /nonexistent/products.csv: "), "{missing}");

    let ragged = Harness::new(products())
        .run_csv_text("SKU,Price\nAB-1,1,extra\n")
        .unwrap_err();
    assert_eq!(ragged, "CSV row 1 has 3 fields but the header has 2.");
}

#[test]
fn report_reads_outcomes_by_row() {
    let report = Harness::new(products())
        .run_text(["SKU", "Price"], &[["AB-1", "5"], ["bad", "5"]])
        .unwrap();

    assert!(matches!(report.outcomes[0], Outcome::Record(_)));
    assert_eq!(report.get(0, "no_such_column"), None);
    assert_eq!(report.get(1, "sku"), None, "a failed row has no record");
    assert!(report.failure(0).is_none());
    assert!(report.failure(1).is_some());
    assert_eq!(report.get(5, "sku"), None);
}

#[test]
fn aliases_fall_back_per_row() {
    let config = IngestConfig::new("customers")
        .target("customers")
        .keyed_by("email")
        .column(Column::text("email"))
        .column(Column::text("zip").from(["address.zip", "address.postcode"]));
    let report = Harness::new(config)
        .run_text(
            ["email", "address.zip", "address.postcode"],
            &[["a@example.org", "N1", "ignored"], ["b@example.org", "", "10001"], ["c@example.org", "", ""]],
        )
        .unwrap();

    assert_eq!(report.get(0, "zip"), Some(&Value::text("N1")));
    assert_eq!(report.get(1, "zip"), Some(&Value::text("10001")));
    assert_eq!(report.get(2, "zip"), Some(&Value::Null));
}
