//! The cost of one `process` call on a 1,000-row chunk, next to the host's own work on
//! that chunk: parsing it from the CSV file and writing its records to the target table.
//!
//! The chunk is the first 1,000 rows of `airports.csv`, through the airport importer
//! (7 columns, updates on duplicate keys). The database is a SQLite file in a temporary
//! directory.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use diesel::RunQueryDsl;
use ingest_host::config::SandboxLimits;
use ingest_host::plugins::engine::{EngineOptions, create_with};
use ingest_host::plugins::{ImporterInstance, NoHostServices, Registry};
use ingest_host::sources::{self, FormatOptions, SourceChunk};
use ingest_host::store::{Store, write_transaction};
use ingest_host::targets::{TablePolicy, TargetError, TargetTable};

use crate::files::{TempDir, data_file, example_importer};
use crate::stats::{Summary, format_duration};

const CHUNK_ROWS: usize = 1000;

/// Measurements of each step.
const REPEATS: usize = 200;

pub fn run() -> anyhow::Result<()> {
    let csv = data_file("airports.csv")?;
    let scratch = TempDir::new("chunk")?;
    let engine = create_with(&EngineOptions { cache_dir: Some(scratch.path().join("cache")), pooling: None })?;
    let registry = Registry::new(engine, SandboxLimits::default())?;
    let importer = registry.load_file(&example_importer("airport-importer")?)?;
    let options = FormatOptions::for_importer(importer.description.source, &importer.description.format);

    // Parsing: full 1,000-row chunks, reopening the 3,376-row file when it runs out.
    let mut parse = Vec::new();
    while parse.len() < REPEATS {
        let mut source = sources::open(&csv, "airports.csv", &options)?;
        let mut chunk = SourceChunk::new(source.headers().len());
        loop {
            let started = Instant::now();
            let more = source.read_chunk(CHUNK_ROWS, &mut chunk)?;
            let elapsed = started.elapsed();
            if !more || chunk.rows_read() < CHUNK_ROWS {
                break;
            }
            parse.push(elapsed);
        }
    }

    parse.truncate(REPEATS);

    let mut source = sources::open(&csv, "airports.csv", &options)?;
    let headers = source.headers().to_vec();
    let mut chunk = SourceChunk::new(headers.len());
    source.read_chunk(CHUNK_ROWS, &mut chunk)?;
    anyhow::ensure!(chunk.row_numbers.len() == CHUNK_ROWS, "airports.csv has fewer than {CHUNK_ROWS} readable rows");

    // The call: one instance for every call, as a run does. Its first call, which
    // instantiates, is the header check, and the instantiation section measures that.
    let mut instance = ImporterInstance::new(importer.clone(), SandboxLimits::default(), Arc::new(NoHostServices));
    instance.check_headers(&headers)?.map_err(anyhow::Error::msg)?;
    let mut calls = Vec::new();
    let mut result = None;
    for _ in 0..REPEATS {
        let started = Instant::now();
        let outcome = instance.process(&headers, 1, &mut chunk.cells)?.map_err(anyhow::Error::msg)?;
        calls.push(started.elapsed());
        result = Some(outcome);
    }
    // airport-importer declares one target, so all records are in the first set.
    let records = result.expect("REPEATS is not zero").records.swap_remove(0);
    anyhow::ensure!(records.row_count() == CHUNK_ROWS, "the importer made {} records", records.row_count());

    let mut one_row = chunk.cells.slice_rows(0..1);
    let mut single_calls = Vec::new();
    for _ in 0..REPEATS {
        let started = Instant::now();
        instance.process(&headers, 1, &mut one_row)?.map_err(anyhow::Error::msg)?;
        single_calls.push(started.elapsed());
    }

    // Writing: inserts into an empty table, then updates of the same keys, each chunk in
    // its own transaction as a run commits it.
    let database = scratch.path().join("bench.db");
    let store = Store::open(&database.to_string_lossy())?;
    let mut connection = store.connection()?;
    let policy = TablePolicy { allowed: Vec::new(), create_missing: true };
    let main = importer.description.main_target();
    let target = TargetTable::prepare(&mut connection, &importer.label(), main, &policy, false)?;
    let mut inserts = Vec::new();
    let mut updates = Vec::new();
    for _ in 0..REPEATS {
        diesel::sql_query(format!("DELETE FROM {}", main.table))
            .execute(&mut *connection)
            .context("cannot empty the target table")?;
        inserts.push(timed_write(&mut connection, &target, &records)?);
        updates.push(timed_write(&mut connection, &target, &records)?);
    }

    let parse = Summary::of(parse);
    let calls = Summary::of(calls);
    let inserts = Summary::of(inserts);
    let updates = Summary::of(updates);
    println!("One 1,000-row chunk of airports.csv through airport-importer:");
    println!("  parse the CSV into packed cells:        {parse}");
    println!("  process call into the importer:         {calls}");
    println!("  process call for a 1-row chunk:         {}", Summary::of(single_calls));
    println!("  write the records, inserts (SQLite):    {inserts}");
    println!("  write the records, updates (SQLite):    {updates}");
    let host_work = parse.median + inserts.median;
    println!(
        "  the call costs {:.2}x the host's parse + insert ({}), {:.2}x parse + update",
        ratio(calls.median, host_work),
        format_duration(host_work),
        ratio(calls.median, parse.median + updates.median)
    );
    Ok(())
}

fn timed_write(
    connection: &mut ingest_host::store::Connection,
    target: &TargetTable,
    records: &ingest_host::cells::PackedCells,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let outcomes = write_transaction(&mut *connection, |connection| -> Result<_, TargetError> {
        target.write(connection, records, false)
    })?;
    let elapsed = started.elapsed();
    anyhow::ensure!(outcomes.len() == records.row_count(), "{} write outcomes", outcomes.len());
    Ok(elapsed)
}

fn ratio(part: Duration, whole: Duration) -> f64 {
    part.as_secs_f64() / whole.as_secs_f64()
}
