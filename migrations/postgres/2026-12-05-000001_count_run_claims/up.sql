-- How many times workers have claimed the run. A run claimed again and again without
-- ending most likely crashes the node that processes it, so the host fails it after a
-- few claims instead of letting it take down node after node.
ALTER TABLE ingest_runs ADD COLUMN claims BIGINT NOT NULL DEFAULT 0;
