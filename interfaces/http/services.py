"""What the HTTP interface needs, as ports; the composition root fills it in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from application.dependencies import Dependencies
from application.ports import ReadModelSync
from application.queries import (
    EventQueries,
    EventRetention,
    ExecutionQueries,
    JobQueries,
    ModuleQueries,
    OverviewQueries,
)


class HealthCheck(Protocol):
    """{"postgres": "ok"|"down: ...", "redis": ...} for /healthz."""

    async def check(self) -> Mapping[str, str]: ...


class LiveEvents(Protocol):
    """Envelopes from the Redis stream after a position, matching a pattern, as they come."""

    def follow(self, pattern: str, after: int | None) -> AsyncIterator[Mapping[str, Any]]: ...


class LiveLogs(Protocol):
    """Log lines of one execution as they are written."""

    def follow(self, execution_id: str, after_seq: int) -> AsyncIterator[Mapping[str, Any]]: ...


class RateLimiter(Protocol):
    """Seconds to wait before `key` may act again, or 0 when it may act now."""

    async def retry_after(self, key: str) -> float: ...


@dataclass(frozen=True, slots=True)
class ApiServices:
    deps: Dependencies
    jobs: JobQueries
    executions: ExecutionQueries
    events: EventQueries
    modules: ModuleQueries
    overview: OverviewQueries
    retention: EventRetention
    sync: ReadModelSync
    health: HealthCheck
    live_events: LiveEvents
    live_logs: LiveLogs
    event_rate_limit: RateLimiter
    retention_days: int = 30
