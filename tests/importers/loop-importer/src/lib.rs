//! A hostile importer for the sandbox tests. A row whose `mode` is `spin` makes
//! `process` run a busy loop that never ends, and `sleep` makes it sleep an hour at a
//! time, forever. Every other row is imported into `loop_rows`.

use std::time::Duration;

use ingest_importer_sdk::{Column, Importer, IngestConfig};

pub struct LoopImporter;

impl Importer for LoopImporter {
    fn config() -> IngestConfig {
        IngestConfig::new("loop-importer")
            .name("Never returns")
            .target("loop_rows")
            .keyed_by("number")
            .column(Column::integer("number").required())
            .column(Column::text("mode").transform_with(|value, _row| match value.as_str() {
                Some("spin") => spin(),
                Some("sleep") => sleep_forever(),
                _ => Ok(value),
            }))
    }
}

fn spin() -> ! {
    let mut counter: u64 = 0;
    loop {
        counter = std::hint::black_box(counter.wrapping_add(1));
    }
}

/// Blocks in the host's clock instead of in wasm code, where an epoch deadline alone
/// would never interrupt it.
fn sleep_forever() -> ! {
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

ingest_importer_sdk::export_importer!(LoopImporter);
