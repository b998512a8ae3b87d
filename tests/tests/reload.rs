//! Hot reload of the plugins directory while the server runs: importers are added,
//! replaced and removed under runs in flight, and broken, duplicate or half-written files
//! never replace the version that serves.
//!
//! The test importer `swap-importer` is built twice, as version 1.0.0 (crate
//! `swap-importer-v1`) and 2.0.0 (crate `swap-importer-v2`), and stores in each row the
//! version that imported it.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ingest_e2e::{RUN_TIMEOUT, TestApp, expect_json, importer_entry, is_api_timestamp, rejected_entry, test_importer_wasm};
use serde_json::Value;

const SLUG: &str = "swap-importer";

/// The file name the tests install `swap-importer` under.
const FILE: &str = "swap_importer.wasm";

/// Maximum time from a change of the plugins directory to `GET /importers` showing it.
/// The server takes a fraction of a second, as `plugin-bench` measures. The margin is
/// for machines busy with the other tests.
const RELOAD_TIMEOUT: Duration = Duration::from_secs(15);

/// Time a test waits to show that something does not happen: several times the
/// server's 150 ms debounce.
const QUIET: Duration = Duration::from_secs(1);

/// Rows of the file whose run must still be in flight after a reload and another run.
/// SQLite imported 1M of these rows in 1.8 s on a 2-CPU machine, too fast for the reload
/// and the short run to happen under it.
const LONG_RUN_ROWS: u64 = 4_000_000;

fn v1() -> PathBuf {
    test_importer_wasm("swap-importer-v1")
}

fn v2() -> PathBuf {
    test_importer_wasm("swap-importer-v2")
}

/// Starts a server with an empty plugins directory and up to 2 runs at a time.
fn start_empty() -> TestApp {
    TestApp::builder().env("INGEST_WORKERS", "2").start()
}

/// Starts a server, installs version 1.0.0 as [`FILE`] and waits until it serves.
fn start_with_v1() -> TestApp {
    let app = start_empty();
    app.install_importer(&v1(), FILE);
    wait_for_version(&app, "1.0.0");
    app
}

/// Waits until `GET /importers` lists `swap-importer` at `version` and returns its entry.
fn wait_for_version(app: &TestApp, version: &str) -> Value {
    let body = app.wait_for_importers(&format!("{SLUG} {version} serves"), RELOAD_TIMEOUT, |body| {
        importer_entry(body, SLUG).is_some_and(|entry| entry["version"] == version)
    });
    importer_entry(&body, SLUG).cloned().expect("checked by the wait")
}

/// Returns the entry of `swap-importer` in `GET /importers`, or panics when it is not listed.
fn current_entry(app: &TestApp) -> Value {
    let body = expect_json(app.get("/importers"), 200);
    importer_entry(&body, SLUG).cloned().unwrap_or_else(|| panic!("{SLUG} is not listed: {body}"))
}

/// Writes a `number,name` file with the numbers `first..first + rows`.
fn write_rows(path: &Path, first: u64, rows: u64) {
    let file = std::fs::File::create(path).unwrap_or_else(|error| panic!("cannot create {}: {error}", path.display()));
    let mut writer = BufWriter::new(file);
    let mut write = || -> std::io::Result<()> {
        writeln!(writer, "number,name")?;
        for number in first..first + rows {
            writeln!(writer, "{number},row {number}")?;
        }
        writer.flush()
    };
    write().unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
}

/// Imports 10 rows numbered from `first` and returns the ended run.
fn import_small(app: &TestApp, first: u64) -> Value {
    let file = app.dir().join(format!("small-{first}.csv"));
    write_rows(&file, first, 10);
    app.import(SLUG, &file)
}

/// Counts the rows of `swap_rows` whose number is in `numbers` and whose version is `version`.
fn rows_with_version(app: &TestApp, numbers: std::ops::Range<u64>, version: &str) -> i64 {
    app.query_count(&format!(
        "SELECT COUNT(*) AS n FROM swap_rows WHERE number >= {} AND number < {} AND version = '{version}'",
        numbers.start, numbers.end
    ))
}

/// Starts a run over [`LONG_RUN_ROWS`] rows numbered from 1, waits until it has
/// committed rows and returns its id.
fn start_long_run(app: &TestApp) -> i64 {
    let file = app.dir().join("long.csv");
    write_rows(&file, 1, LONG_RUN_ROWS);
    let id = app.start_run(SLUG, &file);
    let run = app.wait_for_run_until(id, "the long run has committed rows", RUN_TIMEOUT, |run| {
        run["status"] == "processing" && run["progress"]["processed"].as_u64().is_some_and(|processed| processed > 0)
    });
    assert_eq!(run["status"], "processing", "the long run must be in flight: {run}");
    id
}

/// Asserts that run `id` is still processing, and returns how many rows it has processed.
fn assert_in_flight(app: &TestApp, id: i64) -> u64 {
    let run = app.run(id);
    assert_eq!(
        run["status"], "processing",
        "the long run ended too early to show a change under it; raise LONG_RUN_ROWS: {run}"
    );
    run["progress"]["processed"].as_u64().expect("progress.processed is an integer")
}

#[test]
fn added_file_is_served() {
    let app = start_empty();

    let installed = Instant::now();
    app.install_importer(&v1(), FILE);
    let entry = wait_for_version(&app, "1.0.0");
    eprintln!("{SLUG} 1.0.0 served {:?} after its file was installed", installed.elapsed());

    assert!(entry["file"].as_str().is_some_and(|file| file.ends_with(FILE)), "file of {entry}");
    assert!(entry["loaded_at"].as_str().is_some_and(is_api_timestamp), "loaded_at of {entry}");
    assert_eq!(entry["last_error"], Value::Null, "last_error of {entry}");
    assert_eq!(entry["compilation"], "compiled", "compilation of {entry}");
    assert!(entry["load_ms"].as_u64().is_some(), "load_ms of {entry}");
    let run = import_small(&app, 1);
    assert_eq!(run["status"], "completed", "run {run}");
    assert_eq!(run["importer_version"], "1.0.0", "run {run}");
    assert_eq!(rows_with_version(&app, 1..11, "1.0.0"), 10);
}

#[test]
fn replaced_file_serves_new_runs() {
    let app = start_with_v1();

    let replaced = Instant::now();
    app.install_importer(&v2(), FILE);
    let entry = wait_for_version(&app, "2.0.0");
    eprintln!("{SLUG} 2.0.0 served {:?} after its file replaced 1.0.0", replaced.elapsed());

    assert_eq!(entry["last_error"], Value::Null, "last_error of {entry}");
    let run = import_small(&app, 1);
    assert_eq!(run["importer_version"], "2.0.0", "run {run}");
    assert_eq!(rows_with_version(&app, 1..11, "2.0.0"), 10);
}

#[test]
fn replacement_during_long_run_keeps_its_version() {
    let app = start_with_v1();
    let long = start_long_run(&app);

    app.install_importer(&v2(), FILE);
    wait_for_version(&app, "2.0.0");
    let processed_at_swap = assert_in_flight(&app, long);
    let short = import_small(&app, LONG_RUN_ROWS + 1);
    assert_in_flight(&app, long);
    let long_run = app.wait_for_run(long);

    assert_eq!(short["status"], "completed", "the run started after the swap {short}");
    assert_eq!(short["importer_version"], "2.0.0", "the run started after the swap {short}");
    assert_eq!(rows_with_version(&app, LONG_RUN_ROWS + 1..LONG_RUN_ROWS + 11, "2.0.0"), 10);
    assert_eq!(long_run["status"], "completed", "the long run {long_run}");
    assert_eq!(long_run["importer_version"], "1.0.0", "the long run {long_run}");
    assert!(
        processed_at_swap < LONG_RUN_ROWS,
        "the long run had processed {processed_at_swap} rows when 2.0.0 served"
    );
    let long_rows = 1..LONG_RUN_ROWS + 1;
    assert_eq!(rows_with_version(&app, long_rows.clone(), "1.0.0"), LONG_RUN_ROWS as i64);
    assert_eq!(rows_with_version(&app, long_rows, "2.0.0"), 0);
}

#[test]
fn removal_stops_new_runs_only() {
    let app = start_with_v1();
    let long = start_long_run(&app);

    app.remove_importer(FILE);
    app.wait_for_importers(&format!("{SLUG} is no longer listed"), RELOAD_TIMEOUT, |body| {
        importer_entry(body, SLUG).is_none()
    });
    assert_in_flight(&app, long);
    let file = app.dir().join("after-removal.csv");
    write_rows(&file, 1, 1);
    let upload = app.upload(SLUG, &file, false);
    let long_run = app.wait_for_run(long);

    assert_eq!(upload.status().as_u16(), 404, "an upload to the removed importer");
    assert_eq!(long_run["status"], "completed", "the long run {long_run}");
    assert_eq!(rows_with_version(&app, 1..LONG_RUN_ROWS + 1, "1.0.0"), LONG_RUN_ROWS as i64);
}

#[test]
fn broken_replacement_keeps_serving_version() {
    let app = start_with_v1();
    let before = current_entry(&app);

    std::fs::write(app.plugins_dir().join(FILE), b"\0asm but not a component").expect("cannot overwrite the importer");
    let body = app.wait_for_importers("the broken file is reported", RELOAD_TIMEOUT, |body| {
        importer_entry(body, SLUG).is_some_and(|entry| !entry["last_error"].is_null())
    });
    let entry = importer_entry(&body, SLUG).expect("checked by the wait");
    let run = import_small(&app, 1);

    assert_eq!(entry["version"], "1.0.0", "the version served before stays: {entry}");
    assert_eq!(entry["loaded_at"], before["loaded_at"], "the version served before stays: {entry}");
    let error = entry["last_error"].as_str().unwrap_or_default();
    assert!(error.contains(&format!("{FILE}: cannot compile the component:")), "{error}");
    assert!(rejected_entry(&body, FILE).is_some(), "the broken file is listed as rejected: {body}");
    assert_eq!(run["importer_version"], "1.0.0", "run {run}");

    app.install_importer(&v2(), FILE);
    let fixed = wait_for_version(&app, "2.0.0");
    assert_eq!(fixed["last_error"], Value::Null, "a good file clears the error: {fixed}");
}

#[test]
fn duplicate_slug_is_rejected_until_freed() {
    let app = start_with_v1();

    app.install_importer(&v2(), "other.wasm");
    let body = app.wait_for_importers("other.wasm is rejected", RELOAD_TIMEOUT, |body| {
        rejected_entry(body, "other.wasm").is_some()
    });

    let error = rejected_entry(&body, "other.wasm").expect("checked by the wait")["error"].as_str().unwrap_or_default();
    assert!(error.contains(&format!("slug {SLUG} is already served by ")), "{error}");
    assert!(error.contains(FILE), "the error names the file that serves the slug: {error}");
    assert_eq!(importer_entry(&body, SLUG).expect("still listed")["version"], "1.0.0", "importers {body}");

    app.remove_importer(FILE);
    let entry = wait_for_version(&app, "2.0.0");
    assert!(entry["file"].as_str().is_some_and(|file| file.ends_with("other.wasm")), "file of {entry}");
    let body = expect_json(app.get("/importers"), 200);
    assert_eq!(body["rejected"], Value::Array(Vec::new()), "importers {body}");
}

/// Writes `bytes` to `path` in two halves, keeping the file open for longer than
/// [`QUIET`] between them, and calls `between` while the file is half written.
fn write_in_two_pieces(path: &Path, bytes: &[u8], between: impl FnOnce()) {
    let mut file = std::fs::File::create(path).unwrap_or_else(|error| panic!("cannot create {}: {error}", path.display()));
    let (first, second) = bytes.split_at(bytes.len() / 2);
    file.write_all(first).expect("cannot write the first half");
    file.flush().expect("cannot flush the first half");
    std::thread::sleep(QUIET);
    between();
    file.write_all(second).expect("cannot write the second half");
}

#[test]
fn half_written_file_is_never_loaded() {
    let app = start_empty();
    let bytes = std::fs::read(v1()).expect("cannot read swap-importer 1.0.0");

    write_in_two_pieces(&app.plugins_dir().join(FILE), &bytes, || {
        let body = expect_json(app.get("/importers"), 200);
        assert!(importer_entry(&body, SLUG).is_none(), "a half-written file was loaded: {body}");
        if cfg!(target_os = "linux") {
            // inotify reports the close, so the server waits for it instead of trying.
            assert_eq!(body["rejected"], Value::Array(Vec::new()), "a half-written file was tried: {body}");
        }
    });
    let entry = wait_for_version(&app, "1.0.0");

    assert_eq!(entry["last_error"], Value::Null, "entry {entry}");
    assert_eq!(import_small(&app, 1)["status"], "completed");
}

#[test]
fn half_written_replacement_keeps_serving_version() {
    let app = start_with_v1();
    let bytes = std::fs::read(v2()).expect("cannot read swap-importer 2.0.0");

    write_in_two_pieces(&app.plugins_dir().join(FILE), &bytes, || {
        let entry = current_entry(&app);
        assert_eq!(entry["version"], "1.0.0", "the version served before stays while the file is written: {entry}");
        if cfg!(target_os = "linux") {
            assert_eq!(entry["last_error"], Value::Null, "a half-written file was tried: {entry}");
        }
        assert_eq!(import_small(&app, 1)["importer_version"], "1.0.0");
    });
    let entry = wait_for_version(&app, "2.0.0");

    assert_eq!(entry["last_error"], Value::Null, "entry {entry}");
}

#[test]
fn unchanged_rewrite_is_not_reloaded() {
    let app = start_with_v1();
    let before = current_entry(&app);

    std::fs::write(app.plugins_dir().join(FILE), std::fs::read(v1()).expect("cannot read 1.0.0"))
        .expect("cannot rewrite the importer");
    // The server reloads changed files in the order their changes settle, so once a file
    // added later serves, the rewrite has been handled. The pause keeps the two changes
    // from settling together.
    std::thread::sleep(QUIET);
    app.install_importer(&test_importer_wasm("panic-importer"), "sentinel.wasm");
    app.wait_for_importers("the sentinel serves", RELOAD_TIMEOUT, |body| importer_entry(body, "panic-importer").is_some());
    let after = current_entry(&app);

    assert_eq!(after["loaded_at"], before["loaded_at"], "the same bytes are not loaded again: {after}");
    assert_eq!(after["last_error"], Value::Null, "entry {after}");
}

#[test]
fn restart_reuses_compiled_code() {
    let mut app = TestApp::builder().test_importers(&["swap-importer-v1"]).start();
    assert_eq!(current_entry(&app)["compilation"], "compiled");

    app.restart();
    let entry = current_entry(&app);

    assert_eq!(entry["compilation"], "disk_cache", "a restart with the same file compiles nothing: {entry}");
    assert_eq!(entry["version"], "1.0.0");
}
