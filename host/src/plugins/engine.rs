//! The one wasmtime engine of the process, with the compiled-code cache and the clock
//! that bounds every call into an importer.

use std::path::{Path, PathBuf};
use std::time::Duration;

use wasmtime::{Cache, CacheConfig, Config, Engine, EngineWeak, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Interval at which the engine's epoch advances. A call's deadline is counted in these
/// ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The process's wasmtime engine and the on-disk cache of the code it compiles.
#[derive(Clone)]
pub struct WasmEngine {
    pub engine: Engine,
    /// Compiled components, keyed by wasmtime (version 48) on a SHA-256 of the component's
    /// bytes, the engine's settings and wasmtime's own version. `None` when the engine
    /// caches nothing on disk.
    pub disk_cache: Option<Cache>,
}

/// How to build a [`WasmEngine`].
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Directory of the compiled-code cache. With `None`, every load compiles.
    pub cache_dir: Option<PathBuf>,
    /// Limits of wasmtime's pooling allocator, to instantiate from a pool. With `None`,
    /// instances are allocated on demand, as in the server. A run instantiates its
    /// importer once (again only after a trap). `plugin-bench` measured 24 µs per
    /// instantiation on demand and 18 µs pooled (airport-importer, AMD EPYC, 2 CPUs),
    /// too small a saving to reserve the pool's address space up front.
    pub pooling: Option<PoolingLimits>,
}

/// The size of a pooling allocator: how many importer instances may live at once, and
/// the linear memory each may grow to.
#[derive(Debug, Clone, Copy)]
pub struct PoolingLimits {
    pub instances: u32,
    pub memory_bytes: usize,
}

/// Creates the server's engine, with compiled importers cached under `cache_dir` so a
/// restart with unchanged files compiles nothing, and starts the thread that drives
/// call deadlines.
pub fn create(cache_dir: &Path) -> anyhow::Result<WasmEngine> {
    create_with(&EngineOptions { cache_dir: Some(cache_dir.to_path_buf()), pooling: None })
}

/// Creates an engine with `options` and starts its epoch thread, which ends once the
/// engine is dropped.
pub fn create_with(options: &EngineOptions) -> anyhow::Result<WasmEngine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);

    let disk_cache = match &options.cache_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            let mut cache_config = CacheConfig::new();
            cache_config.with_directory(dir);
            Some(Cache::new(cache_config)?)
        }
        None => None,
    };
    config.cache(disk_cache.clone());

    if let Some(limits) = options.pooling {
        let mut pooling = PoolingAllocationConfig::default();
        pooling
            .total_component_instances(limits.instances)
            .total_core_instances(limits.instances * 4)
            .total_memories(limits.instances * 2)
            .total_tables(limits.instances * 4)
            .total_stacks(limits.instances)
            .max_memory_size(limits.memory_bytes);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    }

    let engine = Engine::new(&config)?;
    start_epoch_clock(engine.weak());
    Ok(WasmEngine { engine, disk_cache })
}

fn start_epoch_clock(engine: EngineWeak) {
    std::thread::Builder::new()
        .name("wasm-epoch".into())
        .spawn(move || {
            while let Some(engine) = engine.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("cannot start the wasm-epoch thread");
}
