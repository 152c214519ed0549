"""Live feeds for SSE: envelopes from the Redis stream and log lines of one execution.

Both yield None after `idle` seconds of silence, so the caller can send a keep-alive
without cancelling the feed (cancelling an async generator's pending step would close it).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from typing import Any
from uuid import UUID

import anyio
import asyncpg
import msgspec
from redis.asyncio import Redis

from domain.patterns import EventPattern
from infrastructure.redis.keys import ENVELOPE_FIELD, RedisKeys

# Below the client's socket timeout (10 s): a longer BLOCK would read as a dead connection.
BLOCK_SECONDS = 5.0
BATCH = 200
_LOG_COLUMNS = "seq, execution_id, attempt, at, level, message, fields"


class RedisLiveEvents:
    """Implements interfaces.http.services.LiveEvents with XREAD BLOCK on `<prefix>:events`."""

    def __init__(self, redis: Redis, keys: RedisKeys) -> None:
        self._redis = redis
        self._keys = keys

    async def follow(
        self, pattern: str, after: int | None, idle: float = 15.0
    ) -> AsyncIterator[Mapping[str, Any] | None]:
        """Envelopes after position `after` (or from now) whose name matches `pattern`."""
        matcher = EventPattern(pattern)
        last = f"{after}-0" if after is not None else await self._tail()
        quiet_since = time.monotonic()
        while True:
            block = int(min(BLOCK_SECONDS, idle) * 1000)
            reply: Any = await self._redis.xread(
                {self._keys.events: last}, count=BATCH, block=block
            )
            for _stream, entries in reply or ():
                for entry_id, fields in entries:
                    last = _text(entry_id)
                    envelope = _decode(fields)
                    if envelope is not None and matcher.matches(str(envelope.get("name", ""))):
                        quiet_since = time.monotonic()
                        yield envelope
            if time.monotonic() - quiet_since >= idle:
                quiet_since = time.monotonic()
                yield None

    async def _tail(self) -> str:
        """The id of the newest entry now: `$` re-read later would skip entries in between."""
        newest: Any = await self._redis.xrevrange(self._keys.events, count=1)
        return _text(newest[0][0]) if newest else "0-0"


class RedisLiveLogs:
    """Implements interfaces.http.services.LiveLogs: stored lines, then announced ones."""

    def __init__(self, redis: Redis, pool: asyncpg.Pool, keys: RedisKeys) -> None:
        self._redis = redis
        self._pool = pool
        self._keys = keys

    async def follow(
        self, execution_id: str, after_seq: int, idle: float = 15.0
    ) -> AsyncIterator[Mapping[str, Any] | None]:
        """Lines with seq > `after_seq`, stored first, then each batch announced on pub/sub."""
        identifier = UUID(execution_id)
        pubsub = self._redis.pubsub()
        # Subscribe before reading the table: a line inserted in between is announced, not lost.
        await pubsub.subscribe(self._keys.logs(execution_id))
        try:
            last = after_seq
            quiet_since = time.monotonic()
            while True:
                async for line in self._stored(identifier, last):
                    last = int(line["seq"])
                    quiet_since = time.monotonic()
                    yield line
                if time.monotonic() - quiet_since >= idle:
                    quiet_since = time.monotonic()
                    yield None
                await _next_announcement(pubsub, min(BLOCK_SECONDS, idle))
        finally:
            # Cancellation is level-triggered under anyio: an unshielded await here never ends.
            with anyio.CancelScope(shield=True):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _stored(self, execution_id: UUID, after: int) -> AsyncIterator[dict[str, Any]]:
        while True:
            rows = await self._pool.fetch(
                f"SELECT {_LOG_COLUMNS} FROM execution_logs"
                " WHERE execution_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                execution_id,
                after,
                BATCH,
            )
            for row in rows:
                after = row["seq"]
                yield _log_line(row)
            if len(rows) < BATCH:
                return


async def _next_announcement(pubsub: Any, wait: float) -> None:
    """Wait for one announcement (its payload does not matter: the table is the truth)."""
    await pubsub.get_message(ignore_subscribe_messages=True, timeout=wait)


def _log_line(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "seq": row["seq"],
        "executionId": str(row["execution_id"]),
        "attempt": row["attempt"],
        "at": row["at"],
        "level": row["level"],
        "message": row["message"],
        "fields": row["fields"],
    }


def _decode(fields: Mapping[Any, Any]) -> dict[str, Any] | None:
    raw = fields.get(ENVELOPE_FIELD) or fields.get(ENVELOPE_FIELD.encode())
    if raw is None:
        return None
    try:
        value = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None  # not ours; a feed never dies on one bad entry
    return value if isinstance(value, dict) else None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
