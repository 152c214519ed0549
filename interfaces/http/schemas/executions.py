"""Execution bodies: status, trigger, attempts, result, error and the job snapshot."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec


class TriggerResponse(msgspec.Struct, rename="camel"):
    type: str
    actor: str
    scheduled_for: datetime | None = None
    event_id: str | None = None
    catch_up: bool = False  # fired after its grace had passed, by the job's misfire policy


class ErrorResponse(msgspec.Struct, rename="camel"):
    type: str
    message: str
    stack: str = ""


class AttemptResponse(msgspec.Struct, rename="camel"):
    number: int
    worker: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None
    error: ErrorResponse | None
    duration_ms: int | None


class JobSnapshotResponse(msgspec.Struct, rename="camel"):
    """The job definition this execution runs with."""

    module_id: str
    handler: str
    timeout: int
    retries: int
    config: dict[str, Any]
    job_version: int


class ExecutionResponse(msgspec.Struct, rename="camel"):
    id: UUID
    job_id: UUID
    job_name: str
    status: str
    trigger: TriggerResponse
    attempt: int
    max_attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    next_attempt_at: datetime | None
    result: Any
    error: ErrorResponse | None
    attempts: list[AttemptResponse]
    cancel_requested: bool
    job: JobSnapshotResponse
    wait_for: UUID | None = None
    updated_at: datetime | None = None


class ExecutionPage(msgspec.Struct, rename="camel"):
    items: list[ExecutionResponse]
    next_cursor: str | None


class LogLineResponse(msgspec.Struct, rename="camel"):
    seq: int
    execution_id: UUID
    attempt: int
    at: datetime
    level: str
    message: str
    fields: dict[str, Any]


class LogPage(msgspec.Struct, rename="camel"):
    """Lines in seq order; pass `nextCursor` back as `cursor` for the next page."""

    items: list[LogLineResponse]
    next_cursor: str | None
