//! The one wasmtime engine of the process, with the compiled-code cache and the clock
//! that bounds every call into an importer.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use wasmtime::{Cache, CacheConfig, Config, Engine};

/// How often the engine's epoch advances; a call's deadline is counted in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Creates the engine, with compiled importers cached under `cache_dir` so a restart
/// with unchanged files compiles nothing, and starts the thread that drives deadlines.
pub fn create(cache_dir: &Path) -> anyhow::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);

    std::fs::create_dir_all(cache_dir)?;
    let mut cache_config = CacheConfig::new();
    cache_config.with_directory(cache_dir);
    config.cache(Some(Cache::new(cache_config)?));

    let engine = Engine::new(&config)?;
    start_epoch_clock(Arc::new(engine.clone()));
    Ok(engine)
}

fn start_epoch_clock(engine: Arc<Engine>) {
    std::thread::Builder::new()
        .name("wasm-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        })
        .expect("the operating system refused to start the epoch thread");
}
