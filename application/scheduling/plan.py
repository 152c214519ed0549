"""What to do with a job's occurrences since its cursor: fire, or skip with a reason.

Pure: the same job, cursor and `now` always give the same plan. Occurrences late by more
than the grace period follow the misfire policy; the ones that would run then pass the
overlap policy. Every occurrence that will not run is in a Skip, so each one is explained.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from uuid import UUID

from domain.cron import CronSchedule
from domain.execution_values import occurrence_id
from domain.job_definition import CatchUp, JobDefinition, OverlapPolicy
from domain.skipped_occurrences import SkipReason

COUNT_CAP = 10_000  # enumerating more would stall the scheduler; beyond it counts are estimated
ON_TIME_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class Fire:
    instant: datetime
    wait_for: UUID | None = None
    catch_up: bool = False  # late by more than the grace: runs only by the misfire policy


@dataclass(frozen=True, slots=True)
class Skip:
    reason: SkipReason
    first: datetime
    last: datetime
    count: int
    estimated: bool = False


@dataclass
class RunsInFlight:
    """A job's unfinished executions, oldest first, and the one queued behind them (if any)."""

    unfinished: list[UUID] = field(default_factory=list)
    queued: UUID | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    decisions: list[Fire | Skip]
    cursor: datetime


def plan(
    job_id: UUID, definition: JobDefinition, cursor: datetime, now: datetime, runs: RunsInFlight
) -> Plan:
    """Decide every occurrence in (cursor, now]."""
    cron = definition.cron
    if cron is None or cursor >= now:
        return Plan([], cursor)
    boundary = now - timedelta(milliseconds=definition.misfire.grace_ms)
    late_fires, late_skip = _late(cron, definition, cursor, boundary)
    on_time = [Fire(t) for t in cron.between(max(cursor, boundary), now, ON_TIME_LIMIT)]
    decisions: list[Fire | Skip] = [late_skip] if late_skip else []
    decisions += apply_overlap(job_id, definition.overlap, late_fires + on_time, runs)
    last = max((d.instant if isinstance(d, Fire) else d.last for d in decisions), default=None)
    return Plan(decisions, max(cursor, last) if last else cursor)


def disabled_period(
    definition: JobDefinition, cursor: datetime, until: datetime, reason: SkipReason
) -> Skip | None:
    """The occurrences a job missed while it (or its module) was disabled, as one record."""
    cron = definition.cron
    if cron is None or until <= cursor:
        return None
    count, estimated = count_occurrences(cron, cursor, until)
    if count == 0:
        return None
    last = cron.latest_between(cursor, until, 1)[0]
    return Skip(reason, cron.next_after(cursor), last, count, estimated)


def count_occurrences(cron: CronSchedule, start: datetime, end: datetime) -> tuple[int, bool]:
    """How many occurrences lie in (start, end]: exact up to COUNT_CAP, then extrapolated."""
    found = cron.between(start, end, COUNT_CAP)
    if len(found) < COUNT_CAP:
        return len(found), False
    covered = (found[-1] - start).total_seconds()
    return int(COUNT_CAP * (end - start).total_seconds() / covered), True


def _late(
    cron: CronSchedule, definition: JobDefinition, cursor: datetime, boundary: datetime
) -> tuple[list[Fire], Skip | None]:
    if boundary <= cursor:
        return [], None
    total, estimated = count_occurrences(cron, cursor, boundary)
    if total == 0:
        return [], None
    policy = definition.misfire
    keep = {CatchUp.NONE: 0, CatchUp.LATEST: 1, CatchUp.ALL: policy.limit}[policy.catch_up]
    if keep >= total:
        return [Fire(t, catch_up=True) for t in cron.between(cursor, boundary, keep)], None
    tail = cron.latest_between(cursor, boundary, keep + 1)
    fires = [Fire(t, catch_up=True) for t in tail[1:]]
    skip = Skip(SkipReason.MISFIRE, cron.next_after(cursor), tail[0], total - keep, estimated)
    return fires, skip


def apply_overlap(
    job_id: UUID, policy: OverlapPolicy, fires: list[Fire], runs: RunsInFlight
) -> list[Fire | Skip]:
    """Fires that pass the overlap policy; the others become overlap skips."""
    if policy is OverlapPolicy.ALLOW:
        return list(fires)  # runs in flight do not matter (the log still tracks them)
    decided: list[Fire | Skip] = []
    for fire in fires:
        if not runs.unfinished:
            decided.append(fire)
        elif policy is OverlapPolicy.QUEUE and runs.queued is None:
            decided.append(replace(fire, wait_for=runs.unfinished[-1]))
            runs.queued = occurrence_id(job_id, fire.instant)
        else:
            decided.append(Skip(SkipReason.OVERLAP, fire.instant, fire.instant, 1))
            continue
        runs.unfinished.append(occurrence_id(job_id, fire.instant))
    return decided
