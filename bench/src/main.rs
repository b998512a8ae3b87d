//! `plugin-bench`: measures the importer runtime and prints what it found.
//!
//! - load time per example importer: compiled cold, read from the disk cache (as after a
//!   restart), and reloaded with unchanged bytes;
//! - reload latency: from a new `.wasm` file renamed into a watched plugins directory to
//!   the registry serving its version, for a build never seen and for one in the cache;
//! - the cost of one `process` call on a 1,000-row chunk next to the host's own work for
//!   that chunk (parsing the CSV, writing the target table);
//! - instantiation with wasmtime's on-demand and pooling allocators.
//!
//! Run `scripts/build-plugins` first, then
//! `cargo run --release -p ingest-bench --bin plugin-bench`.

mod chunk;
mod cpu;
mod files;
mod instantiate;
mod load;
mod reload;
mod stats;

fn main() -> anyhow::Result<()> {
    let outcome = run();
    files::remove_scratch_root();
    outcome
}

fn run() -> anyhow::Result<()> {
    println!("plugin-bench: {}", files::machine_summary());
    println!();
    load::run()?;
    println!();
    reload::run()?;
    println!();
    chunk::run()?;
    println!();
    instantiate::run()?;
    Ok(())
}
