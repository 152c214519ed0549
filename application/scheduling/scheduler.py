"""The cron scheduler: fires every owned job's occurrences when they come, exactly once.

Jobs are spread across scheduler replicas (Ownership); a replica decides only its own jobs,
continuing from the cursor the previous owner left. If two replicas ever decide the same
occurrence, the store keeps one decision: ids are derived from (job, instant).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from application.commands import RequestScheduledExecution
from application.dependencies import Dependencies
from application.occurrences import record_skip, scheduled_execution
from application.scheduling.directory import Change, JobDirectory, ScheduledJob
from application.scheduling.on_time import (
    OnTime,
    by_instant,
    collector_deferred,
    on_time_occurrences,
)
from application.scheduling.plan import Fire, Skip, apply_overlap, disabled_period, plan
from domain.execution import Execution
from domain.skipped_occurrences import SkippedOccurrences, SkipReason

log = logging.getLogger(__name__)
MAX_SLEEP = 1.0
# On-time decisions are built this long before their instant and saved when it comes: a
# thousand runs take a few hundred milliseconds to build on a busy machine.
LEAD = timedelta(milliseconds=500)
RETRY_DELAY = timedelta(seconds=1)


class Ownership(Protocol):
    """Which jobs this replica decides; refreshed from live membership."""

    def owns(self, job_id: UUID) -> bool: ...

    async def refresh(self) -> bool:
        """Heartbeat and recompute; True when the set of live replicas changed."""
        ...


class CursorStore(Protocol):
    """The last decided occurrence of each job, shared by all replicas (never moves back)."""

    async def load(self, job_ids: Iterable[UUID]) -> dict[UUID, datetime]: ...

    async def save(self, cursors: dict[UUID, datetime]) -> None: ...


class CronScheduler:
    def __init__(
        self,
        deps: Dependencies,
        directory: JobDirectory,
        ownership: Ownership,
        cursors: CursorStore,
    ) -> None:
        self._deps = deps
        self.directory = directory
        self._ownership = ownership
        self._cursors = cursors
        self._heap: list[tuple[datetime, UUID]] = []
        self._wake = asyncio.Event()
        self._changes: list[tuple[Change, UUID | str, datetime]] = []
        self._dirty: dict[UUID, datetime] = {}

    async def start(self) -> None:
        await self._ownership.refresh()
        await self._reschedule_all()

    async def run(self) -> None:
        """Wake at the next due occurrence (or on a job change), decide, persist cursors."""
        refresher = asyncio.create_task(self._refresh_ownership())
        try:
            while True:
                await self._decide_due()
                await self._flush_cursors()
                await self._sleep_until_next()
        finally:
            refresher.cancel()
            await asyncio.shield(self._flush_cursors())  # a clean stop leaves exact cursors

    def observe(self, event: Any) -> None:
        """Feed one store event (in log order) from the job/module/execution feed."""
        for change, subject, at in self.directory.observe(event):
            self._changes.append((change, subject, at))
        if self._changes:
            self._wake.set()

    async def _decide_due(self) -> None:
        """Decide what is due; on-time occurrences a moment early, saved at their instant."""
        await self._apply_changes()
        now = self._deps.clock.now()
        on_time: list[OnTime] = []
        late: list[ScheduledJob] = []
        not_yet: list[tuple[datetime, UUID]] = []
        seen: set[UUID] = set()
        while self._heap and self._heap[0][0] <= now + LEAD:
            when, job_id = heapq.heappop(self._heap)
            job = self.directory.jobs.get(job_id)
            if job is None or job.next_due != when or job_id in seen or not self._mine(job):
                continue  # stale, or pushed twice (two changes in one batch): decide once
            seen.add(job_id)
            due = on_time_occurrences(job, when, now)
            if due is not None:
                on_time.append(due)
            elif when <= now:
                late.append(job)
            else:
                not_yet.append((when, job_id))
        for entry in not_yet:
            heapq.heappush(self._heap, entry)
        if on_time or late:
            await asyncio.gather(self._decide_on_time(on_time, now), self._decide_late(late, now))

    async def _decide_on_time(self, due: list[OnTime], now: datetime) -> None:
        """The common case, batched per instant: built ahead, saved when the instant comes."""
        for instant, decided in by_instant(due):
            at = max(now, instant)
            # Runs of `allow` jobs do not depend on what else runs: built during the lead.
            ahead = {id(e): self._decisions(e, at) for e in decided if e.overlap_free}
            await self._sleep_until(instant)
            # A job changed during the lead is decided again from its cursor, with the change.
            group = [e for e in decided if self._unchanged(e)]
            aggregates = [a for e in group for a in ahead.get(id(e)) or self._decisions(e, at)]
            with collector_deferred():
                await self._save_on_time(group, aggregates)

    def _decisions(self, entry: OnTime, at: datetime) -> list[Execution | SkippedOccurrences]:
        job = entry.job
        fires = [Fire(t) for t in entry.instants]
        decided = apply_overlap(job.job_id, job.definition.overlap, fires, job.runs)
        return [self._aggregate(job, decision, at) for decision in decided]

    def _unchanged(self, entry: OnTime) -> bool:
        job = entry.job
        return (
            self.directory.jobs.get(job.job_id) is job
            and job.version == entry.version
            and self.directory.active(job)
            and self._mine(job)
        )

    async def _save_on_time(
        self, group: list[OnTime], aggregates: list[Execution | SkippedOccurrences]
    ) -> None:
        try:
            await self._deps.store.save_each(aggregates)  # None entries: already decided
        except Exception as error:
            log.warning("could not record %d scheduled decisions: %s", len(aggregates), error)
            for entry in group:
                self._retry_soon(entry.job, self._deps.clock.now())
            return
        for entry in group:
            self._advance_to(entry.job, entry.instants[-1], entry.following)

    async def _sleep_until(self, instant: datetime) -> None:
        delay = (instant - self._deps.clock.now()).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)

    def _aggregate(
        self, job: ScheduledJob, decision: Fire | Skip, now: datetime
    ) -> Execution | SkippedOccurrences:
        if isinstance(decision, Fire):
            return scheduled_execution(_request(job, decision), job.snapshot(), now)
        return SkippedOccurrences.record(job.job_id, decision.reason, [decision.first], at=now)

    async def _decide_late(self, jobs: list[ScheduledJob], now: datetime) -> None:
        """Everything but the common case (late occurrences, several due, a retry), batched:
        after a stall every job is late at once, and deciding them one save at a time would
        take longer than the next second, so the scheduler would never catch up."""
        plans = [
            (job, plan(job.job_id, job.definition, job.cursor or job.created_at, now, job.runs))
            for job in jobs
        ]
        fires = [(job, d) for job, p in plans for d in p.decisions if isinstance(d, Fire)]
        skips = [(job, d) for job, p in plans for d in p.decisions if isinstance(d, Skip)]
        failed = await self._save_fires(fires, now)
        results = await asyncio.gather(
            *(self._record_skip(job, skip) for job, skip in skips), return_exceptions=True
        )
        for (job, skip), result in zip(skips, results, strict=True):
            if isinstance(result, Exception):
                log.warning("could not record %s for job %s: %s", skip, job.job_id, result)
                failed.add(job.job_id)
        for job, outcome in plans:
            if job.job_id in failed:
                self._retry_soon(job, now)
            else:
                self._advance(job, outcome.cursor)

    async def _save_fires(self, fires: list[tuple[ScheduledJob, Fire]], now: datetime) -> set[UUID]:
        """Save every fire in one batch (those decided already are dropped); ids that failed."""
        try:
            await self._deps.store.save_each([self._aggregate(job, f, now) for job, f in fires])
        except Exception as error:
            log.warning("could not record %d scheduled runs: %s", len(fires), error)
            return {job.job_id for job, _ in fires}
        return set()

    def _retry_soon(self, job: ScheduledJob, now: datetime) -> None:
        # The cursor stays put: the same occurrences are decided again shortly; those that
        # did get stored conflict then and are dropped, so nothing runs twice.
        job.fires, job.next_due = None, now + RETRY_DELAY
        heapq.heappush(self._heap, (job.next_due, job.job_id))

    async def _record_skip(self, job: ScheduledJob, skip: Skip) -> None:
        await record_skip(job.job_id, job.definition.cron, skip, self._deps)

    def _advance(self, job: ScheduledJob, cursor: datetime) -> None:
        job.cursor = cursor
        self._dirty[job.job_id] = cursor
        self._push(job)

    def _advance_to(self, job: ScheduledJob, cursor: datetime, following: datetime) -> None:
        """Fast path: the live iterator already knows the next occurrence."""
        job.cursor, job.next_due = cursor, following
        self._dirty[job.job_id] = cursor
        heapq.heappush(self._heap, (following, job.job_id))

    def _push(self, job: ScheduledJob) -> None:
        """(Re)start the job's cron iterator after its cursor and queue its next occurrence."""
        cron = job.definition.cron
        if cron is None or not self.directory.active(job) or not self._mine(job):
            job.next_due, job.fires = None, None
            return
        job.fires = cron.iter_after(job.cursor or job.created_at)
        job.next_due = next(job.fires)
        heapq.heappush(self._heap, (job.next_due, job.job_id))

    def _mine(self, job: ScheduledJob) -> bool:
        return self._ownership.owns(job.job_id)

    async def _apply_changes(self) -> None:
        changes, self._changes = self._changes, []
        stored = await self._stored_cursors(changes)
        for change, subject, at in changes:
            if change is Change.MODULE_ENABLED:
                for member in self._changed_jobs(change, subject):
                    await self._catch_up_disabled(member, at, SkipReason.MODULE_DISABLED, stored)
                continue
            for job in self._changed_jobs(change, subject):
                if change is Change.ENABLED:
                    await self._catch_up_disabled(job, at, SkipReason.DISABLED, stored)
                elif job.cursor is None and self._mine(job):
                    job.cursor = stored.get(job.job_id, at)
                self._push(job)

    def _changed_jobs(self, change: Change, subject: UUID | str) -> list[ScheduledJob]:
        if change is Change.MODULE_ENABLED:
            return self.directory.jobs_of_module(str(subject))
        job = self.directory.jobs.get(subject) if isinstance(subject, UUID) else None
        return [job] if job else []

    async def _stored_cursors(
        self, changes: list[tuple[Change, UUID | str, datetime]]
    ) -> dict[UUID, datetime]:
        """Stored cursors of the changed jobs this replica has none for: one read per batch."""
        missing = {
            job.job_id
            for change, subject, _ in changes
            for job in self._changed_jobs(change, subject)
            if job.cursor is None and self._mine(job)
        }
        return await self._cursors.load(missing) if missing else {}

    async def _catch_up_disabled(
        self, job: ScheduledJob, at: datetime, reason: SkipReason, stored: dict[UUID, datetime]
    ) -> None:
        """Record, as one entry, the occurrences missed while the job or module was off."""
        if not self._mine(job) or not self.directory.active(job):
            return
        cursor = job.cursor or stored.get(job.job_id, at)
        skip = disabled_period(job.definition, cursor, at, reason)
        if skip is not None:
            with contextlib.suppress(Exception):  # at worst the record is missing, never doubled
                await self._record_skip(job, skip)
        self._advance(job, max(cursor, at))

    async def _reschedule_all(self) -> None:
        owned = [job for job in self.directory.jobs.values() if self._mine(job)]
        cursors = await self._cursors.load([job.job_id for job in owned])
        self._heap = []
        for job in self.directory.jobs.values():
            job.cursor = cursors.get(job.job_id) if self._mine(job) else None
            self._push(job)

    async def _refresh_ownership(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            try:
                if await self._ownership.refresh():
                    await self._reschedule_all()
                    self._wake.set()
            except Exception as error:  # keep the previous view; next refresh may succeed
                log.warning("scheduler membership refresh failed: %s", error)

    async def _flush_cursors(self) -> None:
        if not self._dirty:
            return
        dirty, self._dirty = self._dirty, {}
        try:
            await self._cursors.save(dirty)
        except Exception as error:  # kept in memory; saved with the next batch
            log.warning("could not save scheduler cursors: %s", error)
            self._dirty = dirty | self._dirty

    async def _sleep_until_next(self) -> None:
        self._wake.clear()
        if self._changes:
            return
        delay = MAX_SLEEP
        if self._heap:
            wake_at = self._heap[0][0] - LEAD
            delay = min(MAX_SLEEP, (wake_at - self._deps.clock.now()).total_seconds())
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)


def _request(job: ScheduledJob, fire: Fire) -> RequestScheduledExecution:
    return RequestScheduledExecution(job.job_id, fire.instant, fire.wait_for, fire.catch_up)
