"""Commands: what callers ask of the write side. Imperative names, frozen, primitive-free."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.execution_values import ErrorInfo
from domain.job_definition import JobDefinition
from domain.module import ModuleManifest
from domain.skipped_occurrences import SkipReason


@dataclass(frozen=True, slots=True)
class CreateJob:
    definition: JobDefinition
    actor: str
    enabled: bool = True
    job_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class UpdateJob:
    """`changes` holds only the fields the caller sent; the rest stay as they are."""

    job_id: UUID
    changes: Mapping[str, Any]
    actor: str
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class EnableJob:
    job_id: UUID
    actor: str
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class DisableJob:
    job_id: UUID
    actor: str
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class DeleteJob:
    job_id: UUID
    actor: str
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class ExecuteJob:
    """Run a job now; `config` is merged over the job's own config for this run only."""

    job_id: UUID
    actor: str
    config: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class StartAttempt:
    execution_id: UUID
    attempt: int
    worker: str


@dataclass(frozen=True, slots=True)
class CompleteAttempt:
    execution_id: UUID
    attempt: int
    result: Any


@dataclass(frozen=True, slots=True)
class FailAttempt:
    execution_id: UUID
    attempt: int
    error: ErrorInfo


@dataclass(frozen=True, slots=True)
class TimeOutAttempt:
    execution_id: UUID
    attempt: int


@dataclass(frozen=True, slots=True)
class ReportWorkerLost:
    execution_id: UUID
    attempt: int
    worker: str


@dataclass(frozen=True, slots=True)
class ReleaseAttempt:
    execution_id: UUID
    attempt: int
    reason: str


@dataclass(frozen=True, slots=True)
class RequestCancel:
    execution_id: UUID
    actor: str


@dataclass(frozen=True, slots=True)
class ConfirmCancelled:
    execution_id: UUID
    attempt: int


@dataclass(frozen=True, slots=True)
class RequestScheduledExecution:
    """Fire one occurrence; `wait_for` holds it back until that execution has finished;
    `catch_up` marks an occurrence run after its grace, by the misfire policy."""

    job_id: UUID
    instant: datetime
    wait_for: UUID | None = None
    catch_up: bool = False


@dataclass(frozen=True, slots=True)
class RequestEventExecution:
    job_id: UUID
    event: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class RecordSkippedOccurrences:
    """`instants` lists the skipped occurrences, or just the first and last with `count`."""

    job_id: UUID
    reason: SkipReason
    instants: list[datetime]
    count: int | None = None
    estimated: bool = False


@dataclass(frozen=True, slots=True)
class EmitEvent:
    name: str
    payload: Mapping[str, Any]
    source: str


@dataclass(frozen=True, slots=True)
class RegisterModule:
    """Register or update a module and create, update or delete the jobs its manifest declares."""

    manifest: ModuleManifest
    jobs: tuple[JobDefinition, ...]
    actor: str


@dataclass(frozen=True, slots=True)
class EnableModule:
    name: str
    actor: str


@dataclass(frozen=True, slots=True)
class DisableModule:
    name: str
    actor: str
