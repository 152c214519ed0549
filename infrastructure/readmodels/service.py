"""The projector's work: every projection under its own leadership, woken by one listener."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import asyncpg

from infrastructure.postgres.leadership import run_as_leader
from infrastructure.readmodels.log import LogSignal
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
    signal = LogSignal(database_url)
    async with asyncio.TaskGroup() as group:
        group.create_task(signal.run(), name="almanac-log-signal")
        for kind in kinds:
            runner = ProjectionRunner(pool, kind(), signal.subscribe())
            group.create_task(
                run_as_leader(database_url, leadership_name(kind.name), runner.run),
                name=f"almanac-projection-{kind.name}",
            )
