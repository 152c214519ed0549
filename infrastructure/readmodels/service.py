"""The projector's work: every projection under its own leadership, woken by the shared listener."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import asyncpg

from infrastructure.postgres.leadership import run_as_leader
from infrastructure.postgres.listener import SharedListener
from infrastructure.postgres.log_cache import SharedLogReader
from infrastructure.postgres.log_tailer import EVENTS_TABLE
from infrastructure.readmodels.positions import SharedAnnouncer
from infrastructure.readmodels.projection import Projection
from infrastructure.readmodels.registry import PROJECTIONS
from infrastructure.readmodels.runner import ProjectionRunner


def leadership_name(projection: str) -> str:
    return f"projection:{projection}"


async def run_projections(
    pool: asyncpg.Pool, database_url: str, kinds: Sequence[type[Projection]] = PROJECTIONS
) -> None:
    """Run until cancelled. Exactly one instance in the cluster runs each projection at a
    time; the others stand by and take over within seconds when it dies."""
    wakes = [asyncio.Event() for _ in kinds]

    def wake_all(_payload: str | None) -> None:  # runners also poll: a wake only hurries them
        for wake in wakes:
            wake.set()

    unsubscribe = SharedListener.of(database_url).subscribe(EVENTS_TABLE, wake_all)
    shared = SharedLogReader.of(pool, database_url)  # one read of the head for all of them
    announcer = SharedAnnouncer(pool)
    try:
        async with asyncio.TaskGroup() as group:
            for kind, wake in zip(kinds, wakes, strict=True):
                runner = ProjectionRunner(pool, kind(), wake, shared=shared, announcer=announcer)
                group.create_task(
                    run_as_leader(database_url, leadership_name(kind.name), runner.run),
                    name=f"almanac-projection-{kind.name}",
                )
    finally:
        unsubscribe()
