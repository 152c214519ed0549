"""The followers of one process share one read of the log's head, and never miss a commit."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, cast

import asyncpg
import pytest

from domain.bus_event import BusEvent
from domain.job import Job, new_job_id
from domain.job_definition import JobDefinition
from infrastructure.eventstore.store import EventsourcingStore
from infrastructure.postgres import log_cache
from infrastructure.postgres.listener import SharedListener
from infrastructure.postgres.log_cache import SharedLogReader
from infrastructure.postgres.log_tailer import EVENTS_TABLE, LogTailer
from infrastructure.readmodels.event_queries import PostgresEventQueries
from infrastructure.readmodels.events_projection import EventsProjection
from infrastructure.readmodels.runner import ProjectionRunner

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


class Notifications:
    """The events table's notifications as this process receives them."""

    def __init__(self, database_url: str) -> None:
        self.count = 0
        self._is_listening = False
        self._heard_one = asyncio.Event()
        self.close = SharedListener.of(database_url).subscribe(EVENTS_TABLE, self._heard)

    def _heard(self, payload: str | None) -> None:
        if payload is None:  # the listener (re)connected
            self._is_listening = True
        else:
            self.count += 1
        self._heard_one.set()

    async def listening(self) -> None:
        await self._until(lambda: self._is_listening)

    async def received(self, count: int) -> None:
        await self._until(lambda: self.count >= count)

    async def _until(self, done: Callable[[], bool]) -> None:
        while not done():
            self._heard_one.clear()
            await asyncio.wait_for(self._heard_one.wait(), 10)


@contextlib.contextmanager
def attached(pool: Any, database_url: str) -> Iterator[SharedLogReader]:
    """The process's reader, attached as a follower's would be for the block."""
    reader = SharedLogReader.of(cast(asyncpg.Pool, pool), database_url)
    detach = reader.attach()
    try:
        yield reader
    finally:
        detach()


async def save_jobs(store: EventsourcingStore, count: int) -> list[int]:
    now = datetime.now(UTC)
    return [
        await store.save(Job.create(new_job_id(), DEFINITION, enabled=True, actor="t", at=now))
        for _ in range(count)
    ]


async def test_followers_at_the_head_are_answered_by_one_read(
    pool: asyncpg.Pool, database_url: str, store: EventsourcingStore
) -> None:
    notifications = Notifications(database_url)
    await notifications.listening()
    counting = CountingPool(pool)
    with attached(counting, database_url) as reader:
        start = await store.head()
        saved = await save_jobs(store, 3)
        await notifications.received(3)  # so that both reads follow the same notifications

        first = await reader.read(start, 100)
        second = await reader.read(start, 100, topics={"job.created"})
    notifications.close()

    assert first is not None
    assert second is not None
    assert [row.position for row in first.rows] == saved
    assert [row.position for row in second.rows] == saved
    assert first.end == second.end == saved[-1]
    assert counting.queries == 1


async def test_a_projection_reads_again_after_rows_the_window_held(
    pool: asyncpg.Pool, database_url: str, store: EventsourcingStore
) -> None:
    notifications = Notifications(database_url)
    await notifications.listening()
    with attached(pool, database_url) as reader:
        runner = ProjectionRunner(pool, EventsProjection(), shared=reader)
        await runner.catch_up()
        first = BusEvent.emit("cache.first", {}, source="test", at=datetime.now(UTC))
        await store.save(first)
        await notifications.received(1)
        assert await reader.read(runner.position, 100) is not None  # the window holds `first`
        second = BusEvent.emit("cache.second", {}, source="test", at=datetime.now(UTC))
        await store.save(second)
        await notifications.received(2)

        while await runner.step():  # as the projector does before it sleeps
            pass
    notifications.close()

    events = PostgresEventQueries(pool)
    assert await events.get_event(first.id) is not None
    assert await events.get_event(second.id) is not None


async def test_a_follower_behind_the_window_reads_the_table_itself(
    pool: asyncpg.Pool, database_url: str, store: EventsourcingStore
) -> None:
    before = await store.head()
    saved = await save_jobs(store, 2)
    with attached(pool, database_url) as reader:
        assert await reader.read(saved[-1], 100) is not None  # seats the window there
        assert await reader.read(before, 100) is None

        batches = LogTailer(pool, database_url).batches(after=before)
        rows = await asyncio.wait_for(anext(batches), 10)
        await batches.aclose()

    assert [row.position for row in rows] == saved


async def test_a_commit_after_a_fresh_read_reaches_the_follower_it_wakes(
    pool: asyncpg.Pool, database_url: str, store: EventsourcingStore
) -> None:
    notifications = Notifications(database_url)
    await notifications.listening()  # so that commits are notified from now on
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
    notifications.close()

    assert [row.position for row in rows] == saved


@pytest.fixture
def small_window(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A window of four rows, so that a test of six events sees it full."""
    monkeypatch.setattr(log_cache, "CAPACITY", 4)
    return monkeypatch


@pytest.mark.usefixtures("small_window")
async def test_a_follower_whose_rows_the_window_dropped_reads_the_table_itself(
    pool: asyncpg.Pool, database_url: str, store: EventsourcingStore
) -> None:
    start = await store.head()
    saved = await save_jobs(store, 6)
    with attached(pool, database_url) as reader:
        assert await reader.read(start, 100) is None  # read, then the oldest half was dropped
        newest = await reader.read(saved[3], 100)

    assert newest is not None
    assert [row.position for row in newest.rows] == saved[4:]


async def test_a_follower_far_ahead_moves_the_window_from_a_laggard(
    pool: asyncpg.Pool,
    database_url: str,
    store: EventsourcingStore,
    small_window: pytest.MonkeyPatch,
) -> None:
    small_window.setattr(log_cache, "REFRESH_LIMIT", 2)
    start = await store.head()
    counting = CountingPool(pool)
    with attached(counting, database_url) as reader:
        assert await reader.read(start, 100) is not None  # the laggard seats it
        saved = await save_jobs(store, 6)
        before = counting.queries

        ahead = await reader.read(saved[-2], 100)
        behind = await reader.read(start, 100)

    assert ahead is not None
    assert [row.position for row in ahead.rows] == saved[-1:]
    assert counting.queries - before == 1  # not a crawl from the laggard's position
    assert behind is None
