//! Uploaded files stay in the storage directory until their run ends, and `ingest prune`
//! removes what finished runs leave behind once it is older than the retention period.

use std::path::Path;
use std::time::{Duration, SystemTime};

use ingest_e2e::{TestApp, data_file};

/// Older than the default retention of 30 days.
const OLD: Duration = Duration::from_secs(60 * 24 * 60 * 60);

/// Writes a file into the uploads directory, last modified `age` ago.
fn write_upload(app: &TestApp, name: &str, age: Duration) -> std::path::PathBuf {
    let uploads = app.storage_dir().join("uploads");
    std::fs::create_dir_all(&uploads).expect("cannot create the uploads directory");
    let path = uploads.join(name);
    std::fs::write(&path, "carrier,name\n").expect("cannot write an upload");
    let file = std::fs::File::options().write(true).open(&path).expect("cannot open the upload");
    file.set_modified(SystemTime::now() - age).expect("cannot set the upload's modification time");
    path
}

fn uploads(app: &TestApp) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(app.storage_dir().join("uploads"))
        .map(|entries| entries.map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

fn remembered_rows(app: &TestApp, id: i64) -> i64 {
    app.query_count(&format!("SELECT COUNT(*) AS n FROM ingest_rows WHERE run_id = {id}"))
}

#[test]
fn ended_run_removes_its_upload() {
    let app = TestApp::start(&["airline-importer"]);

    let run = app.import("airline-importer", &data_file("airlines.csv"));

    assert_eq!(run["status"], "completed", "run {run}");
    assert_eq!(uploads(&app), Vec::<String>::new(), "the upload is removed once its run has ended");
}

#[test]
fn prune_removes_old_rows_and_files_only() {
    let app = TestApp::start(&["penguin-importer"]);
    let old_run = app.import("penguin-importer", &data_file("penguins-raw.csv"))["id"].as_i64().unwrap();
    let new_run = app.import("penguin-importer", &data_file("penguins-raw.csv"))["id"].as_i64().unwrap();
    assert_eq!(remembered_rows(&app, old_run), 11);
    assert_eq!(remembered_rows(&app, new_run), 11);
    app.database().execute(&format!(
        "UPDATE ingest_runs SET completed_at = '2000-01-01T00:00:00.000000Z' WHERE id = {old_run}"
    ));

    let old_orphan = write_upload(&app, "20000101000000-old", OLD);
    let new_orphan = write_upload(&app, "20991231000000-new", Duration::ZERO);
    // A run that another node is processing still reads its file, however old it is.
    let in_use = write_upload(&app, "20000101000000-in-use", OLD);
    app.database().execute(&format!(
        "INSERT INTO ingest_runs (importer, status, stored_path, lease_owner, lease_expires_at, created_at) \
         VALUES ('penguin-importer', 'processing', '{}', 'other-node', '9999-12-31T00:00:00.000000Z', \
         '2000-01-01T00:00:00.000000Z')",
        in_use.display()
    ));

    let preview = app.cli(&["prune", "--dry-run"]);
    preview.expect_code(0);
    assert!(preview.stdout.starts_with("would remove 11 remembered rows"), "{}", preview.stdout);
    assert!(preview.stdout.contains("and 1 uploaded files"), "{}", preview.stdout);
    assert_eq!(remembered_rows(&app, old_run), 11, "a dry run removes nothing");
    assert!(old_orphan.exists(), "a dry run removes nothing");

    let pruned = app.cli(&["prune"]);

    pruned.expect_code(0);
    assert!(pruned.stdout.starts_with("removed 11 remembered rows"), "{}", pruned.stdout);
    assert_eq!(remembered_rows(&app, old_run), 0, "the old run's rows are removed");
    assert_eq!(remembered_rows(&app, new_run), 11, "the recent run's rows are kept");
    assert!(!old_orphan.exists(), "an old file of no run is removed");
    assert!(new_orphan.exists(), "a recent file is kept");
    assert!(Path::new(&in_use).exists(), "the file of a processing run is kept");
    let old = app.run(old_run);
    assert_eq!(old["progress"]["failed"], 11, "the run itself and its counters are kept: {old}");
}

#[test]
fn prune_takes_age_in_days() {
    let app = TestApp::start(&["penguin-importer"]);
    let id = app.import("penguin-importer", &data_file("penguins-raw.csv"))["id"].as_i64().unwrap();
    let yesterday = write_upload(&app, "20000101000000-yesterday", Duration::from_secs(26 * 60 * 60));

    app.cli(&["prune", "--older-than-days", "2"]).expect_code(0);
    assert!(yesterday.exists(), "a file of yesterday is younger than two days");
    assert_eq!(remembered_rows(&app, id), 11, "a run of today is younger than two days");

    app.cli(&["prune", "--older-than-days", "0"]).expect_code(0);
    assert!(!yesterday.exists(), "every file is older than zero days");
    assert_eq!(remembered_rows(&app, id), 0, "every finished run is older than zero days");
}
