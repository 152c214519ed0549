from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from application.dispatcher import Dispatcher
from domain.execution import Execution
from domain.execution_values import ErrorInfo, JobSnapshot, Trigger, TriggerType
from domain.retry import RetryPolicy
from tests.unit.http.fakes import ManualClock

T0 = datetime(2026, 6, 1, 12, tzinfo=UTC)


class Sent:
    def __init__(self) -> None:
        self.runs: list[tuple[UUID, int]] = []

    async def send_runs(self, runs: list[tuple[UUID, int]]) -> None:
        self.runs.extend(runs)


def requested(wait_for: UUID | None = None) -> Execution:
    snapshot = JobSnapshot(uuid4(), "j", "m", "a.py", 1000, RetryPolicy(retries=2, jitter=False))
    return Execution.request(
        uuid4(), snapshot, Trigger(TriggerType.MANUAL, "t"), at=T0, wait_for=wait_for
    )


def make() -> tuple[Dispatcher, Sent, ManualClock]:
    sent, clock = Sent(), ManualClock(T0)
    return Dispatcher(sent, clock), sent, clock


async def test_a_new_execution_is_sent_at_once_as_attempt_one() -> None:
    dispatcher, sent, _ = make()
    execution = requested()
    for event in execution.collect_events():
        dispatcher.observe(event)

    await dispatcher.send_due()

    assert sent.runs == [(execution.id, 1)]


async def test_a_retry_is_sent_only_when_its_time_comes() -> None:
    dispatcher, sent, clock = make()
    execution = requested()
    execution.start_attempt(1, worker="w", at=T0)
    execution.fail_attempt(1, ErrorInfo("E", "x"), at=T0, sample=0.5)
    events = execution.collect_events()
    for event in events:
        dispatcher.observe(event)
    await dispatcher.send_due()
    sent.runs.clear()

    await dispatcher.send_due()
    assert sent.runs == []
    clock.at = execution.next_attempt_at or T0
    await dispatcher.send_due()
    assert sent.runs == [(execution.id, 2)]


async def test_a_queued_execution_waits_for_its_predecessor_to_finish() -> None:
    dispatcher, sent, _ = make()
    first = requested()
    second = requested(wait_for=first.id)
    for event in [*first.collect_events(), *second.collect_events()]:
        dispatcher.observe(event)
    await dispatcher.send_due()
    assert sent.runs == [(first.id, 1)]

    first.start_attempt(1, worker="w", at=T0)
    first.complete(1, None, at=T0 + timedelta(seconds=1))
    for event in first.collect_events():
        dispatcher.observe(event)
    await dispatcher.send_due()

    assert sent.runs == [(first.id, 1), (second.id, 1)]


async def test_a_retry_of_an_execution_cancelled_meanwhile_is_not_sent() -> None:
    dispatcher, sent, clock = make()
    execution = requested()
    execution.start_attempt(1, worker="w", at=T0)
    execution.fail_attempt(1, ErrorInfo("E", "x"), at=T0, sample=0.5)
    for event in execution.collect_events():
        dispatcher.observe(event)
    await dispatcher.send_due()
    sent.runs.clear()

    execution.request_cancel(actor="a", at=T0 + timedelta(milliseconds=1))
    for event in execution.collect_events():
        dispatcher.observe(event)
    clock.at = T0 + timedelta(hours=1)
    await dispatcher.send_due()

    assert sent.runs == []
