//! The writing half of a run: chunks committed in groups, each group's target writes,
//! failed rows, counters and resume point in one transaction.
//!
//! A group contains one chunk or several. Committing chunk by chunk costs more than the
//! writes themselves on SQLite: each commit appends every page the chunk changed to the
//! write-ahead log, and with keys in random order that is nearly one index page a row.
//! Measured with Python's `sqlite3` module on a 2-core machine, 1M products rows in
//! random SKU order took about 33 s with a commit every 1,000 rows and 9 s with one every
//! 20,000. A crash still loses nothing that was committed and imports no row twice,
//! because the resume point commits with the rows.
//!
//! A group keeps its first chunks in memory until it commits, so that a transaction that
//! failed for a transient reason can run again with them. A longer group lets go of each
//! later chunk once it is written, so memory stays flat however long the group. When such
//! a group fails for a transient reason, the run resumes from its last committed chunk
//! instead (see [`Committed::Resume`]).

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;

use super::RunContext;
use super::failure::RunFailure;
use super::plan::{ChunkPlan, PlannedOutcome};
use super::relay::Work;
use crate::plugins::RowFailure;
use crate::store::rows::{self, NewRow};
use crate::store::runs::{self, ChunkCounts, Run};
use crate::store::{Backend, DbConnection, write_transaction};
use crate::targets::{TargetTables, WriteOutcome};

/// The row that failed an all-or-nothing chunk, with the reason its write failed when
/// it was the write, not the importer, that failed it.
#[derive(Debug, Clone)]
struct AtomicWriteFailed {
    row_number: u64,
    write_error: Option<String>,
}

enum CommitError {
    Atomic(AtomicWriteFailed),
    /// The worker no longer holds the run's lease; nothing was written.
    LeaseLost,
    Other(RunFailure),
}

impl<E: Into<RunFailure>> From<E> for CommitError {
    fn from(error: E) -> Self {
        CommitError::Other(error.into())
    }
}

/// Times a group's transaction runs when it fails for a transient reason.
const GROUP_ATTEMPTS: u32 = 3;

/// Rows a group keeps in memory for a rerun of its transaction, at most. Measured at
/// about 500 bytes a row of 6 columns (the rows as read, the records, their outcomes, and
/// the allocator's slack), that is about 12 MB.
const RETAINED_MAX_ROWS: usize = 25_000;

/// Time a group stays open, at most, so that progress shows and a cancel request takes
/// effect within about this time. Groups have no bound in rows, because fewer commits
/// append fewer pages to SQLite's log and cost PostgreSQL fewer flushes of its log. 1M
/// products rows in random key order took 5.3 s with 25,000 rows a group and 4.6 s to
/// 5.0 s with groups of 250 ms to 1 s, in single measurements. Other writes to a SQLite database wait
/// for the group to end (see `crate::store::write_turns`), and a PostgreSQL group holds
/// the locks of the rows it wrote, for up to this time.
const GROUP_MAX_TIME: Duration = Duration::from_millis(250);

/// Time a group waits for the next chunk before it commits what it has. While it waits
/// it holds SQLite's write lock, which the writes of other runs and of the API wait for,
/// so the wait stays short.
const NEXT_CHUNK_WAIT: Duration = Duration::from_millis(20);

/// The run, target tables and header row whose chunks a group commit writes.
pub(super) struct GroupWriter<'a> {
    pub context: &'a RunContext,
    pub run: &'a Run,
    pub targets: &'a TargetTables,
    pub headers: &'a [String],
}

/// The outcome of a group.
pub(super) enum Committed {
    Group(Group),
    /// This worker no longer holds the run's lease; nothing was written.
    LeaseLost,
    /// The group's transaction failed for a transient reason after the group had let go of
    /// chunks it wrote, so it cannot run again. Nothing was written, and the run resumes
    /// from its last committed chunk.
    Resume(RunFailure),
}

/// A committed group: its summed counters, and why it ended.
pub(super) struct Group {
    pub counts: ChunkCounts,
    pub ending: GroupEnding,
}

pub(super) enum GroupEnding {
    /// The group was full or waited long enough; more chunks follow.
    More,
    /// The producer sent its last chunk.
    SourceDone,
    /// The producer failed; the run fails after the chunks before the failure.
    Failed(RunFailure),
}

impl GroupWriter<'_> {
    /// Opens a transaction, writes `first` and the chunks that arrive on `plans` while
    /// the group has room, then records the counters and commits. `next_row` is the
    /// resume point the group starts from.
    ///
    /// A transaction that failed for a transient reason, such as a deadlock with another
    /// run writing the same keys, was rolled back whole, so it runs again with the
    /// chunks it had received, or the run resumes when the group let go of some.
    pub fn commit(
        &self,
        connection: &mut DbConnection,
        next_row: i64,
        first: ChunkPlan,
        plans: &Receiver<Work>,
    ) -> Result<Committed, RunFailure> {
        let mut group = RetainedGroup { plans: vec![first], complete: true };
        let mut ending = GroupEnding::More;
        let mut receiving = Some(plans);
        let mut attempt = 1;
        loop {
            let outcome = write_transaction(connection, |connection| {
                self.write_group(connection, next_row, &mut group, receiving, &mut ending)
            });
            match outcome {
                Ok(counts) => {
                    self.context.store.checkpoint_soon();
                    for plan in &group.plans {
                        crate::metrics::record_chunk_duration(plan.elapsed);
                    }
                    crate::metrics::record_rows(&counts);
                    return Ok(Committed::Group(Group { counts, ending }));
                }
                Err(CommitError::LeaseLost) => return Ok(Committed::LeaseLost),
                Err(CommitError::Other(failure)) if failure.transient && !group.complete => {
                    return Ok(Committed::Resume(failure));
                }
                Err(CommitError::Other(failure)) if failure.transient && attempt < GROUP_ATTEMPTS => {
                    tracing::warn!(attempt, error = %failure.message, "the chunks' transaction failed; it runs again");
                    std::thread::sleep(Duration::from_millis(100 * u64::from(attempt)));
                    attempt += 1;
                    receiving = None;
                }
                Err(CommitError::Other(failure)) => return Err(failure),
                Err(CommitError::Atomic(_)) => unreachable!("an atomic chunk's failure is handled inside the group"),
            }
        }
    }

    /// Writes the chunks of `group`, then, with `receiving` set, the chunks that arrive
    /// while the group has room, and records their counters.
    fn write_group(
        &self,
        connection: &mut DbConnection,
        next_row: i64,
        group: &mut RetainedGroup,
        receiving: Option<&Receiver<Work>>,
        ending: &mut GroupEnding,
    ) -> Result<ChunkCounts, CommitError> {
        let (context, run) = (self.context, self.run);
        let opened = Instant::now();
        if !runs::hold_lease_for_chunk(connection, run.id, &context.node_id, next_row, context.config.lease)? {
            return Err(CommitError::LeaseLost);
        }
        if connection.backend() == Backend::Postgres {
            // A commit returns before PostgreSQL has flushed it to its log. A crash may
            // then lose the last groups, which is safe: their resume point goes with them,
            // so the run imports them again and no row twice.
            connection.batch_execute("SET LOCAL synchronous_commit = off")?;
        }
        let mut total = ChunkCounts::default();
        for plan in &group.plans {
            add(&mut total, self.write_plan(connection, plan)?);
        }
        if let Some(plans) = receiving {
            let mut rows: usize = group.plans.iter().map(|plan| plan.rows.len()).sum();
            while opened.elapsed() < GROUP_MAX_TIME {
                let plan = match plans.recv_timeout(NEXT_CHUNK_WAIT) {
                    Ok(Work::Plan(Ok(plan))) => plan,
                    Ok(Work::Plan(Err(failure))) => {
                        *ending = GroupEnding::Failed(failure);
                        break;
                    }
                    Ok(Work::Relate(request)) => {
                        // The rows it creates are not among the retained chunks, so the
                        // transaction can no longer run again by itself.
                        request.answer(connection, &context.policy);
                        group.complete = false;
                        continue;
                    }
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => {
                        *ending = GroupEnding::SourceDone;
                        break;
                    }
                };
                rows += plan.rows.len();
                if rows <= RETAINED_MAX_ROWS {
                    // Kept before it is written, so that a transaction that runs again has it.
                    group.plans.push(plan);
                    let plan = group.plans.last().expect("a chunk was just added");
                    add(&mut total, self.write_plan(connection, plan)?);
                } else {
                    group.complete = false;
                    add(&mut total, self.write_plan(connection, &plan)?);
                    crate::metrics::record_chunk_duration(plan.elapsed);
                }
            }
        }
        runs::record_chunk(connection, run.id, total)?;
        Ok(total)
    }

    /// Writes one chunk. An all-or-nothing chunk writes inside a savepoint, and when one
    /// of its rows fails, the savepoint is rolled back and the chunk is recorded again
    /// with every row failed and nothing written to the target.
    fn write_plan(&self, connection: &mut DbConnection, plan: &ChunkPlan) -> Result<ChunkCounts, CommitError> {
        if !plan.atomic {
            return self.write_chunk(connection, plan, None);
        }
        if let Some(row_number) = plan.first_failed_row() {
            return self.write_chunk(connection, plan, Some(&AtomicWriteFailed { row_number, write_error: None }));
        }
        // A nested transaction is a savepoint inside the group's transaction.
        let attempt = diesel::Connection::transaction(connection, |connection| self.write_chunk(connection, plan, None));
        match attempt {
            Err(CommitError::Atomic(failed)) => self.write_chunk(connection, plan, Some(&failed)),
            other => other,
        }
    }

    /// Records the chunk; with `failed_row` set, the chunk is all-or-nothing and that row
    /// failed, so nothing is written and every row is recorded as failed.
    fn write_chunk(
        &self,
        connection: &mut DbConnection,
        plan: &ChunkPlan,
        failed_row: Option<&AtomicWriteFailed>,
    ) -> Result<ChunkCounts, CommitError> {
        let run = self.run;
        let writes = match failed_row {
            Some(_) => Vec::new(),
            None => self.targets.write(connection, &plan.records, run.dry_run)?,
        };
        let write_of_row = writes_by_row(&writes, &plan.record_rows, plan.rows.len());
        if plan.atomic && failed_row.is_none() {
            let first_failed = write_of_row.iter().enumerate().find_map(|(row, write)| match write {
                Some(WriteOutcome::Failed(message)) => Some((row, message)),
                _ => None,
            });
            if let Some((row, message)) = first_failed {
                return Err(CommitError::Atomic(AtomicWriteFailed {
                    row_number: plan.rows[row].row_number,
                    write_error: Some(message.clone()),
                }));
            }
        }

        let mut counts = ChunkCounts { source_rows: plan.source_rows, ..ChunkCounts::default() };
        let mut remembered = Vec::new();
        for (index, row) in plan.rows.iter().enumerate() {
            counts.processed += 1;
            let failure = match (&row.outcome, failed_row, write_of_row[index]) {
                (PlannedOutcome::Failed(failure), _, _) => Some(failure.clone()),
                (_, Some(failed), _) => {
                    let message = match &failed.write_error {
                        Some(reason) if failed.row_number == row.row_number => reason.clone(),
                        _ => format!(
                            "not imported: row {} of the same chunk failed and this importer imports chunks all or nothing",
                            failed.row_number
                        ),
                    };
                    Some(RowFailure { message, validation: Vec::new() })
                }
                (PlannedOutcome::Skipped, _, _) | (_, _, Some(WriteOutcome::Skipped(_))) => {
                    counts.skipped += 1;
                    None
                }
                (_, _, Some(WriteOutcome::Failed(message))) => {
                    Some(RowFailure { message: message.clone(), validation: Vec::new() })
                }
                (PlannedOutcome::Record, _, _) => {
                    counts.successful += 1;
                    None
                }
            };
            if let Some(failure) = failure {
                counts.failed += 1;
                remembered.push(NewRow {
                    run_id: run.id,
                    row_number: row.row_number as i64,
                    status: "failed".into(),
                    data: plan.row_data(self.headers, row).to_string(),
                    errors: Some(errors_json(&failure).to_string()),
                });
            }
        }

        rows::insert_many(connection, &remembered)?;
        Ok(counts)
    }
}

/// The chunks a group keeps for a rerun of its transaction.
struct RetainedGroup {
    plans: Vec<ChunkPlan>,
    /// False once the group let go of a chunk it wrote.
    complete: bool,
}

/// Returns each row's write outcome at the index of the row, `None` for a row without a
/// record, so that rows keep their order whichever target their records went to.
/// `writes` and `record_rows` have one entry per target, as [`ChunkPlan`] keeps them.
fn writes_by_row<'w>(
    writes: &'w [Vec<WriteOutcome>],
    record_rows: &[Vec<usize>],
    row_count: usize,
) -> Vec<Option<&'w WriteOutcome>> {
    let mut write_of_row = vec![None; row_count];
    for (target_writes, rows) in writes.iter().zip(record_rows) {
        for (write, &row) in target_writes.iter().zip(rows) {
            write_of_row[row] = Some(write);
        }
    }
    write_of_row
}

fn add(total: &mut ChunkCounts, counts: ChunkCounts) {
    total.processed += counts.processed;
    total.successful += counts.successful;
    total.failed += counts.failed;
    total.skipped += counts.skipped;
    total.source_rows += counts.source_rows;
}

fn errors_json(failure: &RowFailure) -> serde_json::Value {
    let validation: serde_json::Map<String, serde_json::Value> = failure
        .validation
        .iter()
        .map(|(field, messages)| (field.clone(), serde_json::Value::from(messages.clone())))
        .collect();
    serde_json::json!({ "message": failure.message, "validation": validation })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_of_several_targets_return_to_their_rows() {
        let people = vec![WriteOutcome::Written, WriteOutcome::Skipped("exists".into())];
        let companies = vec![WriteOutcome::Failed("duplicate".into())];
        let writes = vec![people, companies];
        // Rows 0 and 3 went to people, row 2 to companies, and row 1 has no record.
        let record_rows = vec![vec![0, 3], vec![2]];

        let by_row = writes_by_row(&writes, &record_rows, 4);

        assert_eq!(by_row[0], Some(&WriteOutcome::Written));
        assert_eq!(by_row[1], None);
        assert_eq!(by_row[2], Some(&WriteOutcome::Failed("duplicate".into())));
        assert_eq!(by_row[3], Some(&WriteOutcome::Skipped("exists".into())));
    }

    #[test]
    fn nothing_written_leaves_every_row_empty() {
        let by_row = writes_by_row(&[], &[vec![0], vec![1]], 2);

        assert_eq!(by_row, [None, None]);
    }
}
