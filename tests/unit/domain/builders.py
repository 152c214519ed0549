"""Small builders shared by the domain tests: instants, job definitions and snapshots."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.execution_values import JobSnapshot, Trigger, TriggerType
from domain.job_definition import JobDefinition
from domain.retry import RetryPolicy

T0 = datetime(2026, 1, 7, 10, 0, tzinfo=UTC)
JOB_ID = UUID("3f0b8a61-6f0e-4a43-9d0c-8b8a2f1f6c11")
EXECUTION_ID = UUID("a1d6c0de-2b7c-4f5e-8a1b-3c9d4e5f6a70")
MANUAL = Trigger(TriggerType.MANUAL, actor="alice")


def at(seconds: float) -> datetime:
    """The instant `seconds` after T0."""
    return T0 + timedelta(seconds=seconds)


def snapshot(
    *,
    retries: int = 3,
    base_ms: int = 1000,
    max_ms: int = 300_000,
    jitter: bool = False,
    timeout_ms: int = 30_000,
) -> JobSnapshot:
    return JobSnapshot(
        job_id=JOB_ID,
        job_name="nightly-report",
        module_id="reports",
        handler="jobs/report.py",
        timeout_ms=timeout_ms,
        retry=RetryPolicy(retries=retries, base_ms=base_ms, max_ms=max_ms, jitter=jitter),
        config={"recipients": ["ops@example.com"]},
        job_version=4,
    )


def definition(**changes: Any) -> JobDefinition:
    fields: dict[str, Any] = {
        "name": "nightly-report",
        "module_id": "reports",
        "handler": "jobs/report.py",
        "description": "Mails the nightly report",
        "schedule": "0 2 * * *",
        "timezone": "Europe/Berlin",
    }
    fields.update(changes)
    return JobDefinition(**fields)


def topics_of(events: Iterable[Any]) -> list[str]:
    """The TOPIC of each event: what the store writes in the event's row."""
    return [event.TOPIC for event in events]


def recorded_topics(aggregate: Aggregate) -> list[str]:
    """The topics of the events an aggregate recorded since they were last collected."""
    return topics_of(aggregate.collect_events())
