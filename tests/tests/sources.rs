//! What the server reads from uploads: JSON (car-importer on cars.json), the format an
//! importer expects, the upload size limit, and stored file names.

use std::path::Path;

use ingest_e2e::{TestApp, data_file, expect_json, run_id};
use reqwest::blocking::multipart::{Form, Part};
use serde_json::Value;

/// Asserts the end of a car import: 406 rows imported, and 403 cars in the table because
/// three (`name`, `year`) keys repeat inside the file.
fn assert_cars_imported(app: &TestApp, run: &Value) {
    assert_eq!(run["status"], "completed", "run {run}");
    assert_eq!(run["progress"]["total"], 406, "run {run}");
    assert_eq!(run["progress"]["successful"], 406, "run {run}");
    assert_eq!(run["progress"]["failed"], 0, "run {run}");
    assert_eq!(app.count_rows("cars"), 403);
}

/// Asserts a 422 body whose message, also under `errors.file`, contains `expected`.
fn assert_file_error(body: &Value, expected: &str) {
    let message = body["message"].as_str().unwrap_or_else(|| panic!("no message in {body}"));
    assert!(message.contains(expected), "the message should contain {expected:?}: {body}");
    assert_eq!(body["errors"]["file"][0], message, "errors.file in {body}");
}

fn stored_files(app: &TestApp) -> Vec<String> {
    match std::fs::read_dir(app.storage_dir().join("uploads")) {
        Ok(entries) => entries.map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => Vec::new(),
    }
}

/// Writes cars.json as NDJSON, one object per line, to `path`.
fn write_cars_ndjson(path: &Path) {
    let text = std::fs::read_to_string(data_file("cars.json")).unwrap();
    let cars: Vec<Value> = serde_json::from_str(&text).unwrap();
    let lines: Vec<String> = cars.iter().map(Value::to_string).collect();
    std::fs::write(path, lines.join("\n")).unwrap();
}

#[test]
fn cars_json_upload_imports_every_row() {
    let app = TestApp::start(&["car-importer"]);

    let run = app.import("car-importer", &data_file("cars.json"));

    assert_cars_imported(&app, &run);
}

#[test]
fn cars_json_nulls_stay_null() {
    let app = TestApp::start(&["car-importer"]);

    let run = app.import("car-importer", &data_file("cars.json"));

    assert_cars_imported(&app, &run);
    assert_eq!(app.query_count("SELECT COUNT(*) AS n FROM cars WHERE miles_per_gallon IS NULL"), 8);
    assert_eq!(app.query_count("SELECT COUNT(*) AS n FROM cars WHERE horsepower IS NULL"), 6);
    assert_eq!(app.query_count("SELECT COUNT(*) AS n FROM cars WHERE origin IS NULL OR cylinders IS NULL"), 0);
}

#[test]
fn cars_json_repeated_key_keeps_last_row() {
    let app = TestApp::start(&["car-importer"]);

    let run = app.import("car-importer", &data_file("cars.json"));

    assert_cars_imported(&app, &run);
    // The file has two ford pintos of 1975, with 23 and then 18 miles per gallon.
    let pintos = "SELECT COUNT(*) AS n FROM cars WHERE name = 'ford pinto' AND year = '1975-01-01'";
    assert_eq!(app.query_count(pintos), 1);
    assert_eq!(app.query_count(&format!("{pintos} AND miles_per_gallon = 18 AND cylinders = 6")), 1);
}

#[test]
fn cars_ndjson_upload_imports_every_row() {
    let app = TestApp::start(&["car-importer"]);
    let ndjson = app.dir().join("cars.ndjson");
    write_cars_ndjson(&ndjson);

    let run = app.import("car-importer", &ndjson);

    assert_cars_imported(&app, &run);
}

#[test]
fn csv_upload_to_json_importer_is_unprocessable() {
    let app = TestApp::start(&["car-importer"]);

    let body = expect_json(app.upload("car-importer", &data_file("airlines.csv"), false), 422);

    assert_file_error(
        &body,
        "The file is a CSV or other text file, but a JSON file (an array of objects or NDJSON) was expected",
    );
    assert!(stored_files(&app).is_empty(), "the rejected upload is removed: {:?}", stored_files(&app));
    assert_eq!(expect_json(app.get(""), 200)["meta"]["total"], 0, "no run is created");
}

#[test]
fn xlsx_upload_to_json_importer_is_unprocessable() {
    let app = TestApp::start(&["car-importer"]);

    let body = expect_json(app.upload("car-importer", &data_file("xlsx/penguins.xlsx"), false), 422);

    assert_file_error(
        &body,
        "The file is an XLSX workbook, but a JSON file (an array of objects or NDJSON) was expected",
    );
}

#[test]
fn json_upload_to_upload_importer_is_read() {
    let app = TestApp::start(&["airline-importer"]);
    let json = app.dir().join("airlines.json");
    let csv = std::fs::read_to_string(data_file("airlines.csv")).unwrap();
    let airlines: Vec<Value> = csv
        .lines()
        .skip(1)
        .map(|line| {
            let (carrier, name) = line.split_once(',').unwrap();
            serde_json::json!({ "carrier": carrier, "name": name.trim_matches('"') })
        })
        .collect();
    std::fs::write(&json, Value::from(airlines).to_string()).unwrap();

    let run = app.import("airline-importer", &json);

    assert_eq!(run["status"], "completed", "run {run}");
    assert_eq!(run["progress"]["successful"], 16, "run {run}");
    assert_eq!(app.count_rows("airlines"), 16);
}

#[test]
fn over_limit_upload_is_payload_too_large() {
    let app = TestApp::builder().importers(&["airline-importer"]).env("INGEST_MAX_UPLOAD_BYTES", "4096").start();
    let file = app.dir().join("big.csv");
    let mut text = String::from("carrier,name\n");
    while text.len() <= 16 * 1024 {
        text.push_str("XX,Some Airline Inc.\n");
    }
    std::fs::write(&file, &text).unwrap();

    let body = expect_json(app.upload("airline-importer", &file, false), 413);

    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains("larger than the server accepts"), "{body}");
    assert!(message.contains("INGEST_MAX_UPLOAD_BYTES"), "{body}");
    assert!(stored_files(&app).is_empty(), "nothing is stored: {:?}", stored_files(&app));
    assert_eq!(expect_json(app.get(""), 200)["meta"]["total"], 0, "no run is created");
}

#[test]
fn over_form_limit_upload_is_payload_too_large() {
    // The whole form may exceed the file limit by 1 MiB of framing and other fields, so
    // this upload breaks both limits.
    let app = TestApp::builder().importers(&["airline-importer"]).env("INGEST_MAX_UPLOAD_BYTES", "4096").start();

    let (status, body) = upload_while_reading(&app, "airline-importer", 2 << 20);

    assert_eq!(status, 413, "body {body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains("INGEST_MAX_UPLOAD_BYTES"), "{body}");
    assert_eq!(expect_json(app.get(""), 200)["meta"]["total"], 0, "no run is created");
}

/// Uploads a file of `size` bytes to `slug` over a plain TCP connection and returns the
/// response's status and JSON body.
///
/// The server responds to an upload over its limit before it has read the whole body,
/// then closes the connection. A client that first writes the whole body therefore fails
/// with a broken pipe, so this one reads the response while it writes, as curl does.
fn upload_while_reading(app: &TestApp, slug: &str, size: usize) -> (u16, Value) {
    use std::io::{Read, Write};

    let url = app.api_url(&format!("/upload/{slug}"));
    let (address, path) = url.strip_prefix("http://").and_then(|rest| rest.split_once('/')).expect("an http URL");
    let boundary = "ingest-e2e-boundary";
    let preamble = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"huge.csv\"\r\nContent-Type: text/csv\r\n\r\ncarrier,name\n"
    );
    let epilogue = format!("\r\n--{boundary}--\r\n");
    let head = format!(
        "POST /{path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        app.token(),
        preamble.len() + size + epilogue.len()
    );

    let mut stream = std::net::TcpStream::connect(address).expect("cannot connect to the server");
    let mut reader = stream.try_clone().expect("cannot clone the connection");
    let response = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        // The server may reset the connection after its response, which has arrived by then.
        let _ = reader.read_to_end(&mut bytes);
        bytes
    });

    let row = b"XX,Some Airline Inc.\n".repeat(3000);
    let mut sent = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(preamble.as_bytes()));
    let mut remaining = size;
    while sent.is_ok() && remaining > 0 {
        let part = &row[..remaining.min(row.len())];
        sent = stream.write_all(part);
        remaining -= part.len();
    }
    if sent.is_ok() {
        let _ = stream.write_all(epilogue.as_bytes());
    }
    let _ = stream.shutdown(std::net::Shutdown::Write);

    let bytes = response.join().expect("the reading thread does not panic");
    let text = String::from_utf8_lossy(&bytes);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no complete response: {text:?}"));
    let status = head.split_whitespace().nth(1).and_then(|status| status.parse().ok()).expect("a status line");
    let body = serde_json::from_str(body).unwrap_or_else(|error| panic!("the body is not JSON ({error}): {body}"));
    (status, body)
}

#[test]
fn upload_within_limit_is_accepted() {
    let app = TestApp::builder().importers(&["airline-importer"]).env("INGEST_MAX_UPLOAD_BYTES", "4096").start();

    // airlines.csv has 622 bytes.
    let body = expect_json(app.upload("airline-importer", &data_file("airlines.csv"), false), 202);

    let run = app.wait_for_run(run_id(&body["data"]));
    assert_eq!(run["status"], "completed", "run {run}");
}

#[test]
fn upload_file_name_never_becomes_path() {
    let app = TestApp::start(&["airline-importer"]);
    let csv = std::fs::read(data_file("airlines.csv")).unwrap();
    let names = ["../../escaped.csv", "/tmp/ingest-absolute-upload.csv", "..", "sub/dir/name.csv"];

    for name in names {
        let part = Part::bytes(csv.clone()).file_name(name.to_owned());
        let body = expect_json(app.upload_form("airline-importer", Form::new().part("file", part)), 202);
        assert_eq!(body["data"]["original_filename"], name, "the name is kept as a label: {body}");
        let run = app.wait_for_run(run_id(&body["data"]));
        assert_eq!(run["status"], "completed", "{name}: run {run}");
    }

    assert!(!app.dir().join("escaped.csv").exists(), "../../ escaped the uploads directory");
    assert!(!app.storage_dir().join("escaped.csv").exists(), "../../ escaped the uploads directory");
    assert!(!Path::new("/tmp/ingest-absolute-upload.csv").exists(), "an absolute name was written");
    assert!(!app.storage_dir().join("uploads/sub").exists(), "a name with slashes made a directory");
    for stored in stored_files(&app) {
        let generated = stored.len() == 31
            && stored.as_bytes()[14] == b'-'
            && stored.bytes().all(|byte| byte.is_ascii_hexdigit() || byte == b'-');
        assert!(generated, "a stored file has a name the server did not generate: {stored}");
    }
}

#[test]
fn unclosed_quote_fails_its_row() {
    let app = TestApp::start(&["airline-importer"]);
    let file = app.dir().join("airlines-unclosed.csv");
    std::fs::write(&file, "carrier,name\nAA,American Airlines Inc.\nUA,\"United Air Lines Inc.\nWN,Southwest Airlines Co.\n")
        .unwrap();

    let run = app.import("airline-importer", &file);

    assert_eq!(run["status"], "completed_with_errors", "run {run}");
    assert_eq!(run["progress"]["successful"], 1, "run {run}");
    assert_eq!(run["progress"]["failed"], 1, "run {run}");
    let failed = &run["rows"][0];
    assert_eq!(failed["row_number"], 2, "row {failed}");
    let message = failed["errors"]["message"].as_str().unwrap_or_else(|| panic!("no message in {failed}"));
    assert!(message.contains("row 2 (line 3)"), "{message}");
    assert!(message.contains("closing quote is missing"), "{message}");
}

#[test]
fn wide_header_row_imports() {
    let app = TestApp::start(&["airline-importer"]);
    let file = app.dir().join("airlines-wide.csv");
    // 50,000 more columns, all named alike, which the host renames x_2, x_3, … and the
    // importer checks for repeats.
    let columns = 50_000;
    let (headers, cells) = (",x".repeat(columns), ",".repeat(columns));
    std::fs::write(&file, format!("carrier,name{headers}\nAA,American Airlines Inc.{cells}\nUA,United Air Lines Inc.{cells}\n"))
        .unwrap();

    let started = std::time::Instant::now();
    let run = app.import("airline-importer", &file);
    let took = started.elapsed();

    assert_eq!(run["status"], "completed", "run {run}");
    assert_eq!(run["progress"]["successful"], 2, "run {run}");
    assert!(took < std::time::Duration::from_secs(30), "the import took {took:?}");
}
