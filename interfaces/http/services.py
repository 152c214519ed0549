"""What the HTTP interface needs, as ports; the composition root fills it in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
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
    """Envelopes from the Redis stream after a position, matching a pattern, as they come.

    Yields None after `idle` seconds without a match: the caller's cue for a keep-alive.
    """

    def follow(
        self, pattern: str, after: int | None, idle: float = 15.0
    ) -> AsyncIterator[Mapping[str, Any] | None]: ...


class LiveLogs(Protocol):
    """Log lines of one execution after `after_seq`: stored ones first, then new ones.

    Yields None after `idle` seconds without a line: the caller's cue for a keep-alive.
    """

    def follow(
        self, execution_id: str, after_seq: int, idle: float = 15.0
    ) -> AsyncIterator[Mapping[str, Any] | None]: ...


class RateLimiter(Protocol):
    """Seconds to wait before `key` may act again, or 0 when it may act now."""

    async def retry_after(self, key: str) -> float: ...


class MetricsSource(Protocol):
    """Cheap gauges for /metrics: executions by status and projection lag by projection."""

    async def execution_counts(self) -> Mapping[str, int]: ...

    async def projection_lag(self) -> Mapping[str, int]: ...


class NoMetrics:
    """A MetricsSource that reports nothing (for apps wired without one)."""

    async def execution_counts(self) -> Mapping[str, int]:
        return {}

    async def projection_lag(self) -> Mapping[str, int]:
        return {}


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
    metrics: MetricsSource = field(default_factory=NoMetrics)
    keepalive_seconds: float = 15.0
