"""The cron scheduler on in-memory ports, stepped by hand with a clock it does not own."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from application.dependencies import Dependencies
from application.scheduling.directory import JobDirectory
from application.scheduling.scheduler import CronScheduler
from domain.execution_values import occurrence_id
from domain.job import Job
from domain.skipped_occurrences import SkippedOccurrences, SkipReason
from tests.unit.domain.builders import definition
from tests.unit.http.fakes import Catalog, ManualClock, MemoryStore

T0 = datetime(2026, 6, 1, 12, tzinfo=UTC)
SECOND = timedelta(seconds=1)


class Everything:
    """This replica owns every job."""

    def owns(self, job_id: UUID) -> bool:
        return True

    async def refresh(self) -> bool:
        return False


class Cursors:
    def __init__(self) -> None:
        self.saved: dict[UUID, datetime] = {}
        self.reads = 0

    async def load(self, job_ids: Iterable[UUID]) -> dict[UUID, datetime]:
        self.reads += 1
        return {job_id: self.saved[job_id] for job_id in job_ids if job_id in self.saved}

    async def save(self, cursors: dict[UUID, datetime]) -> None:
        self.saved |= cursors


class World:
    def __init__(self) -> None:
        self.store, self.clock = MemoryStore(), ManualClock(T0)
        deps = Dependencies(self.store, self.clock, Catalog(), lambda: 0.5)
        self.cursors = Cursors()
        self.scheduler = CronScheduler(deps, JobDirectory(), Everything(), self.cursors)
        self.job = Job.create(
            uuid4(), definition(schedule="* * * * * *"), enabled=True, actor="t", at=T0
        )
        self.observe()

    def observe(self) -> None:
        for event in self.job.collect_events():
            self.scheduler.observe(event)

    async def tick(self, at: datetime) -> None:
        self.clock.at = at
        await self.scheduler._decide_due()

    def fired(self, at: datetime) -> bool:
        return self.store.current(occurrence_id(self.job.id, at)) is not None


async def test_every_second_fires_once_per_second() -> None:
    world = World()
    for n in range(1, 4):
        await world.tick(T0 + n * SECOND)

    assert [world.fired(T0 + n * SECOND) for n in range(1, 4)] == [True, True, True]


async def test_after_enabling_again_every_occurrence_fires_or_is_recorded_as_skipped() -> None:
    world = World()
    await world.tick(T0)
    world.job.disable(actor="t", at=T0)
    world.observe()
    world.job.enable(actor="t", at=T0 + 10 * SECOND)
    world.observe()

    for n in range(10, 14):
        await world.tick(T0 + n * SECOND)

    [skipped] = world.store.all_of(SkippedOccurrences)
    assert (skipped.reason, skipped.first, skipped.last) == (
        SkipReason.DISABLED,
        T0 + SECOND,
        T0 + 10 * SECOND,
    )
    assert [world.fired(T0 + n * SECOND) for n in range(11, 14)] == [True, True, True]


async def test_a_job_changed_twice_between_ticks_still_fires_every_occurrence() -> None:
    world = World()
    world.job.update(definition(schedule="* * * * * *", description="v2"), actor="t", at=T0)
    world.observe()

    for n in range(1, 4):
        await world.tick(T0 + n * SECOND)

    assert [world.fired(T0 + n * SECOND) for n in range(1, 4)] == [True, True, True]


async def test_jobs_created_together_cost_one_cursor_read() -> None:
    world = World()
    for _ in range(3):
        every_second = definition(schedule="* * * * * *")
        job = Job.create(uuid4(), every_second, enabled=True, actor="t", at=T0)
        for event in job.collect_events():
            world.scheduler.observe(event)

    await world.tick(T0)

    assert world.cursors.reads == 1


def _during_the_lead(world: World, change: Callable[[], None]) -> None:
    """Make `change` happen while the scheduler waits for the instant it built runs for."""

    async def sleep_until(instant: datetime) -> None:
        change()
        world.observe()
        world.clock.at = instant

    world.scheduler._sleep_until = sleep_until  # type: ignore[method-assign]


async def test_a_job_disabled_while_its_run_was_built_ahead_does_not_fire() -> None:
    world = World()
    await world.tick(T0 + SECOND)
    _during_the_lead(world, lambda: world.job.disable(actor="t", at=T0 + 1.9 * SECOND))

    await world.tick(T0 + 1.7 * SECOND)

    assert world.fired(T0 + SECOND)
    assert not world.fired(T0 + 2 * SECOND)


async def test_a_job_updated_while_its_run_was_built_ahead_runs_with_the_update() -> None:
    world = World()
    await world.tick(T0 + SECOND)
    longer = definition(schedule="* * * * * *", timeout_ms=9_000)
    _during_the_lead(world, lambda: world.job.update(longer, actor="t", at=T0 + 1.9 * SECOND))

    await world.tick(T0 + 1.7 * SECOND)
    await world.tick(T0 + 2.1 * SECOND)

    run = world.store.current(occurrence_id(world.job.id, T0 + 2 * SECOND))
    assert run.job.timeout_ms == 9_000
