//! Process-wide counters and the chunk-latency histogram that `GET /metrics` exposes.
//!
//! They are plain atomics updated once per chunk or per importer load, never per row.
//! They count what this process did since it started, as Prometheus counters do, so an
//! `ingest run` in another process does not show up in a server's metrics.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::store::runs::ChunkCounts;

/// Upper bounds of the chunk-latency buckets, in seconds. A 1,000-row chunk of the
/// example importers commits in a few milliseconds. Chunks that call back into the host
/// for lookups, or that wait for a busy database, take up to seconds.
const CHUNK_BUCKETS: [f64; 13] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// A Prometheus histogram with fixed buckets.
pub struct Histogram {
    bounds: &'static [f64],
    /// Observations per bucket, not cumulative; the last one counts those above every bound.
    counts: [AtomicU64; CHUNK_BUCKETS.len() + 1],
    sum_micros: AtomicU64,
}

impl Histogram {
    const fn new(bounds: &'static [f64; CHUNK_BUCKETS.len()]) -> Self {
        Self { bounds, counts: [const { AtomicU64::new(0) }; CHUNK_BUCKETS.len() + 1], sum_micros: AtomicU64::new(0) }
    }

    pub fn observe(&self, duration: Duration) {
        let seconds = duration.as_secs_f64();
        let bucket = self.bounds.iter().position(|bound| seconds <= *bound).unwrap_or(self.bounds.len());
        self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(duration.as_micros() as u64, Ordering::Relaxed);
    }

    /// Writes the `_bucket`, `_sum` and `_count` lines of `name`.
    fn render(&self, name: &str, help: &str, out: &mut String) {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} histogram");
        let mut cumulative = 0;
        for (index, bound) in self.bounds.iter().enumerate() {
            cumulative += self.counts[index].load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        cumulative += self.counts[self.bounds.len()].load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cumulative}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}");
        let _ = writeln!(out, "{name}_count {cumulative}");
    }
}

static CHUNK_DURATION: Histogram = Histogram::new(&CHUNK_BUCKETS);
static ROWS_SUCCESSFUL: AtomicU64 = AtomicU64::new(0);
static ROWS_FAILED: AtomicU64 = AtomicU64::new(0);
static ROWS_SKIPPED: AtomicU64 = AtomicU64::new(0);
static IMPORTER_LOAD_FAILURES: AtomicU64 = AtomicU64::new(0);

/// Records how long reading and processing one committed chunk took.
pub fn record_chunk_duration(duration: Duration) {
    CHUNK_DURATION.observe(duration);
}

/// Adds committed rows to the counters by outcome.
pub fn record_rows(counts: &ChunkCounts) {
    ROWS_SUCCESSFUL.fetch_add(counts.successful.max(0) as u64, Ordering::Relaxed);
    ROWS_FAILED.fetch_add(counts.failed.max(0) as u64, Ordering::Relaxed);
    ROWS_SKIPPED.fetch_add(counts.skipped.max(0) as u64, Ordering::Relaxed);
}

/// Records a file in the plugins directory that failed to load as an importer.
pub fn record_importer_load_failure() {
    IMPORTER_LOAD_FAILURES.fetch_add(1, Ordering::Relaxed);
}

/// Writes this process's counters and histogram in the Prometheus text format.
pub fn render(out: &mut String) {
    let _ = writeln!(out, "# HELP ingest_rows_total Rows processed by this process since it started, by outcome, dry runs included.");
    let _ = writeln!(out, "# TYPE ingest_rows_total counter");
    for (outcome, counter) in [("successful", &ROWS_SUCCESSFUL), ("failed", &ROWS_FAILED), ("skipped", &ROWS_SKIPPED)] {
        let _ = writeln!(out, "ingest_rows_total{{outcome=\"{outcome}\"}} {}", counter.load(Ordering::Relaxed));
    }

    CHUNK_DURATION.render(
        "ingest_chunk_duration_seconds",
        "Time to read a chunk's rows and run them through the importer, per committed chunk.",
        out,
    );

    let _ = writeln!(out, "# HELP ingest_importer_load_failures_total Loads of plugin files that were rejected, since the process started.");
    let _ = writeln!(out, "# TYPE ingest_importer_load_failures_total counter");
    let _ = writeln!(out, "ingest_importer_load_failures_total {}", IMPORTER_LOAD_FAILURES.load(Ordering::Relaxed));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        static HISTOGRAM: Histogram = Histogram::new(&CHUNK_BUCKETS);
        HISTOGRAM.observe(Duration::from_micros(500));
        HISTOGRAM.observe(Duration::from_millis(7));
        HISTOGRAM.observe(Duration::from_secs(60));
        let mut text = String::new();
        HISTOGRAM.render("chunk_seconds", "Test.", &mut text);

        assert!(text.contains("chunk_seconds_bucket{le=\"0.001\"} 1\n"), "{text}");
        assert!(text.contains("chunk_seconds_bucket{le=\"0.005\"} 1\n"), "{text}");
        assert!(text.contains("chunk_seconds_bucket{le=\"0.01\"} 2\n"), "{text}");
        assert!(text.contains("chunk_seconds_bucket{le=\"10\"} 2\n"), "{text}");
        assert!(text.contains("chunk_seconds_bucket{le=\"+Inf\"} 3\n"), "{text}");
        assert!(text.contains("chunk_seconds_count 3\n"), "{text}");
        assert!(text.contains("chunk_seconds_sum 60.0075\n"), "{text}");
    }
}
