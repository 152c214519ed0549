"""Command handlers for an execution's life: attempts, outcomes and cancellation."""

from __future__ import annotations

from uuid import UUID

from application.commands import (
    CompleteAttempt,
    ConfirmCancelled,
    FailAttempt,
    ReleaseAttempt,
    ReportWorkerLost,
    RequestCancel,
    StartAttempt,
    TimeOutAttempt,
)
from application.dependencies import Dependencies, retry_on_conflict
from application.results import Outcome
from domain.execution import Execution


async def start_attempt(command: StartAttempt, deps: Dependencies) -> Outcome[Execution]:
    """Claim an attempt. Not retried on conflict: whoever got there first owns the attempt."""
    execution = await _load(command.execution_id, deps)
    execution.start_attempt(command.attempt, worker=command.worker, at=deps.clock.now())
    return Outcome(execution, await deps.store.save(execution))


@retry_on_conflict
async def complete_attempt(command: CompleteAttempt, deps: Dependencies) -> Outcome[Execution]:
    execution = await _load_recent(command.execution_id, deps)
    execution.complete(command.attempt, command.result, at=deps.clock.now())
    return Outcome(execution, await deps.store.save(execution))


@retry_on_conflict
async def fail_attempt(command: FailAttempt, deps: Dependencies) -> Outcome[Execution]:
    execution = await _load_recent(command.execution_id, deps)
    execution.fail_attempt(
        command.attempt, command.error, at=deps.clock.now(), sample=deps.sample()
    )
    return Outcome(execution, await deps.store.save(execution))


@retry_on_conflict
async def time_out_attempt(command: TimeOutAttempt, deps: Dependencies) -> Outcome[Execution]:
    execution = await _load_recent(command.execution_id, deps)
    execution.time_out(command.attempt, at=deps.clock.now(), sample=deps.sample())
    return Outcome(execution, await deps.store.save(execution))


@retry_on_conflict
async def report_worker_lost(command: ReportWorkerLost, deps: Dependencies) -> Outcome[Execution]:
    execution = await _load(command.execution_id, deps)
    execution.report_worker_lost(
        command.attempt, worker=command.worker, at=deps.clock.now(), sample=deps.sample()
    )
    return Outcome(execution, await deps.store.save(execution))


@retry_on_conflict
async def release_attempt(command: ReleaseAttempt, deps: Dependencies) -> Outcome[Execution]:
    execution = await _load(command.execution_id, deps)
    execution.release_attempt(command.attempt, reason=command.reason, at=deps.clock.now())
    return Outcome(execution, await deps.store.save(execution))


@retry_on_conflict
async def request_cancel(command: RequestCancel, deps: Dependencies) -> Outcome[Execution]:
    """PENDING ends at once; RUNNING asks its worker to stop; a repeat changes nothing."""
    execution = await _load(command.execution_id, deps)
    changed = execution.request_cancel(actor=command.actor, at=deps.clock.now())
    return Outcome(execution, await deps.store.save(execution) if changed else 0, changed)


@retry_on_conflict
async def confirm_cancelled(command: ConfirmCancelled, deps: Dependencies) -> Outcome[Execution]:
    execution = await _load(command.execution_id, deps)
    execution.confirm_cancelled(command.attempt, at=deps.clock.now())
    return Outcome(execution, await deps.store.save(execution))


async def _load(execution_id: UUID, deps: Dependencies) -> Execution:
    return await deps.store.load(execution_id, Execution)


async def _load_recent(execution_id: UUID, deps: Dependencies) -> Execution:
    """For an outcome, the execution as its worker's claim saved it. What another process may
    have appended since (a cancel request, a lost-worker report) makes the save conflict, and
    the retry decides on the stored state: a running attempt's outcome is never refused on
    state the store no longer has."""
    return await deps.store.load_recent(execution_id, Execution)
