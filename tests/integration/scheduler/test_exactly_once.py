"""Any number of scheduler replicas fire each occurrence exactly once, none missing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from interfaces.bootstrap.runtime import Runtime
from tests.integration.scheduler.conftest import (
    duplicates,
    fires_by_job,
    scheduled_job,
    scheduled_requests,
)
from tests.support.system import System

JOBS = 50
RUN_SECONDS = 60


async def test_three_replicas_fire_every_occurrence_exactly_once_even_when_one_dies(
    runtime: Runtime, system: System
) -> None:
    system.start("projector")
    replicas = [system.start("scheduler") for _ in range(3)]
    jobs = [await scheduled_job(runtime, "* * * * * *") for _ in range(JOBS)]
    created = datetime.now(UTC)

    await asyncio.sleep(RUN_SECONDS / 3)
    replicas[0].kill()  # its jobs move to the survivors, late but within the grace period
    await asyncio.sleep(RUN_SECONDS * 2 / 3)
    checked_until = datetime.now(UTC) - timedelta(seconds=3)
    for replica in replicas[1:]:
        replica.stop()

    requests = await scheduled_requests(runtime)
    assert duplicates(requests) == []
    fires = fires_by_job(requests)
    assert set(fires) == set(jobs)
    for job in jobs:
        expected = _every_second(created, checked_until)
        assert [t for t in fires[job] if t <= checked_until][-len(expected) :] == expected


def _every_second(after: datetime, until: datetime) -> list[datetime]:
    first = after.replace(microsecond=0) + timedelta(seconds=2)
    count = int((until - first).total_seconds()) + 1
    return [first + timedelta(seconds=n) for n in range(count)]
