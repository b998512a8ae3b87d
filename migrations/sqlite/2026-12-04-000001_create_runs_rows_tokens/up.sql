-- Timestamps are TEXT in the API's own format (`2023-10-27T10:00:00.000000Z`), which
-- sorts in time order and needs no conversion on the way out.
CREATE TABLE ingest_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    importer TEXT NOT NULL,
    importer_version TEXT,
    status TEXT NOT NULL,
    user_id BIGINT,
    original_filename TEXT,
    stored_path TEXT,
    dry_run BOOLEAN NOT NULL DEFAULT 0,
    retried_from_run_id BIGINT REFERENCES ingest_runs (id),
    headers TEXT,
    total_rows BIGINT,
    processed_rows BIGINT NOT NULL DEFAULT 0,
    successful_rows BIGINT NOT NULL DEFAULT 0,
    failed_rows BIGINT NOT NULL DEFAULT 0,
    skipped_rows BIGINT NOT NULL DEFAULT 0,
    -- Data rows of the source already committed: where a resumed run starts reading.
    next_row BIGINT NOT NULL DEFAULT 0,
    cancel_requested BOOLEAN NOT NULL DEFAULT 0,
    error TEXT,
    summary TEXT,
    lease_owner TEXT,
    lease_expires_at TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    completed_at TEXT
);

CREATE INDEX ingest_runs_status_id ON ingest_runs (status, id);
CREATE INDEX ingest_runs_retried_from ON ingest_runs (retried_from_run_id);

CREATE TABLE ingest_rows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id BIGINT NOT NULL REFERENCES ingest_runs (id) ON DELETE CASCADE,
    row_number BIGINT NOT NULL,
    status TEXT NOT NULL,
    data TEXT NOT NULL,
    errors TEXT
);

CREATE INDEX ingest_rows_run_row ON ingest_rows (run_id, row_number);

CREATE TABLE ingest_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL,
    name TEXT,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);
