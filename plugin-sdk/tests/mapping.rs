//! The row pipeline end to end through the public API: rows are packed into chunks,
//! processed, and the records unpacked, as the host does it but without WebAssembly.

use std::collections::BTreeMap;

use ingest_importer_sdk::testing::{Harness, Outcome};
use ingest_importer_sdk::transform::{first_word, lowercase, trim};
use ingest_importer_sdk::validate::{between, one_of};
use ingest_importer_sdk::{Cell, Column, Date, DateTime, IngestConfig, Relation, RowError, Value};

fn texts<'a>(fields: &[&'a str]) -> Vec<Cell<'a>> {
    fields.iter().map(|&field| Cell::Text(field)).collect()
}

/// A cut-down penguin importer: the same rules on fewer columns.
fn penguins() -> IngestConfig {
    IngestConfig::new("penguins")
        .target("penguins")
        .keyed_by(["species", "sample_number"])
        .null_markers(["NA"])
        .column(Column::integer("sample_number").from("Sample Number"))
        .column(Column::text("species").from("Species").transform(first_word()))
        .column(Column::boolean("clutch_completion").from("Clutch Completion"))
        .column(Column::date("date_egg").from("Date Egg"))
        .column(Column::float("culmen_length_mm").from("Culmen Length (mm)"))
        .column(Column::integer("body_mass_g").from("Body Mass (g)"))
        .column(
            Column::text("sex")
                .from("Sex")
                .required()
                .validate(one_of(["MALE", "FEMALE"]))
                .transform(lowercase()),
        )
}

const PENGUIN_HEADERS: [&str; 7] = [
    "Sample Number",
    "Species",
    "Clutch Completion",
    "Date Egg",
    "Culmen Length (mm)",
    "Body Mass (g)",
    "Sex",
];

#[test]
fn penguin_rows_as_csv_text() {
    let rows = [
        texts(&[
            "1",
            "Adelie Penguin (Pygoscelis adeliae)",
            "Yes",
            "2007-11-11",
            "39.1",
            "3750",
            "MALE",
        ]),
        texts(&[
            "4",
            "Adelie Penguin (Pygoscelis adeliae)",
            "No",
            "2007-11-16",
            "NA",
            "NA",
            "NA",
        ]),
        texts(&[
            "5",
            "Gentoo penguin (Pygoscelis papua)",
            "Yes",
            "2007-11-16",
            "36.7",
            "3450",
            "FEMALE",
        ]),
    ];
    let report = Harness::new(penguins()).run(&PENGUIN_HEADERS, &rows).unwrap();

    let egg = Date::new(2007, 11, 11).unwrap();
    let expected_first = [
        Value::Integer(1),
        Value::text("Adelie"),
        Value::Boolean(true),
        Value::Date(egg),
        Value::Float(39.1),
        Value::Integer(3750),
        Value::text("male"),
    ];
    assert_eq!(report.outcomes[0], Outcome::Record(expected_first.to_vec()));

    let Outcome::Failed(failure) = &report.outcomes[1] else {
        panic!("the row without a sex fails: {:?}", report.outcomes[1]);
    };
    assert_eq!(failure.message, "The sex field is required.");
    assert_eq!(
        failure.validation,
        [("sex".to_owned(), vec!["The sex field is required.".to_owned()])]
    );

    let Outcome::Record(gentoo) = &report.outcomes[2] else {
        panic!("the Gentoo row is a record: {:?}", report.outcomes[2]);
    };
    assert_eq!(gentoo[1], Value::text("Gentoo"));
    assert_eq!(gentoo[6], Value::text("female"));
}

#[test]
fn penguin_rows_as_spreadsheet_cells() {
    let egg = Date::new(2007, 11, 11).unwrap();
    let rows = [
        vec![
            Cell::Float(1.0),
            Cell::Text("Adelie Penguin (Pygoscelis adeliae)"),
            Cell::Text("Yes"),
            Cell::DateTime(egg.at_midnight()),
            Cell::Float(39.1),
            Cell::Float(3750.0),
            Cell::Text("MALE"),
        ],
        vec![
            Cell::Integer(4),
            Cell::Text("Adelie Penguin (Pygoscelis adeliae)"),
            Cell::Boolean(false),
            Cell::Date(egg),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
        ],
    ];
    let report = Harness::new(penguins()).run(&PENGUIN_HEADERS, &rows).unwrap();

    let Outcome::Record(first) = &report.outcomes[0] else {
        panic!("the first row is a record: {:?}", report.outcomes[0]);
    };
    assert_eq!(first[0], Value::Integer(1));
    assert_eq!(first[3], Value::Date(egg));
    assert_eq!(first[5], Value::Integer(3750));
    let failure = report.failures().next().expect("the second row fails");
    assert_eq!(failure.messages("sex"), ["The sex field is required."]);
}

#[test]
fn unconvertible_values_fail_only_their_row() {
    let rows = [
        texts(&["1.5", "Adelie", "Perhaps", "11/11/2007", "long", "heavy", "MALE"]),
        texts(&["2", "Adelie", "Yes", "2007-11-11", "39.5", "3800", "FEMALE"]),
    ];
    let report = Harness::new(penguins()).run(&PENGUIN_HEADERS, &rows).unwrap();

    let failure = report.failures().next().expect("the first row fails");
    assert_eq!(
        failure.messages("sample_number"),
        ["The sample number field must be an integer."]
    );
    assert_eq!(
        failure.messages("clutch_completion"),
        ["The clutch completion field must be true or false."]
    );
    assert_eq!(
        failure.messages("date_egg"),
        ["The date egg field must be a valid date."]
    );
    assert_eq!(
        failure.messages("culmen_length_mm"),
        ["The culmen length mm field must be a number."]
    );
    assert_eq!(
        failure.messages("body_mass_g"),
        ["The body mass g field must be an integer."]
    );
    assert_eq!(
        failure.message,
        "The sample number field must be an integer. (and 4 more errors)"
    );
    assert_eq!(report.records().count(), 1);
}

#[test]
fn validators_stop_at_first_error() {
    let config = IngestConfig::new("airports").target("airports").keyed_by("latitude").column(
        Column::float("latitude")
            .validate(between(-90.0, 90.0))
            .validate(between(0.0, 10.0)),
    );
    let report = Harness::new(config).run(&["latitude"], &[texts(&["95"])]).unwrap();

    let failure = report.failures().next().unwrap();
    assert_eq!(
        failure.messages("latitude"),
        ["The latitude field must be between -90 and 90."]
    );
}

/// A flights-like importer: `carrier` must name an airline, `tailnum` creates a plane.
fn flights() -> IngestConfig {
    IngestConfig::new("flights")
        .target("flights")
        .keyed_by("flight")
        .chunk_size(3)
        .null_markers(["NA"])
        .column(Column::integer("flight").required())
        .column(
            Column::integer("carrier_id")
                .from("carrier")
                .relate(Relation::new("airlines", "carrier")),
        )
        .column(
            Column::integer("plane_id")
                .from("tailnum")
                .transform(trim())
                .relate(Relation::new("planes", "tailnum").create_missing()),
        )
}

fn airline_and_plane_ids(request: &ingest_importer_sdk::testing::RelateRequest) -> Result<Vec<Option<i64>>, String> {
    let airlines = BTreeMap::from([("AA", 1), ("UA", 2)]);
    let ids = request
        .values
        .iter()
        .enumerate()
        .map(|(index, value)| match request.table.as_str() {
            "airlines" => airlines.get(value.as_str()).copied(),
            _ => Some(100 + index as i64),
        })
        .collect();
    Ok(ids)
}

#[test]
fn relations_are_looked_up_once_per_chunk() {
    let headers = ["flight", "carrier", "tailnum"];
    let rows = [
        texts(&["1", "UA", "N1"]),
        texts(&["2", "AA", " N2 "]),
        texts(&["3", "UA", "N1"]),
        texts(&["4", "ZZ", "N9"]),
        texts(&["x", "AA", "N8"]),
    ];
    let harness = Harness::new(flights()).with_relate(airline_and_plane_ids);
    let report = harness.run(&headers, &rows).unwrap();

    let requests = harness.relate_requests();
    let summary: Vec<(&str, Vec<&str>, bool)> = requests
        .iter()
        .map(|request| {
            let values = request.values.iter().map(String::as_str).collect();
            (request.table.as_str(), values, request.create_missing)
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("airlines", vec!["AA", "UA"], false),
            ("planes", vec!["N1", "N2"], true),
            ("airlines", vec!["ZZ"], false),
        ],
        "one request per relation and chunk, with distinct values; no plane is created for rows that fail"
    );

    assert_eq!(
        report.outcomes[0],
        Outcome::Record(vec![Value::Integer(1), Value::Integer(2), Value::Integer(100)])
    );
    assert_eq!(
        report.outcomes[1],
        Outcome::Record(vec![Value::Integer(2), Value::Integer(1), Value::Integer(101)])
    );
    assert_eq!(
        report.outcomes[2],
        Outcome::Record(vec![Value::Integer(3), Value::Integer(2), Value::Integer(100)])
    );
    let failures: Vec<_> = report.failures().collect();
    assert_eq!(failures.len(), 2);
    assert_eq!(
        failures[0].messages("carrier_id"),
        ["The selected carrier id is invalid."]
    );
    assert_eq!(failures[1].messages("flight"), ["The flight field must be an integer."]);
}

#[test]
fn relation_errors_fail_the_chunk() {
    let harness = Harness::new(flights()).with_relate(|_| Err("database is locked".to_owned()));
    let error = harness
        .run(&["flight", "carrier", "tailnum"], &[texts(&["1", "UA", "N1"])])
        .unwrap_err();
    assert_eq!(
        error,
        "Looking up carrier_id values in airlines.carrier failed: database is locked"
    );

    let short = Harness::new(flights()).with_relate(|_| Ok(vec![]));
    let error = short
        .run(&["flight", "carrier", "tailnum"], &[texts(&["1", "UA", "N1"])])
        .unwrap_err();
    assert_eq!(error, "The host returned 0 ids for 1 values of airlines.carrier.");
}

#[test]
fn null_relation_values_are_not_looked_up() {
    let harness = Harness::new(flights()).with_relate(airline_and_plane_ids);
    let report = harness
        .run(&["flight", "carrier", "tailnum"], &[texts(&["1", "UA", "NA"])])
        .unwrap();

    assert_eq!(
        report.outcomes[0],
        Outcome::Record(vec![Value::Integer(1), Value::Integer(2), Value::Null])
    );
    assert_eq!(harness.relate_requests().len(), 1);
}

#[test]
fn hooks_derive_skip_and_fail_rows() {
    let config = IngestConfig::new("hooks")
        .target("things")
        .keyed_by("name")
        .column(Column::text("name").required())
        .column(Column::text("kind"))
        .column(Column::integer("size"))
        .before_row(|row| match row.text("name") {
            Some("skip me") => Err(RowError::skip("a test row")),
            _ => Ok(()),
        })
        .on_record(|row, record| {
            let kind = row.text("name").and_then(|name| name.split_whitespace().next());
            record.set("kind", kind)?;
            if record.get("size") == Some(&Value::Integer(0)) {
                record.add_error("size", "The :attribute field must not be zero.");
            }
            if row.text("name") == Some("broken thing") {
                return Err(RowError::fail("This thing is broken."));
            }
            if row.text("name") == Some("typo thing") {
                record.set("sizes", 1)?;
            }
            Ok(())
        });
    let rows = [
        texts(&["blue whale", "30"]),
        texts(&["skip me", "1"]),
        texts(&["tiny ant", "0"]),
        texts(&["broken thing", "1"]),
        texts(&["typo thing", "1"]),
    ];
    let report = Harness::new(config).run(&["name", "size"], &rows).unwrap();

    let expected_whale = vec![Value::text("blue whale"), Value::text("blue"), Value::Integer(30)];
    assert_eq!(report.outcomes[0], Outcome::Record(expected_whale));
    assert_eq!(report.outcomes[1], Outcome::Skipped("a test row".to_owned()));
    let failures: Vec<_> = report.failures().collect();
    assert_eq!(failures[0].messages("size"), ["The size field must not be zero."]);
    assert_eq!(failures[1].message, "This thing is broken.");
    assert_eq!(
        failures[2].message,
        "The importer sets the column \"sizes\", which its target table \"things\" does not declare."
    );
}

#[test]
fn hook_values_are_converted() {
    let config = IngestConfig::new("hooks")
        .target("things")
        .keyed_by("name")
        .column(Column::text("name"))
        .column(Column::integer("size"))
        .on_record(|row, record| record.set("size", row.text("name").map(str::len).map(|length| length.to_string())));
    let rows = [texts(&["four"])];
    let report = Harness::new(config).run(&["name"], &rows).unwrap();

    assert_eq!(
        report.outcomes[0],
        Outcome::Record(vec![Value::text("four"), Value::Integer(4)])
    );
}

#[test]
fn row_numbers_continue_across_chunks() {
    let config = IngestConfig::new("numbers")
        .target("numbers")
        .keyed_by("line")
        .chunk_size(2)
        .column(Column::integer("line").compute(Vec::<String>::new(), |row| Ok(Value::Integer(row.number() as i64))));
    let rows: Vec<Vec<Cell<'_>>> = (0..5).map(|_| vec![Cell::Text("x")]).collect();
    let report = Harness::new(config).run(&["anything"], &rows).unwrap();

    let lines: Vec<Value<'_>> = report.records().map(|record| record[0].clone()).collect();
    assert_eq!(lines, (1..=5).map(Value::Integer).collect::<Vec<_>>());
}

#[test]
fn conditional_columns() {
    let config = IngestConfig::new("orders")
        .target("orders")
        .keyed_by("kind")
        .column(Column::text("kind"))
        .column(
            Column::text("order_status")
                .from("status")
                .when(|row| row.text("kind") == Some("order")),
        )
        .column(
            Column::text("refund_status")
                .from("status")
                .when(|row| row.text("kind") == Some("refund")),
        );
    let rows = [texts(&["order", "paid"]), texts(&["refund", "sent"])];
    let report = Harness::new(config).run(&["kind", "status"], &rows).unwrap();

    let records: Vec<&[Value<'static>]> = report.records().collect();
    assert_eq!(records[0], [Value::text("order"), Value::text("paid"), Value::Null]);
    assert_eq!(records[1], [Value::text("refund"), Value::Null, Value::text("sent")]);
}

#[test]
fn closures_transform_and_validate() {
    let config = IngestConfig::new("prices").target("prices").keyed_by("cents").column(
        Column::integer("cents")
            .from("price")
            .validate_with(|value, _row| match value.as_f64() {
                Some(price) if price >= 0.0 => Ok(()),
                _ => Err("The :attribute field must be a price.".to_owned()),
            })
            .transform_with(|value, _row| {
                let price = value.as_f64().ok_or("The :attribute field must be a number.")?;
                Ok(Value::Integer((price * 100.0).round() as i64))
            }),
    );
    let rows = [texts(&["19.99"]), texts(&["-1"])];
    let report = Harness::new(config).run(&["price"], &rows).unwrap();

    assert_eq!(report.outcomes[0], Outcome::Record(vec![Value::Integer(1999)]));
    assert_eq!(
        report.failures().next().unwrap().messages("cents"),
        ["The cents field must be a price."]
    );
}

#[test]
fn headers_match_aliases_ignoring_case() {
    let config = IngestConfig::new("users")
        .target("users")
        .keyed_by("email")
        .column(Column::text("email").from(["email", "E-Mail"]).required())
        .column(Column::text("name"));
    let harness = Harness::new(config);
    let report = harness
        .run(&[" e-mail ", "NAME"], &[texts(&["ada@example.org", "Ada"])])
        .unwrap();

    assert_eq!(
        report.outcomes[0],
        Outcome::Record(vec![Value::text("ada@example.org"), Value::text("Ada")])
    );
}

#[test]
fn missing_optional_header_warns() {
    let config = IngestConfig::new("users")
        .target("users")
        .keyed_by("email")
        .column(Column::text("email"))
        .column(Column::text("name"));
    let harness = Harness::new(config);
    let report = harness.run(&["email"], &[texts(&["ada@example.org"])]).unwrap();

    assert_eq!(
        report.outcomes[0],
        Outcome::Record(vec![Value::text("ada@example.org"), Value::Null])
    );
    assert_eq!(
        harness.log(),
        ["WARN The file has no header \"name\", so its column will be empty."]
    );
}

#[test]
fn strict_headers_fail_the_run() {
    let config = IngestConfig::new("users")
        .target("users")
        .keyed_by("email")
        .strict_headers()
        .column(Column::text("email"));
    let error = Harness::new(config).run(&["email", "password"], &[]).unwrap_err();
    assert_eq!(
        error,
        r#"The file has the unexpected header "password", which strict headers reject (expected headers: "email")."#
    );
}

#[test]
fn date_time_columns_keep_moments() {
    let config = IngestConfig::new("events")
        .target("events")
        .keyed_by("at")
        .column(Column::date_time("at"));
    let moment = DateTime::parse_iso("2013-01-01T05:17:00").unwrap();
    let rows = [
        vec![Cell::Text("2013-01-01 06:17:00+01:00")],
        vec![Cell::DateTime(moment)],
    ];
    let report = Harness::new(config).run(&["at"], &rows).unwrap();

    assert!(report.records().all(|record| record == [Value::DateTime(moment)]));
}
