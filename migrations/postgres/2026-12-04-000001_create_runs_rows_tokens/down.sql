DROP TABLE ingest_tokens;
DROP TABLE ingest_rows;
DROP TABLE ingest_runs;
