//! [`Target`]: a table that records go to, with its columns, key and duplicate strategy.

use crate::bindings::ingest::importer::types::DuplicateStrategy;
use crate::config::{Column, IntoNames};

/// A target table: its columns, the key that identifies its rows, and what the host does
/// with a record whose key exists.
///
/// An importer's main target is set up by [`IngestConfig::target`](crate::IngestConfig::target)
/// and the column and key methods of [`IngestConfig`](crate::IngestConfig). Further
/// targets are added with [`IngestConfig::add_target`](crate::IngestConfig::add_target),
/// and [`IngestConfig::route`](crate::IngestConfig::route) picks the target of each row.
///
/// ```
/// use ingest_importer_sdk::{Column, DuplicateStrategy, Target};
///
/// let companies = Target::new("companies")
///     .keyed_by("vat_id")
///     .on_duplicate(DuplicateStrategy::Update)
///     .column(Column::text("vat_id").from("VAT ID"))
///     .column(Column::text("name").required());
/// assert_eq!(companies.table(), "companies");
/// ```
pub struct Target {
    pub(crate) table: String,
    pub(crate) columns: Vec<Column>,
    pub(crate) keyed_by: Vec<String>,
    pub(crate) duplicates: DuplicateStrategy,
    pub(crate) newer_by: Vec<String>,
}

impl Target {
    /// Starts the description of the target table `table`. Duplicates are skipped.
    pub fn new(table: impl Into<String>) -> Self {
        Self {
            table: table.into(),
            columns: Vec::new(),
            keyed_by: Vec::new(),
            duplicates: DuplicateStrategy::Skip,
            newer_by: Vec::new(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// Adds a column. Records contain the columns in the order they are added.
    pub fn column(mut self, column: Column) -> Self {
        self.columns.push(column);
        self
    }

    /// Sets the key columns that identify a row of the table, one name or several for a
    /// composite key. Key columns are required.
    pub fn keyed_by(mut self, columns: impl IntoNames) -> Self {
        self.keyed_by = columns.into_names();
        self
    }

    /// Sets what the host does with a record whose key already exists. The default is
    /// [`DuplicateStrategy::Skip`]. Use [`Target::update_if_newer`] for
    /// [`DuplicateStrategy::UpdateIfNewer`], which needs its timestamp columns.
    pub fn on_duplicate(mut self, strategy: DuplicateStrategy) -> Self {
        self.duplicates = strategy;
        self
    }

    /// Overwrites an existing row only when the record's `columns` are later than the
    /// row's.
    pub fn update_if_newer(mut self, columns: impl IntoNames) -> Self {
        self.duplicates = DuplicateStrategy::UpdateIfNewer;
        self.newer_by = columns.into_names();
        self
    }
}
