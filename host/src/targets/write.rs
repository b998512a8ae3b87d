//! Keyed writes of an importer's records.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::sql::{self, quote};
use super::{TablePolicy, TargetError};
use crate::cells::{Cell, PackedCells};
use crate::plugins::description::{Description, DuplicateStrategy};

/// What became of one record.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOutcome {
    Written,
    Skipped(String),
    Failed(String),
}

/// A checked target table and the statements that write it.
#[derive(Debug, Clone)]
pub struct TargetTable {
    description: Description,
    /// False when the table does not exist yet (possible only in a dry run).
    exists: bool,
    write_sql: String,
    exists_sql: String,
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = BigInt)]
    found: i64,
}

impl TargetTable {
    /// Checks the importer's table against the policy and the database, creating it
    /// when it is missing (never in a dry run, which writes nothing).
    pub fn prepare(
        connection: &mut SqliteConnection,
        description: &Description,
        policy: &TablePolicy,
        dry_run: bool,
    ) -> Result<Self, TargetError> {
        let table = description.target.as_str();
        policy.check(table)?;

        let exists = match sql::table_columns(connection, table)? {
            Some(columns) => {
                check_columns(description, &columns)?;
                if !sql::has_unique_index(connection, table, &description.keyed_by)? {
                    return Err(TargetError::NoUniqueKey {
                        table: table.to_owned(),
                        key: description.keyed_by.join(", "),
                    });
                }
                true
            }
            None if dry_run => false,
            None if policy.create_missing => {
                connection.batch_execute(&create_table_sql(description))?;
                tracing::info!(table, importer = %description.slug, "target table created");
                true
            }
            None => return Err(TargetError::Missing(table.to_owned())),
        };

        Ok(Self {
            description: description.clone(),
            exists,
            write_sql: write_sql(description),
            exists_sql: exists_sql(description),
        })
    }

    /// Writes (or, in a dry run, only checks) every record, in order; call inside the
    /// chunk's transaction. A database error fails the whole chunk.
    pub fn write(
        &self,
        connection: &mut SqliteConnection,
        records: &PackedCells,
        dry_run: bool,
    ) -> Result<Vec<WriteOutcome>, TargetError> {
        let mut outcomes = Vec::with_capacity(records.row_count());
        for row in 0..records.row_count() {
            let outcome = match self.check_record(records, row) {
                Some(problem) => WriteOutcome::Failed(problem),
                None if dry_run => self.predict(connection, records, row)?,
                None => self.write_record(connection, records, row)?,
            };
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    fn check_record(&self, records: &PackedCells, row: usize) -> Option<String> {
        for (column, cell) in self.description.columns.iter().zip(records.row(row)) {
            if cell == Cell::Empty && !column.nullable {
                return Some(format!("{} is required but the importer gave no value", column.name));
            }
            if !sql::fits(cell, column.column_type) {
                return Some(format!(
                    "importer {}@{} returned a {} value for the {:?} column {}",
                    self.description.slug,
                    self.description.version,
                    sql::cell_kind(cell),
                    column.column_type,
                    column.name
                ));
            }
        }
        None
    }

    fn write_record(
        &self,
        connection: &mut SqliteConnection,
        records: &PackedCells,
        row: usize,
    ) -> Result<WriteOutcome, TargetError> {
        let mut query = diesel::sql_query(&self.write_sql).into_boxed();
        for cell in records.row(row) {
            query = sql::bind(query, cell);
        }
        let changed = query.execute(connection)?;
        if changed > 0 {
            return Ok(WriteOutcome::Written);
        }
        Ok(match self.description.duplicates {
            DuplicateStrategy::Fail => WriteOutcome::Failed(self.duplicate_message(records, row)),
            DuplicateStrategy::UpdateIfNewer => {
                WriteOutcome::Skipped("the existing row is as new as this one or newer".into())
            }
            _ => WriteOutcome::Skipped("a row with this key already exists".into()),
        })
    }

    /// Tells what a real run would do with a record, without writing it.
    fn predict(
        &self,
        connection: &mut SqliteConnection,
        records: &PackedCells,
        row: usize,
    ) -> Result<WriteOutcome, TargetError> {
        if !self.exists {
            return Ok(WriteOutcome::Written);
        }
        let mut query = diesel::sql_query(&self.exists_sql).into_boxed();
        for key in &self.description.keyed_by {
            let column = self.description.columns.iter().position(|column| &column.name == key).expect("validated key");
            query = sql::bind(query, records.get(row, column));
        }
        let found = query.get_result::<Found>(connection)?.found > 0;
        Ok(match (found, self.description.duplicates) {
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
            .description
            .keyed_by
            .iter()
            .map(|key| {
                let column = self.description.columns.iter().position(|column| &column.name == key).expect("validated key");
                format!("{key} = {}", records.get(row, column).to_text().unwrap_or_else(|| "null".into()))
            })
            .collect();
        format!("a row with {} already exists in {}", key.join(", "), self.description.target)
    }
}

fn check_columns(description: &Description, existing: &[String]) -> Result<(), TargetError> {
    let missing: Vec<&str> = description
        .columns
        .iter()
        .map(|column| column.name.as_str())
        .filter(|name| !existing.iter().any(|existing| existing.eq_ignore_ascii_case(name)))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(TargetError::ColumnMismatch { table: description.target.clone(), missing: missing.join(", ") })
    }
}

fn create_table_sql(description: &Description) -> String {
    let mut definitions = vec!["\"id\" INTEGER PRIMARY KEY AUTOINCREMENT".to_owned()];
    for column in &description.columns {
        let not_null = if column.nullable { "" } else { " NOT NULL" };
        definitions.push(format!("{} {}{not_null}", quote(&column.name), sql::sql_type(column.column_type)));
    }
    let key: Vec<String> = description.keyed_by.iter().map(|name| quote(name)).collect();
    definitions.push(format!("UNIQUE ({})", key.join(", ")));
    format!("CREATE TABLE IF NOT EXISTS {} ({})", quote(&description.target), definitions.join(", "))
}

fn write_sql(description: &Description) -> String {
    let columns: Vec<String> = description.columns.iter().map(|column| quote(&column.name)).collect();
    let placeholders = vec!["?"; columns.len()].join(", ");
    let key: Vec<String> = description.keyed_by.iter().map(|name| quote(name)).collect();
    let updates: Vec<String> = description
        .columns
        .iter()
        .filter(|column| !description.keyed_by.contains(&column.name))
        .map(|column| format!("{0} = excluded.{0}", quote(&column.name)))
        .collect();
    let insert = format!(
        "INSERT INTO {} ({}) VALUES ({placeholders}) ON CONFLICT ({})",
        quote(&description.target),
        columns.join(", "),
        key.join(", ")
    );

    // A key-only table has nothing to update; a duplicate then leaves the row as it is.
    if updates.is_empty() {
        return format!("{insert} DO NOTHING");
    }
    match description.duplicates {
        DuplicateStrategy::Skip | DuplicateStrategy::Fail => format!("{insert} DO NOTHING"),
        DuplicateStrategy::Update | DuplicateStrategy::Upsert => {
            format!("{insert} DO UPDATE SET {}", updates.join(", "))
        }
        DuplicateStrategy::UpdateIfNewer => {
            let newer: Vec<String> = description
                .newer_by
                .iter()
                .map(|name| format!("excluded.{0} > {1}.{0}", quote(name), quote(&description.target)))
                .collect();
            format!("{insert} DO UPDATE SET {} WHERE {}", updates.join(", "), newer.join(" OR "))
        }
    }
}

fn exists_sql(description: &Description) -> String {
    let conditions: Vec<String> = description.keyed_by.iter().map(|name| format!("{} IS ?", quote(name))).collect();
    format!(
        "SELECT COUNT(*) AS found FROM {} WHERE {}",
        quote(&description.target),
        conditions.join(" AND ")
    )
}
