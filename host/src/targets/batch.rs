//! Multi-row writes: many records in one statement, one round trip instead of one per
//! record. SQLite gets `INSERT … VALUES (…), (…) ON CONFLICT …`, and PostgreSQL one array
//! a column, unnested into rows (see [`super::statement`]).
//!
//! Under the `update` and `upsert` strategies every record inserts or updates its row, so
//! the outcome of each is known. Under the others a batch is first written in a savepoint,
//! and when its count of written rows equals its records, every record was written.
//! Otherwise the batch is rolled back and written again with a statement that returns the
//! key of each row it inserted or updated, as text (`RETURNING`). A record whose key is not
//! returned was not written: its key existed and the duplicate strategy kept the row.
//! After such a batch, the next ones go straight to `RETURNING` until one writes every
//! record. A batch never contains two records with the same key, because PostgreSQL
//! rejects such a statement and the second record's outcome depends on the first.
//!
//! Matching returned keys to records needs a key whose text form the database returns
//! unchanged, so only text, integer, date and date-time keys are batched. A table whose
//! declared column types change that form (a SQLite column of another affinity, for
//! example) is detected when a returned key matches no record, or one record twice: the
//! batch is rolled back to a savepoint and written record by record, and so is the rest
//! of the run.
//!
//! NOTE: a changed form that happens to equal another record's key goes undetected. A
//! SQLite INTEGER column stores `007` as `7`. With `007` and `7` in one batch, the returned
//! `7` is taken for the second record, and the first is reported not written although
//! its values are the ones stored. Checking the key columns' declared types and
//! collations when the run starts, and writing record by record where they differ from
//! the importer's, would fix it.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

use diesel::prelude::*;
use diesel::sql_types::Text;

use super::sql::quote;
use super::statement::{BatchInsert, UnnestInsert};
use super::write::{TargetTable, WriteOutcome};
use super::TargetError;
use crate::cells::{Cell, PackedCells};
use crate::plugins::description::{ColumnType, DuplicateStrategy, Target};
use crate::store::{Backend, DbConnection};

/// Records per statement, at most.
const MAX_BATCH_ROWS: usize = 500;

/// Records per PostgreSQL statement, which binds one array a column, at most.
const MAX_UNNEST_ROWS: usize = 5_000;

/// Bind parameters per statement, at most: SQLite allows 32,766 and PostgreSQL 65,535.
const MAX_PARAMETERS: usize = 30_000;

#[derive(QueryableByName)]
struct ReturnedKey {
    #[diesel(sql_type = Text)]
    key_text: String,
}

/// The reason a batch was rolled back.
enum BatchFailure {
    Query(diesel::result::Error),
    /// A returned key matches no record of the batch, or was returned twice.
    KeysDiffer,
}

impl From<diesel::result::Error> for BatchFailure {
    fn from(error: diesel::result::Error) -> Self {
        BatchFailure::Query(error)
    }
}

/// Whether a target's records can be written in batches: every key column's text form
/// must come back from the database as it was bound.
pub fn can_batch(target: &Target) -> bool {
    target.keyed_by.iter().all(|key| {
        target.columns.iter().any(|column| {
            &column.name == key
                && matches!(
                    column.column_type,
                    ColumnType::Text | ColumnType::Integer | ColumnType::Date | ColumnType::DateTime
                )
        })
    })
}

impl TargetTable {
    /// Writes the records `rows` of `records` in batches and sets their outcomes.
    pub(super) fn write_batches(
        &self,
        connection: &mut DbConnection,
        records: &PackedCells,
        rows: &[usize],
        outcomes: &mut [Option<WriteOutcome>],
    ) -> Result<(), TargetError> {
        let columns = self.target.columns.len().max(1);
        let batch_rows = match connection.backend() {
            // One parameter a column, whatever the number of rows.
            Backend::Postgres => MAX_UNNEST_ROWS,
            Backend::Sqlite => MAX_BATCH_ROWS.min(MAX_PARAMETERS / columns).max(1),
        };
        let mut start = 0;
        let mut keys = HashSet::new();
        while start < rows.len() {
            // A key's hash stands for the key: two keys with one hash only end the batch
            // early.
            keys.clear();
            let mut end = start;
            while end < rows.len() && end - start < batch_rows && keys.insert(self.key_hash(records, rows[end])) {
                end += 1;
            }
            self.write_batch(connection, records, &rows[start..end], outcomes)?;
            start = end;
        }
        Ok(())
    }

    fn write_batch(
        &self,
        connection: &mut DbConnection,
        records: &PackedCells,
        batch: &[usize],
        outcomes: &mut [Option<WriteOutcome>],
    ) -> Result<(), TargetError> {
        if !self.batching.get() {
            for &row in batch {
                outcomes[row] = Some(self.write_record(connection, records, row)?);
            }
            return Ok(());
        }
        if writes_every_record(&self.target) {
            self.execute_batch(connection, &self.conflict_sql, records, batch)?;
            for &row in batch {
                outcomes[row] = Some(WriteOutcome::Written);
            }
            return Ok(());
        }

        if self.expect_all_written.get() {
            // Without duplicates, the count of written rows gives every outcome, so no key is
            // returned and matched. flights.csv.gz on SQLite took 2.5 s and 3.0 s this way,
            // 3.4 s and 3.7 s with keys returned.
            let counted = connection.transaction(|connection| {
                let written = self.execute_batch(connection, &self.conflict_sql, records, batch)?;
                if written == batch.len() { Ok(()) } else { Err(diesel::result::Error::RollbackTransaction) }
            });
            match counted {
                Ok(()) => {
                    for &row in batch {
                        outcomes[row] = Some(WriteOutcome::Written);
                    }
                    return Ok(());
                }
                Err(diesel::result::Error::RollbackTransaction) => {}
                Err(error) => return Err(error.into()),
            }
        }

        let expected: HashMap<String, usize> = batch.iter().map(|&row| (self.key_text(records, row), row)).collect();
        let tail = format!("{} RETURNING {} AS key_text", self.conflict_sql, key_text_sql(&self.target));
        // A nested transaction is a savepoint inside the chunk's transaction.
        let written = connection.transaction(|connection| -> Result<HashSet<usize>, BatchFailure> {
            let returned = self.load_batch_keys(connection, &tail, records, batch)?;
            let mut written = HashSet::with_capacity(returned.len());
            for returned in returned {
                let row = expected.get(&returned.key_text).copied().ok_or(BatchFailure::KeysDiffer)?;
                // A key returned twice means the table took two different keys of the batch
                // for one (a case-insensitive collation, say) and wrote its row twice.
                if !written.insert(row) {
                    return Err(BatchFailure::KeysDiffer);
                }
            }
            Ok(written)
        });

        match written {
            Ok(written) => {
                // Duplicates are expected to come in runs (an estimate, not measured), and a
                // batch that is counted and then written again costs twice.
                self.expect_all_written.set(written.len() == batch.len());
                for &row in batch {
                    outcomes[row] =
                        Some(if written.contains(&row) { WriteOutcome::Written } else { self.not_written(records, row) });
                }
                Ok(())
            }
            Err(BatchFailure::Query(error)) => Err(error.into()),
            Err(BatchFailure::KeysDiffer) => {
                tracing::warn!(
                    table = %self.target.table,
                    importer = %self.importer,
                    "the table returned keys in another form than they were written, or one key twice, \
                     probably because of its column types or collation; the run writes its records one by one \
                     from now on"
                );
                self.batching.set(false);
                for &row in batch {
                    outcomes[row] = Some(self.write_record(connection, records, row)?);
                }
                Ok(())
            }
        }
    }

    /// Writes `batch` with the statement tail `tail` (its `ON CONFLICT` clause).
    fn execute_batch(
        &self,
        connection: &mut DbConnection,
        tail: &str,
        records: &PackedCells,
        batch: &[usize],
    ) -> QueryResult<usize> {
        let columns = &self.target.columns;
        match connection {
            DbConnection::Postgres(connection) => {
                UnnestInsert::new(&self.insert_head_sql, tail, columns, records, batch).execute(connection)
            }
            DbConnection::Sqlite(_) => BatchInsert::new(&self.batch_insert_sql, tail, columns, records, batch).execute(connection),
        }
    }

    /// Writes `batch` with a `tail` that returns each written row's key, and loads the keys.
    fn load_batch_keys(
        &self,
        connection: &mut DbConnection,
        tail: &str,
        records: &PackedCells,
        batch: &[usize],
    ) -> QueryResult<Vec<ReturnedKey>> {
        let columns = &self.target.columns;
        match connection {
            DbConnection::Postgres(connection) => {
                UnnestInsert::new(&self.insert_head_sql, tail, columns, records, batch).load(connection)
            }
            DbConnection::Sqlite(_) => BatchInsert::new(&self.batch_insert_sql, tail, columns, records, batch).load(connection),
        }
    }

    /// Hashes the record's key cells.
    fn key_hash(&self, records: &PackedCells, row: usize) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        for &column in &self.key_columns {
            match records.get(row, column) {
                Cell::Text(text) | Cell::Date(text) | Cell::DateTime(text) => text.hash(&mut hasher),
                Cell::Integer(value) => value.hash(&mut hasher),
                Cell::Float(value) => value.to_bits().hash(&mut hasher),
                Cell::Boolean(value) => value.hash(&mut hasher),
                Cell::Empty => 0u8.hash(&mut hasher),
            }
        }
        hasher.finish()
    }

    /// Returns the record's key in the form of [`key_text_sql`]: each key column as its
    /// length in characters, a colon and its text, so that no two keys share a form.
    fn key_text(&self, records: &PackedCells, row: usize) -> String {
        let mut text = String::new();
        for &column in &self.key_columns {
            let value = match records.get(row, column) {
                Cell::Text(value) | Cell::Date(value) | Cell::DateTime(value) => value.to_owned(),
                Cell::Integer(value) => value.to_string(),
                // Not batched (see `can_batch`), and key columns are never empty.
                other => other.to_text().unwrap_or_default(),
            };
            text.push_str(&format!("{}:{value}", value.chars().count()));
        }
        text
    }
}

/// Whether every record the statement gets inserts or updates a row, so its outcome is
/// known without the keys the statement returns.
fn writes_every_record(target: &Target) -> bool {
    let updates_columns = target.columns.iter().any(|column| !target.keyed_by.contains(&column.name));
    updates_columns && matches!(target.duplicates, DuplicateStrategy::Update | DuplicateStrategy::Upsert)
}

/// SQL for the key of a written row, in the form of [`TargetTable::key_text`].
fn key_text_sql(target: &Target) -> String {
    target
        .keyed_by
        .iter()
        .map(|key| {
            let text = format!("CAST({} AS TEXT)", quote(key));
            format!("CAST(LENGTH({text}) AS TEXT) || ':' || {text}")
        })
        .collect::<Vec<_>>()
        .join(" || ")
}
