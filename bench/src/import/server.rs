//! One `ingest serve` process per measured case: its own database, storage directory and
//! port, a token created with `ingest token create`, and a kill on drop, so that no
//! server outlives the benchmark, also when a step fails.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// Maximum time from spawning the server to its `listening on` line. A start compiles
/// every importer of the plugins directory with an empty cache, about 0.2 s each.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);

/// Lines of the server log shown when the server fails.
const LOG_TAIL_LINES: usize = 30;

/// Settings of a server process.
pub struct ServerSettings<'a> {
    pub binary: &'a Path,
    pub database_url: &'a str,
    pub plugins_dir: &'a Path,
    /// Scratch directory of the case: the working directory, the storage directory's
    /// parent and the place of `server.log`.
    pub dir: &'a Path,
}

/// A running `ingest serve`, killed when dropped.
pub struct ServerProcess {
    child: Child,
    base_url: String,
    token: String,
    log: PathBuf,
}

impl ServerProcess {
    /// Creates a token for user 1, starts the server on a free port of 127.0.0.1 and
    /// waits until it prints that it listens.
    pub fn start(settings: &ServerSettings) -> anyhow::Result<Self> {
        let token = create_token(settings)?;
        let port = free_port()?;
        let storage_dir = settings.dir.join("storage");
        let log = settings.dir.join("server.log");
        let log_file = File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;

        let mut command = ingest_command(settings);
        command
            .arg("serve")
            .env("INGEST_STORAGE_DIR", &storage_dir)
            .env("INGEST_ADDRESS", "127.0.0.1")
            .env("INGEST_PORT", port.to_string())
            // The log is a file that error messages quote, so it gets no colour codes.
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file);
        let mut child = command.spawn().with_context(|| format!("cannot start {} serve", settings.binary.display()))?;
        let stdout_lines = forward_lines(child.stdout.take().expect("the server's stdout is piped"));

        let server = Self { child, base_url: format!("http://127.0.0.1:{port}"), token, log };
        server.wait_until_listening(&stdout_lines)?;
        Ok(server)
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Returns the server's peak resident set size in bytes so far (`VmHWM` of
    /// `/proc/<pid>/status`, Linux only).
    pub fn peak_rss_bytes(&self) -> anyhow::Result<u64> {
        let path = format!("/proc/{}/status", self.pid());
        let status = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
        let line = status
            .lines()
            .find(|line| line.starts_with("VmHWM:"))
            .with_context(|| format!("{path} has no VmHWM line"))?;
        let kilobytes: u64 = line
            .trim_start_matches("VmHWM:")
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .with_context(|| format!("invalid VmHWM line in {path}: {line:?}"))?;
        Ok(kilobytes * 1024)
    }

    /// Returns the last lines of the server's log (its stderr).
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_else(|error| format!("(cannot read the log: {error})"));
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
    }

    /// Returns `error` with the tail of the server log appended to its message, so the
    /// failure reads first and the log follows.
    pub fn with_log(&self, error: anyhow::Error) -> anyhow::Error {
        anyhow::anyhow!("{error:#}\n--- server log {}, last lines ---\n{}", self.log.display(), self.log_tail())
    }

    fn wait_until_listening(&self, stdout_lines: &Receiver<String>) -> anyhow::Result<()> {
        let expected = format!("listening on {}", self.base_url);
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match stdout_lines.recv_timeout(remaining) {
                Ok(line) if line.trim() == expected => return Ok(()),
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => {
                    return Err(self.with_log(anyhow::anyhow!(
                        "the server did not print {expected:?} within {} s",
                        STARTUP_TIMEOUT.as_secs()
                    )));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(self.with_log(anyhow::anyhow!(
                        "the server closed its stdout before printing {expected:?}; it has probably exited"
                    )));
                }
            }
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // Killing a process that has already exited fails harmlessly.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Builds a command for the server binary with the case's database and plugins
/// directory, and without any `INGEST_*` variable of the caller's environment.
fn ingest_command(settings: &ServerSettings) -> Command {
    let mut command = Command::new(settings.binary);
    command.current_dir(settings.dir);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("INGEST_") {
            command.env_remove(name);
        }
    }
    command.env("INGEST_DATABASE_URL", settings.database_url).env("INGEST_PLUGINS_DIR", settings.plugins_dir);
    command
}

/// Runs `ingest token create --user 1` and returns the token it prints alone on one line.
fn create_token(settings: &ServerSettings) -> anyhow::Result<String> {
    let output = ingest_command(settings)
        .args(["token", "create", "--user", "1", "--name", "import-bench"])
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {} token create", settings.binary.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!("`ingest token create` failed with {}: {}", output.status, String::from_utf8_lossy(&output.stderr));
    }
    let token = stdout.trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        bail!("`ingest token create` printed {stdout:?}, expected the token alone on one line");
    }
    Ok(token.to_owned())
}

/// Returns a port of 127.0.0.1 that was free a moment ago, by binding port 0 and
/// releasing it.
fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot bind a port on 127.0.0.1")?;
    Ok(listener.local_addr()?.port())
}

/// Reads the server's stdout on a thread and sends its lines to the returned channel.
/// The thread keeps reading after the receiver is dropped, so the server never blocks
/// on a full pipe.
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
