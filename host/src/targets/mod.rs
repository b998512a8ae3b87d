//! Target tables: the host, not the importer, writes them.
//!
//! [`TargetTable::prepare`] checks that an importer may write a table and creates it
//! when it is missing. [`TargetTable::write`] applies the target's duplicate strategy to
//! a chunk's records inside the caller's chunk transaction. [`TargetTables`] contains
//! one prepared table per target an importer declares. [`relate`] looks up related rows
//! for an importer.

mod batch;
mod introspect;
mod policy;
mod relate;
mod sql;
mod statement;
mod tables;
mod write;

pub use policy::TablePolicy;
pub use relate::{RelateService, relate_on};
pub use tables::TargetTables;
pub use write::{TargetTable, WriteOutcome};

/// The reason a run cannot write its target table.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("table {0} belongs to the ingest host; importers cannot write it")]
    HostTable(String),
    #[error("table {0} is not in INGEST_TARGET_TABLES; add it there to let importers write it")]
    NotAllowed(String),
    #[error("target table {0} does not exist and INGEST_CREATE_TARGET_TABLES is off; create it first")]
    Missing(String),
    #[error("target table {table} lacks the columns {missing}; add them or let the host create the table")]
    ColumnMismatch { table: String, missing: String },
    #[error("target table {table} has no unique index on ({key}), which keyed writes need; add one")]
    NoUniqueKey { table: String, key: String },
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}
