"""Retention deletes only old bus events: from the read model, the statistics, the store and
the stream; what stays is exactly what a rebuild from the remaining log produces."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from redis.asyncio import Redis

from domain.bus_event import BusEvent
from infrastructure.eventstore.store import EventsourcingStore
from infrastructure.readmodels.event_queries import PostgresEventQueries
from infrastructure.readmodels.rebuild import rebuild_projections
from infrastructure.readmodels.registry import PROJECTIONS
from infrastructure.readmodels.retention import PostgresEventRetention
from infrastructure.redis.keys import RedisKeys
from tests.integration.readmodels.builders import at, complete, contents, new_job, project, request

DAY = 24 * 3600


@pytest.fixture
async def redis(redis_url: str, redis_prefix: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.delete(RedisKeys(redis_prefix).events)
    await client.aclose()


async def test_retention_removes_only_old_bus_events_everywhere(
    fresh_pool: asyncpg.Pool, fresh_store: EventsourcingStore, redis: Redis, redis_prefix: str
) -> None:
    job = new_job()
    run = request(job, 0)
    complete(run, 1, 1)
    old = [BusEvent.emit("old.one", {"n": n}, source="s1", at=at(n * 60)) for n in range(5)]
    new = [BusEvent.emit("new.one", {"n": n}, source="s1", at=at(40 * DAY + n)) for n in range(3)]
    await fresh_store.save(job, run, *old[:2])
    await fresh_store.save(*old[2:], *new)
    await project(fresh_pool)
    stream = RedisKeys(redis_prefix).events
    head = await fresh_pool.fetchval("SELECT max(notification_id) FROM almanac_events")
    for position in range(1, head + 1):  # what the relay would have published
        await redis.xadd(stream, {"envelope": "{}"}, id=f"{position}-0")

    retention = PostgresEventRetention(fresh_pool, redis, redis_prefix)
    deleted = await retention.delete_events_before(at(30 * DAY))

    assert deleted == 5
    events = PostgresEventQueries(fresh_pool)
    assert {e.get("n") for e in [v.payload for v in await events.recent_events(50)]} == {0, 1, 2}
    stats = await events.event_stats(at(40 * DAY + 10))
    assert (stats.total, [top.name for top in stats.top_events]) == (3, ["new.one"])
    stored = await fresh_pool.fetch("SELECT topic FROM almanac_events ORDER BY notification_id")
    topics = [row["topic"] for row in stored]
    assert topics.count("event.emitted") == 3
    assert "job.created" in topics
    assert topics.count("execution.completed") == 1
    oldest_kept = min(v.position for v in await events.recent_events(50))
    entries = await redis.xrange(stream, count=1)
    assert entries is not None
    assert entries[0][0] == f"{oldest_kept}-0".encode()
    assert await retention.delete_events_before(at(30 * DAY)) == 0
    kept = await contents(fresh_pool)
    await rebuild_projections(fresh_pool, PROJECTIONS)
    assert await contents(fresh_pool) == kept


async def test_counts_of_a_minute_shared_by_old_and_new_events_stay_right(
    fresh_pool: asyncpg.Pool, fresh_store: EventsourcingStore, redis: Redis, redis_prefix: str
) -> None:
    same_minute = [at(10), at(20), at(50)]
    await fresh_store.save(*[BusEvent.emit("e", {}, source="s", at=t) for t in same_minute])
    await project(fresh_pool)

    deleted = await PostgresEventRetention(fresh_pool, redis, redis_prefix).delete_events_before(
        at(30)
    )

    assert deleted == 2
    minutes = await fresh_pool.fetch("SELECT minute, count FROM rm_event_minutes")
    assert [(row["minute"], row["count"]) for row in minutes] == [(at(0), 1)]
    assert (await PostgresEventQueries(fresh_pool).event_stats(at(60))).last24h == 1
