"""Job queries over rm_jobs and rm_job_runs; history straight from the job's own events."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from application.views import (
    BackoffView,
    ExecutionSummary,
    HistoryEntry,
    JobFilters,
    JobView,
    MisfireView,
    Page,
    PageRequest,
    RunCounts,
)
from domain.skipped_occurrences import SkippedOccurrences
from infrastructure.eventstore.mapper import decode_event, history_entry
from infrastructure.postgres.log_tailer import EVENTS_TABLE
from infrastructure.readmodels.cursor import decode_cursor, filter_conditions, keyset_page
from infrastructure.readmodels.jobs_projection import JobsProjection
from infrastructure.readmodels.next_runs import next_run

SKIPPED = SkippedOccurrences.Created.TOPIC
_SELECT = """
SELECT j.id, j.enabled, j.definition, j.version, j.created_at, j.updated_at,
       r.total, r.completed, r.failed, r.timeout, r.cancelled, r.duration_sum_ms,
       r.duration_count, r.last_id, r.last_status, r.last_created_at, r.last_finished_at,
       r.last_duration_ms
FROM rm_jobs j LEFT JOIN rm_job_runs r ON r.job_id = j.id
WHERE NOT j.deleted"""


class PostgresJobQueries:
    """Implements application.queries.JobQueries; `clock` gives `now` for next_run_at."""

    def __init__(self, pool: asyncpg.Pool, clock: Callable[[], datetime] | None = None) -> None:
        self._pool = pool
        self._now = clock or (lambda: datetime.now(UTC))

    async def get_job(self, job_id: UUID) -> JobView | None:
        record = await self._pool.fetchrow(f"{_SELECT} AND j.id = $1", job_id)
        return None if record is None else job_view(record, self._now())

    async def list_jobs(self, filters: JobFilters, page: PageRequest) -> Page[JobView]:
        """One query on the (name, id) index; the cursor is the last (name, id) returned."""
        records = await self._pool.fetch(*list_query(filters, page))
        now = self._now()
        return keyset_page(
            records, page.limit, lambda r: job_view(r, now), lambda item: [item.name, item.id]
        )

    async def job_history(self, job_id: UUID) -> Sequence[HistoryEntry]:
        """The job's own events and its skipped occurrences, oldest first."""
        async with self._pool.acquire() as connection:
            stored = await connection.fetch(
                f"SELECT originator_version, topic, state FROM {EVENTS_TABLE} "
                "WHERE originator_id = $1 AND topic = ANY($2::text[]) ORDER BY originator_version",
                job_id,
                list(JobsProjection.topics),
            )
            skips = await connection.fetch(
                "SELECT reason, first, last, count, at FROM rm_skipped_occurrences "
                "WHERE job_id = $1 ORDER BY at, id",
                job_id,
            )
        entries = [history_entry(decode_event(r[1], bytes(r[2]), job_id, r[0])) for r in stored]
        entries += [_skip_entry(record) for record in skips]
        return sorted(entries, key=lambda entry: entry.at)


def list_query(filters: JobFilters, page: PageRequest) -> tuple[str, ...]:
    """The SQL and arguments of one page (one more row than asked, to know if more follow)."""
    conditions, args = filter_conditions(
        {
            "j.enabled = $": filters.enabled,
            "j.module_id = $": filters.module_id,
            "j.name ILIKE $": f"%{like_escape(filters.q)}%" if filters.q else None,
        }
    )
    if page.cursor:
        name, job_id = decode_cursor(page.cursor, tuple[str, UUID])
        args += [name, job_id]
        conditions.append(f"(j.name, j.id) > (${len(args) - 1}, ${len(args)})")
    args.append(page.limit + 1)
    where = "".join(f" AND {condition}" for condition in conditions)
    return (f"{_SELECT}{where} ORDER BY j.name, j.id LIMIT ${len(args)}", *args)


def like_escape(text: str) -> str:
    """Match `text` literally inside a LIKE pattern."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def job_view(record: asyncpg.Record, now: datetime) -> JobView:
    d: dict[str, Any] = record["definition"]
    retry, misfire = d["retry"], d["misfire"]
    return JobView(
        id=record["id"],
        name=d["name"],
        description=d["description"],
        module_id=d["module_id"],
        handler=d["handler"],
        schedule=d["schedule"],
        timezone=d["timezone"],
        enabled=record["enabled"],
        timeout=d["timeout_ms"],
        retries=retry["retries"],
        backoff=BackoffView(retry["base_ms"], retry["max_ms"], retry["jitter"]),
        config=d["config"],
        overlap=d["overlap"],
        misfire=MisfireView(misfire["grace_ms"], misfire["catch_up"], misfire["limit"]),
        triggers=tuple(d["triggers"]),
        webhooks=tuple(d["webhooks"]),
        version=record["version"],
        created_at=record["created_at"],
        updated_at=record["updated_at"],
        next_run_at=next_run(d, record["enabled"], now),
        last_execution=_last_execution(record),
        runs=_runs(record),
        average_duration_ms=_average(record),
    )


def _last_execution(record: asyncpg.Record) -> ExecutionSummary | None:
    if record["last_id"] is None:
        return None
    return ExecutionSummary(
        id=record["last_id"],
        status=record["last_status"],
        created_at=record["last_created_at"],
        finished_at=record["last_finished_at"],
        duration_ms=record["last_duration_ms"],
    )


def _runs(record: asyncpg.Record) -> RunCounts:
    if record["total"] is None:
        return RunCounts()
    return RunCounts(
        total=record["total"],
        completed=record["completed"],
        failed=record["failed"],
        timeout=record["timeout"],
        cancelled=record["cancelled"],
    )


def _average(record: asyncpg.Record) -> int | None:
    if not record["duration_count"]:
        return None
    return round(int(record["duration_sum_ms"]) / int(record["duration_count"]))


def _skip_entry(record: asyncpg.Record) -> HistoryEntry:
    data = {
        "reason": record["reason"],
        "first": msgspec.to_builtins(record["first"]),
        "last": msgspec.to_builtins(record["last"]),
        "count": record["count"],
    }
    return HistoryEntry(type=SKIPPED, at=record["at"], actor=None, data=data)
