"""Folds execution events into rows in memory, mirroring the Execution aggregate's rules.

A batch may hold several events of one execution (requested, started and completed), so the
projection loads each execution's row once, folds every event into it, and writes it once.
The same fold counts the runs of each job, so counts change exactly when statuses do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec

from domain.execution import Execution

log = logging.getLogger(__name__)
_BUCKET = {"COMPLETED": "completed", "FAILED": "failed", "TIMEOUT": "timeout"}
_MS = timedelta(milliseconds=1)


@dataclass(slots=True)
class ExecutionRow:
    id: UUID
    job_id: UUID
    job_name: str
    status: str
    trigger: dict[str, Any]
    job: dict[str, Any]
    attempts: list[dict[str, Any]]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    next_attempt_at: datetime | None
    result: Any
    error: dict[str, Any] | None
    cancel_requested: bool
    wait_for: UUID | None
    updated_at: datetime

    @property
    def duration_ms(self) -> int | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at) // _MS


@dataclass(slots=True)
class JobRuns:
    """Changes to one job's run counts caused by one batch."""

    total: int = 0
    completed: int = 0
    failed: int = 0
    timeout: int = 0
    cancelled: int = 0
    duration_sum_ms: int = 0
    duration_count: int = 0
    last: ExecutionRow | None = None


@dataclass(slots=True)
class ExecutionFold:
    rows: dict[UUID, ExecutionRow]
    runs: dict[UUID, JobRuns] = field(default_factory=dict)

    def apply(self, event: Any) -> None:
        topic: str = type(event).TOPIC
        if topic == "execution.requested":
            self._requested(event)
            return
        row = self.rows.get(event.originator_id)
        if row is None:
            log.warning("%s for unknown execution %s ignored", topic, event.originator_id)
            return
        _HANDLERS[topic](self, row, event)
        row.updated_at = event.timestamp

    def close(self) -> dict[UUID, JobRuns]:
        """The run-count changes per job, each with its newest touched execution."""
        for row in self.rows.values():
            runs = self.runs.setdefault(row.job_id, JobRuns())
            if runs.last is None or (row.created_at, row.id) > (runs.last.created_at, runs.last.id):
                runs.last = row
        return self.runs

    def _requested(self, event: Any) -> None:
        job = msgspec.to_builtins(event.job)
        self.rows[event.originator_id] = ExecutionRow(
            event.originator_id,
            event.job.job_id,
            event.job.job_name,
            "PENDING",
            msgspec.to_builtins(event.trigger),
            job,
            [],
            event.timestamp,
            None,
            None,
            event.timestamp,
            None,
            None,
            False,
            event.wait_for,
            event.timestamp,
        )
        self.runs.setdefault(event.job.job_id, JobRuns()).total += 1

    def _started(self, row: ExecutionRow, event: Any) -> None:
        row.status, row.next_attempt_at = "RUNNING", None
        row.started_at = row.started_at or event.timestamp
        attempt = {"number": event.attempt, "worker": event.worker}
        attempt |= {"started_at": _iso(event.timestamp), "finished_at": None}
        row.attempts.append(attempt | {"outcome": None, "error": None})

    def _completed(self, row: ExecutionRow, event: Any) -> None:
        row.result, row.error = event.result, None  # earlier errors stay on their attempts
        _end_attempt(row, "completed", event.timestamp, None)
        self._finish(row, "COMPLETED", event.timestamp)

    def _attempt_failed(self, row: ExecutionRow, event: Any) -> None:
        row.error = msgspec.to_builtins(event.error)
        _end_attempt(row, str(event.outcome), event.timestamp, row.error)
        row.status, row.next_attempt_at = "PENDING", event.retry_at

    def _failed(self, row: ExecutionRow, event: Any) -> None:
        row.error = msgspec.to_builtins(event.error)
        _end_attempt(row, str(event.outcome), event.timestamp, row.error)
        self._finish(row, "FAILED", event.timestamp)

    def _timed_out(self, row: ExecutionRow, event: Any) -> None:
        row.error = msgspec.to_builtins(event.error)
        _end_attempt(row, "timed-out", event.timestamp, row.error)
        self._finish(row, "TIMEOUT", event.timestamp)

    def _released(self, row: ExecutionRow, event: Any) -> None:
        _end_attempt(row, "released", event.timestamp, None)
        row.status, row.next_attempt_at = "PENDING", event.timestamp

    def _cancel_requested(self, row: ExecutionRow, event: Any) -> None:
        row.cancel_requested = True

    def _cancelled(self, row: ExecutionRow, event: Any) -> None:
        if event.attempt is not None:
            _end_attempt(row, "cancelled", event.timestamp, None)
        row.cancel_requested = True
        self._finish(row, "CANCELLED", event.timestamp)

    def _finish(self, row: ExecutionRow, status: str, at: datetime) -> None:
        """Terminal states are final, so each execution is counted here exactly once."""
        row.status, row.finished_at, row.next_attempt_at = status, at, None
        runs = self.runs.setdefault(row.job_id, JobRuns())
        bucket = _BUCKET.get(status, "cancelled")
        setattr(runs, bucket, getattr(runs, bucket) + 1)
        duration = row.duration_ms
        if duration is not None:
            runs.duration_sum_ms += duration
            runs.duration_count += 1


def _end_attempt(row: ExecutionRow, outcome: str, at: datetime, error: Any) -> None:
    if not row.attempts:
        return
    row.attempts[-1] |= {"finished_at": _iso(at), "outcome": outcome, "error": error}


def _iso(moment: datetime) -> str:
    text: str = msgspec.to_builtins(moment)
    return text


_HANDLERS = {
    "execution.attempt-started": ExecutionFold._started,
    "execution.completed": ExecutionFold._completed,
    "execution.attempt-failed": ExecutionFold._attempt_failed,
    "execution.failed": ExecutionFold._failed,
    "execution.timed-out": ExecutionFold._timed_out,
    "execution.attempt-released": ExecutionFold._released,
    "execution.cancel-requested": ExecutionFold._cancel_requested,
    "execution.cancelled": ExecutionFold._cancelled,
}
# Naming the event classes imports them, which registers their topics for decoding.
EXECUTION_TOPICS = tuple(
    event.TOPIC
    for event in (
        Execution.Created,
        Execution.AttemptStarted,
        Execution.Completed,
        Execution.AttemptFailed,
        Execution.Failed,
        Execution.TimedOut,
        Execution.AttemptReleased,
        Execution.CancelRequested,
        Execution.Cancelled,
    )
)
if set(EXECUTION_TOPICS) != {"execution.requested", *_HANDLERS}:  # pragma: no cover
    raise RuntimeError("the execution fold does not handle every execution event")
