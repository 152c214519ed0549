"""One LISTEN connection per process and database, shared by every follower of the log.

Every log tailer, projection runner, the read-your-writes waiter and anything else that
wants NOTIFY wake-ups subscribes here instead of holding a connection of its own: a process
with a dozen followers costs Postgres one connection, not a dozen. Callbacks are called
with None whenever the connection drops and again once it listens afresh (so followers
re-read what they might have missed); it reconnects for as long as anyone subscribes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import ClassVar

from infrastructure.postgres.pool import connect

log = logging.getLogger(__name__)
Callback = Callable[[str | None], None]
RETRY_INTERVAL = 1.0


class SharedListener:
    _instances: ClassVar[dict[tuple[int, str], SharedListener]] = {}

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._subscribers: dict[str, set[Callback]] = {}
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self.listening = False  # True while the connection is up: notifications arrive

    @classmethod
    def of(cls, database_url: str) -> SharedListener:
        """The listener of this event loop for this database (created on first use)."""
        key = (id(asyncio.get_running_loop()), database_url)
        if key not in cls._instances:
            cls._instances[key] = cls(database_url)
        return cls._instances[key]

    def subscribe(self, channel: str, callback: Callback) -> Callable[[], None]:
        """Call `callback(payload)` on every NOTIFY; returns the function that unsubscribes."""
        self._subscribers.setdefault(channel, set()).add(callback)
        self._changed.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._keep_listening(), name="almanac-listen")

        def unsubscribe() -> None:
            self._subscribers.get(channel, set()).discard(callback)
            self._changed.set()

        return unsubscribe

    async def _keep_listening(self) -> None:
        while any(self._subscribers.values()):
            try:
                await self._listen_once()
            except Exception as error:  # never fatal: followers poll meanwhile
                log.debug("LISTEN connection lost (%s); reconnecting", error)
            self._broadcast_all(None)
            await asyncio.sleep(RETRY_INTERVAL)

    async def _listen_once(self) -> None:
        connection = await connect(self._url)
        closed = asyncio.Event()
        connection.add_termination_listener(lambda _: closed.set())
        listening: set[str] = set()
        try:
            while not closed.is_set() and any(self._subscribers.values()):
                wanted = {channel for channel, subs in self._subscribers.items() if subs}
                for channel in wanted - listening:
                    await connection.add_listener(channel, self._notified)
                listening |= wanted
                if not self.listening:
                    self.listening = True
                    self._broadcast_all(None)
                self._changed.clear()
                waits = {
                    asyncio.create_task(closed.wait()),
                    asyncio.create_task(self._changed.wait()),
                }
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                for task in waits:
                    task.cancel()
        finally:
            self.listening = False
            with contextlib.suppress(Exception):
                await connection.close()

    def _notified(self, _connection: object, _pid: int, channel: str, payload: object) -> None:
        for callback in list(self._subscribers.get(channel, ())):
            callback(str(payload))

    def _broadcast_all(self, payload: str | None) -> None:
        for callbacks in self._subscribers.values():
            for callback in list(callbacks):
                callback(payload)
