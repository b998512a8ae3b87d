//! Duplicate strategies and all-or-nothing chunks, with the test importers of
//! `tests/importers/`.
//!
//! Each strategy test imports three items, then a second file in which `A` is newer,
//! `B` is older (by `updated_at`) and `D` is new.

use std::collections::BTreeSet;

use ingest_e2e::{Backend, TestApp};
use serde_json::Value;

const FIRST_FILE: &str = "sku,name,updated_at
A,Apple,2024-01-01T00:00:00Z
B,Banana,2024-01-01T00:00:00Z
C,Cherry,2024-01-01T00:00:00Z
";

const SECOND_FILE: &str = "sku,name,updated_at
A,Apricot,2024-02-01T00:00:00Z
B,Blueberry,2023-12-01T00:00:00Z
D,Date,2024-02-01T00:00:00Z
";

/// The outcome of the second import: its counters and the names the items end with.
struct Expected {
    status: &'static str,
    successful: i64,
    skipped: i64,
    failed: i64,
    names: [(&'static str, &'static str); 4],
}

fn progress(run: &Value, field: &str) -> i64 {
    run["progress"][field].as_i64().unwrap_or_else(|| panic!("progress.{field} is not an integer: {run}"))
}

/// Imports both files with `importer` and checks the second run and the table.
fn import_twice(importer: &str, expected: Expected) -> (TestApp, Value) {
    let app = TestApp::builder().test_importers(&[importer]).start();
    let first_file = app.dir().join("items-1.csv");
    let second_file = app.dir().join("items-2.csv");
    std::fs::write(&first_file, FIRST_FILE).expect("cannot write the first items file");
    std::fs::write(&second_file, SECOND_FILE).expect("cannot write the second items file");

    let first = app.import(importer, &first_file);
    assert_eq!(first["status"], "completed", "first run {first}");
    assert_eq!(progress(&first, "successful"), 3, "first run {first}");

    let second = app.import(importer, &second_file);

    assert_eq!(second["status"], expected.status, "second run {second}");
    assert_eq!(progress(&second, "processed"), 3, "second run {second}");
    assert_eq!(progress(&second, "successful"), expected.successful, "second run {second}");
    assert_eq!(progress(&second, "skipped"), expected.skipped, "second run {second}");
    assert_eq!(progress(&second, "failed"), expected.failed, "second run {second}");
    assert_eq!(app.count_rows("items"), 4, "items A to D, each once");
    for (sku, name) in expected.names {
        let found = app.query_count(&format!("SELECT COUNT(*) AS n FROM items WHERE sku = '{sku}' AND name = '{name}'"));
        assert_eq!(found, 1, "item {sku} is named {name}");
    }
    (app, second)
}

#[test]
fn skip_keeps_existing_rows() {
    import_twice(
        "duplicate-skip-importer",
        Expected {
            status: "completed",
            successful: 1,
            skipped: 2,
            failed: 0,
            names: [("A", "Apple"), ("B", "Banana"), ("C", "Cherry"), ("D", "Date")],
        },
    );
}

#[test]
fn update_overwrites_existing_rows() {
    import_twice(
        "duplicate-update-importer",
        Expected {
            status: "completed",
            successful: 3,
            skipped: 0,
            failed: 0,
            names: [("A", "Apricot"), ("B", "Blueberry"), ("C", "Cherry"), ("D", "Date")],
        },
    );
}

#[test]
fn upsert_overwrites_existing_rows() {
    import_twice(
        "duplicate-upsert-importer",
        Expected {
            status: "completed",
            successful: 3,
            skipped: 0,
            failed: 0,
            names: [("A", "Apricot"), ("B", "Blueberry"), ("C", "Cherry"), ("D", "Date")],
        },
    );
}

#[test]
fn update_if_newer_overwrites_only_older_rows() {
    import_twice(
        "duplicate-update-if-newer-importer",
        Expected {
            status: "completed",
            successful: 2,
            skipped: 1,
            failed: 0,
            names: [("A", "Apricot"), ("B", "Banana"), ("C", "Cherry"), ("D", "Date")],
        },
    );
}

#[test]
fn fail_fails_rows_with_existing_keys() {
    let (app, second) = import_twice(
        "duplicate-fail-importer",
        Expected {
            status: "completed_with_errors",
            successful: 1,
            skipped: 0,
            failed: 2,
            names: [("A", "Apple"), ("B", "Banana"), ("C", "Cherry"), ("D", "Date")],
        },
    );

    let id = second["id"].as_i64().expect("the run has an id");
    let body = ingest_e2e::expect_json(app.get(&format!("/{id}/errors/summary")), 200);
    let summary = &body["data"]["error_summary"];
    let messages: BTreeSet<&str> = summary
        .as_array()
        .unwrap_or_else(|| panic!("error_summary is not an array: {body}"))
        .iter()
        .map(|entry| entry["message"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        messages,
        BTreeSet::from(["a row with sku = A already exists in items", "a row with sku = B already exists in items"]),
        "summary {body}"
    );
}

/// Returns the `sku` of each failed row that `GET /{id}` lists.
fn failed_skus(run: &Value) -> BTreeSet<String> {
    run["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("the run has no rows array: {run}"))
        .iter()
        .filter(|row| row["status"] == "failed")
        .map(|row| row["data"]["sku"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn atomic_chunk_with_failed_row_writes_nothing() {
    let app = TestApp::builder().test_importers(&["atomic-importer"]).start();
    let file = app.dir().join("prices.csv");
    // Chunks of two rows: (A, B), (C, D), (E, F); C has a negative price.
    std::fs::write(&file, "sku,price\nA,1\nB,2\nC,-1\nD,4\nE,5\nF,6\n").expect("cannot write the prices file");

    let run = app.import("atomic-importer", &file);

    assert_eq!(run["status"], "completed_with_errors", "run {run}");
    assert_eq!(progress(&run, "processed"), 6, "run {run}");
    assert_eq!(progress(&run, "successful"), 4, "run {run}");
    assert_eq!(progress(&run, "failed"), 2, "run {run}");
    assert_eq!(failed_skus(&run), BTreeSet::from(["C".to_owned(), "D".to_owned()]), "run {run}");
    assert_eq!(app.count_rows("atomic_items"), 4);
    let left_out = app.query_count("SELECT COUNT(*) AS n FROM atomic_items WHERE sku IN ('C', 'D')");
    assert_eq!(left_out, 0, "no row of the failed chunk is written");
}

#[test]
fn atomic_chunk_with_failed_write_rolls_back() {
    let app = TestApp::builder().test_importers(&["atomic-importer"]).start();
    let first_file = app.dir().join("prices-1.csv");
    std::fs::write(&first_file, "sku,price\nA,1\nB,2\n").expect("cannot write the first prices file");
    let first = app.import("atomic-importer", &first_file);
    assert_eq!(first["status"], "completed", "first run {first}");

    // Chunks (G, A), (H, I): A exists and this importer fails duplicates, so G, written
    // before A in the same chunk, is rolled back.
    let second_file = app.dir().join("prices-2.csv");
    std::fs::write(&second_file, "sku,price\nG,1\nA,2\nH,3\nI,4\n").expect("cannot write the second prices file");
    let run = app.import("atomic-importer", &second_file);

    assert_eq!(run["status"], "completed_with_errors", "run {run}");
    assert_eq!(progress(&run, "successful"), 2, "run {run}");
    assert_eq!(progress(&run, "failed"), 2, "run {run}");
    assert_eq!(failed_skus(&run), BTreeSet::from(["A".to_owned(), "G".to_owned()]), "run {run}");
    assert_eq!(app.query_count("SELECT COUNT(*) AS n FROM atomic_items WHERE sku = 'G'"), 0, "G is rolled back");
    assert_eq!(app.count_rows("atomic_items"), 4, "A, B, H and I");
}

#[test]
fn reformatted_keys_fall_back_to_single_writes() {
    let app = TestApp::builder().test_importers(&["duplicate-skip-importer"]).start();
    // SQLite stores text that looks like a number in an INTEGER column as a number, so
    // the key `007` comes back from the table as `7`. PostgreSQL would reject text for
    // an integer column, so there the column is text and keys come back unchanged.
    let (id_column, sku_type) = match app.database().backend() {
        Backend::Sqlite => ("id INTEGER PRIMARY KEY", "INTEGER"),
        Backend::Postgres => ("id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "TEXT"),
    };
    app.database().execute(&format!(
        "CREATE TABLE items ({id_column}, sku {sku_type} NOT NULL UNIQUE, name TEXT, updated_at TEXT)"
    ));
    // The second 007 starts a new batch, and that batch writes only 009, so it is written
    // again with the returned keys, where SQLite's `9` matches no record.
    let file = app.dir().join("items.csv");
    std::fs::write(&file, "sku,name,updated_at\n007,Seven,\n8,Eight,\n007,Again,\n009,Nine,\n")
        .expect("cannot write the items file");

    let run = app.import("duplicate-skip-importer", &file);

    assert_eq!(run["status"], "completed", "run {run}");
    assert_eq!(progress(&run, "successful"), 3, "run {run}");
    assert_eq!(progress(&run, "skipped"), 1, "the second 007 is a duplicate: {run}");
    assert_eq!(app.count_rows("items"), 3);
    if app.database().backend() == Backend::Sqlite {
        assert!(app.server_log().contains("one by one"), "the run fell back to single writes");
    }
}

#[test]
fn skip_outcomes_hold_across_batches() {
    let app = TestApp::builder().test_importers(&["duplicate-skip-importer"]).start();
    // Existing keys S1 to S10 and S1001 to S1010, in the first and the second chunk of
    // 1,000 rows. On SQLite, which batches 500 records, S501 to S1000 are a batch without
    // duplicates between two with. A batch is counted first, and after a batch with a
    // duplicate the next returns its keys.
    let existing: Vec<u64> = (1..=10).chain(1001..=1010).collect();
    let mut first = String::from("sku,name,updated_at\n");
    for number in &existing {
        first.push_str(&format!("S{number},old {number},\n"));
    }
    let mut second = String::from("sku,name,updated_at\n");
    for number in 1..=1200 {
        second.push_str(&format!("S{number},new {number},\n"));
    }
    let first_file = app.dir().join("existing.csv");
    let second_file = app.dir().join("all.csv");
    std::fs::write(&first_file, first).expect("cannot write the existing items file");
    std::fs::write(&second_file, second).expect("cannot write the items file");
    let seeded = app.import("duplicate-skip-importer", &first_file);
    assert_eq!(seeded["status"], "completed", "first run {seeded}");

    let run = app.import("duplicate-skip-importer", &second_file);

    assert_eq!(run["status"], "completed", "run {run}");
    assert_eq!(progress(&run, "successful"), 1180, "run {run}");
    assert_eq!(progress(&run, "skipped"), 20, "run {run}");
    assert_eq!(app.count_rows("items"), 1200);
    let old_names = app.query_count("SELECT COUNT(*) AS n FROM items WHERE name LIKE 'old %'");
    assert_eq!(old_names, 20, "the existing rows keep their names");
}

#[test]
fn case_insensitive_keys_fall_back() {
    let app = TestApp::builder().test_importers(&["duplicate-update-if-newer-importer"]).start();
    if app.database().backend() != Backend::Sqlite {
        // PostgreSQL rejects a statement that updates one row twice, so there such a file
        // fails its run.
        return;
    }
    app.database().execute(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, sku TEXT COLLATE NOCASE NOT NULL UNIQUE, name TEXT, \
         updated_at TEXT)",
    );
    app.database().execute("INSERT INTO items (sku, name, updated_at) VALUES ('x', 'kept', '2030-01-01T00:00:00')");
    // One batch. x is older than its row, so the batch writes fewer rows than it has
    // records and is written again with its keys returned. abc and ABC are one key to the
    // table, whose row is inserted and then updated, so that key comes back twice.
    let file = app.dir().join("items.csv");
    std::fs::write(
        &file,
        "sku,name,updated_at\nx,old,2020-01-01T00:00:00\nabc,first,2024-01-01T00:00:00\nABC,second,2024-06-01T00:00:00\n",
    )
    .expect("cannot write the items file");

    let run = app.import("duplicate-update-if-newer-importer", &file);

    assert_eq!(run["status"], "completed", "run {run}");
    assert_eq!(progress(&run, "successful"), 2, "abc is inserted, then ABC updates it: {run}");
    assert_eq!(progress(&run, "skipped"), 1, "x is older than its row: {run}");
    assert_eq!(app.count_rows("items"), 2);
    assert_eq!(app.query_count("SELECT COUNT(*) AS n FROM items WHERE name = 'second'"), 1);
    assert!(app.server_log().contains("one by one"), "the run fell back to single writes");
}
