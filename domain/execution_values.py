"""Values recorded on an execution: status, trigger, job snapshot, attempts and errors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from domain.retry import RetryPolicy


class ExecutionStatus(StrEnum):
    """Exactly one of six; the last four are terminal."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    TIMEOUT = "TIMEOUT"
    CANCELLED = "CANCELLED"

    @property
    def is_terminal(self) -> bool:
        return self not in (ExecutionStatus.PENDING, ExecutionStatus.RUNNING)


class TriggerType(StrEnum):
    MANUAL = "manual"
    SCHEDULE = "schedule"
    EVENT = "event"


class AttemptOutcome(StrEnum):
    """How an attempt ended. `released` attempts were handed back and do not use up a retry."""

    COMPLETED = "completed"
    FAILED = "failed"
    TIMED_OUT = "timed-out"
    WORKER_LOST = "worker-lost"
    CANCELLED = "cancelled"
    RELEASED = "released"


@dataclass(frozen=True, slots=True)
class Trigger:
    """Why an execution exists: who or what asked for it, and for which instant or event."""

    type: TriggerType
    actor: str
    scheduled_for: datetime | None = None
    event_id: str | None = None
    catch_up: bool = False  # a scheduled run fired after its grace, by the misfire policy


@dataclass(frozen=True, slots=True)
class JobSnapshot:
    """The job definition an execution runs with, frozen when it was requested."""

    job_id: UUID
    job_name: str
    module_id: str
    handler: str
    timeout_ms: int
    retry: RetryPolicy
    config: Mapping[str, Any] = field(default_factory=dict)
    job_version: int = 1
    webhooks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """An error as users see it: its type, message and stack trace."""

    type: str
    message: str
    stack: str = ""


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try at running the handler, on one worker."""

    number: int
    worker: str
    started_at: datetime
    finished_at: datetime | None = None
    outcome: AttemptOutcome | None = None
    error: ErrorInfo | None = None

    @property
    def counts_against_retries(self) -> bool:
        return self.outcome is not AttemptOutcome.RELEASED


OCCURRENCE_NAMESPACE = UUID("0b5f6c9e-43a4-4df8-8c57-1e2f9c7b3d02")


def occurrence_id(job_id: UUID, instant: datetime) -> UUID:
    """One id per scheduled occurrence of a job: its execution or its skip record, never both."""
    utc = instant.astimezone(UTC)
    return uuid5(job_id, "at:" + utc.isoformat(timespec="microseconds"))


def event_execution_id(job_id: UUID, event_id: str) -> UUID:
    """One execution per job and triggering event, however often the event is delivered."""
    return uuid5(job_id, "event:" + event_id)
