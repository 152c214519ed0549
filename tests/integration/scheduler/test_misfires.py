"""After every scheduler was stopped, missed occurrences follow each job's misfire policy."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from domain.job_definition import CatchUp, MisfirePolicy
from domain.skipped_occurrences import SkipReason
from interfaces.bootstrap.runtime import Runtime
from tests.integration.scheduler.conftest import (
    fires_by_job,
    scheduled_job,
    scheduled_requests,
    skip_records,
)
from tests.support.system import System
from tests.support.waiting import eventually

DOWNTIME = 30


async def test_each_catch_up_policy_after_a_thirty_second_stop(
    runtime: Runtime, system: System
) -> None:
    system.start("projector")
    scheduler = system.start("scheduler")
    jobs = {
        policy: await scheduled_job(
            runtime, "*/2 * * * * *", misfire=MisfirePolicy(1000, policy, limit=5)
        )
        for policy in CatchUp
    }
    await _until_each_fired(runtime, list(jobs.values()), since=datetime.now(UTC))
    scheduler.stop()
    stopped_at = datetime.now(UTC)
    await asyncio.sleep(DOWNTIME)
    system.start("scheduler")
    back_at = datetime.now(UTC)
    await _until_each_fired(runtime, list(jobs.values()), since=back_at + timedelta(seconds=2))

    fires = fires_by_job(await scheduled_requests(runtime))
    skips = {s.job_id: s for s in await skip_records(runtime) if s.reason is SkipReason.MISFIRE}
    gap = (stopped_at + timedelta(seconds=2), back_at - timedelta(seconds=1))
    missed = list(_even_seconds(*gap))
    in_gap = {
        policy: [t for t in fires[job] if gap[0] <= t <= gap[1]] for policy, job in jobs.items()
    }

    assert in_gap[CatchUp.NONE] == []
    assert in_gap[CatchUp.LATEST] == [missed[-1]]
    assert in_gap[CatchUp.ALL] == missed[-5:]
    assert skips[jobs[CatchUp.NONE]].count >= len(missed)
    assert skips[jobs[CatchUp.LATEST]].last == missed[-2]
    assert skips[jobs[CatchUp.ALL]].last == missed[-6]


async def _until_each_fired(runtime: Runtime, jobs: list[object], since: datetime) -> None:
    async def check() -> bool:
        fires = fires_by_job(await scheduled_requests(runtime))
        return all(any(t > since for t in fires.get(job, [])) for job in jobs)  # type: ignore[call-overload]

    await eventually(check, timeout=20)


def _even_seconds(start: datetime, end: datetime) -> list[datetime]:
    moment = start.replace(microsecond=0) + timedelta(seconds=start.second % 2)
    instants = []
    while moment <= end:
        if moment > start:
            instants.append(moment)
        moment += timedelta(seconds=2)
    return instants
