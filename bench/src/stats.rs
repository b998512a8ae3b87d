//! Summaries of repeated measurements.

use std::fmt;
use std::time::Duration;

/// The median and the 90th percentile of a set of durations.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub median: Duration,
    pub p90: Duration,
    pub samples: usize,
}

impl Summary {
    /// Summarizes `samples`. Panics when there are none.
    pub fn of(mut samples: Vec<Duration>) -> Self {
        assert!(!samples.is_empty(), "a summary needs at least one sample");
        samples.sort();
        let at = |fraction: f64| samples[((samples.len() - 1) as f64 * fraction).round() as usize];
        Self { median: at(0.5), p90: at(0.9), samples: samples.len() }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} (p90 {}, n={})", format_duration(self.median), format_duration(self.p90), self.samples)
    }
}

/// Formats a duration in the unit that keeps three significant digits readable.
pub fn format_duration(duration: Duration) -> String {
    let micros = duration.as_secs_f64() * 1e6;
    if micros < 1_000.0 {
        format!("{micros:.1} µs")
    } else if micros < 1_000_000.0 {
        format!("{:.1} ms", micros / 1e3)
    } else {
        format!("{:.2} s", micros / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_picks_median_and_p90() {
        let samples = (1..=10).map(Duration::from_millis).collect();

        let summary = Summary::of(samples);

        assert_eq!(summary.median, Duration::from_millis(6));
        assert_eq!(summary.p90, Duration::from_millis(9));
        assert_eq!(summary.samples, 10);
    }

    #[test]
    fn durations_use_readable_units() {
        assert_eq!(format_duration(Duration::from_nanos(1_500)), "1.5 µs");
        assert_eq!(format_duration(Duration::from_micros(2_500)), "2.5 ms");
        assert_eq!(format_duration(Duration::from_millis(1_250)), "1.25 s");
    }
}
