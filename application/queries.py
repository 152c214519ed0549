"""Query ports: the read models the API, dashboard and processes read from."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from application.views import (
    BusEventView,
    EventFilters,
    EventStats,
    ExecutionFilters,
    ExecutionView,
    HistoryEntry,
    JobFilters,
    JobView,
    LogLine,
    ModuleView,
    Overview,
    Page,
    PageRequest,
)


class JobQueries(Protocol):
    """Jobs that are not deleted; `next_run_at` is computed from the schedule when asked."""

    async def get_job(self, job_id: UUID) -> JobView | None: ...

    async def list_jobs(self, filters: JobFilters, page: PageRequest) -> Page[JobView]: ...

    async def job_history(self, job_id: UUID) -> Sequence[HistoryEntry]: ...


class ExecutionQueries(Protocol):
    """Executions newest first; every execution stays readable after its job is deleted."""

    async def get_execution(self, execution_id: UUID) -> ExecutionView | None: ...

    async def list_executions(
        self, filters: ExecutionFilters, page: PageRequest
    ) -> Page[ExecutionView]: ...

    async def execution_logs(
        self, execution_id: UUID, after_seq: int = 0, limit: int = 1000
    ) -> Sequence[LogLine]: ...


class EventQueries(Protocol):
    """Bus events (not Almanac's own job/execution events) and their statistics."""

    async def get_event(self, event_id: UUID) -> BusEventView | None: ...

    async def list_events(self, filters: EventFilters, page: PageRequest) -> Page[BusEventView]: ...

    async def recent_events(self, limit: int) -> Sequence[BusEventView]: ...

    async def event_stats(self, now: datetime) -> EventStats: ...


class ModuleQueries(Protocol):
    async def list_modules(self) -> Sequence[ModuleView]: ...


class OverviewQueries(Protocol):
    async def overview(self, now: datetime) -> Overview: ...


class EventRetention(Protocol):
    """Removes bus events older than a cutoff from history, statistics, stream and store."""

    async def delete_events_before(self, cutoff: datetime) -> int: ...


async def every[F, T](
    list_page: Callable[[F, PageRequest], Awaitable[Page[T]]], filters: F, batch: int = 500
) -> AsyncIterator[T]:
    """Every item a list query finds, fetched page by page (for processes, not for clients)."""
    cursor: str | None = None
    while True:
        page = await list_page(filters, PageRequest(limit=batch, cursor=cursor))
        for item in page.items:
            yield item
        if page.next_cursor is None:
            return
        cursor = page.next_cursor
