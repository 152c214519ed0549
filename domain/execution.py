"""The Execution aggregate: one run of a job, through its attempts, to exactly one end state.

A cancel request wins over retries: an attempt that fails, times out, is lost or is handed
back after a cancel was requested ends the execution as CANCELLED. An attempt that completes
still ends COMPLETED: the work was done, and pretending otherwise would hide its effects.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import InvalidTransition
from domain.execution_values import (
    Attempt,
    AttemptOutcome,
    ErrorInfo,
    ExecutionStatus,
    JobSnapshot,
    Trigger,
)

Status = ExecutionStatus
WORKER_LOST = ErrorInfo("WorkerLost", "the worker running this attempt stopped responding")
TIMED_OUT = "TimeoutError"


class Execution(Aggregate):
    """One run of a job. Status moves only along the documented state table."""

    TOPIC = "almanac.execution"
    job: JobSnapshot
    trigger: Trigger
    status: ExecutionStatus
    attempts: list[Attempt]
    next_attempt_at: datetime | None
    cancel_requested: bool
    result: Any
    error: ErrorInfo | None
    event: dict[str, Any] | None
    wait_for: UUID | None
    finished_at: datetime | None

    def __init__(self) -> None:
        """State is set by the Created (requested) event's apply()."""

    class Created(Aggregate.Created):
        """The execution was requested (the library names every creation event Created)."""

        TOPIC = "execution.requested"
        job: JobSnapshot
        trigger: Trigger
        event: dict[str, Any] | None
        wait_for: UUID | None

        def apply(self, execution: Execution) -> None:
            execution.job, execution.trigger = self.job, self.trigger
            execution.event, execution.wait_for = self.event, self.wait_for
            execution.status, execution.attempts = Status.PENDING, []
            execution.next_attempt_at = self.timestamp
            execution.cancel_requested = False
            execution.result = execution.error = execution.finished_at = None

    class AttemptStarted(Aggregate.Event):
        TOPIC = "execution.attempt-started"
        job_id: UUID
        attempt: int
        worker: str

        def apply(self, execution: Execution) -> None:
            execution.status, execution.next_attempt_at = Status.RUNNING, None
            execution.attempts.append(Attempt(self.attempt, self.worker, self.timestamp))

    class Completed(Aggregate.Event):
        TOPIC = "execution.completed"
        job_id: UUID
        attempt: int
        result: Any

        def apply(self, execution: Execution) -> None:
            execution.result, execution.error = self.result, None  # earlier errors stay on attempts
            execution.end_attempt(AttemptOutcome.COMPLETED, self.timestamp, None)
            execution.finish(Status.COMPLETED, self.timestamp)

    class AttemptFailed(Aggregate.Event):
        """The attempt ended badly and a retry is due at `retry_at`."""

        TOPIC = "execution.attempt-failed"
        job_id: UUID
        attempt: int
        outcome: AttemptOutcome
        error: ErrorInfo
        retry_at: datetime

        def apply(self, execution: Execution) -> None:
            execution.end_attempt(self.outcome, self.timestamp, self.error)
            execution.status, execution.next_attempt_at = Status.PENDING, self.retry_at
            execution.error = self.error

    class Failed(Aggregate.Event):
        TOPIC = "execution.failed"
        job_id: UUID
        attempt: int
        outcome: AttemptOutcome
        error: ErrorInfo

        def apply(self, execution: Execution) -> None:
            execution.end_attempt(self.outcome, self.timestamp, self.error)
            execution.error = self.error
            execution.finish(Status.FAILED, self.timestamp)

    class TimedOut(Aggregate.Event):
        TOPIC = "execution.timed-out"
        job_id: UUID
        attempt: int
        error: ErrorInfo

        def apply(self, execution: Execution) -> None:
            execution.end_attempt(AttemptOutcome.TIMED_OUT, self.timestamp, self.error)
            execution.error = self.error
            execution.finish(Status.TIMEOUT, self.timestamp)

    class AttemptReleased(Aggregate.Event):
        """A worker handed the attempt back (shutdown); the next attempt is due at once."""

        TOPIC = "execution.attempt-released"
        job_id: UUID
        attempt: int
        reason: str

        def apply(self, execution: Execution) -> None:
            execution.end_attempt(AttemptOutcome.RELEASED, self.timestamp, None)
            execution.status, execution.next_attempt_at = Status.PENDING, self.timestamp

    class CancelRequested(Aggregate.Event):
        TOPIC = "execution.cancel-requested"
        job_id: UUID
        actor: str

        def apply(self, execution: Execution) -> None:
            execution.cancel_requested = True

    class Cancelled(Aggregate.Event):
        TOPIC = "execution.cancelled"
        job_id: UUID
        attempt: int | None
        actor: str

        def apply(self, execution: Execution) -> None:
            if self.attempt is not None:
                execution.end_attempt(AttemptOutcome.CANCELLED, self.timestamp, None)
            execution.cancel_requested = True
            execution.finish(Status.CANCELLED, self.timestamp)

    @classmethod
    def request(
        cls,
        execution_id: UUID,
        job: JobSnapshot,
        trigger: Trigger,
        *,
        at: datetime,
        event: dict[str, Any] | None = None,
        wait_for: UUID | None = None,
    ) -> Execution:
        return cls._create(
            cls.Created,
            id=execution_id,
            job=job,
            trigger=trigger,
            event=event,
            wait_for=wait_for,
            timestamp=at,
        )

    @property
    def current_attempt(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def next_attempt_number(self) -> int:
        return len(self.attempts) + 1

    @property
    def counted_attempts(self) -> int:
        return sum(1 for attempt in self.attempts if attempt.counts_against_retries)

    def start_attempt(self, attempt: int, *, worker: str, at: datetime) -> None:
        """A worker claims the next attempt; any other claim is refused."""
        if self.status is not Status.PENDING:
            raise InvalidTransition("execution", "start an attempt of", self.status.value)
        if attempt != self.next_attempt_number:
            detail = f"attempt {attempt} is not the next attempt ({self.next_attempt_number})"
            raise InvalidTransition("execution", "start an attempt of", self.status.value, detail)
        self._trigger(self.AttemptStarted, attempt=attempt, worker=worker, timestamp=at)

    def complete(self, attempt: int, result: Any, *, at: datetime) -> None:
        self._check_running(attempt, "complete")
        self._trigger(self.Completed, attempt=attempt, result=result, timestamp=at)

    def fail_attempt(self, attempt: int, error: ErrorInfo, *, at: datetime, sample: float) -> None:
        """The handler raised: retry after the backoff, or fail when no retries are left."""
        self._check_running(attempt, "fail")
        self._end_badly(attempt, AttemptOutcome.FAILED, error, at, sample)

    def time_out(self, attempt: int, *, at: datetime, sample: float) -> None:
        """The handler ran past its timeout and was stopped."""
        self._check_running(attempt, "time out")
        seconds = self.job.timeout_ms / 1000
        error = ErrorInfo(TIMED_OUT, f"the handler ran longer than its timeout of {seconds:g} s")
        self._end_badly(attempt, AttemptOutcome.TIMED_OUT, error, at, sample)

    def report_worker_lost(self, attempt: int, *, worker: str, at: datetime, sample: float) -> None:
        """The worker of the running attempt stopped heartbeating."""
        self._check_running(attempt, "report a lost worker for")
        current = self.current_attempt
        if current is None or current.worker != worker:
            detail = f"attempt {attempt} does not run on worker {worker}"
            raise InvalidTransition("execution", "report a lost worker for", "RUNNING", detail)
        self._end_badly(attempt, AttemptOutcome.WORKER_LOST, WORKER_LOST, at, sample)

    def release_attempt(self, attempt: int, *, reason: str, at: datetime) -> None:
        """Hand a running attempt back without using up a retry (graceful worker shutdown)."""
        self._check_running(attempt, "release")
        if self.cancel_requested:
            self._trigger(self.Cancelled, attempt=attempt, actor="worker", timestamp=at)
            return
        self._trigger(self.AttemptReleased, attempt=attempt, reason=reason, timestamp=at)

    def request_cancel(self, *, actor: str, at: datetime) -> bool:
        """PENDING ends at once; RUNNING asks its worker to stop; False if already asked."""
        if self.status is Status.PENDING:
            self._trigger(self.Cancelled, attempt=None, actor=actor, timestamp=at)
            return True
        if self.status is not Status.RUNNING:
            raise InvalidTransition("execution", "cancel", self.status.value, "it already finished")
        if self.cancel_requested:
            return False
        self._trigger(self.CancelRequested, actor=actor, timestamp=at)
        return True

    def confirm_cancelled(self, attempt: int, *, at: datetime) -> None:
        """The worker stopped the handler after a cancel request."""
        self._check_running(attempt, "confirm the cancellation of")
        if not self.cancel_requested:
            raise InvalidTransition(
                "execution", "confirm the cancellation of", "RUNNING", "no cancel was requested"
            )
        self._trigger(self.Cancelled, attempt=attempt, actor="worker", timestamp=at)

    def end_attempt(self, outcome: AttemptOutcome, at: datetime, error: ErrorInfo | None) -> None:
        current = self.attempts[-1]
        self.attempts[-1] = replace(current, finished_at=at, outcome=outcome, error=error)

    def finish(self, status: ExecutionStatus, at: datetime) -> None:
        self.status, self.finished_at, self.next_attempt_at = status, at, None

    def _end_badly(
        self, attempt: int, outcome: AttemptOutcome, error: ErrorInfo, at: datetime, sample: float
    ) -> None:
        if self.cancel_requested:
            self._trigger(self.Cancelled, attempt=attempt, actor="worker", timestamp=at)
        elif self.counted_attempts < self.job.retry.max_attempts:
            delay = self.job.retry.delay_ms(self.counted_attempts, sample)
            retry_at = at + timedelta(milliseconds=delay)
            self._trigger(
                self.AttemptFailed,
                attempt=attempt,
                outcome=outcome,
                error=error,
                retry_at=retry_at,
                timestamp=at,
            )
        elif outcome is AttemptOutcome.TIMED_OUT:
            self._trigger(self.TimedOut, attempt=attempt, error=error, timestamp=at)
        else:
            self._trigger(self.Failed, attempt=attempt, outcome=outcome, error=error, timestamp=at)

    def _check_running(self, attempt: int, action: str) -> None:
        if self.status is not Status.RUNNING:
            raise InvalidTransition("execution", action, self.status.value)
        current = self.current_attempt
        if current is None or current.number != attempt:
            detail = f"attempt {attempt} is not the running attempt"
            raise InvalidTransition("execution", action, self.status.value, detail)

    def _trigger(self, event_class: type[Aggregate.Event], **kwargs: Any) -> None:
        self.trigger_event(event_class, job_id=self.job.job_id, **kwargs)


# The events that end an execution: one of them is its last event.
TERMINAL_EVENTS = (Execution.Completed, Execution.Failed, Execution.TimedOut, Execution.Cancelled)
