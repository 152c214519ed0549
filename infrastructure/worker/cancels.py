"""Cancel requests reach running handlers through the relay's control stream.

The stream is the fast path (milliseconds); a slow poll of the store for the attempts this
worker runs is the safety net for a message missed while Redis was unreachable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError

from application.ports import EventStore
from domain.execution import Execution
from infrastructure.redis.keys import ENVELOPE_FIELD, RedisKeys

log = logging.getLogger(__name__)
POLL_INTERVAL = 3.0


class CancelWatcher:
    def __init__(
        self,
        redis: Redis,
        keys: RedisKeys,
        store: EventStore,
        running: Callable[[], Iterable[UUID]],
        cancel: Callable[[UUID], bool],
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._store = store
        self._running = running
        self._cancel = cancel

    async def run(self) -> None:
        await asyncio.gather(self._follow_stream(), self._poll_store())

    async def _follow_stream(self) -> None:
        last = "$"
        while True:
            try:
                batches: Any = await self._redis.xread({self._keys.control: last}, block=1000)
            except (RedisError, OSError) as error:
                log.debug("control stream unavailable: %s", error)
                await asyncio.sleep(1)
                continue
            for _, entries in batches or []:
                for entry_id, fields in entries:
                    last = entry_id
                    self._apply(fields)

    def _apply(self, fields: dict[bytes, bytes]) -> None:
        envelope = msgspec.json.decode(fields[ENVELOPE_FIELD.encode()])
        execution_id = UUID(envelope["payload"]["executionId"])
        if self._cancel(execution_id):
            log.info("stopping execution %s: cancel requested", execution_id)

    async def _poll_store(self) -> None:
        while True:
            await asyncio.sleep(POLL_INTERVAL)
            for execution_id in list(self._running()):
                try:
                    execution = await self._store.load(execution_id, Execution)
                except Exception as error:  # the poll is best effort; the stream is primary
                    log.debug("cancel poll failed for %s: %s", execution_id, error)
                    continue
                if execution.cancel_requested:
                    self._cancel(execution_id)
