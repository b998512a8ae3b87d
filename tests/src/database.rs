//! Direct reads of a test server's SQLite file, to check what an import wrote.

use std::path::Path;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Opens the database file next to the running server.
fn connect(database: &Path) -> SqliteConnection {
    let url = database.to_str().expect("the test directory path is UTF-8");
    let mut connection =
        SqliteConnection::establish(url).unwrap_or_else(|error| panic!("cannot open the test database {url}: {error}"));
    // The server may hold a write lock for the length of a chunk.
    diesel::sql_query("PRAGMA busy_timeout = 10000")
        .execute(&mut connection)
        .expect("cannot set the SQLite busy timeout");
    connection
}

/// Runs `sql`, which must select one integer column named `n`, and returns its value.
pub fn query_count(database: &Path, sql: &str) -> i64 {
    let mut connection = connect(database);
    diesel::sql_query(sql)
        .get_result::<Count>(&mut connection)
        .unwrap_or_else(|error| panic!("query failed: {sql}: {error}"))
        .n
}

pub fn count_rows(database: &Path, table: &str) -> i64 {
    query_count(database, &format!("SELECT COUNT(*) AS n FROM {}", quote_identifier(table)))
}

pub fn table_exists(database: &Path, table: &str) -> bool {
    let mut connection = connect(database);
    let count = diesel::sql_query("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?")
        .bind::<Text, _>(table)
        .get_result::<Count>(&mut connection)
        .unwrap_or_else(|error| panic!("cannot look up table {table}: {error}"));
    count.n > 0
}

fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
