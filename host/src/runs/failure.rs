//! The reason a run stopped before its last row.

use crate::sources;
use crate::store::StoreError;
use crate::store::connection::is_transient;
use crate::targets::TargetError;

/// A run's failure: the message shown to the user as is, and how to treat it.
#[derive(Debug)]
pub(super) struct RunFailure {
    pub message: String,
    /// True when the host, not the importer or the file, is at fault.
    pub host_fault: bool,
    /// True when the failed transaction may succeed if it runs again (see
    /// [`is_transient`]).
    pub transient: bool,
}

impl RunFailure {
    pub fn user(message: impl Into<String>) -> Self {
        Self { message: message.into(), host_fault: false, transient: false }
    }
}

impl From<StoreError> for RunFailure {
    fn from(error: StoreError) -> Self {
        let transient = matches!(&error, StoreError::Query(query) if is_transient(query));
        Self { message: format!("the run's database work failed: {error}"), host_fault: true, transient }
    }
}

impl From<TargetError> for RunFailure {
    fn from(error: TargetError) -> Self {
        match error {
            TargetError::Query(error) => Self {
                message: format!("writing the target table failed: {error}"),
                host_fault: true,
                transient: is_transient(&error),
            },
            other => Self::user(other.to_string()),
        }
    }
}

impl From<sources::SourceError> for RunFailure {
    fn from(error: sources::SourceError) -> Self {
        Self::user(error.to_string())
    }
}

impl From<diesel::result::Error> for RunFailure {
    fn from(error: diesel::result::Error) -> Self {
        StoreError::from(error).into()
    }
}
