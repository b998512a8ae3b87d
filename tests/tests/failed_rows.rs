//! How a run reports its failed rows: the errors summary, the failed-rows CSV download and
//! the rows of `GET /{id}`, on the 11 penguins without a sex, from the CSV and the XLSX
//! file.

use std::collections::BTreeSet;

use ingest_e2e::{TestApp, data_file, expect_json, expect_text, parse_csv, run_id};
use serde_json::Value;

const CSV_FILE: &str = "penguins-raw.csv";
const XLSX_FILE: &str = "xlsx/penguins.xlsx";

/// Returns the header row of penguins-raw.csv, which the XLSX file shares.
fn original_headers() -> Vec<String> {
    let text = std::fs::read_to_string(data_file(CSV_FILE)).expect("penguins-raw.csv is readable");
    parse_csv(&text).swap_remove(0)
}

/// Returns the (Species, Sample Number) pairs of the rows whose `Sex` is neither MALE nor
/// FEMALE, which are the rows the penguin importer must fail.
fn expected_failed_penguins() -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(data_file(CSV_FILE)).expect("penguins-raw.csv is readable");
    let records = parse_csv(&text);
    let column = |name: &str| records[0].iter().position(|header| header == name).expect("penguins-raw.csv header");
    let (species, sample_number, sex) = (column("Species"), column("Sample Number"), column("Sex"));
    let failed: BTreeSet<_> = records[1..]
        .iter()
        .filter(|record| record[sex] != "MALE" && record[sex] != "FEMALE")
        .map(|record| (record[species].clone(), record[sample_number].clone()))
        .collect();
    assert_eq!(failed.len(), 11, "penguins-raw.csv has 11 rows without a sex");
    failed
}

/// Converts a JSON cell to text: strings as they are, numbers in their JSON form.
fn cell_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Starts a server, imports `file` with the penguin importer and returns the app and the
/// ended run's id.
fn import_penguins(file: &str) -> (TestApp, i64) {
    let app = TestApp::start(&["penguin-importer"]);
    let run = app.import("penguin-importer", &data_file(file));
    assert_eq!(run["status"], "completed_with_errors", "run {run}");
    let id = run_id(&run);
    (app, id)
}

fn assert_errors_summary(file: &str) {
    let (app, id) = import_penguins(file);

    let body = expect_json(app.get(&format!("/{id}/errors/summary")), 200);

    let summary = &body["data"];
    assert_eq!(summary["total_failed_rows"], 11, "summary {body}");

    let errors = summary["error_summary"].as_array().unwrap_or_else(|| panic!("error_summary is not an array: {body}"));
    for entry in errors {
        assert!(entry["message"].as_str().is_some_and(|message| !message.is_empty()), "error_summary entry {entry}");
    }
    let error_count: i64 = errors.iter().map(|entry| entry["count"].as_i64().unwrap_or(0)).sum();
    assert_eq!(error_count, 11, "each failed row counts once in error_summary: {body}");

    let validation = summary["validation_summary"]
        .as_array()
        .unwrap_or_else(|| panic!("validation_summary is not an array: {body}"));
    assert!(!validation.is_empty(), "validation_summary is empty: {body}");
    for entry in validation {
        let message = entry["message"].as_str().unwrap_or_default();
        assert!(message.starts_with("sex: "), "validation_summary entry is not about sex: {entry}");
    }
    let validation_count: i64 = validation.iter().map(|entry| entry["count"].as_i64().unwrap_or(0)).sum();
    assert_eq!(validation_count, 11, "validation_summary counts: {body}");
}

#[test]
fn penguins_csv_summary_counts_sex_errors() {
    assert_errors_summary(CSV_FILE);
}

#[test]
fn penguins_xlsx_summary_counts_sex_errors() {
    assert_errors_summary(XLSX_FILE);
}

fn assert_failed_rows_download(file: &str) {
    let (app, id) = import_penguins(file);

    let response = app.get(&format!("/{id}/failed-rows/download"));

    let content_type = response.headers().get("content-type").and_then(|value| value.to_str().ok()).unwrap_or("");
    assert!(content_type.starts_with("text/csv"), "content type of the download: {content_type:?}");
    let records = parse_csv(&expect_text(response, 200));
    let (header, rows) = records.split_first().expect("the download has a header row");

    let original = original_headers();
    let original_in_download: Vec<&String> = header.iter().filter(|name| original.contains(name)).collect();
    assert_eq!(
        original_in_download,
        original.iter().collect::<Vec<_>>(),
        "the original headers, in order, in {header:?}"
    );
    let column =
        |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no {name} column in {header:?}"));
    let error_message = column("_error_message");
    let row_number = column("_row_number");
    let (species, sample_number, sex) = (column("Species"), column("Sample Number"), column("Sex"));

    assert_eq!(rows.len(), 11, "data rows of the download");
    for row in rows {
        assert_eq!(row.len(), header.len(), "row {row:?} has as many cells as the header");
        assert!(!row[error_message].is_empty(), "row {row:?} has an error message");
        assert!(row[row_number].parse::<u64>().is_ok_and(|number| number > 0), "row {row:?} has a row number");
        assert_ne!(row[sex], "MALE", "failed row {row:?}");
        assert_ne!(row[sex], "FEMALE", "failed row {row:?}");
    }
    let penguins: BTreeSet<_> = rows.iter().map(|row| (row[species].clone(), row[sample_number].clone())).collect();
    assert_eq!(penguins, expected_failed_penguins());

    let downloaded_numbers: BTreeSet<i64> =
        rows.iter().map(|row| row[row_number].parse().expect("checked above")).collect();
    let run = app.run(id);
    let shown_numbers: BTreeSet<i64> = run["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("the run has no rows array: {run}"))
        .iter()
        .filter(|row| row["status"] == "failed")
        .filter_map(|row| row["row_number"].as_i64())
        .collect();
    assert_eq!(downloaded_numbers, shown_numbers, "the download and GET /{id} name the same rows");
}

#[test]
fn penguins_csv_download_keeps_original_columns() {
    assert_failed_rows_download(CSV_FILE);
}

#[test]
fn penguins_xlsx_download_keeps_original_columns() {
    assert_failed_rows_download(XLSX_FILE);
}

fn assert_run_rows(file: &str) {
    let (app, id) = import_penguins(file);

    let run = app.run(id);

    let rows = run["rows"].as_array().unwrap_or_else(|| panic!("the run has no rows array: {run}"));
    let failed: Vec<&Value> = rows.iter().filter(|row| row["status"] == "failed").collect();
    assert_eq!(failed.len(), 11, "failed rows of run {run}");
    for row in &failed {
        assert!(row["row_number"].as_i64().is_some_and(|number| number > 0), "row_number of {row}");
        assert!(row["data"].is_object(), "data of {row}");
        assert!(
            row["errors"]["message"].as_str().is_some_and(|message| !message.is_empty()),
            "errors.message of {row}"
        );
        let sex_errors = row["errors"]["validation"]["sex"]
            .as_array()
            .unwrap_or_else(|| panic!("errors.validation.sex is not an array in {row}"));
        assert!(!sex_errors.is_empty(), "errors.validation.sex is empty in {row}");
        assert!(sex_errors.iter().all(Value::is_string), "errors.validation.sex contains non-strings in {row}");
    }
    let penguins: BTreeSet<_> = failed
        .iter()
        .map(|row| (cell_text(&row["data"]["Species"]), cell_text(&row["data"]["Sample Number"])))
        .collect();
    assert_eq!(penguins, expected_failed_penguins(), "the failed rows' original data");
}

#[test]
fn penguins_csv_run_shows_sex_errors() {
    assert_run_rows(CSV_FILE);
}

#[test]
fn penguins_xlsx_run_shows_sex_errors() {
    assert_run_rows(XLSX_FILE);
}
