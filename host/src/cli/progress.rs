//! Following a run's counters in the database with a progress bar, and reporting how it
//! ended; shared by `run`, `retry` and `status`.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{HumanDuration, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{EXIT_FAILURE, EXIT_OK};
use crate::store::Store;
use crate::store::runs::{self, Run, Status};

/// How often the counters are read from the database while a run is followed.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Checks whether a progress bar can be drawn. indicatif draws nothing when stderr is
/// not a terminal, so commands follow a run there only when asked to.
pub fn is_interactive() -> bool {
    std::io::stderr().is_terminal()
}

/// Reads run `id` until it is in a final status, or until `stop` returns true, and
/// returns the last state read. While it waits, a progress bar on stderr shows the rows
/// processed, the rate and the time left.
pub fn follow(store: &Store, id: i64, mut stop: impl FnMut() -> bool) -> anyhow::Result<Run> {
    let mut view = RunView::new();
    let mut connection = store.connection()?;
    loop {
        // Checked before the read, so the state returned after `stop` is the final one.
        let stopped = stop();
        let run = runs::find(&mut connection, id)?.with_context(|| format!("run {id} was deleted while it was followed"))?;
        view.draw(&run);
        if stopped || run.status().is_finished() {
            view.bar.finish_and_clear();
            return Ok(run);
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

/// How far back the rate is measured: long enough to smooth the steps of one chunk
/// commit, short enough to follow a run that slows down.
const RATE_WINDOW: Duration = Duration::from_secs(5);

/// The progress bar and the samples its rate is computed from. The rate is measured here
/// rather than by indicatif because a run followed from its middle starts at a position
/// that indicatif would count as done in the first interval.
struct RunView {
    bar: ProgressBar,
    samples: VecDeque<(Instant, i64)>,
}

impl RunView {
    fn new() -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.enable_steady_tick(POLL_INTERVAL);
        Self { bar, samples: VecDeque::new() }
    }

    fn draw(&mut self, run: &Run) {
        let total = match (run.status(), run.total_rows) {
            (Status::Pending, _) => {
                self.bar.set_style(spinner_style());
                self.bar.set_message(format!("run {} pending: waiting for a server's worker to start it", run.id));
                return;
            }
            (_, None) => {
                self.bar.set_style(spinner_style());
                self.bar.set_message(format!("run {}: counting the rows of {}", run.id, file_label(run)));
                return;
            }
            (_, Some(total)) => total.max(0) as u64,
        };
        if self.bar.length() != Some(total) {
            self.bar.set_style(bar_style());
            self.bar.set_length(total);
            self.bar.set_prefix(format!("run {}", run.id));
        }
        self.bar.set_position(run.processed_rows.max(0) as u64);

        let now = Instant::now();
        self.samples.push_back((now, run.processed_rows));
        while self.samples.front().is_some_and(|(at, _)| now.duration_since(*at) > RATE_WINDOW) {
            self.samples.pop_front();
        }
        let mut parts = Vec::new();
        if let (Some((first_at, first_rows)), Some((last_at, last_rows))) = (self.samples.front(), self.samples.back()) {
            let seconds = last_at.duration_since(*first_at).as_secs_f64();
            if seconds >= 0.5 {
                let rate = (last_rows - first_rows).max(0) as f64 / seconds;
                parts.push(format!("{rate:.0} rows/s"));
                let remaining = total.saturating_sub(run.processed_rows.max(0) as u64) as f64;
                if rate > 0.0 {
                    parts.push(format!("{} left", HumanDuration(Duration::from_secs_f64(remaining / rate))));
                }
            }
        }
        if run.failed_rows > 0 {
            parts.push(format!("{} failed", run.failed_rows));
        }
        self.bar.set_message(parts.join(", "));
    }
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg}").expect("the spinner template is valid")
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} rows  {msg}")
        .expect("the progress bar template is valid")
}

fn file_label(run: &Run) -> String {
    match (run.retried_from_run_id, run.original_filename.as_deref()) {
        (Some(original), _) => format!("the failed rows of run {original}"),
        (None, Some(name)) => name.to_owned(),
        (None, None) => "its source".to_owned(),
    }
}

/// Maps a run to its exit status: 0 when every row was imported or skipped, 1 when the
/// run failed, was cancelled, ended with failed rows or has not finished.
pub fn exit_code(run: &Run) -> ExitCode {
    match run.status() {
        Status::Completed => ExitCode::from(EXIT_OK),
        _ => ExitCode::from(EXIT_FAILURE),
    }
}

/// Describes in one line how the run ended, such as
/// `run 3 completed: 3376 successful, 0 failed, 0 skipped in 1.2 s`.
pub fn outcome_line(run: &Run) -> String {
    let dry_run = if run.dry_run { " (dry run: nothing written)" } else { "" };
    let counts = format!("{} successful, {} failed, {} skipped", run.successful_rows, run.failed_rows, run.skipped_rows);
    let duration = match duration_ms(run) {
        Some(ms) if ms < 1000 => format!(" in {ms} ms"),
        Some(ms) => format!(" in {:.1} s", ms as f64 / 1000.0),
        None => String::new(),
    };
    match run.status() {
        Status::Failed => format!(
            "run {} failed after {} rows ({counts}){dry_run}: {}",
            run.id,
            run.processed_rows,
            run.error.as_deref().unwrap_or("no error was recorded")
        ),
        Status::Pending | Status::Processing => {
            format!("run {} is still {}: {} rows processed so far ({counts})", run.id, run.status, run.processed_rows)
        }
        _ => format!("run {} {}: {counts}{duration}{dry_run}", run.id, run.status),
    }
}

fn duration_ms(run: &Run) -> Option<u64> {
    let summary: serde_json::Value = serde_json::from_str(run.summary.as_deref()?).ok()?;
    summary["duration_ms"].as_u64()
}
