//! Load time of each example importer: compiled cold, from the disk cache, and again
//! with unchanged bytes.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use ingest_host::config::SandboxLimits;
use ingest_host::plugins::engine::{EngineOptions, create_with};
use ingest_host::plugins::{Compilation, Registry};

use crate::files::{TempDir, example_importers};
use crate::stats::{Summary, format_duration};

/// Loads of each kind per importer. A cold load compiles for a few hundred milliseconds.
const REPEATS: usize = 5;

pub fn run() -> anyhow::Result<()> {
    println!("Load time per importer (read, compile or fetch, check the contract, instantiate, describe),");
    println!("median of {REPEATS}:");
    println!("{:<28} {:>8} {:>12} {:>12} {:>14}", "importer", "size", "cold", "disk cache", "unchanged");
    for file in example_importers()? {
        let name = file.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        let size = std::fs::metadata(&file)?.len();
        let cold = Summary::of(repeat(|| cold_load(&file))?);
        let disk = Summary::of(repeat(|| disk_cache_load(&file))?);
        let unchanged = Summary::of(repeat(|| unchanged_load(&file))?);
        println!(
            "{:<28} {:>5} KB {:>12} {:>12} {:>14}",
            name,
            size / 1024,
            format_duration(cold.median),
            format_duration(disk.median),
            format_duration(unchanged.median)
        );
    }
    Ok(())
}

fn repeat(mut measure: impl FnMut() -> anyhow::Result<Duration>) -> anyhow::Result<Vec<Duration>> {
    (0..REPEATS).map(|_| measure()).collect()
}

/// Creates a registry whose engine caches compiled code under `cache_dir`.
fn registry(cache_dir: &Path) -> anyhow::Result<Registry> {
    let engine = create_with(&EngineOptions { cache_dir: Some(cache_dir.to_path_buf()), pooling: None })?;
    Registry::new(engine, SandboxLimits::default())
}

/// Loads `file` with `registry` and checks where its code came from.
fn load(registry: &Registry, file: &Path, expected: Compilation) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let importer = registry.load_file(file).with_context(|| format!("cannot load {}", file.display()))?;
    let elapsed = started.elapsed();
    anyhow::ensure!(
        importer.load.compilation == expected,
        "{}: expected a load from {}, got {}",
        file.display(),
        expected.as_str(),
        importer.load.compilation.as_str()
    );
    Ok(elapsed)
}

/// Loads into a new engine with an empty cache, as a first start does.
fn cold_load(file: &Path) -> anyhow::Result<Duration> {
    let cache = TempDir::new("cold-cache")?;
    load(&registry(cache.path())?, file, Compilation::Compiled)
}

/// Loads into a new engine whose cache already contains the file's code, as a restart
/// does.
fn disk_cache_load(file: &Path) -> anyhow::Result<Duration> {
    let cache = TempDir::new("warm-cache")?;
    load(&registry(cache.path())?, file, Compilation::Compiled)?;
    load(&registry(cache.path())?, file, Compilation::DiskCache)
}

/// Loads the file again into the registry that serves it, as a watcher event for a file
/// whose bytes did not change does.
fn unchanged_load(file: &Path) -> anyhow::Result<Duration> {
    let cache = TempDir::new("unchanged")?;
    let registry = registry(cache.path())?;
    let first = registry.load_file(file)?;
    let started = Instant::now();
    let again = registry.load_file(file)?;
    let elapsed = started.elapsed();
    anyhow::ensure!(std::sync::Arc::ptr_eq(&first, &again), "{}: the unchanged file was loaded again", file.display());
    Ok(elapsed)
}
