//! Runs: one row of `ingest_runs` per import, its counters and its lifecycle.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::schema::ingest_runs;
use super::{StoreError, now, timestamp};

/// The lifecycle of a run, as the API spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Processing,
    Completed,
    CompletedWithErrors,
    Failed,
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Processing => "processing",
            Status::Completed => "completed",
            Status::CompletedWithErrors => "completed_with_errors",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Status::Pending,
            Status::Processing,
            Status::Completed,
            Status::CompletedWithErrors,
            Status::Failed,
            Status::Cancelled,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }

    pub fn is_finished(self) -> bool {
        !matches!(self, Status::Pending | Status::Processing)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = ingest_runs)]
pub struct Run {
    pub id: i64,
    pub importer: String,
    pub importer_version: Option<String>,
    pub status: String,
    pub user_id: Option<i64>,
    pub original_filename: Option<String>,
    pub stored_path: Option<String>,
    pub dry_run: bool,
    pub retried_from_run_id: Option<i64>,
    pub headers: Option<String>,
    pub total_rows: Option<i64>,
    pub processed_rows: i64,
    pub successful_rows: i64,
    pub failed_rows: i64,
    pub skipped_rows: i64,
    pub next_row: i64,
    pub cancel_requested: bool,
    pub error: Option<String>,
    pub summary: Option<String>,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
}

impl Run {
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Failed)
    }

    pub fn headers(&self) -> Vec<String> {
        self.headers.as_deref().and_then(|text| serde_json::from_str(text).ok()).unwrap_or_default()
    }
}

/// What a new run starts from.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub importer: String,
    pub user_id: Option<i64>,
    pub original_filename: Option<String>,
    pub stored_path: Option<String>,
    pub dry_run: bool,
    pub retried_from_run_id: Option<i64>,
    pub headers: Option<Vec<String>>,
}

pub fn insert(connection: &mut SqliteConnection, run: &NewRun) -> Result<Run, StoreError> {
    let headers = run.headers.as_ref().map(|headers| serde_json::Value::from(headers.clone()).to_string());
    // started_at is set at creation, as Laravel Ingest does, so it is never null.
    let created_at = now();
    let inserted = diesel::insert_into(ingest_runs::table)
        .values((
            ingest_runs::importer.eq(&run.importer),
            ingest_runs::status.eq(Status::Pending.as_str()),
            ingest_runs::user_id.eq(run.user_id),
            ingest_runs::original_filename.eq(&run.original_filename),
            ingest_runs::stored_path.eq(&run.stored_path),
            ingest_runs::dry_run.eq(run.dry_run),
            ingest_runs::retried_from_run_id.eq(run.retried_from_run_id),
            ingest_runs::headers.eq(headers),
            ingest_runs::started_at.eq(&created_at),
            ingest_runs::created_at.eq(&created_at),
        ))
        .returning(Run::as_returning())
        .get_result(connection)?;
    Ok(inserted)
}

pub fn find(connection: &mut SqliteConnection, id: i64) -> Result<Option<Run>, StoreError> {
    Ok(ingest_runs::table.find(id).select(Run::as_select()).first(connection).optional()?)
}

/// One page of runs, newest first, and the number of runs in all.
pub fn page(connection: &mut SqliteConnection, page: i64, per_page: i64) -> Result<(Vec<Run>, i64), StoreError> {
    let total = ingest_runs::table.count().get_result(connection)?;
    let runs = ingest_runs::table
        .order(ingest_runs::id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
        .select(Run::as_select())
        .load(connection)?;
    Ok((runs, total))
}

/// Claims the oldest run that is waiting, or whose lease ran out because the worker
/// holding it died, and leases it to `owner`.
pub fn claim_next(
    connection: &mut SqliteConnection,
    owner: &str,
    lease: std::time::Duration,
) -> Result<Option<Run>, StoreError> {
    let current = chrono::Utc::now();
    let expires = timestamp(current + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(30)));
    let current = timestamp(current);
    // One statement, so two workers can never claim the same run: SQLite runs writes
    // one at a time, and the inner SELECT sees the outer UPDATE's snapshot.
    let claimed = diesel::sql_query(
        "UPDATE ingest_runs SET status = 'processing', lease_owner = ?, lease_expires_at = ?, \
             started_at = COALESCE(started_at, ?) \
         WHERE id = (SELECT id FROM ingest_runs \
             WHERE status = 'pending' OR (status = 'processing' AND lease_expires_at < ?) \
             ORDER BY id LIMIT 1) \
         RETURNING *",
    )
    .bind::<Text, _>(owner)
    .bind::<Text, _>(&expires)
    .bind::<Text, _>(&current)
    .bind::<Text, _>(&current)
    .get_result::<Run>(connection)
    .optional()?;
    Ok(claimed)
}

/// Counters of one committed chunk.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChunkCounts {
    pub processed: i64,
    pub successful: i64,
    pub failed: i64,
    pub skipped: i64,
    /// Source rows read, including rejected ones; advances the resume point.
    pub source_rows: i64,
}

/// Adds a chunk's counters and renews the lease; call inside the chunk's transaction.
pub fn record_chunk(
    connection: &mut SqliteConnection,
    id: i64,
    counts: ChunkCounts,
    lease: std::time::Duration,
) -> Result<(), StoreError> {
    let expires = chrono::Utc::now() + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(30));
    diesel::update(ingest_runs::table.find(id))
        .set((
            ingest_runs::processed_rows.eq(ingest_runs::processed_rows + counts.processed),
            ingest_runs::successful_rows.eq(ingest_runs::successful_rows + counts.successful),
            ingest_runs::failed_rows.eq(ingest_runs::failed_rows + counts.failed),
            ingest_runs::skipped_rows.eq(ingest_runs::skipped_rows + counts.skipped),
            ingest_runs::next_row.eq(ingest_runs::next_row + counts.source_rows),
            ingest_runs::lease_expires_at.eq(timestamp(expires)),
        ))
        .execute(connection)?;
    Ok(())
}

/// Records what a starting run learnt about its source.
pub fn record_start(
    connection: &mut SqliteConnection,
    id: i64,
    importer_version: &str,
    headers: &[String],
    total_rows: i64,
) -> Result<(), StoreError> {
    diesel::update(ingest_runs::table.find(id))
        .set((
            ingest_runs::importer_version.eq(importer_version),
            ingest_runs::headers.eq(serde_json::Value::from(headers.to_vec()).to_string()),
            ingest_runs::total_rows.eq(total_rows),
        ))
        .execute(connection)?;
    Ok(())
}

pub fn finish(
    connection: &mut SqliteConnection,
    id: i64,
    status: Status,
    error: Option<&str>,
    summary: &serde_json::Value,
) -> Result<(), StoreError> {
    diesel::update(ingest_runs::table.find(id))
        .set((
            ingest_runs::status.eq(status.as_str()),
            ingest_runs::error.eq(error),
            ingest_runs::summary.eq(summary.to_string()),
            ingest_runs::completed_at.eq(now()),
            ingest_runs::lease_owner.eq(None::<String>),
            ingest_runs::lease_expires_at.eq(None::<String>),
        ))
        .execute(connection)?;
    Ok(())
}

pub fn cancel_requested(connection: &mut SqliteConnection, id: i64) -> Result<bool, StoreError> {
    Ok(ingest_runs::table.find(id).select(ingest_runs::cancel_requested).first(connection)?)
}

/// What a cancel request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// The run had not started; it is cancelled now.
    CancelledBeforeStart,
    /// The worker stops the run at its next chunk boundary.
    Requested,
    /// The run had already finished with this status.
    AlreadyFinished(Status),
    NotFound,
}

pub fn request_cancel(connection: &mut SqliteConnection, id: i64) -> Result<CancelOutcome, StoreError> {
    connection.immediate_transaction(|connection| {
        let Some(run) = find(connection, id)? else {
            return Ok(CancelOutcome::NotFound);
        };
        match run.status() {
            Status::Pending => {
                diesel::update(ingest_runs::table.find(id))
                    .set((
                        ingest_runs::cancel_requested.eq(true),
                        ingest_runs::status.eq(Status::Cancelled.as_str()),
                        ingest_runs::completed_at.eq(now()),
                    ))
                    .execute(connection)?;
                Ok(CancelOutcome::CancelledBeforeStart)
            }
            Status::Processing => {
                diesel::update(ingest_runs::table.find(id))
                    .set(ingest_runs::cancel_requested.eq(true))
                    .execute(connection)?;
                Ok(CancelOutcome::Requested)
            }
            finished => Ok(CancelOutcome::AlreadyFinished(finished)),
        }
    })
}

/// A retry still waiting or running for the run `id`, if any.
pub fn active_retry_of(connection: &mut SqliteConnection, id: i64) -> Result<Option<i64>, StoreError> {
    Ok(ingest_runs::table
        .filter(ingest_runs::retried_from_run_id.eq(id))
        .filter(ingest_runs::status.eq_any([Status::Pending.as_str(), Status::Processing.as_str()]))
        .select(ingest_runs::id)
        .first(connection)
        .optional()?)
}

/// Runs whose rows are all counted, for the summary of counts by status.
pub fn count_by_status(connection: &mut SqliteConnection) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(ingest_runs::table
        .group_by(ingest_runs::status)
        .select((ingest_runs::status, diesel::dsl::count_star()))
        .load(connection)?)
}

#[derive(QueryableByName)]
struct Total {
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// Failed rows remembered for a run.
pub fn failed_row_count(connection: &mut SqliteConnection, id: i64) -> Result<i64, StoreError> {
    let found = diesel::sql_query("SELECT COUNT(*) AS total FROM ingest_rows WHERE run_id = ? AND status = 'failed'")
        .bind::<BigInt, _>(id)
        .get_result::<Total>(connection)?;
    Ok(found.total)
}
