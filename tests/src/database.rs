//! Each test's own database, on the backend `INGEST_TEST_BACKEND` selects, and direct
//! reads of it to check what an import wrote.
//!
//! - `sqlite` (the default): a file in the test's scratch directory.
//! - `postgres`: a new database `ingest_test_<random>` on the server that
//!   `INGEST_TEST_POSTGRES_URL` names (default `postgres://postgres@127.0.0.1:5432/postgres`),
//!   dropped when the test ends.

use std::path::Path;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel::sqlite::SqliteConnection;

/// The variable that selects the backend of every test database.
pub const BACKEND_VARIABLE: &str = "INGEST_TEST_BACKEND";

/// The variable that names the PostgreSQL server, as a URL of an existing database that
/// a user allowed to create databases can connect to.
pub const POSTGRES_URL_VARIABLE: &str = "INGEST_TEST_POSTGRES_URL";

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The database systems the server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Returns the backend `INGEST_TEST_BACKEND` selects, and panics on a value other than
    /// `sqlite` or `postgres`.
    pub fn selected() -> Self {
        match std::env::var(BACKEND_VARIABLE).unwrap_or_default().trim() {
            "" | "sqlite" => Backend::Sqlite,
            "postgres" => Backend::Postgres,
            other => panic!("{BACKEND_VARIABLE}={other:?} is invalid: expected sqlite or postgres"),
        }
    }
}

#[derive(diesel::MultiConnection)]
enum TestConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// A database that one test's servers share.
pub struct TestDatabase {
    location: Location,
}

enum Location {
    Sqlite(std::path::PathBuf),
    Postgres { name: String, url: String, admin_url: String },
}

impl TestDatabase {
    /// Creates the test's database on the selected backend; a SQLite file goes into `dir`.
    pub fn create(dir: &Path) -> Self {
        let location = match Backend::selected() {
            Backend::Sqlite => Location::Sqlite(dir.join("ingest.db")),
            Backend::Postgres => {
                let admin_url =
                    std::env::var(POSTGRES_URL_VARIABLE).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
                let name = format!("ingest_test_{:016x}", random_u64());
                let mut admin = PgConnection::establish(&admin_url).unwrap_or_else(|error| {
                    panic!("cannot connect to PostgreSQL at {admin_url} ({POSTGRES_URL_VARIABLE}): {error}")
                });
                admin
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .unwrap_or_else(|error| panic!("cannot create the test database {name}: {error}"));
                let url = replace_database_name(&admin_url, &name);
                Location::Postgres { name, url, admin_url }
            }
        };
        Self { location }
    }

    pub fn backend(&self) -> Backend {
        match self.location {
            Location::Sqlite(_) => Backend::Sqlite,
            Location::Postgres { .. } => Backend::Postgres,
        }
    }

    /// The value of `INGEST_DATABASE_URL` for a server on this database.
    pub fn url(&self) -> String {
        match &self.location {
            Location::Sqlite(path) => path.to_str().expect("the test directory path is UTF-8").to_owned(),
            Location::Postgres { url, .. } => url.clone(),
        }
    }

    fn connect(&self) -> TestConnection {
        match &self.location {
            Location::Sqlite(path) => {
                let url = path.to_str().expect("the test directory path is UTF-8");
                let mut connection = SqliteConnection::establish(url)
                    .unwrap_or_else(|error| panic!("cannot open the test database {url}: {error}"));
                // The server may hold a write lock for the length of a chunk.
                connection.batch_execute("PRAGMA busy_timeout = 10000").expect("cannot set the SQLite busy timeout");
                TestConnection::Sqlite(connection)
            }
            Location::Postgres { url, .. } => TestConnection::Postgres(
                PgConnection::establish(url)
                    .unwrap_or_else(|error| panic!("cannot connect to the test database {url}: {error}")),
            ),
        }
    }

    /// Runs `sql`, which must select one integer column named `n`, and returns its value.
    pub fn query_count(&self, sql: &str) -> i64 {
        diesel::sql_query(sql)
            .get_result::<Count>(&mut self.connect())
            .unwrap_or_else(|error| panic!("query failed: {sql}: {error}"))
            .n
    }

    /// Runs `sql`, a statement that changes rows, and returns how many it changed.
    ///
    /// On SQLite it tries every 50 µs for 10 s, as the server's write transactions do: a
    /// server's run frees the write lock only for moments between its commit groups,
    /// which the sleeps of SQLite's busy handler miss.
    pub fn execute(&self, sql: &str) -> usize {
        let mut connection = self.connect();
        if let TestConnection::Sqlite(sqlite) = &mut connection {
            sqlite.batch_execute("PRAGMA busy_timeout = 0").expect("cannot set the SQLite busy timeout");
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match diesel::sql_query(sql).execute(&mut connection) {
                Err(error) if error.to_string().contains("database is locked") && std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_micros(50));
                }
                changed => return changed.unwrap_or_else(|error| panic!("statement failed: {sql}: {error}")),
            }
        }
    }

    pub fn count_rows(&self, table: &str) -> i64 {
        self.query_count(&format!("SELECT COUNT(*) AS n FROM {}", quote_identifier(table)))
    }

    pub fn table_exists(&self, table: &str) -> bool {
        let sql = match self.backend() {
            Backend::Sqlite => "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?",
            Backend::Postgres => {
                "SELECT COUNT(*) AS n FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = $1"
            }
        };
        let count = diesel::sql_query(sql)
            .bind::<Text, _>(table)
            .get_result::<Count>(&mut self.connect())
            .unwrap_or_else(|error| panic!("cannot look up table {table}: {error}"));
        count.n > 0
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Location::Postgres { name, admin_url, .. } = &self.location else { return };
        // FORCE ends the sessions of servers that are still connected (PostgreSQL 13+).
        let dropped = PgConnection::establish(admin_url)
            .map_err(|error| error.to_string())
            .and_then(|mut admin| {
                admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .map_err(|error| error.to_string())
            });
        if let Err(error) = dropped {
            eprintln!("cannot drop the test database {name}: {error}");
        }
    }
}

/// Replaces the database of a URL such as `postgres://user@host:5432/postgres?x=y`.
fn replace_database_name(url: &str, name: &str) -> String {
    let authority_start = url.find("://").map_or(0, |scheme_end| scheme_end + 3);
    let path_start = url[authority_start..].find('/').map(|slash| authority_start + slash);
    let query_start = url.find('?');
    match (path_start, query_start) {
        (Some(path), Some(query)) if path < query => format!("{}/{name}{}", &url[..path], &url[query..]),
        (Some(path), None) => format!("{}/{name}", &url[..path]),
        (_, Some(query)) => format!("{}/{name}{}", &url[..query], &url[query..]),
        (None, None) => format!("{url}/{name}"),
    }
}

/// A random number from the standard library's randomly seeded hasher, so the crate
/// needs no random number generator of its own.
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    hasher.finish()
}

fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_is_replaced_in_urls() {
        assert_eq!(replace_database_name("postgres://u@h:5432/postgres", "x"), "postgres://u@h:5432/x");
        assert_eq!(replace_database_name("postgres://u@h/postgres?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
        assert_eq!(replace_database_name("postgres://u@h", "x"), "postgres://u@h/x");
        assert_eq!(replace_database_name("postgres://u@h?a=b", "x"), "postgres://u@h/x?a=b");
    }
}
