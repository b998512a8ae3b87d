//! Multi-row inserts that diesel prepares once per connection and SQL text.
//!
//! diesel never caches the statement of an `sql_query`, so a batch written with one is
//! parsed (and on PostgreSQL planned) again for every batch, and every bound value is
//! boxed. [`BatchInsert`] walks its own SQL and binds instead: its text depends only on
//! the table, the statement's tail and the number of rows, so diesel's statement cache
//! finds it again for every full batch.

use diesel::pg::{Pg, PgConnection};
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Bool, Double, Nullable, Text, Untyped};
use diesel::{QueryResult, RunQueryDsl};

use crate::cells::{Cell, PackedCells};
use crate::plugins::description::{Column, ColumnType};
use crate::store::DbConnection;
use crate::store::connection::MultiBackend;

/// One bound value, typed as its column.
enum Value<'a> {
    Text(&'a str),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    Null(ColumnType),
}

// Nulls are bound by reference like every other value, so they need a place to live.
const NULL_TEXT: Option<&str> = None;
const NULL_INTEGER: Option<i64> = None;
const NULL_FLOAT: Option<f64> = None;
const NULL_BOOLEAN: Option<bool> = None;

/// `{head} (…), (…) {tail}`, with one row of bind parameters per record.
pub struct BatchInsert<'a> {
    head: &'a str,
    tail: &'a str,
    width: usize,
    values: Vec<Value<'a>>,
}

impl<'a> BatchInsert<'a> {
    /// Binds the records `rows` of `records`, whose cells fit `columns` (see
    /// [`super::sql::fits`]), as one statement.
    pub fn new(head: &'a str, tail: &'a str, columns: &[Column], records: &'a PackedCells, rows: &[usize]) -> Self {
        let mut values = Vec::with_capacity(rows.len() * columns.len());
        for &row in rows {
            for (cell, column) in records.row(row).zip(columns) {
                values.push(Value::of(cell, column.column_type));
            }
        }
        Self { head, tail, width: columns.len().max(1), values }
    }
}

impl<'a> Value<'a> {
    /// Types `cell` as its column, which matters for nulls and integers: PostgreSQL
    /// rejects a text null for a BIGINT column, and an integer bound for a DOUBLE
    /// PRECISION column.
    fn of(cell: Cell<'a>, column_type: ColumnType) -> Self {
        match (cell, column_type) {
            (Cell::Empty, column_type) => Value::Null(column_type),
            (Cell::Text(text) | Cell::Date(text) | Cell::DateTime(text), _) => Value::Text(text),
            (Cell::Integer(value), ColumnType::Float) => Value::Float(value as f64),
            (Cell::Integer(value), _) => Value::Integer(value),
            (Cell::Float(value), _) => Value::Float(value),
            (Cell::Boolean(value), _) => Value::Boolean(value),
        }
    }
}

impl QueryFragment<MultiBackend> for BatchInsert<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        out.push_sql(self.head);
        for (index, row) in self.values.chunks(self.width).enumerate() {
            out.push_sql(if index == 0 { " (" } else { ", (" });
            for (position, value) in row.iter().enumerate() {
                if position > 0 {
                    out.push_sql(", ");
                }
                match value {
                    Value::Text(text) => out.push_bind_param::<Text, _>(text)?,
                    Value::Integer(integer) => out.push_bind_param::<BigInt, _>(integer)?,
                    Value::Float(float) => out.push_bind_param::<Double, _>(float)?,
                    Value::Boolean(boolean) => out.push_bind_param::<Bool, _>(boolean)?,
                    Value::Null(ColumnType::Integer) => out.push_bind_param::<Nullable<BigInt>, _>(&NULL_INTEGER)?,
                    Value::Null(ColumnType::Float) => out.push_bind_param::<Nullable<Double>, _>(&NULL_FLOAT)?,
                    Value::Null(ColumnType::Boolean) => out.push_bind_param::<Nullable<Bool>, _>(&NULL_BOOLEAN)?,
                    Value::Null(_) => out.push_bind_param::<Nullable<Text>, _>(&NULL_TEXT)?,
                }
            }
            out.push_sql(")");
        }
        out.push_sql(" ");
        out.push_sql(self.tail);
        Ok(())
    }
}

impl QueryId for BatchInsert<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for BatchInsert<'_> {
    type SqlType = Untyped;
}

impl RunQueryDsl<DbConnection> for BatchInsert<'_> {}

/// PostgreSQL: `{head} SELECT * FROM unnest($1::text[], …) {tail}`, with one array per
/// column, so a batch of any size is one statement of as many parameters as the table
/// has columns. Binding one parameter per cell instead costs PostgreSQL a parse of
/// thousands of parameters and the client an allocation per cell.
pub struct UnnestInsert<'a> {
    head: &'a str,
    tail: &'a str,
    columns: Vec<ColumnValues<'a>>,
}

/// One column's values of every record of a batch.
enum ColumnValues<'a> {
    Text(Vec<Option<&'a str>>),
    Integer(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Boolean(Vec<Option<bool>>),
}

impl<'a> UnnestInsert<'a> {
    /// Collects the records `rows` of `records`, whose cells fit `columns`, by column.
    pub fn new(head: &'a str, tail: &'a str, columns: &[Column], records: &'a PackedCells, rows: &[usize]) -> Self {
        let columns = columns
            .iter()
            .enumerate()
            .map(|(position, column)| {
                let cells = rows.iter().map(|&row| records.get(row, position));
                match column.column_type {
                    ColumnType::Integer => ColumnValues::Integer(cells.map(integer_of).collect()),
                    ColumnType::Float => ColumnValues::Float(cells.map(float_of).collect()),
                    ColumnType::Boolean => ColumnValues::Boolean(cells.map(boolean_of).collect()),
                    ColumnType::Text | ColumnType::Date | ColumnType::DateTime => {
                        ColumnValues::Text(cells.map(text_of).collect())
                    }
                }
            })
            .collect();
        Self { head, tail, columns }
    }
}

fn text_of(cell: Cell<'_>) -> Option<&str> {
    match cell {
        Cell::Text(text) | Cell::Date(text) | Cell::DateTime(text) => Some(text),
        _ => None,
    }
}

fn integer_of(cell: Cell<'_>) -> Option<i64> {
    match cell {
        Cell::Integer(value) => Some(value),
        _ => None,
    }
}

fn float_of(cell: Cell<'_>) -> Option<f64> {
    match cell {
        Cell::Float(value) => Some(value),
        Cell::Integer(value) => Some(value as f64),
        _ => None,
    }
}

fn boolean_of(cell: Cell<'_>) -> Option<bool> {
    match cell {
        Cell::Boolean(value) => Some(value),
        _ => None,
    }
}

impl QueryFragment<Pg> for UnnestInsert<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(self.head);
        out.push_sql(" SELECT * FROM unnest(");
        for (position, values) in self.columns.iter().enumerate() {
            if position > 0 {
                out.push_sql(", ");
            }
            match values {
                ColumnValues::Text(values) => {
                    out.push_bind_param::<Array<Nullable<Text>>, _>(values)?;
                    out.push_sql("::text[]");
                }
                ColumnValues::Integer(values) => {
                    out.push_bind_param::<Array<Nullable<BigInt>>, _>(values)?;
                    out.push_sql("::bigint[]");
                }
                ColumnValues::Float(values) => {
                    out.push_bind_param::<Array<Nullable<Double>>, _>(values)?;
                    out.push_sql("::double precision[]");
                }
                ColumnValues::Boolean(values) => {
                    out.push_bind_param::<Array<Nullable<Bool>>, _>(values)?;
                    out.push_sql("::boolean[]");
                }
            }
        }
        out.push_sql(") ");
        out.push_sql(self.tail);
        Ok(())
    }
}

impl QueryId for UnnestInsert<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for UnnestInsert<'_> {
    type SqlType = Untyped;
}

impl RunQueryDsl<PgConnection> for UnnestInsert<'_> {}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::sql_types::{Nullable, Text};
    use diesel::{Connection, QueryableByName, SqliteConnection};

    use super::*;

    #[derive(QueryableByName, Debug, PartialEq)]
    struct Stored {
        #[diesel(sql_type = Text)]
        sku: String,
        #[diesel(sql_type = Nullable<Double>)]
        price: Option<f64>,
        #[diesel(sql_type = Nullable<BigInt>)]
        stock: Option<i64>,
    }

    fn column(name: &str, column_type: ColumnType) -> Column {
        Column { name: name.into(), column_type, nullable: true }
    }

    #[test]
    fn batch_insert_binds_typed_values_and_nulls() {
        let mut connection = DbConnection::Sqlite(SqliteConnection::establish(":memory:").unwrap());
        connection.batch_execute("CREATE TABLE products (sku TEXT PRIMARY KEY, price REAL, stock INTEGER)").unwrap();
        let columns = [column("sku", ColumnType::Text), column("price", ColumnType::Float), column("stock", ColumnType::Integer)];
        let mut records = PackedCells::new(3);
        records.push_text("A-1");
        records.push_integer(2);
        records.push_integer(7);
        records.push_text("B-2");
        records.push_float(1.5);
        records.push_empty();
        let head = "INSERT INTO products (sku, price, stock) VALUES";
        let tail = "ON CONFLICT (sku) DO UPDATE SET price = excluded.price, stock = excluded.stock";

        // The second statement has the same text, so it runs the prepared statement again.
        for _ in 0..2 {
            let written = BatchInsert::new(head, tail, &columns, &records, &[0, 1]).execute(&mut connection).unwrap();
            assert_eq!(written, 2);
        }

        let stored: Vec<Stored> =
            diesel::sql_query("SELECT sku, price, stock FROM products ORDER BY sku").load(&mut connection).unwrap();
        assert_eq!(stored[0], Stored { sku: "A-1".into(), price: Some(2.0), stock: Some(7) });
        assert_eq!(stored[1], Stored { sku: "B-2".into(), price: Some(1.5), stock: None });
    }
}
