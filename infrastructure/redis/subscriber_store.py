"""A durable subscriber's state in Redis: its consumer group, lease, position, parked and replays.

Per subscriber NAME (group `<prefix>:subscriber:NAME` on `<prefix>:events`):
- `<group>:state`  hash: `handled`, the last position settled (the dedup mark);
- `<group>:lease`  the token of the one process consuming the group (fencing for every ack);
- `<prefix>:parked:NAME`  hash: original entry id -> JSON {envelope, error, stack, attempts, ...};
- `<group>:replay` a stream of parked deliveries sent back by `almanac subscribers replay`.
Replays go through a stream the subscriber reads in the same XREADGROUP as the events, so a
replay wakes a waiting subscriber at once and survives a crash like any other delivery.
"""

from __future__ import annotations

import asyncio
import traceback
from datetime import UTC, datetime
from typing import Any

import msgspec
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from application.eventbus import Event
from application.wire import iso
from infrastructure.redis.bus_stream import position_id, text
from infrastructure.redis.keys import RedisKeys

_encode = msgspec.json.Encoder().encode
CONSUMER = "consumer"  # one active consumer per group (the lease): a restart resumes its PEL

# Everything a delivery settles happens at once, and only while we still hold the lease: a
# process that lost it (paused, partitioned) can neither ack nor move the position.
SETTLE_SCRIPT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
if ARGV[5] ~= '' then redis.call('HSET', KEYS[4], ARGV[5], ARGV[6]) end
if ARGV[3] ~= '' then
  local handled = tonumber(redis.call('HGET', KEYS[3], 'handled') or '0')
  if tonumber(ARGV[3]) > handled then redis.call('HSET', KEYS[3], 'handled', ARGV[3]) end
end
local acked = 0
for i = 7, #ARGV do
  acked = acked + redis.call('XACK', KEYS[2], ARGV[2], ARGV[i])
  if ARGV[4] == '1' then redis.call('XDEL', KEYS[2], ARGV[i]) end
end
return acked
"""

# Reads are fenced too: a process that lost the lease (paused, then resumed) must not take
# entries into the group's pending list behind the new holder's back, out of its order.
READ_SCRIPT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
return redis.call('XREADGROUP', 'GROUP', ARGV[2], ARGV[3], 'COUNT', ARGV[4],
  'STREAMS', KEYS[2], KEYS[3], ARGV[5], ARGV[5])
"""

ACQUIRE_SCRIPT = """
local holder = redis.call('GET', KEYS[1])
if holder == false then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0
"""

RENEW_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# Parked deliveries go back in stream order; moving them is atomic, so none is lost or doubled.
REPLAY_SCRIPT = """
local ids = ARGV
if #ids == 0 then ids = redis.call('HKEYS', KEYS[1]) end
local function position(id) return tonumber(string.match(id, '^%d+') or '0') end
table.sort(ids, function(a, b) return position(a) < position(b) end)
local moved = 0
for _, id in ipairs(ids) do
  local value = redis.call('HGET', KEYS[1], id)
  if value then
    redis.call('XADD', KEYS[2], '*', 'parked', value)
    redis.call('HDEL', KEYS[1], id)
    moved = moved + 1
  end
end
return moved
"""


class LeaseLost(Exception):
    """Another process holds this subscriber's lease now: stop consuming at once."""


class SubscriberKeys:
    def __init__(self, keys: RedisKeys, name: str) -> None:
        self.name = name
        self.stream = keys.events
        self.group = keys.subscriber_group(name)
        self.state = f"{self.group}:state"
        self.lease = f"{self.group}:lease"
        self.replay = f"{self.group}:replay"
        self.parked = keys.parked(name)


class SubscriberStore:
    """The Redis operations of one durable subscriber."""

    def __init__(self, redis: Redis, keys: SubscriberKeys) -> None:
        self.redis = redis
        self.keys = keys
        self._read = redis.register_script(READ_SCRIPT)
        self._settle = redis.register_script(SETTLE_SCRIPT)
        self._acquire = redis.register_script(ACQUIRE_SCRIPT)
        self._renew = redis.register_script(RENEW_SCRIPT)
        self._release = redis.register_script(RELEASE_SCRIPT)
        self._replay = redis.register_script(REPLAY_SCRIPT)

    async def create_groups(self, after: int | None) -> bool:
        """Create the group at `after` (else at the stream's start); False if it existed."""
        start = position_id(after) if after is not None else "0"
        created = await self._create(self.keys.stream, start)
        if created:  # a new group (or one an operator deleted) starts a new dedup mark
            await self.redis.hset(self.keys.state, "handled", str(after or 0))
        await self._create(self.keys.replay, "0")
        return created

    async def _create(self, stream: str, start: str) -> bool:
        try:
            await self.redis.xgroup_create(stream, self.keys.group, id=start, mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
            return False
        return True

    async def handled_position(self) -> int:
        value = await self.redis.hget(self.keys.state, "handled")
        return int(value or 0)

    async def read(self, token: str, cursor: str, count: int) -> list[StreamEntries]:
        """Entries of the replay stream, then of the events stream: ours pending (0) or new (>)."""
        keys = [self.keys.lease, self.keys.replay, self.keys.stream]
        reply: Any = await self._read(
            keys=keys, args=[token, self.keys.group, CONSUMER, count, cursor]
        )
        if reply == -1:
            raise LeaseLost(self.keys.name)
        return [
            (text(stream), [(text(entry_id), _pairs(fields)) for entry_id, fields in entries])
            for stream, entries in reply or ()
        ]

    async def last_delivered(self) -> dict[str, str]:
        """The group's last delivered id on each of its two streams."""
        found = {}
        for stream in (self.keys.replay, self.keys.stream):
            groups: Any = await self.redis.xinfo_groups(stream)
            [group] = [g for g in groups if text(g["name"]) == self.keys.group]
            found[stream] = text(group["last-delivered-id"])
        return found

    async def wait_for_entries(self, after: dict[str, str], block_ms: int) -> None:
        """Block until either stream has an entry after `after` (a wake-up; the read is fenced)."""
        streams: dict[Any, Any] = dict(after)
        await self.redis.xread(streams, count=1, block=block_ms)

    async def settle(
        self,
        token: str,
        stream: str,
        entry_ids: list[str],
        *,
        position: int | None = None,
        delete: bool = False,
        park: tuple[str, bytes] | None = None,
    ) -> None:
        """Ack entries, move the dedup mark to `position`, park one delivery: all or nothing."""
        field, value = park or ("", b"")
        keys = [self.keys.lease, stream, self.keys.state, self.keys.parked]
        mark = "" if position is None else str(position)
        args: list[Any] = [token, self.keys.group, mark, "1" if delete else "0", field, value]
        if await self._settle(keys=keys, args=args + entry_ids) == -1:
            raise LeaseLost(self.keys.name)

    async def acquire(self, token: str, lease_ms: int) -> None:
        """Wait until this process holds the lease (a crashed holder's lapses after lease_ms)."""
        while True:
            if await self._acquire(keys=[self.keys.lease], args=[token, lease_ms]):
                return
            await asyncio.sleep(min(lease_ms / 4000, 1.0))  # a lapsed lease is taken soon

    async def keep_lease(self, token: str, lease_ms: int) -> None:
        """Renew the lease every third of its time; raise LeaseLost when it was taken."""
        while True:
            await asyncio.sleep(lease_ms / 3000)
            if not await self._renew(keys=[self.keys.lease], args=[token, lease_ms]):
                raise LeaseLost(self.keys.name)

    async def release(self, token: str) -> None:
        await self._release(keys=[self.keys.lease], args=[token])

    async def replay(self, entry_ids: list[str]) -> int:
        """Move parked deliveries (all when none are named) to the replay stream."""
        return int(await self._replay(keys=[self.keys.parked, self.keys.replay], args=entry_ids))


def parked_record(event: Event, error: BaseException, attempts: int, subscriber: str) -> bytes:
    """What `<prefix>:parked:NAME` keeps of a delivery given up on: enough to judge and replay."""
    return _encode(
        {
            "entryId": position_id(event.position),
            "subscriber": subscriber,
            "envelope": event.envelope(),
            "error": f"{type(error).__name__}: {error}",
            "stack": "".join(traceback.format_exception(error)),
            "attempts": attempts,
            "parkedAt": iso(datetime.now(UTC)),
        }
    )


type StreamEntries = tuple[str, list[tuple[str, dict[bytes, bytes]]]]


def _pairs(fields: list[bytes] | None) -> dict[bytes, bytes]:
    """A script's raw field list as a dict; None for an entry deleted while pending."""
    values = list(fields or ())
    return dict(zip(values[::2], values[1::2], strict=True))
