"""The execution fold agrees with the Execution aggregate, and counts each run exactly once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import msgspec
import pytest

from domain.execution import Execution
from domain.execution_values import ErrorInfo, JobSnapshot, Trigger, TriggerType
from domain.retry import RetryPolicy
from infrastructure.readmodels.execution_fold import ExecutionFold

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BOOM = ErrorInfo("ValueError", "boom", "Traceback ...")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def requested(retries: int = 1) -> Execution:
    snapshot = JobSnapshot(
        uuid4(), "report", "reports", "jobs/report.py", 30_000, RetryPolicy(retries, jitter=False)
    )
    return Execution.request(uuid4(), snapshot, Trigger(TriggerType.MANUAL, "alice"), at=T0)


def completed(e: Execution) -> None:
    e.start_attempt(1, worker="w1", at=at(1))
    e.complete(1, {"rows": 3}, at=at(3))


def failed_then_completed(e: Execution) -> None:
    e.start_attempt(1, worker="w1", at=at(1))
    e.fail_attempt(1, BOOM, at=at(2), sample=0.5)
    e.start_attempt(2, worker="w2", at=at(4))
    e.complete(2, {"rows": 3}, at=at(5))


def retried_then_failed(e: Execution) -> None:
    e.start_attempt(1, worker="w1", at=at(1))
    e.fail_attempt(1, BOOM, at=at(2), sample=0.5)
    e.start_attempt(2, worker="w2", at=at(4))
    e.fail_attempt(2, BOOM, at=at(5), sample=0.5)


def timed_out(e: Execution) -> None:
    e.start_attempt(1, worker="w1", at=at(1))
    e.release_attempt(1, reason="shutdown", at=at(2))
    e.start_attempt(2, worker="w1", at=at(3))
    e.time_out(2, at=at(40), sample=0.5)
    e.start_attempt(3, worker="w1", at=at(41))
    e.time_out(3, at=at(80), sample=0.5)


def cancelled_while_running(e: Execution) -> None:
    e.start_attempt(1, worker="w1", at=at(1))
    e.request_cancel(actor="bob", at=at(2))
    e.confirm_cancelled(1, at=at(3))


def cancelled_while_pending(e: Execution) -> None:
    e.request_cancel(actor="bob", at=at(1))


def waiting_for_retry(e: Execution) -> None:
    e.start_attempt(1, worker="w1", at=at(1))
    e.fail_attempt(1, BOOM, at=at(2), sample=0.5)


SCENARIOS: dict[str, tuple[Callable[[Execution], None], str]] = {
    "completed": (completed, "completed"),
    "failed then completed": (failed_then_completed, "completed"),
    "retried then failed": (retried_then_failed, "failed"),
    "released then timed out": (timed_out, "timeout"),
    "cancelled while running": (cancelled_while_running, "cancelled"),
    "cancelled while pending": (cancelled_while_pending, "cancelled"),
    "waiting for a retry": (waiting_for_retry, ""),
}


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("split", [False, True], ids=["one batch", "one event per batch"])
def test_the_fold_ends_where_the_aggregate_ends(name: str, split: bool) -> None:
    scenario, bucket = SCENARIOS[name]
    execution = requested()
    scenario(execution)
    events = execution.collect_events()
    fold = ExecutionFold({})
    if split:  # a row written and read back between batches: through JSON, as in Postgres
        for event in events:
            fold.apply(event)
            fold.rows = {k: _through_json(v) for k, v in fold.rows.items()}
    else:
        for event in events:
            fold.apply(event)
    row = fold.rows[execution.id]
    assert row.status == execution.status.value
    assert row.next_attempt_at == execution.next_attempt_at
    assert row.cancel_requested == execution.cancel_requested
    assert row.result == execution.result
    assert row.finished_at == execution.finished_at
    assert row.error == (msgspec.to_builtins(execution.error) if execution.error else None)
    assert [a["outcome"] for a in row.attempts] == [
        None if a.outcome is None else a.outcome.value for a in execution.attempts
    ]
    assert [a["worker"] for a in row.attempts] == [a.worker for a in execution.attempts]
    runs = fold.close()[execution.job.job_id]
    if not split:
        assert runs.total == 1
        assert (getattr(runs, bucket) if bucket else 0) == (1 if bucket else 0)


def _through_json(row: Any) -> Any:
    row.attempts = msgspec.json.decode(msgspec.json.encode(row.attempts))
    return row


def test_a_duration_is_counted_only_for_runs_that_started() -> None:
    pending, running = requested(), requested()
    cancelled_while_pending(pending)
    completed(running)
    fold = ExecutionFold({})
    for event in [*pending.collect_events(), *running.collect_events()]:
        fold.apply(event)
    pending_runs = fold.close()[pending.job.job_id]
    assert (pending_runs.cancelled, pending_runs.duration_count) == (1, 0)
    running_runs = fold.runs[running.job.job_id]
    assert (running_runs.duration_sum_ms, running_runs.duration_count) == (2000, 1)
