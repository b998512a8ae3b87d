//! `POST /{id}/retry`: a new run over only the failed rows of the original.

use ingest_e2e::{TestApp, data_file, expect_json, run_id};
use serde_json::{Value, json};

/// Imports `file` with the penguin importer, retries the run with `body` (no body when
/// `None`) and checks that the retry is a new, linked run over the 11 failed rows, which
/// fail again because the data is unchanged.
fn assert_penguin_retry(file: &str, body: Option<Value>) {
    let app = TestApp::start(&["penguin-importer"]);
    let original = app.import("penguin-importer", &data_file(file));
    assert_eq!(original["status"], "completed_with_errors", "run {original}");
    let original_id = run_id(&original);

    let path = format!("/{original_id}/retry");
    let response = match &body {
        Some(body) => app.post_json(&path, body),
        None => app.post(&path),
    };

    let accepted = expect_json(response, 202);
    let retry = &accepted["data"];
    let retry_id = run_id(retry);
    assert_ne!(retry_id, original_id, "the retry is a new run");
    assert_eq!(retry["retried_from_run_id"], original_id, "retry {retry}");
    assert_eq!(retry["importer"], "penguin-importer", "retry {retry}");

    let retry = app.wait_for_run(retry_id);
    let progress = &retry["progress"];
    assert_eq!(retry["status"], "completed_with_errors", "retry {retry}");
    assert_eq!(progress["total"], 11, "retry {retry}");
    assert_eq!(progress["processed"], 11, "retry {retry}");
    assert_eq!(progress["failed"], 11, "retry {retry}");
    assert_eq!(progress["successful"], 0, "retry {retry}");
    assert_eq!(retry["retried_from_run_id"], original_id, "retry {retry}");
    assert_eq!(app.count_rows("penguins"), 333, "the retry writes no penguin");
}

#[test]
fn retry_reprocesses_only_failed_csv_rows() {
    assert_penguin_retry("penguins-raw.csv", None);
}

#[test]
fn retry_reprocesses_only_failed_xlsx_rows() {
    assert_penguin_retry("xlsx/penguins.xlsx", None);
}

#[test]
fn retry_accepts_dry_run_body() {
    assert_penguin_retry("penguins-raw.csv", Some(json!({ "dry_run": true })));
}

#[test]
fn retry_of_run_without_failures_is_rejected() {
    let app = TestApp::start(&["airport-importer"]);
    let run = app.import("airport-importer", &data_file("airports.csv"));
    assert_eq!(run["status"], "completed", "run {run}");

    let response = app.post(&format!("/{}/retry", run_id(&run)));

    let body = expect_json(response, 400);
    assert!(body["message"].as_str().is_some_and(|message| !message.is_empty()), "message in {body}");
    let list = expect_json(app.get(""), 200);
    assert_eq!(list["meta"]["total"], 1, "a rejected retry creates no run: {list}");
}

/// Uploads penguins-raw.csv as a dry run and returns the ended run's id.
fn dry_run_penguins(app: &TestApp) -> i64 {
    let body = expect_json(app.upload("penguin-importer", &data_file("penguins-raw.csv"), true), 202);
    let original = app.wait_for_run(run_id(&body["data"]));
    assert_eq!(original["status"], "completed_with_errors", "run {original}");
    assert_eq!(original["dry_run"], true, "run {original}");
    run_id(&original)
}

#[test]
fn retry_of_dry_run_is_dry_run() {
    let app = TestApp::start(&["penguin-importer"]);
    let original_id = dry_run_penguins(&app);

    let accepted = expect_json(app.post(&format!("/{original_id}/retry")), 202);

    assert_eq!(accepted["data"]["dry_run"], true, "retry {accepted}");
    let retry = app.wait_for_run(run_id(&accepted["data"]));
    assert_eq!(retry["dry_run"], true, "retry {retry}");
    assert_eq!(retry["summary"]["dry_run"], true, "retry {retry}");
}

#[test]
fn retry_of_dry_run_can_write() {
    let app = TestApp::start(&["penguin-importer"]);
    let original_id = dry_run_penguins(&app);

    let accepted = expect_json(app.post_json(&format!("/{original_id}/retry"), &json!({ "dry_run": false })), 202);

    assert_eq!(accepted["data"]["dry_run"], false, "retry {accepted}");
}

#[test]
fn retry_of_real_run_writes_by_default() {
    let app = TestApp::start(&["penguin-importer"]);
    let original = app.import("penguin-importer", &data_file("penguins-raw.csv"));

    let accepted = expect_json(app.post(&format!("/{}/retry", run_id(&original))), 202);

    assert_eq!(accepted["data"]["dry_run"], false, "retry {accepted}");
}
