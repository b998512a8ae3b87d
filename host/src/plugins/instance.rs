//! One sandboxed instance of an importer, and the calls into it.
//!
//! Each call returns a result inside a result: the outer [`GuestFault`] for what the
//! sandbox stopped (a trap, the time or memory limit, malformed output), the inner
//! `Err(String)` for what the importer itself reported.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::{Store, Trap};

use super::bindings::ImporterWorld;
use super::bindings::ingest::importer::types as wit;
use super::description::{Description, Target};
use super::engine::EPOCH_TICK;
use super::sandbox::{GuestState, MemoryLimitExceeded};
use super::{HostServices, LoadedImporter};
use crate::cells::PackedCells;
use crate::config::SandboxLimits;

/// Maximum length of a crash message in bytes. Longer panic messages are cut.
const MAX_CRASH_MESSAGE_BYTES: usize = 1000;

/// A call that the sandbox stopped. Its message names the importer (`slug@version`) and,
/// for a limit, the limit and the setting that sets it.
#[derive(Debug)]
pub enum GuestFault {
    Timeout { importer: String, limit_ms: u128 },
    Memory { importer: String, limit_bytes: usize },
    Trap { importer: String, message: String },
    Malformed { importer: String, detail: String },
}

impl GuestFault {
    /// Returns what happened, as a phrase that follows the importer's name.
    pub fn reason(&self) -> String {
        match self {
            GuestFault::Timeout { limit_ms, .. } => format!(
                "ran longer than its limit of {limit_ms} ms for one call (INGEST_IMPORTER_TIMEOUT_MS) and was stopped"
            ),
            GuestFault::Memory { limit_bytes, .. } => format!(
                "needed more than its memory limit of {} (INGEST_IMPORTER_MEMORY_BYTES={limit_bytes}) and was stopped",
                format_bytes(*limit_bytes)
            ),
            GuestFault::Trap { message, .. } => format!("crashed: {message}"),
            GuestFault::Malformed { detail, .. } => format!("returned malformed output: {detail}"),
        }
    }
}

impl std::fmt::Display for GuestFault {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (GuestFault::Timeout { importer, .. }
        | GuestFault::Memory { importer, .. }
        | GuestFault::Trap { importer, .. }
        | GuestFault::Malformed { importer, .. }) = self;
        write!(formatter, "importer {importer} {}", self.reason())
    }
}

impl std::error::Error for GuestFault {}

/// Formats a size as `64 MiB` for whole mebibytes, else as a number of bytes.
fn format_bytes(bytes: usize) -> String {
    const MIB: usize = 1 << 20;
    if bytes >= MIB && bytes.is_multiple_of(MIB) { format!("{} MiB", bytes / MIB) } else { format!("{bytes} bytes") }
}

/// Outcome codes of `chunk-result.outcomes`.
pub const OUTCOME_RECORD: u8 = 0;
pub const OUTCOME_SKIPPED: u8 = 1;
pub const OUTCOME_FAILED: u8 = 2;

/// A row failure reported by the importer.
#[derive(Debug, Clone, PartialEq)]
pub struct RowFailure {
    pub message: String,
    pub validation: Vec<(String, Vec<String>)>,
}

/// The importer's outcome for a chunk, checked against its description.
#[derive(Debug, Clone)]
pub struct ChunkResult {
    pub outcomes: Vec<u8>,
    /// For each row whose outcome is [`OUTCOME_RECORD`], in order, the index of its
    /// record's target among the description's targets.
    pub record_targets: Vec<u32>,
    /// Per described target, in order, the records that go to it, one cell each per
    /// column of that target.
    pub records: Vec<PackedCells>,
    pub skips: Vec<String>,
    pub failures: Vec<RowFailure>,
}

/// An importer version and, once called, a live instance of it in its own store. A run
/// uses one for all its chunks. The store and its memory are freed when it is dropped.
pub struct ImporterInstance {
    importer: Arc<LoadedImporter>,
    /// Name of the importer in messages: `slug@version`, or its file name while it
    /// describes itself at load.
    label: String,
    limits: SandboxLimits,
    services: Arc<dyn HostServices>,
    live: Option<(Store<GuestState>, ImporterWorld)>,
}

impl ChunkResult {
    /// Returns a result without rows, with an empty set of records for each of
    /// `targets`.
    pub fn empty(targets: &[Target]) -> Self {
        Self {
            outcomes: Vec::new(),
            record_targets: Vec::new(),
            records: targets.iter().map(|target| PackedCells::new(target.columns.len() as u32)).collect(),
            skips: Vec::new(),
            failures: Vec::new(),
        }
    }

    /// Appends the rows of `other`, a result for the rows that follow this one's.
    pub fn append(&mut self, other: ChunkResult) {
        self.outcomes.extend(other.outcomes);
        self.record_targets.extend(other.record_targets);
        for (records, more) in self.records.iter_mut().zip(&other.records) {
            records.append(more);
        }
        self.skips.extend(other.skips);
        self.failures.extend(other.failures);
    }
}

impl ImporterInstance {
    pub fn new(importer: Arc<LoadedImporter>, limits: SandboxLimits, services: Arc<dyn HostServices>) -> Self {
        let label = importer.label();
        Self { importer, label, limits, services, live: None }
    }

    /// Names the importer `label` in messages, for an importer that has not described
    /// itself yet.
    pub(super) fn with_label(mut self, label: String) -> Self {
        self.label = label;
        self
    }

    pub fn description(&self) -> &Description {
        &self.importer.description
    }

    pub fn describe(&mut self) -> Result<Result<Description, String>, GuestFault> {
        let description = self.call(|store, bindings| bindings.ingest_importer_importer().call_describe(store))?;
        Ok(description.map(Description::from))
    }

    pub fn check_headers(&mut self, headers: &[String]) -> Result<Result<(), String>, GuestFault> {
        let headers = headers.to_vec();
        self.call(|store, bindings| bindings.ingest_importer_importer().call_check_headers(store, &headers))
    }

    /// Runs the importer over one chunk. The cells are lent to the guest and handed back
    /// unchanged, so the caller can keep the rows' original data.
    pub fn process(
        &mut self,
        headers: &[String],
        first_row: u64,
        rows: &mut PackedCells,
    ) -> Result<Result<ChunkResult, String>, GuestFault> {
        let chunk = wit::Chunk {
            headers: headers.to_vec(),
            first_row,
            rows: wit::Cells {
                width: rows.width,
                tags: std::mem::take(&mut rows.tags),
                ends: std::mem::take(&mut rows.ends),
                bytes: std::mem::take(&mut rows.bytes),
            },
        };
        let row_count = chunk.rows.tags.len() / rows.width.max(1) as usize;
        let outcome = self.call(|store, bindings| bindings.ingest_importer_importer().call_process(store, &chunk));
        rows.tags = chunk.rows.tags;
        rows.ends = chunk.rows.ends;
        rows.bytes = chunk.rows.bytes;

        // NOTE: wasmtime copies the result out of the guest before it is checked. A guest
        // can return a `list<string>` (skips, failure messages) whose entries all point at
        // the same bytes, and so make the host allocate far more than the memory limit.
        match outcome? {
            Ok(result) => Ok(Ok(self.check_result(result, row_count)?)),
            Err(message) => Ok(Err(message)),
        }
    }

    fn check_result(&self, result: wit::ChunkResult, row_count: usize) -> Result<ChunkResult, GuestFault> {
        let malformed = |detail: String| GuestFault::Malformed { importer: self.label.clone(), detail };
        let description = &self.importer.description;

        if result.outcomes.len() != row_count {
            return Err(malformed(format!("{} outcomes for a chunk of {row_count} rows", result.outcomes.len())));
        }
        let count = |code: u8| result.outcomes.iter().filter(|&&outcome| outcome == code).count();
        if let Some(bad) = result.outcomes.iter().find(|&&outcome| outcome > OUTCOME_FAILED) {
            return Err(malformed(format!("unknown outcome code {bad}")));
        }
        if result.record_targets.len() != count(OUTCOME_RECORD) {
            return Err(malformed(format!(
                "{} record targets for {} record outcomes",
                result.record_targets.len(),
                count(OUTCOME_RECORD)
            )));
        }
        if let Some(bad) = result.record_targets.iter().find(|&&target| target as usize >= description.targets.len()) {
            return Err(malformed(format!(
                "a record goes to the undeclared target {bad}; the description declares targets 0 to {}",
                description.targets.len().saturating_sub(1)
            )));
        }
        if result.records.len() != description.targets.len() {
            return Err(malformed(format!(
                "{} sets of records for the {} targets the description declares",
                result.records.len(),
                description.targets.len()
            )));
        }
        let mut records = Vec::with_capacity(result.records.len());
        for (index, (cells, target)) in result.records.into_iter().zip(&description.targets).enumerate() {
            let cells = PackedCells { width: cells.width, tags: cells.tags, ends: cells.ends, bytes: cells.bytes };
            if cells.width as usize != target.columns.len() {
                return Err(malformed(format!(
                    "records of target {} have {} columns but the description declares {}",
                    target.table,
                    cells.width,
                    target.columns.len()
                )));
            }
            cells.validate().map_err(|error| malformed(format!("records of target {}: {error}", target.table)))?;
            let routed = result.record_targets.iter().filter(|&&routed| routed as usize == index).count();
            if cells.row_count() != routed {
                return Err(malformed(format!(
                    "{} records of target {} for {routed} record outcomes routed to it",
                    cells.row_count(),
                    target.table
                )));
            }
            records.push(cells);
        }
        if result.skips.len() != count(OUTCOME_SKIPPED) || result.failures.len() != count(OUTCOME_FAILED) {
            return Err(malformed("the numbers of skips and failures do not match the outcomes".into()));
        }

        Ok(ChunkResult {
            outcomes: result.outcomes,
            record_targets: result.record_targets,
            records,
            skips: result.skips,
            failures: result
                .failures
                .into_iter()
                .map(|failure| RowFailure {
                    message: failure.message,
                    validation: failure.validation.into_iter().map(|field| (field.field, field.messages)).collect(),
                })
                .collect(),
        })
    }

    /// Calls into the guest under the sandbox's limits. An instance that trapped is
    /// dropped with its store and never entered again; the next call gets a fresh one.
    fn call<T>(
        &mut self,
        invoke: impl FnOnce(&mut Store<GuestState>, &ImporterWorld) -> wasmtime::Result<T>,
    ) -> Result<T, GuestFault> {
        if self.live.is_none() {
            self.live = Some(self.instantiate()?);
        }
        let (store, bindings) = self.live.as_mut().expect("instantiated above");
        begin_call(store, self.limits.call_timeout);

        match invoke(store, bindings) {
            Ok(value) => Ok(value),
            Err(error) => {
                let stderr = store.data().take_stderr();
                self.live = None;
                Err(self.classify(error, &stderr))
            }
        }
    }

    fn instantiate(&self) -> Result<(Store<GuestState>, ImporterWorld), GuestFault> {
        let state = GuestState::new(self.label.clone(), self.limits.memory_bytes, self.services.clone());
        let mut store = Store::new(self.importer.pre.engine(), state);
        store.limiter(|state| state.limiter());
        store.epoch_deadline_trap();
        // Start functions run during instantiation, under the same limits as a call.
        begin_call(&mut store, self.limits.call_timeout);

        match self.importer.pre.instantiate(&mut store) {
            Ok(bindings) => Ok((store, bindings)),
            Err(error) => {
                let stderr = store.data().take_stderr();
                Err(self.classify(error, &stderr))
            }
        }
    }

    fn classify(&self, error: wasmtime::Error, stderr: &str) -> GuestFault {
        let importer = self.label.clone();
        tracing::debug!(%importer, error = ?error, stderr, "importer call stopped");
        if let Some(Trap::Interrupt) = error.downcast_ref::<Trap>() {
            return GuestFault::Timeout { importer, limit_ms: self.limits.call_timeout.as_millis() };
        }
        if error.downcast_ref::<MemoryLimitExceeded>().is_some() {
            return GuestFault::Memory { importer, limit_bytes: self.limits.memory_bytes };
        }
        GuestFault::Trap { importer, message: crash_message(&error, stderr) }
    }
}

/// Gives the next call into `store` the full time limit, both as epoch ticks for wasm
/// code and as a deadline for the guest's sleeps.
fn begin_call(store: &mut Store<GuestState>, timeout: Duration) {
    let ticks = timeout.as_millis().div_ceil(EPOCH_TICK.as_millis()).max(1) as u64;
    store.set_epoch_deadline(ticks);
    store.data_mut().begin_call(Instant::now() + timeout);
}

/// Returns why a call trapped: the panic message the guest wrote to stderr when there is
/// one (Rust guests print it before they abort), else the trap's own cause.
fn crash_message(error: &wasmtime::Error, stderr: &str) -> String {
    let mut message = match panic_message(stderr) {
        Some(panic) => panic,
        None => {
            let cause = trap_cause(error);
            match stderr.lines().rev().map(str::trim).find(|line| !line.is_empty()) {
                Some(line) => format!("{cause}; the last line it wrote to stderr was {line:?}"),
                None => cause,
            }
        }
    };
    if message.len() > MAX_CRASH_MESSAGE_BYTES {
        let mut end = MAX_CRASH_MESSAGE_BYTES;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push('…');
    }
    message
}

/// Finds the last Rust panic in `stderr` and returns it on one line, as
/// `panicked at src/lib.rs:21:21: the message`, without the `note:` lines.
fn panic_message(stderr: &str) -> Option<String> {
    let start = stderr.rfind("panicked at ")?;
    let lines: Vec<&str> = stderr[start..]
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("note:"))
        .collect();
    Some(lines.join(" "))
}

/// Returns the cause of a failed call, without wasmtime's wasm backtrace.
fn trap_cause(error: &wasmtime::Error) -> String {
    if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return format!("it called exit with status {}", exit.0);
    }
    if let Some(trap) = error.downcast_ref::<Trap>() {
        return trap.to_string();
    }
    error.root_cause().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_message_is_one_line() {
        let stderr = "\nthread '<unnamed>' panicked at src/lib.rs:21:21:\nrow 3 contains the word boom\n\
                      note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";

        assert_eq!(
            panic_message(stderr).as_deref(),
            Some("panicked at src/lib.rs:21:21: row 3 contains the word boom")
        );
    }

    #[test]
    fn crash_without_panic_names_trap() {
        let error = wasmtime::Error::new(Trap::UnreachableCodeReached).context("error while executing at wasm backtrace");

        let message = crash_message(&error, "");

        assert_eq!(message, Trap::UnreachableCodeReached.to_string());
    }

    #[test]
    fn crash_without_panic_adds_last_stderr_line() {
        let error = wasmtime::Error::new(Trap::UnreachableCodeReached);

        let message = crash_message(&error, "starting\nbad input in row 7\n\n");

        assert!(message.ends_with("the last line it wrote to stderr was \"bad input in row 7\""), "{message}");
    }

    #[test]
    fn memory_limit_message_names_setting() {
        let fault = GuestFault::Memory { importer: "hog@1.0.0".into(), limit_bytes: 64 << 20 };

        assert_eq!(
            fault.to_string(),
            "importer hog@1.0.0 needed more than its memory limit of 64 MiB (INGEST_IMPORTER_MEMORY_BYTES=67108864) and was stopped"
        );
    }
}
