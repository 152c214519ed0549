"""Views and aggregates to response bodies; read-your-writes after each command."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate

from application.results import Outcome
from application.views import (
    AttemptView,
    BackoffView,
    BusEventView,
    ErrorView,
    ExecutionView,
    HistoryEntry,
    JobDefinitionSnapshot,
    JobView,
    MisfireView,
    TriggerView,
)
from application.wire import camelize
from domain.bus_event import BusEvent
from domain.execution import Execution
from domain.execution_values import Attempt, ErrorInfo
from domain.job import Job
from interfaces.http.schemas.common import HistoryEntryResponse, HistoryResponse
from interfaces.http.schemas.executions import ExecutionResponse
from interfaces.http.schemas.jobs import JobResponse
from interfaces.http.services import ApiServices


async def caught_up(services: ApiServices, position: int) -> None:
    """Hold the answer until the read models show this command (skip when nothing changed)."""
    if position > 0:
        await services.sync.wait_for(position)


async def view_after[A: Aggregate, V](
    services: ApiServices,
    outcome: Outcome[A],
    read: Callable[[UUID], Awaitable[V | None]],
    written: Callable[[A], V],
) -> V:
    """The changed aggregate as the next GET will show it; as the write side knows it when
    the read model lags beyond the wait."""
    await caught_up(services, outcome.position)
    view = await read(outcome.value.id)
    return view if view is not None else written(outcome.value)


async def created_view[A: Aggregate, V](
    services: ApiServices, outcome: Outcome[A], written: Callable[[A], V]
) -> V:
    """A new aggregate as its command wrote it, answered once the read models show it (so
    the next GET finds it); reading the row back would cost a query and tell nothing more."""
    await caught_up(services, outcome.position)
    return written(outcome.value)


def job_body(view: JobView) -> JobResponse:
    return msgspec.convert(view, JobResponse, from_attributes=True)


def execution_body(view: ExecutionView) -> ExecutionResponse:
    return msgspec.convert(view, ExecutionResponse, from_attributes=True)


def job_view(job: Job) -> JobView:
    """The job as the write side knows it, shaped as the read model shows it."""
    d = job.definition
    cron = d.cron
    return JobView(
        id=job.id,
        name=d.name,
        description=d.description,
        module_id=d.module_id,
        handler=d.handler,
        schedule=d.schedule,
        timezone=d.timezone,
        enabled=job.enabled,
        timeout=d.timeout_ms,
        retries=d.retry.retries,
        backoff=BackoffView(d.retry.base_ms, d.retry.max_ms, d.retry.jitter),
        config=dict(d.config),
        overlap=d.overlap.value,
        misfire=MisfireView(d.misfire.grace_ms, d.misfire.catch_up.value, d.misfire.limit),
        triggers=list(d.triggers),
        webhooks=list(d.webhooks),
        version=job.version,
        created_at=job.created_on,
        updated_at=job.modified_on,
        next_run_at=cron.next_after(datetime.now(UTC)) if cron and job.enabled else None,
        last_execution=None,
    )


def history_body(entries: Sequence[HistoryEntry]) -> HistoryResponse:
    return HistoryResponse(
        [
            HistoryEntryResponse(
                type=entry.type,
                at=entry.at,
                actor=entry.actor,
                version=entry.version,
                data=camelize(dict(entry.data)),
            )
            for entry in entries
        ]
    )


def event_view(event: BusEvent, position: int) -> BusEventView:
    """The event as the write side knows it, at the store position its command reached."""
    return BusEventView(
        event.id, event.name, event.source, event.payload, event.created_on, position
    )


def execution_view(execution: Execution) -> ExecutionView:
    """The execution as the write side knows it, shaped as the read model shows it."""
    attempts = [_attempt(attempt) for attempt in execution.attempts]
    started = execution.attempts[0].started_at if execution.attempts else None
    job = execution.job
    trigger = execution.trigger
    return ExecutionView(
        id=execution.id,
        job_id=job.job_id,
        job_name=job.job_name,
        status=execution.status.value,
        trigger=TriggerView(
            trigger.type.value,
            trigger.actor,
            trigger.scheduled_for,
            trigger.event_id,
            trigger.catch_up,
        ),
        attempt=len(execution.attempts),
        max_attempts=job.retry.max_attempts,
        created_at=execution.created_on,
        started_at=started,
        finished_at=execution.finished_at,
        duration_ms=_ms(started, execution.finished_at),
        next_attempt_at=execution.next_attempt_at,
        result=execution.result,
        error=_error(execution.error),
        attempts=attempts,
        cancel_requested=execution.cancel_requested,
        job=JobDefinitionSnapshot(
            job.module_id,
            job.handler,
            job.timeout_ms,
            job.retry.retries,
            dict(job.config),
            job.job_version,
        ),
        wait_for=execution.wait_for,
        updated_at=execution.modified_on,
    )


def _attempt(attempt: Attempt) -> AttemptView:
    return AttemptView(
        number=attempt.number,
        worker=attempt.worker,
        started_at=attempt.started_at,
        finished_at=attempt.finished_at,
        outcome=attempt.outcome.value if attempt.outcome else None,
        error=_error(attempt.error),
        duration_ms=_ms(attempt.started_at, attempt.finished_at),
    )


def _error(error: ErrorInfo | None) -> ErrorView | None:
    return None if error is None else ErrorView(error.type, error.message, error.stack)


def _ms(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return int((end - start).total_seconds() * 1000)
