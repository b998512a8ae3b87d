//! Stopping a server with SIGTERM. It logs the runs it waits for, stops them at a chunk
//! boundary with their leases released, and exits within its grace period. A restarted
//! server resumes the runs from their last committed chunk.

use std::time::Duration;

use ingest_e2e::{RUN_TIMEOUT, TestApp, write_airports_csv};

/// Long enough that the run is still processing when the signal arrives.
const ROWS: u64 = 500_000;

/// A lease far longer than the test waits, so that only a released lease lets the
/// restarted server resume the run.
const LEASE_SECONDS: &str = "600";

#[test]
fn terminated_server_stops_runs_resumably() {
    let mut app = TestApp::builder()
        .importers(&["airport-importer"])
        .env("INGEST_LEASE_SECONDS", LEASE_SECONDS)
        .start();
    let file = app.dir().join("airports-large.csv");
    write_airports_csv(&file, ROWS);
    let id = app.start_run("airport-importer", &file);
    let running = app.wait_for_run_until(id, "the run has processed rows", RUN_TIMEOUT, |run| {
        run["status"] == "processing" && run["progress"]["processed"].as_u64().is_some_and(|processed| processed > 0)
    });
    assert_eq!(running["status"], "processing", "the run must still be processing at the signal: {running}");

    let (took, code) = app.terminate(Duration::from_secs(30));

    assert_eq!(code, Some(0), "the server exits cleanly after {took:?}");
    let log = app.server_log();
    let shutting_down = log.lines().find(|line| line.contains("shutting down")).unwrap_or_else(|| panic!("{log}"));
    assert!(shutting_down.contains(&format!("run_ids=[{id}]")), "the shutdown names the run: {shutting_down}");
    assert!(log.contains("run stopped for the shutdown"), "{log}");
    assert!(log.contains("server stopped"), "{log}");
    let stopped = app.query_count(&format!(
        "SELECT COUNT(*) AS n FROM ingest_runs WHERE id = {id} AND status = 'processing' AND lease_owner IS NULL"
    ));
    assert_eq!(stopped, 1, "the run stays processing with its lease released");
    let committed = app.query_count(&format!("SELECT processed_rows AS n FROM ingest_runs WHERE id = {id}"));
    assert!(committed < ROWS as i64, "the run stopped before its end: {committed} rows committed");

    app.restart();
    let run = app.wait_for_run(id);

    assert_eq!(run["status"], "completed", "run {run}");
    assert_eq!(run["progress"]["successful"], ROWS, "run {run}");
    assert_eq!(app.count_rows("airports"), ROWS as i64, "no row is lost or imported twice");
    let resumed = app.run_starts().into_iter().filter(|start| start.run_id == id && start.resumed_at_row > 0).count();
    assert_eq!(resumed, 1, "the restarted server resumed the run from its committed rows");
    let claims = app.query_count(&format!("SELECT claims AS n FROM ingest_runs WHERE id = {id}"));
    assert_eq!(claims, 1, "the stop for the shutdown does not count as a claim");
}

#[test]
fn shutdown_wait_is_bounded_by_grace_period() {
    let mut app = TestApp::builder()
        .test_importers(&["loop-importer"])
        .env("INGEST_IMPORTER_TIMEOUT_MS", "120000")
        .env("INGEST_SHUTDOWN_GRACE_SECONDS", "1")
        .start();
    let file = app.dir().join("spin.csv");
    std::fs::write(&file, "number,mode\n1,spin\n").unwrap();
    let id = app.start_run("loop-importer", &file);
    app.wait_for_run_until(id, "the run is processing", RUN_TIMEOUT, |run| run["status"] == "processing");
    // Let the worker enter the importer call that never returns.
    std::thread::sleep(Duration::from_millis(500));

    let (took, code) = app.terminate(Duration::from_secs(20));

    assert_eq!(code, Some(0), "the server exits cleanly after {took:?}");
    assert!(took < Duration::from_secs(10), "the wait is bounded by the 1 s grace period, not the importer: {took:?}");
    let log = app.server_log();
    assert!(log.contains(&format!("waiting for runs in flight to stop at their next chunk boundary run_ids=[{id}]")), "{log}");
    assert!(log.contains("shutdown grace period over"), "{log}");
}
