"""Scheduler-facing handlers: fire an occurrence, run a job for an event, record a skip.

Ids are derived from (job, instant) or (job, event), so when several schedulers race for the
same occurrence the store keeps the first and the others find a conflict: they were too late
and drop the request quietly.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from application.commands import (
    RecordSkippedOccurrences,
    RequestEventExecution,
    RequestScheduledExecution,
)
from application.dependencies import Dependencies
from application.errors import ConcurrencyConflict
from application.results import Outcome
from application.scheduling.plan import Skip
from domain.cron import CronSchedule
from domain.execution import Execution
from domain.execution_values import (
    JobSnapshot,
    Trigger,
    TriggerType,
    event_execution_id,
    occurrence_id,
)
from domain.skipped_occurrences import SkippedOccurrences

SCHEDULER = "scheduler"


def scheduled_execution(
    command: RequestScheduledExecution, snapshot: JobSnapshot, at: datetime
) -> Execution:
    """The execution of one occurrence (not yet saved): its id is the occurrence's id."""
    trigger = Trigger(
        TriggerType.SCHEDULE, SCHEDULER, scheduled_for=command.instant, catch_up=command.catch_up
    )
    return Execution.request(
        occurrence_id(command.job_id, command.instant),
        snapshot,
        trigger,
        at=at,
        wait_for=command.wait_for,
    )


async def request_event_execution(
    command: RequestEventExecution, deps: Dependencies, snapshot: JobSnapshot
) -> Outcome[Execution | None]:
    """One execution per (job, event), however often the event is delivered.

    `snapshot` is the job as of the event's place in the log: a job deleted later in the log
    still runs for the events that came before, as it would have without lag.
    """
    event_id = str(command.event["id"])
    trigger = Trigger(TriggerType.EVENT, "event-bus", event_id=event_id)
    execution = Execution.request(
        event_execution_id(command.job_id, event_id),
        snapshot,
        trigger,
        at=deps.clock.now(),
        event=dict(command.event),
    )
    return await _save_first_decision(execution, deps)


async def record_skipped_occurrences(
    command: RecordSkippedOccurrences, deps: Dependencies
) -> Outcome[SkippedOccurrences | None]:
    skipped = SkippedOccurrences.record(
        command.job_id,
        command.reason,
        command.instants,
        at=deps.clock.now(),
        count=command.count,
        estimated=command.estimated,
    )
    return await _save_first_decision(skipped, deps)


async def _save_first_decision[A: Execution | SkippedOccurrences](
    aggregate: A, deps: Dependencies
) -> Outcome[A | None]:
    try:
        return Outcome(aggregate, await deps.store.save(aggregate))
    except ConcurrencyConflict:
        return Outcome(None, 0, changed=False)


async def record_skip(
    job_id: UUID, cron: CronSchedule | None, skip: Skip, deps: Dependencies
) -> None:
    """Record the skip; if its first occurrence was decided already (a cursor saved just
    before another decision), the record starts at the next one instead."""
    while True:
        instants = [skip.first] if skip.first == skip.last else [skip.first, skip.last]
        command = RecordSkippedOccurrences(
            job_id, skip.reason, instants, skip.count, skip.estimated
        )
        outcome = await record_skipped_occurrences(command, deps)
        if outcome.changed or cron is None or skip.first >= skip.last:
            return
        first = cron.next_after(skip.first)
        skip = Skip(skip.reason, first, skip.last, skip.count - 1, skip.estimated)
