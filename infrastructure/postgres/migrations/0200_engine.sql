-- Execution engine: follower positions, worker heartbeats and execution log lines.
-- None of these are events: they are positions and telemetry, too frequent for the store.

-- Where each follower of the event log (relay, dispatcher, projections, subscribers) has got to.
-- Projections update their row in the same transaction as their read-model rows.
CREATE TABLE IF NOT EXISTS almanac_positions (
    name text PRIMARY KEY,
    position bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per live worker process; an attempt whose worker stopped heartbeating is lost.
CREATE TABLE IF NOT EXISTS almanac_workers (
    worker_id text PRIMARY KEY,
    hostname text NOT NULL,
    pid integer NOT NULL,
    concurrency integer NOT NULL,
    busy integer NOT NULL DEFAULT 0,
    started_at timestamptz NOT NULL DEFAULT now(),
    last_seen timestamptz NOT NULL DEFAULT now(),
    stopping boolean NOT NULL DEFAULT false
);

-- Log lines written by handlers through context.services.logger (and their stdout/stderr).
CREATE TABLE IF NOT EXISTS execution_logs (
    seq bigserial PRIMARY KEY,
    execution_id uuid NOT NULL,
    attempt integer NOT NULL,
    at timestamptz NOT NULL,
    level text NOT NULL,
    message text NOT NULL,
    fields jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX IF NOT EXISTS execution_logs_by_execution ON execution_logs (execution_id, seq);
