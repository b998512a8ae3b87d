//! Reading a server's log, to see which node started which run and how.

use crate::TestApp;

/// One `run started` line of a server log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunStart {
    pub run_id: i64,
    /// The source rows already committed when the run was claimed; more than 0 when a
    /// node resumed a run that another worker had begun.
    pub resumed_at_row: i64,
}

impl TestApp {
    /// Returns the runs this node started (or resumed), in log order, from every start
    /// of the node.
    pub fn run_starts(&self) -> Vec<RunStart> {
        let log = self.server_log();
        log.lines()
            .filter(|line| line.contains("run started"))
            .map(|line| RunStart {
                run_id: field(line, "run_id").unwrap_or_else(|| panic!("no run_id in the log line {line:?}")),
                resumed_at_row: field(line, "resumed_at_row")
                    .unwrap_or_else(|| panic!("no resumed_at_row in the log line {line:?}")),
            })
            .collect()
    }
}

/// Returns the integer value of `name=…` in a log line of the text format.
fn field(line: &str, name: &str) -> Option<i64> {
    let pattern = format!("{name}=");
    let start = line.match_indices(&pattern).map(|(at, _)| at).find(|&at| {
        at == 0 || !line.as_bytes()[at - 1].is_ascii_alphanumeric() && line.as_bytes()[at - 1] != b'_'
    })? + pattern.len();
    let digits: String = line[start..].chars().take_while(|c| c.is_ascii_digit() || *c == '-').collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_start_fields_are_read() {
        let line = "2026-01-01T00:00:00.000000Z  INFO run{run_id=12 importer=a}: run started dry_run=false resumed_at_row=3000";
        assert_eq!(field(line, "run_id"), Some(12));
        assert_eq!(field(line, "resumed_at_row"), Some(3000));
        assert_eq!(field(line, "row"), None);
    }
}
