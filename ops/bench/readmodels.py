"""Read-side benchmark: rebuild speed over >=100,000 events, and projection lag at 500 events/s.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python ops/bench/readmodels.py

Each measurement gets a database of its own on that server (created, migrated, dropped). The
lag is measured against a real `almanac projector` process, as deployed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from infrastructure.postgres.migrations import migrate  # noqa: E402
from infrastructure.readmodels.bench import measure_lag, measure_rebuild  # noqa: E402
from infrastructure.readmodels.registry import PROJECTION_NAMES  # noqa: E402


@contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    name = f"almanac_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server_url.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def projector_process(database_url: str) -> Iterator[None]:
    env = {**os.environ, "DATABASE_URL": database_url, "ALMANAC_LOG_LEVEL": "WARNING"}
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    command = [sys.executable, "-m", "interfaces.cli", "projector"]
    process = subprocess.Popen(command, env=env, cwd=REPO)
    try:
        wait_until_projecting(database_url)
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


def wait_until_projecting(database_url: str) -> None:
    """Every projection has its position row once the projector leads them all."""
    deadline = time.monotonic() + 60
    with psycopg.connect(database_url, autocommit=True) as connection:
        while time.monotonic() < deadline:
            row = connection.execute("SELECT count(*) FROM almanac_positions").fetchone()
            if row is not None and row[0] >= len(PROJECTION_NAMES):
                return
            time.sleep(0.1)
    raise RuntimeError("the projector did not start within 60 s")


async def main(server_url: str, events: int, rate: float, seconds: float) -> None:
    with scratch_database(server_url) as url:
        await migrate(url)
        rebuilt = await measure_rebuild(url, events)
        print(
            f"rebuild: {rebuilt.events} events in {rebuilt.seconds:.2f} s "
            f"= {rebuilt.events_per_second:,.0f} events/s"
        )
    with scratch_database(server_url) as url:
        await migrate(url)
        with projector_process(url):
            lag = await measure_lag(url, rate, seconds, run_projector=False)
        print(
            f"projection lag at {lag.rate:.0f} events/s ({lag.events} events, projector process): "
            f"p50 {lag.p50_ms:.1f} ms, p99 {lag.p99_ms:.1f} ms, max {lag.max_ms:.1f} ms"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    arguments = parser.parse_args()
    server = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    asyncio.run(main(server, arguments.events, arguments.rate, arguments.seconds))
