//! Rows a run remembers: every failed row, with its original cells and its errors, so
//! it can be shown, downloaded and retried.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::StoreError;
use super::schema::ingest_rows;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ingest_rows)]
pub struct StoredRow {
    pub row_number: i64,
    pub status: String,
    /// A JSON object of the row's original cells, keyed by header.
    pub data: String,
    /// A JSON object `{message, validation: {field: [messages]}}`.
    pub errors: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = ingest_rows)]
pub struct NewRow {
    pub run_id: i64,
    pub row_number: i64,
    pub status: String,
    pub data: String,
    pub errors: Option<String>,
}

pub fn insert_many(connection: &mut SqliteConnection, rows: &[NewRow]) -> Result<(), StoreError> {
    // SQLite binds at most 32,766 parameters per statement; 5 per row stays far below.
    for batch in rows.chunks(1000) {
        diesel::insert_into(ingest_rows::table).values(batch).execute(connection)?;
    }
    Ok(())
}

/// The first `limit` remembered rows of a run, in file order.
pub fn first_rows(connection: &mut SqliteConnection, run_id: i64, limit: i64) -> Result<Vec<StoredRow>, StoreError> {
    Ok(ingest_rows::table
        .filter(ingest_rows::run_id.eq(run_id))
        .order((ingest_rows::row_number, ingest_rows::id))
        .limit(limit)
        .select(StoredRow::as_select())
        .load(connection)?)
}

/// Failed rows of a run after `after_row`, in file order, `limit` at a time, so callers
/// can page through millions of them.
pub fn failed_rows_after(
    connection: &mut SqliteConnection,
    run_id: i64,
    after_row: i64,
    limit: i64,
) -> Result<Vec<StoredRow>, StoreError> {
    Ok(ingest_rows::table
        .filter(ingest_rows::run_id.eq(run_id))
        .filter(ingest_rows::status.eq("failed"))
        .filter(ingest_rows::row_number.gt(after_row))
        .order(ingest_rows::row_number)
        .limit(limit)
        .select(StoredRow::as_select())
        .load(connection)?)
}

#[derive(Debug, Clone, QueryableByName, serde::Serialize)]
pub struct MessageCount {
    #[diesel(sql_type = Text)]
    pub message: String,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

/// Failed rows counted by error message, most frequent first.
pub fn error_summary(connection: &mut SqliteConnection, run_id: i64) -> Result<Vec<MessageCount>, StoreError> {
    Ok(diesel::sql_query(
        "SELECT COALESCE(json_extract(errors, '$.message'), '') AS message, COUNT(*) AS count \
         FROM ingest_rows WHERE run_id = ? AND status = 'failed' \
         GROUP BY 1 ORDER BY count DESC, message",
    )
    .bind::<BigInt, _>(run_id)
    .load(connection)?)
}

/// Validation messages of failed rows as `field: message`, counted, most frequent first.
pub fn validation_summary(connection: &mut SqliteConnection, run_id: i64) -> Result<Vec<MessageCount>, StoreError> {
    Ok(diesel::sql_query(
        "SELECT field.key || ': ' || message.value AS message, COUNT(*) AS count \
         FROM ingest_rows, json_each(ingest_rows.errors, '$.validation') AS field, \
              json_each(field.value) AS message \
         WHERE ingest_rows.run_id = ? AND ingest_rows.status = 'failed' \
         GROUP BY 1 ORDER BY count DESC, message",
    )
    .bind::<BigInt, _>(run_id)
    .load(connection)?)
}
