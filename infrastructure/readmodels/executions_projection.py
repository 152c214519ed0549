"""Projection `executions`: executions with their attempts, and the run counts of each job."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from infrastructure.readmodels.execution_fold import (
    EXECUTION_TOPICS,
    ExecutionFold,
    ExecutionRow,
    JobRuns,
)
from infrastructure.readmodels.projection import (
    Connection,
    LoggedEvent,
    Projection,
    changed_rows,
    columns_of,
    json_text,
    unnest_insert,
    write_rows,
)

_COLUMNS = (
    ("id", "uuid"),
    ("job_id", "uuid"),
    ("job_name", "text"),
    ("status", "text"),
    ("trigger", "jsonb"),
    ("job", "jsonb"),
    ("attempts", "jsonb"),
    ("created_at", "timestamptz"),
    ("started_at", "timestamptz"),
    ("finished_at", "timestamptz"),
    ("next_attempt_at", "timestamptz"),
    ("result", "jsonb"),
    ("error", "jsonb"),
    ("cancel_requested", "bool"),
    ("wait_for", "uuid"),
    ("updated_at", "timestamptz"),
)
_COUNTERS = (
    "total",
    "completed",
    "failed",
    "timeout",
    "cancelled",
    "duration_sum_ms",
    "duration_count",
)
_LAST = ("last_id", "last_status", "last_created_at", "last_finished_at", "last_duration_ms")
_RUNS_COLUMNS = (
    ("job_id", "uuid"),
    *((name, "int8") for name in _COUNTERS),
    ("last_id", "uuid"),
    ("last_status", "text"),
    ("last_created_at", "timestamptz"),
    ("last_finished_at", "timestamptz"),
    ("last_duration_ms", "int8"),
)


class ExecutionsProjection(Projection):
    """execution.* events folded per execution; job run counts change in the same transaction."""

    name = "executions"
    topics = EXECUTION_TOPICS
    tables = ("rm_executions", "rm_job_runs")

    async def apply(self, connection: Connection, events: Sequence[LoggedEvent]) -> None:
        table = self.table("rm_executions")
        found = await changed_rows(connection, table, _COLUMNS, events, "execution.requested")
        fold = ExecutionFold({record["id"]: ExecutionRow(*record) for record in found})
        for logged in events:
            fold.apply(logged.event)
        runs = fold.close()
        if fold.rows:
            values = [_values(row) for row in fold.rows.values()]
            await write_rows(connection, table, _COLUMNS, values, upsert_on="id")
        if runs:
            counts = [_runs_values(job_id, delta) for job_id, delta in runs.items()]
            sql = _runs_upsert(self.table("rm_job_runs"))
            await connection.execute(sql, *columns_of(counts, len(_RUNS_COLUMNS)))


def _values(row: ExecutionRow) -> tuple[Any, ...]:
    return (
        row.id,
        row.job_id,
        row.job_name,
        row.status,
        json_text(row.trigger),
        json_text(row.job),
        json_text(row.attempts),
        row.created_at,
        row.started_at,
        row.finished_at,
        row.next_attempt_at,
        json_text(row.result),
        json_text(row.error),
        row.cancel_requested,
        row.wait_for,
        row.updated_at,
    )


def _runs_values(job_id: UUID, runs: JobRuns) -> tuple[Any, ...]:
    counters = tuple(getattr(runs, name) for name in _COUNTERS)
    last = runs.last
    if last is None:
        return (job_id, *counters, None, None, None, None, None)
    summary = (last.id, last.status, last.created_at, last.finished_at, last.duration_ms)
    return (job_id, *counters, *summary)


def _runs_upsert(table: str) -> str:
    """Counters add up; the last execution is replaced only by one at least as new."""
    sql = unnest_insert(f"{table} AS runs", _RUNS_COLUMNS)
    newer = (
        "runs.last_id IS NULL OR (excluded.last_id IS NOT NULL AND "
        "(excluded.last_created_at, excluded.last_id) >= (runs.last_created_at, runs.last_id))"
    )
    counters = [f"{name} = runs.{name} + excluded.{name}" for name in _COUNTERS]
    last = [
        f"{name} = CASE WHEN {newer} THEN excluded.{name} ELSE runs.{name} END" for name in _LAST
    ]
    return f"{sql} ON CONFLICT (job_id) DO UPDATE SET {', '.join(counters + last)}"
