//! The `ingest` commands other than `serve`, run as the real binary: their output, their
//! exit codes (0 success, 1 failure, 2 usage or not found) and what they write.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ingest_e2e::{CliEnv, RUN_TIMEOUT, TestApp, data_file, workspace_dir, write_airports_csv};
use serde_json::Value;

/// Every command and subcommand, as typed after `ingest`.
const COMMANDS: [&[&str]; 12] = [
    &["serve"],
    &["run"],
    &["list"],
    &["status"],
    &["cancel"],
    &["retry"],
    &["token"],
    &["token", "create"],
    &["token", "list"],
    &["token", "revoke"],
    &["config"],
    &["new"],
];

/// Runs the file through `ingest run` and returns the `--json` run object.
fn run_json(env: &CliEnv, slug: &str, file: &str, expected_code: i32) -> Value {
    let file = data_file(file);
    let output = env.run(&["run", slug, "--file", file.to_str().unwrap(), "--json"]);
    output.expect_code(expected_code);
    output.json()
}

#[test]
fn help_lists_commands_and_exit_codes() {
    let env = CliEnv::new(&[]);

    let output = env.run(&["--help"]);

    output.expect_code(0);
    for command in COMMANDS.iter().filter(|command| command.len() == 1) {
        assert!(output.stdout.contains(&format!("  {}", command[0])), "--help does not list {command:?}:\n{}", output.stdout);
    }
    assert!(output.stdout.contains("Exit status"), "{}", output.stdout);
    assert!(output.stdout.contains("2  invalid arguments"), "{}", output.stdout);
}

#[test]
fn every_command_has_help() {
    let env = CliEnv::new(&[]);
    for command in COMMANDS {
        let mut args = command.to_vec();
        args.push("--help");

        let output = env.run(&args);

        output.expect_code(0);
        assert!(output.stdout.contains("Usage: ingest"), "`ingest {}` printed:\n{}", args.join(" "), output.stdout);
    }
}

#[test]
fn unknown_command_exits_2() {
    let env = CliEnv::new(&[]);

    env.run(&["frobnicate"]).expect_code(2);
    env.run(&["run", "airport-importer"]).expect_code(2);
}

#[test]
fn run_imports_file_and_prints_counts() {
    let env = CliEnv::new(&["airport-importer"]);
    let file = data_file("airports.csv");

    let output = env.run(&["run", "airport-importer", "--file", file.to_str().unwrap()]);

    output.expect_code(0);
    assert!(output.stdout.starts_with("run 1 completed: 3376 successful, 0 failed, 0 skipped in "), "{}", output.stdout);
    assert_eq!(env.database().count_rows("airports"), 3376);
}

#[test]
fn run_json_prints_run_object() {
    let env = CliEnv::new(&["penguin-importer"]);

    let run = run_json(&env, "penguin-importer", "penguins-raw.csv", 1);

    assert_eq!(run["id"], 1);
    assert_eq!(run["importer"], "penguin-importer");
    assert_eq!(run["status"], "completed_with_errors");
    assert_eq!(run["original_filename"], "penguins-raw.csv");
    assert_eq!(run["progress"]["total"], 344);
    assert_eq!(run["progress"]["successful"], 333);
    assert_eq!(run["progress"]["failed"], 11);
    assert_eq!(env.database().count_rows("penguins"), 333);
}

#[test]
fn run_dry_run_writes_nothing() {
    let env = CliEnv::new(&["airline-importer"]);
    let file = data_file("airlines.csv");

    let output = env.run(&["run", "airline-importer", "--file", file.to_str().unwrap(), "--dry-run"]);

    output.expect_code(0);
    assert!(output.stdout.contains("16 successful"), "{}", output.stdout);
    assert!(output.stdout.contains("dry run"), "{}", output.stdout);
    let written = if env.database().table_exists("airlines") { env.database().count_rows("airlines") } else { 0 };
    assert_eq!(written, 0, "a dry run writes no row");
}

#[test]
fn run_unknown_importer_exits_2() {
    let env = CliEnv::new(&["airport-importer"]);
    let file = data_file("airports.csv");

    let output = env.run(&["run", "no-such-importer", "--file", file.to_str().unwrap()]);

    output.expect_code(2);
    assert!(output.stderr.contains("importer no-such-importer not found"), "{}", output.stderr);
    assert!(output.stdout.is_empty(), "{}", output.stdout);
}

#[test]
fn run_with_empty_plugins_dir_names_built_importers() {
    let env = CliEnv::new(&[]);
    let file = data_file("airports.csv");

    let output = env.run(&["run", "airport-importer", "--file", file.to_str().unwrap()]);

    output.expect_code(2);
    assert!(output.stderr.contains("it has no .wasm files"), "{}", output.stderr);
    assert!(output.stderr.contains("target/plugins"), "{}", output.stderr);
}

#[test]
fn run_missing_file_exits_2() {
    let env = CliEnv::new(&["airport-importer"]);

    let output = env.run(&["run", "airport-importer", "--file", "missing.csv"]);

    output.expect_code(2);
    assert!(output.stderr.contains("missing.csv does not exist"), "{}", output.stderr);
}

#[test]
fn run_unreadable_file_exits_1() {
    let env = CliEnv::new(&["airport-importer"]);
    let file = env.dir().join("empty.csv");
    std::fs::write(&file, "").unwrap();

    let output = env.run(&["run", "airport-importer", "--file", file.to_str().unwrap()]);

    output.expect_code(1);
    assert!(output.stderr.contains("cannot import"), "{}", output.stderr);
}

#[test]
fn run_interrupted_ends_cancelled() {
    let env = CliEnv::new(&["airport-importer"]);
    let file = env.dir().join("airports-1m.csv");
    write_airports_csv(&file, 1_000_000);
    let child = env
        .command(&["run", "airport-importer", "--file", file.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start ingest run");

    let deadline = Instant::now() + RUN_TIMEOUT;
    let processed = "SELECT COALESCE(MAX(processed_rows), 0) AS n FROM ingest_runs";
    while !(env.database().table_exists("ingest_runs") && env.database().query_count(processed) > 0) {
        assert!(Instant::now() < deadline, "the run processed no row within {} s", RUN_TIMEOUT.as_secs());
        std::thread::sleep(Duration::from_millis(50));
    }
    let interrupted = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("cannot run kill");
    assert!(interrupted.success(), "kill -INT failed");
    let output = child.wait_with_output().expect("cannot wait for ingest run");

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.starts_with("run 1 cancelled: "), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stderr.contains("cancelling run 1"), "{stderr}");
    let status = env.database().query_count("SELECT COUNT(*) AS n FROM ingest_runs WHERE id = 1 AND status = 'cancelled'");
    assert_eq!(status, 1, "run 1 is cancelled in the database");
}

#[test]
fn list_shows_importers() {
    let env = CliEnv::new(&["airport-importer", "penguin-importer"]);

    let output = env.run(&["list"]);

    output.expect_code(0);
    let lines: Vec<&str> = output.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "a header and one line per importer:\n{}", output.stdout);
    assert!(lines[1].starts_with("airport-importer "), "{}", lines[1]);
    assert!(lines[1].contains(" airports "), "{}", lines[1]);
    assert!(lines[2].starts_with("penguin-importer "), "{}", lines[2]);
}

#[test]
fn list_json_matches_importer_entries() {
    let env = CliEnv::new(&["airline-importer"]);

    let output = env.run(&["list", "--json"]);

    output.expect_code(0);
    let body = output.json();
    assert_eq!(body["data"].as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(body["data"][0]["slug"], "airline-importer");
    assert_eq!(body["data"][0]["target"], "airlines");
    assert_eq!(body["data"][0]["keyed_by"], serde_json::json!(["carrier"]));
    assert_eq!(body["rejected"], serde_json::json!([]));
}

#[test]
fn list_with_broken_file_exits_1() {
    let env = CliEnv::new(&["airline-importer"]);
    std::fs::write(env.plugins_dir().join("broken.wasm"), b"not a component").unwrap();

    let output = env.run(&["list"]);

    output.expect_code(1);
    assert!(output.stdout.contains("airline-importer"), "{}", output.stdout);
    assert!(output.stderr.contains("rejected: "), "{}", output.stderr);
    assert!(output.stderr.contains("broken.wasm"), "{}", output.stderr);
}

#[test]
fn list_without_plugins_dir_exits_2() {
    let mut env = CliEnv::new(&[]);
    env.set_env("INGEST_PLUGINS_DIR", "no-such-dir");

    let output = env.run(&["list"]);

    output.expect_code(2);
    assert!(output.stderr.contains("the plugins directory no-such-dir does not exist"), "{}", output.stderr);
}

#[test]
fn status_shows_finished_run() {
    let env = CliEnv::new(&["penguin-importer"]);
    run_json(&env, "penguin-importer", "penguins-raw.csv", 1);

    let output = env.run(&["status", "1"]);

    output.expect_code(0);
    assert!(output.stdout.starts_with("run 1 completed_with_errors: 333 successful, 11 failed, 0 skipped"), "{}", output.stdout);
    assert!(output.stdout.contains("file: penguins-raw.csv"), "{}", output.stdout);
    assert!(output.stdout.contains("rows: 344 processed of 344"), "{}", output.stdout);
}

#[test]
fn status_json_has_failed_rows() {
    let env = CliEnv::new(&["penguin-importer"]);
    run_json(&env, "penguin-importer", "penguins-raw.csv", 1);

    let output = env.run(&["status", "1", "--json"]);

    output.expect_code(0);
    let run = output.json();
    assert_eq!(run["status"], "completed_with_errors");
    let rows = run["rows"].as_array().expect("the run has rows");
    assert_eq!(rows.len(), 11, "{run}");
    assert!(rows[0]["errors"]["validation"]["sex"].is_array(), "{}", rows[0]);
}

#[test]
fn closed_stdout_exits_quietly() {
    let env = CliEnv::new(&["airline-importer"]);
    run_json(&env, "airline-importer", "airlines.csv", 0);
    let commands: [&[&str]; 5] =
        [&["status", "1", "--json"], &["status", "1", "--no-wait"], &["token", "list"], &["list", "--json"], &["config"]];

    for args in commands {
        let mut child = env.command(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("cannot start ingest");
        // Closing the reading end before the command prints makes its first write fail
        // with EPIPE, as `| head -0` would.
        drop(child.stdout.take());
        let output = child.wait_with_output().expect("cannot wait for ingest");

        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "ingest {}: {stderr}", args.join(" "));
        assert!(!stderr.contains("panicked"), "ingest {}: {stderr}", args.join(" "));
    }
}

#[test]
fn status_unknown_run_exits_2() {
    let env = CliEnv::new(&[]);

    let output = env.run(&["status", "42"]);

    output.expect_code(2);
    assert!(output.stderr.contains("run 42 not found"), "{}", output.stderr);
}

#[test]
fn status_wait_follows_server_run() {
    let app = TestApp::start(&["airport-importer"]);
    let file = app.dir().join("airports-50k.csv");
    write_airports_csv(&file, 50_000);
    let id = app.start_run("airport-importer", &file);

    let output = app.cli(&["status", &id.to_string(), "--wait"]);

    output.expect_code(0);
    assert!(output.stdout.starts_with(&format!("run {id} completed: 50000 successful")), "{}", output.stdout);
}

#[test]
fn cancel_stops_server_run() {
    let app = TestApp::start(&["airport-importer"]);
    let file = app.dir().join("airports-1m.csv");
    write_airports_csv(&file, 1_000_000);
    let id = app.start_run("airport-importer", &file);
    app.wait_for_run_until(id, "the run has processed rows", RUN_TIMEOUT, |run| {
        run["status"] == "processing" && run["progress"]["processed"].as_u64().is_some_and(|processed| processed > 0)
    });

    let output = app.cli(&["cancel", &id.to_string()]);

    output.expect_code(0);
    assert!(output.stdout.contains(&format!("cancellation of run {id} requested")), "{}", output.stdout);
    let run = app.wait_for_run(id);
    assert_eq!(run["status"], "cancelled", "{run}");
    let again = app.cli(&["cancel", &id.to_string()]);
    again.expect_code(1);
    assert!(again.stderr.contains("already finished with status cancelled"), "{}", again.stderr);
}

#[test]
fn cancel_unknown_run_exits_2() {
    let env = CliEnv::new(&[]);

    env.run(&["cancel", "7"]).expect_code(2);
}

#[test]
fn retry_processes_failed_rows_here() {
    let env = CliEnv::new(&["penguin-importer"]);
    run_json(&env, "penguin-importer", "penguins-raw.csv", 1);

    let output = env.run(&["retry", "1", "--json"]);

    // The 11 rows fail again: their sex is still missing.
    output.expect_code(1);
    let run = output.json();
    assert_eq!(run["id"], 2);
    assert_eq!(run["retried_from_run_id"], 1);
    assert_eq!(run["status"], "completed_with_errors");
    assert_eq!(run["progress"]["total"], 11);
    assert_eq!(run["progress"]["failed"], 11);
}

#[test]
fn retry_queue_leaves_run_pending() {
    let env = CliEnv::new(&["penguin-importer"]);
    run_json(&env, "penguin-importer", "penguins-raw.csv", 1);

    let queued = env.run(&["retry", "1", "--queue"]);

    queued.expect_code(0);
    assert!(queued.stdout.starts_with("run 2 queued"), "{}", queued.stdout);
    let status = env.run(&["status", "2", "--json"]);
    assert_eq!(status.json()["status"], "pending");
    let again = env.run(&["retry", "1", "--queue"]);
    again.expect_code(1);
    assert!(again.stderr.contains("already being retried by run 2"), "{}", again.stderr);
}

#[test]
fn dry_run_retry_stays_dry() {
    let env = CliEnv::new(&["penguin-importer"]);
    let file = data_file("penguins-raw.csv");
    env.run(&["run", "penguin-importer", "--file", file.to_str().unwrap(), "--dry-run"]).expect_code(1);

    let inherited = env.run(&["retry", "1", "--queue", "--json"]);
    env.run(&["cancel", "2"]).expect_code(0);
    let explicit = env.run(&["retry", "1", "--queue", "--json", "--dry-run=false"]);
    env.run(&["cancel", "3"]).expect_code(0);
    let flag = env.run(&["retry", "1", "--queue", "--json", "--dry-run"]);

    inherited.expect_code(0);
    assert_eq!(inherited.json()["dry_run"], true, "a retry of a dry run is a dry run");
    explicit.expect_code(0);
    assert_eq!(explicit.json()["dry_run"], false, "--dry-run=false writes");
    flag.expect_code(0);
    assert_eq!(flag.json()["dry_run"], true);
}

#[test]
fn retry_of_real_run_writes_by_default() {
    let env = CliEnv::new(&["penguin-importer"]);
    run_json(&env, "penguin-importer", "penguins-raw.csv", 1);

    let output = env.run(&["retry", "1", "--queue", "--json"]);

    output.expect_code(0);
    assert_eq!(output.json()["dry_run"], false);
}

#[test]
fn retry_without_failed_rows_exits_1() {
    let env = CliEnv::new(&["airline-importer"]);
    run_json(&env, "airline-importer", "airlines.csv", 0);

    let output = env.run(&["retry", "1"]);

    output.expect_code(1);
    assert!(output.stderr.contains("run 1 has no failed rows"), "{}", output.stderr);
    env.run(&["retry", "99"]).expect_code(2);
}

#[test]
fn token_create_prints_token_alone() {
    let env = CliEnv::new(&[]);

    let created = env.run(&["token", "create", "--user", "7", "--name", "ci"]);

    created.expect_code(0);
    let token = created.stdout.strip_suffix('\n').expect("the token ends with a line break");
    assert!(!token.is_empty(), "{:?}", created.stdout);
    assert!(!token.contains(char::is_whitespace), "{:?}", created.stdout);
    let listed = env.run(&["token", "list", "--json"]);
    listed.expect_code(0);
    let tokens = listed.json();
    assert_eq!(tokens[0]["user_id"], 7);
    assert_eq!(tokens[0]["name"], "ci");
    assert!(!listed.stdout.contains(token), "token list never shows the secret");
}

#[test]
fn token_revoke_twice_exits_2() {
    let env = CliEnv::new(&[]);
    env.run(&["token", "create", "--user", "1"]).expect_code(0);

    env.run(&["token", "revoke", "1"]).expect_code(0);
    let again = env.run(&["token", "revoke", "1"]);

    again.expect_code(2);
    assert!(again.stderr.contains("no live token has id 1"), "{}", again.stderr);
}

#[test]
fn config_hides_database_password() {
    let mut env = CliEnv::new(&[]);
    env.set_env("INGEST_DATABASE_URL", "postgres://ingest:s3cret@127.0.0.1:5432/ingest");

    let output = env.run(&["config"]);

    output.expect_code(0);
    assert!(output.stdout.contains("database_url = \"postgres://ingest:***@127.0.0.1:5432/ingest\""), "{}", output.stdout);
    assert!(!output.stdout.contains("s3cret"), "{}", output.stdout);
    assert!(output.stdout.contains("No configuration file"), "{}", output.stdout);
}

#[test]
fn config_file_is_read_and_env_overrides_it() {
    let mut env = CliEnv::new(&[]);
    std::fs::write(env.dir().join("ingest.toml"), "port = 9001\nworkers = 5\ntarget_tables = [\"airports\", \"stock_*\"]\n").unwrap();
    env.set_env("INGEST_WORKERS", "7");

    let output = env.run(&["config", "--json"]);

    output.expect_code(0);
    let settings = output.json();
    assert_eq!(settings["port"], 9001);
    assert_eq!(settings["workers"], 7);
    assert_eq!(settings["target_tables"], serde_json::json!(["airports", "stock_*"]));
    assert_eq!(settings["address"], "127.0.0.1", "unset settings keep their default");
}

#[test]
fn config_flag_names_another_file() {
    let env = CliEnv::new(&[]);
    std::fs::write(env.dir().join("ingest.toml"), "port = 9001\n").unwrap();
    std::fs::write(env.dir().join("other.toml"), "port = 9002\n").unwrap();

    let output = env.run(&["--config", "other.toml", "config"]);

    output.expect_code(0);
    assert!(output.stdout.contains("# Read from other.toml"), "{}", output.stdout);
    assert!(output.stdout.contains("port = 9002"), "{}", output.stdout);
}

#[test]
fn config_errors_exit_2() {
    let env = CliEnv::new(&[]);
    std::fs::write(env.dir().join("ingest.toml"), "prot = 9001\n").unwrap();
    std::fs::write(env.dir().join("bad-port.toml"), "port = \"eighty\"\n").unwrap();

    let unknown = env.run(&["config"]);
    let invalid = env.run(&["--config", "bad-port.toml", "config"]);
    let missing = env.run(&["--config", "missing.toml", "config"]);

    unknown.expect_code(2);
    assert!(unknown.stderr.contains("sets prot, which no setting reads"), "{}", unknown.stderr);
    invalid.expect_code(2);
    assert!(invalid.stderr.contains("port in bad-port.toml is invalid"), "{}", invalid.stderr);
    missing.expect_code(2);
    assert!(missing.stderr.contains("cannot read the configuration file missing.toml"), "{}", missing.stderr);
}

#[test]
fn invalid_settings_exit_2() {
    let cases = [
        ("INGEST_DATABASE_URL", "mysql://app@127.0.0.1/app", "mysql:// databases are not supported"),
        ("INGEST_WORKERS", "0", "from 1 to 1024"),
        ("INGEST_LEASE_SECONDS", "0", "from 1 to 86400"),
        ("INGEST_IMPORTER_TIMEOUT_MS", "0", "from 1 to 3600000"),
        ("INGEST_API_PREFIX", "api", "a URL path such as /api/v1/ingest"),
    ];
    for (name, value, expected) in cases {
        let mut env = CliEnv::new(&[]);
        env.set_env(name, value);

        let output = env.run(&["config"]);

        output.expect_code(2);
        assert!(output.stderr.contains(&format!("{name} is invalid")), "{name}={value}: {}", output.stderr);
        assert!(output.stderr.contains(expected), "{name}={value}: {}", output.stderr);
    }
}

#[test]
fn serve_with_invalid_api_prefix_exits_2() {
    let mut env = CliEnv::new(&[]);
    env.set_env("INGEST_API_PREFIX", "api");

    let output = env.run(&["serve"]);

    output.expect_code(2);
    assert!(output.stderr.contains("INGEST_API_PREFIX is invalid"), "{}", output.stderr);
    assert!(!output.stderr.contains("panicked"), "{}", output.stderr);
}

#[test]
fn log_json_has_lifecycle_fields() {
    let mut env = CliEnv::new(&["airline-importer"]);
    env.set_env("RUST_LOG", "info");
    let file = data_file("airlines.csv");

    let output = env.run(&["--log-json", "run", "airline-importer", "--file", file.to_str().unwrap()]);

    output.expect_code(0);
    let events: Vec<Value> = output
        .stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("log line is not JSON ({error}): {line}")))
        .collect();
    let event = |message: &str| {
        events
            .iter()
            .find(|event| event["fields"]["message"] == message)
            .unwrap_or_else(|| panic!("no {message:?} event in:\n{}", output.stderr))
    };
    let loaded = event("importer loaded");
    assert_eq!(loaded["fields"]["importer"], "airline-importer");
    let started = event("run started");
    assert_eq!(started["span"]["run_id"], 1);
    assert_eq!(started["span"]["importer"], "airline-importer");
    let finished = event("run finished");
    assert_eq!(finished["span"]["run_id"], 1);
    assert_eq!(finished["fields"]["successful"], 16);
    assert_eq!(finished["fields"]["failed"], 0);
    assert!(finished["fields"]["duration_ms"].is_u64(), "{finished}");
}

#[test]
fn new_rejects_invalid_name_and_existing_dir() {
    let env = CliEnv::new(&[]);
    std::fs::create_dir(env.dir().join("taken")).unwrap();
    std::fs::write(env.dir().join("taken/file"), "").unwrap();

    env.run(&["new", "Bad_Name"]).expect_code(2);
    let taken = env.run(&["new", "taken-importer", "--dir", "taken"]);

    taken.expect_code(2);
    assert!(taken.stderr.contains("already exists"), "{}", taken.stderr);
}

/// `ingest new` writes a crate that builds to a component and imports its own sample.
/// The build shares the workspace's target directory and lock file, so it compiles only
/// the scaffold and the SDK for its profile, and needs no registry.
#[test]
fn new_scaffold_builds_and_imports_sample() {
    let env = CliEnv::new(&[]);
    let crate_dir = env.dir().join("widget-importer");

    let created = env.run(&["new", "widget-importer", "--dir", crate_dir.to_str().unwrap()]);

    created.expect_code(0);
    for file in ["Cargo.toml", "src/lib.rs", "README.md", "sample.csv", ".gitignore"] {
        assert!(crate_dir.join(file).is_file(), "`ingest new` did not write {file}");
    }
    let workspace = workspace_dir();
    std::fs::copy(workspace.join("Cargo.lock"), crate_dir.join("Cargo.lock")).expect("cannot copy Cargo.lock");
    let target_dir = workspace.join("target");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let build = Command::new(cargo)
        .args(["build", "--release", "--offline", "--target", "wasm32-wasip2"])
        .current_dir(&crate_dir)
        .env("CARGO_TARGET_DIR", &target_dir)
        .output()
        .expect("cannot run cargo");
    assert!(build.status.success(), "cargo build of the scaffold failed:\n{}", String::from_utf8_lossy(&build.stderr));

    env.add_importer(&target_dir.join("wasm32-wasip2/release/widget_importer.wasm"));
    let sample = crate_dir.join("sample.csv");
    let output = env.run(&["run", "widget-importer", "--file", sample.to_str().unwrap()]);

    output.expect_code(0);
    assert!(output.stdout.contains("5 successful, 0 failed, 0 skipped"), "{}", output.stdout);
    assert_eq!(env.database().count_rows("widget"), 5);
}
