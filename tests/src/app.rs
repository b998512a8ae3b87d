//! One test's server: a scratch directory, a database, a token, and a running
//! `ingest serve` process that is killed when the [`TestApp`] is dropped.
//!
//! [`TestApp::start_node`] starts a second server on the same database, plugins
//! directory and storage directory, as a second node of a cluster would run.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use reqwest::blocking::Client;

use crate::database::TestDatabase;
use crate::paths::{importer_wasm, server_binary, test_importer_wasm};
use crate::scratch::ScratchDir;

/// Where the server mounts the API.
pub const API_PREFIX: &str = "/api/v1/ingest";

/// Maximum time from spawning the server to a 200 from `GET /health`.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

/// Lines of the server log shown when a test fails.
const LOG_TAIL_LINES: usize = 40;

/// A running server with its own database, plugins directory and storage directory,
/// which it may share with other nodes started by [`TestApp::start_node`].
pub struct TestApp {
    pub(crate) server: Child,
    pub(crate) base_url: String,
    pub(crate) token: String,
    pub(crate) client: Client,
    port: u16,
    log: PathBuf,
    /// Settings of the server process, kept to restart it or start another node.
    env: Vec<(String, String)>,
    /// Declared last so that it is removed after the server has been killed.
    shared: Arc<SharedState>,
}

/// What the nodes of one test share. Dropped with the last node, after its server was
/// killed: the database first, then the scratch directory.
struct SharedState {
    database: TestDatabase,
    plugins_dir: PathBuf,
    storage_dir: PathBuf,
    /// The number of nodes started so far, which names their logs.
    nodes: std::sync::atomic::AtomicUsize,
    dir: ScratchDir,
}

/// Options for [`TestApp`], started with [`TestAppBuilder::start`].
#[derive(Debug, Default)]
pub struct TestAppBuilder {
    importers: Vec<PathBuf>,
    env: Vec<(String, String)>,
}

impl TestAppBuilder {
    /// Adds example importers, by slug, to the server's plugins directory.
    pub fn importers(mut self, slugs: &[&str]) -> Self {
        self.importers.extend(slugs.iter().map(|slug| importer_wasm(slug)));
        self
    }

    /// Adds test importers (crates of `tests/importers/`), by crate name, to the server's
    /// plugins directory.
    pub fn test_importers(mut self, names: &[&str]) -> Self {
        self.importers.extend(names.iter().map(|name| test_importer_wasm(name)));
        self
    }

    /// Sets an environment variable of the server process, such as `INGEST_WORKERS`.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Creates the scratch directory and a token, starts the server and waits until
    /// `GET /health` returns 200.
    ///
    /// Panics when a step fails, with the server log's tail when the server was started.
    pub fn start(self) -> TestApp {
        let binary = server_binary();
        let dir = ScratchDir::new();
        let database = TestDatabase::create(dir.path());
        let plugins_dir = dir.path().join("plugins");
        let storage_dir = dir.path().join("storage");
        for path in [&plugins_dir, &storage_dir] {
            std::fs::create_dir(path).unwrap_or_else(|error| panic!("cannot create {}: {error}", path.display()));
        }
        for source in &self.importers {
            let target = plugins_dir.join(source.file_name().expect("a .wasm path has a file name"));
            std::fs::copy(source, &target)
                .unwrap_or_else(|error| panic!("cannot copy {} to {}: {error}", source.display(), target.display()));
        }

        let token = create_token(&binary, dir.path(), &database.url());
        let shared = Arc::new(SharedState {
            database,
            plugins_dir,
            storage_dir,
            nodes: std::sync::atomic::AtomicUsize::new(0),
            dir,
        });
        TestApp::spawn(shared, token, self.env)
    }
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    /// Starts a server with the given example importers and default settings.
    pub fn start(importers: &[&str]) -> TestApp {
        Self::builder().importers(importers).start()
    }

    /// Starts a server process for `shared` on a free port and waits until it is ready.
    fn spawn(shared: Arc<SharedState>, token: String, env: Vec<(String, String)>) -> TestApp {
        let node = shared.nodes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let log = match node {
            0 => shared.dir.path().join("server.log"),
            node => shared.dir.path().join(format!("server-{}.log", node + 1)),
        };
        let port = free_port();
        let (server, stdout_lines) = start_server(&shared, port, &env, &log);
        let client = Client::builder()
            // Test traffic goes to 127.0.0.1 only, even when the environment names a proxy.
            .no_proxy()
            .timeout(Duration::from_secs(300))
            .build()
            .expect("cannot build the HTTP client");
        let app = TestApp { server, base_url: format!("http://127.0.0.1:{port}"), token, client, port, log, env, shared };
        app.wait_until_ready(&stdout_lines, Instant::now() + STARTUP_TIMEOUT);
        app
    }

    /// Starts another server on this one's database, plugins directory and storage
    /// directory, with the same settings and token, and waits until it is ready.
    pub fn start_node(&self) -> TestApp {
        TestApp::spawn(self.shared.clone(), self.token.clone(), self.env.clone())
    }

    /// Kills the server process with SIGKILL, so it has no chance to clean up, and waits
    /// until it is gone.
    pub fn kill(&mut self) {
        self.server.kill().unwrap_or_else(|error| panic!("cannot kill the server: {error}"));
        let _ = self.server.wait();
    }

    /// Sends SIGTERM to the server and waits up to `timeout` for it to exit. Returns how
    /// long the exit took and the exit code (`None` when a signal ended the process).
    ///
    /// Panics with the server log when the server is still running after `timeout`.
    pub fn terminate(&mut self, timeout: Duration) -> (Duration, Option<i32>) {
        let started = Instant::now();
        let sent = Command::new("kill")
            .args(["-TERM", &self.server.id().to_string()])
            .status()
            .unwrap_or_else(|error| panic!("cannot run kill: {error}"));
        assert!(sent.success(), "kill -TERM {} failed", self.server.id());
        loop {
            match self.server.try_wait() {
                Ok(Some(status)) => return (started.elapsed(), status.code()),
                Ok(None) if started.elapsed() < timeout => std::thread::sleep(Duration::from_millis(20)),
                Ok(None) => self.fail(&format!("the server did not exit within {} s of SIGTERM", timeout.as_secs())),
                Err(error) => self.fail(&format!("cannot wait for the server: {error}")),
            }
        }
    }

    /// Starts the server again, on the same port and with the same settings, after
    /// [`TestApp::kill`] or [`TestApp::terminate`], and waits until it is ready. Its log
    /// goes on in the same file.
    pub fn restart(&mut self) {
        if self.server.try_wait().ok().flatten().is_none() {
            self.kill();
        }
        let (server, stdout_lines) = start_server(&self.shared, self.port, &self.env, &self.log);
        self.server = server;
        self.wait_until_ready(&stdout_lines, Instant::now() + STARTUP_TIMEOUT);
    }

    /// Returns the process id of the running server, which the server's node id in run
    /// leases begins with.
    pub fn pid(&self) -> u32 {
        self.server.id()
    }

    /// Returns the test's database, shared by every node.
    pub fn database(&self) -> &TestDatabase {
        &self.shared.database
    }

    /// Returns the test's scratch directory for fixtures, which is removed with the app.
    pub fn dir(&self) -> &Path {
        self.shared.dir.path()
    }

    /// Returns the directory where the server keeps uploaded files.
    pub fn storage_dir(&self) -> &Path {
        &self.shared.storage_dir
    }

    /// Returns the directory the server loads importers from and watches for changes.
    pub fn plugins_dir(&self) -> &Path {
        &self.shared.plugins_dir
    }

    /// Returns the server's whole log (stderr), of every start of this node.
    pub fn server_log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_else(|error| format!("(cannot read the log: {error})"))
    }

    /// Returns the bearer token of user 1.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Returns the HTTP client, which sends no credentials by itself.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Returns the URL of `path` outside the API prefix, such as `/health`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Returns the URL of `path` under the API prefix, where `""` is the run list and
    /// `"/importers"` the importer list.
    pub fn api_url(&self, path: &str) -> String {
        format!("{}{API_PREFIX}{path}", self.base_url)
    }

    /// Returns the last lines of the server's stderr.
    pub fn server_log_tail(&self) -> String {
        let text = self.server_log();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
    }

    /// Panics with `message` followed by the tail of the server log.
    pub(crate) fn fail(&self, message: &str) -> ! {
        panic!("{message}\n--- server log ({}) ---\n{}", self.log.display(), self.server_log_tail());
    }

    /// Waits for the `listening on` line, then polls `GET /health` until it returns 200.
    fn wait_until_ready(&self, stdout_lines: &Receiver<String>, deadline: Instant) {
        let expected = format!("listening on {}", self.base_url);
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match stdout_lines.recv_timeout(remaining) {
                Ok(line) if line.trim() == expected => break,
                Ok(line) if line.starts_with("listening on") => {
                    self.fail(&format!("the server printed {line:?}, expected {expected:?}"))
                }
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => {
                    self.fail(&format!("the server did not print {expected:?} within {} s", STARTUP_TIMEOUT.as_secs()))
                }
                Err(RecvTimeoutError::Disconnected) => self.fail(&format!(
                    "the server closed its stdout before printing {expected:?}; it has probably exited"
                )),
            }
        }

        let health = self.url("/health");
        let mut last_error = String::from("no request sent");
        while Instant::now() < deadline {
            match self.client.get(&health).timeout(Duration::from_secs(2)).send() {
                Ok(response) if response.status().as_u16() == 200 => return,
                Ok(response) => last_error = format!("status {}", response.status()),
                Err(error) => last_error = error.to_string(),
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.fail(&format!(
            "GET {health} did not return 200 within {} s of starting the server; last result: {last_error}",
            STARTUP_TIMEOUT.as_secs()
        ));
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Killing a process that has already exited fails harmlessly.
        let _ = self.server.kill();
        let _ = self.server.wait();
        if std::thread::panicking() {
            eprintln!("--- server log ({}) ---\n{}", self.log.display(), self.server_log_tail());
        }
    }
}

/// Builds a command for the server binary that runs in `dir` and inherits no `INGEST_*`
/// variable, so a developer's settings cannot leak into a test.
fn server_command(binary: &Path, dir: &Path) -> Command {
    let mut command = Command::new(binary);
    command.current_dir(dir);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("INGEST_") {
            command.env_remove(name);
        }
    }
    command
}

/// Starts `ingest serve` for `shared` on `port`, with its stderr appended to `log`, and
/// returns the process and its stdout lines.
fn start_server(shared: &SharedState, port: u16, env: &[(String, String)], log: &Path) -> (Child, Receiver<String>) {
    let binary = server_binary();
    let mut command = server_command(&binary, shared.dir.path());
    command
        .arg("serve")
        .env("INGEST_DATABASE_URL", shared.database.url())
        .env("INGEST_PLUGINS_DIR", &shared.plugins_dir)
        .env("INGEST_STORAGE_DIR", &shared.storage_dir)
        .env("INGEST_ADDRESS", "127.0.0.1")
        .env("INGEST_PORT", port.to_string());
    for (name, value) in env {
        command.env(name, value);
    }
    let log_file = File::options()
        .create(true)
        .append(true)
        .open(log)
        .unwrap_or_else(|error| panic!("cannot open {}: {error}", log.display()));
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(log_file);
    let mut server = command.spawn().unwrap_or_else(|error| panic!("cannot start {} serve: {error}", binary.display()));
    let stdout_lines = forward_lines(server.stdout.take().expect("the server's stdout is piped"));
    (server, stdout_lines)
}

/// Runs `ingest token create --user 1` against `database_url` and returns the printed
/// token.
fn create_token(binary: &Path, dir: &Path, database_url: &str) -> String {
    let output = server_command(binary, dir)
        .args(["token", "create", "--user", "1"])
        .env("INGEST_DATABASE_URL", database_url)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("cannot run {} token create: {error}", binary.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "`ingest token create` failed with {}: {stderr}", output.status);

    let token = stdout.trim();
    assert!(
        !token.is_empty() && !token.contains(char::is_whitespace),
        "`ingest token create` must print the token alone on one line; stdout: {stdout:?}"
    );
    token.to_owned()
}

/// Returns a port that was free a moment ago, by binding port 0 and releasing it.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("cannot bind a local port");
    listener.local_addr().expect("a bound listener has an address").port()
}

/// Reads the server's stdout on a thread and sends its lines to the returned channel.
///
/// The thread keeps reading after the receiver is dropped, so the server never blocks on a
/// full pipe.
fn forward_lines(stdout: std::process::ChildStdout) -> Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = sender.send(line);
        }
    });
    receiver
}
