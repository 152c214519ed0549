"""Postgres adapters for the scheduler: shared cursors, replica membership, the job feed."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol
from uuid import UUID

import asyncpg

from application.dependencies import Dependencies
from application.ports import EventStore, ReadModelSync
from application.queries import ExecutionQueries, JobQueries, ModuleQueries, every
from application.scheduling.directory import JobDirectory
from application.scheduling.scheduler import CronScheduler
from application.scheduling.triggers import TriggerRouter
from application.views import ExecutionFilters, JobFilters
from domain.execution import TERMINAL_EVENTS, Execution
from infrastructure.envelope import envelope
from infrastructure.postgres.log_tailer import LogTailer
from infrastructure.postgres.positions import Positions, ThrottledPosition

log = logging.getLogger(__name__)
MEMBER_TTL_SECONDS = 3.0
TRIGGERS_POSITION = "triggers"
_JOB_STATE_TOPICS = (
    "job.created",
    "job.updated",
    "job.enabled",
    "job.disabled",
    "job.deleted",
    "module.registered",
    "module.updated",
    "module.enabled",
    "module.disabled",
)
# Job and module state, and the runs in flight (requested, then ended).
FEED_TOPICS = (
    *_JOB_STATE_TOPICS,
    Execution.Created.TOPIC,
    *(event.TOPIC for event in TERMINAL_EVENTS),
)


class PostgresCursorStore:
    """Implements application.scheduling.scheduler.CursorStore."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def load(self, job_ids: Iterable[UUID]) -> dict[UUID, datetime]:
        rows = await self._pool.fetch(
            "SELECT job_id, decided_until FROM scheduler_cursors WHERE job_id = ANY($1::uuid[])",
            list(job_ids),
        )
        return {row["job_id"]: row["decided_until"] for row in rows}

    async def save(self, cursors: dict[UUID, datetime]) -> None:
        await self._pool.execute(
            """
            INSERT INTO scheduler_cursors (job_id, decided_until)
            SELECT * FROM unnest($1::uuid[], $2::timestamptz[])
            ON CONFLICT (job_id) DO UPDATE
            SET decided_until = GREATEST(scheduler_cursors.decided_until, EXCLUDED.decided_until)
            """,
            list(cursors),
            list(cursors.values()),
        )


class PostgresOwnership:
    """Implements Ownership: each job belongs to the live replica with the highest hash."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.member_id = uuid.uuid4().hex
        self._members: tuple[str, ...] = (self.member_id,)

    def owns(self, job_id: UUID) -> bool:
        return _owner(job_id, self._members) == self.member_id

    async def refresh(self) -> bool:
        async with self._pool.acquire() as connection:
            await connection.execute(
                "INSERT INTO scheduler_members (member_id) VALUES ($1) "
                "ON CONFLICT (member_id) DO UPDATE SET last_seen = now()",
                self.member_id,
            )
            rows = await connection.fetch(
                "SELECT member_id FROM scheduler_members "
                "WHERE last_seen > now() - make_interval(secs => $1)",
                MEMBER_TTL_SECONDS,
            )
        members = tuple(sorted({row["member_id"] for row in rows} | {self.member_id}))
        changed = members != self._members
        self._members = members
        if changed:
            log.info("scheduler replicas: %d live", len(members))
        return changed

    async def leave(self) -> None:
        await self._pool.execute(
            "DELETE FROM scheduler_members WHERE member_id = $1", self.member_id
        )


def _owner(job_id: UUID, members: tuple[str, ...]) -> str:
    def weight(member: str) -> bytes:
        return hashlib.blake2b(member.encode() + job_id.bytes, digest_size=8).digest()

    return max(members, key=weight)


async def load_directory(
    jobs: JobQueries, modules: ModuleQueries, executions: ExecutionQueries
) -> JobDirectory:
    """Jobs, module states and unfinished runs as the read models show them now."""
    directory = JobDirectory()
    for module in await modules.list_modules():
        directory.load_module(module)
    async for job in every(jobs.list_jobs, JobFilters()):
        directory.load_job(job)
    for status in ("PENDING", "RUNNING"):
        async for run in every(executions.list_executions, ExecutionFilters(status=status)):
            directory.load_run(run)
    return directory


async def follow_jobs(
    scheduler: CronScheduler, pool: asyncpg.Pool, database_url: str, after: int
) -> None:
    """Feed job, module and execution events to the scheduler, in log order, forever."""
    tailer = LogTailer(pool, database_url, topics=FEED_TOPICS)
    async for rows in tailer.batches(after):
        for row in rows:
            scheduler.observe(row.decode())


async def caught_up_head(store: EventStore, sync: ReadModelSync) -> int:
    """The store head, once the read models have reached it (so loading them is consistent)."""
    head = await store.head()
    await sync.wait_for(head, within=30)
    return head


async def follow_triggers(
    deps: Dependencies,
    read: ReadModelsForTriggers,
    sync: ReadModelSync,
    pool: asyncpg.Pool,
    database_url: str,
) -> None:
    """Route every store event, from the stored `triggers` position (at-least-once).

    The router keeps its own view of jobs, updated from this same tail: each event is
    routed with the jobs as they were at that point of the log, so a job created just before
    a matching event always sees it.
    """
    positions = ThrottledPosition(Positions(pool), TRIGGERS_POSITION)
    position = await positions.get()
    await sync.wait_for(position, within=30)
    directory = await load_directory(read.jobs, read.modules, read.executions)
    router = TriggerRouter(deps, directory)
    async for rows in LogTailer(pool, database_url).batches(position):
        listening = router.listening()
        for row in rows:
            event = row.decode()
            if directory.observe(event) or row.topic in _JOB_STATE_TOPICS:
                listening = router.listening()
            if listening:  # with no job listening, no envelope needs building
                await router.route(envelope(event, row.position), listening)
        await positions.advance(rows[-1].position)


class ReadModelsForTriggers(Protocol):
    """The queries the trigger router loads its view of jobs from."""

    @property
    def jobs(self) -> JobQueries: ...

    @property
    def modules(self) -> ModuleQueries: ...

    @property
    def executions(self) -> ExecutionQueries: ...
