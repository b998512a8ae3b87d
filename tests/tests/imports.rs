//! The example importers on the real data files: exact row counts, from upload to the
//! target table.

use ingest_e2e::{TestApp, data_file};
use serde_json::Value;

/// Asserts the run's final status and its progress counters.
fn assert_run_result(run: &Value, status: &str, successful: i64, failed: i64) {
    let progress = &run["progress"];
    assert_eq!(run["status"], status, "status of run {run}");
    assert_eq!(progress["total"], successful + failed, "progress.total of run {run}");
    assert_eq!(progress["processed"], successful + failed, "progress.processed of run {run}");
    assert_eq!(progress["successful"], successful, "progress.successful of run {run}");
    assert_eq!(progress["failed"], failed, "progress.failed of run {run}");
}

#[test]
fn airports_import_completes_with_every_row() {
    let app = TestApp::start(&["airport-importer"]);

    let run = app.import("airport-importer", &data_file("airports.csv"));

    assert_run_result(&run, "completed", 3376, 0);
    assert_eq!(app.count_rows("airports"), 3376);
}

#[test]
fn airports_second_import_updates_without_duplicates() {
    let app = TestApp::start(&["airport-importer"]);
    let first = app.import("airport-importer", &data_file("airports.csv"));
    assert_run_result(&first, "completed", 3376, 0);

    let second = app.import("airport-importer", &data_file("airports.csv"));

    assert_ne!(first["id"], second["id"], "the second upload must start a new run");
    assert_run_result(&second, "completed", 3376, 0);
    assert_eq!(app.count_rows("airports"), 3376);
}

#[test]
fn airlines_import_completes_with_16_rows() {
    let app = TestApp::start(&["airline-importer"]);

    let run = app.import("airline-importer", &data_file("airlines.csv"));

    assert_run_result(&run, "completed", 16, 0);
    assert_eq!(app.count_rows("airlines"), 16);
}

#[test]
fn planes_import_completes_with_3322_rows() {
    let app = TestApp::start(&["plane-importer"]);

    let run = app.import("plane-importer", &data_file("planes.csv"));

    assert_run_result(&run, "completed", 3322, 0);
    assert_eq!(app.count_rows("planes"), 3322);
}

/// Imports a penguins file and checks the result that both formats must give: 333 rows
/// written with the sex in lower case, and 11 rows failed for a missing sex.
fn assert_penguins_import(file: &str) {
    let app = TestApp::start(&["penguin-importer"]);

    let run = app.import("penguin-importer", &data_file(file));

    assert_run_result(&run, "completed_with_errors", 333, 11);
    assert_eq!(app.count_rows("penguins"), 333);
    let other_sex =
        app.query_count("SELECT COUNT(*) AS n FROM penguins WHERE sex IS NULL OR sex NOT IN ('male', 'female')");
    assert_eq!(other_sex, 0, "every stored penguin has sex 'male' or 'female'");
}

#[test]
fn penguins_csv_fails_rows_without_sex() {
    assert_penguins_import("penguins-raw.csv");
}

#[test]
fn penguins_xlsx_fails_rows_without_sex() {
    assert_penguins_import("xlsx/penguins.xlsx");
}
