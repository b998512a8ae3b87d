//! `POST /upload/{slug}`: the accepted run, dry runs, and the rejected requests.

use ingest_e2e::{TestApp, data_file, expect_json, file_form, run_id};
use reqwest::blocking::multipart::Form;
use serde_json::{Value, json};

/// Asserts a 422 body: a message, and `errors.file` with at least one message.
fn assert_file_error(body: &Value) {
    assert!(body["message"].as_str().is_some_and(|message| !message.is_empty()), "message in {body}");
    let file_errors =
        body["errors"]["file"].as_array().unwrap_or_else(|| panic!("errors.file is not an array: {body}"));
    assert!(!file_errors.is_empty(), "errors.file is empty: {body}");
    assert!(file_errors.iter().all(Value::is_string), "errors.file contains non-strings: {body}");
}

#[test]
fn upload_returns_accepted_pending_run() {
    let app = TestApp::start(&["airline-importer"]);

    let body = expect_json(app.upload("airline-importer", &data_file("airlines.csv"), false), 202);

    let run = &body["data"];
    run_id(run);
    assert_eq!(run["importer"], "airline-importer");
    assert_eq!(run["user_id"], 1);
    assert_eq!(run["original_filename"], "airlines.csv");
    let status = run["status"].as_str().unwrap_or_default();
    assert!(["pending", "processing"].contains(&status), "a new run is pending or processing: {run}");
    for counter in ["total", "processed", "successful", "failed"] {
        assert!(run["progress"][counter].is_i64(), "progress.{counter} is an integer: {run}");
    }
    for field in ["summary", "started_at", "completed_at"] {
        assert!(run.get(field).is_some(), "the run has no {field} field: {run}");
    }
    assert_eq!(run["completed_at"], Value::Null);
}

#[test]
fn upload_to_unknown_importer_is_not_found() {
    let app = TestApp::start(&["airline-importer"]);

    let response = app.upload("no-such-importer", &data_file("airlines.csv"), false);

    let body = expect_json(response, 404);
    assert!(body["message"].as_str().is_some_and(|message| !message.is_empty()), "message in {body}");
}

#[test]
fn upload_without_file_is_unprocessable() {
    let app = TestApp::start(&["airline-importer"]);

    let response = app.upload_form("airline-importer", Form::new().text("dry_run", "1"));

    assert_file_error(&expect_json(response, 422));
}

#[test]
fn upload_without_multipart_body_is_unprocessable() {
    let app = TestApp::start(&["airline-importer"]);

    let response = app.post_json("/upload/airline-importer", &json!({ "file": "airlines.csv" }));

    assert_file_error(&expect_json(response, 422));
}

#[test]
fn dry_run_counts_but_writes_nothing() {
    let app = TestApp::start(&["airport-importer"]);

    let body = expect_json(app.upload("airport-importer", &data_file("airports.csv"), true), 202);
    let run = app.wait_for_run(run_id(&body["data"]));

    assert_eq!(run["status"], "completed", "run {run}");
    assert_eq!(run["progress"]["total"], 3376, "run {run}");
    assert_eq!(run["progress"]["successful"], 3376, "run {run}");
    assert_eq!(run["progress"]["failed"], 0, "run {run}");
    let written = if app.table_exists("airports") { app.count_rows("airports") } else { 0 };
    assert_eq!(written, 0, "a dry run writes no airport");
}

#[test]
fn dry_run_true_writes_nothing() {
    let app = TestApp::start(&["airline-importer"]);

    let form = file_form(&data_file("airlines.csv")).text("dry_run", "true");
    let body = expect_json(app.upload_form("airline-importer", form), 202);
    let run = app.wait_for_run(run_id(&body["data"]));

    assert_eq!(run["status"], "completed", "run {run}");
    assert_eq!(run["progress"]["successful"], 16, "run {run}");
    let written = if app.table_exists("airlines") { app.count_rows("airlines") } else { 0 };
    assert_eq!(written, 0, "a dry run writes no airline");
}

#[test]
fn dry_run_0_or_false_writes_rows() {
    let app = TestApp::start(&["airline-importer"]);

    for value in ["false", "0"] {
        let form = file_form(&data_file("airlines.csv")).text("dry_run", value);
        let body = expect_json(app.upload_form("airline-importer", form), 202);
        let run = app.wait_for_run(run_id(&body["data"]));

        assert_eq!(run["status"], "completed", "dry_run={value}: run {run}");
        assert_eq!(app.count_rows("airlines"), 16, "dry_run={value} writes every airline");
    }
}

#[test]
fn dry_run_records_failed_rows() {
    let app = TestApp::start(&["penguin-importer"]);

    let body = expect_json(app.upload("penguin-importer", &data_file("penguins-raw.csv"), true), 202);
    let run = app.wait_for_run(run_id(&body["data"]));

    assert_eq!(run["status"], "completed_with_errors", "run {run}");
    assert_eq!(run["progress"]["successful"], 333, "run {run}");
    assert_eq!(run["progress"]["failed"], 11, "run {run}");
    let summary = expect_json(app.get(&format!("/{}/errors/summary", run_id(&run))), 200);
    assert_eq!(summary["data"]["total_failed_rows"], 11, "summary {summary}");
    let written = if app.table_exists("penguins") { app.count_rows("penguins") } else { 0 };
    assert_eq!(written, 0, "a dry run writes no penguin");
}

/// Asserts a 422 whose message, also the first of `errors.file`, contains `expected`.
fn assert_file_message(body: &Value, expected: &str) {
    assert_file_error(body);
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains(expected), "the message should contain {expected:?}: {body}");
    assert_eq!(body["errors"]["file"][0], message, "errors.file in {body}");
}

#[test]
fn truncated_multipart_body_is_unprocessable() {
    let app = TestApp::start(&["airline-importer"]);
    // The body ends inside the file's data, without the closing `--boundary--`.
    let body = "--XBOUNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"airlines.csv\"\r\n\
                Content-Type: text/csv\r\n\r\ncarrier,name\nAA,American Airlines Inc.\n";
    let request = app
        .request(reqwest::Method::POST, "/upload/airline-importer")
        .header("Content-Type", "multipart/form-data; boundary=XBOUNDARY")
        .body(body);

    let response = app.send(request);

    assert_file_message(&expect_json(response, 422), "incomplete");
    assert_eq!(expect_json(app.get(""), 200)["meta"]["total"], 0, "no run was created");
}

#[test]
fn text_field_named_file_is_unprocessable() {
    let app = TestApp::start(&["airline-importer"]);

    let response = app.upload_form("airline-importer", Form::new().text("file", "carrier,name\nAA,American\n"));

    let body = expect_json(response, 422);
    assert_file_message(&body, "The file field must be a file.");
}

#[test]
fn empty_file_is_unprocessable() {
    let app = TestApp::start(&["airline-importer"]);
    let file = app.dir().join("empty.csv");
    std::fs::write(&file, "").unwrap();

    let response = app.upload_form("airline-importer", file_form(&file));

    assert_file_message(&expect_json(response, 422), "empty");
}

#[test]
fn two_file_parts_are_unprocessable() {
    let app = TestApp::start(&["airline-importer"]);
    let form = file_form(&data_file("airlines.csv")).file("file", data_file("airlines.csv")).unwrap();

    let response = app.upload_form("airline-importer", form);

    assert_file_message(&expect_json(response, 422), "2 parts named file");
    assert_eq!(expect_json(app.get(""), 200)["meta"]["total"], 0, "no run was created");
}
