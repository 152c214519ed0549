"""Operators' view of durable subscribers: lag, pending, parked; replay of parked deliveries."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import msgspec
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from application.eventbus import ParkedDelivery, SubscriberInfo, SubscriberRunning
from infrastructure.redis.bus_stream import entry_position, stream_tail, text
from infrastructure.redis.keys import RedisKeys
from infrastructure.redis.subscriber_store import SubscriberKeys, SubscriberStore

_decode = msgspec.json.Decoder().decode


class RedisSubscriberAdmin:
    """Implements application.eventbus.SubscriberAdmin from the groups on `<prefix>:events`."""

    def __init__(self, redis: Redis, keys: RedisKeys) -> None:
        self._redis = redis
        self._keys = keys
        self._group_prefix = keys.subscriber_group("")

    async def subscribers(self, name: str | None = None) -> list[SubscriberInfo]:
        """Every durable subscriber (or the one named), with its parked deliveries if named."""
        tail = entry_position(await stream_tail(self._redis, self._keys.events))
        infos = []
        for group in await self._groups():
            subscriber = text(group["name"])[len(self._group_prefix) :]
            if name is None or subscriber == name:
                infos.append(await self._info(subscriber, group, tail, detailed=name is not None))
        return infos

    async def replay(self, name: str, entry_ids: Sequence[str] | None) -> int:
        """Send parked deliveries (all, if `entry_ids` is None) back to the running subscriber."""
        store = SubscriberStore(self._redis, SubscriberKeys(self._keys, name))
        return await store.replay([] if entry_ids is None else list(entry_ids))

    async def delete(self, name: str, *, force: bool = False) -> bool:
        """Forget a subscriber: its group, position, parked deliveries and replays."""
        keys = SubscriberKeys(self._keys, name)
        if not force and await self._redis.exists(keys.lease):
            raise SubscriberRunning(name)
        destroyed = 0
        for stream in (keys.stream, keys.replay):
            with contextlib.suppress(ResponseError):  # no such stream: nothing to destroy
                destroyed += int(await self._redis.xgroup_destroy(stream, keys.group))
        await self._redis.delete(keys.state, keys.parked, keys.replay, keys.lease)
        return destroyed > 0

    async def parked(self, name: str) -> list[ParkedDelivery]:
        """Parked deliveries of one subscriber, in stream order."""
        raw: Any = await self._redis.hgetall(self._keys.parked(name))
        records = [_decode(value) for value in raw.values()]
        records.sort(key=lambda record: entry_position(record["entryId"]))
        return [
            ParkedDelivery(
                entry_id=record["entryId"],
                envelope=record["envelope"],
                error=record["error"],
                attempts=int(record["attempts"]),
                parked_at=record["parkedAt"],
                stack=record.get("stack", ""),
            )
            for record in records
        ]

    async def _groups(self) -> list[dict[Any, Any]]:
        try:
            groups: Any = await self._redis.xinfo_groups(self._keys.events)
        except ResponseError:  # no stream yet: no subscribers
            return []
        found = [g for g in groups if text(g["name"]).startswith(self._group_prefix)]
        return sorted(found, key=lambda g: text(g["name"]))

    async def _info(
        self, name: str, group: dict[Any, Any], tail: int, *, detailed: bool
    ) -> SubscriberInfo:
        keys = SubscriberKeys(self._keys, name)
        delivered = entry_position(text(group["last-delivered-id"]))
        lag = group.get("lag")
        pipe = self._redis.pipeline(transaction=False)
        pipe.hget(keys.state, "handled")
        pipe.hlen(keys.parked)
        pipe.xlen(keys.replay)
        pipe.exists(keys.lease)
        handled, parked, replaying, active = await pipe.execute()
        return SubscriberInfo(
            name=name,
            handled_position=int(handled or 0),
            delivered_position=delivered,
            # Redis cannot always count the lag (a group created at an arbitrary id): then
            # the distance in store positions is the honest estimate.
            lag=int(lag) if lag is not None else max(tail - delivered, 0),
            pending=int(group["pending"]),
            parked=int(parked),
            replaying=int(replaying),
            active=bool(active),
            parked_deliveries=await self.parked(name) if detailed else [],
        )
