//! SQL text and parameter binding for tables whose names come from importers.

use diesel::prelude::*;
use diesel::query_builder::BoxedSqlQuery;
use diesel::sql_types::{BigInt, Bool, Double, Integer, Nullable, Text};
use diesel::sqlite::Sqlite;

use crate::cells::Cell;
use crate::plugins::description::ColumnType;

/// Quotes a name that [`crate::plugins::description::is_identifier`] accepted.
pub fn quote(name: &str) -> String {
    format!("\"{name}\"")
}

pub type Query<'a> = BoxedSqlQuery<'a, Sqlite, diesel::query_builder::SqlQuery>;

pub fn bind<'a>(query: Query<'a>, cell: Cell<'a>) -> Query<'a> {
    match cell {
        Cell::Empty => query.bind::<Nullable<Text>, _>(None::<&str>),
        Cell::Text(text) | Cell::Date(text) | Cell::DateTime(text) => query.bind::<Text, _>(text),
        Cell::Integer(value) => query.bind::<BigInt, _>(value),
        Cell::Float(value) => query.bind::<Double, _>(value),
        Cell::Boolean(value) => query.bind::<Bool, _>(value),
    }
}

pub fn sql_type(column_type: ColumnType) -> &'static str {
    // Dates are TEXT, not DATE: SQLite gives DATE numeric affinity, which would turn a
    // value such as `2007` into a number.
    match column_type {
        ColumnType::Text | ColumnType::Date | ColumnType::DateTime => "TEXT",
        ColumnType::Integer => "INTEGER",
        ColumnType::Float => "REAL",
        ColumnType::Boolean => "BOOLEAN",
    }
}

/// Whether a cell may be stored in a column of `column_type`.
pub fn fits(cell: Cell<'_>, column_type: ColumnType) -> bool {
    matches!(
        (cell, column_type),
        (Cell::Empty, _)
            | (Cell::Text(_), ColumnType::Text)
            | (Cell::Integer(_), ColumnType::Integer | ColumnType::Float)
            | (Cell::Float(_), ColumnType::Float)
            | (Cell::Boolean(_), ColumnType::Boolean)
            | (Cell::Date(_), ColumnType::Date | ColumnType::Text)
            | (Cell::DateTime(_), ColumnType::DateTime | ColumnType::Text)
    )
}

pub fn cell_kind(cell: Cell<'_>) -> &'static str {
    match cell {
        Cell::Empty => "empty",
        Cell::Text(_) => "text",
        Cell::Integer(_) => "integer",
        Cell::Float(_) => "float",
        Cell::Boolean(_) => "boolean",
        Cell::Date(_) => "date",
        Cell::DateTime(_) => "date-time",
    }
}

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

/// The columns of `table`, or `None` when it does not exist.
pub fn table_columns(connection: &mut SqliteConnection, table: &str) -> QueryResult<Option<Vec<String>>> {
    let columns: Vec<TableColumn> =
        diesel::sql_query("SELECT name FROM pragma_table_info(?)").bind::<Text, _>(table).load(connection)?;
    Ok(if columns.is_empty() { None } else { Some(columns.into_iter().map(|column| column.name).collect()) })
}

/// Whether `table` has a unique index (or primary key) over exactly `key`.
pub fn has_unique_index(connection: &mut SqliteConnection, table: &str, key: &[String]) -> QueryResult<bool> {
    let indexes: Vec<IndexEntry> =
        diesel::sql_query("SELECT name, \"unique\" FROM pragma_index_list(?)").bind::<Text, _>(table).load(connection)?;
    let mut wanted: Vec<String> = key.iter().map(|name| name.to_ascii_lowercase()).collect();
    wanted.sort();
    for index in indexes.into_iter().filter(|index| index.unique == 1) {
        let columns: Vec<TableColumn> = diesel::sql_query("SELECT name FROM pragma_index_info(?)")
            .bind::<Text, _>(&index.name)
            .load(connection)?;
        let mut names: Vec<String> = columns.into_iter().map(|column| column.name.to_ascii_lowercase()).collect();
        names.sort();
        if names == wanted {
            return Ok(true);
        }
    }
    Ok(false)
}
