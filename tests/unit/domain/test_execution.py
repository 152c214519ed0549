from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from domain.errors import InvalidTransition
from domain.execution import Execution
from domain.execution_values import (
    Attempt,
    AttemptOutcome,
    ErrorInfo,
    ExecutionStatus,
    Trigger,
    TriggerType,
)
from tests.unit.domain.builders import (
    EXECUTION_ID,
    JOB_ID,
    MANUAL,
    T0,
    at,
    recorded_topics,
    snapshot,
    topics_of,
)

Status = ExecutionStatus
BOOM = ErrorInfo("ValueError", "boom", "Traceback (most recent call last): ...")
LATER = at(3600)


# Builders: one execution per state, events left pending so tests can read them.


def make_pending(*, retries: int = 3) -> Execution:
    return Execution.request(EXECUTION_ID, snapshot(retries=retries), MANUAL, at=T0)


def make_running(*, retries: int = 3) -> Execution:
    execution = make_pending(retries=retries)
    execution.start_attempt(1, worker="worker-1", at=at(1))
    return execution


def make_running_cancel_requested() -> Execution:
    execution = make_running()
    execution.request_cancel(actor="bob", at=at(2))
    return execution


def make_pending_retry_due() -> Execution:
    execution = make_running()
    execution.fail_attempt(1, BOOM, at=at(2), sample=0.5)
    return execution


def make_completed() -> Execution:
    execution = make_running()
    execution.complete(1, {"rows": 42}, at=at(2))
    return execution


def make_failed() -> Execution:
    execution = make_running(retries=0)
    execution.fail_attempt(1, BOOM, at=at(2), sample=0.5)
    return execution


def make_timed_out() -> Execution:
    execution = make_running(retries=0)
    execution.time_out(1, at=at(31), sample=0.5)
    return execution


def make_cancelled_while_pending() -> Execution:
    execution = make_pending()
    execution.request_cancel(actor="bob", at=at(1))
    return execution


def make_cancelled_while_running() -> Execution:
    execution = make_running_cancel_requested()
    execution.confirm_cancelled(1, at=at(3))
    return execution


def settled(build: Callable[[], Execution]) -> Execution:
    """An execution whose history so far has been collected (as if saved)."""
    execution = build()
    execution.collect_events()
    return execution


# The state table, row by row.


def test_a_requested_execution_is_pending_and_due_at_once() -> None:
    trigger = Trigger(TriggerType.SCHEDULE, actor="scheduler", scheduled_for=T0)
    execution = Execution.request(EXECUTION_ID, snapshot(), trigger, at=T0, event={"id": "e1"})

    assert execution.id == EXECUTION_ID
    assert execution.status is Status.PENDING
    assert execution.next_attempt_at == T0
    assert execution.attempts == []
    assert execution.trigger == trigger
    assert execution.job == snapshot()
    assert execution.event == {"id": "e1"}
    assert not execution.cancel_requested
    assert execution.finished_at is None
    assert recorded_topics(execution) == ["execution.requested"]


def test_starting_an_attempt_of_a_pending_execution_makes_it_running() -> None:
    execution = settled(make_pending)

    execution.start_attempt(1, worker="worker-1", at=at(1))

    assert execution.status is Status.RUNNING
    assert execution.next_attempt_at is None
    assert execution.attempts == [Attempt(1, "worker-1", at(1))]
    assert recorded_topics(execution) == ["execution.attempt-started"]


def test_completing_the_running_attempt_completes_the_execution_with_its_result() -> None:
    execution = settled(make_running)

    execution.complete(1, {"rows": 42}, at=at(5))

    assert execution.status is Status.COMPLETED
    assert execution.result == {"rows": 42}
    assert execution.finished_at == at(5)
    assert execution.next_attempt_at is None
    assert execution.attempts == [
        Attempt(1, "worker-1", at(1), finished_at=at(5), outcome=AttemptOutcome.COMPLETED)
    ]
    assert recorded_topics(execution) == ["execution.completed"]


def _fail(execution: Execution, when: float) -> None:
    execution.fail_attempt(execution.attempts[-1].number, BOOM, at=at(when), sample=0.5)


def _time_out(execution: Execution, when: float) -> None:
    execution.time_out(execution.attempts[-1].number, at=at(when), sample=0.5)


def _lose_worker(execution: Execution, when: float) -> None:
    current = execution.attempts[-1]
    execution.report_worker_lost(current.number, worker=current.worker, at=at(when), sample=0.5)


BAD_ENDS = [
    pytest.param(_fail, AttemptOutcome.FAILED, "ValueError", id="attempt-failed"),
    pytest.param(_time_out, AttemptOutcome.TIMED_OUT, "TimeoutError", id="attempt-timed-out"),
    pytest.param(_lose_worker, AttemptOutcome.WORKER_LOST, "WorkerLost", id="worker-lost"),
]


@pytest.mark.parametrize(("end_badly", "outcome", "error_type"), BAD_ENDS)
def test_an_attempt_ending_badly_with_retries_left_makes_the_execution_pending_after_backoff(
    end_badly: Callable[[Execution, float], None], outcome: AttemptOutcome, error_type: str
) -> None:
    execution = settled(make_running)

    end_badly(execution, 10)

    assert execution.status is Status.PENDING
    assert execution.next_attempt_at == at(10) + timedelta(milliseconds=1000)
    assert execution.next_attempt_number == 2
    assert execution.finished_at is None
    attempt = execution.attempts[0]
    assert (attempt.finished_at, attempt.outcome) == (at(10), outcome)
    assert attempt.error is not None
    assert attempt.error.type == error_type
    assert execution.error == attempt.error
    events = execution.collect_events()
    assert topics_of(events) == ["execution.attempt-failed"]
    assert isinstance(events[0], Execution.AttemptFailed)
    assert events[0].outcome is outcome
    assert events[0].retry_at == execution.next_attempt_at


def test_a_failed_attempt_with_no_retries_left_fails_the_execution() -> None:
    execution = settled(lambda: make_running(retries=0))

    execution.fail_attempt(1, BOOM, at=at(10), sample=0.5)

    assert execution.status is Status.FAILED
    assert execution.error == BOOM
    assert execution.finished_at == at(10)
    assert execution.next_attempt_at is None
    assert execution.attempts[0].outcome is AttemptOutcome.FAILED
    assert execution.attempts[0].error == BOOM
    assert recorded_topics(execution) == ["execution.failed"]


def test_a_timed_out_attempt_with_no_retries_left_ends_the_execution_in_timeout() -> None:
    execution = settled(lambda: make_running(retries=0))

    execution.time_out(1, at=at(31), sample=0.5)

    assert execution.status is Status.TIMEOUT
    assert execution.finished_at == at(31)
    assert execution.next_attempt_at is None
    assert execution.error is not None
    assert execution.error.type == "TimeoutError"
    assert "timeout of 30 s" in execution.error.message
    assert execution.attempts[0].outcome is AttemptOutcome.TIMED_OUT
    assert execution.attempts[0].error == execution.error
    assert recorded_topics(execution) == ["execution.timed-out"]


def test_a_lost_worker_with_no_retries_left_fails_the_execution_with_a_worker_lost_error() -> None:
    execution = settled(lambda: make_running(retries=0))

    execution.report_worker_lost(1, worker="worker-1", at=at(40), sample=0.5)

    assert execution.status is Status.FAILED
    assert execution.finished_at == at(40)
    assert execution.error is not None
    assert execution.error.type == "WorkerLost"
    assert execution.attempts[0].outcome is AttemptOutcome.WORKER_LOST
    events = execution.collect_events()
    assert topics_of(events) == ["execution.failed"]
    assert isinstance(events[0], Execution.Failed)
    assert events[0].outcome is AttemptOutcome.WORKER_LOST


def test_a_cancel_request_on_a_pending_execution_cancels_it_at_once() -> None:
    execution = settled(make_pending)

    assert execution.request_cancel(actor="bob", at=at(1)) is True

    assert execution.status is Status.CANCELLED
    assert execution.finished_at == at(1)
    assert execution.next_attempt_at is None
    assert execution.attempts == []
    events = execution.collect_events()
    assert topics_of(events) == ["execution.cancelled"]
    assert isinstance(events[0], Execution.Cancelled)
    assert (events[0].attempt, events[0].actor) == (None, "bob")


def test_cancelling_an_execution_waiting_for_a_retry_keeps_the_failed_attempt_record() -> None:
    execution = settled(make_pending_retry_due)

    assert execution.request_cancel(actor="bob", at=at(2.5)) is True

    assert execution.status is Status.CANCELLED
    assert execution.attempts[0].outcome is AttemptOutcome.FAILED
    assert execution.attempts[0].error == BOOM
    assert recorded_topics(execution) == ["execution.cancelled"]


def test_a_cancel_request_on_a_running_execution_waits_for_the_worker_to_stop() -> None:
    execution = settled(make_running)

    assert execution.request_cancel(actor="bob", at=at(2)) is True

    assert execution.status is Status.RUNNING
    assert execution.cancel_requested
    assert execution.finished_at is None
    events = execution.collect_events()
    assert topics_of(events) == ["execution.cancel-requested"]
    assert isinstance(events[0], Execution.CancelRequested)
    assert events[0].actor == "bob"


def test_confirming_a_requested_cancel_ends_the_running_execution_cancelled() -> None:
    execution = settled(make_running_cancel_requested)

    execution.confirm_cancelled(1, at=at(3))

    assert execution.status is Status.CANCELLED
    assert execution.finished_at == at(3)
    assert execution.attempts == [
        Attempt(1, "worker-1", at(1), finished_at=at(3), outcome=AttemptOutcome.CANCELLED)
    ]
    assert recorded_topics(execution) == ["execution.cancelled"]


def test_a_second_cancel_request_on_a_running_execution_returns_false_and_records_nothing() -> None:
    execution = settled(make_running_cancel_requested)

    assert execution.request_cancel(actor="carol", at=at(4)) is False

    assert execution.status is Status.RUNNING
    assert execution.cancel_requested
    assert execution.collect_events() == []


def test_a_released_attempt_makes_the_execution_pending_and_due_at_once() -> None:
    execution = settled(make_running)

    execution.release_attempt(1, reason="worker shutting down", at=at(5))

    assert execution.status is Status.PENDING
    assert execution.next_attempt_at == at(5)
    assert execution.counted_attempts == 0
    assert execution.next_attempt_number == 2
    assert execution.attempts[0].outcome is AttemptOutcome.RELEASED
    assert execution.attempts[0].finished_at == at(5)
    events = execution.collect_events()
    assert topics_of(events) == ["execution.attempt-released"]
    assert isinstance(events[0], Execution.AttemptReleased)
    assert events[0].reason == "worker shutting down"


def test_a_released_attempt_does_not_use_up_a_retry() -> None:
    execution = make_running(retries=1)
    execution.release_attempt(1, reason="shutdown", at=at(2))
    execution.start_attempt(2, worker="worker-2", at=at(3))

    execution.fail_attempt(2, BOOM, at=at(4), sample=0.5)

    assert execution.status is Status.PENDING
    assert execution.counted_attempts == 1
    # The first retry's delay (base), not the second's.
    assert execution.next_attempt_at == at(4) + timedelta(milliseconds=1000)


def test_released_attempts_are_not_counted_when_retries_run_out() -> None:
    execution = make_running(retries=1)
    execution.release_attempt(1, reason="shutdown", at=at(2))
    for number in (2, 3):
        execution.start_attempt(number, worker="worker-2", at=at(10 * number))
        execution.fail_attempt(number, BOOM, at=at(10 * number + 1), sample=0.5)

    assert execution.status is Status.FAILED
    assert execution.counted_attempts == 2
    assert [attempt.outcome for attempt in execution.attempts] == [
        AttemptOutcome.RELEASED,
        AttemptOutcome.FAILED,
        AttemptOutcome.FAILED,
    ]


@pytest.mark.parametrize(
    "end_attempt",
    [
        pytest.param(lambda e: _fail(e, 10), id="attempt-failed"),
        pytest.param(lambda e: _time_out(e, 10), id="attempt-timed-out"),
        pytest.param(lambda e: _lose_worker(e, 10), id="worker-lost"),
        pytest.param(
            lambda e: e.release_attempt(1, reason="shutdown", at=at(10)), id="attempt-released"
        ),
    ],
)
def test_a_cancel_request_wins_over_retries(end_attempt: Callable[[Execution], None]) -> None:
    execution = settled(make_running_cancel_requested)
    assert execution.job.retry.retries == 3

    end_attempt(execution)

    assert execution.status is Status.CANCELLED
    assert execution.finished_at == at(10)
    assert execution.next_attempt_at is None
    assert execution.attempts[0].outcome is AttemptOutcome.CANCELLED
    assert recorded_topics(execution) == ["execution.cancelled"]


def test_retries_run_out_after_the_configured_number_and_every_attempt_keeps_its_record() -> None:
    execution = make_pending(retries=2)
    errors = [ErrorInfo("KeyError", f"missing {n}", f"stack {n}") for n in (1, 2, 3)]
    for number, error in enumerate(errors, start=1):
        execution.start_attempt(number, worker=f"worker-{number}", at=at(100 * number))
        execution.fail_attempt(number, error, at=at(100 * number + 7), sample=0.5)

    assert execution.status is Status.FAILED
    assert execution.error == errors[-1]
    assert execution.attempts == [
        Attempt(
            number,
            f"worker-{number}",
            at(100 * number),
            finished_at=at(100 * number + 7),
            outcome=AttemptOutcome.FAILED,
            error=error,
        )
        for number, error in enumerate(errors, start=1)
    ]
    assert recorded_topics(execution) == [
        "execution.requested",
        "execution.attempt-started",
        "execution.attempt-failed",
        "execution.attempt-started",
        "execution.attempt-failed",
        "execution.attempt-started",
        "execution.failed",
    ]


def test_a_retried_attempt_can_complete_the_execution() -> None:
    execution = make_pending_retry_due()

    execution.start_attempt(2, worker="worker-2", at=at(4))
    execution.complete(2, "ok", at=at(5))

    assert execution.status is Status.COMPLETED
    assert [a.outcome for a in execution.attempts] == [
        AttemptOutcome.FAILED,
        AttemptOutcome.COMPLETED,
    ]
    assert [a.worker for a in execution.attempts] == ["worker-1", "worker-2"]


def test_every_event_after_the_request_carries_the_job_id() -> None:
    execution = make_completed()

    events = execution.collect_events()[1:]

    assert [getattr(event, "job_id", None) for event in events] == [JOB_ID, JOB_ID]


ALL_STATES: dict[str, Callable[[], Execution]] = {
    "PENDING": make_pending,
    "PENDING-retry-due": make_pending_retry_due,
    "RUNNING": make_running,
    "RUNNING-cancel-requested": make_running_cancel_requested,
    "COMPLETED": make_completed,
    "FAILED": make_failed,
    "TIMEOUT": make_timed_out,
    "CANCELLED-while-pending": make_cancelled_while_pending,
    "CANCELLED-while-running": make_cancelled_while_running,
}


@pytest.mark.parametrize("state", ALL_STATES)
def test_replaying_the_recorded_events_rebuilds_the_same_execution(state: str) -> None:
    original = ALL_STATES[state]()
    events = original.collect_events()

    copy: Any = None
    for event in events:
        copy = event.mutate(copy)

    assert isinstance(copy, Execution)
    assert copy.version == original.version == len(events)
    for name in (
        "status",
        "attempts",
        "next_attempt_at",
        "cancel_requested",
        "result",
        "error",
        "finished_at",
        "job",
        "trigger",
    ):
        assert getattr(copy, name) == getattr(original, name), name


@pytest.mark.parametrize("state", ALL_STATES)
def test_the_state_builders_reach_the_state_they_are_named_for(state: str) -> None:
    assert ALL_STATES[state]().status is Status(state.partition("-")[0])


# Invalid transitions.

Command = Callable[[Execution], Any]
COMMANDS: dict[str, tuple[str, Command]] = {
    "start_attempt": (
        "start an attempt of",
        lambda e: e.start_attempt(e.next_attempt_number, worker="worker-9", at=LATER),
    ),
    "complete": ("complete", lambda e: e.complete(1, "ok", at=LATER)),
    "fail_attempt": ("fail", lambda e: e.fail_attempt(1, BOOM, at=LATER, sample=0.5)),
    "time_out": ("time out", lambda e: e.time_out(1, at=LATER, sample=0.5)),
    "report_worker_lost": (
        "report a lost worker for",
        lambda e: e.report_worker_lost(1, worker="worker-1", at=LATER, sample=0.5),
    ),
    "release_attempt": (
        "release",
        lambda e: e.release_attempt(1, reason="shutdown", at=LATER),
    ),
    "request_cancel": ("cancel", lambda e: e.request_cancel(actor="bob", at=LATER)),
    "confirm_cancelled": (
        "confirm the cancellation of",
        lambda e: e.confirm_cancelled(1, at=LATER),
    ),
}
ALLOWED_FROM: dict[str, set[Status]] = {
    "start_attempt": {Status.PENDING},
    "request_cancel": {Status.PENDING, Status.RUNNING},
}
INVALID = [
    pytest.param(command, state, id=f"{command}-from-{state}")
    for command in COMMANDS
    for state in ALL_STATES
    if state.partition("-")[0] not in ALLOWED_FROM.get(command, {Status.RUNNING})
]


def test_the_invalid_transition_table_covers_every_command_and_every_terminal_state() -> None:
    pairs = {(p.values[0], p.values[1]) for p in INVALID}
    assert {command for command, _ in pairs} == set(COMMANDS)
    for terminal in (
        "COMPLETED",
        "FAILED",
        "TIMEOUT",
        "CANCELLED-while-pending",
        "CANCELLED-while-running",
    ):
        assert {command for command, state in pairs if state == terminal} == set(COMMANDS)
    # start_attempt from 7 states, request_cancel from 5, six RUNNING-only commands from 7.
    assert len(INVALID) == 7 + 5 + 6 * 7


def snapshot_of(execution: Execution) -> tuple[Any, ...]:
    return (
        execution.status,
        list(execution.attempts),
        execution.next_attempt_at,
        execution.cancel_requested,
        execution.finished_at,
        execution.version,
    )


@pytest.mark.parametrize(("command", "state"), INVALID)
def test_a_command_not_allowed_in_the_current_state_is_refused_and_records_nothing(
    command: str, state: str
) -> None:
    execution = settled(ALL_STATES[state])
    before = snapshot_of(execution)
    action, run = COMMANDS[command]

    with pytest.raises(InvalidTransition) as refused:
        run(execution)

    status = execution.status.value
    assert str(refused.value).startswith(f"cannot {action} execution in state {status}")
    assert (refused.value.action, refused.value.state) == (action, status)
    assert snapshot_of(execution) == before
    assert execution.collect_events() == []


@pytest.mark.parametrize(
    "state",
    ["COMPLETED", "FAILED", "TIMEOUT", "CANCELLED-while-pending", "CANCELLED-while-running"],
)
def test_cancelling_a_finished_execution_says_it_already_finished(state: str) -> None:
    execution = settled(ALL_STATES[state])

    with pytest.raises(InvalidTransition, match="it already finished"):
        execution.request_cancel(actor="bob", at=LATER)
    assert execution.collect_events() == []


@pytest.mark.parametrize(
    ("build", "attempt", "expected"),
    [
        pytest.param(make_pending, 2, "attempt 2 is not the next attempt (1)", id="skipping-ahead"),
        pytest.param(make_pending, 0, "attempt 0 is not the next attempt (1)", id="attempt-zero"),
        pytest.param(
            make_pending_retry_due, 1, "attempt 1 is not the next attempt (2)", id="replaying-1"
        ),
        pytest.param(
            make_pending_retry_due, 3, "attempt 3 is not the next attempt (2)", id="skipping-2"
        ),
    ],
)
def test_starting_an_attempt_other_than_the_next_one_is_refused(
    build: Callable[[], Execution], attempt: int, expected: str
) -> None:
    execution = settled(build)

    with pytest.raises(InvalidTransition) as refused:
        execution.start_attempt(attempt, worker="worker-9", at=LATER)

    assert (
        str(refused.value) == f"cannot start an attempt of execution in state PENDING: {expected}"
    )
    assert execution.status is Status.PENDING
    assert execution.collect_events() == []


RUNNING_ONLY: dict[str, Callable[[Execution, int], Any]] = {
    "complete": lambda e, n: e.complete(n, "ok", at=LATER),
    "fail": lambda e, n: e.fail_attempt(n, BOOM, at=LATER, sample=0.5),
    "time out": lambda e, n: e.time_out(n, at=LATER, sample=0.5),
    "report a lost worker for": lambda e, n: e.report_worker_lost(
        n, worker="worker-1", at=LATER, sample=0.5
    ),
    "release": lambda e, n: e.release_attempt(n, reason="shutdown", at=LATER),
    "confirm the cancellation of": lambda e, n: e.confirm_cancelled(n, at=LATER),
}


@pytest.mark.parametrize("attempt", [0, 2])
@pytest.mark.parametrize("action", RUNNING_ONLY)
def test_a_command_for_an_attempt_other_than_the_running_one_is_refused(
    action: str, attempt: int
) -> None:
    execution = settled(make_running_cancel_requested)

    with pytest.raises(InvalidTransition) as refused:
        RUNNING_ONLY[action](execution, attempt)

    assert str(refused.value) == (
        f"cannot {action} execution in state RUNNING: attempt {attempt} is not the running attempt"
    )
    assert execution.status is Status.RUNNING
    assert execution.attempts[0].outcome is None
    assert execution.collect_events() == []


def test_a_lost_worker_reported_for_a_worker_not_running_the_attempt_is_refused() -> None:
    execution = settled(make_running)

    with pytest.raises(InvalidTransition) as refused:
        execution.report_worker_lost(1, worker="worker-9", at=LATER, sample=0.5)

    assert str(refused.value) == (
        "cannot report a lost worker for execution in state RUNNING: "
        "attempt 1 does not run on worker worker-9"
    )
    assert execution.status is Status.RUNNING
    assert execution.collect_events() == []


def test_confirming_a_cancellation_that_was_never_requested_is_refused() -> None:
    execution = settled(make_running)

    with pytest.raises(InvalidTransition) as refused:
        execution.confirm_cancelled(1, at=LATER)

    assert str(refused.value) == (
        "cannot confirm the cancellation of execution in state RUNNING: no cancel was requested"
    )
    assert execution.status is Status.RUNNING
    assert execution.collect_events() == []


@pytest.mark.parametrize("status", list(Status))
def test_only_pending_and_running_are_not_terminal(status: ExecutionStatus) -> None:
    assert status.is_terminal is (status not in (Status.PENDING, Status.RUNNING))
