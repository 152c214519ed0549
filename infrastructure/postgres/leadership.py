"""Exactly one active instance per role, by Postgres advisory lock; standbys wait their turn.

The lock lives on a dedicated connection. If the holder dies (even by SIGKILL) Postgres drops
the connection and the lock with it, and a standby polling once a second takes over.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import asyncpg

from infrastructure.postgres.pool import connect

log = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A stable 63-bit advisory lock key for a role name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") >> 1


async def run_as_leader(
    database_url: str,
    name: str,
    work: Callable[[], Coroutine[Any, Any, None]],
    retry_interval: float = 1.0,
) -> None:
    """Wait to become leader for `name`, then run `work` until it ends or leadership is lost."""
    while True:
        async with _leadership(database_url, name, retry_interval) as lost:
            log.info("became the active %s", name)
            task: asyncio.Task[None] = asyncio.create_task(work(), name=f"almanac-{name}")
            watcher = asyncio.create_task(lost.wait())
            try:
                done, _ = await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
                if task in done:
                    task.result()
                    return
                log.warning("lost leadership of %s; stopping and waiting to take over again", name)
            finally:
                for pending in (task, watcher):
                    pending.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await pending


@contextlib.asynccontextmanager
async def _leadership(
    database_url: str, name: str, retry_interval: float
) -> AsyncIterator[asyncio.Event]:
    key = lock_key(name)
    while True:
        try:
            connection = await connect(database_url)
        except (OSError, asyncpg.PostgresError):
            await asyncio.sleep(retry_interval)
            continue
        try:
            if await connection.fetchval("SELECT pg_try_advisory_lock($1)", key):
                break
        except (OSError, asyncpg.PostgresError):
            pass
        await connection.close()
        await asyncio.sleep(retry_interval)
    lost = asyncio.Event()
    keeper = asyncio.create_task(_watch(connection, lost, retry_interval))
    try:
        yield lost
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
        with contextlib.suppress(Exception):
            await connection.close()


async def _watch(connection: asyncpg.Connection, lost: asyncio.Event, interval: float) -> None:
    """A cheap query per interval notices a dead connection (and so a lost lock)."""
    try:
        while True:
            await asyncio.sleep(interval)
            await asyncio.wait_for(connection.fetchval("SELECT 1"), timeout=interval * 5)
    except (OSError, asyncpg.PostgresError, TimeoutError, asyncpg.InterfaceError):
        lost.set()
