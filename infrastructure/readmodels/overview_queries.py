"""The dashboard's headline numbers, each from an index (no scans of whole tables)."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from application.views import Overview

WORKER_ALIVE = timedelta(seconds=30)
_EXECUTIONS = """
SELECT
    (SELECT count(*) FROM rm_executions WHERE status = 'PENDING') AS pending,
    (SELECT count(*) FROM rm_executions WHERE status = 'RUNNING') AS running,
    count(*) FILTER (WHERE status = 'COMPLETED') AS completed,
    count(*) FILTER (WHERE status IN ('FAILED', 'TIMEOUT')) AS failed,
    avg(extract(epoch FROM finished_at - started_at) * 1000)
        FILTER (WHERE started_at IS NOT NULL) AS average_ms
FROM rm_executions WHERE finished_at > $1"""
_WORKERS = """
SELECT count(*), coalesce(sum(concurrency), 0), coalesce(sum(busy), 0)
FROM almanac_workers WHERE last_seen > $1"""


class PostgresOverviewQueries:
    """Implements application.queries.OverviewQueries over the last hour and live workers."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def overview(self, now: datetime) -> Overview:
        async with self._pool.acquire() as connection:
            runs = await connection.fetchrow(_EXECUTIONS, now - timedelta(hours=1))
            events = await connection.fetchval(
                "SELECT count(*) FROM rm_events WHERE created_at > $1", now - timedelta(minutes=1)
            )
            workers = await connection.fetchrow(_WORKERS, now - WORKER_ALIVE)
        if runs is None or workers is None:  # aggregates always return a row
            raise RuntimeError("overview queries returned no row")
        completed, failed = runs["completed"], runs["failed"]
        finished = completed + failed
        average = runs["average_ms"]
        return Overview(
            pending=runs["pending"],
            running=runs["running"],
            completed_last_hour=completed,
            failed_last_hour=failed,
            success_rate=completed / finished if finished else None,
            average_duration_ms=None if average is None else round(average),
            events_last_minute=events,
            workers=workers[0],
            worker_slots=int(workers[1]),
            busy_slots=int(workers[2]),
        )
