//! Server configuration from `INGEST_*` environment variables, with defaults that run
//! with no configuration at all.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Config {
    /// A SQLite file path or `sqlite://` URL.
    pub database_url: String,
    /// The directory of `.wasm` importers.
    pub plugins_dir: PathBuf,
    /// Uploaded files, kept until their run ends, and the compiled-importer cache.
    pub storage_dir: PathBuf,
    pub address: String,
    pub port: u16,
    /// Where the API's routes are mounted.
    pub api_prefix: String,
    /// Directories a filesystem source may read.
    pub import_dirs: Vec<PathBuf>,
    pub max_upload_bytes: u64,
    /// Runs processed at the same time by this node.
    pub workers: usize,
    /// Rows returned with a single run by `GET /{id}`.
    pub run_rows_limit: i64,
    /// Table names (or `*` patterns) importers may write; empty allows any table but the
    /// host's own.
    pub target_tables: Vec<String>,
    /// Whether a missing target table is created from the importer's description.
    pub create_target_tables: bool,
    /// How long a claimed run stays claimed without a committed chunk.
    pub lease: Duration,
    pub limits: SandboxLimits,
}

/// What one call into an importer may use.
#[derive(Debug, Clone, Copy)]
pub struct SandboxLimits {
    /// Wall-clock time one call may run; the guest traps when it runs out.
    pub call_timeout: Duration,
    /// Linear memory one importer instance may grow to.
    pub memory_bytes: usize,
}

impl Default for SandboxLimits {
    fn default() -> Self {
        // A 1,000-row chunk takes a few milliseconds; 10 s leaves room for importers
        // that call back into the host for lookups on a busy database.
        // 256 MiB is about a hundred times what the example importers use.
        Self { call_timeout: Duration::from_secs(10), memory_bytes: 256 << 20 }
    }
}

/// A variable that is set but cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{name}={value:?} is invalid: {expected}")]
pub struct ConfigError {
    name: &'static str,
    value: String,
    expected: &'static str,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            database_url: text("INGEST_DATABASE_URL").unwrap_or_else(|| "data/ingest.db".into()),
            plugins_dir: text("INGEST_PLUGINS_DIR").unwrap_or_else(|| "plugins".into()).into(),
            storage_dir: text("INGEST_STORAGE_DIR").unwrap_or_else(|| "data/storage".into()).into(),
            address: text("INGEST_ADDRESS").unwrap_or_else(|| "127.0.0.1".into()),
            port: number("INGEST_PORT", 8000, "a TCP port number such as 8000")?,
            api_prefix: text("INGEST_API_PREFIX").unwrap_or_else(|| "/api/v1/ingest".into()),
            import_dirs: list("INGEST_IMPORT_DIRS").into_iter().map(PathBuf::from).collect(),
            max_upload_bytes: number("INGEST_MAX_UPLOAD_BYTES", 512 << 20, "a size in bytes")?,
            workers: number("INGEST_WORKERS", 2, "a number of concurrent runs")?,
            run_rows_limit: number("INGEST_RUN_ROWS_LIMIT", 100, "a number of rows")?,
            target_tables: list("INGEST_TARGET_TABLES"),
            create_target_tables: flag("INGEST_CREATE_TARGET_TABLES", true)?,
            lease: Duration::from_secs(number("INGEST_LEASE_SECONDS", 30, "a number of seconds")?),
            limits: SandboxLimits {
                call_timeout: Duration::from_millis(number(
                    "INGEST_IMPORTER_TIMEOUT_MS",
                    SandboxLimits::default().call_timeout.as_millis() as u64,
                    "a number of milliseconds",
                )?),
                memory_bytes: number(
                    "INGEST_IMPORTER_MEMORY_BYTES",
                    SandboxLimits::default().memory_bytes,
                    "a size in bytes",
                )?,
            },
        })
    }

    /// The SQLite file the database URL names.
    pub fn sqlite_path(&self) -> PathBuf {
        let url = &self.database_url;
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
        PathBuf::from(path)
    }
}

fn text(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|value| value.trim().to_owned()).filter(|value| !value.is_empty())
}

fn list(name: &str) -> Vec<String> {
    text(name)
        .map(|value| {
            value
                .split([',', ':'])
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn number<T: std::str::FromStr>(name: &'static str, default: T, expected: &'static str) -> Result<T, ConfigError> {
    match text(name) {
        None => Ok(default),
        Some(value) => value.parse().map_err(|_| ConfigError { name, value, expected }),
    }
}

fn flag(name: &'static str, default: bool) -> Result<bool, ConfigError> {
    match text(name).as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(other) => Err(ConfigError { name, value: other.to_owned(), expected: "true or false" }),
    }
}
