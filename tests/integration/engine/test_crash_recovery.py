"""Workers that die, stop, or never get to run an execution."""

from __future__ import annotations

from application.commands import RequestCancel
from application.executions import request_cancel
from domain.execution_values import AttemptOutcome, ExecutionStatus
from domain.retry import RetryPolicy
from interfaces.bootstrap.runtime import Runtime
from tests.integration.engine.conftest import execution, finished, in_status, new_job, run_now
from tests.support.system import System


async def test_a_cancelled_pending_execution_never_starts(runtime: Runtime, engine: System) -> None:
    cancelled = await run_now(runtime, await new_job(runtime, "jobs/ok.py"))
    await request_cancel(RequestCancel(cancelled, "test"), runtime.deps)
    worker = engine.start("worker")
    try:
        later = await finished(
            runtime, await run_now(runtime, await new_job(runtime, "jobs/ok.py"))
        )
    finally:
        worker.stop()

    assert later.status is ExecutionStatus.COMPLETED
    current = await execution(runtime, cancelled)
    assert current.status is ExecutionStatus.CANCELLED
    assert current.attempts == []


async def test_the_attempt_of_a_killed_worker_is_recorded_as_lost_and_retried(
    runtime: Runtime, engine: System
) -> None:
    job_id = await new_job(
        runtime, "jobs/sleepy.py", timeout_ms=30_000, retry=RetryPolicy(retries=1, base_ms=100)
    )
    first_worker = engine.start("worker")
    execution_id = await run_now(runtime, job_id, {"seconds": 3})
    await in_status(runtime, execution_id, "RUNNING")

    first_worker.kill()
    second_worker = engine.start("worker")
    try:
        done = await finished(runtime, execution_id, timeout=40)
    finally:
        second_worker.stop()

    assert done.status is ExecutionStatus.COMPLETED
    lost, retried = done.attempts
    assert lost.outcome is AttemptOutcome.WORKER_LOST
    assert retried.outcome is AttemptOutcome.COMPLETED
    assert lost.worker != retried.worker


async def test_a_stopping_worker_hands_back_what_outlives_its_grace_period(
    runtime: Runtime, engine: System
) -> None:
    job_id = await new_job(runtime, "jobs/sleepy.py", timeout_ms=60_000)
    stopping = engine.start("worker")
    execution_id = await run_now(runtime, job_id, {"seconds": 30})
    await in_status(runtime, execution_id, "RUNNING")

    assert stopping.stop() == 0
    handed_back = await execution(runtime, execution_id)
    successor = engine.start("worker")
    try:
        await in_status(runtime, execution_id, "RUNNING")
    finally:
        successor.kill()

    assert handed_back.status is ExecutionStatus.PENDING
    assert handed_back.attempts[0].outcome is AttemptOutcome.RELEASED
    current = await execution(runtime, execution_id)
    assert [attempt.number for attempt in current.attempts] == [1, 2]
