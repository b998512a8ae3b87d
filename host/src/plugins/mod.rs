//! The importer runtime: wasmtime components loaded from the plugins directory, called
//! in a sandbox. This module never touches the database; what an importer asks of the
//! host goes through [`HostServices`], which the run engine provides.

pub mod bindings;
pub mod description;
pub mod engine;
pub mod instance;
pub mod registry;
pub mod sandbox;
pub mod watch;

use std::path::PathBuf;
use std::time::Duration;

pub use description::Description;
pub use instance::{ChunkResult, GuestFault, ImporterInstance, RowFailure};
pub use registry::{LoadError, Registry};

/// One compiled, checked version of an importer. A run holds an `Arc` to the version it
/// started with, so replacing the file never changes a run in flight.
pub struct LoadedImporter {
    pub description: Description,
    pub pre: bindings::ImporterWorldPre<sandbox::GuestState>,
    pub file: PathBuf,
    pub loaded_at: chrono::DateTime<chrono::Utc>,
    /// SHA-256 of the file's bytes.
    pub sha256: [u8; 32],
    pub load: LoadStats,
}

impl LoadedImporter {
    /// `slug@version`, the name every message about this importer uses.
    pub fn label(&self) -> String {
        format!("{}@{}", self.description.slug, self.description.version)
    }

    /// Returns the SHA-256 of the file's bytes in lower-case hexadecimal.
    pub fn sha256_hex(&self) -> String {
        self.sha256.iter().map(|byte| format!("{byte:02x}")).collect()
    }
}

/// Duration of one version's load, and the source of its machine code.
#[derive(Debug, Clone, Copy)]
pub struct LoadStats {
    /// From reading the file to the checked description, describe call included.
    pub duration: Duration,
    pub compilation: Compilation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compilation {
    /// Compiled by Cranelift during this load.
    Compiled,
    /// Read from wasmtime's cache under `INGEST_STORAGE_DIR/wasm-cache`.
    DiskCache,
    /// Reused from a version this process already serves with the same bytes.
    MemoryCache,
}

impl Compilation {
    pub fn as_str(self) -> &'static str {
        match self {
            Compilation::Compiled => "compiled",
            Compilation::DiskCache => "disk_cache",
            Compilation::MemoryCache => "memory_cache",
        }
    }
}

/// Services the host performs on an importer's behalf.
pub trait HostServices: Send + Sync {
    /// Finds (or creates, with `create_missing`) the `id` of the row of `table` whose
    /// `column` equals each value.
    fn relate(&self, table: &str, column: &str, values: &[String], create_missing: bool)
    -> Result<Vec<Option<i64>>, String>;
}

/// Host services for calls that must not reach the database, such as `describe`.
pub struct NoHostServices;

impl HostServices for NoHostServices {
    fn relate(&self, _: &str, _: &str, _: &[String], _: bool) -> Result<Vec<Option<i64>>, String> {
        Err("relate is not available while the importer describes itself".into())
    }
}
