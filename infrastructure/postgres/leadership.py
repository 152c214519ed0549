"""Exactly one active instance per role, by Postgres advisory lock; standbys wait their turn.

All of a process's locks live on one shared connection. If the holder dies (even by
SIGKILL) Postgres drops the connection and its locks, and a standby polling once a second
takes over. If our own connection fails, every leadership of this process is given up at
once and contested again. If the work itself fails (a database or Redis blip), its lead is
given up too and contested after a pause: the work restarts from its stored position, and the
failure never ends the role with every service beside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any, ClassVar

import asyncpg

from infrastructure.postgres.pool import connect

log = logging.getLogger(__name__)
CHECK_INTERVAL = 1.0
FAILURE_PAUSE = 5.0
Errors = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError)


def lock_key(name: str) -> int:
    """A stable 63-bit advisory lock key for a role name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") >> 1


async def run_as_leader(
    database_url: str,
    name: str,
    work: Callable[[], Coroutine[Any, Any, None]],
    retry_interval: float = 1.0,
    failure_pause: float = FAILURE_PAUSE,
) -> None:
    """Wait to become leader for `name`, then run `work` until it ends by itself; if it fails
    or leadership is lost, stop it and contest the lead again."""
    session = LockSession.of(database_url)
    key = lock_key(name)
    while True:
        lost = await session.try_acquire(key)
        if lost is None:
            await asyncio.sleep(retry_interval)
            continue
        log.info("became the active %s", name)
        try:
            if await _run_until_lost(work, lost):
                return
            log.warning("lost leadership of %s; stopping and waiting to take over again", name)
            continue
        except Exception:  # a standby, or we after the pause, resume from the stored position
            log.exception("%s failed; handing its lead over for %g s", name, failure_pause)
        finally:
            await session.release(key)
        await asyncio.sleep(failure_pause)


async def _run_until_lost(
    work: Callable[[], Coroutine[Any, Any, None]], lost: asyncio.Event
) -> bool:
    """True if the work finished by itself; False if leadership was lost first."""
    task: asyncio.Task[None] = asyncio.create_task(work())
    watcher = asyncio.create_task(lost.wait())
    try:
        done, _ = await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()
            return True
        return False
    finally:
        for pending in (task, watcher):
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pending


class LockSession:
    """One connection per process and database, holding every advisory lock we lead with."""

    _instances: ClassVar[dict[tuple[int, str], LockSession]] = {}

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._connection: asyncpg.Connection | None = None
        self._mutex = asyncio.Lock()
        self._held: dict[int, asyncio.Event] = {}
        self._keeper: asyncio.Task[None] | None = None

    @classmethod
    def of(cls, database_url: str) -> LockSession:
        key = (id(asyncio.get_running_loop()), database_url)
        if key not in cls._instances:
            cls._instances[key] = cls(database_url)
        return cls._instances[key]

    async def try_acquire(self, key: int) -> asyncio.Event | None:
        """An event set when the lock is lost, or None if someone else holds it."""
        async with self._mutex:
            try:
                connection = await self._connected()
                acquired = await connection.fetchval("SELECT pg_try_advisory_lock($1)", key)
            except Errors:
                await self._drop()
                return None
            if not acquired:
                return None
            self._held[key] = asyncio.Event()
            return self._held[key]

    async def release(self, key: int) -> None:
        async with self._mutex:
            if self._held.pop(key, None) is not None and self._connection is not None:
                with contextlib.suppress(*Errors):
                    await self._connection.execute("SELECT pg_advisory_unlock($1)", key)
            if not self._held:
                await self._drop()

    async def _connected(self) -> asyncpg.Connection:
        if self._connection is None or self._connection.is_closed():
            self._connection = await connect(self._url)
            self._keeper = asyncio.create_task(self._watch(self._connection))
        return self._connection

    async def _watch(self, connection: asyncpg.Connection) -> None:
        """A cheap query per interval notices a dead connection, and so lost locks."""
        while True:
            await asyncio.sleep(CHECK_INTERVAL)
            async with self._mutex:
                if connection is not self._connection:
                    return
                try:
                    await asyncio.wait_for(connection.fetchval("SELECT 1"), CHECK_INTERVAL * 5)
                except Errors:
                    await self._drop()
                    return

    async def _drop(self) -> None:
        """Forget the connection; every lock held on it is lost."""
        for event in self._held.values():
            event.set()
        self._held.clear()
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()
