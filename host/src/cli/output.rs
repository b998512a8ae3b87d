//! Writing command output without panicking on a closed pipe.
//!
//! Rust ignores SIGPIPE, so a reader that exits early (`ingest status 2 --json | head -1`)
//! makes every later write fail with `EPIPE`, and `println!` panics on that. Here a
//! closed stdout ends the output quietly: later writes are skipped and the command
//! finishes with the exit status it would have had. Other write errors, such as a full
//! disk, are returned to the caller.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a write to stdout found the reading end of the pipe closed.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `text` to stdout and flushes it. A closed pipe is not an error.
pub fn write_stdout(text: &str) -> io::Result<()> {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut stdout = io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        result => result,
    }
}

/// Writes `text` to stderr. Errors are ignored, because there is nowhere left to
/// report them.
pub fn write_stderr(text: &str) {
    let _ = io::stderr().lock().write_all(text.as_bytes());
}

/// Prints a line to stdout as `println!` does, and returns an `io::Result` instead of
/// panicking; a closed pipe gives `Ok`.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::output::write_stdout(&format!("{}\n", format_args!($($arg)*)))
    };
}

/// Prints a line to stderr as `eprintln!` does, without panicking when stderr is closed.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::cli::output::write_stderr(&format!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {errln, outln};
