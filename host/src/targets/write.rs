//! Keyed writes of an importer's records: one multi-row statement per batch of records
//! where the key's text form can be matched (see [`super::batch`]), one statement per
//! record otherwise, and lookups only in a dry run.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::sql::{self, quote};
use super::{TablePolicy, TargetError, introspect};
use crate::cells::{Cell, PackedCells};
use crate::plugins::description::{DuplicateStrategy, Target};
use crate::store::{Backend, DbConnection};

/// The outcome of writing one record.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOutcome {
    Written,
    Skipped(String),
    Failed(String),
}

/// A checked target table and the statements that write it.
#[derive(Debug, Clone)]
pub struct TargetTable {
    pub(super) target: Target,
    /// The importer that writes the table, as `slug@version`, for messages.
    pub(super) importer: String,
    /// False when the table does not exist yet (possible only in a dry run).
    exists: bool,
    /// `INSERT OR FAIL INTO table (columns) VALUES`, to which SQLite batches add rows of
    /// placeholders (see [`batch_insert_sql`]).
    pub(super) batch_insert_sql: String,
    /// `INSERT INTO table (columns)`, to which PostgreSQL batches add their rows' source.
    pub(super) insert_head_sql: String,
    /// The `ON CONFLICT …` clause of the duplicate strategy.
    pub(super) conflict_sql: String,
    /// The keyed write of one record.
    record_sql: String,
    exists_sql: String,
    /// The positions of the key columns among the columns.
    pub(super) key_columns: Vec<usize>,
    /// Whether records are written in batches; cleared for the rest of the run when a
    /// batch's returned keys do not match its records (see [`super::batch`]).
    pub(super) batching: std::cell::Cell<bool>,
    /// Whether the next batch is expected to write every record, so that the count of
    /// written rows is asked for before their keys (see [`super::batch`]).
    pub(super) expect_all_written: std::cell::Cell<bool>,
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = BigInt)]
    found: i64,
}

impl TargetTable {
    /// Checks one of the tables of `importer` (`slug@version`) against the policy and the
    /// database, creating it when it is missing (never in a dry run, which writes
    /// nothing).
    pub fn prepare(
        connection: &mut DbConnection,
        importer: &str,
        target: &Target,
        policy: &TablePolicy,
        dry_run: bool,
    ) -> Result<Self, TargetError> {
        let table = target.table.as_str();
        policy.check(table)?;
        let backend = connection.backend();

        let exists = match introspect::table_columns(connection, table)? {
            Some(columns) => {
                check_columns(target, &columns)?;
                if !introspect::has_unique_index(connection, table, &target.keyed_by)? {
                    return Err(TargetError::NoUniqueKey {
                        table: table.to_owned(),
                        key: target.keyed_by.join(", "),
                    });
                }
                true
            }
            None if dry_run => false,
            None if policy.create_missing => {
                create_table(connection, target)?;
                tracing::info!(table, importer, "target table created");
                true
            }
            None => return Err(TargetError::Missing(table.to_owned())),
        };

        let (head_sql, conflict_sql) = (insert_head_sql(target), conflict_sql(target));
        let record_sql = format!("{head_sql} VALUES ({}) {conflict_sql}", backend.placeholders(1, target.columns.len()));
        Ok(Self {
            target: target.clone(),
            importer: importer.to_owned(),
            exists,
            batch_insert_sql: batch_insert_sql(target),
            insert_head_sql: head_sql,
            conflict_sql,
            record_sql,
            exists_sql: exists_sql(target, backend),
            key_columns: target.keyed_by.iter().map(|key| target.key_position(key)).collect(),
            batching: std::cell::Cell::new(super::batch::can_batch(target)),
            expect_all_written: std::cell::Cell::new(true),
        })
    }

    /// Writes (or, in a dry run, only checks) every record, with the outcome of each in
    /// order; call inside the chunk's transaction. A database error fails the whole chunk.
    pub fn write(
        &self,
        connection: &mut DbConnection,
        records: &PackedCells,
        dry_run: bool,
    ) -> Result<Vec<WriteOutcome>, TargetError> {
        let mut outcomes: Vec<Option<WriteOutcome>> = vec![None; records.row_count()];
        let mut valid = Vec::with_capacity(records.row_count());
        for (row, outcome) in outcomes.iter_mut().enumerate() {
            match self.check_record(records, row) {
                Some(problem) => *outcome = Some(WriteOutcome::Failed(problem)),
                None => valid.push(row),
            }
        }

        if dry_run {
            for &row in &valid {
                outcomes[row] = Some(self.predict(connection, records, row)?);
            }
        } else if self.batching.get() {
            self.write_batches(connection, records, &valid, &mut outcomes)?;
        } else {
            for &row in &valid {
                outcomes[row] = Some(self.write_record(connection, records, row)?);
            }
        }
        Ok(outcomes.into_iter().map(|outcome| outcome.expect("every record has an outcome")).collect())
    }

    fn check_record(&self, records: &PackedCells, row: usize) -> Option<String> {
        for (column, cell) in self.target.columns.iter().zip(records.row(row)) {
            if cell == Cell::Empty && !column.nullable {
                return Some(format!("{} is required but the importer gave no value", column.name));
            }
            if !sql::fits(cell, column.column_type) {
                return Some(format!(
                    "importer {} returned a {} value for the {:?} column {}",
                    self.importer,
                    sql::cell_kind(cell),
                    column.column_type,
                    column.name
                ));
            }
        }
        None
    }

    pub(super) fn write_record(
        &self,
        connection: &mut DbConnection,
        records: &PackedCells,
        row: usize,
    ) -> Result<WriteOutcome, TargetError> {
        let mut query = diesel::sql_query(&self.record_sql).into_boxed();
        for (cell, column) in records.row(row).zip(&self.target.columns) {
            query = sql::bind(query, cell, column.column_type);
        }
        let changed = query.execute(connection)?;
        if changed > 0 {
            return Ok(WriteOutcome::Written);
        }
        Ok(self.not_written(records, row))
    }

    /// Returns the outcome of a record that the duplicate strategy did not write because
    /// its key existed.
    pub(super) fn not_written(&self, records: &PackedCells, row: usize) -> WriteOutcome {
        match self.target.duplicates {
            DuplicateStrategy::Fail => WriteOutcome::Failed(self.duplicate_message(records, row)),
            DuplicateStrategy::UpdateIfNewer => {
                WriteOutcome::Skipped("the existing row is as new as this one or newer".into())
            }
            _ => WriteOutcome::Skipped("a row with this key already exists".into()),
        }
    }

    /// Tells what a real run would do with a record, without writing it.
    fn predict(
        &self,
        connection: &mut DbConnection,
        records: &PackedCells,
        row: usize,
    ) -> Result<WriteOutcome, TargetError> {
        if !self.exists {
            return Ok(WriteOutcome::Written);
        }
        let mut query = diesel::sql_query(&self.exists_sql).into_boxed();
        for key in &self.target.keyed_by {
            let column = self.target.key_position(key);
            query = sql::bind(query, records.get(row, column), self.target.columns[column].column_type);
        }
        let found = query.get_result::<Found>(connection)?.found > 0;
        Ok(match (found, self.target.duplicates) {
            (false, _) => WriteOutcome::Written,
            (true, DuplicateStrategy::Skip) => WriteOutcome::Skipped("a row with this key already exists".into()),
            (true, DuplicateStrategy::Fail) => WriteOutcome::Failed(self.duplicate_message(records, row)),
            // NOTE: a dry run counts an update_if_newer duplicate as written without
            // comparing timestamps; comparing would need the row's current values.
            (true, _) => WriteOutcome::Written,
        })
    }

    fn duplicate_message(&self, records: &PackedCells, row: usize) -> String {
        let key: Vec<String> = self
            .target
            .keyed_by
            .iter()
            .map(|key| {
                let column = self.target.key_position(key);
                format!("{key} = {}", records.get(row, column).to_text().unwrap_or_else(|| "null".into()))
            })
            .collect();
        format!("a row with {} already exists in {}", key.join(", "), self.target.table)
    }
}

fn check_columns(target: &Target, existing: &[String]) -> Result<(), TargetError> {
    let missing: Vec<&str> = target
        .columns
        .iter()
        .map(|column| column.name.as_str())
        .filter(|name| !existing.iter().any(|existing| existing.eq_ignore_ascii_case(name)))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(TargetError::ColumnMismatch { table: target.table.clone(), missing: missing.join(", ") })
    }
}

/// Creates the target table from its declared columns and key.
///
/// On PostgreSQL, two nodes creating the same table at once could both pass `IF NOT
/// EXISTS`, and one would then fail on the catalog's unique index. A transaction-scoped
/// advisory lock on the table's name makes the second wait and find the table.
fn create_table(connection: &mut DbConnection, target: &Target) -> QueryResult<()> {
    let create = create_table_sql(target, connection.backend());
    match connection.backend() {
        Backend::Sqlite => connection.batch_execute(&create),
        Backend::Postgres => connection.transaction(|connection| {
            diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind::<Text, _>(&target.table)
                .execute(connection)?;
            connection.batch_execute(&create)
        }),
    }
}

fn create_table_sql(target: &Target, backend: Backend) -> String {
    let mut definitions = vec![sql::id_column(backend).to_owned()];
    for column in &target.columns {
        let not_null = if column.nullable { "" } else { " NOT NULL" };
        definitions.push(format!("{} {}{not_null}", quote(&column.name), sql::sql_type(backend, column.column_type)));
    }
    let key: Vec<String> = target.keyed_by.iter().map(|name| quote(name)).collect();
    definitions.push(format!("UNIQUE ({})", key.join(", ")));
    format!("CREATE TABLE IF NOT EXISTS {} ({})", quote(&target.table), definitions.join(", "))
}

/// Returns the head of a SQLite multi-row insert. `OR FAIL` keeps SQLite from writing every
/// page the statement changes to a statement journal first, which it does for a
/// multi-row statement that may abort, so that an abort can undo the statement's
/// earlier rows. That copy cost about a tenth of the writing thread's time on 1M products
/// rows. Nothing here needs the undo, because a failed statement fails its group's
/// transaction or the savepoint of an all-or-nothing chunk, and both roll back whole.
fn batch_insert_sql(target: &Target) -> String {
    let columns: Vec<String> = target.columns.iter().map(|column| quote(&column.name)).collect();
    format!("INSERT OR FAIL INTO {} ({}) VALUES", quote(&target.table), columns.join(", "))
}

fn insert_head_sql(target: &Target) -> String {
    let columns: Vec<String> = target.columns.iter().map(|column| quote(&column.name)).collect();
    format!("INSERT INTO {} ({})", quote(&target.table), columns.join(", "))
}

/// Builds the `ON CONFLICT` clause of the duplicate strategy, which both backends accept
/// as it is. A statement changes a row only when the strategy writes the record.
fn conflict_sql(target: &Target) -> String {
    let key: Vec<String> = target.keyed_by.iter().map(|name| quote(name)).collect();
    let updates: Vec<String> = target
        .columns
        .iter()
        .filter(|column| !target.keyed_by.contains(&column.name))
        .map(|column| format!("{0} = excluded.{0}", quote(&column.name)))
        .collect();
    let conflict = format!("ON CONFLICT ({})", key.join(", "));

    // A key-only table has nothing to update; a duplicate then leaves the row as it is.
    if updates.is_empty() {
        return format!("{conflict} DO NOTHING");
    }
    match target.duplicates {
        DuplicateStrategy::Skip | DuplicateStrategy::Fail => format!("{conflict} DO NOTHING"),
        DuplicateStrategy::Update | DuplicateStrategy::Upsert => {
            format!("{conflict} DO UPDATE SET {}", updates.join(", "))
        }
        DuplicateStrategy::UpdateIfNewer => {
            let newer: Vec<String> = target
                .newer_by
                .iter()
                .map(|name| format!("excluded.{0} > {1}.{0}", quote(name), quote(&target.table)))
                .collect();
            format!("{conflict} DO UPDATE SET {} WHERE {}", updates.join(", "), newer.join(" OR "))
        }
    }
}

/// Counts the rows with a record's key; key columns are never null, so `=` matches.
fn exists_sql(target: &Target, backend: Backend) -> String {
    let conditions: Vec<String> = target
        .keyed_by
        .iter()
        .enumerate()
        .map(|(index, name)| format!("{} = {}", quote(name), backend.placeholder(index + 1)))
        .collect();
    format!(
        "SELECT COUNT(*) AS found FROM {} WHERE {}",
        quote(&target.table),
        conditions.join(" AND ")
    )
}
