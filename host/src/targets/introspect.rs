//! Reads what the database reports about an existing target table: its columns and unique
//! indexes. SQLite answers through its `pragma_*` table functions, PostgreSQL through
//! `information_schema` and `pg_index`.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};

use crate::store::{Backend, DbConnection};

#[derive(QueryableByName)]
struct TableColumn {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct IndexEntry {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Integer)]
    unique: i32,
}

#[derive(QueryableByName)]
struct IndexColumn {
    #[diesel(sql_type = Text)]
    index_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

/// The columns of `table`, or `None` when it does not exist.
pub fn table_columns(connection: &mut DbConnection, table: &str) -> QueryResult<Option<Vec<String>>> {
    let sql = match connection.backend() {
        Backend::Sqlite => "SELECT name FROM pragma_table_info(?)",
        Backend::Postgres => {
            "SELECT column_name::text AS name FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position"
        }
    };
    let columns: Vec<TableColumn> = diesel::sql_query(sql).bind::<Text, _>(table).load(connection)?;
    Ok(if columns.is_empty() { None } else { Some(columns.into_iter().map(|column| column.name).collect()) })
}

/// Whether `table` has a unique index (or primary key) over exactly `key`, which an
/// `INSERT … ON CONFLICT (key)` needs.
pub fn has_unique_index(connection: &mut DbConnection, table: &str, key: &[String]) -> QueryResult<bool> {
    let mut wanted: Vec<String> = key.iter().map(|name| name.to_ascii_lowercase()).collect();
    wanted.sort();
    let indexes = match connection.backend() {
        Backend::Sqlite => sqlite_unique_indexes(connection, table)?,
        Backend::Postgres => postgres_unique_indexes(connection, table)?,
    };
    Ok(indexes.into_values().any(|mut columns| {
        columns.sort();
        columns == wanted
    }))
}

/// The unique indexes of a SQLite table, by name, with their lower-case column names.
fn sqlite_unique_indexes(connection: &mut DbConnection, table: &str) -> QueryResult<BTreeMap<String, Vec<String>>> {
    let indexes: Vec<IndexEntry> =
        diesel::sql_query("SELECT name, \"unique\" FROM pragma_index_list(?)").bind::<Text, _>(table).load(connection)?;
    let mut unique = BTreeMap::new();
    for index in indexes.into_iter().filter(|index| index.unique == 1) {
        let columns: Vec<TableColumn> = diesel::sql_query("SELECT name FROM pragma_index_info(?)")
            .bind::<Text, _>(&index.name)
            .load(connection)?;
        unique.insert(index.name, columns.into_iter().map(|column| column.name.to_ascii_lowercase()).collect());
    }
    Ok(unique)
}

/// The unique indexes of a PostgreSQL table in the current schema, by name, with their
/// lower-case column names. Partial and expression indexes are left out, because
/// `ON CONFLICT (columns)` cannot use them.
fn postgres_unique_indexes(
    connection: &mut DbConnection,
    table: &str,
) -> QueryResult<BTreeMap<String, Vec<String>>> {
    let entries: Vec<IndexColumn> = diesel::sql_query(
        "SELECT index_class.relname::text AS index_name, attribute.attname::text AS column_name \
         FROM pg_index \
         JOIN pg_class AS index_class ON index_class.oid = pg_index.indexrelid \
         JOIN pg_attribute AS attribute \
             ON attribute.attrelid = pg_index.indrelid AND attribute.attnum = ANY(pg_index.indkey) \
         WHERE pg_index.indrelid = to_regclass(quote_ident($1)) \
             AND pg_index.indisunique AND pg_index.indpred IS NULL AND pg_index.indexprs IS NULL",
    )
    .bind::<Text, _>(table)
    .load(connection)?;
    let mut unique: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for entry in entries {
        unique.entry(entry.index_name).or_default().push(entry.column_name.to_ascii_lowercase());
    }
    Ok(unique)
}
