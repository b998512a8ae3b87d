//! The host functions an importer may call, behind a trait so that native tests can stand
//! in for the host.

use crate::bindings::ingest::importer::host::{LogLevel, RelateRequest};

/// The `host` interface of the WIT world.
pub(crate) trait Host {
    /// Returns the id of the row of `request.table` whose `request.column` equals each
    /// value, in order, with `None` for a value that matches no row.
    fn relate(&self, request: &RelateRequest) -> Result<Vec<Option<i64>>, String>;

    fn log(&self, level: LogLevel, message: &str);
}

/// The real host, reached through the component's imports.
pub(crate) struct ComponentHost;

impl Host for ComponentHost {
    fn relate(&self, request: &RelateRequest) -> Result<Vec<Option<i64>>, String> {
        #[cfg(target_arch = "wasm32")]
        {
            crate::bindings::ingest::importer::host::relate(request)
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            Err(format!(
                "Cannot look up {}.{} outside the ingest host; use `testing::Harness::with_relate` in native tests.",
                request.table, request.column
            ))
        }
    }

    fn log(&self, level: LogLevel, message: &str) {
        crate::log::write(level, message);
    }
}
