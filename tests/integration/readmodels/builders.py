"""Builders for read-model tests: jobs and runs through the real aggregates, projection helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import asyncpg

from application.jobs import snapshot_of
from domain.execution import Execution
from domain.execution_values import ErrorInfo, Trigger, TriggerType
from domain.job import Job, new_job_id
from domain.job_definition import CatchUp, JobDefinition, MisfirePolicy, OverlapPolicy
from domain.retry import RetryPolicy
from infrastructure.readmodels.registry import PROJECTIONS
from infrastructure.readmodels.runner import ProjectionRunner

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BOOM = ErrorInfo("ValueError", "boom", "Traceback (most recent call last): ...")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def definition(name: str = "nightly-report", **changes: Any) -> JobDefinition:
    fields: dict[str, Any] = {
        "name": name,
        "module_id": "reports",
        "handler": "jobs/report.py",
        "description": "Mails the nightly report",
        "schedule": "0 2 * * *",
        "timezone": "Europe/Berlin",
        "timeout_ms": 30_000,
        "retry": RetryPolicy(retries=2, base_ms=500, max_ms=4000, jitter=False),
        "config": {"recipients": ["ops@example.com"], "nested": {"k": [1, 2]}},
        "overlap": OverlapPolicy.SKIP,
        "misfire": MisfirePolicy(grace_ms=5000, catch_up=CatchUp.ALL, limit=7),
        "triggers": ("order.*",),
        "webhooks": ("https://hooks.example.com/x",),
    }
    fields.update(changes)
    return JobDefinition(**fields)


def new_job(name: str = "nightly-report", *, enabled: bool = True, **changes: Any) -> Job:
    return Job.create(
        new_job_id(), definition(name, **changes), enabled=enabled, actor="alice", at=T0
    )


def request(job: Job, seconds: float = 0.0, actor: str = "alice") -> Execution:
    trigger = Trigger(TriggerType.MANUAL, actor)
    return Execution.request(uuid4(), snapshot_of(job), trigger, at=at(seconds))


def complete(execution: Execution, start: float, seconds: float, result: Any = None) -> None:
    execution.start_attempt(execution.next_attempt_number, worker="w1", at=at(start))
    execution.complete(execution.next_attempt_number - 1, result, at=at(start + seconds))


def fail_once(execution: Execution, start: float) -> None:
    execution.start_attempt(execution.next_attempt_number, worker="w1", at=at(start))
    execution.fail_attempt(execution.next_attempt_number - 1, BOOM, at=at(start + 1), sample=0.5)


async def project(pool: asyncpg.Pool, batch_size: int = 500) -> None:
    """Run every projection up to the store's head, in this process."""
    for kind in PROJECTIONS:
        await ProjectionRunner(pool, kind(), batch_size=batch_size).catch_up()


READ_MODEL_TABLES = {
    "rm_jobs": "id",
    "rm_executions": "id",
    "rm_job_runs": "job_id",
    "rm_events": "position",
    "rm_event_counts": "kind, key",
    "rm_event_minutes": "minute",
    "rm_skipped_occurrences": "id",
    "rm_modules": "id",
}


async def contents(pool: asyncpg.Pool) -> dict[str, list[tuple[Any, ...]]]:
    """Every read-model row, ordered by key: two equal results mean identical read models."""
    found = {}
    for table, key in READ_MODEL_TABLES.items():
        rows = await pool.fetch(f"SELECT * FROM {table} ORDER BY {key}")
        found[table] = [tuple(row) for row in rows]
    return found
