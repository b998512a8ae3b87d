//! Several server nodes on one database: each run is claimed by one node at a time,
//! processed exactly once, and taken over by another node when its node dies or loses
//! its lease.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ingest_e2e::{TestApp, write_airports_csv_from};
use serde_json::Value;

/// A short lease, so a dead node's runs are taken over within seconds.
const LEASE_SECONDS: &str = "2";
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

/// Starts a node with one worker, so that concurrent runs spread over the nodes.
fn start_first_node() -> TestApp {
    TestApp::builder()
        .importers(&["airport-importer"])
        .env("INGEST_WORKERS", "1")
        .env("INGEST_LEASE_SECONDS", LEASE_SECONDS)
        .start()
}

/// Writes `files` airport files of `rows` rows each, with key ranges that do not overlap.
fn write_files(app: &TestApp, files: u64, rows: u64) -> Vec<std::path::PathBuf> {
    (0..files)
        .map(|index| {
            let path = app.dir().join(format!("airports-{index}.csv"));
            write_airports_csv_from(&path, index * rows, rows);
            path
        })
        .collect()
}

fn progress(run: &Value, field: &str) -> i64 {
    run["progress"][field].as_i64().unwrap_or_else(|| panic!("progress.{field} is not an integer: {run}"))
}

/// Asserts that the run imported each of its rows once: completed, with every counter
/// equal to `rows`.
fn assert_imported_once(run: &Value, rows: i64) {
    assert_eq!(run["status"], "completed", "run {run}");
    assert_eq!(progress(run, "total"), rows, "run {run}");
    assert_eq!(progress(run, "processed"), rows, "rows processed twice or lost: {run}");
    assert_eq!(progress(run, "successful"), rows, "run {run}");
    assert_eq!(progress(run, "failed"), 0, "run {run}");
}

/// Counts `run started` lines per run over the logs of `nodes`.
fn starts_by_run(nodes: &[&TestApp]) -> BTreeMap<i64, usize> {
    let mut starts = BTreeMap::new();
    for node in nodes {
        for start in node.run_starts() {
            *starts.entry(start.run_id).or_insert(0) += 1;
        }
    }
    starts
}

/// Polls `sql` (selecting one integer `n`) until it is positive; panics after `timeout`.
fn wait_until_positive(app: &TestApp, sql: &str, description: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while app.query_count(sql) <= 0 {
        assert!(Instant::now() < deadline, "timed out after {} s waiting until {description}", timeout.as_secs());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn two_nodes_process_each_run_once() {
    const FILES: u64 = 6;
    const ROWS: u64 = 10_000;
    let first = start_first_node();
    let second = first.start_node();
    let files = write_files(&first, FILES, ROWS);

    let ids: Vec<i64> = files
        .iter()
        .enumerate()
        .map(|(index, file)| {
            let node = if index % 2 == 0 { &first } else { &second };
            node.start_run("airport-importer", file)
        })
        .collect();

    for &id in &ids {
        let run = first.wait_for_run_until(id, "the run ends", RUN_TIMEOUT, |_| false);
        assert_imported_once(&run, ROWS as i64);
    }
    assert_eq!(first.count_rows("airports"), (FILES * ROWS) as i64);

    let starts = starts_by_run(&[&first, &second]);
    for &id in &ids {
        assert_eq!(starts.get(&id), Some(&1), "run {id} is started by exactly one node: {starts:?}");
    }
    assert!(!first.run_starts().is_empty(), "the first node processed some runs: {starts:?}");
    assert!(!second.run_starts().is_empty(), "the second node processed some runs: {starts:?}");
}

#[test]
fn killed_node_runs_are_taken_over() {
    // Runs of about a second each on SQLite, so the kill comes in the middle of one.
    const FILES: u64 = 3;
    const ROWS: u64 = 500_000;
    let first = start_first_node();
    let mut second = first.start_node();
    let files = write_files(&first, FILES, ROWS);

    let ids: Vec<i64> = files.iter().map(|file| second.start_run("airport-importer", file)).collect();
    let owned_by_second = format!(
        "SELECT COUNT(*) AS n FROM ingest_runs \
         WHERE status = 'processing' AND lease_owner LIKE '{}-%' AND processed_rows > 0",
        second.pid()
    );
    wait_until_positive(&first, &owned_by_second, "the second node has committed rows of a run", RUN_TIMEOUT);
    second.kill();

    for &id in &ids {
        let run = first.wait_for_run_until(id, "the run ends", RUN_TIMEOUT, |_| false);
        assert_imported_once(&run, ROWS as i64);
    }
    assert_eq!(first.count_rows("airports"), (FILES * ROWS) as i64);
    let resumed = first.run_starts().into_iter().filter(|start| start.resumed_at_row > 0).count();
    assert!(resumed >= 1, "the first node resumed the run the second node had begun: {:?}", first.run_starts());
}

#[test]
fn node_that_lost_its_lease_stops_writing() {
    // A run of a few seconds, so it is still processing when its lease is taken.
    const ROWS: u64 = 1_000_000;
    let app = start_first_node();
    let file = app.dir().join("airports.csv");
    write_airports_csv_from(&file, 0, ROWS);

    let id = app.start_run("airport-importer", &file);
    app.wait_for_run_until(id, "rows are committed", RUN_TIMEOUT, |run| {
        run["progress"]["processed"].as_i64().is_some_and(|processed| processed > 0)
    });
    // Another node takes the run over, as it would once the lease ran out.
    let stolen = app.database().execute(&format!(
        "UPDATE ingest_runs SET lease_owner = 'other-node', lease_expires_at = '9999-12-31T00:00:00.000000Z' \
         WHERE id = {id} AND status = 'processing'"
    ));
    assert_eq!(stolen, 1, "run {id} was still processing");

    let deadline = Instant::now() + Duration::from_secs(30);
    while !app.server_log().contains("another node took it over") {
        assert!(Instant::now() < deadline, "the node did not notice that it lost the lease within 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    let processed = format!("SELECT processed_rows AS n FROM ingest_runs WHERE id = {id}");
    let processed_after_loss = app.query_count(&processed);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(app.query_count(&processed), processed_after_loss, "the node committed chunks after it lost the lease");
    let successful = app.query_count(&format!("SELECT successful_rows AS n FROM ingest_runs WHERE id = {id}"));
    assert_eq!(app.count_rows("airports"), successful, "the table holds exactly the committed chunks");
    assert_eq!(app.run(id)["status"], "processing", "the run stays with its new owner");

    // The other node dies: its lease runs out and a worker takes the run back.
    app.database().execute(&format!(
        "UPDATE ingest_runs SET lease_expires_at = '2000-01-01T00:00:00.000000Z' WHERE id = {id}"
    ));
    let run = app.wait_for_run_until(id, "the run ends", RUN_TIMEOUT, |_| false);

    assert_imported_once(&run, ROWS as i64);
    assert_eq!(app.count_rows("airports"), ROWS as i64);
}
