//! Finds a CSV stream that ends inside a quoted field.
//!
//! The csv crate reads a quote that is never closed as a field that runs to the end of
//! the file, and reports no error. [`QuoteTracker`] follows the quoting state of the
//! csv-core parser over the bytes that parser reads, so the source can fail that row
//! with the reason. It assumes the settings the source uses: RFC 4180 quotes, a doubled
//! quote as the escape inside a quoted field, no escape character and no comments.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a field, where a quote opens a quoted field.
    FieldStart,
    /// Inside an unquoted field, where a quote is literal text.
    Unquoted,
    Quoted,
    /// Just after a quote inside a quoted field: a second quote is an escaped quote,
    /// anything else means the first one closed the field.
    QuoteInQuoted,
}

/// A reader that passes bytes through and records whether the stream ended inside a
/// quoted field.
pub(super) struct QuoteTracker<R> {
    inner: R,
    delimiter: u8,
    state: State,
    ended_in_quotes: Arc<AtomicBool>,
}

impl<R: Read> QuoteTracker<R> {
    /// Wraps `inner` and returns the flag that is set when the stream ends inside a
    /// quoted field. The flag is set by the read that finds the end of the stream, so
    /// the csv reader sees it once it has returned the stream's last record.
    pub(super) fn new(inner: R, delimiter: u8) -> (Self, Arc<AtomicBool>) {
        let ended_in_quotes = Arc::new(AtomicBool::new(false));
        let tracker = Self { inner, delimiter, state: State::FieldStart, ended_in_quotes: ended_in_quotes.clone() };
        (tracker, ended_in_quotes)
    }

    fn is_field_end(&self, byte: u8) -> bool {
        byte == self.delimiter || byte == b'\n' || byte == b'\r'
    }

    fn advance(&mut self, bytes: &[u8]) {
        let mut at = 0;
        while at < bytes.len() {
            // Inside a field only one or three byte values change the state, so the scan
            // jumps to the next of them.
            let rest = &bytes[at..];
            match self.state {
                State::Quoted => match rest.iter().position(|&byte| byte == b'"') {
                    Some(offset) => {
                        at += offset + 1;
                        self.state = State::QuoteInQuoted;
                    }
                    None => return,
                },
                State::Unquoted => match rest.iter().position(|&byte| self.is_field_end(byte)) {
                    Some(offset) => {
                        at += offset + 1;
                        self.state = State::FieldStart;
                    }
                    None => return,
                },
                State::FieldStart | State::QuoteInQuoted => {
                    let byte = rest[0];
                    at += 1;
                    self.state = match (self.state, byte) {
                        (State::FieldStart, b'"') => State::Quoted,
                        (State::QuoteInQuoted, b'"') => State::Quoted,
                        (_, byte) if self.is_field_end(byte) => State::FieldStart,
                        // csv-core appends text after a closing quote to the field.
                        _ => State::Unquoted,
                    };
                }
            }
        }
    }
}

impl<R: Read> Read for QuoteTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let read = self.inner.read(buf)?;
        if read == 0 {
            self.ended_in_quotes.store(self.state == State::Quoted, Ordering::Relaxed);
        } else {
            self.advance(&buf[..read]);
        }
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `text` through a tracker in reads of `step` bytes and returns the flag.
    fn ends_in_quotes(text: &str, step: usize) -> bool {
        let (mut tracker, flag) = QuoteTracker::new(text.as_bytes(), b',');
        let mut buffer = vec![0; step];
        while tracker.read(&mut buffer).unwrap() > 0 {}
        flag.load(Ordering::Relaxed)
    }

    #[test]
    fn closed_quotes_end_outside() {
        for text in [
            "a,b\n1,2\n",
            "a,b\n1,\"x, y\"\n",
            "a,b\n1,\"say \"\"hi\"\"\"",
            "a,b\n1,\"two\nlines\"",
            "a,b\n1,\"\"\n",
            "size\n5\"\n",
            "a,b\n1,\"x\"y\n",
            "",
        ] {
            for step in [1, 3, 64] {
                assert!(!ends_in_quotes(text, step), "{text:?} read {step} bytes at a time");
            }
        }
    }

    #[test]
    fn unclosed_quote_ends_inside() {
        for text in ["a,b\n1,\"x\n2,3\n", "a,b\n\"", "a,b\n1,\"say \"\"hi\"\"\n", "\"a,b\n"] {
            for step in [1, 3, 64] {
                assert!(ends_in_quotes(text, step), "{text:?} read {step} bytes at a time");
            }
        }
    }

    #[test]
    fn delimiter_starts_a_field() {
        let (mut tracker, flag) = QuoteTracker::new(&b"a;\"b\n"[..], b';');
        std::io::copy(&mut tracker, &mut std::io::sink()).unwrap();
        assert!(flag.load(Ordering::Relaxed));
    }
}
