"""Fire lag: how long after its instant an occurrence's request is visible in the store.

1,000 jobs on per-second schedules, one scheduler process. An observer in this process hears
every NOTIFY of the events table (Postgres sends it at commit) and then reads the new
requests: an occurrence's lag ends when the NOTIFY announcing its commit arrived, so it is
"committed and readable", not merely "decided", and excludes the observer's own reading.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg
from harness import Roles, percentiles, role_env

from application.commands import CreateJob
from application.jobs import create_job
from domain.job_definition import JobDefinition
from domain.retry import RetryPolicy
from infrastructure.eventstore.mapper import decode_event
from infrastructure.settings import Settings
from interfaces.bootstrap.runtime import open_runtime

WARM_UP = 10.0  # start-up and the catch-up of the occurrences missed before it
MEASURE = 20.0


def fire_lag(database_url: str, redis_url: str, jobs: int) -> dict[str, Any]:
    env = role_env(database_url, redis_url)
    asyncio.run(_create_jobs(env, jobs))
    roles = Roles(env)
    try:
        roles.start("projector")
        roles.start("scheduler")
        lags = asyncio.run(_observe(database_url))
    finally:
        roles.stop()
    return {
        "jobs": jobs,
        "occurrences": len(lags),
        "lag_ms": {key: round(value, 1) for key, value in percentiles(lags).items()},
    }


async def _create_jobs(env: dict[str, str], count: int) -> None:
    settings = Settings.from_env(env)
    async with open_runtime(settings, pool_size=4, store_threads=4) as runtime:
        definition = JobDefinition(
            name="tick",
            module_id="bench",
            handler="jobs/noop.py",
            schedule="* * * * * *",
            retry=RetryPolicy(retries=0),
            timeout_ms=60_000,
        )
        await asyncio.gather(
            *(
                create_job(
                    CreateJob(definition.with_changes(name=f"tick-{n}"), "bench"), runtime.deps
                )
                for n in range(count)
            )
        )


async def _observe(database_url: str) -> list[float]:
    connection = await asyncpg.connect(database_url)
    wake = asyncio.Event()
    announced: list[datetime] = []

    def heard(*_: object) -> None:
        announced.append(datetime.now(UTC))
        wake.set()

    await connection.add_listener("almanac_events", heard)
    position = await connection.fetchval(
        "SELECT coalesce(max(notification_id), 0) FROM almanac_events"
    )
    lags: list[float] = []
    started = time.monotonic()
    try:
        while time.monotonic() - started < WARM_UP + MEASURE:
            wake.clear()
            # Each instant's runs are one commit, a second after the previous one: the rows
            # read now are those the first NOTIFY heard since the last read announced.
            heard_at = announced[0] if announced else datetime.now(UTC)
            announced.clear()
            rows = await connection.fetch(
                "SELECT notification_id, originator_id, originator_version, topic, state "
                "FROM almanac_events WHERE notification_id > $1 ORDER BY notification_id",
                position,
            )
            if rows:
                position = rows[-1]["notification_id"]
                if time.monotonic() - started > WARM_UP:
                    lags += _lags(rows, heard_at)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), 1.0)
    finally:
        await connection.close()
    return lags


def _lags(rows: list[Any], seen: datetime) -> list[float]:
    lags = []
    for row in rows:
        if row["topic"] != "execution.requested":
            continue
        event = decode_event(
            row["topic"], bytes(row["state"]), row["originator_id"], row["originator_version"]
        )
        if event.trigger.scheduled_for is not None:
            lags.append((seen - event.trigger.scheduled_for).total_seconds() * 1000)
    return lags
