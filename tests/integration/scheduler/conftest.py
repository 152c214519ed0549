"""Scheduler processes over a database of their own, and ways to read what they decided."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from application.commands import CreateJob
from application.jobs import create_job
from domain.execution import Execution
from domain.job_definition import JobDefinition
from domain.retry import RetryPolicy
from domain.skipped_occurrences import SkippedOccurrences
from infrastructure.eventstore.mapper import decode_event
from infrastructure.settings import Settings
from interfaces.bootstrap.runtime import Runtime, open_runtime
from tests.support.databases import own_settings
from tests.support.system import System
from tests.support.waiting import eventually


@pytest.fixture
def scheduler_settings(servers: tuple[str, str], tmp_path: Path) -> Iterator[Settings]:
    with own_settings(
        servers, tmp_path, "sched", lease_timeout_ms=3000, shutdown_grace_ms=2000
    ) as settings:
        yield settings


@pytest.fixture
def system(scheduler_settings: Settings) -> Iterator[System]:
    system = System(scheduler_settings)
    yield system
    system.close()


@pytest.fixture
async def runtime(scheduler_settings: Settings) -> AsyncIterator[Runtime]:
    async with open_runtime(scheduler_settings, pool_size=3, store_threads=4) as opened:
        yield opened


async def scheduled_job(runtime: Runtime, schedule: str, **changes: Any) -> UUID:
    definition = JobDefinition(
        name=f"every-{uuid.uuid4().hex[:6]}",
        module_id="engine",
        handler=changes.pop("handler", "jobs/ok.py"),
        schedule=schedule,
        timeout_ms=changes.pop("timeout_ms", 10_000),
        retry=changes.pop("retry", RetryPolicy(retries=0)),
    )
    outcome = await create_job(
        CreateJob(replace(definition, **changes), actor="test"), runtime.deps
    )
    return outcome.value.id


async def scheduled_requests(runtime: Runtime) -> list[Execution.Created]:
    """Every scheduled execution request in the store."""
    return [e for e in await _stored(runtime, "execution.requested") if e.trigger.scheduled_for]


async def skip_records(runtime: Runtime) -> list[SkippedOccurrences.Created]:
    return list(await _stored(runtime, "job.occurrences-skipped"))


def fires_by_job(requests: list[Execution.Created]) -> dict[UUID, list[datetime]]:
    fires: dict[UUID, list[datetime]] = {}
    for request in requests:
        fires.setdefault(request.job.job_id, []).append(request.trigger.scheduled_for)
    return {job: sorted(instants) for job, instants in fires.items()}


def duplicates(requests: list[Execution.Created]) -> list[tuple[UUID, datetime]]:
    counts = Counter((r.job.job_id, r.trigger.scheduled_for) for r in requests)
    return [key for key, count in counts.items() if count > 1]


async def _stored(runtime: Runtime, topic: str) -> list[Any]:
    rows = await runtime.pool.fetch(
        "SELECT originator_id, originator_version, topic, state FROM almanac_events "
        "WHERE topic = $1 ORDER BY notification_id",
        topic,
    )
    return [
        decode_event(r["topic"], bytes(r["state"]), r["originator_id"], r["originator_version"])
        for r in rows
    ]


async def scheduler_running(runtime: Runtime, replicas: int = 1) -> None:
    """Until `replicas` schedulers have joined (their job directory is loaded by then)."""

    async def joined() -> bool:
        live = await runtime.pool.fetchval(
            "SELECT count(*) FROM scheduler_members WHERE last_seen > now() - interval '3 s'"
        )
        return bool(live >= replicas)

    await eventually(joined, timeout=60)
