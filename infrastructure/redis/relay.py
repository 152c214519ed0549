"""The relay: every store event, in store order, onto the Redis stream, exactly once.

Entries carry the explicit id `<position>-0`, so Redis itself rejects a re-sent entry; the
relay advances its stored position only after Redis accepted a batch. If Redis lost data
(failover, restart without AOF) the stream's last id is behind our position: we go back and
publish again what was lost, within the stream's length bound. Cancel requests are also
copied to the small control stream that workers watch.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg
import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError

from infrastructure.envelope import envelope
from infrastructure.postgres.log_tailer import LogTailer, StoredRow
from infrastructure.postgres.positions import Positions, ThrottledPosition
from infrastructure.redis.keys import RedisKeys

log = logging.getLogger(__name__)
POSITION_NAME = "relay"
CONTROL_TOPICS = {"execution.cancel-requested"}
CONTROL_MAXLEN = 10_000
RETRY_DELAYS = (0.1, 0.2, 0.5, 1.0, 2.0)
_encode = msgspec.json.Encoder().encode

# Atomic: if the marker is gone (Redis lost data), append nothing and say so, so the relay
# rewinds before any newer entry could make the lost ones look like duplicates.
APPEND_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local added = 0
for i = 3, #ARGV, 3 do
  local result = redis.pcall(
    'XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], ARGV[i], 'envelope', ARGV[i + 1])
  if type(result) == 'table' and result.err then
    if not string.find(result.err, 'equal or smaller') then return redis.error_reply(result.err) end
  else
    added = added + 1
  end
  if ARGV[i + 2] == '1' then
    redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], '*', 'envelope', ARGV[i + 1])
  end
end
return added
"""


class RedisStreamRelay:
    """Publishes the event log to `<prefix>:events`; one active instance (advisory lock)."""

    def __init__(
        self, pool: asyncpg.Pool, database_url: str, redis: Redis, keys: RedisKeys, maxlen: int
    ) -> None:
        self._tailer = LogTailer(pool, database_url)
        self._position = ThrottledPosition(Positions(pool), POSITION_NAME)
        self._redis = redis
        self._keys = keys
        self._maxlen = maxlen
        self._append = redis.register_script(APPEND_SCRIPT)

    async def run(self) -> None:
        """Publish for ever; while Redis is unreachable, wait and try again (nothing is lost:
        the position only moves after Redis accepted)."""
        failures = 0
        while True:
            try:
                async for rows in self._tailer.batches(await self._resume_position()):
                    await self._publish(rows)
                    failures = 0
            except (RedisError, OSError) as error:
                delay = RETRY_DELAYS[min(failures, len(RETRY_DELAYS) - 1)]
                failures += 1
                log.warning("Redis unavailable (%s); retrying in %.1f s", error, delay)
                await asyncio.sleep(delay)

    async def _resume_position(self) -> int:
        """Our stored position, moved back if the stream lost entries we had published."""
        stored = await self._position.get()
        last = await self._stream_last_position()
        await self._redis.set(self._keys.epoch(POSITION_NAME), "1")
        if last >= stored:
            return stored
        rewind = max(last, stored - self._maxlen, 0)
        log.warning(
            "the stream is behind the relay (stream at %d, relay at %d): republishing from %d",
            last,
            stored,
            rewind,
        )
        return rewind

    async def _stream_last_position(self) -> int:
        info: Any = (
            await self._redis.xinfo_stream(self._keys.events)
            if await self._redis.exists(self._keys.events)
            else None
        )
        if not info:
            return 0
        last_id = info["last-generated-id"]
        text = last_id.decode() if isinstance(last_id, bytes) else str(last_id)
        return int(text.split("-", 1)[0])

    async def _publish(self, rows: list[StoredRow]) -> int:
        arguments: list[Any] = [self._maxlen, CONTROL_MAXLEN]
        for row in rows:
            body = _encode(envelope(row.decode(), row.position))
            arguments += [f"{row.position}-0", body, "1" if row.topic in CONTROL_TOPICS else "0"]
        keys = [self._keys.epoch(POSITION_NAME), self._keys.events, self._keys.control]
        added = await self._append(keys=keys, args=arguments)
        if added == -1:
            raise RedisDataLost("Redis lost its data since the relay last looked")
        # Redis accepted (or already had) every entry: only now may the position move.
        await self._position.advance(rows[-1].position)
        return rows[-1].position


class RedisDataLost(RedisError):
    """The marker key is gone: Redis restarted empty or failed over to a stale replica."""
