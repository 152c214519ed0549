"""The projector role: keeps the read models and the Redis relay going.

`almanac projector` runs every projection and the relay, each under its own advisory-lock
leadership, so any number of projector processes can run: one is active per follower of the
log, the rest stand by.
"""

from __future__ import annotations

import contextlib
import logging
import sys

from infrastructure.postgres.leadership import run_as_leader
from infrastructure.postgres.pool import open_pool
from infrastructure.readmodels.rebuild import rebuild_projections
from infrastructure.readmodels.registry import projections_named
from infrastructure.readmodels.service import run_projections
from infrastructure.redis.keys import RedisKeys
from infrastructure.redis.relay import RedisStreamRelay
from infrastructure.settings import Settings
from interfaces.bootstrap.runtime import open_runtime
from interfaces.bootstrap.signals import run_until_stopped, stop_event

log = logging.getLogger(__name__)


async def serve_projector(settings: Settings) -> None:
    """Run the projections and the relay until SIGTERM/SIGINT, then close cleanly."""
    stop = stop_event()
    async with open_runtime(settings, pool_size=4) as runtime:
        keys = RedisKeys(settings.redis_prefix)
        # A fresh relay each time this process gains the lead: it resumes from the stored
        # position, never from what an earlier term had in memory.
        relay = run_as_leader(
            runtime.database_url,
            "relay",
            lambda: RedisStreamRelay(
                runtime.pool, runtime.database_url, runtime.redis, keys, settings.stream_maxlen
            ).run(),
        )
        await run_until_stopped(stop, [run_projections(runtime.pool, runtime.database_url), relay])
    log.info("projector stopped")


async def rebuild(settings: Settings, name: str | None) -> None:
    """Rebuild one projection (or all) into fresh tables and swap them in; report events/s."""
    if settings.database_url is None:
        raise SystemExit("almanac projections rebuild needs DATABASE_URL")
    try:
        kinds = projections_named(name)
    except ValueError as error:
        raise SystemExit(str(error)) from None
    pool = await open_pool(settings.database_url, max_size=len(kinds) + 1)
    try:
        reports = await rebuild_projections(pool, kinds)
    finally:
        await pool.close()
    for report in reports:
        sys.stdout.write(
            f"{report.name}: {report.events} events in {report.seconds:.2f} s "
            f"({report.events_per_second:,.0f} events/s), position {report.position}\n"
        )
    total = sum(report.events for report in reports)
    seconds = max((report.seconds for report in reports), default=0.0)
    with contextlib.suppress(ZeroDivisionError):
        sys.stdout.write(f"total: {total} events in {seconds:.2f} s ({total / seconds:,.0f}/s)\n")
