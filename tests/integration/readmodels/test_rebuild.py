"""Rebuilds: fresh tables filled from the log and swapped in while reads and writes go on."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import pytest

from application.views import EventFilters, ExecutionFilters, JobFilters, PageRequest
from domain.bus_event import BusEvent
from infrastructure.eventstore.store import EventsourcingStore
from infrastructure.readmodels.bench import seed_history
from infrastructure.readmodels.event_queries import PostgresEventQueries
from infrastructure.readmodels.execution_queries import PostgresExecutionQueries
from infrastructure.readmodels.job_queries import PostgresJobQueries
from infrastructure.readmodels.rebuild import rebuild_projections
from infrastructure.readmodels.registry import PROJECTION_NAMES, PROJECTIONS
from infrastructure.readmodels.service import run_projections
from tests.integration.readmodels.builders import T0, contents, project

SEEDED = 6000


async def _caught_up(pool: asyncpg.Pool) -> None:
    """Poll until every projection has passed the store's head."""
    async with asyncio.timeout(30):
        while True:
            head = await pool.fetchval(
                "SELECT coalesce(max(notification_id), 0) FROM almanac_events"
            )
            low = await pool.fetchval(
                "SELECT min(position) FROM almanac_positions WHERE name = ANY($1::text[])",
                list(PROJECTION_NAMES),
            )
            if low is not None and low >= head:
                return
            await asyncio.sleep(0.05)


async def test_a_rebuild_under_reads_and_writes_swaps_in_identical_tables(
    fresh_database_url: str, fresh_pool: asyncpg.Pool, fresh_store: EventsourcingStore
) -> None:
    await asyncio.to_thread(seed_history, fresh_store.app, SEEDED, 20)
    await project(fresh_pool)
    jobs, executions = PostgresJobQueries(fresh_pool), PostgresExecutionQueries(fresh_pool)
    events = PostgresEventQueries(fresh_pool)
    stop = asyncio.Event()
    reads = 0

    async def read_all_the_time() -> None:
        nonlocal reads
        while not stop.is_set():
            listed = await jobs.list_jobs(JobFilters(), PageRequest(500))
            assert len(listed.items) == 20  # never an empty or half-built table
            assert (
                len((await executions.list_executions(ExecutionFilters(), PageRequest(50))).items)
                == 50
            )
            assert len((await events.list_events(EventFilters(), PageRequest(50))).items) == 50
            reads += 1

    async def write_all_the_time() -> None:
        n = 0
        while not stop.is_set():
            await fresh_store.save(BusEvent.emit("during.rebuild", {"n": n}, source="t", at=T0))
            n += 1

    projector = asyncio.create_task(run_projections(fresh_pool, fresh_database_url))
    background = [
        asyncio.create_task(read_all_the_time()),
        asyncio.create_task(write_all_the_time()),
    ]
    try:
        reports = await rebuild_projections(fresh_pool, PROJECTIONS)
        stop.set()
        await asyncio.gather(*background)
        await _caught_up(fresh_pool)
    finally:
        stop.set()
        for task in (*background, projector):
            task.cancel()
        await asyncio.gather(*background, projector, return_exceptions=True)
    rebuilt_under_load = await contents(fresh_pool)

    await rebuild_projections(fresh_pool, PROJECTIONS)

    assert reads > 0
    assert sum(report.events for report in reports) >= SEEDED
    assert await contents(fresh_pool) == rebuilt_under_load
    index_names = await fresh_pool.fetch(
        "SELECT indexname FROM pg_indexes "
        "WHERE tablename LIKE 'rm\\_%' AND indexname LIKE '%rebuild%'"
    )
    assert index_names == []  # the live tables keep their index names across swaps


async def test_rebuilding_an_unknown_projection_names_the_choices() -> None:
    from infrastructure.readmodels.registry import projections_named

    with pytest.raises(ValueError, match="jobs, executions, events, skips, modules"):
        projections_named("nope")
    with contextlib.suppress(ValueError):
        assert [kind.name for kind in projections_named("jobs")] == ["jobs"]
