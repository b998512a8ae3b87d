//! Crash safety: a server killed with SIGKILL in the middle of an import resumes the run
//! from its last committed chunk once it is restarted, and no row is lost or imported
//! twice.

use std::time::Duration;

use ingest_e2e::{TestApp, data_file};
use serde_json::Value;

const FLIGHTS: i64 = 336_776;
/// Planes that flights.csv.gz names but planes.csv lacks; the flight importer creates them.
const NEW_PLANES: i64 = 721;
/// A short lease, so the restarted server takes the run over soon after it starts.
const LEASE_SECONDS: &str = "2";
/// The flights import took about 5 s on SQLite and 12 s on PostgreSQL (release build, two
/// cores); the timeout leaves room for slower machines.
const FLIGHTS_TIMEOUT: Duration = Duration::from_secs(600);

fn progress(run: &Value, field: &str) -> i64 {
    run["progress"][field].as_i64().unwrap_or_else(|| panic!("progress.{field} is not an integer: {run}"))
}

#[test]
fn killed_flights_import_resumes_exactly() {
    let mut app = TestApp::builder()
        .importers(&["airline-importer", "plane-importer", "flight-importer"])
        .env("INGEST_LEASE_SECONDS", LEASE_SECONDS)
        .start();
    let airlines = app.import("airline-importer", &data_file("airlines.csv"));
    assert_eq!(airlines["status"], "completed", "airlines run {airlines}");
    let planes = app.import("plane-importer", &data_file("planes.csv"));
    assert_eq!(planes["status"], "completed", "planes run {planes}");
    let planes_before = app.count_rows("planes");

    let id = app.start_run("flight-importer", &data_file("flights.csv.gz"));
    let running = app.wait_for_run_until(id, "some flights are committed", FLIGHTS_TIMEOUT, |run| {
        run["progress"]["processed"].as_i64().is_some_and(|processed| processed >= 20_000)
    });
    assert_eq!(running["status"], "processing", "the run must still be processing when the server is killed: {running}");
    app.kill();

    let committed = app.query_count(&format!("SELECT processed_rows AS n FROM ingest_runs WHERE id = {id}"));
    let committed_successful = app.query_count(&format!("SELECT successful_rows AS n FROM ingest_runs WHERE id = {id}"));
    assert!(committed > 0, "the kill came after the first chunks: {committed} rows committed");
    assert!(committed < FLIGHTS, "the kill came before the last chunk: {committed} rows committed");
    assert_eq!(app.count_rows("flights"), committed_successful, "the table holds exactly the committed chunks");

    app.restart();
    let run = app.wait_for_run_until(id, "the resumed run ends", FLIGHTS_TIMEOUT, |_| false);

    assert_eq!(run["status"], "completed", "run {run}");
    assert_eq!(progress(&run, "total"), FLIGHTS, "run {run}");
    assert_eq!(progress(&run, "processed"), FLIGHTS, "run {run}");
    assert_eq!(progress(&run, "successful"), FLIGHTS, "run {run}");
    assert_eq!(progress(&run, "failed"), 0, "run {run}");
    assert_eq!(app.count_rows("flights"), FLIGHTS);
    let keys = app.query_count(
        "SELECT COUNT(*) AS n FROM (SELECT DISTINCT year, month, day, carrier, flight, origin, sched_dep_time \
         FROM flights) AS flight_keys",
    );
    assert_eq!(keys, FLIGHTS, "every flight key is stored once");
    assert_eq!(app.count_rows("planes"), planes_before + NEW_PLANES, "planes created for unknown tail numbers");
    let without_airline = app.query_count("SELECT COUNT(*) AS n FROM flights WHERE airline_id IS NULL");
    assert_eq!(without_airline, 0, "every flight has its airline's id");
    let remembered = app.query_count(&format!("SELECT COUNT(*) AS n FROM ingest_rows WHERE run_id = {id}"));
    assert_eq!(remembered, 0, "no row of the run failed");

    let resumed: Vec<_> = app.run_starts().into_iter().filter(|start| start.run_id == id).collect();
    assert_eq!(resumed.len(), 2, "the run started once and resumed once: {resumed:?}");
    assert_eq!(resumed[0].resumed_at_row, 0, "{resumed:?}");
    assert_eq!(resumed[1].resumed_at_row, committed, "the restart resumed after the committed rows: {resumed:?}");
}

#[test]
fn run_claimed_too_often_fails() {
    let app = TestApp::builder().importers(&["airline-importer"]).env("INGEST_LEASE_SECONDS", LEASE_SECONDS).start();
    let file = app.dir().join("airlines.csv");
    std::fs::copy(data_file("airlines.csv"), &file).expect("cannot copy airlines.csv");
    // A run whose node died while processing it, for the fifth time.
    app.database().execute(&format!(
        "INSERT INTO ingest_runs (importer, status, original_filename, stored_path, lease_owner, lease_expires_at, \
         created_at, claims) VALUES ('airline-importer', 'processing', 'airlines.csv', '{}', 'dead-node', \
         '2000-01-01T00:00:00.000000Z', '2000-01-01T00:00:00.000000Z', 5)",
        file.display()
    ));
    let id = app.query_count("SELECT MAX(id) AS n FROM ingest_runs");

    let run = app.wait_for_run_until(id, "the run ends", Duration::from_secs(60), |_| false);

    assert_eq!(run["status"], "failed", "run {run}");
    let error = run["error"].as_str().unwrap_or_default();
    assert!(error.contains("claimed 5 times without ending"), "run {run}");
    assert!(!app.table_exists("airlines"), "the run did not even prepare its target table");
}
