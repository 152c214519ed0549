"""Read-your-writes: after a save, wait_for(position) then the query sees the write."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import asyncpg
import pytest

from domain.bus_event import BusEvent
from infrastructure.eventstore.store import EventsourcingStore
from infrastructure.readmodels.event_queries import PostgresEventQueries
from infrastructure.readmodels.job_queries import PostgresJobQueries
from infrastructure.readmodels.positions import CHANNEL, SharedAnnouncer, parse_announcement
from infrastructure.readmodels.registry import PROJECTION_NAMES
from infrastructure.readmodels.service import run_projections
from infrastructure.readmodels.sync import PostgresReadModelSync
from tests.integration.readmodels.builders import T0, new_job


@pytest.fixture
async def sync(pool: asyncpg.Pool, database_url: str) -> AsyncIterator[PostgresReadModelSync]:
    sync = PostgresReadModelSync(pool, database_url, PROJECTION_NAMES)
    await sync.start()
    yield sync
    await sync.close()


@contextlib.asynccontextmanager
async def projector(pool: asyncpg.Pool, database_url: str) -> AsyncIterator[None]:
    task = asyncio.create_task(run_projections(pool, database_url))
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_hundred_saves_are_each_visible_right_after_wait_for(
    pool: asyncpg.Pool, database_url: str, store: EventsourcingStore, sync: PostgresReadModelSync
) -> None:
    jobs = PostgresJobQueries(pool)
    async with projector(pool, database_url):
        for n in range(100):
            job = new_job(f"ryw-{n:03d}")
            position = await store.save(job)
            assert await sync.wait_for(position, within=5.0)
            assert await jobs.get_job(job.id) is not None


async def test_wait_for_also_covers_projections_the_event_does_not_concern(
    pool: asyncpg.Pool, database_url: str, store: EventsourcingStore, sync: PostgresReadModelSync
) -> None:
    async with projector(pool, database_url):
        event = BusEvent.emit("ryw.ping", {}, source="test", at=T0)
        position = await store.save(event)
        assert await sync.wait_for(position, within=5.0)
        assert await PostgresEventQueries(pool).get_event(event.id) is not None
        positions = await pool.fetch("SELECT name, position FROM almanac_positions")
    assert set(PROJECTION_NAMES) <= {row["name"] for row in positions}
    assert sync.reached >= position


async def test_wait_for_gives_up_in_time_without_a_projector(
    fresh_pool: asyncpg.Pool, fresh_database_url: str, fresh_store: EventsourcingStore
) -> None:
    sync = PostgresReadModelSync(fresh_pool, fresh_database_url, PROJECTION_NAMES)
    await sync.start()
    try:
        position = await fresh_store.save(new_job())
        # A deadline short of the 2 s default, not a measurement: it fails only if `within`
        # is ignored, whatever the machine's load.
        async with asyncio.timeout(1.9):
            assert not await sync.wait_for(position, within=0.3)
        assert await sync.wait_for(0, within=0.1)
    finally:
        await sync.close()


async def test_wait_for_never_raises_when_postgres_is_unreachable(fresh_pool: asyncpg.Pool) -> None:
    sync = PostgresReadModelSync(fresh_pool, "postgresql://postgres@127.0.0.1:1/none", ["jobs"])
    await sync.start()
    try:
        await fresh_pool.close()
        assert not await sync.wait_for(10, within=0.2)
    finally:
        await sync.close()


async def test_projections_passing_positions_together_share_one_notification(
    pool: asyncpg.Pool,
) -> None:
    heard: asyncio.Queue[str] = asyncio.Queue()
    hear = lambda *args: heard.put_nowait(args[-1])  # noqa: E731
    announcer = SharedAnnouncer(pool)
    async with pool.acquire() as listener:
        await listener.add_listener(CHANNEL, hear)
        try:
            await asyncio.gather(announcer.announce("jobs", 7), announcer.announce("events", 9))
            payload = await asyncio.wait_for(heard.get(), 5)
            await announcer.announce("jobs", 8)
            later = await asyncio.wait_for(heard.get(), 5)
        finally:
            await listener.remove_listener(CHANNEL, hear)

    assert sorted(parse_announcement(payload)) == [("events", 9), ("jobs", 7)]
    assert parse_announcement(later) == [("jobs", 8)]
    assert heard.empty()
