"""Overlap policies, retries across a full restart, and event triggers."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime

from application.bus import emit_event
from application.commands import EmitEvent, ExecuteJob
from application.jobs import execute_job
from domain.execution import Execution
from domain.execution_values import ExecutionStatus, TriggerType
from domain.job_definition import OverlapPolicy
from domain.retry import RetryPolicy
from domain.skipped_occurrences import SkipReason
from interfaces.bootstrap.runtime import Runtime
from tests.integration.scheduler.conftest import (
    _stored,
    scheduled_job,
    scheduler_running,
    skip_records,
)
from tests.support.system import System
from tests.support.waiting import eventually


async def runs_of(runtime: Runtime, job_id: object) -> list[Execution]:
    requested = [e for e in await _stored(runtime, "execution.requested") if e.job.job_id == job_id]
    return [await runtime.store.load(e.originator_id, Execution) for e in requested]


def intervals(executions: list[Execution]) -> list[tuple[datetime, datetime]]:
    spans = []
    for execution in executions:
        for attempt in execution.attempts:
            spans.append((attempt.started_at, attempt.finished_at or datetime.now(UTC)))
    return sorted(spans)


def overlapping(spans: list[tuple[datetime, datetime]]) -> bool:
    return any(later[0] < earlier[1] for earlier, later in itertools.pairwise(spans))


async def test_overlap_policies_skip_queue_and_allow(runtime: Runtime, system: System) -> None:
    system.start("projector")
    system.start("scheduler")
    system.start("worker", JOB_WORKER_CONCURRENCY="6")
    jobs = {
        policy: await scheduled_job(
            runtime,
            "* * * * * *",
            handler="jobs/sleepy.py",
            config={"seconds": 2.5},
            overlap=policy,
        )
        for policy in OverlapPolicy
    }

    async def what_each_policy_showed() -> dict[str, bool]:
        """Runs overlapped under ALLOW, and SKIP and QUEUE each held one back."""
        skipped = {s.job_id for s in await skip_records(runtime) if s.reason is SkipReason.OVERLAP}
        queue = await runs_of(runtime, jobs[OverlapPolicy.QUEUE])
        allowed = await runs_of(runtime, jobs[OverlapPolicy.ALLOW])
        return {
            "skip skipped": jobs[OverlapPolicy.SKIP] in skipped,
            "queue skipped": jobs[OverlapPolicy.QUEUE] in skipped,
            "queue queued": any(run.wait_for is not None for run in queue),
            "allow overlapped": overlapping(intervals(allowed)),
        }

    shown: dict[str, bool] = {}

    async def each_policy_showed() -> bool:
        shown.update(await what_each_policy_showed())
        return all(shown.values())

    try:
        await eventually(each_policy_showed, timeout=60)
    except AssertionError:
        raise AssertionError(f"not every policy showed within 60 s: {shown}") from None
    system.close()

    skips = [s for s in await skip_records(runtime) if s.reason is SkipReason.OVERLAP]
    skipped = {policy: [s for s in skips if s.job_id == job] for policy, job in jobs.items()}
    runs = {policy: await runs_of(runtime, job) for policy, job in jobs.items()}
    assert skipped[OverlapPolicy.ALLOW] == []
    assert overlapping(intervals(runs[OverlapPolicy.ALLOW]))
    assert skipped[OverlapPolicy.SKIP]
    assert not overlapping(intervals(runs[OverlapPolicy.SKIP]))
    assert skipped[OverlapPolicy.QUEUE]
    assert not overlapping(intervals(runs[OverlapPolicy.QUEUE]))
    queued = [run for run in runs[OverlapPolicy.QUEUE] if run.wait_for is not None]
    assert queued
    finished = {
        r.id: r.finished_at or datetime.max.replace(tzinfo=UTC) for r in runs[OverlapPolicy.QUEUE]
    }
    waiting_at_once = max(
        sum(1 for r in queued if r.created_on <= moment < finished[r.wait_for])  # type: ignore[index]
        for moment in [r.created_on for r in queued]
    )
    assert waiting_at_once == 1


async def test_a_retry_due_while_every_process_was_down_runs_after_restart(
    runtime: Runtime, system: System
) -> None:
    roles = [system.start(name) for name in ("projector", "scheduler", "worker")]
    job_id = await scheduled_job(
        runtime,
        "0 0 1 1 *",
        handler="jobs/flaky.py",
        config={"succeed_on": 2},
        retry=RetryPolicy(retries=1, base_ms=4000, jitter=False),
    )
    execution_id = (await execute_job(ExecuteJob(job_id, "test"), runtime.deps)).value.id

    async def failed_once() -> Execution | None:
        current = await runtime.store.load(execution_id, Execution)
        return current if current.next_attempt_at and current.attempts else None

    waiting = await eventually(failed_once)
    for role in roles:
        role.stop()
    assert waiting.next_attempt_at is not None
    while datetime.now(UTC) < waiting.next_attempt_at:
        await asyncio.sleep(0.2)
    for name in ("projector", "scheduler", "worker"):
        system.start(name)

    async def completed() -> Execution | None:
        current = await runtime.store.load(execution_id, Execution)
        return current if current.status is ExecutionStatus.COMPLETED else None

    done = await eventually(completed, timeout=30)
    assert done.attempts[1].started_at >= waiting.next_attempt_at


async def test_an_event_runs_each_triggered_job_once_even_when_relayed_again(
    runtime: Runtime, system: System
) -> None:
    system.start("projector")
    scheduler = system.start("scheduler")
    await scheduler_running(runtime)
    job_id = await scheduled_job(runtime, "0 0 1 1 *", triggers=("orders.*",))
    events = [
        (await emit_event(EmitEvent(name, {"n": n}, "shop"), runtime.deps)).value.id
        for n, name in enumerate(
            ["orders.placed", "orders.paid", "users.created", "orders.shipped"]
        )
    ]

    async def triggered() -> list[Execution]:
        runs = [r for r in await runs_of(runtime, job_id) if r.trigger.type is TriggerType.EVENT]
        return runs if len(runs) >= 3 else []

    await eventually(triggered)
    scheduler.stop()
    await runtime.pool.execute("UPDATE almanac_positions SET position = 0 WHERE name = 'triggers'")
    system.start("scheduler")
    head = await runtime.store.head()

    async def replayed() -> bool:
        position = await runtime.pool.fetchval(
            "SELECT position FROM almanac_positions WHERE name = 'triggers'"
        )
        return bool(position and position >= head)

    await eventually(replayed, timeout=60)  # a restarting scheduler first waits for read models
    runs = [r for r in await runs_of(runtime, job_id) if r.trigger.type is TriggerType.EVENT]
    assert sorted(r.trigger.event_id for r in runs) == sorted(
        str(event) for event in (events[0], events[1], events[3])
    )
    assert all(r.event is not None and r.event["name"].startswith("orders.") for r in runs)
