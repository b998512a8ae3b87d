//! The target tables of one run: a [`TargetTable`] per target the importer declares, and
//! the writes of a chunk's records to each.

use super::write::{TargetTable, WriteOutcome};
use super::{TablePolicy, TargetError};
use crate::cells::PackedCells;
use crate::plugins::description::Description;
use crate::store::DbConnection;

/// The prepared tables of an importer's targets, in the order of its description.
#[derive(Debug, Clone)]
pub struct TargetTables {
    tables: Vec<TargetTable>,
}

impl TargetTables {
    /// Prepares every target of `description` as [`TargetTable::prepare`] does.
    ///
    /// The policy is checked for all tables before any is created, so that an importer
    /// with one forbidden table creates none.
    pub fn prepare(
        connection: &mut DbConnection,
        description: &Description,
        policy: &TablePolicy,
        dry_run: bool,
    ) -> Result<Self, TargetError> {
        for target in &description.targets {
            policy.check(&target.table)?;
        }
        let importer = format!("{}@{}", description.slug, description.version);
        let tables = description
            .targets
            .iter()
            .map(|target| TargetTable::prepare(connection, &importer, target, policy, dry_run))
            .collect::<Result<_, _>>()?;
        Ok(Self { tables })
    }

    /// Writes (or, in a dry run, only checks) each target's records to its table, inside
    /// the caller's chunk transaction. `records` has one entry per target, in order.
    /// Returns, per target, the outcome of each of its records in order.
    pub fn write(
        &self,
        connection: &mut DbConnection,
        records: &[PackedCells],
        dry_run: bool,
    ) -> Result<Vec<Vec<WriteOutcome>>, TargetError> {
        debug_assert_eq!(records.len(), self.tables.len(), "one set of records per target");
        self.tables
            .iter()
            .zip(records)
            .map(|(table, records)| table.write(connection, records, dry_run))
            .collect()
    }
}
