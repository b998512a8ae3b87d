//! Running `ingest` commands other than `serve`: in a scratch directory of their own
//! ([`CliEnv`]), or on a running [`TestApp`]'s database and directories
//! ([`TestApp::cli`]).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::paths::{importer_wasm, server_binary};
use crate::{ScratchDir, TestApp, TestDatabase};

/// What a finished command printed, and its exit status.
#[derive(Debug)]
pub struct CliOutput {
    /// The command line, for failure messages.
    pub command: String,
    /// The exit status, or -1 when the process was ended by a signal.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl CliOutput {
    fn new(command: String, output: Output) -> Self {
        Self {
            command,
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts the exit status, showing both streams when it differs.
    pub fn expect_code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.code, expected,
            "`{}` exited with {}, expected {expected}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command, self.code, self.stdout, self.stderr
        );
        self
    }

    /// Parses stdout as one JSON value.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|error| {
            panic!("`{}` did not print JSON ({error}); stdout:\n{}\nstderr:\n{}", self.command, self.stdout, self.stderr)
        })
    }
}

/// A scratch directory with a database, a plugins directory and a storage directory, for
/// commands that need no server.
pub struct CliEnv {
    database: TestDatabase,
    plugins_dir: PathBuf,
    storage_dir: PathBuf,
    env: Vec<(String, String)>,
    /// Declared last so that it is removed after the database is dropped.
    dir: ScratchDir,
}

impl CliEnv {
    /// Creates the directories and the database, with the example importers `slugs` in
    /// the plugins directory.
    pub fn new(slugs: &[&str]) -> Self {
        let dir = ScratchDir::new();
        let database = TestDatabase::create(dir.path());
        let plugins_dir = dir.path().join("plugins");
        let storage_dir = dir.path().join("storage");
        std::fs::create_dir(&plugins_dir).unwrap_or_else(|error| panic!("cannot create {}: {error}", plugins_dir.display()));
        let env = Self { database, plugins_dir, storage_dir, env: Vec::new(), dir };
        for slug in slugs {
            env.add_importer(&importer_wasm(slug));
        }
        env
    }

    /// Copies a built `.wasm` file into the plugins directory.
    pub fn add_importer(&self, wasm: &Path) {
        let target = self.plugins_dir.join(wasm.file_name().expect("a .wasm path has a file name"));
        std::fs::copy(wasm, &target)
            .unwrap_or_else(|error| panic!("cannot copy {} to {}: {error}", wasm.display(), target.display()));
    }

    /// Sets an environment variable of every later command.
    pub fn set_env(&mut self, name: &str, value: &str) {
        self.env.push((name.to_owned(), value.to_owned()));
    }

    /// Returns the scratch directory, which is the commands' working directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn plugins_dir(&self) -> &Path {
        &self.plugins_dir
    }

    pub fn database(&self) -> &TestDatabase {
        &self.database
    }

    /// Builds `ingest args...` with this environment's settings, for a test that needs
    /// the process itself, for example to send it a signal.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = ingest_command(self.dir());
        command
            .args(args)
            .env("INGEST_DATABASE_URL", self.database.url())
            .env("INGEST_PLUGINS_DIR", &self.plugins_dir)
            .env("INGEST_STORAGE_DIR", &self.storage_dir);
        for (name, value) in &self.env {
            command.env(name, value);
        }
        command
    }

    /// Runs `ingest args...` to completion with this environment's settings.
    pub fn run(&self, args: &[&str]) -> CliOutput {
        run(self.command(&[]), args)
    }
}

impl TestApp {
    /// Runs `ingest args...` to completion on this server's database, plugins directory
    /// and storage directory, as an operator on the same machine would.
    pub fn cli(&self, args: &[&str]) -> CliOutput {
        let mut command = ingest_command(self.dir());
        command
            .env("INGEST_DATABASE_URL", self.database().url())
            .env("INGEST_PLUGINS_DIR", self.dir().join("plugins"))
            .env("INGEST_STORAGE_DIR", self.storage_dir());
        run(command, args)
    }
}

/// Builds a command for the `ingest` binary that runs in `dir` and inherits no
/// `INGEST_*` variable, so a developer's settings cannot leak into a test.
pub fn ingest_command(dir: &Path) -> Command {
    let mut command = Command::new(server_binary());
    command.current_dir(dir).stdin(Stdio::null());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("INGEST_") {
            command.env_remove(name);
        }
    }
    command
}

/// Runs `command` with `args` and collects its output.
pub(crate) fn run(mut command: Command, args: &[&str]) -> CliOutput {
    command.args(args);
    let line = format!("ingest {}", args.join(" "));
    let output = command.output().unwrap_or_else(|error| panic!("cannot run `{line}`: {error}"));
    CliOutput::new(line, output)
}
