//! Instantiation of an importer from its pre-instantiated component, with wasmtime's
//! on-demand allocator (what the server uses) and with the pooling allocator.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ingest_host::config::SandboxLimits;
use ingest_host::plugins::engine::{EngineOptions, PoolingLimits, create_with};
use ingest_host::plugins::{ImporterInstance, NoHostServices, Registry};

use crate::files::{TempDir, example_importer};
use crate::stats::{Summary, format_duration};

const REPEATS: usize = 500;

/// Instances the pool is sized for: the default number of workers with room to spare.
const POOL_INSTANCES: u32 = 16;

pub fn run() -> anyhow::Result<()> {
    println!("Instantiation of airport-importer (a new instance and its first call, minus a call on a live");
    println!("instance), median of {REPEATS}:");
    let limits = SandboxLimits::default();
    for (label, pooling) in [
        ("on-demand allocator", None),
        ("pooling allocator", Some(PoolingLimits { instances: POOL_INSTANCES, memory_bytes: limits.memory_bytes })),
    ] {
        match measure(pooling, limits) {
            Ok((fresh, live)) => println!(
                "  {label:<20} {} (first call {}, later call {})",
                format_duration(fresh.median.saturating_sub(live.median)),
                format_duration(fresh.median),
                format_duration(live.median)
            ),
            Err(error) => println!("  {label:<20} not measured: {error:#}"),
        }
    }
    Ok(())
}

/// Returns the durations of first calls on new instances and of calls on a live one.
fn measure(pooling: Option<PoolingLimits>, limits: SandboxLimits) -> anyhow::Result<(Summary, Summary)> {
    let cache = TempDir::new("instantiate")?;
    let engine = create_with(&EngineOptions { cache_dir: Some(cache.path().to_path_buf()), pooling })?;
    let registry = Registry::new(engine, limits)?;
    let importer = registry.load_file(&example_importer("airport-importer")?)?;
    let headers: Vec<String> =
        importer.description.headers.iter().map(|header| header.name.clone()).collect();

    let mut fresh = Vec::new();
    for _ in 0..REPEATS {
        let mut instance = ImporterInstance::new(importer.clone(), limits, Arc::new(NoHostServices));
        fresh.push(timed_call(&mut instance, &headers)?);
    }
    let mut instance = ImporterInstance::new(importer.clone(), limits, Arc::new(NoHostServices));
    timed_call(&mut instance, &headers)?;
    let live = (0..REPEATS).map(|_| timed_call(&mut instance, &headers)).collect::<anyhow::Result<Vec<_>>>()?;
    Ok((Summary::of(fresh), Summary::of(live)))
}

fn timed_call(instance: &mut ImporterInstance, headers: &[String]) -> anyhow::Result<Duration> {
    let started = Instant::now();
    instance.check_headers(headers)?.map_err(anyhow::Error::msg)?;
    Ok(started.elapsed())
}
