//! Hostile importers (crates of `tests/importers/`) against the sandbox: each fails its
//! run, or only its rows, with a message that names the importer, its version and the
//! limit it hit, while the server keeps responding and other runs finish.

use std::io::ErrorKind;
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ingest_e2e::{RUN_TIMEOUT, TestApp, data_file, expect_json, rejected_entry};
use serde_json::Value;

/// The time limit of one call in these tests. Runs of a stuck importer last this long,
/// and another run must finish within it.
const TIMEOUT_MS: u64 = 5000;

/// The memory limit in these tests: 64 MiB, a quarter of the default.
const MEMORY_BYTES: u64 = 64 << 20;

/// Maximum time `GET /health` may take while an importer is stuck.
const HEALTH_MAX: Duration = Duration::from_secs(1);

/// Starts a server with the test importers `names`, the airline importer for the runs
/// that must finish meanwhile, and the limits above.
fn start(names: &[&str]) -> TestApp {
    TestApp::builder()
        .importers(&["airline-importer"])
        .test_importers(names)
        .env("INGEST_IMPORTER_TIMEOUT_MS", &TIMEOUT_MS.to_string())
        .env("INGEST_IMPORTER_MEMORY_BYTES", &MEMORY_BYTES.to_string())
        .env("INGEST_WORKERS", "2")
        .start()
}

/// Writes `text` to the file `name` in the test's directory and returns its path.
fn write_file(app: &TestApp, name: &str, text: &str) -> PathBuf {
    let path = app.dir().join(name);
    std::fs::write(&path, text).unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
    path
}

/// Checks, while run `stuck` is processing, that the server responds quickly and that an
/// airline import finishes before `stuck` does.
fn assert_server_serves_meanwhile(app: &TestApp, stuck: i64) {
    let running = app.wait_for_run_until(stuck, "the run is processing", RUN_TIMEOUT, |run| run["status"] == "processing");
    assert_eq!(running["status"], "processing", "run {running}");

    let asked = Instant::now();
    let health = app.send(app.client().get(app.url("/health")));
    assert_eq!(health.status().as_u16(), 200, "GET /health while an importer is stuck");
    assert!(asked.elapsed() < HEALTH_MAX, "GET /health took {:?} while an importer is stuck", asked.elapsed());

    let other = app.import("airline-importer", &data_file("airlines.csv"));
    assert_eq!(other["status"], "completed", "the other run {other}");
    assert_eq!(other["progress"]["successful"], 16, "the other run {other}");

    let still = app.run(stuck);
    assert_eq!(still["status"], "processing", "the stuck run must still be processing after the other run: {still}");
}

/// Returns the stored rows of a run, from `GET /{id}`.
fn stored_rows(run: &Value) -> &Vec<Value> {
    run["rows"].as_array().unwrap_or_else(|| panic!("the run has no rows array: {run}"))
}

fn error_of(run: &Value) -> &str {
    run["error"].as_str().unwrap_or_else(|| panic!("the failed run has no error message: {run}"))
}

#[test]
fn spinning_importer_hits_time_limit() {
    let app = start(&["loop-importer"]);
    let file = write_file(&app, "spin.csv", "number,mode\n1,ok\n2,spin\n3,ok\n");

    let id = app.start_run("loop-importer", &file);
    assert_server_serves_meanwhile(&app, id);
    let run = app.wait_for_run(id);

    assert_eq!(run["status"], "failed", "run {run}");
    assert_eq!(
        error_of(&run),
        format!(
            "importer loop-importer@0.1.0 ran longer than its limit of {TIMEOUT_MS} ms for one call \
             (INGEST_IMPORTER_TIMEOUT_MS) and was stopped"
        )
    );
    assert_eq!(run["progress"]["successful"], 0, "run {run}");
}

#[test]
fn sleeping_importer_hits_time_limit() {
    let app = start(&["loop-importer"]);
    let file = write_file(&app, "sleep.csv", "number,mode\n1,ok\n2,sleep\n");

    let started = Instant::now();
    let id = app.start_run("loop-importer", &file);
    assert_server_serves_meanwhile(&app, id);
    let run = app.wait_for_run(id);

    assert_eq!(run["status"], "failed", "run {run}");
    assert!(error_of(&run).starts_with("importer loop-importer@0.1.0 ran longer than its limit of"), "run {run}");
    // The importer sleeps an hour at a time, and the sandbox ends its sleep at the deadline.
    assert!(started.elapsed() < Duration::from_secs(60), "the run took {:?}", started.elapsed());
}

#[test]
fn memory_hog_hits_memory_limit() {
    let app = start(&["memory-hog-importer"]);
    let file = write_file(&app, "grow.csv", "number,mode\n1,ok\n2,grow\n3,ok\n");

    let run = app.import("memory-hog-importer", &file);

    assert_eq!(run["status"], "failed", "run {run}");
    assert_eq!(
        error_of(&run),
        "importer memory-hog-importer@0.1.0 needed more than its memory limit of 64 MiB \
         (INGEST_IMPORTER_MEMORY_BYTES=67108864) and was stopped"
    );
    let other = app.import("airline-importer", &data_file("airlines.csv"));
    assert_eq!(other["status"], "completed", "a run after the memory fault {other}");
}

#[test]
fn memory_hog_rows_below_limit_import() {
    let app = start(&["memory-hog-importer"]);
    let file = write_file(&app, "calm.csv", "number,mode\n1,ok\n2,ok\n");

    let run = app.import("memory-hog-importer", &file);

    assert_eq!(run["status"], "completed", "run {run}");
    assert_eq!(app.count_rows("memory_hog_rows"), 2);
}

#[test]
fn panicking_rows_fail_alone() {
    let app = start(&["panic-importer"]);
    let mut text = String::from("number,word\n");
    for number in 1..=40 {
        let word = if number == 7 || number == 31 { "boom" } else { "calm" };
        text.push_str(&format!("{number},{word}\n"));
    }
    let file = write_file(&app, "panic.csv", &text);

    let run = app.import("panic-importer", &file);

    assert_eq!(run["status"], "completed_with_errors", "run {run}");
    assert_eq!(run["progress"]["successful"], 38, "run {run}");
    assert_eq!(run["progress"]["failed"], 2, "run {run}");
    assert_eq!(app.count_rows("panic_rows"), 38);
    let rows = stored_rows(&run);
    let row_numbers: Vec<i64> = rows.iter().filter_map(|row| row["row_number"].as_i64()).collect();
    assert_eq!(row_numbers, [7, 31], "failed rows {rows:?}");
    for row in rows {
        let number = row["row_number"].as_i64().expect("row_number is an integer");
        let message = row["errors"]["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with("importer panic-importer@0.1.0 crashed on this row: panicked at "),
            "message of row {number}: {message}"
        );
        assert!(message.ends_with(&format!("row {number} contains the word boom")), "message of row {number}: {message}");
    }
}

#[test]
fn wrong_outcome_count_fails_run() {
    let app = start(&["malformed-importer"]);
    let file = write_file(&app, "count.csv", "number,mode\n1,count\n2,x\n3,x\n");

    let run = app.import("malformed-importer", &file);

    assert_eq!(run["status"], "failed", "run {run}");
    assert_eq!(
        error_of(&run),
        "importer malformed-importer@0.1.0 returned malformed output: 2 outcomes for a chunk of 3 rows"
    );
}

#[test]
fn broken_cell_offsets_fail_run() {
    let app = start(&["malformed-importer"]);
    let file = write_file(&app, "offsets.csv", "number,mode\n1,offsets\n2,x\n");

    let run = app.import("malformed-importer", &file);

    assert_eq!(run["status"], "failed", "run {run}");
    let error = error_of(&run);
    let expected = "importer malformed-importer@0.1.0 returned malformed output: records of target malformed_rows: \
                    cell 0 ends at byte";
    assert!(error.starts_with(expected), "{error}");
}

#[test]
fn undeclared_record_target_fails_run() {
    let app = start(&["malformed-importer"]);
    let file = write_file(&app, "target.csv", "number,mode\n1,target\n2,x\n");

    let run = app.import("malformed-importer", &file);

    assert_eq!(run["status"], "failed", "run {run}");
    assert_eq!(
        error_of(&run),
        "importer malformed-importer@0.1.0 returned malformed output: a record goes to the undeclared target 1; \
         the description declares targets 0 to 0"
    );
    assert_eq!(app.count_rows("malformed_rows"), 0, "nothing of the chunk is written");
}

#[test]
fn wrong_value_types_fail_rows() {
    let app = start(&["malformed-importer"]);
    let file = write_file(&app, "type.csv", "number,mode\n1,type\n2,x\n");

    let run = app.import("malformed-importer", &file);

    assert_eq!(run["status"], "completed_with_errors", "run {run}");
    assert_eq!(run["progress"]["failed"], 2, "run {run}");
    for row in stored_rows(&run) {
        let message = row["errors"]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with("importer malformed-importer@0.1.0 returned a text value"), "{message}");
        assert!(message.ends_with("column number"), "{message}");
    }
    assert_eq!(app.count_rows("malformed_rows"), 0);
}

#[test]
fn well_formed_raw_output_imports() {
    let app = start(&["malformed-importer"]);
    let file = write_file(&app, "ok.csv", "number,mode\n1,ok\n2,x\n");

    let run = app.import("malformed-importer", &file);

    assert_eq!(run["status"], "completed", "run {run}");
    assert_eq!(app.count_rows("malformed_rows"), 2);
}

#[test]
fn file_and_socket_access_is_denied() {
    let app = start(&["escape-importer"]);
    let secret = "the secret is 4217";
    let secret_file = write_file(&app, "secret.txt", secret);
    let listener = TcpListener::bind("127.0.0.1:0").expect("cannot bind a local port");
    listener.set_nonblocking(true).expect("cannot make the listener non-blocking");
    let address = listener.local_addr().expect("a bound listener has an address");
    let file = write_file(&app, "escape.csv", &format!("number,path,address\n1,{},{address}\n", secret_file.display()));

    let run = app.import("escape-importer", &file);

    assert_eq!(run["status"], "completed_with_errors", "run {run}");
    assert_eq!(run["progress"]["failed"], 1, "run {run}");
    let errors = &stored_rows(&run)[0]["errors"];
    let file_error = errors["validation"]["file_content"][0].as_str().unwrap_or_default();
    let socket_error = errors["validation"]["connection"][0].as_str().unwrap_or_default();
    assert!(file_error.starts_with(&format!("reading {} failed:", secret_file.display())), "{errors}");
    assert!(socket_error.starts_with(&format!("connecting to {address} failed:")), "{errors}");
    assert!(!run.to_string().contains(secret), "the secret leaked into the run: {run}");
    match listener.accept() {
        Err(error) if error.kind() == ErrorKind::WouldBlock => {}
        Ok((_, peer)) => panic!("the importer connected to the test's listener from {peer}"),
        Err(error) => panic!("accept failed: {error}"),
    }
    assert!(!app.table_exists("escape_rows") || app.count_rows("escape_rows") == 0, "nothing is imported");
}

#[test]
fn failing_describe_is_rejected_at_load() {
    let app = start(&["describe-error-importer"]);

    let body = expect_json(app.get("/importers"), 200);

    let rejected = rejected_entry(&body, "describe_error_importer.wasm")
        .unwrap_or_else(|| panic!("describe_error_importer.wasm is not rejected: {body}"));
    let error = rejected["error"].as_str().unwrap_or_default();
    assert!(error.ends_with(
        "describe_error_importer.wasm: describe returned an error: The description of importer \
         \"describe-error-importer\" is invalid: The key column \"missing_column\" is not a declared column."
    ), "{error}");
    assert!(!body["data"].to_string().contains("describe-error-importer"), "importers {body}");
    let upload = app.upload("describe-error-importer", &data_file("airlines.csv"), false);
    assert_eq!(upload.status().as_u16(), 404, "an upload to an importer that was never registered");
}

#[test]
fn unsupported_contract_is_rejected_at_load() {
    let app = start(&["contract-v2-importer"]);

    let body = expect_json(app.get("/importers"), 200);

    let rejected = rejected_entry(&body, "contract_v2_importer.wasm")
        .unwrap_or_else(|| panic!("contract_v2_importer.wasm is not rejected: {body}"));
    let error = rejected["error"].as_str().unwrap_or_default();
    assert!(error.ends_with(
        "contract_v2_importer.wasm: it exports the importer interface of ingest:importer@0.2.0, but this host \
         supports only ingest:importer@0.1.0; rebuild it with an SDK for a supported version"
    ), "{error}");
    assert!(!body["data"].to_string().contains("contract-v2-importer"), "importers {body}");
}

#[test]
fn hostile_runs_leave_good_runs_intact() {
    let app = start(&["loop-importer", "panic-importer", "malformed-importer"]);
    let spin = write_file(&app, "spin.csv", "number,mode\n1,spin\n");
    let panic = write_file(&app, "panic.csv", "number,word\n1,boom\n2,calm\n");
    let count = write_file(&app, "count.csv", "number,mode\n1,count\n");

    let stuck = app.start_run("loop-importer", &spin);
    let hostile = [app.start_run("panic-importer", &panic), app.start_run("malformed-importer", &count)];
    let good = app.import("airline-importer", &data_file("airlines.csv"));

    assert_eq!(good["status"], "completed", "run {good}");
    assert_eq!(app.count_rows("airlines"), 16);
    let statuses: Vec<Value> = hostile.iter().map(|&id| app.wait_for_run(id)["status"].clone()).collect();
    assert_eq!(statuses, ["completed_with_errors", "failed"], "the panicking and the malformed run");
    assert_eq!(app.wait_for_run(stuck)["status"], "failed");
}
