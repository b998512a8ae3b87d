//! `GET /metrics`: the Prometheus text format, with runs by status, rows by outcome, chunk
//! latency and importer load failures.

use std::time::{Duration, Instant};

use ingest_e2e::{TestApp, data_file, expect_text};

/// Returns the value of the sample `name` (with its labels, as written in the text), and
/// panics when the text has no such sample.
fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no sample {name} in:\n{text}"))
        .parse()
        .unwrap_or_else(|error| panic!("sample {name} is not a number ({error}) in:\n{text}"))
}

fn metrics(app: &TestApp) -> String {
    let response = app.client().get(app.url("/metrics")).send().expect("GET /metrics failed");
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain"), "content type {content_type}");
    expect_text(response, 200)
}

#[test]
fn metrics_count_runs_and_rows() {
    let app = TestApp::start(&["penguin-importer"]);
    app.import("penguin-importer", &data_file("penguins-raw.csv"));

    let text = metrics(&app);

    assert_eq!(sample(&text, "ingest_runs{status=\"completed_with_errors\"}"), 1.0);
    assert_eq!(sample(&text, "ingest_runs{status=\"failed\"}"), 0.0);
    assert_eq!(sample(&text, "ingest_rows_total{outcome=\"successful\"}"), 333.0);
    assert_eq!(sample(&text, "ingest_rows_total{outcome=\"failed\"}"), 11.0);
    assert_eq!(sample(&text, "ingest_rows_total{outcome=\"skipped\"}"), 0.0);
    assert_eq!(sample(&text, "ingest_importers_loaded"), 1.0);
}

#[test]
fn metrics_histogram_counts_chunks() {
    let app = TestApp::start(&["airport-importer"]);
    app.import("airport-importer", &data_file("airports.csv"));

    let text = metrics(&app);

    assert!(text.contains("# TYPE ingest_chunk_duration_seconds histogram"), "{text}");
    let count = sample(&text, "ingest_chunk_duration_seconds_count");
    // 3,376 rows in chunks of 1,000 rows: four chunks.
    assert_eq!(count, 4.0, "{text}");
    assert_eq!(sample(&text, "ingest_chunk_duration_seconds_bucket{le=\"+Inf\"}"), count);
    assert!(sample(&text, "ingest_chunk_duration_seconds_sum") > 0.0, "{text}");
    let mut previous = 0.0;
    for line in text.lines().filter(|line| line.starts_with("ingest_chunk_duration_seconds_bucket")) {
        let value: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
        assert!(value >= previous, "buckets must be cumulative: {line}\n{text}");
        previous = value;
    }
}

#[test]
fn metrics_count_importer_load_failures() {
    let app = TestApp::start(&["airline-importer"]);
    let text = metrics(&app);
    assert_eq!(sample(&text, "ingest_importer_load_failures_total"), 0.0);

    std::fs::write(app.dir().join("plugins/broken.wasm"), b"not a component").unwrap();

    // The plugins directory is watched; the failed load shows up once the watcher ran.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = metrics(&app);
        if sample(&text, "ingest_importer_load_failures_total") >= 1.0 {
            assert_eq!(sample(&text, "ingest_importers_rejected"), 1.0, "{text}");
            break;
        }
        assert!(Instant::now() < deadline, "no load failure counted within 20 s:\n{text}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
