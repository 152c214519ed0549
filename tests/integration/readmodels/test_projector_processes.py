"""Real projector processes: killed with SIGKILL mid-batch, and failing over to a standby."""

from __future__ import annotations

import asyncio
import signal
import subprocess

import asyncpg

from domain.bus_event import BusEvent
from infrastructure.eventstore.store import EventsourcingStore
from infrastructure.readmodels.bench import seed_history
from infrastructure.readmodels.rebuild import rebuild_projections
from infrastructure.readmodels.registry import PROJECTIONS
from tests.integration.readmodels.builders import T0, complete, contents, new_job, request
from tests.integration.readmodels.processes import (
    all_past,
    head,
    lowest_position,
    postgres_connections,
    start_projector,
    stop,
)
from tests.support.waiting import eventually


async def _counted_exactly_once(pool: asyncpg.Pool) -> None:
    """Incremented counters equal what the store holds: nothing was applied twice or lost."""
    stored = await pool.fetchrow(
        "SELECT count(*) FILTER (WHERE topic = 'execution.requested') AS runs, "
        "count(*) FILTER (WHERE topic = 'event.emitted') AS events FROM almanac_events"
    )
    assert stored is not None
    runs = await pool.fetchval("SELECT coalesce(sum(total), 0) FROM rm_job_runs")
    events = await pool.fetchval(
        "SELECT coalesce(sum(count), 0) FROM rm_event_counts WHERE kind = 'name'"
    )
    assert (runs, events) == (stored["runs"], stored["events"])


async def test_a_projector_killed_mid_batch_and_restarted_matches_a_full_rebuild(
    fresh_database_url: str,
    fresh_pool: asyncpg.Pool,
    fresh_store: EventsourcingStore,
    redis_url: str,
    redis_prefix: str,
) -> None:
    await asyncio.to_thread(seed_history, fresh_store.app, 30_000, 40)
    end = await head(fresh_pool)
    first = start_projector(fresh_database_url, redis_url, redis_prefix)
    try:
        executions = "SELECT position FROM almanac_positions WHERE name = 'executions'"

        async def busy() -> bool:
            return (await fresh_pool.fetchval(executions) or 0) > 0

        await eventually(busy, timeout=30, what="the first projector applied a batch")
        first.send_signal(signal.SIGKILL)  # while it keeps committing batches
        first.wait(10)
        at_kill = await fresh_pool.fetchval(executions)
    finally:
        stop(first)
    assert at_kill < end, "the projector finished before it could be killed mid-way"

    second = start_projector(fresh_database_url, redis_url, redis_prefix)
    try:
        await eventually(
            lambda: all_past(fresh_pool, end), timeout=60, what="the restarted projector caught up"
        )
    finally:
        assert stop(second) == 0  # SIGTERM stops it cleanly
    recovered = await contents(fresh_pool)
    await _counted_exactly_once(fresh_pool)

    await rebuild_projections(fresh_pool, PROJECTIONS)

    assert await contents(fresh_pool) == recovered


async def test_a_standby_takes_over_from_a_killed_projector_and_applies_nothing_twice(
    fresh_database_url: str,
    fresh_pool: asyncpg.Pool,
    fresh_store: EventsourcingStore,
    redis_url: str,
    redis_prefix: str,
) -> None:
    active = start_projector(fresh_database_url, redis_url, redis_prefix)
    standby = None
    stop_writing = asyncio.Event()

    async def write() -> None:
        job = new_job()
        await fresh_store.save(job)
        n = 0
        while not stop_writing.is_set():
            run = request(job, n)
            complete(run, n + 1, 1, result={"n": n})
            event = BusEvent.emit("failover.tick", {"n": n}, source="test", at=T0)
            await fresh_store.save(run, event)
            n += 1

    writer = asyncio.create_task(write())
    try:
        await eventually(
            lambda: _positive(fresh_pool), timeout=30, what="the first projector is active"
        )
        standby = start_projector(fresh_database_url, redis_url, redis_prefix)
        await eventually(
            lambda: _connected(standby, fresh_database_url), timeout=30, what="the standby is up"
        )
        active.send_signal(signal.SIGKILL)
        active.wait(10)
        killed_at = await head(fresh_pool)
        # The failover's bound is this wait's deadline (no wall-clock assertions in tests).
        await eventually(
            lambda: all_past(fresh_pool, killed_at + 1), timeout=10, what="the standby took over"
        )
        stop_writing.set()
        await writer
        end = await head(fresh_pool)
        await eventually(
            lambda: all_past(fresh_pool, end), timeout=30, what="the standby caught up"
        )
    finally:
        stop_writing.set()
        await asyncio.gather(writer, return_exceptions=True)
        stop(active)
        if standby is not None:
            stop(standby)
    await _counted_exactly_once(fresh_pool)
    live = await contents(fresh_pool)
    await rebuild_projections(fresh_pool, PROJECTIONS)
    assert await contents(fresh_pool) == live


async def _positive(pool: asyncpg.Pool) -> bool:
    return await lowest_position(pool) > 0


async def _connected(process: subprocess.Popen[bytes], database_url: str) -> bool:
    return postgres_connections(process, database_url) >= 2
