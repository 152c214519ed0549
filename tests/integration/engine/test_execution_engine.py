"""The execution engine end to end: real worker processes, real Postgres and Redis."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.commands import RequestCancel
from application.executions import request_cancel
from domain.execution import Execution
from domain.execution_values import AttemptOutcome, ExecutionStatus
from domain.retry import RetryPolicy
from infrastructure.redis.keys import RedisKeys
from infrastructure.taskiq.broker import TaskiqCommandSender, build_broker
from interfaces.bootstrap.runtime import Runtime
from tests.integration.engine.conftest import finished, in_status, new_job, run_now
from tests.support.system import System

pytestmark = pytest.mark.usefixtures("worker")


async def test_a_handler_that_returns_completes_with_its_result_and_logs(runtime: Runtime) -> None:
    job_id = await new_job(runtime, "jobs/ok.py")

    done = await finished(runtime, await run_now(runtime, job_id, {"region": "eu"}))

    assert done.status is ExecutionStatus.COMPLETED
    assert done.result == {"ok": True, "config": {"region": "eu"}, "attempt": 1}
    logged = await runtime.pool.fetch(
        "SELECT level, message FROM execution_logs WHERE execution_id = $1", done.id
    )
    assert [(row["level"], row["message"]) for row in logged] == [("info", "running")]


async def test_a_plain_function_handler_runs_and_its_prints_become_log_lines(
    runtime: Runtime,
) -> None:
    job_id = await new_job(runtime, "jobs/sync_ok.py")

    done = await finished(runtime, await run_now(runtime, job_id))

    assert done.result == {"sync": True}
    messages = await runtime.pool.fetch(
        "SELECT message FROM execution_logs WHERE execution_id = $1", done.id
    )
    assert [row["message"] for row in messages] == ["hello from a plain function"]


async def test_a_failing_handler_records_its_error_type_message_and_stack(runtime: Runtime) -> None:
    job_id = await new_job(runtime, "jobs/fail.py")

    done = await finished(runtime, await run_now(runtime, job_id))

    assert done.status is ExecutionStatus.FAILED
    assert done.error is not None
    assert done.error.type == "SyncFailed"
    assert done.error.message == "upstream said no (attempt 1)"
    assert "raise SyncFailed" in done.error.stack


async def test_retries_wait_for_a_growing_backoff_capped_at_its_maximum(runtime: Runtime) -> None:
    policy = RetryPolicy(retries=3, base_ms=200, max_ms=400, jitter=False)
    job_id = await new_job(runtime, "jobs/flaky.py", retry=policy, config={"succeed_on": 4})

    execution_id = await run_now(runtime, job_id)
    done = await finished(runtime, execution_id)

    assert done.status is ExecutionStatus.COMPLETED
    assert done.result == {"succeeded_on": 4}
    history = await runtime.store.history(execution_id)
    failures = [change for change in history if change.type == "execution.attempt-failed"]
    delays = [_retry_at(change.data["retry_at"]) - change.at for change in failures]
    assert delays == [
        timedelta(milliseconds=200),
        timedelta(milliseconds=400),
        timedelta(milliseconds=400),
    ]
    starts = [c.at for c in history if c.type == "execution.attempt-started"]
    for failure, next_start, delay in zip(failures, starts[1:], delays, strict=True):
        assert next_start - failure.at >= delay


async def test_a_result_that_is_not_json_fails_the_attempt_clearly(runtime: Runtime) -> None:
    job_id = await new_job(runtime, "jobs/not_json.py")

    done = await finished(runtime, await run_now(runtime, job_id))

    assert done.status is ExecutionStatus.FAILED
    assert done.error is not None
    assert done.error.type == "TypeError"
    assert "not JSON-serialisable" in done.error.message


@pytest.mark.parametrize("handler", ["jobs/sleepy.py", "jobs/spin.py", "jobs/spin_async.py"])
async def test_a_handler_past_its_timeout_is_stopped_and_the_worker_keeps_serving(
    runtime: Runtime, handler: str
) -> None:
    job_id = await new_job(runtime, handler, timeout_ms=1000)

    timed_out = await finished(runtime, await run_now(runtime, job_id, {"seconds": 30}))
    later = await finished(runtime, await run_now(runtime, await new_job(runtime, "jobs/ok.py")))

    assert timed_out.status is ExecutionStatus.TIMEOUT
    assert timed_out.attempts[0].outcome is AttemptOutcome.TIMED_OUT
    assert later.status is ExecutionStatus.COMPLETED


async def test_cancelling_a_running_execution_stops_its_handler(runtime: Runtime) -> None:
    job_id = await new_job(runtime, "jobs/ignore_cancel.py", timeout_ms=60_000)
    execution_id = await run_now(runtime, job_id)
    await in_status(runtime, execution_id, "RUNNING")

    await request_cancel(RequestCancel(execution_id, "test"), runtime.deps)
    done = await finished(runtime, execution_id, timeout=10)

    assert done.status is ExecutionStatus.CANCELLED
    assert done.attempts[0].outcome is AttemptOutcome.CANCELLED


async def test_a_command_delivered_twice_runs_the_handler_once(runtime: Runtime) -> None:
    job_id = await new_job(runtime, "jobs/ok.py")
    execution_id = await run_now(runtime, job_id)
    broker = build_broker(str(runtime.redis_url), RedisKeys(runtime.settings.redis_prefix), 60_000)
    await broker.startup()
    try:
        sender = TaskiqCommandSender(broker)
        await sender.send_runs([(execution_id, 1), (execution_id, 1)])  # delivered twice
        done = await finished(runtime, execution_id)
    finally:
        await broker.shutdown()

    assert [attempt.number for attempt in done.attempts] == [1]
    runs = await runtime.pool.fetchval(
        "SELECT count(*) FROM execution_logs WHERE execution_id = $1", execution_id
    )
    assert runs == 1


def _retry_at(value: object) -> object:
    from datetime import datetime

    return datetime.fromisoformat(str(value))


async def _load(runtime: Runtime, execution_id: object) -> Execution:
    return await runtime.store.load(execution_id, Execution)  # type: ignore[arg-type]


del System
