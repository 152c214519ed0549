"""`almanac projector` as a real process, and what its progress looks like in the database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from urllib.parse import urlsplit

import asyncpg
import psutil

from infrastructure.readmodels.registry import PROJECTION_NAMES
from tests.support.system import REPO


def start_projector(
    database_url: str, redis_url: str, redis_prefix: str
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "ALMANAC_REDIS_PREFIX": redis_prefix,
        "ALMANAC_LOG_LEVEL": "WARNING",
        "ALMANAC_DB_POOL_SIZE": "4",
    }
    command = [sys.executable, "-m", "interfaces.cli", "projector"]
    return subprocess.Popen(command, env=env, cwd=REPO)


def stop(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, as a supervisor would; returns the exit code (killed if it hangs)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()


def postgres_connections(process: subprocess.Popen[bytes], database_url: str) -> int:
    """Established connections from the process to the Postgres of `database_url`."""
    port = urlsplit(database_url).port or 5432  # embedded servers listen on a random port
    try:
        found = psutil.Process(process.pid).net_connections(kind="tcp")
    except psutil.NoSuchProcess:
        return 0
    return sum(1 for c in found if c.raddr and c.raddr.port == port and c.status == "ESTABLISHED")


async def head(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT coalesce(max(notification_id), 0) FROM almanac_events"))


async def lowest_position(pool: asyncpg.Pool) -> int:
    """The position every projection has committed (0 while any has no row yet)."""
    rows = await pool.fetch(
        "SELECT position FROM almanac_positions WHERE name = ANY($1::text[])",
        list(PROJECTION_NAMES),
    )
    if len(rows) < len(PROJECTION_NAMES):
        return 0
    return min(int(row["position"]) for row in rows)


async def all_past(pool: asyncpg.Pool, position: int) -> bool:
    return await lowest_position(pool) >= position
