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
    scheduler_running,
    skip_records,
)
from tests.support.system import System
from tests.support.waiting import eventually

DOWNTIME = 30
PERIOD = timedelta(seconds=2)
# A grace well above a loaded machine's start-up delay, so only the downtime misfires: with
# one second, a restarted scheduler on a busy CI machine was late for its next tick too.
GRACE = timedelta(seconds=5)
LATE_FIRES = {CatchUp.NONE: 0, CatchUp.LATEST: 1, CatchUp.ALL: 5}


async def test_each_catch_up_policy_after_a_thirty_second_stop(
    runtime: Runtime, system: System
) -> None:
    system.start("projector")
    scheduler = system.start("scheduler")
    jobs = {
        policy: await scheduled_job(
            runtime,
            "*/2 * * * * *",
            misfire=MisfirePolicy(GRACE // timedelta(milliseconds=1), policy, limit=5),
        )
        for policy in CatchUp
    }
    await _until_each_fired(runtime, list(jobs.values()), since=datetime.now(UTC))
    scheduler.stop()
    await asyncio.sleep(DOWNTIME)
    system.start("scheduler")
    await scheduler_running(runtime)
    await _until_each_fired(runtime, list(jobs.values()), since=datetime.now(UTC) + PERIOD)

    requests = await scheduled_requests(runtime)
    fires = fires_by_job(requests)
    skips = {s.job_id: s for s in await skip_records(runtime) if s.reason is SkipReason.MISFIRE}
    for policy, job in jobs.items():
        skip = skips[job]
        before = [t for t in fires[job] if t < skip.first]
        after = [t for t in fires[job] if t > skip.last]
        assert skip.first == before[-1] + PERIOD  # the record starts right after the last run
        assert skip.count == (skip.last - skip.first) // PERIOD + 1  # and covers every one
        assert after[0] == skip.last + PERIOD  # runs resume right after it
        caught_up = [r for r in requests if r.trigger.catch_up and r.job.job_id == job]
        assert len(caught_up) == LATE_FIRES[policy]
        assert sorted(r.trigger.scheduled_for for r in caught_up) == after[: LATE_FIRES[policy]]
        assert skip.count >= (DOWNTIME - GRACE.seconds) // 2 - LATE_FIRES[policy] - 2


async def _until_each_fired(runtime: Runtime, jobs: list[object], since: datetime) -> None:
    async def check() -> bool:
        fires = fires_by_job(await scheduled_requests(runtime))
        return all(any(t > since for t in fires.get(job, [])) for job in jobs)  # type: ignore[call-overload]

    await eventually(check, timeout=20)
