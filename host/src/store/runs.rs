//! Runs: one row of `ingest_runs` per import, its counters and its lifecycle.

use diesel::prelude::*;
use diesel::sql_types::Text;

use super::schema::{ingest_rows, ingest_runs};
use super::{Backend, DbConnection, StoreError, now, timestamp, write_transaction, write_turn};

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

/// The statuses after which a run never changes again.
pub const FINISHED_STATUSES: [&str; 4] = ["completed", "completed_with_errors", "failed", "cancelled"];

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
    /// How many times a worker claimed the run, this claim included.
    pub claims: i64,
}

impl Run {
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Failed)
    }

    pub fn headers(&self) -> Vec<String> {
        self.headers.as_deref().and_then(|text| serde_json::from_str(text).ok()).unwrap_or_default()
    }
}

/// The fields a new run starts from.
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

pub fn insert(connection: &mut DbConnection, run: &NewRun) -> Result<Run, StoreError> {
    let _turn = write_turn(connection);
    let headers = run.headers.as_ref().map(|headers| serde_json::Value::from(headers.clone()).to_string());
    // started_at is set at creation, as Laravel Ingest does, so it is never null.
    let created_at = now();
    let insert = diesel::insert_into(ingest_runs::table)
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
        ));
    // diesel's multi-backend connection cannot build `RETURNING` with a selectable
    // struct, so the insert goes through the backend's own connection.
    let inserted = match connection {
        DbConnection::Sqlite(sqlite) => insert.returning(Run::as_returning()).get_result(sqlite)?,
        DbConnection::Postgres(postgres) => insert.returning(Run::as_returning()).get_result(postgres)?,
    };
    Ok(inserted)
}

pub fn find(connection: &mut DbConnection, id: i64) -> Result<Option<Run>, StoreError> {
    Ok(ingest_runs::table.find(id).select(Run::as_select()).first(connection).optional()?)
}

/// Loads one page of runs, newest first, and counts the runs in all.
pub fn page(connection: &mut DbConnection, page: i64, per_page: i64) -> Result<(Vec<Run>, i64), StoreError> {
    let total = ingest_runs::table.count().get_result(connection)?;
    let runs = ingest_runs::table
        .order(ingest_runs::id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
        .select(Run::as_select())
        .load(connection)?;
    Ok((runs, total))
}

/// Claims the oldest run that is waiting, or whose lease ran out because the node
/// holding it died or hangs, and leases it to `owner` for `lease`.
///
/// One statement, so two workers can never claim the same run. SQLite runs writes one
/// at a time. On PostgreSQL the inner SELECT locks the row it picks and skips rows that
/// other nodes are claiming (`FOR UPDATE SKIP LOCKED`), so nodes claim different runs
/// without waiting for each other.
pub fn claim_next(
    connection: &mut DbConnection,
    owner: &str,
    lease: std::time::Duration,
) -> Result<Option<Run>, StoreError> {
    let _turn = write_turn(connection);
    let current = chrono::Utc::now();
    let expires = timestamp(current + lease_duration(lease));
    let current = timestamp(current);
    let backend = connection.backend();
    let lock = match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
    };
    let sql = format!(
        "UPDATE ingest_runs SET status = 'processing', lease_owner = {owner}, lease_expires_at = {expires}, \
             started_at = COALESCE(started_at, {started}), claims = claims + 1 \
         WHERE id = (SELECT id FROM ingest_runs \
             WHERE status = 'pending' OR (status = 'processing' AND lease_expires_at < {current}) \
             ORDER BY id LIMIT 1{lock}) \
         RETURNING *",
        owner = backend.placeholder(1),
        expires = backend.placeholder(2),
        started = backend.placeholder(3),
        current = backend.placeholder(4),
    );
    let claimed = diesel::sql_query(sql)
        .bind::<Text, _>(owner)
        .bind::<Text, _>(&expires)
        .bind::<Text, _>(&current)
        .bind::<Text, _>(&current)
        .get_result::<Run>(connection)
        .optional()?;
    Ok(claimed)
}

/// Claims run `id` for `owner` if it is still pending, as [`claim_next`] would; `None`
/// when another worker claimed it first or it was cancelled.
pub fn claim(
    connection: &mut DbConnection,
    id: i64,
    owner: &str,
    lease: std::time::Duration,
) -> Result<Option<Run>, StoreError> {
    let _turn = write_turn(connection);
    let current = chrono::Utc::now();
    let expires = timestamp(current + lease_duration(lease));
    let backend = connection.backend();
    let sql = format!(
        "UPDATE ingest_runs SET status = 'processing', lease_owner = {owner}, lease_expires_at = {expires}, \
             started_at = COALESCE(started_at, {started}), claims = claims + 1 \
         WHERE id = {id} AND status = 'pending' \
         RETURNING *",
        owner = backend.placeholder(1),
        expires = backend.placeholder(2),
        started = backend.placeholder(3),
        id = backend.placeholder(4),
    );
    let claimed = diesel::sql_query(sql)
        .bind::<Text, _>(owner)
        .bind::<Text, _>(&expires)
        .bind::<Text, _>(timestamp(current))
        .bind::<diesel::sql_types::BigInt, _>(id)
        .get_result::<Run>(connection)
        .optional()?;
    Ok(claimed)
}

fn lease_duration(lease: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(30))
}

/// Extends `owner`'s lease on a processing run. Returns false when the lease is no
/// longer `owner`'s, because another node took the run over or the run ended.
pub fn renew_lease(
    connection: &mut DbConnection,
    id: i64,
    owner: &str,
    lease: std::time::Duration,
) -> Result<bool, StoreError> {
    let _turn = write_turn(connection);
    let expires = timestamp(chrono::Utc::now() + lease_duration(lease));
    let changed = diesel::update(
        ingest_runs::table
            .find(id)
            .filter(ingest_runs::lease_owner.eq(owner))
            .filter(ingest_runs::status.eq(Status::Processing.as_str())),
    )
    .set(ingest_runs::lease_expires_at.eq(expires))
    .execute(connection)?;
    Ok(changed == 1)
}

/// Renews `owner`'s lease as the first statement of a chunk's transaction and returns
/// false, writing nothing, unless `owner` still holds the run and its committed resume
/// point is `next_row`.
///
/// The update locks the run's row until the transaction ends, and on SQLite the whole
/// database is locked already. So no other node can claim the run while the chunk
/// writes, and a node that lost its lease cannot commit a chunk.
pub fn hold_lease_for_chunk(
    connection: &mut DbConnection,
    id: i64,
    owner: &str,
    next_row: i64,
    lease: std::time::Duration,
) -> Result<bool, StoreError> {
    let expires = timestamp(chrono::Utc::now() + lease_duration(lease));
    let changed = diesel::update(
        ingest_runs::table
            .find(id)
            .filter(ingest_runs::lease_owner.eq(owner))
            .filter(ingest_runs::status.eq(Status::Processing.as_str()))
            .filter(ingest_runs::next_row.eq(next_row)),
    )
    .set(ingest_runs::lease_expires_at.eq(expires))
    .execute(connection)?;
    Ok(changed == 1)
}

/// Releases `owner`'s lease on a processing run, which stays `processing`, so that the
/// next worker of any node that looks for work claims it. The claim is not counted,
/// because it ended cleanly: a run stopped by many restarts must not fail as a run that
/// crashes its nodes. Returns false, changing nothing, when `owner` no longer holds the
/// run.
pub fn release_lease(connection: &mut DbConnection, id: i64, owner: &str) -> Result<bool, StoreError> {
    let _turn = write_turn(connection);
    let changed = diesel::update(
        ingest_runs::table
            .find(id)
            .filter(ingest_runs::lease_owner.eq(owner))
            .filter(ingest_runs::status.eq(Status::Processing.as_str())),
    )
    .set((
        ingest_runs::lease_owner.eq(None::<String>),
        ingest_runs::lease_expires_at.eq(now()),
        ingest_runs::claims.eq(ingest_runs::claims - 1),
    ))
    .execute(connection)?;
    Ok(changed == 1)
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

/// Adds a chunk's counters and advances the resume point; call inside the chunk's
/// transaction, after [`hold_lease_for_chunk`].
pub fn record_chunk(connection: &mut DbConnection, id: i64, counts: ChunkCounts) -> Result<(), StoreError> {
    diesel::update(ingest_runs::table.find(id))
        .set((
            ingest_runs::processed_rows.eq(ingest_runs::processed_rows + counts.processed),
            ingest_runs::successful_rows.eq(ingest_runs::successful_rows + counts.successful),
            ingest_runs::failed_rows.eq(ingest_runs::failed_rows + counts.failed),
            ingest_runs::skipped_rows.eq(ingest_runs::skipped_rows + counts.skipped),
            ingest_runs::next_row.eq(ingest_runs::next_row + counts.source_rows),
        ))
        .execute(connection)?;
    Ok(())
}

/// Records what a starting run learnt about its source.
pub fn record_start(
    connection: &mut DbConnection,
    id: i64,
    importer_version: &str,
    headers: &[String],
    total_rows: Option<i64>,
) -> Result<(), StoreError> {
    let _turn = write_turn(connection);
    diesel::update(ingest_runs::table.find(id))
        .set((
            ingest_runs::importer_version.eq(importer_version),
            ingest_runs::headers.eq(serde_json::Value::from(headers.to_vec()).to_string()),
            ingest_runs::total_rows.eq(total_rows),
        ))
        .execute(connection)?;
    Ok(())
}

/// Records the number of rows of the run's file, once they are counted.
pub fn record_total(connection: &mut DbConnection, id: i64, total_rows: i64) -> Result<(), StoreError> {
    let _turn = write_turn(connection);
    diesel::update(ingest_runs::table.find(id)).set(ingest_runs::total_rows.eq(total_rows)).execute(connection)?;
    Ok(())
}

/// Records how the run ended and releases its lease; returns false, changing nothing,
/// when `owner` no longer owns the run's lease.
pub fn finish(
    connection: &mut DbConnection,
    id: i64,
    owner: &str,
    status: Status,
    error: Option<&str>,
    summary: &serde_json::Value,
) -> Result<bool, StoreError> {
    let _turn = write_turn(connection);
    let changed = diesel::update(ingest_runs::table.find(id).filter(ingest_runs::lease_owner.eq(owner)))
        .set((
            ingest_runs::status.eq(status.as_str()),
            ingest_runs::error.eq(error),
            ingest_runs::summary.eq(summary.to_string()),
            ingest_runs::completed_at.eq(now()),
            ingest_runs::lease_owner.eq(None::<String>),
            ingest_runs::lease_expires_at.eq(None::<String>),
        ))
        .execute(connection)?;
    Ok(changed == 1)
}

/// Locks run `id`'s row until the transaction ends, so that transactions that read the
/// run and then write depending on it run one at a time. Returns false when there is no
/// such run. SQLite's write transaction locks the whole database already.
pub fn lock(connection: &mut DbConnection, id: i64) -> Result<bool, StoreError> {
    let locked = match connection.backend() {
        Backend::Sqlite => find(connection, id)?.is_some(),
        Backend::Postgres => {
            diesel::sql_query("SELECT id FROM ingest_runs WHERE id = $1 FOR UPDATE")
                .bind::<diesel::sql_types::BigInt, _>(id)
                .execute(connection)?
                == 1
        }
    };
    Ok(locked)
}

/// The stored files of runs that have not ended, which must stay until they do.
pub fn unfinished_stored_paths(connection: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    Ok(ingest_runs::table
        .filter(ingest_runs::status.eq_any([Status::Pending.as_str(), Status::Processing.as_str()]))
        .filter(ingest_runs::stored_path.is_not_null())
        .select(ingest_runs::stored_path.assume_not_null())
        .load(connection)?)
}

pub fn cancel_requested(connection: &mut DbConnection, id: i64) -> Result<bool, StoreError> {
    Ok(ingest_runs::table.find(id).select(ingest_runs::cancel_requested).first(connection)?)
}

/// The outcome of a cancel request.
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

pub fn request_cancel(connection: &mut DbConnection, id: i64) -> Result<CancelOutcome, StoreError> {
    write_transaction(connection, |connection| {
        let Some(run) = find(connection, id)? else {
            return Ok(CancelOutcome::NotFound);
        };
        match run.status() {
            Status::Pending => {
                // On PostgreSQL another node may claim the run after it was read. The
                // status filter then matches nothing, and the run is cancelled at its
                // first chunk boundary instead.
                let cancelled = diesel::update(
                    ingest_runs::table.find(id).filter(ingest_runs::status.eq(Status::Pending.as_str())),
                )
                .set((
                    ingest_runs::cancel_requested.eq(true),
                    ingest_runs::status.eq(Status::Cancelled.as_str()),
                    ingest_runs::completed_at.eq(now()),
                ))
                .execute(connection)?;
                if cancelled == 1 {
                    return Ok(CancelOutcome::CancelledBeforeStart);
                }
                diesel::update(ingest_runs::table.find(id))
                    .set(ingest_runs::cancel_requested.eq(true))
                    .execute(connection)?;
                Ok(CancelOutcome::Requested)
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

/// Finds a retry of the run `id` that is still waiting or running.
pub fn active_retry_of(connection: &mut DbConnection, id: i64) -> Result<Option<i64>, StoreError> {
    Ok(ingest_runs::table
        .filter(ingest_runs::retried_from_run_id.eq(id))
        .filter(ingest_runs::status.eq_any([Status::Pending.as_str(), Status::Processing.as_str()]))
        .select(ingest_runs::id)
        .first(connection)
        .optional()?)
}

/// Runs whose rows are all counted, for the summary of counts by status.
pub fn count_by_status(connection: &mut DbConnection) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(ingest_runs::table
        .group_by(ingest_runs::status)
        .select((ingest_runs::status, diesel::dsl::count_star()))
        .load(connection)?)
}

/// Failed rows remembered for a run.
pub fn failed_row_count(connection: &mut DbConnection, id: i64) -> Result<i64, StoreError> {
    Ok(ingest_rows::table
        .filter(ingest_rows::run_id.eq(id))
        .filter(ingest_rows::status.eq("failed"))
        .count()
        .get_result(connection)?)
}
