//! `POST /trigger/{slug}`: importers that read a file from an import directory
//! (stock-importer) or fetch it over HTTP (car-url-importer).
//!
//! car-url-importer names `http://127.0.0.1:8001/cars.json`. The tests serve that URL from
//! a loopback server of their own, set as the server's `INGEST_URL_PROXY`, so nothing has
//! to listen on port 8001.

use std::path::Path;
use std::time::Duration;

use ingest_e2e::{HttpServer, Reply, ScratchDir, TestApp, data_file, expect_json, run_id};
use serde_json::{Value, json};

const CARS_URL: &str = "http://127.0.0.1:8001/cars.json";

/// Starts a server with stock-importer whose only import directory is `imports`.
fn start_with_import_dir(imports: &Path) -> TestApp {
    TestApp::builder()
        .importers(&["stock-importer", "airline-importer"])
        .env("INGEST_IMPORT_DIRS", imports.to_str().expect("the scratch path is UTF-8"))
        .start()
}

/// Starts a server with car-url-importer that fetches through `proxy`, with `env` added.
fn start_with_proxy(proxy: &HttpServer, env: &[(&str, &str)]) -> TestApp {
    let mut builder = TestApp::builder()
        .importers(&["car-url-importer"])
        .env("INGEST_URL_PROXY", &proxy.base_url())
        .env("INGEST_URL_ALLOWED_HOSTS", "127.0.0.1");
    for (name, value) in env {
        builder = builder.env(name, value);
    }
    builder.start()
}

fn copy_stocks_into(imports: &Path) {
    std::fs::copy(data_file("stocks.csv"), imports.join("stocks.csv")).expect("cannot copy stocks.csv");
}

/// Asserts a 422 body with a message that contains `expected` and the same message in
/// `errors.source`.
fn assert_source_error(body: &Value, expected: &str) {
    let message = body["message"].as_str().unwrap_or_else(|| panic!("no message in {body}"));
    assert!(message.contains(expected), "the message should contain {expected:?}: {body}");
    assert_eq!(body["errors"]["source"], json!([message]), "errors.source in {body}");
}

/// Asserts that the server created no run.
fn assert_no_runs(app: &TestApp) {
    let list = expect_json(app.get(""), 200);
    assert_eq!(list["meta"]["total"], 0, "no run is created: {list}");
}

fn assert_completed(run: &Value, successful: i64) {
    assert_eq!(run["status"], "completed", "run {run}");
    assert_eq!(run["progress"]["total"], successful, "run {run}");
    assert_eq!(run["progress"]["successful"], successful, "run {run}");
    assert_eq!(run["progress"]["failed"], 0, "run {run}");
}

#[test]
fn stocks_trigger_imports_every_row() {
    let imports = ScratchDir::new();
    copy_stocks_into(imports.path());
    let app = start_with_import_dir(imports.path());

    let body = expect_json(app.post("/trigger/stock-importer"), 202);

    let accepted = &body["data"];
    assert_eq!(accepted["importer"], "stock-importer", "run {accepted}");
    assert_eq!(accepted["original_filename"], "stocks.csv", "run {accepted}");
    assert_eq!(accepted["user_id"], 1, "run {accepted}");
    let run = app.wait_for_run(run_id(accepted));
    assert_completed(&run, 560);
    assert_eq!(app.count_rows("stocks"), 560);
    let first = app.query_count(
        "SELECT COUNT(*) AS n FROM stocks WHERE symbol = 'MSFT' AND date = '2000-01-01' AND price = 39.81",
    );
    assert_eq!(first, 1, "`Jan 1 2000` is stored as the date 2000-01-01");
}

#[test]
fn stocks_trigger_reads_copy_made_at_trigger() {
    let imports = ScratchDir::new();
    copy_stocks_into(imports.path());
    let app = start_with_import_dir(imports.path());

    let body = expect_json(app.post("/trigger/stock-importer"), 202);
    std::fs::remove_file(imports.path().join("stocks.csv")).expect("cannot remove the original");

    let run = app.wait_for_run(run_id(&body["data"]));
    assert_completed(&run, 560);
}

#[test]
fn stocks_trigger_dry_run_writes_nothing() {
    let imports = ScratchDir::new();
    copy_stocks_into(imports.path());
    let app = start_with_import_dir(imports.path());

    let body = expect_json(app.post_json("/trigger/stock-importer", &json!({ "dry_run": true })), 202);

    let run = app.wait_for_run(run_id(&body["data"]));
    assert_completed(&run, 560);
    let written = if app.table_exists("stocks") { app.count_rows("stocks") } else { 0 };
    assert_eq!(written, 0, "a dry run writes no stock");
}

#[test]
fn trigger_missing_file_is_unprocessable() {
    let imports = ScratchDir::new();
    let app = start_with_import_dir(imports.path());

    let body = expect_json(app.post("/trigger/stock-importer"), 422);

    assert_source_error(&body, "The file stocks.csv was not found in the import directories");
    assert_no_runs(&app);
}

#[test]
fn trigger_without_import_dirs_is_unprocessable() {
    let app = TestApp::start(&["stock-importer"]);

    let body = expect_json(app.post("/trigger/stock-importer"), 422);

    assert_source_error(&body, "INGEST_IMPORT_DIRS");
    assert_no_runs(&app);
}

#[test]
fn trigger_symlink_out_of_import_dir_is_rejected() {
    let imports = ScratchDir::new();
    let outside = ScratchDir::new();
    copy_stocks_into(outside.path());
    std::os::unix::fs::symlink(outside.path().join("stocks.csv"), imports.path().join("stocks.csv"))
        .expect("cannot create the symbolic link");
    let app = start_with_import_dir(imports.path());

    let body = expect_json(app.post("/trigger/stock-importer"), 422);

    assert_source_error(&body, "leads outside the import directory");
    assert_no_runs(&app);
}

#[test]
fn trigger_unreadable_content_is_unprocessable() {
    let imports = ScratchDir::new();
    std::fs::write(imports.path().join("stocks.csv"), b"%PDF-1.7\n%\xE2\xE3\n").expect("cannot write the fixture");
    let app = start_with_import_dir(imports.path());

    let body = expect_json(app.post("/trigger/stock-importer"), 422);

    assert_source_error(&body, "The file is a PDF document, but a CSV, XLSX or JSON file was expected");
    assert_no_runs(&app);
    let stored = std::fs::read_dir(app.storage_dir().join("uploads")).map(Iterator::count).unwrap_or(0);
    assert_eq!(stored, 0, "the rejected copy is removed from storage");
}

#[test]
fn trigger_upload_importer_is_bad_request() {
    let imports = ScratchDir::new();
    let app = start_with_import_dir(imports.path());

    let body = expect_json(app.post("/trigger/airline-importer"), 400);

    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains("POST upload/airline-importer"), "{body}");
}

#[test]
fn trigger_unknown_importer_is_not_found() {
    let imports = ScratchDir::new();
    let app = start_with_import_dir(imports.path());

    let body = expect_json(app.post("/trigger/no-such-importer"), 404);

    assert_eq!(body["message"], "Importer no-such-importer not found.");
}

#[test]
fn url_trigger_imports_cars() {
    let proxy = HttpServer::start(vec![(CARS_URL.to_owned(), Reply::file(&data_file("cars.json")))]);
    let app = start_with_proxy(&proxy, &[]);

    let body = expect_json(app.post("/trigger/car-url-importer"), 202);

    assert_eq!(body["data"]["original_filename"], "cars.json", "run {body}");
    let run = app.wait_for_run(run_id(&body["data"]));
    assert_completed(&run, 406);
    assert_eq!(app.count_rows("cars"), 403, "three keys repeat inside the file");
    assert_eq!(proxy.requests(), [CARS_URL], "one request, for the importer's URL");
}

#[test]
fn url_redirect_is_followed() {
    let moved = "http://127.0.0.1:8001/archive/cars-1982.json";
    let proxy = HttpServer::start(vec![
        (CARS_URL.to_owned(), Reply::redirect(302, "/archive/cars-1982.json")),
        (moved.to_owned(), Reply::file(&data_file("cars.json"))),
    ]);
    let app = start_with_proxy(&proxy, &[]);

    let body = expect_json(app.post("/trigger/car-url-importer"), 202);

    assert_eq!(body["data"]["original_filename"], "cars-1982.json", "the name of the final URL: {body}");
    let run = app.wait_for_run(run_id(&body["data"]));
    assert_completed(&run, 406);
    assert_eq!(proxy.requests(), [CARS_URL, moved]);
}

#[test]
fn url_redirect_limit_is_bad_gateway() {
    let proxy = HttpServer::start(vec![(CARS_URL.to_owned(), Reply::redirect(301, CARS_URL))]);
    let app = start_with_proxy(&proxy, &[("INGEST_URL_MAX_REDIRECTS", "2")]);

    let body = expect_json(app.post("/trigger/car-url-importer"), 502);

    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains("redirected more than 2 times"), "{body}");
    assert_eq!(proxy.requests().len(), 3, "the first request and two redirects");
    assert_no_runs(&app);
}

#[test]
fn url_host_not_allowed_is_unprocessable() {
    let proxy = HttpServer::start(vec![(CARS_URL.to_owned(), Reply::file(&data_file("cars.json")))]);
    let app = start_with_proxy(&proxy, &[("INGEST_URL_ALLOWED_HOSTS", "data.example.org")]);

    let body = expect_json(app.post("/trigger/car-url-importer"), 422);

    assert_source_error(&body, "is not in INGEST_URL_ALLOWED_HOSTS");
    assert!(proxy.requests().is_empty(), "nothing is sent for a host that is not allowed");
    assert_no_runs(&app);
}

#[test]
fn url_error_status_is_bad_gateway() {
    let proxy = HttpServer::start(vec![(CARS_URL.to_owned(), Reply::status(404))]);
    let app = start_with_proxy(&proxy, &[]);

    let body = expect_json(app.post("/trigger/car-url-importer"), 502);

    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains("returned the HTTP status 404"), "{body}");
    assert_no_runs(&app);
}

#[test]
fn url_over_size_limit_is_unprocessable() {
    let proxy = HttpServer::start(vec![(CARS_URL.to_owned(), Reply::file(&data_file("cars.json")))]);
    let app = start_with_proxy(&proxy, &[("INGEST_URL_MAX_BYTES", "1000")]);

    let body = expect_json(app.post("/trigger/car-url-importer"), 422);

    assert_source_error(&body, "is larger than 1000 bytes");
    assert_no_runs(&app);
    let stored = std::fs::read_dir(app.storage_dir().join("uploads")).map(Iterator::count).unwrap_or(0);
    assert_eq!(stored, 0, "nothing of the file is kept");
}

#[test]
fn url_timeout_is_gateway_timeout() {
    let slow = Reply::file(&data_file("cars.json")).delayed(Duration::from_secs(5));
    let proxy = HttpServer::start(vec![(CARS_URL.to_owned(), slow)]);
    let app = start_with_proxy(&proxy, &[("INGEST_URL_TIMEOUT_SECONDS", "1")]);

    let started = std::time::Instant::now();
    let body = expect_json(app.post("/trigger/car-url-importer"), 504);

    assert!(started.elapsed() < Duration::from_secs(4), "answered after {:?}", started.elapsed());
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains("did not finish within 1 s"), "{body}");
    assert_no_runs(&app);
}
