//! The host's own tables: runs, their remembered rows, and API tokens.
//!
//! Everything here is synchronous diesel over [`DbConnection`], which is SQLite or
//! PostgreSQL as the database URL selects. Async callers go through [`Store::run`], which
//! moves the work onto tokio's blocking pool so a slow query never stalls the server.

mod checkpoint;
pub mod connection;
mod migrate;
pub mod rows;
pub mod runs;
pub mod schema;
pub mod tokens;
mod write_turns;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use diesel::Connection as _;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;

pub use connection::{Backend, DbConnection, write_transaction, write_turn};
use checkpoint::Checkpointer;
use connection::{Manager, SessionSettings};

/// Tables the host owns; importers may never write them.
pub const HOST_TABLES: &[&str] = &["ingest_runs", "ingest_rows", "ingest_tokens", "__diesel_schema_migrations"];

pub type Connection = PooledConnection<Manager>;

/// How long a PostgreSQL session may stay idle inside a transaction; see
/// [`SessionSettings::idle_in_transaction`].
const IDLE_IN_TRANSACTION_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {database}: {source}")]
    Open { database: String, source: diesel::r2d2::PoolError },
    #[error("cannot create the database directory {path}: {source}")]
    Directory { path: String, source: std::io::Error },
    #[error("cannot apply the database migrations: {0}")]
    Migrate(String),
    #[error("no database connection became free in time: {0}")]
    Busy(#[from] diesel::r2d2::PoolError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error("the database task stopped before it finished: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// The database a URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file, from a plain path or a `sqlite://` URL.
    Sqlite(PathBuf),
    /// A `postgres://` or `postgresql://` URL, passed to libpq as it is.
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return DatabaseUrl::Postgres(url.to_owned());
        }
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
        DatabaseUrl::Sqlite(PathBuf::from(path))
    }

    /// Returns the scheme of a URL that names a database other than SQLite or
    /// PostgreSQL, such as `mysql` for `mysql://db/app`. [`DatabaseUrl::parse`] would read
    /// such a URL as a SQLite file path. Plain paths and `sqlite:` URLs return `None`.
    pub fn unsupported_scheme(url: &str) -> Option<&str> {
        let (scheme, _) = url.split_once("://")?;
        let is_scheme = scheme.starts_with(|first: char| first.is_ascii_alphabetic())
            && scheme.chars().all(|character| character.is_ascii_alphanumeric() || "+-.".contains(character));
        let supported = matches!(scheme, "sqlite" | "postgres" | "postgresql");
        (is_scheme && !supported).then_some(scheme)
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        }
    }

    /// Returns the URL as logs and errors show it, without a password.
    pub fn label(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => path.display().to_string(),
            DatabaseUrl::Postgres(url) => crate::config::redact_password(url),
        }
    }
}

/// A pool of connections to the database that contains the host's tables and the target
/// tables.
#[derive(Clone)]
pub struct Store {
    pool: Pool<Manager>,
    backend: Backend,
    /// SQLite only; see [`Store::checkpoint_soon`].
    checkpointer: Option<Arc<Checkpointer>>,
}

impl Store {
    /// Opens the database `database_url` names (a SQLite file path, a `sqlite://` URL or
    /// a `postgres://` URL), creating a SQLite file if needed, and applies pending
    /// migrations.
    pub fn open(database_url: &str) -> Result<Self, StoreError> {
        let database = DatabaseUrl::parse(database_url);
        let url = match &database {
            DatabaseUrl::Sqlite(path) => {
                prepare_sqlite_file(path)?;
                path.to_string_lossy().into_owned()
            }
            DatabaseUrl::Postgres(url) => url.clone(),
        };

        let manager = Manager { backend: database.backend(), url };
        // No idle minimum: with one, r2d2 opens a replacement connection on a background
        // thread whenever the last idle one is taken, and a command that exits while libpq
        // is connecting there crashes inside libpq's Kerberos teardown (seen as SIGSEGV or
        // a k5_mutex_lock abort in about one `ingest token create` in three).
        let pool = Pool::builder()
            .max_size(8)
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(30))
            .connection_customizer(Box::new(SessionSettings { idle_in_transaction: IDLE_IN_TRANSACTION_TIMEOUT }))
            .build(manager)
            .map_err(|source| StoreError::Open { database: database.label(), source })?;
        let checkpointer = match &database {
            DatabaseUrl::Sqlite(path) => Checkpointer::start(path).map(Arc::new),
            DatabaseUrl::Postgres(_) => None,
        };
        let store = Self { pool, backend: database.backend(), checkpointer };
        migrate::run_pending(&mut *store.connection()?)?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn connection(&self) -> Result<Connection, StoreError> {
        Ok(self.pool.get()?)
    }

    /// Requests a checkpoint of SQLite's write-ahead log on a thread of its own, so that
    /// the connection that committed goes on writing. Call it after a commit that wrote
    /// many pages. Does nothing on PostgreSQL.
    pub fn checkpoint_soon(&self) {
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.request();
        }
    }

    /// Runs `work` with a connection on the blocking thread pool.
    pub async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || work(&mut *store.connection()?)).await?
    }
}

/// Creates the SQLite file's directory and turns on WAL mode, which lets API readers
/// work while a run writes.
fn prepare_sqlite_file(path: &std::path::Path) -> Result<(), StoreError> {
    if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|source| StoreError::Directory { path: parent.display().to_string(), source })?;
    }
    let mut first = SqliteConnection::establish(&path.to_string_lossy())
        .map_err(|error| StoreError::Migrate(format!("cannot open {}: {error}", path.display())))?;
    first.batch_execute("PRAGMA busy_timeout = 15000; PRAGMA journal_mode = WAL;")?;
    Ok(())
}

/// Formats a moment the way the API shows it: UTC, microseconds, `Z`.
pub fn timestamp(moment: chrono::DateTime<chrono::Utc>) -> String {
    moment.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub fn now() -> String {
    timestamp(chrono::Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_names_its_backend() {
        assert_eq!(DatabaseUrl::parse("data/ingest.db"), DatabaseUrl::Sqlite("data/ingest.db".into()));
        assert_eq!(DatabaseUrl::parse("sqlite://data/ingest.db"), DatabaseUrl::Sqlite("data/ingest.db".into()));
        assert_eq!(DatabaseUrl::parse("sqlite:/tmp/x.db"), DatabaseUrl::Sqlite("/tmp/x.db".into()));
        assert_eq!(
            DatabaseUrl::parse("postgres://ingest@db/ingest"),
            DatabaseUrl::Postgres("postgres://ingest@db/ingest".into())
        );
        assert_eq!(DatabaseUrl::parse("postgresql://db/x").backend(), Backend::Postgres);
    }

    #[test]
    fn unsupported_scheme_is_found() {
        assert_eq!(DatabaseUrl::unsupported_scheme("mysql://app@db/app"), Some("mysql"));
        assert_eq!(DatabaseUrl::unsupported_scheme("POSTGRES://db/app"), Some("POSTGRES"));
        for url in ["data/ingest.db", "sqlite://data/ingest.db", "sqlite:x.db", "postgres://db/x", "postgresql://db/x"] {
            assert_eq!(DatabaseUrl::unsupported_scheme(url), None, "{url}");
        }
        // Text before :// that cannot be a scheme is part of a file path.
        assert_eq!(DatabaseUrl::unsupported_scheme("./data/a://b.db"), None);
    }

    #[test]
    fn placeholders_follow_the_backend() {
        assert_eq!(Backend::Sqlite.placeholders(3, 2), "?, ?");
        assert_eq!(Backend::Postgres.placeholders(3, 2), "$3, $4");
    }
}
