//! Retries: a new run over only the failed rows of an earlier one.

use super::row_data;
use crate::sources::{RowSource, SourceChunk, SourceError};
use crate::store::rows::failed_rows_after;
use crate::store::runs::{self, NewRun, Run};
use crate::store::{DbConnection, Store, StoreError, write_transaction};

#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    #[error("run {0} not found")]
    NotFound(i64),
    #[error("run {0} has no failed rows to retry")]
    NoFailedRows(i64),
    #[error("run {original} is already being retried by run {retry}; wait for that run to finish")]
    AlreadyRetrying { original: i64, retry: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for RetryError {
    fn from(error: diesel::result::Error) -> Self {
        RetryError::Store(error.into())
    }
}

/// Creates the retry run of `original_id`, as `user_id`. The retry is a dry run when
/// `dry_run` is `Some(true)`, and when it is `None` and the original was one. The check for a retry in
/// flight and the insert share one write transaction that locks the original run's
/// row, so two requests cannot both create one.
pub fn create_retry(
    connection: &mut DbConnection,
    original_id: i64,
    user_id: Option<i64>,
    dry_run: Option<bool>,
) -> Result<Run, RetryError> {
    write_transaction(connection, |connection| {
        if !runs::lock(connection, original_id)? {
            return Err(RetryError::NotFound(original_id));
        }
        let original = runs::find(connection, original_id)?.ok_or(RetryError::NotFound(original_id))?;
        if runs::failed_row_count(connection, original_id)? == 0 {
            return Err(RetryError::NoFailedRows(original_id));
        }
        if let Some(retry) = runs::active_retry_of(connection, original_id)? {
            return Err(RetryError::AlreadyRetrying { original: original_id, retry });
        }
        let run = runs::insert(
            connection,
            &NewRun {
                importer: original.importer.clone(),
                user_id,
                original_filename: original.original_filename.clone(),
                stored_path: None,
                dry_run: dry_run.unwrap_or(original.dry_run),
                retried_from_run_id: Some(original_id),
                headers: Some(original.headers()),
            },
        )?;
        Ok(run)
    })
}

/// Reads the failed rows of a run as a source, in row order, keeping their row numbers.
pub struct FailedRowsSource {
    store: Store,
    run_id: i64,
    headers: Vec<String>,
    after_row: i64,
}

impl FailedRowsSource {
    pub fn new(store: Store, run_id: i64, headers: Vec<String>) -> Self {
        Self { store, run_id, headers, after_row: 0 }
    }
}

impl RowSource for FailedRowsSource {
    fn headers(&self) -> &[String] {
        &self.headers
    }

    fn read_chunk(&mut self, max_rows: usize, chunk: &mut SourceChunk) -> Result<bool, SourceError> {
        chunk.reset(self.headers.len());
        let rows = self
            .store
            .connection()
            .map_err(StoreError::from)
            .and_then(|mut connection| {
                failed_rows_after(&mut connection, self.run_id, self.after_row, max_rows.max(1) as i64)
            })
            .map_err(|error| SourceError::Unreadable {
                path: format!("failed rows of run {}", self.run_id).into(),
                source: std::io::Error::other(error.to_string()),
            })?;

        for row in &rows {
            let data: serde_json::Value = serde_json::from_str(&row.data).unwrap_or(serde_json::Value::Null);
            row_data::pack(&self.headers, &data, &mut chunk.cells);
            chunk.row_numbers.push(row.row_number as u64);
            self.after_row = row.row_number;
        }
        Ok(!rows.is_empty())
    }
}
