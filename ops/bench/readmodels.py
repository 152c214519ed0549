"""Read-side benchmark: rebuild speed over >=100,000 events, and projection lag at 500 events/s.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python ops/bench/readmodels.py

`benchmark_read_models(database_url, redis_url)` is the phase `run.py` calls with a fresh,
migrated database. The lag is measured against a real `almanac projector` process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from harness import REPO, fresh_database, servers, wait_for
from redis import Redis

from infrastructure.postgres.leadership import lock_key
from infrastructure.readmodels.bench import measure_lag, measure_rebuild
from infrastructure.readmodels.registry import PROJECTION_NAMES
from infrastructure.readmodels.service import leadership_name


def benchmark_read_models(
    database_url: str,
    redis_url: str,
    events: int = 100_000,
    rate: float = 500.0,
    seconds: float = 10.0,
) -> dict[str, object]:
    rebuilt = asyncio.run(measure_rebuild(database_url, events))
    settle(database_url)
    with projector_process(database_url, redis_url):
        lag = asyncio.run(measure_lag(database_url, rate, seconds, run_projector=False))
    return {
        "rebuild": {
            "events": rebuilt.events,
            "seconds": round(rebuilt.seconds, 2),
            "events_per_second": round(rebuilt.events_per_second),
            "target_events_per_second": 10_000,
        },
        "projection_lag_ms": {
            "rate_per_second": round(lag.rate),
            "events": lag.events,
            "p50": round(lag.p50_ms, 1),
            "p99": round(lag.p99_ms, 1),
            "max": round(lag.max_ms, 1),
            "target_p99": 100,
        },
    }


def settle(database_url: str) -> None:
    """Vacuum and analyze after the bulk load, so autovacuum does not run during the lag test."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")


@contextmanager
def projector_process(database_url: str, redis_url: str) -> Iterator[None]:
    prefix = f"bench-readmodels-{uuid.uuid4().hex[:8]}"  # the relay's keys, dropped after
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
    env |= {"ALMANAC_LOG_LEVEL": "WARNING", "ALMANAC_REDIS_PREFIX": prefix}
    command = [sys.executable, "-m", "interfaces.cli", "projector"]
    process = subprocess.Popen(command, env=env, cwd=REPO)
    try:
        wait_until_leading(database_url)
        wait_until_caught_up(database_url)  # steady state: the relay replays the seed first
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        redis = Redis.from_url(redis_url)
        for key in redis.scan_iter(f"{prefix}:*"):
            redis.delete(key)


def wait_until_leading(database_url: str) -> None:
    """Until some process holds the leadership lock of every projection."""
    import psycopg

    keys = [lock_key(leadership_name(name)) for name in PROJECTION_NAMES]
    held = (
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND ((classid::bigint << 32) | objid::bigint) = ANY(%s)"
    )
    with psycopg.connect(database_url, autocommit=True) as connection:
        wait_for(lambda: _count(connection, held, keys) >= len(keys), 60, "the projector's lead")


def wait_until_caught_up(database_url: str) -> None:
    """Until every follower of the log (projections, and the and the relay) passed its head."""
    import psycopg

    names = [*PROJECTION_NAMES, "relay"]
    done = (
        "SELECT count(*) FROM almanac_positions WHERE name = ANY(%s) AND position >= "
        "(SELECT coalesce(max(notification_id), 0) FROM almanac_events)"
    )
    with psycopg.connect(database_url, autocommit=True) as connection:
        wait_for(lambda: _count(connection, done, names) == len(names), 300, "the projector")


def _count(connection: Any, query: str, names: list[Any]) -> int:
    row = connection.execute(query, (names,)).fetchone()
    return int(row[0]) if row else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    arguments = parser.parse_args()
    with servers() as (server_url, redis_url), fresh_database(server_url) as url:
        result = benchmark_read_models(
            url, redis_url, arguments.events, arguments.rate, arguments.seconds
        )
    print(json.dumps(result, indent=2))
