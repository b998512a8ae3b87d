//! One connection type for both backends: SQLite (the embedded default) and PostgreSQL
//! (several nodes sharing one database).
//!
//! Queries built with diesel's DSL run on either backend unchanged. Raw SQL differs in its
//! bind parameters (`?` against `$1`), so it takes them from [`Backend::placeholder`];
//! where the SQL itself must differ, callers match on [`DbConnection::backend`].

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{CustomizeConnection, ManageConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;

/// A connection to the host's database, whichever backend it is.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

/// The database systems the host runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The bind parameter number `index` (counted from 1) in raw SQL.
    pub fn placeholder(self, index: usize) -> String {
        match self {
            Backend::Sqlite => "?".to_owned(),
            Backend::Postgres => format!("${index}"),
        }
    }

    /// `count` comma-separated bind parameters, numbered from `first`.
    pub fn placeholders(self, first: usize, count: usize) -> String {
        (first..first + count).map(|index| self.placeholder(index)).collect::<Vec<_>>().join(", ")
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

impl DbConnection {
    pub fn backend(&self) -> Backend {
        match self {
            DbConnection::Sqlite(_) => Backend::Sqlite,
            DbConnection::Postgres(_) => Backend::Postgres,
        }
    }
}

/// Runs `work` in a transaction that writes, and commits it when `work` returns `Ok`.
///
/// On SQLite the transaction starts with `BEGIN IMMEDIATE`, which takes the write lock at
/// once: a deferred transaction that reads first and then writes fails with
/// `SQLITE_BUSY` when another connection wrote in between, instead of waiting for the
/// busy timeout. Before it, the caller waits for its turn among this process's SQLite
/// write transactions (see [`super::write_turns`]). On PostgreSQL it is an ordinary
/// `BEGIN`, and rows are locked as the statements touch them.
pub fn write_transaction<T, E, F>(connection: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let _turn = match connection {
        DbConnection::Postgres(_) => return connection.transaction(work),
        DbConnection::Sqlite(sqlite) => {
            let turn = super::write_turns::SQLITE_WRITE_TURNS.take();
            begin_immediate(sqlite)?;
            turn
        }
    };
    match work(connection) {
        Ok(value) => {
            <DbConnection as Connection>::TransactionManager::commit_transaction(connection)?;
            Ok(value)
        }
        Err(error) => {
            <DbConnection as Connection>::TransactionManager::rollback_transaction(connection)?;
            Err(error)
        }
    }
}

/// How long a connection waits for SQLite's write lock: its busy timeout.
const BUSY_TIMEOUT: Duration = Duration::from_secs(15);

/// Time between two tries of [`begin_immediate`].
const LOCK_RETRY: Duration = Duration::from_micros(50);

/// Starts a write transaction, trying for the write lock every 50 µs. SQLite's own busy
/// handler sleeps 100 ms between later tries. A run's writer in another process (the
/// server, seen from `ingest cancel`) frees the lock for well under a millisecond between
/// two commit groups, so the handler missed every such moment until the run ended.
fn begin_immediate(sqlite: &mut SqliteConnection) -> diesel::QueryResult<()> {
    sqlite.batch_execute("PRAGMA busy_timeout = 0")?;
    let started = std::time::Instant::now();
    let begun = loop {
        match AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE") {
            Err(error) if is_transient(&error) && started.elapsed() < BUSY_TIMEOUT => std::thread::sleep(LOCK_RETRY),
            begun => break begun,
        }
    };
    sqlite.batch_execute(&format!("PRAGMA busy_timeout = {}", BUSY_TIMEOUT.as_millis()))?;
    begun
}

/// Waits for this thread's turn at SQLite's write lock (see `super::write_turns`), for a
/// statement that writes outside [`write_transaction`]; keep the guard until the
/// statement has run. Returns at once on PostgreSQL, and inside a write transaction.
pub fn write_turn(connection: &DbConnection) -> Option<super::write_turns::Turn<'static>> {
    match connection {
        DbConnection::Sqlite(_) => Some(super::write_turns::SQLITE_WRITE_TURNS.take()),
        DbConnection::Postgres(_) => None,
    }
}

/// Frees the page cache of a SQLite connection that a run filled. Every connection of
/// the pool keeps a cache of its own, up to `cache_size`, for as long as it lives, so
/// without this each run that got another connection than the last added its cache to
/// the server's memory. A failure only leaves the cache in place. Does nothing on
/// PostgreSQL.
pub fn release_cache(connection: &mut DbConnection) {
    if let DbConnection::Sqlite(sqlite) = connection {
        if let Err(error) = sqlite.batch_execute("PRAGMA shrink_memory") {
            tracing::debug!(%error, "cannot free the connection's page cache");
        }
    }
}

/// Whether a transaction that failed with `error` may succeed when it runs again: a
/// PostgreSQL serialization failure or deadlock, or SQLite still busy after its busy
/// timeout.
///
/// NOTE: diesel 2.4 maps no SQLSTATE to a deadlock, so deadlocks are recognised by
/// PostgreSQL's message, which is English only when the server's `lc_messages` is.
pub fn is_transient(error: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match error {
        Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        Error::DatabaseError(_, information) => {
            let message = information.message();
            message.contains("deadlock detected") || message.contains("database is locked")
        }
        _ => false,
    }
}

/// Opens pool connections to one database of a known backend.
///
/// diesel's own `ConnectionManager` tries every backend of the enum in turn, and
/// SQLite accepts any text as a file name: a PostgreSQL URL whose server is down would
/// silently become a new SQLite file named like the URL.
#[derive(Debug)]
pub struct Manager {
    pub backend: Backend,
    pub url: String,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        let connection = match self.backend {
            Backend::Sqlite => SqliteConnection::establish(&self.url).map(DbConnection::Sqlite),
            Backend::Postgres => PgConnection::establish(&self.url).map(DbConnection::Postgres),
        };
        connection.map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, connection: &mut DbConnection) -> Result<(), Self::Error> {
        connection.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, connection: &mut DbConnection) -> bool {
        std::thread::panicking() || connection.is_broken()
    }
}

/// Session settings applied to every pooled connection.
#[derive(Debug)]
pub struct SessionSettings {
    /// How long a PostgreSQL session may sit idle inside a transaction before the server
    /// ends it. The host never waits inside a transaction (importers run before a chunk's
    /// transaction opens), so such a session belongs to a node that hangs, and ending it
    /// releases the locks that keep other nodes from taking over its runs.
    pub idle_in_transaction: Duration,
}

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for SessionSettings {
    fn on_acquire(&self, connection: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        let settings = match connection {
            // The busy timeout makes writers from several workers wait for each other
            // instead of failing at once. WAL mode is set once when the store opens: it
            // is a property of the file, and setting it needs a moment with no other
            // connection.
            //
            // The page cache is 16 MiB instead of SQLite's 2 MiB. Keyed writes in random
            // key order touch index pages all over a large table, and each miss reads a
            // page back from the file. The sqlite3 shell's `.import` of 1M products rows
            // in random SKU order took 7.9 s with 2 MiB, 4.9 s with 16 MiB and 4.7 s with
            // 64 MiB (2-core machine). A connection's cache grows only as far as it is
            // used. Temporary files, such as the statement journal of a multi-row insert,
            // stay in memory. The log's checkpoints run on a thread of their own (see
            // `super::checkpoint`), so a commit checkpoints only a log grown large.
            DbConnection::Sqlite(_) => format!(
                "PRAGMA busy_timeout = {}; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                 PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = {};",
                BUSY_TIMEOUT.as_millis(),
                super::checkpoint::AUTOCHECKPOINT_PAGES
            ),
            DbConnection::Postgres(_) => format!(
                "SET idle_in_transaction_session_timeout = {}; SET TIME ZONE 'UTC';",
                self.idle_in_transaction.as_millis().max(1)
            ),
        };
        connection.batch_execute(&settings).map_err(diesel::r2d2::Error::QueryError)
    }
}
