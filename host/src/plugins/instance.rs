//! One sandboxed instance of an importer, and the calls into it.
//!
//! Each call returns a result inside a result: the outer [`GuestFault`] for what the
//! sandbox stopped (a trap, the time or memory limit, malformed output), the inner
//! `Err(String)` for what the importer itself reported.

use std::sync::Arc;

use wasmtime::component::{HasSelf, ResourceTable};
use wasmtime::{Store, StoreLimits, StoreLimitsBuilder, Trap};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::ImporterWorld;
use super::bindings::ingest::importer::{host, types as wit};
use super::description::Description;
use super::engine::EPOCH_TICK;
use super::{HostServices, LoadedImporter};
use crate::cells::PackedCells;
use crate::config::SandboxLimits;

/// Store data of one instance: an empty WASI context (nothing preopened, no
/// environment, no sockets) and the host services an importer may call.
pub struct GuestState {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: StoreLimits,
    services: Arc<dyn HostServices>,
    slug: String,
}

impl WasiView for GuestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl wit::Host for GuestState {}

impl host::Host for GuestState {
    fn relate(&mut self, request: host::RelateRequest) -> Result<Vec<Option<i64>>, String> {
        self.services.relate(&request.table, &request.column, &request.values, request.create_missing)
    }

    fn log(&mut self, level: host::LogLevel, message: String) {
        let importer = self.slug.as_str();
        match level {
            host::LogLevel::Debug => tracing::debug!(importer, message, "importer log"),
            host::LogLevel::Info => tracing::info!(importer, message, "importer log"),
            host::LogLevel::Warn => tracing::warn!(importer, message, "importer log"),
            host::LogLevel::Error => tracing::error!(importer, message, "importer log"),
        }
    }
}

pub fn add_to_linker(linker: &mut wasmtime::component::Linker<GuestState>) -> anyhow::Result<()> {
    ImporterWorld::add_to_linker::<_, HasSelf<_>>(linker, |state| state)?;
    wasmtime_wasi::p2::add_to_linker_sync(linker)?;
    Ok(())
}

/// What the sandbox stopped; every message names the importer and its version.
#[derive(Debug, thiserror::Error)]
pub enum GuestFault {
    #[error("importer {importer} ran longer than its {limit_ms} ms limit for one call and was stopped")]
    Timeout { importer: String, limit_ms: u128 },
    #[error("importer {importer} tried to use more than its {limit_bytes} bytes of memory and was stopped")]
    Memory { importer: String, limit_bytes: usize },
    #[error("importer {importer} crashed: {message}")]
    Trap { importer: String, message: String },
    #[error("importer {importer} returned malformed output: {detail}")]
    Malformed { importer: String, detail: String },
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

/// What the importer made of a chunk, checked against its description.
#[derive(Debug, Clone)]
pub struct ChunkResult {
    pub outcomes: Vec<u8>,
    /// Records of the rows whose outcome is [`OUTCOME_RECORD`], one column each per
    /// described target column.
    pub records: PackedCells,
    pub skips: Vec<String>,
    pub failures: Vec<RowFailure>,
}

pub struct ImporterInstance {
    importer: Arc<LoadedImporter>,
    limits: SandboxLimits,
    services: Arc<dyn HostServices>,
    live: Option<(Store<GuestState>, ImporterWorld)>,
}

impl ImporterInstance {
    pub fn new(importer: Arc<LoadedImporter>, limits: SandboxLimits, services: Arc<dyn HostServices>) -> Self {
        Self { importer, limits, services, live: None }
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

        match outcome? {
            Ok(result) => Ok(Ok(self.check_result(result, row_count)?)),
            Err(message) => Ok(Err(message)),
        }
    }

    fn check_result(&self, result: wit::ChunkResult, row_count: usize) -> Result<ChunkResult, GuestFault> {
        let malformed = |detail: String| GuestFault::Malformed { importer: self.importer.label(), detail };
        let description = &self.importer.description;

        if result.outcomes.len() != row_count {
            return Err(malformed(format!("{} outcomes for a chunk of {row_count} rows", result.outcomes.len())));
        }
        let count = |code: u8| result.outcomes.iter().filter(|&&outcome| outcome == code).count();
        if let Some(bad) = result.outcomes.iter().find(|&&outcome| outcome > OUTCOME_FAILED) {
            return Err(malformed(format!("unknown outcome code {bad}")));
        }
        let records = PackedCells {
            width: result.records.width,
            tags: result.records.tags,
            ends: result.records.ends,
            bytes: result.records.bytes,
        };
        if records.width as usize != description.columns.len() {
            return Err(malformed(format!(
                "records have {} columns but the description declares {}",
                records.width,
                description.columns.len()
            )));
        }
        records.validate().map_err(|error| malformed(error.to_string()))?;
        if records.row_count() != count(OUTCOME_RECORD) {
            return Err(malformed(format!(
                "{} records for {} record outcomes",
                records.row_count(),
                count(OUTCOME_RECORD)
            )));
        }
        if result.skips.len() != count(OUTCOME_SKIPPED) || result.failures.len() != count(OUTCOME_FAILED) {
            return Err(malformed("the numbers of skips and failures do not match the outcomes".into()));
        }

        Ok(ChunkResult {
            outcomes: result.outcomes,
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
        let ticks = (self.limits.call_timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64;
        store.set_epoch_deadline(ticks);

        match invoke(store, bindings) {
            Ok(value) => Ok(value),
            Err(error) => {
                self.live = None;
                Err(self.classify(error))
            }
        }
    }

    fn instantiate(&self) -> Result<(Store<GuestState>, ImporterWorld), GuestFault> {
        let state = GuestState {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            limits: StoreLimitsBuilder::new()
                .memory_size(self.limits.memory_bytes)
                .instances(4)
                .trap_on_grow_failure(true)
                .build(),
            services: self.services.clone(),
            slug: self.importer.description.slug.clone(),
        };
        let mut store = Store::new(self.importer.pre.engine(), state);
        store.limiter(|state| &mut state.limits);
        store.epoch_deadline_trap();
        let ticks = (self.limits.call_timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64;
        store.set_epoch_deadline(ticks);

        let bindings = self.importer.pre.instantiate(&mut store).map_err(|error| self.classify(error))?;
        Ok((store, bindings))
    }

    fn classify(&self, error: wasmtime::Error) -> GuestFault {
        let importer = self.importer.label();
        if let Some(Trap::Interrupt) = error.downcast_ref::<Trap>() {
            return GuestFault::Timeout { importer, limit_ms: self.limits.call_timeout.as_millis() };
        }
        let text = format!("{error:#}");
        if text.contains("forcing trap when growing memory") || text.contains("memory.grow") {
            return GuestFault::Memory { importer, limit_bytes: self.limits.memory_bytes };
        }
        GuestFault::Trap { importer, message: text }
    }
}
