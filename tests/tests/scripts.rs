//! The scripts of `scripts/`, where they can run without building: their checks of the
//! shared data directory.

use std::process::{Command, Stdio};

use ingest_e2e::{ScratchDir, workspace_dir};

/// Runs `scripts/<name>` with `INGEST_SHARED_DATA` set to `shared_data` and returns its
/// exit code and stderr.
fn run_script(name: &str, shared_data: &str) -> (Option<i32>, String) {
    let output = Command::new(workspace_dir().join("scripts").join(name))
        .env("INGEST_SHARED_DATA", shared_data)
        .env_remove("INGEST_IMPORT_DIRS")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("cannot run scripts/{name}: {error}"));
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn scripts_reject_missing_shared_data() {
    let scratch = ScratchDir::new();
    let missing = scratch.path().join("no-such-data");
    let missing = missing.to_str().expect("the scratch path is UTF-8");

    for script in ["test", "serve"] {
        let (code, stderr) = run_script(script, missing);

        assert_eq!(code, Some(2), "scripts/{script}: {stderr}");
        assert!(stderr.contains(&format!("the shared data directory {missing} does not exist")), "scripts/{script}: {stderr}");
        assert!(stderr.contains("INGEST_SHARED_DATA"), "scripts/{script}: {stderr}");
    }
}
