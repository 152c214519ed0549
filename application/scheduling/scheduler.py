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

from application.commands import RecordSkippedOccurrences, RequestScheduledExecution
from application.dependencies import Dependencies
from application.occurrences import record_skipped_occurrences, request_scheduled_execution
from application.scheduling.directory import Change, JobDirectory, ScheduledJob
from application.scheduling.plan import Fire, Skip, disabled_period, plan
from domain.execution_values import JobSnapshot
from domain.skipped_occurrences import SkipReason

log = logging.getLogger(__name__)
MAX_SLEEP = 1.0
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
        await self._apply_changes()
        now = self._deps.clock.now()
        due: list[ScheduledJob] = []
        while self._heap and self._heap[0][0] <= now:
            when, job_id = heapq.heappop(self._heap)
            job = self.directory.jobs.get(job_id)
            if job is not None and job.next_due == when and self._mine(job):
                due.append(job)
        if due:
            await asyncio.gather(*(self._decide(job, now) for job in due))

    async def _decide(self, job: ScheduledJob, now: datetime) -> None:
        cursor = job.cursor or job.created_at
        outcome = plan(job.job_id, job.definition, cursor, now, job.runs)
        snapshot = self._snapshot(job)
        results = await asyncio.gather(
            *(self._carry_out(job, d, snapshot) for d in outcome.decisions), return_exceptions=True
        )
        if any(isinstance(result, BaseException) for result in results):
            # The cursor stays put: the same occurrences are decided again shortly; those that
            # did get stored conflict then and are dropped, so nothing runs twice.
            job.next_due = now + RETRY_DELAY
            heapq.heappush(self._heap, (job.next_due, job.job_id))
            return
        self._advance(job, outcome.cursor)

    async def _carry_out(self, job: ScheduledJob, decision: Fire | Skip, snap: JobSnapshot) -> None:
        try:
            if isinstance(decision, Fire):
                command = RequestScheduledExecution(job.job_id, decision.instant, decision.wait_for)
                await request_scheduled_execution(command, self._deps, snapshot=snap)
            else:
                await self._record_skip(job.job_id, decision)
        except Exception as error:
            log.warning("could not decide %s for job %s: %s", decision, job.job_id, error)
            raise

    async def _record_skip(self, job_id: UUID, skip: Skip) -> None:
        """Record the skip; if its first occurrence was decided already (a cursor saved just
        before another decision), the record starts at the next one instead."""
        job = self.directory.jobs.get(job_id)
        cron = job.definition.cron if job else None
        while True:
            instants = [skip.first] if skip.first == skip.last else [skip.first, skip.last]
            command = RecordSkippedOccurrences(
                job_id, skip.reason, instants, skip.count, skip.estimated
            )
            outcome = await record_skipped_occurrences(command, self._deps)
            if outcome.changed or cron is None or skip.first >= skip.last:
                return
            first = cron.next_after(skip.first)
            skip = Skip(skip.reason, first, skip.last, skip.count - 1, skip.estimated)

    def _advance(self, job: ScheduledJob, cursor: datetime) -> None:
        job.cursor = cursor
        self._dirty[job.job_id] = cursor
        self._push(job)

    def _push(self, job: ScheduledJob) -> None:
        cron = job.definition.cron
        if cron is None or not self.directory.active(job) or not self._mine(job):
            job.next_due = None
            return
        job.next_due = cron.next_after(job.cursor or job.created_at)
        heapq.heappush(self._heap, (job.next_due, job.job_id))

    def _mine(self, job: ScheduledJob) -> bool:
        return self._ownership.owns(job.job_id)

    def _snapshot(self, job: ScheduledJob) -> JobSnapshot:
        definition = job.definition
        return JobSnapshot(
            job_id=job.job_id,
            job_name=definition.name,
            module_id=definition.module_id,
            handler=definition.handler,
            timeout_ms=definition.timeout_ms,
            retry=definition.retry,
            config=dict(definition.config),
            job_version=job.version,
            webhooks=definition.webhooks,
        )

    async def _apply_changes(self) -> None:
        changes, self._changes = self._changes, []
        for change, subject, at in changes:
            if change is Change.MODULE_ENABLED:
                for member in self.directory.jobs_of_module(str(subject)):
                    await self._catch_up_disabled(member, at, SkipReason.MODULE_DISABLED)
                continue
            job = self.directory.jobs.get(subject) if isinstance(subject, UUID) else None
            if job is None:
                continue
            if change is Change.ENABLED:
                await self._catch_up_disabled(job, at, SkipReason.DISABLED)
            elif job.cursor is None and self._mine(job):
                job.cursor = (await self._cursors.load([job.job_id])).get(job.job_id, at)
            self._push(job)

    async def _catch_up_disabled(self, job: ScheduledJob, at: datetime, reason: SkipReason) -> None:
        """Record, as one entry, the occurrences missed while the job or module was off."""
        if not self._mine(job) or not self.directory.active(job):
            return
        cursor = job.cursor or (await self._cursors.load([job.job_id])).get(job.job_id, at)
        skip = disabled_period(job.definition, cursor, at, reason)
        if skip is not None:
            with contextlib.suppress(Exception):  # at worst the record is missing, never doubled
                await self._record_skip(job.job_id, skip)
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
            delay = min(MAX_SLEEP, (self._heap[0][0] - self._deps.clock.now()).total_seconds())
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
