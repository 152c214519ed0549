"""The followers of one process share one read of the log's head, and never miss a commit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, cast

import asyncpg
import pytest

from domain.job import Job, new_job_id
from domain.job_definition import JobDefinition
from infrastructure.eventstore.store import EventsourcingStore
from infrastructure.postgres import log_cache
from infrastructure.postgres.listener import SharedListener
from infrastructure.postgres.log_cache import SharedLogReader
from infrastructure.postgres.log_tailer import EVENTS_TABLE, LogTailer

DEFINITION = JobDefinition("cached", "m", "jobs/a.py").validated()


class CountingPool:
    """Counts the queries sent through it, and says when one was answered."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.queries = 0
        self.answered = asyncio.Event()

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        self.queries += 1
        records = await self.pool.fetch(query, *args)
        self.answered.set()
        return records


async def save_jobs(store: EventsourcingStore, count: int) -> list[int]:
    now = datetime.now(UTC)
    return [
        await store.save(Job.create(new_job_id(), DEFINITION, enabled=True, actor="t", at=now))
        for _ in range(count)
    ]


async def test_followers_at_the_head_are_answered_by_one_read(
    pool: asyncpg.Pool, database_url: str, store: EventsourcingStore
) -> None:
    counting = CountingPool(pool)
    reader = SharedLogReader.of(cast(asyncpg.Pool, counting), database_url)
    detach = reader.attach()
    try:
        start = await store.head()
        saved = await save_jobs(store, 3)

        first = await reader.read(start, 100)
        second = await reader.read(start, 100, topics={"job.created"})
    finally:
        detach()

    assert first is not None
    assert second is not None
    assert [row.position for row in first.rows] == saved
    assert [row.position for row in second.rows] == saved
    assert first.end == second.end == saved[-1]
    assert counting.queries == 1


async def test_a_follower_behind_the_window_reads_the_table_itself(
    pool: asyncpg.Pool, database_url: str, store: EventsourcingStore
) -> None:
    before = await store.head()
    saved = await save_jobs(store, 2)
    reader = SharedLogReader.of(pool, database_url)
    detach = reader.attach()
    try:
        assert await reader.read(saved[-1], 100) is not None  # seats the window there
        assert await reader.read(before, 100) is None

        batches = LogTailer(pool, database_url).batches(after=before)
        rows = await asyncio.wait_for(anext(batches), 10)
        await batches.aclose()
    finally:
        detach()

    assert [row.position for row in rows] == saved


async def test_a_commit_after_a_fresh_read_reaches_the_follower_it_wakes(
    pool: asyncpg.Pool, database_url: str, store: EventsourcingStore
) -> None:
    listening = asyncio.Event()
    unsubscribe = SharedListener.of(database_url).subscribe(EVENTS_TABLE, lambda _: listening.set())
    await asyncio.wait_for(listening.wait(), 10)  # so that commits are notified from now on
    head = await store.head()
    counting = CountingPool(pool)
    # A poll far beyond the test's patience: only the notification can deliver in time.
    tailer = LogTailer(cast(asyncpg.Pool, counting), database_url, poll_interval=60)
    batches = tailer.batches(after=head)
    waiting = asyncio.ensure_future(anext(batches))
    await asyncio.wait_for(counting.answered.wait(), 10)  # it has read the empty head

    saved = await save_jobs(store, 1)
    rows = await asyncio.wait_for(waiting, 10)
    await batches.aclose()
    unsubscribe()

    assert [row.position for row in rows] == saved


async def test_a_follower_whose_rows_the_window_dropped_reads_the_table_itself(
    pool: asyncpg.Pool,
    database_url: str,
    store: EventsourcingStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(log_cache, "CAPACITY", 4)
    start = await store.head()
    saved = await save_jobs(store, 6)
    reader = SharedLogReader.of(pool, database_url)
    detach = reader.attach()
    try:
        assert await reader.read(start, 100) is None  # read, then the oldest half was dropped
        newest = await reader.read(saved[3], 100)
    finally:
        detach()

    assert newest is not None
    assert [row.position for row in newest.rows] == saved[4:]
