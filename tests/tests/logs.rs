//! Log output when stderr is a file, as under systemd or a test harness.

use ingest_e2e::{CliEnv, TestApp, data_file};

const ESCAPE: char = '\u{1b}';

#[test]
fn server_log_file_has_no_colour_codes() {
    let app = TestApp::start(&["airline-importer"]);
    app.import("airline-importer", &data_file("airlines.csv"));

    let log = app.server_log();

    assert!(log.contains("server started"), "{log}");
    assert!(log.contains("run finished"), "{log}");
    assert!(!log.contains(ESCAPE), "the log contains ANSI escape codes:\n{log}");
}

#[test]
fn cli_log_to_pipe_has_no_colour_codes() {
    let mut env = CliEnv::new(&["airline-importer"]);
    env.set_env("RUST_LOG", "info");
    let file = data_file("airlines.csv");

    let output = env.run(&["run", "airline-importer", "--file", file.to_str().unwrap()]);

    output.expect_code(0);
    assert!(output.stderr.contains("run started"), "{}", output.stderr);
    assert!(!output.stderr.contains(ESCAPE), "stderr contains ANSI escape codes:\n{}", output.stderr);
}
