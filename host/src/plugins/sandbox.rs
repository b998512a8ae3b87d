//! The sandbox an importer runs in: what its store contains, what it may use, and the host
//! functions it is linked against.
//!
//! An importer gets the WASI interfaces that every `wasm32-wasip2` component imports,
//! backed by an empty context: no preopened directories, no environment, no sockets and
//! no name lookup. What it writes to stderr goes to a small buffer, whose tail names the
//! panic when the importer crashes. Its linear memories and tables share one size limit.
//! Its sleeps end at the current call's deadline, because a guest blocked in a host
//! function is out of reach of the epoch deadline that stops guests running wasm code.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use wasmtime::ResourceLimiter;
use wasmtime::component::{HasData, HasSelf, Linker, Resource, ResourceTable};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::bindings::clocks::monotonic_clock;
use wasmtime_wasi::p2::{DynPollable, OutputStream, Pollable, StreamResult, subscribe};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::HostServices;
use super::bindings::ImporterWorld;
use super::bindings::ingest::importer::{host, types as wit};

/// Maximum core wasm instances, linear memories and tables of one importer instance. A
/// component built by `cargo` for `wasm32-wasip2` needs a few of each. Components built
/// with an adapter module need a few more.
const MAX_CORE_INSTANCES: usize = 64;
const MAX_MEMORIES: usize = 8;
const MAX_TABLES: usize = 64;

/// Maximum host resources (streams, pollables) one instance may have at once. An
/// importer uses a handful. The cap keeps a guest that creates them in a loop from
/// growing the host's memory, which the memory limit does not cover.
const MAX_RESOURCES: usize = 10_000;

/// Bytes of an importer's stderr kept for the message of a crash: the end of a Rust
/// panic message fits easily.
const STDERR_TAIL_BYTES: usize = 4096;

/// Log lines one call may write through `host.log`, and the bytes kept of each.
const MAX_LOG_LINES_PER_CALL: u32 = 100;
const MAX_LOG_LINE_BYTES: usize = 2048;

/// The store data of one importer instance.
pub struct GuestState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: SandboxLimiter,
    services: Arc<dyn HostServices>,
    /// `slug@version`, for log lines.
    importer: String,
    stderr: GuestOutput,
    /// The end of the current call's time limit; sleeps end there at the latest.
    call_deadline: Instant,
    /// The zero of the importer's monotonic clock.
    clock_origin: Instant,
    log_lines: u32,
}

impl GuestState {
    pub fn new(importer: String, memory_bytes: usize, services: Arc<dyn HostServices>) -> Self {
        let stderr = GuestOutput::default();
        let mut wasi = WasiCtx::builder();
        wasi.stderr(stderr.clone()).allow_tcp(false).allow_udp(false).allow_ip_name_lookup(false);
        let mut table = ResourceTable::new();
        table.set_max_capacity(MAX_RESOURCES);
        let now = Instant::now();
        Self {
            wasi: wasi.build(),
            table,
            limiter: SandboxLimiter::new(memory_bytes),
            services,
            importer,
            stderr,
            call_deadline: now,
            clock_origin: now,
            log_lines: 0,
        }
    }

    pub fn limiter(&mut self) -> &mut SandboxLimiter {
        &mut self.limiter
    }

    /// Starts a call that must end by `deadline`: sleeps are cut off there, and the
    /// stderr buffer and log line count start empty.
    pub fn begin_call(&mut self, deadline: Instant) {
        self.call_deadline = deadline;
        self.log_lines = 0;
        self.stderr.take();
    }

    /// Returns and clears what the importer wrote to stderr during the current call
    /// (its last [`STDERR_TAIL_BYTES`] bytes).
    pub fn take_stderr(&self) -> String {
        self.stderr.take()
    }
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

    fn log(&mut self, level: host::LogLevel, mut message: String) {
        let importer = self.importer.as_str();
        self.log_lines += 1;
        if self.log_lines > MAX_LOG_LINES_PER_CALL {
            if self.log_lines == MAX_LOG_LINES_PER_CALL + 1 {
                tracing::warn!(
                    importer,
                    max_lines = MAX_LOG_LINES_PER_CALL,
                    "importer wrote more log lines in one call than the host keeps; its other lines of this call are dropped"
                );
            }
            return;
        }
        truncate_at_char_boundary(&mut message, MAX_LOG_LINE_BYTES);
        match level {
            host::LogLevel::Debug => tracing::debug!(importer, message, "importer log"),
            host::LogLevel::Info => tracing::info!(importer, message, "importer log"),
            host::LogLevel::Warn => tracing::warn!(importer, message, "importer log"),
            host::LogLevel::Error => tracing::error!(importer, message, "importer log"),
        }
    }
}

fn truncate_at_char_boundary(text: &mut String, max_bytes: usize) {
    if text.len() > max_bytes {
        let mut end = max_bytes;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}

/// Adds the importer contract's host interface and WASI to `linker`, with the monotonic
/// clock replaced by one whose sleeps end at the call's deadline.
pub fn add_to_linker(linker: &mut Linker<GuestState>) -> anyhow::Result<()> {
    ImporterWorld::add_to_linker::<_, HasSelf<_>>(linker, |state| state)?;
    wasmtime_wasi::p2::add_to_linker_sync(linker)?;

    linker.allow_shadowing(true);
    monotonic_clock::add_to_linker::<GuestState, SandboxClock>(linker, |state| SandboxClockView {
        table: &mut state.table,
        origin: state.clock_origin,
        deadline: state.call_deadline,
    })?;
    linker.allow_shadowing(false);
    Ok(())
}

/// The memory limit was reached: the error a [`SandboxLimiter`] stops a guest with.
#[derive(Debug, thiserror::Error)]
#[error("the importer needed {requested} bytes of memory and tables, more than its limit of {limit} bytes")]
pub struct MemoryLimitExceeded {
    pub limit: usize,
    pub requested: usize,
}

/// Caps the bytes of all of an instance's linear memories and tables together, which
/// `StoreLimits` cannot do because it caps each memory on its own. Table elements count
/// at the size of a pointer, which is what wasmtime 48 stores per element.
pub struct SandboxLimiter {
    limit: usize,
    used: usize,
    /// The bytes of the last growth allowed, taken back if wasmtime then fails it.
    last_growth: usize,
}

impl SandboxLimiter {
    fn new(limit: usize) -> Self {
        Self { limit, used: 0, last_growth: 0 }
    }

    fn grow(&mut self, current: usize, desired: usize) -> wasmtime::Result<bool> {
        let growth = desired.saturating_sub(current);
        let requested = self.used.saturating_add(growth);
        if requested > self.limit {
            return Err(wasmtime::Error::new(MemoryLimitExceeded { limit: self.limit, requested }));
        }
        self.used = requested;
        self.last_growth = growth;
        Ok(true)
    }

    fn undo_last_growth(&mut self) {
        self.used = self.used.saturating_sub(self.last_growth);
        self.last_growth = 0;
    }
}

impl ResourceLimiter for SandboxLimiter {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        // Growth past the memory's own declared maximum fails in wasmtime anyway: the
        // guest's `memory.grow` returns -1, and no limit of ours was hit.
        if maximum.is_some_and(|maximum| desired > maximum) {
            return Ok(false);
        }
        self.grow(current, desired)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.undo_last_growth();
        Ok(())
    }

    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        if maximum.is_some_and(|maximum| desired > maximum) {
            return Ok(false);
        }
        let element = std::mem::size_of::<usize>();
        self.grow(current.saturating_mul(element), desired.saturating_mul(element))
    }

    fn table_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.undo_last_growth();
        Ok(())
    }

    fn instances(&self) -> usize {
        MAX_CORE_INSTANCES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }
}

/// The last [`STDERR_TAIL_BYTES`] bytes an importer wrote to stderr. Writes never fail
/// or block, so a chatty importer is not stopped by its own output.
#[derive(Clone, Default)]
struct GuestOutput(Arc<Mutex<Vec<u8>>>);

impl GuestOutput {
    fn append(&self, bytes: &[u8]) {
        let bytes = &bytes[bytes.len().saturating_sub(STDERR_TAIL_BYTES)..];
        let mut buffer = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        buffer.extend_from_slice(bytes);
        let excess = buffer.len().saturating_sub(STDERR_TAIL_BYTES);
        buffer.drain(..excess);
    }

    fn take(&self) -> String {
        let mut buffer = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        String::from_utf8_lossy(&std::mem::take(&mut *buffer)).into_owned()
    }
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl OutputStream for GuestOutput {
    fn write(&mut self, bytes: bytes::Bytes) -> StreamResult<()> {
        self.append(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for GuestOutput {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for GuestOutput {
    fn poll_write(self: Pin<&mut Self>, _context: &mut Context<'_>, bytes: &[u8]) -> Poll<std::io::Result<usize>> {
        self.append(bytes);
        Poll::Ready(Ok(bytes.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _context: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _context: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// `wasi:clocks/monotonic-clock` for importers: the time since the instance was
/// created, and sleeps that end at the current call's deadline at the latest.
struct SandboxClock;

impl HasData for SandboxClock {
    type Data<'a> = SandboxClockView<'a>;
}

struct SandboxClockView<'a> {
    table: &'a mut ResourceTable,
    origin: Instant,
    deadline: Instant,
}

impl SandboxClockView<'_> {
    fn now_nanos(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn sleep(&mut self, duration: Duration) -> wasmtime::Result<Resource<DynPollable>> {
        let now = Instant::now();
        let until = now.checked_add(duration).map_or(self.deadline, |until| until.min(self.deadline));
        let sleep = self.table.push(Sleep(tokio::time::Instant::from_std(until.max(now))))?;
        subscribe(self.table, sleep)
    }
}

impl monotonic_clock::Host for SandboxClockView<'_> {
    fn now(&mut self) -> wasmtime::Result<monotonic_clock::Instant> {
        Ok(self.now_nanos())
    }

    fn resolution(&mut self) -> wasmtime::Result<monotonic_clock::Duration> {
        Ok(1)
    }

    fn subscribe_instant(&mut self, when: monotonic_clock::Instant) -> wasmtime::Result<Resource<DynPollable>> {
        let duration = Duration::from_nanos(when.saturating_sub(self.now_nanos()));
        self.sleep(duration)
    }

    fn subscribe_duration(&mut self, duration: monotonic_clock::Duration) -> wasmtime::Result<Resource<DynPollable>> {
        self.sleep(Duration::from_nanos(duration))
    }
}

/// A pollable that is ready at an instant.
struct Sleep(tokio::time::Instant);

#[wasmtime_wasi::async_trait]
impl Pollable for Sleep {
    async fn ready(&mut self) {
        tokio::time::sleep_until(self.0).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_counts_memories_together() {
        let mut limiter = SandboxLimiter::new(10 << 20);

        assert!(limiter.memory_growing(0, 6 << 20, None).unwrap());
        let error = limiter.memory_growing(0, 6 << 20, None).unwrap_err();

        let exceeded = error.downcast_ref::<MemoryLimitExceeded>().expect("the error is MemoryLimitExceeded");
        assert_eq!(exceeded.requested, 12 << 20);
        assert_eq!(exceeded.limit, 10 << 20);
    }

    #[test]
    fn limiter_counts_table_elements_as_pointers() {
        let mut limiter = SandboxLimiter::new(800);

        assert!(limiter.table_growing(0, 100, None).unwrap());
        assert!(limiter.table_growing(100, 101, None).is_err());
    }

    #[test]
    fn limiter_takes_back_failed_growth() {
        let mut limiter = SandboxLimiter::new(10 << 20);

        assert!(limiter.memory_growing(0, 8 << 20, None).unwrap());
        limiter.memory_grow_failed(wasmtime::Error::msg("the operating system refused")).unwrap();

        assert!(limiter.memory_growing(0, 8 << 20, None).unwrap());
    }

    #[test]
    fn limiter_leaves_declared_maximum_to_wasmtime() {
        let mut limiter = SandboxLimiter::new(10 << 20);

        assert!(!limiter.memory_growing(0, 2 << 20, Some(1 << 20)).unwrap());
        assert!(limiter.memory_growing(0, 10 << 20, None).unwrap());
    }

    #[test]
    fn stderr_keeps_only_its_tail() {
        let output = GuestOutput::default();
        output.append(&vec![b'a'; STDERR_TAIL_BYTES]);
        output.append(b"panicked at src/lib.rs:1:1:\nboom\n");

        let text = output.take();

        assert_eq!(text.len(), STDERR_TAIL_BYTES);
        assert!(text.ends_with("panicked at src/lib.rs:1:1:\nboom\n"), "{text}");
        assert_eq!(output.take(), "", "take clears the buffer");
    }

    #[test]
    fn log_lines_are_cut_at_char_boundary() {
        let mut text = "ééé".to_owned();
        truncate_at_char_boundary(&mut text, 3);
        assert_eq!(text, "é");
    }
}
