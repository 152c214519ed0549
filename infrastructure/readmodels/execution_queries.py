"""Execution queries over rm_executions (newest first) and the execution_logs table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from application.views import (
    AttemptView,
    ErrorView,
    ExecutionFilters,
    ExecutionView,
    JobDefinitionSnapshot,
    LogLine,
    Page,
    PageRequest,
    TriggerView,
)
from domain.retry import RetryPolicy
from infrastructure.readmodels.cursor import decode_cursor, filter_conditions, keyset_page

_MS = timedelta(milliseconds=1)
_SELECT = """
SELECT id, job_id, job_name, status, trigger, job, attempts, created_at, started_at,
       finished_at, next_attempt_at, result, error, cancel_requested, wait_for, updated_at
FROM rm_executions"""


class PostgresExecutionQueries:
    """Implements application.queries.ExecutionQueries."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def get_execution(self, execution_id: UUID) -> ExecutionView | None:
        record = await self._pool.fetchrow(f"{_SELECT} WHERE id = $1", execution_id)
        return None if record is None else execution_view(record)

    async def list_executions(
        self, filters: ExecutionFilters, page: PageRequest
    ) -> Page[ExecutionView]:
        """Keyset on (created_at, id) descending: rows inserted meanwhile never shift a page."""
        status = None if filters.status is None else filters.status.upper()
        conditions, args = filter_conditions({"status = $": status, "job_id = $": filters.job_id})
        if page.cursor:
            created_at, execution_id = decode_cursor(page.cursor, tuple[datetime, UUID])
            args += [created_at, execution_id]
            conditions.append(f"(created_at, id) < (${len(args) - 1}, ${len(args)})")
        args.append(page.limit + 1)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        sql = f"{_SELECT}{where} ORDER BY created_at DESC, id DESC LIMIT ${len(args)}"
        records = await self._pool.fetch(sql, *args)
        return keyset_page(
            records, page.limit, execution_view, lambda item: [item.created_at, item.id]
        )

    async def execution_logs(
        self, execution_id: UUID, after_seq: int = 0, limit: int = 1000
    ) -> Sequence[LogLine]:
        records = await self._pool.fetch(
            "SELECT seq, execution_id, attempt, at, level, message, fields FROM execution_logs "
            "WHERE execution_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            execution_id,
            after_seq,
            limit,
        )
        return [LogLine(*record) for record in records]


def execution_view(record: asyncpg.Record) -> ExecutionView:
    job: dict[str, Any] = record["job"]
    attempts = [_attempt(attempt) for attempt in record["attempts"]]
    started, finished = record["started_at"], record["finished_at"]
    return ExecutionView(
        id=record["id"],
        job_id=record["job_id"],
        job_name=record["job_name"],
        status=record["status"],
        trigger=_trigger(record["trigger"]),
        attempt=attempts[-1].number if attempts else 0,
        max_attempts=RetryPolicy(**job["retry"]).max_attempts,
        created_at=record["created_at"],
        started_at=started,
        finished_at=finished,
        duration_ms=_duration(started, finished),
        next_attempt_at=record["next_attempt_at"],
        result=record["result"],
        error=_error(record["error"]),
        attempts=attempts,
        cancel_requested=record["cancel_requested"],
        job=JobDefinitionSnapshot(
            module_id=job["module_id"],
            handler=job["handler"],
            timeout=job["timeout_ms"],
            retries=job["retry"]["retries"],
            config=job["config"],
            job_version=job["job_version"],
        ),
        wait_for=record["wait_for"],
        updated_at=record["updated_at"],
    )


def _trigger(data: Mapping[str, Any]) -> TriggerView:
    scheduled = data.get("scheduled_for")
    return TriggerView(
        type=data["type"],
        actor=data["actor"],
        scheduled_for=None if scheduled is None else datetime.fromisoformat(scheduled),
        event_id=data.get("event_id"),
        catch_up=data.get("catch_up", False),  # absent from runs stored before it existed
    )


def _attempt(data: Mapping[str, Any]) -> AttemptView:
    started = datetime.fromisoformat(data["started_at"])
    finished = None if data["finished_at"] is None else datetime.fromisoformat(data["finished_at"])
    return AttemptView(
        number=data["number"],
        worker=data["worker"],
        started_at=started,
        finished_at=finished,
        outcome=data["outcome"],
        error=_error(data["error"]),
        duration_ms=_duration(started, finished),
    )


def _error(data: Mapping[str, Any] | None) -> ErrorView | None:
    if data is None:
        return None
    return ErrorView(data["type"], data["message"], data.get("stack", ""))


def _duration(started: datetime | None, finished: datetime | None) -> int | None:
    if started is None or finished is None:
        return None
    return (finished - started) // _MS
