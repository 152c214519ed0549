-- Scheduler replicas and their shared progress. Not events: coordination state.

-- Live scheduler replicas; jobs are spread over the live ones by rendezvous hashing.
CREATE TABLE IF NOT EXISTS scheduler_members (
    member_id text PRIMARY KEY,
    last_seen timestamptz NOT NULL DEFAULT now()
);

-- The last occurrence decided for each job (fired or skipped). Only ever moves forward, so a
-- new owner of a job continues exactly where the previous one stopped.
CREATE TABLE IF NOT EXISTS scheduler_cursors (
    job_id uuid PRIMARY KEY,
    decided_until timestamptz NOT NULL
);
