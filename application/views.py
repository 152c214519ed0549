"""What queries return: plain, immutable views of the read models (no domain behaviour)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.job_definition import CatchUp, JobDefinition, MisfirePolicy, OverlapPolicy
from domain.retry import RetryPolicy


@dataclass(frozen=True, slots=True)
class Page[T]:
    """A page of a list; `next_cursor` is opaque and None on the last page."""

    items: Sequence[T]
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class ErrorView:
    type: str
    message: str
    stack: str = ""


@dataclass(frozen=True, slots=True)
class BackoffView:
    base_ms: int
    max_ms: int
    jitter: bool


@dataclass(frozen=True, slots=True)
class MisfireView:
    grace_ms: int
    catch_up: str
    limit: int


@dataclass(frozen=True, slots=True)
class ExecutionSummary:
    id: UUID
    status: str
    created_at: datetime
    finished_at: datetime | None
    duration_ms: int | None


@dataclass(frozen=True, slots=True)
class RunCounts:
    total: int = 0
    completed: int = 0
    failed: int = 0
    timeout: int = 0
    cancelled: int = 0


@dataclass(frozen=True, slots=True)
class JobView:
    id: UUID
    name: str
    description: str
    module_id: str
    handler: str
    schedule: str | None
    timezone: str
    enabled: bool
    timeout: int
    retries: int
    backoff: BackoffView
    config: Mapping[str, Any]
    overlap: str
    misfire: MisfireView
    triggers: Sequence[str]
    webhooks: Sequence[str]
    version: int
    created_at: datetime
    updated_at: datetime
    next_run_at: datetime | None
    last_execution: ExecutionSummary | None
    runs: RunCounts = field(default_factory=RunCounts)
    average_duration_ms: int | None = None


@dataclass(frozen=True, slots=True)
class JobFilters:
    enabled: bool | None = None
    module_id: str | None = None
    q: str | None = None


@dataclass(frozen=True, slots=True)
class TriggerView:
    type: str
    actor: str
    scheduled_for: datetime | None = None
    event_id: str | None = None
    catch_up: bool = False


@dataclass(frozen=True, slots=True)
class AttemptView:
    number: int
    worker: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None
    error: ErrorView | None
    duration_ms: int | None


@dataclass(frozen=True, slots=True)
class JobDefinitionSnapshot:
    """The definition an execution ran with."""

    module_id: str
    handler: str
    timeout: int
    retries: int
    config: Mapping[str, Any]
    job_version: int


@dataclass(frozen=True, slots=True)
class ExecutionView:
    id: UUID
    job_id: UUID
    job_name: str
    status: str
    trigger: TriggerView
    attempt: int
    max_attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    next_attempt_at: datetime | None
    result: Any
    error: ErrorView | None
    attempts: Sequence[AttemptView]
    cancel_requested: bool
    job: JobDefinitionSnapshot
    wait_for: UUID | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ExecutionFilters:
    status: str | None = None
    job_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class LogLine:
    seq: int
    execution_id: UUID
    attempt: int
    at: datetime
    level: str
    message: str
    fields: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class BusEventView:
    id: UUID
    name: str
    source: str
    payload: Mapping[str, Any]
    created_at: datetime
    position: int


@dataclass(frozen=True, slots=True)
class EventFilters:
    name: str | None = None
    source: str | None = None
    pattern: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class NameCount:
    name: str
    count: int


@dataclass(frozen=True, slots=True)
class MinuteCount:
    minute: datetime
    count: int


@dataclass(frozen=True, slots=True)
class EventStats:
    total: int
    last24h: int
    per_minute: Sequence[MinuteCount]
    top_events: Sequence[NameCount]
    top_sources: Sequence[NameCount]


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One line of an aggregate's audit trail: what happened, when, caused by whom."""

    type: str
    at: datetime
    actor: str | None
    data: Mapping[str, Any]
    version: int | None = None


@dataclass(frozen=True, slots=True)
class ModuleView:
    name: str
    version: str
    path: str
    enabled: bool
    jobs: Sequence[str]
    handlers: Sequence[str]


@dataclass(frozen=True, slots=True)
class Overview:
    """The dashboard's headline numbers."""

    pending: int
    running: int
    completed_last_hour: int
    failed_last_hour: int
    success_rate: float | None
    average_duration_ms: int | None
    events_last_minute: int
    workers: int
    worker_slots: int
    busy_slots: int


def job_definition(view: JobView) -> JobDefinition:
    """The definition a job view shows, as the domain's value."""
    return JobDefinition(
        name=view.name,
        module_id=view.module_id,
        handler=view.handler,
        description=view.description,
        schedule=view.schedule,
        timezone=view.timezone,
        timeout_ms=view.timeout,
        retry=RetryPolicy(
            view.retries, view.backoff.base_ms, view.backoff.max_ms, view.backoff.jitter
        ),
        config=dict(view.config),
        overlap=OverlapPolicy(view.overlap),
        misfire=MisfirePolicy(
            view.misfire.grace_ms, CatchUp(view.misfire.catch_up), view.misfire.limit
        ),
        triggers=tuple(view.triggers),
        webhooks=tuple(view.webhooks),
    )
