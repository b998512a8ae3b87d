//! Rows a run remembers: every failed row, with its original cells and its errors, so
//! it can be shown, downloaded and retried.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::schema::ingest_rows;
use super::{Backend, DbConnection, StoreError, write_turn};

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

pub fn insert_many(connection: &mut DbConnection, rows: &[NewRow]) -> Result<(), StoreError> {
    // SQLite binds at most 32,766 parameters per statement and PostgreSQL 65,535; 5 per
    // row stays far below both.
    // diesel's multi-backend connection cannot build multi-row inserts, so each batch
    // goes through the backend's own connection, inside the caller's transaction.
    for batch in rows.chunks(1000) {
        let insert = diesel::insert_into(ingest_rows::table).values(batch);
        match connection {
            DbConnection::Sqlite(sqlite) => insert.execute(sqlite)?,
            DbConnection::Postgres(postgres) => insert.execute(postgres)?,
        };
    }
    Ok(())
}

/// The first `limit` remembered rows of a run, in file order.
pub fn first_rows(connection: &mut DbConnection, run_id: i64, limit: i64) -> Result<Vec<StoredRow>, StoreError> {
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
    connection: &mut DbConnection,
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

/// Failed rows counted by error message, most frequent first, ties in byte order of
/// the message on both backends.
pub fn error_summary(connection: &mut DbConnection, run_id: i64) -> Result<Vec<MessageCount>, StoreError> {
    let sql = match connection.backend() {
        Backend::Sqlite => {
            "SELECT COALESCE(json_extract(errors, '$.message'), '') AS message, COUNT(*) AS count \
             FROM ingest_rows WHERE run_id = ? AND status = 'failed' \
             GROUP BY 1 ORDER BY count DESC, message"
        }
        Backend::Postgres => {
            "SELECT message, count FROM ( \
                 SELECT COALESCE(errors::jsonb ->> 'message', '') AS message, COUNT(*) AS count \
                 FROM ingest_rows WHERE run_id = $1 AND status = 'failed' GROUP BY 1 \
             ) AS summary ORDER BY count DESC, message COLLATE \"C\""
        }
    };
    Ok(diesel::sql_query(sql).bind::<BigInt, _>(run_id).load(connection)?)
}

/// Validation messages of failed rows as `field: message`, counted, most frequent first,
/// ties in byte order of the message on both backends.
pub fn validation_summary(connection: &mut DbConnection, run_id: i64) -> Result<Vec<MessageCount>, StoreError> {
    let sql = match connection.backend() {
        Backend::Sqlite => {
            "SELECT field.key || ': ' || message.value AS message, COUNT(*) AS count \
             FROM ingest_rows, json_each(ingest_rows.errors, '$.validation') AS field, \
                  json_each(field.value) AS message \
             WHERE ingest_rows.run_id = ? AND ingest_rows.status = 'failed' \
             GROUP BY 1 ORDER BY count DESC, message"
        }
        Backend::Postgres => {
            "SELECT message, count FROM ( \
                 SELECT field.key || ': ' || item.text AS message, COUNT(*) AS count \
                 FROM ingest_rows, \
                      jsonb_each(ingest_rows.errors::jsonb -> 'validation') AS field(key, value), \
                      jsonb_array_elements_text(field.value) AS item(text) \
                 WHERE ingest_rows.run_id = $1 AND ingest_rows.status = 'failed' GROUP BY 1 \
             ) AS summary ORDER BY count DESC, message COLLATE \"C\""
        }
    };
    Ok(diesel::sql_query(sql).bind::<BigInt, _>(run_id).load(connection)?)
}

/// Deletes the remembered rows of runs that finished before `cutoff` (an API timestamp)
/// and returns how many were deleted; with `dry_run`, only counts them.
pub fn delete_of_runs_finished_before(connection: &mut DbConnection, cutoff: &str, dry_run: bool) -> Result<i64, StoreError> {
    let _turn = write_turn(connection);
    use super::runs::FINISHED_STATUSES;
    use super::schema::ingest_runs;

    let finished_runs = ingest_runs::table
        .filter(ingest_runs::completed_at.lt(cutoff))
        .filter(ingest_runs::status.eq_any(FINISHED_STATUSES))
        .select(ingest_runs::id);
    let rows_of_finished_runs = ingest_rows::table.filter(ingest_rows::run_id.eq_any(finished_runs));
    if dry_run {
        return Ok(rows_of_finished_runs.count().get_result(connection)?);
    }
    Ok(diesel::delete(rows_of_finished_runs).execute(connection)? as i64)
}
