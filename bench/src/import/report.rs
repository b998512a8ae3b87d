//! The result table: one line per measured case, with the peer's figure, the ratio and
//! the target next to it, then the growth of the server's peak RSS with the file size.

use std::time::Duration;

use crate::Backend;

/// Peak RSS allowed for the server, in bytes, at every file size.
const RSS_LIMIT_BYTES: u64 = 100 * 1_000_000;

/// Largest allowed growth of the peak RSS from the smallest to the largest file.
const RSS_GROWTH_LIMIT: f64 = 0.10;

/// Time allowed for the flights import.
const FLIGHTS_LIMIT: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseKind {
    /// Products into an empty table.
    New,
    /// The same products again, over the filled table.
    Update,
    /// flights.csv.gz after airlines.csv and planes.csv.
    Flights,
}

impl CaseKind {
    fn label(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Update => "update",
            Self::Flights => "flights",
        }
    }
}

/// One measured case.
#[derive(Debug, Clone)]
pub struct Measurement {
    pub backend: Backend,
    pub kind: CaseKind,
    pub rows: u64,
    /// From the start of the upload to the poll that saw the run's final status.
    pub elapsed: Duration,
    /// The server's `summary.duration_ms`.
    pub server_duration: Option<Duration>,
    /// The peer's whole process on the same file; `None` when peers were skipped or the
    /// case has none.
    pub peer: Option<Duration>,
    /// Peak RSS of the server process that ran the case, in bytes.
    pub peak_rss: u64,
}

impl Measurement {
    fn rows_per_second(&self) -> f64 {
        self.rows as f64 / self.elapsed.as_secs_f64()
    }

    fn peer_rows_per_second(&self) -> Option<f64> {
        self.peer.map(|peer| self.rows as f64 / peer.as_secs_f64())
    }

    /// Returns our rows per second divided by the peer's.
    fn ratio(&self) -> Option<f64> {
        self.peer.map(|peer| peer.as_secs_f64() / self.elapsed.as_secs_f64())
    }

    /// Describes the case's target and whether this measurement meets it.
    fn target(&self) -> String {
        let (minimum, peer) = match (self.backend, self.kind) {
            (_, CaseKind::Flights) => {
                let met = self.elapsed < FLIGHTS_LIMIT;
                return format!("< {} s: {}", FLIGHTS_LIMIT.as_secs(), verdict(met));
            }
            (Backend::Sqlite, CaseKind::New) => (1.5, ".import"),
            (Backend::Sqlite, CaseKind::Update) => (1.0, ".import + upsert"),
            (Backend::Postgres, _) => (1.0, "COPY + merge"),
        };
        match self.ratio() {
            Some(ratio) => format!(">= {minimum:.1}x {peer}: {}", verdict(ratio >= minimum)),
            None => format!(">= {minimum:.1}x {peer}: no peer run"),
        }
    }
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "missed" }
}

/// Prints the table of `measurements` and the RSS growth line of each backend.
pub fn print(measurements: &[Measurement]) {
    println!(
        "{:<18} {:>9} {:>8} {:>9} {:>10} {:>11} {:>6} {:>11}  target",
        "case", "rows", "seconds", "server s", "rows/s", "peer rows/s", "ratio", "peak RSS MB"
    );
    for measurement in measurements {
        let peer_rate = measurement.peer_rows_per_second().map_or("-".to_owned(), |rate| group_digits(rate as u64));
        let ratio = measurement.ratio().map_or("-".to_owned(), |ratio| format!("{ratio:.2}x"));
        let server =
            measurement.server_duration.map_or("-".to_owned(), |duration| format!("{:.3}", duration.as_secs_f64()));
        println!(
            "{:<18} {:>9} {:>8.3} {:>9} {:>10} {:>11} {:>6} {:>11.1}  {}",
            format!("{} {}", measurement.backend.label(), measurement.kind.label()),
            group_digits(measurement.rows),
            measurement.elapsed.as_secs_f64(),
            server,
            group_digits(measurement.rows_per_second() as u64),
            peer_rate,
            ratio,
            megabytes(measurement.peak_rss),
            measurement.target()
        );
    }
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if let Some(line) = rss_growth(measurements, backend) {
            println!("{line}");
        }
    }
}

/// Describes how the peak RSS of the products servers of `backend` grew from the
/// smallest file to the largest, or returns `None` with fewer than two sizes.
fn rss_growth(measurements: &[Measurement], backend: Backend) -> Option<String> {
    let mut sizes: Vec<(u64, u64)> = measurements
        .iter()
        .filter(|measurement| measurement.backend == backend && measurement.kind == CaseKind::New)
        .map(|measurement| (measurement.rows, measurement.peak_rss))
        .collect();
    sizes.sort_unstable();
    let (&(small_rows, small_rss), &(large_rows, large_rss)) = (sizes.first()?, sizes.last()?);
    if small_rows == large_rows {
        return None;
    }
    let growth = large_rss as f64 / small_rss as f64 - 1.0;
    let met = growth <= RSS_GROWTH_LIMIT && sizes.iter().all(|&(_, rss)| rss <= RSS_LIMIT_BYTES);
    Some(format!(
        "{} peak RSS from {} to {} rows: {:.1} MB to {:.1} MB ({:+.1}%); target <= {} MB and <= +{:.0}%: {}",
        backend.label(),
        group_digits(small_rows),
        group_digits(large_rows),
        megabytes(small_rss),
        megabytes(large_rss),
        growth * 100.0,
        RSS_LIMIT_BYTES / 1_000_000,
        RSS_GROWTH_LIMIT * 100.0,
        verdict(met)
    ))
}

fn megabytes(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

/// Formats `value` with a comma between groups of three digits: 1,000,000.
pub fn group_digits(value: u64) -> String {
    let digits = value.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measurement(kind: CaseKind, rows: u64, seconds: f64, peer_seconds: Option<f64>, rss_mb: u64) -> Measurement {
        Measurement {
            backend: Backend::Sqlite,
            kind,
            rows,
            elapsed: Duration::from_secs_f64(seconds),
            server_duration: None,
            peer: peer_seconds.map(Duration::from_secs_f64),
            peak_rss: rss_mb * 1_000_000,
        }
    }

    #[test]
    fn digits_are_grouped() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(1_000), "1,000");
        assert_eq!(group_digits(1_000_000), "1,000,000");
    }

    #[test]
    fn ratio_compares_rates() {
        let faster = measurement(CaseKind::New, 1_000, 1.0, Some(2.0), 50);

        assert_eq!(faster.ratio(), Some(2.0));
        assert_eq!(faster.target(), ">= 1.5x .import: met");
    }

    #[test]
    fn target_missed_without_enough_speed() {
        let slower = measurement(CaseKind::Update, 1_000, 2.0, Some(1.0), 50);

        assert_eq!(slower.target(), ">= 1.0x .import + upsert: missed");
    }

    #[test]
    fn rss_growth_compares_extremes() {
        let measurements =
            [measurement(CaseKind::New, 100_000, 1.0, None, 50), measurement(CaseKind::New, 1_000_000, 10.0, None, 60)];

        let line = rss_growth(&measurements, Backend::Sqlite).unwrap();

        assert!(line.contains("50.0 MB to 60.0 MB (+20.0%)"), "{line}");
        assert!(line.ends_with("missed"), "{line}");
        assert!(rss_growth(&measurements, Backend::Postgres).is_none());
    }
}
