"""The projector role: keeps the read models (and, once it exists, the Redis relay) going.

`almanac projector` runs every projection, each under its own advisory-lock leadership, so
any number of projector processes can run: one is active per projection, the rest stand by.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import logging
import signal
import sys
from collections.abc import Coroutine
from typing import Any

from infrastructure.postgres.leadership import run_as_leader
from infrastructure.postgres.pool import open_pool
from infrastructure.readmodels.rebuild import rebuild_projections
from infrastructure.readmodels.registry import projections_named
from infrastructure.readmodels.service import run_projections
from infrastructure.settings import Settings
from interfaces.bootstrap.runtime import Runtime, open_runtime

log = logging.getLogger(__name__)
RELAY_MODULE = "infrastructure.redis.relay"
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


async def serve_projector(settings: Settings) -> None:
    """Run the projections and the relay until SIGTERM/SIGINT, then close cleanly."""
    async with open_runtime(settings, pool_size=4) as runtime:
        work = [run_projections(runtime.pool, runtime.database_url)]
        relay = _relay(runtime)
        if relay is not None:
            work.append(relay)
        await run_until_stopped(work)


def _relay(runtime: Runtime) -> Coroutine[Any, Any, None] | None:
    """The relay is optional here: it runs only once its module is installed."""
    if importlib.util.find_spec(RELAY_MODULE) is None:
        log.info("no relay module (%s); running projections only", RELAY_MODULE)
        return None
    run_relay = importlib.import_module(RELAY_MODULE).run_relay
    return run_as_leader(runtime.database_url, "relay", lambda: run_relay(runtime))


async def run_until_stopped(work: list[Coroutine[Any, Any, None]]) -> None:
    """Run coroutines until a stop signal or until one fails (its error is raised)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(coroutine) for coroutine in work]
    stopper = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (*tasks, stopper):
            task.cancel()
        await asyncio.gather(*tasks, stopper, return_exceptions=True)
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
    for task in done:
        error = None if task is stopper or task.cancelled() else task.exception()
        if error is not None:
            raise error
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
