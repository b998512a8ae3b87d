//! Reload latency: from a new version's file renamed into a watched plugins directory to
//! the registry serving that version, which is when new runs start using it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ingest_host::config::SandboxLimits;
use ingest_host::plugins::engine::{EngineOptions, create_with};
use ingest_host::plugins::{Registry, watch};
use sha2::{Digest, Sha256};

use crate::files::{TempDir, install, test_importer, with_custom_section};
use crate::stats::Summary;

const SLUG: &str = "swap-importer";
const FILE: &str = "swap_importer.wasm";

/// Reloads measured per case.
const REPEATS: usize = 10;

/// Maximum wait for one reload before the benchmark gives up.
const RELOAD_TIMEOUT: Duration = Duration::from_secs(30);

pub fn run() -> anyhow::Result<()> {
    let versions = [
        ("1.0.0", std::fs::read(test_importer("swap-importer-v1")?)?),
        ("2.0.0", std::fs::read(test_importer("swap-importer-v2")?)?),
    ];
    let plugins = TempDir::new("plugins")?;
    let cache = TempDir::new("reload-cache")?;
    let engine = create_with(&EngineOptions { cache_dir: Some(cache.path().to_path_buf()), pooling: None })?;
    let registry = Arc::new(Registry::new(engine, SandboxLimits::default())?);
    let _watcher = watch::watch(registry.clone(), plugins.path())?;

    // Both versions are compiled once, so the cached case below reads them from disk.
    for (version, bytes) in &versions {
        reload(&registry, plugins.path(), version, bytes)?;
    }

    let mut never_seen = Vec::new();
    let mut cached = Vec::new();
    for round in 0..REPEATS {
        let (version, bytes) = &versions[round % 2];
        let unique = with_custom_section(bytes, format!("round {round}").as_bytes());
        never_seen.push(reload(&registry, plugins.path(), version, &unique)?);
    }
    for round in 0..REPEATS {
        let (version, bytes) = &versions[round % 2];
        cached.push(reload(&registry, plugins.path(), version, bytes)?);
    }

    println!("Reload latency, from the rename of a new file into the plugins directory to the registry");
    println!("serving its version ({} ms of it is the watcher's debounce):", watch::DEBOUNCE.as_millis());
    println!("  build never seen (compiled):   {}", Summary::of(never_seen));
    println!("  build in the disk cache:       {}", Summary::of(cached));
    Ok(())
}

/// Installs `bytes` as the importer's file and returns the time until the registry
/// serves exactly those bytes as `version`.
fn reload(registry: &Registry, dir: &std::path::Path, version: &str, bytes: &[u8]) -> anyhow::Result<Duration> {
    let sha256: [u8; 32] = Sha256::digest(bytes).into();
    install(dir, FILE, bytes)?;
    let installed = Instant::now();
    loop {
        let serving = registry.get(SLUG);
        if serving.is_some_and(|importer| importer.sha256 == sha256 && importer.description.version == version) {
            return Ok(installed.elapsed());
        }
        anyhow::ensure!(
            installed.elapsed() < RELOAD_TIMEOUT,
            "{SLUG} {version} did not serve within {RELOAD_TIMEOUT:?}; rejected files: {:?}",
            registry.rejected()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}
