//! `POST /{id}/cancel`: a long run stops at a chunk boundary and keeps what it committed.

use ingest_e2e::{RUN_TIMEOUT, TestApp, expect_json, write_airports_csv};

const ROWS: u64 = 1_000_000;

#[test]
fn cancel_stops_run_at_chunk_boundary() {
    let app = TestApp::start(&["airport-importer"]);
    let chunk_size = app.importer("airport-importer")["chunk_size"]
        .as_u64()
        .expect("GET /importers gives the airport importer's chunk_size");
    assert!(chunk_size > 0, "chunk_size is positive");
    let file = app.dir().join("airports-1m.csv");
    write_airports_csv(&file, ROWS);

    let id = app.start_run("airport-importer", &file);
    let running = app.wait_for_run_until(id, "the run has processed rows", RUN_TIMEOUT, |run| {
        run["status"] == "processing" && run["progress"]["processed"].as_u64().is_some_and(|processed| processed > 0)
    });
    assert_eq!(running["status"], "processing", "the run must still be processing when it is cancelled: {running}");

    let body = expect_json(app.post(&format!("/{id}/cancel")), 200);
    assert_eq!(body["message"], "Cancellation request sent.");

    let run = app.wait_for_run(id);
    assert_eq!(run["status"], "cancelled", "run {run}");
    let processed = run["progress"]["processed"].as_u64().expect("progress.processed is an integer");
    assert!(processed < ROWS, "the run stopped before the end of the file: {run}");
    assert_eq!(processed % chunk_size, 0, "processed {processed} is a multiple of the chunk size {chunk_size}");
    let successful = run["progress"]["successful"].as_i64().expect("progress.successful is an integer");
    assert_eq!(app.count_rows("airports"), successful, "the committed chunks stay in the table");
}
