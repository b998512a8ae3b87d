//! The database of one measured case: a SQLite file in the case's directory, or a
//! PostgreSQL database created for it and dropped with it. Also the checks that a table
//! contains exactly the rows of a generated file.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::sqlite::SqliteConnection;

use crate::Backend;
use crate::generate::Fingerprint;

pub enum BenchDatabase {
    Sqlite { path: PathBuf },
    Postgres { name: String, url: String, admin_url: String },
}

#[derive(QueryableByName)]
struct FingerprintRow {
    #[diesel(sql_type = BigInt)]
    rows: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    price_cents: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    stock: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    description_chars: Option<i64>,
}

#[derive(QueryableByName)]
struct TextRow {
    #[diesel(sql_type = Text)]
    text: String,
}

impl BenchDatabase {
    /// Creates the database of the case `label`: `ingest.db` in `dir` on SQLite, a new
    /// database `ingest_bench_<pid>_<label>` on the PostgreSQL server of `postgres_url`.
    pub fn create(backend: Backend, dir: &Path, label: &str, postgres_url: &str) -> anyhow::Result<Self> {
        match backend {
            Backend::Sqlite => Ok(Self::Sqlite { path: dir.join("ingest.db") }),
            Backend::Postgres => {
                let name = format!("ingest_bench_{}_{label}", std::process::id());
                let mut admin = PgConnection::establish(postgres_url)
                    .with_context(|| format!("cannot connect to PostgreSQL at {postgres_url} (--postgres-url)"))?;
                admin
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .with_context(|| format!("cannot create the database {name}"))?;
                let url = replace_database_name(postgres_url, &name);
                Ok(Self::Postgres { name, url, admin_url: postgres_url.to_owned() })
            }
        }
    }

    /// Returns the value of `INGEST_DATABASE_URL` for a server on this database.
    pub fn url(&self) -> String {
        match self {
            Self::Sqlite { path } => path.display().to_string(),
            Self::Postgres { url, .. } => url.clone(),
        }
    }

    /// Returns the fingerprint of `table` (see [`Fingerprint`]), which may be qualified
    /// by a schema on PostgreSQL.
    pub fn fingerprint(&self, table: &str) -> anyhow::Result<Fingerprint> {
        match self {
            Self::Sqlite { path } => sqlite_fingerprint(path, table),
            Self::Postgres { url, .. } => {
                let sql = format!(
                    "SELECT count(*) AS rows, sum(round(price * 100)::bigint)::bigint AS price_cents, \
                     sum(stock)::bigint AS stock, sum(length(description))::bigint AS description_chars FROM {table}"
                );
                let row: FingerprintRow = diesel::sql_query(&sql).get_result(&mut self.connect_postgres(url)?)?;
                Ok(fingerprint_of(row))
            }
        }
    }

    /// Describes the `products` table the server created, as the backend's catalogue
    /// states it: the `CREATE TABLE` statement on SQLite, the columns and indexes on
    /// PostgreSQL.
    pub fn products_schema(&self) -> anyhow::Result<String> {
        match self {
            Self::Sqlite { path } => {
                let mut connection = connect_sqlite(path)?;
                let rows: Vec<TextRow> =
                    diesel::sql_query("SELECT sql AS text FROM sqlite_master WHERE name = 'products'")
                        .load(&mut connection)?;
                Ok(rows.into_iter().map(|row| row.text).collect::<Vec<_>>().join("\n"))
            }
            Self::Postgres { url, .. } => {
                let mut connection = self.connect_postgres(url)?;
                let columns: Vec<TextRow> = diesel::sql_query(
                    "SELECT column_name || ' ' || data_type || CASE WHEN is_nullable = 'NO' THEN ' NOT NULL' ELSE '' END \
                     AS text FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'products' \
                     ORDER BY ordinal_position",
                )
                .load(&mut connection)?;
                let indexes: Vec<TextRow> = diesel::sql_query(
                    "SELECT indexdef AS text FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'products' \
                     ORDER BY indexname",
                )
                .load(&mut connection)?;
                let columns: Vec<String> = columns.into_iter().map(|row| row.text).collect();
                let mut lines = vec![format!("products ({})", columns.join(", "))];
                lines.extend(indexes.into_iter().map(|row| row.text));
                Ok(lines.join("\n"))
            }
        }
    }

    /// Returns the declared type of each column of the server's `products` table, by
    /// column name, lower-case.
    pub fn products_column_types(&self) -> anyhow::Result<Vec<(String, String)>> {
        let rows: Vec<TextRow> = match self {
            Self::Sqlite { path } => diesel::sql_query(
                "SELECT lower(name) || ' ' || lower(type) AS text FROM pragma_table_info('products') ORDER BY cid",
            )
            .load(&mut connect_sqlite(path)?)?,
            Self::Postgres { url, .. } => diesel::sql_query(
                "SELECT column_name || ' ' || data_type AS text FROM information_schema.columns \
                 WHERE table_schema = 'public' AND table_name = 'products' ORDER BY ordinal_position",
            )
            .load(&mut self.connect_postgres(url)?)?,
        };
        Ok(rows
            .into_iter()
            .filter_map(|row| row.text.split_once(' ').map(|(name, kind)| (name.to_owned(), kind.to_owned())))
            .collect())
    }

    /// Returns the PostgreSQL URL of this database, for `psql`; `None` on SQLite.
    pub fn postgres_url(&self) -> Option<&str> {
        match self {
            Self::Sqlite { .. } => None,
            Self::Postgres { url, .. } => Some(url),
        }
    }

    fn connect_postgres(&self, url: &str) -> anyhow::Result<PgConnection> {
        PgConnection::establish(url).with_context(|| format!("cannot connect to {url}"))
    }
}

impl Drop for BenchDatabase {
    fn drop(&mut self) {
        let Self::Postgres { name, admin_url, .. } = self else { return };
        // FORCE ends the sessions of a server that is still connected (PostgreSQL 13+).
        let dropped = PgConnection::establish(admin_url).map_err(anyhow::Error::from).and_then(|mut admin| {
            admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).map_err(anyhow::Error::from)
        });
        if let Err(error) = dropped {
            eprintln!("cannot drop the benchmark database {name}: {error}; drop it by hand");
        }
    }
}

/// Returns the fingerprint of `table` in the SQLite database at `path`.
pub fn sqlite_fingerprint(path: &Path, table: &str) -> anyhow::Result<Fingerprint> {
    let sql = format!(
        "SELECT count(*) AS rows, sum(CAST(round(price * 100) AS INTEGER)) AS price_cents, sum(stock) AS stock, \
         sum(length(description)) AS description_chars FROM {table}"
    );
    let row: FingerprintRow = diesel::sql_query(&sql)
        .get_result(&mut connect_sqlite(path)?)
        .with_context(|| format!("query failed on {}: {sql}", path.display()))?;
    Ok(fingerprint_of(row))
}

fn connect_sqlite(path: &Path) -> anyhow::Result<SqliteConnection> {
    let url = path.to_str().with_context(|| format!("{} is not valid UTF-8", path.display()))?;
    SqliteConnection::establish(url).with_context(|| format!("cannot open {url}"))
}

fn fingerprint_of(row: FingerprintRow) -> Fingerprint {
    let unsigned = |value: Option<i64>| value.unwrap_or(0).max(0) as u64;
    Fingerprint {
        rows: row.rows.max(0) as u64,
        price_cents: unsigned(row.price_cents),
        stock: unsigned(row.stock),
        description_chars: unsigned(row.description_chars),
    }
}

/// Fails unless a table's fingerprint `actual` equals the file's, `expected`.
pub fn expect_fingerprint(actual: Fingerprint, expected: Fingerprint, label: &str) -> anyhow::Result<()> {
    if actual != expected {
        bail!("{label}: the table does not hold the file's rows: found {actual:?}, expected {expected:?}");
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_is_replaced_in_urls() {
        assert_eq!(replace_database_name("postgres://u@h:5432/postgres", "x"), "postgres://u@h:5432/x");
        assert_eq!(
            replace_database_name("postgres://u@h/postgres?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(replace_database_name("postgres://u@h", "x"), "postgres://u@h/x");
        assert_eq!(replace_database_name("postgres://u@h?a=b", "x"), "postgres://u@h/x?a=b");
    }
}
