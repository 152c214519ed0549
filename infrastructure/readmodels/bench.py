"""Measurements of the read side: rebuild speed and projection lag, on a real database.

`measure_rebuild` and `measure_lag` are what ops/bench calls; `seed_history` writes a
realistic mix of stored events (jobs, runs with retries, bus events, skips, a module).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import statistics
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate

from application.jobs import snapshot_of
from domain.bus_event import BusEvent
from domain.execution import Execution
from domain.execution_values import ErrorInfo, Trigger, TriggerType
from domain.job import Job, new_job_id
from domain.job_definition import JobDefinition
from domain.module import Module, ModuleManifest
from domain.skipped_occurrences import SkippedOccurrences, SkipReason
from infrastructure.eventstore.factory import build_application, postgres_env
from infrastructure.eventstore.store import EventsourcingStore
from infrastructure.postgres.pool import open_pool
from infrastructure.readmodels.positions import CHANNEL, parse_announcement
from infrastructure.readmodels.rebuild import rebuild_projections
from infrastructure.readmodels.registry import PROJECTIONS
from infrastructure.readmodels.service import run_projections

START = datetime(2026, 1, 1, tzinfo=UTC)
_ERROR = ErrorInfo("RuntimeError", "upstream timed out", "Traceback (most recent call last): ...")


@dataclass(frozen=True, slots=True)
class RebuildMeasurement:
    events: int
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


@dataclass(frozen=True, slots=True)
class LagMeasurement:
    rate: float  # events appended per second, as achieved
    events: int
    p50_ms: float
    p99_ms: float
    max_ms: float


def history(events: int, jobs: int = 50, chunk: int = 2000) -> Iterator[list[Aggregate]]:
    """Aggregates with about `events` pending events in all, in chunks of about `chunk`."""
    manifest = ModuleManifest("bench", "1.0.0", "/srv/modules/bench", "d", ("sync",))
    batch: list[Aggregate] = [Module.register(manifest, actor="module-sync", at=START)]
    all_jobs = [_job(n) for n in range(jobs)]
    batch += all_jobs
    written, in_batch, n = jobs + 1, jobs + 1, 0
    while written < events:
        aggregate = _next_aggregate(all_jobs[n % jobs], n)
        written += len(aggregate.pending_events)
        in_batch += len(aggregate.pending_events)
        batch.append(aggregate)
        n += 1
        if in_batch >= chunk:
            yield batch
            batch, in_batch = [], 0
    if batch:
        yield batch


def seed_history(app: Application[UUID], events: int, jobs: int = 50) -> int:
    """Store the history in big saves (synchronous); returns how many events were stored."""
    stored = 0
    for chunk in history(events, jobs):
        stored += len(app.save(*chunk))
    return stored


async def measure_rebuild(database_url: str, events: int = 100_000) -> RebuildMeasurement:
    """Seed the store up to `events` stored events if needed, then rebuild every projection.

    The database must be migrated; the number is events rebuilt per second of wall time.
    """
    app = build_application(postgres_env(database_url, pool_size=2))
    try:
        present = int(app.recorder.max_notification_id() or 0)
        if present < events:
            await asyncio.to_thread(seed_history, app, events - present)
    finally:
        app.close()
    pool = await open_pool(database_url, max_size=len(PROJECTIONS) + 1)
    try:
        started = time.perf_counter()
        reports = await rebuild_projections(pool, PROJECTIONS)
        seconds = time.perf_counter() - started
    finally:
        await pool.close()
    return RebuildMeasurement(sum(report.events for report in reports), seconds)


async def measure_lag(
    database_url: str, rate: float = 500.0, seconds: float = 10.0, run_projector: bool = True
) -> LagMeasurement:
    """Append bus events at `rate`/s through the group-commit store; lag is from a save
    returning to the `events` projection announcing it (its rows are then visible).

    With `run_projector` False, a projector must already run (e.g. `almanac projector`).
    """
    store = EventsourcingStore(build_application(postgres_env(database_url)))
    pool = await open_pool(database_url, max_size=10)
    projector = asyncio.create_task(
        run_projections(pool, database_url) if run_projector else _idle()
    )
    try:
        async with _announcements(pool) as announced:
            started = time.perf_counter()
            appended = await _append_at(store, rate, seconds)
            achieved = len(appended) / (time.perf_counter() - started)
            last = max(position for position, _ in appended)
            await _until(lambda: bool(announced) and announced[-1][0] >= last, 30.0)
        lags = sorted(_visible(announced, p) - t for p, t in appended)
    finally:
        projector.cancel()
        await asyncio.gather(projector, return_exceptions=True)
        await pool.close()
        store.close()
    p99 = lags[max(int(len(lags) * 0.99) - 1, 0)]
    median = statistics.median(lags)
    return LagMeasurement(achieved, len(lags), median * 1000, p99 * 1000, lags[-1] * 1000)


@contextlib.asynccontextmanager
async def _announcements(pool: asyncpg.Pool) -> AsyncIterator[list[tuple[int, float]]]:
    """(position, when) of each `events` announcement; positions only ever grow."""
    announced: list[tuple[int, float]] = []
    record = lambda *args: _record(announced, args[-1])  # noqa: E731
    async with pool.acquire() as listener:
        await listener.add_listener(CHANNEL, record)
        try:
            yield announced
        finally:
            await listener.remove_listener(CHANNEL, record)


async def _idle() -> None:
    await asyncio.Event().wait()


async def _append_at(
    store: EventsourcingStore, rate: float, seconds: float
) -> list[tuple[int, float]]:
    """One event per save, started on a fixed schedule (not one after another)."""
    appended: list[tuple[int, float]] = []

    async def append(index: int) -> None:
        event = BusEvent.emit("bench.tick", {"i": index}, source="bench", at=datetime.now(UTC))
        appended.append((await store.save(event), time.perf_counter()))

    interval, started = 1.0 / rate, time.perf_counter()
    saves = []
    for index in range(int(rate * seconds)):
        delay = started + index * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        saves.append(asyncio.create_task(append(index)))
    await asyncio.gather(*saves)
    return appended


def _record(announced: list[tuple[int, float]], payload: Any) -> None:
    for name, position in parse_announcement(str(payload)):
        if name == "events":
            announced.append((position, time.perf_counter()))


def _visible(announced: list[tuple[int, float]], position: int) -> float:
    """When the events projection first announced a position at or past `position`."""
    index = bisect.bisect_left(announced, position, key=lambda item: item[0])
    return announced[min(index, len(announced) - 1)][1]


async def _until(condition: Any, within: float) -> None:
    """Poll `condition` until true or `within` seconds passed."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return
        await asyncio.sleep(0.05)


def _job(n: int) -> Job:
    schedule = "*/5 * * * *" if n % 2 else None
    definition = JobDefinition(f"job-{n:04d}", "bench", "jobs/sync.py", schedule=schedule)
    return Job.create(new_job_id(), definition, enabled=True, actor="bench", at=START)


def _next_aggregate(job: Job, n: int) -> Aggregate:
    """Mostly runs and bus events, a few skips; times move forward a second per aggregate."""
    at = START + timedelta(seconds=n)
    if n % 2:
        return BusEvent.emit(f"orders.{n % 7}.created", {"n": n}, source=f"shop-{n % 5}", at=at)
    if n % 50 == 0:
        return SkippedOccurrences.record(job.id, SkipReason.OVERLAP, [at, at], at=at)
    execution = Execution.request(
        uuid4(), snapshot_of(job), Trigger(TriggerType.MANUAL, "b"), at=at
    )
    execution.start_attempt(1, worker="w1", at=at + timedelta(milliseconds=5))
    if n % 10 == 0:
        execution.fail_attempt(1, _ERROR, at=at + timedelta(milliseconds=50), sample=0.5)
        execution.start_attempt(2, worker="w2", at=at + timedelta(seconds=1))
    execution.complete(len(execution.attempts), {"ok": n}, at=at + timedelta(seconds=2))
    return execution
