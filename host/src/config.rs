//! Server configuration, with defaults that run with no configuration at all.
//!
//! Each setting is read from, in order of precedence: its `INGEST_*` environment
//! variable, an optional TOML file, and its default. A file key is the variable's name
//! in lower case without `INGEST_`: `INGEST_DATABASE_URL` is `database_url`. The file is
//! the one `--config` or `INGEST_CONFIG` names, else `./ingest.toml` when it exists.

use std::collections::BTreeSet;
use std::fmt::Display;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::fetch::FetchSettings;
use crate::store::DatabaseUrl;

/// The file read when neither `--config` nor `INGEST_CONFIG` names one.
pub const DEFAULT_FILE: &str = "ingest.toml";

const SECONDS_PER_DAY: u64 = 24 * 60 * 60;

#[derive(Debug, Clone)]
pub struct Config {
    /// A SQLite file path, a `sqlite://` URL or a `postgres://` URL.
    pub database_url: String,
    /// The directory of `.wasm` importers.
    pub plugins_dir: PathBuf,
    /// Uploaded files, kept until their run ends, and the compiled-importer cache.
    pub storage_dir: PathBuf,
    pub address: String,
    pub port: u16,
    /// Where the API's routes are mounted.
    pub api_prefix: String,
    /// Whether pagination links take their scheme and host from the `Forwarded` and
    /// `X-Forwarded-*` headers, which only a proxy that overwrites them makes safe.
    pub trust_proxy_headers: bool,
    /// Directories a filesystem source may read.
    pub import_dirs: Vec<PathBuf>,
    /// Settings of URL fetches: allowed hosts, proxy, deadline and limits.
    pub fetch: FetchSettings,
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
    /// How long a claimed run stays claimed after its node last renewed the lease. The
    /// node renews it every third of this while it processes the run.
    pub lease: Duration,
    /// How long `ingest prune` keeps the remembered rows and the uploaded files of
    /// finished runs.
    pub retention: Duration,
    /// How long a stopping server waits for its runs to reach a chunk boundary before it
    /// exits and leaves them to their leases.
    pub shutdown_grace: Duration,
    pub limits: SandboxLimits,
}

/// The resources one call into an importer may use.
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

/// A configuration that cannot be used: an unreadable file, an unknown key, or a value
/// of the wrong kind.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{origin} is invalid: {value:?} is not {expected}")]
    Invalid { origin: String, value: String, expected: String },
    #[error(
        "{origin} is invalid: {scheme}:// databases are not supported; use a SQLite file path, a sqlite:// URL or a postgres:// URL"
    )]
    UnsupportedDatabase { origin: String, scheme: String },
    #[error("cannot read the configuration file {}: {source}", file.display())]
    Unreadable { file: PathBuf, source: std::io::Error },
    #[error("the configuration file {} is not valid TOML: {message}", file.display())]
    Syntax { file: PathBuf, message: String },
    #[error(
        "the configuration file {} sets {}, which no setting reads; the keys are the INGEST_* variable names in lower case without INGEST_ (run `ingest config` to see them)",
        file.display(),
        keys.join(", ")
    )]
    UnknownKeys { file: PathBuf, keys: Vec<String> },
}

impl Config {
    /// Loads the configuration from `file`, or from `./ingest.toml` when `file` is `None`
    /// and that file exists, with `INGEST_*` variables taking precedence. Returns the
    /// file that was read as well.
    pub fn load(file: Option<&Path>) -> Result<(Self, Option<PathBuf>), ConfigError> {
        let file = match file {
            Some(file) => Some(file.to_path_buf()),
            None => Some(PathBuf::from(DEFAULT_FILE)).filter(|file| file.is_file()),
        };
        let mut settings = match &file {
            Some(file) => Settings::from_file(file)?,
            None => Settings::default(),
        };
        let config = Self::read(&mut settings)?;
        settings.reject_unread_keys()?;
        Ok((config, file))
    }

    /// Loads the configuration from `INGEST_*` variables and defaults only.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(&mut Settings::default())
    }

    fn read(settings: &mut Settings) -> Result<Self, ConfigError> {
        Ok(Self {
            database_url: database_url(settings)?,
            plugins_dir: settings.text("INGEST_PLUGINS_DIR")?.unwrap_or_else(|| "plugins".into()).into(),
            storage_dir: settings.text("INGEST_STORAGE_DIR")?.unwrap_or_else(|| "data/storage".into()).into(),
            address: settings.text("INGEST_ADDRESS")?.unwrap_or_else(|| "127.0.0.1".into()),
            port: settings.number("INGEST_PORT", 8000, "a TCP port number such as 8000")?,
            api_prefix: api_prefix(settings)?,
            trust_proxy_headers: settings.flag("INGEST_TRUST_PROXY_HEADERS", false)?,
            import_dirs: settings.list("INGEST_IMPORT_DIRS")?.into_iter().map(PathBuf::from).collect(),
            fetch: fetch_settings(settings)?,
            max_upload_bytes: settings.number("INGEST_MAX_UPLOAD_BYTES", 512 << 20, "a size in bytes")?,
            workers: settings.number_in("INGEST_WORKERS", 2, WORKERS, "a number of concurrent runs")?,
            run_rows_limit: run_rows_limit(settings)?,
            target_tables: settings.list("INGEST_TARGET_TABLES")?,
            create_target_tables: settings.flag("INGEST_CREATE_TARGET_TABLES", true)?,
            lease: Duration::from_secs(settings.number_in("INGEST_LEASE_SECONDS", 30, LEASE_SECONDS, "a number of seconds")?),
            retention: Duration::from_secs(
                SECONDS_PER_DAY.saturating_mul(settings.number("INGEST_RETENTION_DAYS", 30, "a number of days")?),
            ),
            shutdown_grace: Duration::from_secs(settings.number_in(
                "INGEST_SHUTDOWN_GRACE_SECONDS",
                20,
                SHUTDOWN_GRACE_SECONDS,
                "a number of seconds",
            )?),
            limits: SandboxLimits {
                call_timeout: Duration::from_millis(settings.number_in(
                    "INGEST_IMPORTER_TIMEOUT_MS",
                    SandboxLimits::default().call_timeout.as_millis() as u64,
                    IMPORTER_TIMEOUT_MS,
                    "a number of milliseconds",
                )?),
                memory_bytes: settings.number(
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

    /// Lists the effective settings under their file keys, as `ingest config` prints
    /// them, with the database URL's password replaced by `***`.
    pub fn to_table(&self) -> toml::Table {
        let paths = |paths: &[PathBuf]| -> toml::Value {
            paths.iter().map(|path| toml::Value::from(path.display().to_string())).collect::<Vec<_>>().into()
        };
        let mut table = toml::Table::new();
        let mut set = |key: &str, value: toml::Value| {
            table.insert(key.to_owned(), value);
        };
        set("database_url", redact_password(&self.database_url).into());
        set("plugins_dir", self.plugins_dir.display().to_string().into());
        set("storage_dir", self.storage_dir.display().to_string().into());
        set("address", self.address.clone().into());
        set("port", i64::from(self.port).into());
        set("api_prefix", self.api_prefix.clone().into());
        set("trust_proxy_headers", self.trust_proxy_headers.into());
        set("import_dirs", paths(&self.import_dirs));
        set("url_allowed_hosts", self.fetch.allowed_hosts.clone().into());
        // TOML has no null, and a blank value reads as unset.
        set("url_proxy", self.fetch.proxy.as_ref().map(ToString::to_string).unwrap_or_default().into());
        set("url_timeout_seconds", saturating_i64(self.fetch.timeout.as_secs()).into());
        set("url_max_redirects", i64::from(self.fetch.max_redirects).into());
        set("url_max_bytes", saturating_i64(self.fetch.max_bytes).into());
        set("max_upload_bytes", saturating_i64(self.max_upload_bytes).into());
        set("workers", saturating_i64(self.workers as u64).into());
        set("run_rows_limit", self.run_rows_limit.into());
        set("target_tables", self.target_tables.clone().into());
        set("create_target_tables", self.create_target_tables.into());
        set("lease_seconds", saturating_i64(self.lease.as_secs()).into());
        set("retention_days", saturating_i64(self.retention.as_secs() / SECONDS_PER_DAY).into());
        set("shutdown_grace_seconds", saturating_i64(self.shutdown_grace.as_secs()).into());
        set("importer_timeout_ms", saturating_i64(self.limits.call_timeout.as_millis() as u64).into());
        set("importer_memory_bytes", saturating_i64(self.limits.memory_bytes as u64).into());
        table
    }
}

/// Allowed values of `INGEST_WORKERS`. A server with no worker would accept runs and
/// never process them. The maximum only catches typing errors, such as an extra digit.
const WORKERS: RangeInclusive<usize> = 1..=1024;
/// Allowed values of `INGEST_LEASE_SECONDS`: a lease of 0 s runs out before the first
/// heartbeat renews it, so every node would take every run over. One day is far longer
/// than any chunk takes.
const LEASE_SECONDS: RangeInclusive<u64> = 1..=86_400;
/// Allowed values of `INGEST_IMPORTER_TIMEOUT_MS`: 0 ms would fail every call into an
/// importer. One hour is far longer than any chunk takes.
const IMPORTER_TIMEOUT_MS: RangeInclusive<u64> = 1..=3_600_000;
/// Allowed values of `INGEST_SHUTDOWN_GRACE_SECONDS`. With 0 the server exits at once and
/// its runs resume when their leases run out. The default of 20 s ends before the 30 s
/// after which Kubernetes sends SIGKILL by default.
const SHUTDOWN_GRACE_SECONDS: RangeInclusive<u64> = 0..=3600;

/// Reads `INGEST_RUN_ROWS_LIMIT`, which must not be negative: SQL reads a negative
/// `LIMIT` as no limit on SQLite and rejects it on PostgreSQL.
fn run_rows_limit(settings: &mut Settings) -> Result<i64, ConfigError> {
    const EXPECTED: &str = "a number of rows, 0 or more";
    let limit = settings.number("INGEST_RUN_ROWS_LIMIT", 100, EXPECTED)?;
    if limit < 0 {
        return Err(ConfigError::Invalid {
            origin: settings.origin("INGEST_RUN_ROWS_LIMIT"),
            value: limit.to_string(),
            expected: EXPECTED.into(),
        });
    }
    Ok(limit)
}

/// Reads `INGEST_DATABASE_URL` and rejects URLs of databases other than SQLite and
/// PostgreSQL, which would otherwise be read as the path of a SQLite file.
fn database_url(settings: &mut Settings) -> Result<String, ConfigError> {
    let url = settings.text("INGEST_DATABASE_URL")?.unwrap_or_else(|| "data/ingest.db".into());
    if let Some(scheme) = DatabaseUrl::unsupported_scheme(&url) {
        return Err(ConfigError::UnsupportedDatabase {
            origin: settings.origin("INGEST_DATABASE_URL"),
            scheme: scheme.to_owned(),
        });
    }
    Ok(url)
}

/// Reads `INGEST_API_PREFIX`, without a trailing slash, and checks that Rocket can mount
/// routes under it (see [`is_valid_api_prefix`]).
fn api_prefix(settings: &mut Settings) -> Result<String, ConfigError> {
    let Some(value) = settings.text("INGEST_API_PREFIX")? else { return Ok("/api/v1/ingest".into()) };
    let prefix = match value.trim_end_matches('/') {
        "" => "/",
        trimmed => trimmed,
    };
    if !is_valid_api_prefix(prefix) {
        return Err(ConfigError::Invalid {
            origin: settings.origin("INGEST_API_PREFIX"),
            value,
            expected: "a URL path such as /api/v1/ingest: a leading slash, then segments of letters, digits, \
                       '-', '_', '.' or '~' separated by single slashes"
                .into(),
        });
    }
    Ok(prefix.to_owned())
}

/// Checks an API prefix: `/`, or `/` followed by segments of URL-safe characters. Rocket
/// panics at start-up on a mount point with a query, a `<parameter>` or characters that
/// need percent-encoding, so those are rejected here with a message instead.
fn is_valid_api_prefix(prefix: &str) -> bool {
    if prefix == "/" {
        return true;
    }
    let Some(path) = prefix.strip_prefix('/') else { return false };
    path.split('/').all(|segment| {
        !segment.is_empty()
            && segment != "."
            && segment != ".."
            && segment.chars().all(|character| character.is_ascii_alphanumeric() || "-_.~".contains(character))
    })
}

/// Reads the `INGEST_URL_*` settings of URL sources.
fn fetch_settings(settings: &mut Settings) -> Result<FetchSettings, ConfigError> {
    let defaults = FetchSettings::default();
    let proxy = match settings.text("INGEST_URL_PROXY")? {
        None => None,
        Some(value) => Some(value.parse().map_err(|expected: &'static str| ConfigError::Invalid {
            origin: settings.origin("INGEST_URL_PROXY"),
            value,
            expected: expected.into(),
        })?),
    };
    Ok(FetchSettings {
        allowed_hosts: settings
            .list("INGEST_URL_ALLOWED_HOSTS")?
            .into_iter()
            .map(|host| host.to_ascii_lowercase())
            .collect(),
        proxy,
        timeout: Duration::from_secs(settings.number(
            "INGEST_URL_TIMEOUT_SECONDS",
            defaults.timeout.as_secs(),
            "a number of seconds",
        )?),
        max_redirects: settings.number("INGEST_URL_MAX_REDIRECTS", defaults.max_redirects, "a number of redirects")?,
        max_bytes: settings.number("INGEST_URL_MAX_BYTES", defaults.max_bytes, "a size in bytes")?,
    })
}

/// TOML integers are signed 64-bit; no setting comes near the limit in practice.
fn saturating_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Replaces the password of a URL such as `postgres://user:secret@host/db` with `***`;
/// other text, such as a SQLite path, is returned as it is.
pub fn redact_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else { return url.to_owned() };
    let authority_start = scheme_end + 3;
    let authority_end = url[authority_start..].find(['/', '?', '#']).map_or(url.len(), |end| authority_start + end);
    let authority = &url[authority_start..authority_end];
    let Some(at) = authority.rfind('@') else { return url.to_owned() };
    let Some(colon) = authority[..at].find(':') else { return url.to_owned() };
    let password_start = authority_start + colon + 1;
    let password_end = authority_start + at;
    format!("{}***{}", &url[..password_start], &url[password_end..])
}

/// One setting's value before it is parsed: environment variables are always text, a
/// file may also hold numbers, booleans and arrays.
enum RawValue {
    Text(String),
    List(Vec<String>),
}

/// The settings of one load: the parsed file, if any, and the file keys read so far.
struct Settings {
    file: Option<PathBuf>,
    table: toml::Table,
    read_keys: BTreeSet<String>,
    /// Whether `INGEST_*` variables are read; off in unit tests, so a developer's
    /// environment cannot change their outcome.
    read_env: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self { file: None, table: toml::Table::new(), read_keys: BTreeSet::new(), read_env: true }
    }
}

impl Settings {
    fn from_file(file: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(file)
            .map_err(|source| ConfigError::Unreadable { file: file.to_path_buf(), source })?;
        let table = text
            .parse::<toml::Table>()
            .map_err(|error| ConfigError::Syntax { file: file.to_path_buf(), message: error.message().to_owned() })?;
        Ok(Self { file: Some(file.to_path_buf()), table, ..Self::default() })
    }

    /// The file key of the variable `name`: `INGEST_PORT` is `port`.
    fn key(name: &str) -> String {
        name.strip_prefix("INGEST_").unwrap_or(name).to_ascii_lowercase()
    }

    fn env(&self, name: &str) -> Option<String> {
        if !self.read_env {
            return None;
        }
        std::env::var(name).ok().map(|value| value.trim().to_owned()).filter(|value| !value.is_empty())
    }

    /// Names where the value of `name` comes from, for error messages: `INGEST_PORT` or
    /// `port in ingest.toml`.
    fn origin(&self, name: &str) -> String {
        match &self.file {
            Some(file) if self.env(name).is_none() => format!("{} in {}", Self::key(name), file.display()),
            _ => name.to_owned(),
        }
    }

    /// Reads the value of `name` from the environment or else the file. Returns `None`
    /// when neither sets it or the value is blank.
    fn raw(&mut self, name: &str) -> Result<Option<RawValue>, ConfigError> {
        let key = Self::key(name);
        self.read_keys.insert(key.clone());
        if let Some(value) = self.env(name) {
            return Ok(Some(RawValue::Text(value)));
        }
        let Some(value) = self.table.get(&key) else { return Ok(None) };
        let scalar = |value: &toml::Value| -> Option<String> {
            match value {
                toml::Value::String(text) => Some(text.trim().to_owned()),
                toml::Value::Integer(number) => Some(number.to_string()),
                toml::Value::Float(number) => Some(number.to_string()),
                toml::Value::Boolean(flag) => Some(flag.to_string()),
                _ => None,
            }
        };
        let invalid = || ConfigError::Invalid {
            origin: self.origin(name),
            value: value.to_string(),
            expected: "a string, number, boolean or array of strings".into(),
        };
        let raw = match value {
            toml::Value::Array(items) => {
                RawValue::List(items.iter().map(scalar).collect::<Option<Vec<String>>>().ok_or_else(invalid)?)
            }
            other => RawValue::Text(scalar(other).ok_or_else(invalid)?),
        };
        Ok(match raw {
            RawValue::Text(text) if text.is_empty() => None,
            raw => Some(raw),
        })
    }

    /// Reads a text setting. An array in the file is joined with commas.
    fn text(&mut self, name: &'static str) -> Result<Option<String>, ConfigError> {
        Ok(match self.raw(name)? {
            Some(RawValue::Text(text)) => Some(text),
            Some(RawValue::List(items)) => Some(items.join(",")),
            None => None,
        })
    }

    /// Reads a list: comma- or colon-separated text, or an array in the file.
    fn list(&mut self, name: &'static str) -> Result<Vec<String>, ConfigError> {
        let items = match self.raw(name)? {
            Some(RawValue::Text(text)) => text.split([',', ':']).map(str::trim).map(str::to_owned).collect(),
            Some(RawValue::List(items)) => items,
            None => Vec::new(),
        };
        Ok(items.into_iter().filter(|item| !item.is_empty()).collect())
    }

    fn number<T: std::str::FromStr>(&mut self, name: &'static str, default: T, expected: &'static str) -> Result<T, ConfigError> {
        let value = match self.raw(name)? {
            None => return Ok(default),
            Some(RawValue::Text(value)) => value,
            Some(RawValue::List(items)) => items.join(","),
        };
        value.parse().map_err(|_| ConfigError::Invalid { origin: self.origin(name), value, expected: expected.into() })
    }

    /// Reads a number as [`Settings::number`] does and rejects values outside `range`,
    /// naming the range in the error.
    fn number_in<T>(
        &mut self,
        name: &'static str,
        default: T,
        range: RangeInclusive<T>,
        expected: &'static str,
    ) -> Result<T, ConfigError>
    where
        T: std::str::FromStr + PartialOrd + Display,
    {
        let expected_in_range = || format!("{expected} from {} to {}", range.start(), range.end());
        let value = self.number(name, default, expected).map_err(|error| match error {
            ConfigError::Invalid { origin, value, .. } => {
                ConfigError::Invalid { origin, value, expected: expected_in_range() }
            }
            other => other,
        })?;
        if !range.contains(&value) {
            return Err(ConfigError::Invalid { origin: self.origin(name), value: value.to_string(), expected: expected_in_range() });
        }
        Ok(value)
    }

    fn flag(&mut self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        let value = match self.raw(name)? {
            None => return Ok(default),
            Some(RawValue::Text(value)) => value,
            Some(RawValue::List(items)) => items.join(","),
        };
        match value.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(ConfigError::Invalid { origin: self.origin(name), value, expected: "true or false".into() }),
        }
    }

    /// Fails on file keys that no setting read, which are most likely misspelt.
    fn reject_unread_keys(&self) -> Result<(), ConfigError> {
        let unknown: Vec<String> = self.table.keys().filter(|key| !self.read_keys.contains(*key)).cloned().collect();
        match (&self.file, unknown.is_empty()) {
            (Some(file), false) => Err(ConfigError::UnknownKeys { file: file.clone(), keys: unknown }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(toml: &str) -> Settings {
        Settings { file: Some("test.toml".into()), table: toml.parse().unwrap(), read_env: false, ..Settings::default() }
    }

    #[test]
    fn file_values_of_every_kind_are_read() {
        let mut settings = settings(
            r#"
            database_url = "sqlite://other.db"
            port = 9000
            create_target_tables = false
            target_tables = ["airports", "stock_*"]
            import_dirs = "/srv/a:/srv/b"
            "#,
        );
        let config = Config::read(&mut settings).unwrap();

        assert_eq!(config.database_url, "sqlite://other.db");
        assert_eq!(config.port, 9000);
        assert!(!config.create_target_tables);
        assert_eq!(config.target_tables, ["airports", "stock_*"]);
        assert_eq!(config.import_dirs, [PathBuf::from("/srv/a"), PathBuf::from("/srv/b")]);
        assert!(settings.reject_unread_keys().is_ok());
    }

    #[test]
    fn wrong_kind_error_names_file_key() {
        let mut settings = settings("port = \"eighty\"");
        let error = Config::read(&mut settings).unwrap_err().to_string();

        assert!(error.contains("port in test.toml"), "{error}");
        assert!(error.contains("a TCP port number"), "{error}");
    }

    #[test]
    fn unknown_file_key_is_rejected() {
        let mut settings = settings("prot = 9000");
        Config::read(&mut settings).unwrap();
        let error = settings.reject_unread_keys().unwrap_err().to_string();

        assert!(error.contains("prot"), "{error}");
    }

    #[test]
    fn printed_table_has_every_file_key() {
        let mut settings = Settings { read_env: false, ..Settings::default() };
        let config = Config::read(&mut settings).unwrap();
        let printed: BTreeSet<String> = config.to_table().keys().cloned().collect();

        assert_eq!(printed, settings.read_keys, "to_table must print every setting that load reads");
    }

    #[test]
    fn zero_counts_are_rejected_with_range() {
        for (key, range) in [
            ("workers", "from 1 to 1024"),
            ("lease_seconds", "from 1 to 86400"),
            ("importer_timeout_ms", "from 1 to 3600000"),
        ] {
            let error = Config::read(&mut settings(&format!("{key} = 0"))).unwrap_err().to_string();

            assert!(error.starts_with(&format!("{key} in test.toml is invalid: \"0\"")), "{error}");
            assert!(error.contains(range), "{error}");
        }
    }

    #[test]
    fn unparsable_count_error_names_range() {
        let error = Config::read(&mut settings("workers = \"two\"")).unwrap_err().to_string();

        assert!(error.contains("a number of concurrent runs from 1 to 1024"), "{error}");
    }

    #[test]
    fn negative_run_rows_limit_is_rejected() {
        let error = Config::read(&mut settings("run_rows_limit = -1")).unwrap_err().to_string();

        assert!(error.contains("run_rows_limit in test.toml is invalid"), "{error}");
        assert!(error.contains("0 or more"), "{error}");
    }

    #[test]
    fn unknown_database_scheme_is_rejected() {
        let error = Config::read(&mut settings("database_url = \"mysql://app:secret@db/app\"")).unwrap_err().to_string();

        assert!(error.contains("database_url in test.toml is invalid: mysql:// databases are not supported"), "{error}");
        assert!(error.contains("sqlite://"), "{error}");
        assert!(error.contains("postgres://"), "{error}");
        assert!(!error.contains("secret"), "the password stays out of the message: {error}");
    }

    #[test]
    fn api_prefix_is_validated() {
        for (value, expected) in [("/api/v1/ingest", "/api/v1/ingest"), ("/imports/", "/imports"), ("/", "/"), ("/v1.0/x_y~z", "/v1.0/x_y~z")] {
            let config = Config::read(&mut settings(&format!("api_prefix = \"{value}\""))).unwrap();
            assert_eq!(config.api_prefix, expected, "{value}");
        }
        for value in ["api", "/api v1", "/api/<id>", "/api?x=1", "//api", "/api//v1", "/a/../b", "/ä"] {
            let error = Config::read(&mut settings(&format!("api_prefix = \"{value}\""))).unwrap_err().to_string();
            assert!(error.contains("api_prefix in test.toml is invalid"), "{value}: {error}");
        }
    }

    #[test]
    fn valid_api_prefixes_mount_in_rocket() {
        // Rocket panics on a mount point it cannot parse, so every prefix the check
        // accepts must mount, with the dynamic route shapes the API uses.
        for prefix in ["/", "/api/v1/ingest", "/v1.0/x_y~z", "/a-b"] {
            assert!(is_valid_api_prefix(prefix), "{prefix}");
            let routes = ["/", "/<id>", "/<id>/retry", "/upload/<slug>"]
                .map(|path| rocket::Route::new(rocket::http::Method::Get, path, rocket::route::dummy_handler));
            let _ = rocket::build().mount(prefix, routes.to_vec());
        }
    }

    #[test]
    fn password_is_redacted() {
        assert_eq!(redact_password("postgres://ingest:s3cret@db:5432/ingest"), "postgres://ingest:***@db:5432/ingest");
        assert_eq!(redact_password("postgres://a:b:c@db/x?sslmode=require"), "postgres://a:***@db/x?sslmode=require");
    }

    #[test]
    fn url_without_password_is_unchanged() {
        for url in ["data/ingest.db", "sqlite://data/ingest.db", "postgres://ingest@db/ingest", "postgres://db/x?u=a:b@c"] {
            assert_eq!(redact_password(url), url);
        }
    }
}
