//! The host's own tables: runs, their remembered rows, and API tokens.
//!
//! Everything here is synchronous diesel; async callers go through [`Store::run`], which
//! moves the work onto tokio's blocking pool so a slow query never stalls the server.

pub mod rows;
pub mod runs;
pub mod schema;
pub mod tokens;

use std::path::Path;
use std::time::Duration;

use diesel::Connection as _;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");

/// Tables the host owns; importers may never write them.
pub const HOST_TABLES: &[&str] = &["ingest_runs", "ingest_rows", "ingest_tokens", "__diesel_schema_migrations"];

pub type Connection = PooledConnection<ConnectionManager<SqliteConnection>>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {path}: {source}")]
    Open { path: String, source: diesel::r2d2::PoolError },
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

/// A pool of connections to the SQLite file that holds the host's tables and, in the
/// embedded set-up, the target tables too.
#[derive(Clone)]
pub struct Store {
    pool: Pool<ConnectionManager<SqliteConnection>>,
}

#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, connection: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        // The busy timeout makes writers from several workers wait for each other
        // instead of failing at once. WAL mode is set once in `Store::open`: it is a
        // property of the file, and setting it needs a moment with no other connection.
        connection
            .batch_execute("PRAGMA busy_timeout = 15000; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

impl Store {
    /// Opens (creating if needed) the SQLite file and applies pending migrations.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|source| StoreError::Directory { path: parent.display().to_string(), source })?;
        }
        // WAL lets API readers work while a run writes.
        let mut first = SqliteConnection::establish(&path.to_string_lossy())
            .map_err(|error| StoreError::Migrate(format!("cannot open {}: {error}", path.display())))?;
        first.batch_execute("PRAGMA busy_timeout = 15000; PRAGMA journal_mode = WAL;")?;
        drop(first);

        let manager = ConnectionManager::<SqliteConnection>::new(path.to_string_lossy());
        let pool = Pool::builder()
            .max_size(8)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(30))
            .connection_customizer(Box::new(SqlitePragmas))
            .build(manager)
            .map_err(|source| StoreError::Open { path: path.display().to_string(), source })?;
        let store = Self { pool };
        store
            .connection()?
            .run_pending_migrations(MIGRATIONS)
            .map_err(|error| StoreError::Migrate(error.to_string()))?;
        Ok(store)
    }

    pub fn connection(&self) -> Result<Connection, StoreError> {
        Ok(self.pool.get()?)
    }

    /// Runs `work` with a connection on the blocking thread pool.
    pub async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut SqliteConnection) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || work(&mut *store.connection()?)).await?
    }
}

/// Formats a moment the way the API shows it: UTC, microseconds, `Z`.
pub fn timestamp(moment: chrono::DateTime<chrono::Utc>) -> String {
    moment.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub fn now() -> String {
    timestamp(chrono::Utc::now())
}
