-- Read models: tables kept by the projections (infrastructure/readmodels), rebuilt from the
-- event log at will. Every value comes from events (no wall-clock columns), so a rebuild
-- yields identical rows. Positions live in almanac_positions (0200), one row per projection.

-- Projection `jobs`: the current definition of every job, deleted ones flagged.
CREATE TABLE IF NOT EXISTS rm_jobs (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    module_id text NOT NULL,
    enabled boolean NOT NULL,
    deleted boolean NOT NULL DEFAULT false,
    definition jsonb NOT NULL,
    version integer NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
-- list_jobs walks this index in (name, id) order: one indexed query per page.
CREATE INDEX IF NOT EXISTS rm_jobs_by_name ON rm_jobs (name, id) WHERE NOT deleted;

-- Projection `executions`: one row per execution, attempts inline (always read together).
CREATE TABLE IF NOT EXISTS rm_executions (
    id uuid PRIMARY KEY,
    job_id uuid NOT NULL,
    job_name text NOT NULL,
    status text NOT NULL,
    trigger jsonb NOT NULL,
    job jsonb NOT NULL,
    attempts jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    started_at timestamptz,
    finished_at timestamptz,
    next_attempt_at timestamptz,
    result jsonb,
    error jsonb,
    cancel_requested boolean NOT NULL,
    wait_for uuid,
    updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS rm_executions_newest ON rm_executions (created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS rm_executions_by_job
    ON rm_executions (job_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS rm_executions_by_status
    ON rm_executions (status, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS rm_executions_finished ON rm_executions (finished_at)
    WHERE finished_at IS NOT NULL;

-- Projection `executions` too: run counts and the last execution of each job, kept
-- incrementally beside the executions (the fold knows each execution's previous status).
CREATE TABLE IF NOT EXISTS rm_job_runs (
    job_id uuid PRIMARY KEY,
    total bigint NOT NULL DEFAULT 0,
    completed bigint NOT NULL DEFAULT 0,
    failed bigint NOT NULL DEFAULT 0,
    timeout bigint NOT NULL DEFAULT 0,
    cancelled bigint NOT NULL DEFAULT 0,
    duration_sum_ms bigint NOT NULL DEFAULT 0,
    duration_count bigint NOT NULL DEFAULT 0,
    last_id uuid,
    last_status text,
    last_created_at timestamptz,
    last_finished_at timestamptz,
    last_duration_ms bigint
);

-- Projection `events`: bus events (topic event.emitted) and their statistics.
CREATE TABLE IF NOT EXISTS rm_events (
    position bigint PRIMARY KEY,
    id uuid NOT NULL UNIQUE,
    name text NOT NULL,
    source text NOT NULL,
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS rm_events_by_name ON rm_events (name, position DESC);
CREATE INDEX IF NOT EXISTS rm_events_by_source ON rm_events (source, position DESC);
CREATE INDEX IF NOT EXISTS rm_events_by_time ON rm_events (created_at);

-- Counts per event name and per source (kind 'name' | 'source') over the retained events.
CREATE TABLE IF NOT EXISTS rm_event_counts (
    kind text NOT NULL,
    key text NOT NULL,
    count bigint NOT NULL,
    PRIMARY KEY (kind, key)
);

-- Counts per minute over the retained events.
CREATE TABLE IF NOT EXISTS rm_event_minutes (
    minute timestamptz PRIMARY KEY,
    count bigint NOT NULL
);

-- Projection `skips`: occurrences that did not run, and why.
CREATE TABLE IF NOT EXISTS rm_skipped_occurrences (
    id uuid PRIMARY KEY,
    job_id uuid NOT NULL,
    reason text NOT NULL,
    first timestamptz NOT NULL,
    last timestamptz NOT NULL,
    count integer NOT NULL,
    at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS rm_skipped_by_job ON rm_skipped_occurrences (job_id, at);

-- Projection `modules`: registered modules and their manifests.
CREATE TABLE IF NOT EXISTS rm_modules (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    version text NOT NULL,
    path text NOT NULL,
    enabled boolean NOT NULL,
    jobs jsonb NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS rm_modules_by_name ON rm_modules (name);
