//! Lookups of related rows on an importer's behalf (`relate` in the contract).

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::TablePolicy;
use super::sql::quote;
use crate::plugins::HostServices;
use crate::plugins::description::is_identifier;
use crate::store::{DbConnection, Store};

/// Serves `relate` calls from the database the run writes to.
pub struct RelateService {
    store: Store,
    policy: TablePolicy,
}

impl RelateService {
    pub fn new(store: Store, policy: TablePolicy) -> Self {
        Self { store, policy }
    }
}

#[derive(QueryableByName)]
struct Related {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    value: String,
}

/// SQLite binds at most 32,766 parameters in one statement and PostgreSQL 65,535;
/// lookups go in slices well below both.
const LOOKUP_BATCH: usize = 500;

impl HostServices for RelateService {
    fn relate(
        &self,
        table: &str,
        column: &str,
        values: &[String],
        create_missing: bool,
    ) -> Result<Vec<Option<i64>>, String> {
        let mut connection = self.store.connection().map_err(|error| error.to_string())?;
        relate_on(&mut connection, &self.policy, table, column, values, create_missing)
    }
}

/// Finds (or creates, with `create_missing`) the `id` of the row of `table` whose
/// `column` equals each value, on `connection`. Inside a transaction, the created rows
/// commit with it.
pub fn relate_on(
    connection: &mut DbConnection,
    policy: &TablePolicy,
    table: &str,
    column: &str,
    values: &[String],
    create_missing: bool,
) -> Result<Vec<Option<i64>>, String> {
    if !is_identifier(table) || !is_identifier(column) {
        return Err(format!("relate needs a plain table and column name, not {table:?}.{column:?}"));
    }
    policy.check(table).map_err(|error| error.to_string())?;

    let mut ids = find_ids(connection, table, column, values).map_err(|error| relate_error(table, error))?;
    if create_missing {
        let missing: Vec<String> = unique(values.iter().filter(|value| !ids.contains_key(*value)));
        if !missing.is_empty() {
            // Without a unique index on the column, a row made by another run at the
            // same moment is not seen as a conflict, and the value then has two rows.
            let insert = format!(
                "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT DO NOTHING",
                quote(table),
                quote(column),
                connection.backend().placeholder(1)
            );
            connection
                .transaction(|connection| {
                    for value in &missing {
                        diesel::sql_query(&insert).bind::<Text, _>(value).execute(connection)?;
                    }
                    diesel::QueryResult::Ok(())
                })
                .map_err(|error| relate_error(table, error))?;
            ids.extend(find_ids(connection, table, column, &missing).map_err(|error| relate_error(table, error))?);
        }
    }
    Ok(values.iter().map(|value| ids.get(value).copied()).collect())
}

fn relate_error(table: &str, error: diesel::result::Error) -> String {
    format!("looking up rows of {table} failed: {error}")
}

fn unique<'a>(values: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    values.filter(|value| seen.insert(value.as_str())).cloned().collect()
}

fn find_ids(
    connection: &mut DbConnection,
    table: &str,
    column: &str,
    values: &[String],
) -> QueryResult<HashMap<String, i64>> {
    let distinct = unique(values.iter());
    let mut ids = HashMap::with_capacity(distinct.len());
    for batch in distinct.chunks(LOOKUP_BATCH) {
        // NOTE: the values are bound as text. SQLite compares them with any column type,
        // but PostgreSQL rejects `integer_column IN (text, ...)`, so there a relation's
        // column must be a text column.
        let placeholders = connection.backend().placeholders(1, batch.len());
        // The cast lets the lookup read a table whose id is a 32-bit integer too.
        let sql = format!(
            "SELECT CAST(id AS BIGINT) AS id, CAST({1} AS TEXT) AS value FROM {0} WHERE {1} IN ({placeholders})",
            quote(table),
            quote(column)
        );
        let mut query = diesel::sql_query(sql).into_boxed();
        for value in batch {
            query = query.bind::<Text, _>(value);
        }
        for related in query.load::<Related>(connection)? {
            ids.insert(related.value, related.id);
        }
    }
    Ok(ids)
}
